"""A product a company stopped carrying: its level set to 0 by a whole read (flow `stock`).

A product the company no longer carries has no ProdutoEstoque row there (MRL_PRODUTOEMPRESA holds a
row per product a company carries; one without stock is a row at 0). An incremental read lists
changes only and cannot tell; a whole read of the company (the daily sweep, a first or moved pass)
can: each level last sent at the company's location above 0, under stock control, whose product the
read has no row of, is set to 0 (its remembered figure 0 too, so a recheck does not bring it back),
as a moved company's former levels are (jobs.stock_vacate).

Absence from one read is no proof, and the rule is the other whole reads' (jobs.absence): only a
read proven whole (consumed to the end, not `unsure`, no unreadable record, a snapshot: a read with
no row at all proves nothing), a product listed by a read of the changes since the snapshot made
right after it is left alone (a row that changed mid-read left the window: the next pass writes
it), and many missing that are a large share of the levels on sale (absence.HELD_MIN and
HELD_SHARE: a read cut short, a company's assortment moved in the ERP) set nothing to 0: one failed
message per company (unit "stock:gone:<company>", code STOCK_GONE_HELD) names them for a person,
and they keep their level meanwhile. Its Retry confirms what it named (absence.confirmed_by): a
whole read of the company again sets to 0 those still missing. A whole read that holds nothing
closes it (the ERP lists them again, or they went by themselves).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from erp.client import ErpClient
from jobs import absence
from jobs.price_unlisted import named
from ledger import trace
from ledger.bindings import STOCK_KIND
from ledger.db import session_scope
from ledger.models import Binding
from ledger.words import Words

FLOW = "stock"
PREFIX = "stock:gone:"
CODE = "STOCK_GONE_HELD"
KNOWN_AS = "levels on sale"
RATHER = "products the store stopped carrying"


def unit(company: int) -> str:
    return f"{PREFIX}{company}"


def company_of(unit_key: str) -> int | None:
    """The company of a held message's unit ("stock:gone:<company>"), else None."""
    rest = unit_key.removeprefix(PREFIX)
    return int(rest) if rest != unit_key and rest.isdigit() else None


def levels(
    shop_id: int,
    erp: ErpClient,
    company: int,
    location: str,
    read: Any,
    listed: set[int],
    read_skus: Collection[str],
    by_product: Callable[[], Mapping[int, list[str]]],
    confirmed: Collection[str] = (),
) -> list[str]:
    """The SKUs to set to 0 at `location`: the company's levels sent there above 0 (under stock
    control) whose product the whole `read` (consumed; `listed`: the seqProdutos it has a row of,
    `read_skus`: the SKUs it gave a level) has no row of, as the module says; those held for a person
    are not among them (their message says so). `confirmed`: the SKUs the held message's Retry
    confirms, set to 0 if still missing whatever their count."""
    if not read.complete or read.unsure is not None or read.malformed or read.snapshot is None:
        return []
    with session_scope() as session:
        rows = session.execute(
            select(Binding.erp_id, Binding.data).where(
                Binding.shop_id == shop_id,
                Binding.kind == STOCK_KIND,
                Binding.erp_id.like(f"{company}:%"),
                Binding.data["location"].as_string() == location,
            )
        )
        on_sale = [
            erp_id.split(":", 1)[1]
            for erp_id, data in rows
            if (data or {}).get("base") is not None and Decimal(str((data or {}).get("sent") or 0)) > 0
        ]
    seq_of = {sku: seq for seq, skus in by_product().items() for sku in skus}
    gone = [s for s in on_sale if s not in read_skus and s in seq_of and seq_of[s] not in listed]
    if gone:
        meanwhile = erp.stock(read.snapshot, company)
        meanwhile.keep_malformed = True
        changed = {stock.seq_produto for stock in meanwhile}
        if meanwhile.malformed or not meanwhile.complete:
            return []  # a record changed meanwhile that cannot be read may be any of theirs
        gone = sorted(s for s in gone if seq_of[s] not in changed)
    verdict = absence.decide(gone, len(on_sale), None, set(confirmed), known_as=KNOWN_AS, rather=RATHER)
    with session_scope() as session:
        if verdict.why is None:
            response = {"zeroed": len(verdict.now), "confirmed": verdict.confirmed}
            trace.succeed_open(session, shop_id, FLOW, [unit(company)], response)
        else:
            _hold(session, shop_id, company, location, verdict.held, len(on_sale), verdict.why)
    return verdict.now


def _hold(
    session: Any, shop_id: int, company: int, location: str, skus: list[str], on_sale: int, why: str
) -> None:
    """One failed message: the SKUs whose product the read did not list keep their level, for a
    person (absence.hold: its Retry is their confirmation)."""
    text = (f"The whole read of company {company}'s stock did not list the products of {len(skus)} SKU(s) "
            f"on sale at location {location} ({absence.named(skus)}); none was set to 0, they keep their "
            f"level: {why}. Check in the ERP that company {company} still carries them (their "
            f"ProdutoEstoque rows), and that the company's location (Setup) is right. If the store "
            f"indeed stopped carrying them, Retry: a new whole read sets to 0 those it still does not "
            f"list.")  # fmt: skip
    share = ("held_too_many_levels", {"share": len(skus) * 100 // max(on_sale, 1), "known": on_sale})
    words: Words = ("stock_gone_held", {"company": company, "location": location, "count": len(skus),
                                        **named(skus), "why": share})  # fmt: skip
    request = {"nro_empresa": company, "location_id": location}
    absence.hold(session, shop_id, FLOW, unit(company), text, code=CODE, items=skus,
                 search=[company, *skus[: absence.SHOWN]], request=request,
                 detail={"on_sale": on_sale, "nro_empresa": company}, words=words)  # fmt: skip
