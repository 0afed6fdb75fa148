"""The shop's hold on new variants (Shopify's daily limit, jobs.variant_quota), where the flows and the
pages read it: a "variant_quota" binding per shop (erp_id "shop", data {"since": the first refusal of
this hold, "at": the last, "until": when new variants are tried again}), and the products waiting
for it (their messages retrying with the code VARIANT_QUOTA)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ledger import bindings
from ledger.bindings import BindingRow
from ledger.models import Binding, Message, MessageStatus, utcnow

HOLD = timedelta(hours=1)
KIND = "variant_quota"
SHOP = "shop"
CODE = "VARIANT_QUOTA"


def record(session: Session, shop_id: int) -> dict | None:
    """The shop's hold as stored ({"since", "at", "until"} ISO times), None when there is none."""
    row = bindings.get_many(session, shop_id, KIND, [SHOP]).get(SHOP)
    return dict(row.data or {}) if row is not None else None


def held_until(session: Session, shop_id: int, now: datetime | None = None) -> datetime | None:
    """The end of the shop's hold on new variants, None when none is in force."""
    data = record(session, shop_id)
    until = datetime.fromisoformat(data["until"]) if data and data.get("until") else None
    return until if until is not None and until > (now or utcnow()) else None


def hold(session: Session, shop_id: int, now: datetime | None = None) -> datetime:
    """Shopify refused a creation now: new variants wait HOLD from now; returns its end."""
    now = now or utcnow()
    since = (record(session, shop_id) or {}).get("since") or now.isoformat()
    until = now + HOLD
    data = {"since": since, "at": now.isoformat(), "until": until.isoformat()}
    bindings.upsert_many(session, shop_id, KIND, [BindingRow(SHOP, None, None, data)])
    return until


def release(session: Session, shop_id: int) -> None:
    """Shopify created variants again with none refused: the hold is over."""
    session.execute(
        Binding.__table__.delete().where(
            Binding.shop_id == shop_id, Binding.kind == KIND, Binding.erp_id == SHOP
        )
    )


def waiting_clauses() -> tuple[ColumnElement[bool], ...]:
    """What makes a message one of a product waiting for the hold: retrying with VARIANT_QUOTA."""
    return (Message.status == MessageStatus.RETRYING.value, Message.error_detail["code"].as_string() == CODE)


def waiting_count(session: Session, shop_id: int) -> int:
    """How many products wait for the hold."""
    count = select(func.count(Message.id)).where(Message.shop_id == shop_id, *waiting_clauses())
    return int(session.scalar(count) or 0)


def waiting_products(session: Session, shop_id: int) -> dict[int, tuple[str, str | None]]:
    """{seqProduto: (its message's unit, the hold's end it says)} of the products waiting for the
    hold (the reconciliation names their SKUs apart from those missing unexplained)."""
    rows = session.execute(
        select(Message.unit_key, Message.error_detail["until"].as_string()).where(
            Message.shop_id == shop_id, *waiting_clauses()
        )
    )
    found: dict[int, tuple[str, str | None]] = {}
    for unit, until in rows:
        kind, _, seq = unit.partition(":")
        if kind == "product" and seq.isdigit():
            found[int(seq)] = (unit, until)
    return found
