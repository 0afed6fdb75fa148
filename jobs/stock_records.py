"""ProdutoEstoque records the client cannot read, and a company's pass the ERP stopped: each fails
alone, every other company (and every other product of the company) gets its levels.

Why: one stock record missing a field the stock flow needs (a null estqLoja, say) stopped the
company's read, and with it the whole pass: no company got its levels, on every pass, and no message
named the record. Now each company's read keeps such a record aside (erp.paging.ChangeRead
`keep_malformed`) and it fails a message of its own (flow "stock", unit "record:<company>:<seqProduto>",
rejected, the company its erp_id) naming the record, its product, the company and the field
(jobs.catalog_malformed.describe, as the catalog's and the prices' unreadable records). The
company's watermark never passes it (`Hold`): every pass reads it again, and once it can be read
its level is written like any other and its message is done. Replay runs a pass of the company.

A company whose read the ERP refuses (ErpRejected for one NroEmpresa) or answers unreadably stops
alone (`stopped`): a failed message "stock:<company>:pass" says so in words, its watermark stays,
and the other companies are synced; it is done once a pass of the company gets through the read.
A transient failure is not caught here: RQ retries the pass as before.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from erp.errors import ErpUnexpectedShape
from erp.names import Names
from jobs import catalog_malformed
from ledger import trace
from ledger.db import session_scope
from ledger.errors import IntegrationError
from ledger.flows import ERP_TO_SHOPIFY

FLOW = "stock"
UNIT_PREFIX = catalog_malformed.UNIT_PREFIX
STOPPED_UNIT = "stock:{company}:pass"


def unit_prefix(company: int) -> str:
    """The unit keys of one company's unreadable records."""
    return f"{UNIT_PREFIX}{company}:"


def set_aside(
    shop_id: int, read: Any, names: Names, since: datetime | None, company: int
) -> catalog_malformed.Hold:
    """The unreadable records of a company's read consumed whole: a failed message each (the
    company's earlier ones done when read now), and how far its watermark may move."""
    prefix = unit_prefix(company)
    malformed = [
        catalog_malformed.describe(
            FLOW, raw, exc, names, prefix=prefix, where=f" at company {company}", company=company
        )
        for raw, exc in read.malformed
    ]
    with session_scope() as session:
        catalog_malformed.record(session, shop_id, FLOW, malformed, prefix=prefix, company=company)
    return catalog_malformed.hold(malformed, since)


def stopped(shop_id: int, company: int, exc: IntegrationError) -> None:
    """The company's pass ended on `exc` (not transient): a failed (or parked) message naming the
    company, in words. `exc` is given the company in its text and words (it is the pass's to raise
    when a bug's)."""
    said = exc.message.rstrip(". ")  # the ERP's own sentence may end in its full stop: one is enough
    exc.message = (
        f"The stock pass of company {company} stopped: {said}. The other companies were synced; this "
        "one's levels stay as they were and every pass tries it again"
    )
    exc.args = (exc.message,)
    if isinstance(exc, ErpUnexpectedShape):
        exc.worded("stock_company_unreadable", company=company, endpoint=exc.endpoint, field=exc.field)
    else:  # the failure's own words said inside, else its own message (the ERP's, as it came)
        exc.worded("stock_company_stopped", company=company, said=exc.words or said)
    with session_scope() as session:
        message = trace.begin(
            session,
            shop_id,
            FLOW,
            STOPPED_UNIT.format(company=company),
            ERP_TO_SHOPIFY,
            erp_id=str(company),
            search=[f"empresa-{company}"],
            request={"nro_empresa": company},
        )
        trace.fail(session, message, exc)


def went_through(session: Session, shop_id: int, company: int) -> None:
    """A pass of the company got through its read: its stopped message, if any, is done."""
    trace.succeed_open(session, shop_id, FLOW, [STOPPED_UNIT.format(company=company)], {"read": True})


def forget_unread(
    session: Session,
    shop_id: int,
    synced: Collection[int],
    refused: Collection[int] = (),
    *,
    only: int | None = None,
) -> None:
    """A pass over every company: the messages of companies it does not sync any more (closed,
    unmapped, not sold in this store, no longer active) are done, saying why, not left failed for
    good (nothing reads their records again); so are a held "stock:gone:<c>" of such a company (its
    levels are zeroed or no longer written) and the refusal "stock:<c>:location" of a company not
    refused any more (closed in the ERP: nothing to map; its own pass resumes it otherwise).
    `only`: a replay of one company's pass: that company's held and refused messages alone."""
    keep = {str(company) for company in synced}
    patterns = () if only is not None else (UNIT_PREFIX + "%", STOPPED_UNIT.format(company="%"))
    for pattern in patterns:
        for message in trace.open_units(session, shop_id, FLOW, pattern):
            if message.erp_id not in keep:
                trace.succeed(session, message, response={"not_read": NOT_SYNCED})
    mine = "%" if only is None else str(only)
    for message in trace.open_units(session, shop_id, FLOW, f"stock:gone:{mine}"):
        if message.unit_key.split(":")[2] not in keep:
            trace.succeed(session, message, response={"not_read": NOT_SYNCED})
    asked = keep | {str(company) for company in refused}
    for message in trace.open_units(session, shop_id, FLOW, f"stock:{mine}:location"):
        if message.unit_key.split(":")[1] not in asked:
            trace.succeed(session, message, response={
                "resumed": "the company is not refused a location any more: closed in the ERP, no "
                "longer active, or not sold in this store"})  # fmt: skip


NOT_SYNCED = (
    "the company's stock is not synced any more (closed in the ERP, not mapped to a location, or not "
    "sold in this store)"
)
