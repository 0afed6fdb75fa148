"""The CNPJ and the state (UF) of an ERP company (Company.cnpj, Company.uf, `Cadastros/Empresa`),
kept per process.

Why: an invoice's key is held to the company the order is of (jobs.invoice_keys): its issuer CNPJ
by the company's root (a key carrying another company's CNPJ names another company's NF-e), and
its cUF by the state of the ERP company whose CNPJ the key carries (an NF-e is authorised by the
issuer's own state: another state's code names no authorised NF-e). Companies change rarely, so
one read of the ERP's companies serves every invoice of the shop for as long as the shop's ERP
client lives (jobs.order_clients: a connection saved or moved since builds another client, and so
another read). A company the read kept does not list (added since) reads them again, at most once
every REREAD_AFTER seconds.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from jobs import order_clients

REREAD_AFTER = 60.0


@dataclass(frozen=True)
class Kept:
    """What is kept of an ERP company: its CNPJ (masks stripped, 14 characters) and its UF."""

    cnpj: str | None
    uf: str | None


_lock = threading.Lock()
_read: dict[int, tuple[Any, float, dict[int, Kept]]] = {}  # shop -> (client, when, {company: kept})


def of(shop_id: int, nro_empresa: int) -> str | None:
    """The CNPJ the ERP gives for company `nro_empresa` of the shop's ERP (None: not listed, or
    listed without one). Errors of the read propagate (a Transient: the job tries again)."""
    kept = _companies(shop_id, nro_empresa).get(nro_empresa)
    return kept.cnpj if kept is not None else None


def state_of(shop_id: int, nro_empresa: int, cnpj: str) -> str | None:
    """The UF (two letters, upper-case) of the shop's ERP company whose CNPJ is exactly `cnpj`
    (None: no listed company has it, or it has no UF). `nro_empresa`: the order's company, which
    the read must list (else it is read again, as `of` would)."""
    wanted = normalise(cnpj)
    for kept in _companies(shop_id, nro_empresa).values():
        if kept.cnpj == wanted and kept.uf:
            return kept.uf
    return None


def normalise(cnpj: str | None) -> str | None:
    """Masks stripped, upper-cased, left-padded to 14 (Consinco keeps the CNPJ numeric and loses
    its leading zeros); None for none."""
    cleaned = re.sub(r"[^0-9A-Za-z]", "", cnpj or "").upper()
    return cleaned.zfill(14) if cleaned else None


def _companies(shop_id: int, nro_empresa: int) -> dict[int, Kept]:
    client = order_clients.erp_client(shop_id)
    now = time.monotonic()
    with _lock:
        kept = _read.get(shop_id)
    if kept is not None and kept[0] is client and (nro_empresa in kept[2] or now - kept[1] < REREAD_AFTER):
        return kept[2]
    listed = client.companies()
    if nro_empresa in listed.unreadable:  # the order's own company: its CNPJ and UF cannot be told
        raise listed.unreadable[nro_empresa]
    companies = {  # (another company's record unreadable: not this order's issuer, nor its state's)
        company.nro_empresa: Kept(normalise(company.cnpj), (company.uf or "").strip().upper() or None)
        for company in listed
    }
    with _lock:
        _read[shop_id] = (client, now, companies)
    return companies


def reset() -> None:
    """Forget every read (tests switching sandboxes)."""
    with _lock:
        _read.clear()
