"""ERP catalog records the client cannot read: each fails alone, the rest of the read goes on.

Why: a ProdutoCV / ProdutoSku record missing a field the catalog needs (or holding one it cannot
read) stopped the whole read, so no product was sent, on every pass, until the ERP changed it.
Now the catalog reads (jobs.catalog_flow) keep such a record aside (erp.paging.ChangeRead
`keep_malformed`) and it fails a message of its own (the flow's, unit "record:<idSku>" or
"record:<seqProduto>", rejected) naming the record, its product and the field, while every other
record is cached and pushed.

The ERP API reads by change time only (no by-id filter), so the flow's watermark never passes
such a record (`Hold`): every pass reads it again, and once it can be read (the record fixed in
Consinco, or a field renamed in CONSINCO_FIELD_MAP) it is cached and pushed like any other and
its message is done. Replay of the message runs a pass of its flow at once.

The prices flow reads TabelaPrecoItem the same way (jobs.price_records): one unit prefix per read
(the store's pair, each price list), so each read settles only the messages of its own records; so
does the stock flow ProdutoEstoque (jobs.stock_records: one prefix per company).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from erp import fields as f
from erp.errors import SYSTEM, ErpUnexpectedShape
from erp.names import Names
from ledger import trace
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY

UNIT_PREFIX = "record:"
# the flow -> its record's field names (erp.names)
RECORD_NAMES = {"products": "product", "skus": "sku", "prices": "price_item", "stock": "stock"}
WHAT = {
    "products": "product record (ProdutoCV)",
    "skus": "SKU record (ProdutoSku)",
    "prices": "price record (TabelaPrecoItem)",
    "stock": "stock record (ProdutoEstoque)",
}
SKU_RECORDS = {"skus", "prices"}  # records of one SKU (named by idSku), not of a whole product


@dataclass(frozen=True)
class Malformed:
    """One record the read could not parse, and what is known of it."""

    unit_key: str
    id_sku: str | None
    seq_produto: str | None
    changed_at: datetime | None
    error: Rejected


@dataclass(frozen=True)
class Hold:
    """How far a flow's watermark may move: not past the earliest record it could not read."""

    held: bool = False
    until: datetime | None = None  # None while held: not at all (a record's change time unknown)

    def cap(self, at: datetime) -> datetime | None:
        """Where to advance the watermark instead of `at` (None: leave it where it is)."""
        if not self.held:
            return at
        return None if self.until is None else min(at, self.until)


def describe(
    flow: str,
    raw: Any,
    error: ErpUnexpectedShape,
    names: Names,
    *,
    prefix: str = UNIT_PREFIX,
    where: str = "",
    **params: Any,
) -> Malformed:
    """The record's ids and change time as far as they can be read, and the merchant's text
    (`where`: which read it came in, said after its ids; `params`: what else its words say of
    it, as the company of a stock record)."""
    n = names.fields[RECORD_NAMES[flow]]
    record = raw if isinstance(raw, dict) else {}
    id_sku = _text(record.get(n["id_sku"])) if flow in SKU_RECORDS else None
    seq = _text(record.get(n["seq_produto"]))
    try:
        changed_at: datetime | None = f.when(record, n["changed_at"], error.endpoint, names.zone)
    except ErpUnexpectedShape:
        changed_at = None
    ident = id_sku or seq or "unidentified-" + hashlib.sha256(orjson.dumps(raw, default=str)).hexdigest()[:12]
    named = f"{id_sku} (product {seq or '?'})" if id_sku else f"of product {seq or '?'}"
    text = (
        f"The ERP {WHAT[flow]} {named}{where} could not be read: field {error.field!r} {error.problem}. "
        "Every other record was sent; this one is read again by every pass until it can be read: "
        "fix the record in Consinco (or the field name in CONSINCO_FIELD_MAP), then replay."
    )
    rejected = Rejected(
        text,
        system=SYSTEM,
        code="RECORD_UNREADABLE",  # not a refusal: explained and titled as a record to fix in the ERP
        field=error.field,
        detail={"endpoint": error.endpoint, "problem": error.problem},
    )
    # (the problem is the client's English detail: the words name the field, the text keeps it)
    rejected.worded(f"unreadable_{flow}", sku=id_sku, product=seq or "?", field=error.field, **params)
    return Malformed(prefix + ident, id_sku, seq, changed_at, rejected)


def seq_of(raw: Any, names: Names) -> int | None:
    """The seqProduto of an unreadable SKU record, when it can be told."""
    value = raw.get(names.fields["sku"]["seq_produto"]) if isinstance(raw, dict) else None
    text = _text(value)
    return int(text) if text is not None and text.isdigit() else None


def unread_products(skus_read: Any, names: Names) -> set[int | None]:
    """The products of a SKU read's unreadable records (None: one whose product cannot be told). A
    packaging whose record could not be read is not missing: a full sync and the dry run leave
    these products' packagings alone (catalog_cache.missing `spare`), and retire nothing
    when one is unknown."""
    return {seq_of(raw, names) for raw, _ in skus_read.malformed}


def unread_skus(skus_read: Any, names: Names) -> set[str | None]:
    """The idSkus of a SKU read's unreadable records (None: one whose SKU cannot be told)."""
    key = names.fields[RECORD_NAMES["skus"]]["id_sku"]
    return {_text(raw.get(key)) if isinstance(raw, dict) else None for raw, _ in skus_read.malformed}


def hold(malformed: Sequence[Malformed], since: datetime | None) -> Hold:
    """Not past the earliest unreadable record (the read is inclusive: it is read again), nor past
    `since` when one's change time is unknown."""
    if not malformed:
        return Hold()
    if any(m.changed_at is None for m in malformed):
        return Hold(True, since)
    return Hold(True, min(m.changed_at for m in malformed if m.changed_at is not None))


def record(
    session: Session,
    shop_id: int,
    flow: str,
    malformed: Sequence[Malformed],
    job_id: str | None = None,
    *,
    prefix: str = UNIT_PREFIX,
    company: int | None = None,
) -> None:
    """One failed message per unreadable record, and the read's earlier ones (unit `prefix`) done
    when their record is not unreadable any more. Only after a read consumed whole: the watermark
    held every record that failed before, so this read had it again (read now, or gone).

    A company's record (the stock flow's, jobs.stock_records) is a message about its company
    (shopify_app.message_subject): the company is its erp_id and is searchable."""
    failing = {m.unit_key for m in malformed}
    for message in trace.open_units(session, shop_id, flow, prefix + "%"):
        if message.unit_key not in failing:
            trace.succeed(session, message, response={"read": True})
    for m in malformed:
        if company is None:
            erp_id, search = m.id_sku or m.seq_produto, [m.id_sku, m.seq_produto]
            request: dict[str, Any] = {"id_sku": m.id_sku, "seq_produto": m.seq_produto}
        else:
            erp_id, search = str(company), [m.seq_produto, f"empresa-{company}"]
            request = {"nro_empresa": company, "seq_produto": m.seq_produto}
        message = trace.begin(
            session, shop_id, flow, m.unit_key, ERP_TO_SHOPIFY,
            erp_id=erp_id, search=search, request=request, job_id=job_id,
        )  # fmt: skip
        trace.fail(session, message, m.error)


def _text(value: Any) -> str | None:
    """An id as text (a string or an integer), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)
