"""The CNPJ of an ERP company (Company.cnpj, `Cadastros/Empresa`), kept per process.

Why: an invoice event whose document names no issuer (no cnpjEmitente, in the event nor in the ERP
order's copy of the document) is checked against the CNPJ of the company the order is of
(jobs.invoice_keys): a key carrying another company's CNPJ names another company's NF-e. Companies
change rarely, so one read of the ERP's companies serves every invoice of the shop for as long as
the shop's ERP client lives (jobs.order_clients: a connection saved or moved since builds another
client, and so another read). A company the read kept does not list (added since) reads them
again, at most once every REREAD_AFTER seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from jobs import order_clients

REREAD_AFTER = 60.0

_lock = threading.Lock()
_read: dict[int, tuple[Any, float, dict[int, str | None]]] = {}  # shop -> (client, when, {company: cnpj})


def of(shop_id: int, nro_empresa: int) -> str | None:
    """The CNPJ the ERP gives for company `nro_empresa` of the shop's ERP (None: not listed, or
    listed without one). Errors of the read propagate (a Transient: the job tries again)."""
    client = order_clients.erp_client(shop_id)
    now = time.monotonic()
    with _lock:
        kept = _read.get(shop_id)
    if kept is not None and kept[0] is client and (nro_empresa in kept[2] or now - kept[1] < REREAD_AFTER):
        return kept[2].get(nro_empresa)
    cnpjs = {company.nro_empresa: company.cnpj for company in client.companies()}
    with _lock:
        _read[shop_id] = (client, now, cnpjs)
    return cnpjs.get(nro_empresa)


def reset() -> None:
    """Forget every read (tests switching sandboxes)."""
    with _lock:
        _read.clear()
