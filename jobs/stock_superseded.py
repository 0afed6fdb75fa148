"""A stock batch's message left open once later passes set every level it carried: closed as
superseded.

Why: a batch's unit is "stock:<company>:<digest of its SKUs>", so the pass that sends its SKUs
again (a level refused and kept due, rows read again after a transient failure) seldom sends the
same set: the levels land under another message, and the first one stays failed (or retrying, its
retries spent) for ever, on the Messages page and in the dashboard's failures, telling the merchant
something is broken when Shopify has every level. Nothing else closes it: a scheduled pass touches
only the units it sends.

How (`settle`, after each company's batches, under the flow's lock): every open batch message of
the company (failed, retrying, or pending from a pass that died) written at the location the
company writes now is closed (ledger.trace.supersede: skipped, its own error kept in the detail for
history, its reason naming the messages of this pass that set its levels, in the merchant's words)
once each SKU it carried is set or no longer due:
- set: its "stock" binding is at that location, not due (a digest: not refused as a whole, not
  waiting for its variant) and sure (no "tried": no call left unanswered), and Shopify showed a
  level written after the message ended ("at"), or the level it shows is one the batch itself got
  in (its response's "levels", kept on a failure too) or carried (its "targets": not for a SKU the
  message names refused, whose binding kept its old level);
- no longer due: the SKU has no variant any more, or no stock control (its level is not the app's).
A batch only partly set stays as it is, its error untouched: its own words still say what failed,
a later batch failing on the rest says so too, and its Retry sends every SKU of it again (updating
it each pass to name what is left would churn a row per pass for nothing new). A batch of another
location (the company moved since) is left too: the move's full pass and jobs.stock_vacate put
those levels right, and its Retry writes at the company's location now.

Cheap: one SELECT of the company's open stock messages (usually none but its refusals), one of the
bindings of their SKUs when there is a batch among them, and an UPDATE only for what is closed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.price_map import POLICY_CONTINUE, POLICY_DENY
from jobs.stock_map import LevelTarget
from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, VARIANT_KIND
from ledger.models import Binding, Message, MessageStatus, as_utc

FLOW = "stock"
OPEN = (MessageStatus.FAILED.value, MessageStatus.RETRYING.value, MessageStatus.PENDING.value)
BATCH_UNIT = re.compile(r"^stock:\d+:[0-9a-f]{16}$")  # jobs.stock_writer.BatchWriter.write
# The digests of a SKU without stock control: no level to set (jobs.stock_map.level_target).
NO_LEVEL = frozenset(LevelTarget(None, policy).digest() for policy in (POLICY_DENY, POLICY_CONTINUE))


def settle(
    session: Session,
    shop_id: int,
    company: int,
    location: str,
    landed: Mapping[str, int],
    written: Collection[int],
) -> list[int]:
    """Close the company's open batch messages whose levels are all set now (module docstring);
    `landed`: {SKU: the message of this pass that got its level in}, `written`: this pass's batch
    messages (not candidates). Returns the ids closed."""
    candidates = [
        m
        for m in session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.status.in_(OPEN),
                Message.unit_key.like(f"stock:{company}:%"),
            )
        )
        if m.id not in written
        and BATCH_UNIT.match(m.unit_key)
        and isinstance(m.request_payload, dict)
        and m.request_payload.get("location_id") == location
        and m.request_payload.get("skus")
    ]
    if not candidates:
        return []
    skus = {sku for m in candidates for sku in m.request_payload["skus"]}
    levels = bindings.get_many(session, shop_id, STOCK_KIND, [f"{company}:{sku}" for sku in skus])
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, skus)
    closed: list[int] = []
    for message in candidates:
        carried = list(message.request_payload["skus"])
        if not all(
            _settled(message, sku, levels.get(f"{company}:{sku}"), sku in variants, location)
            for sku in carried
        ):
            continue
        by = sorted({landed[sku] for sku in carried if sku in landed})
        _close(session, message, company, by)
        closed.append(message.id)
    return closed


def _settled(message: Message, sku: str, level: Binding | None, sold: bool, location: str) -> bool:
    """Whether `sku` of the batch `message` is set at `location` now, or no longer due."""
    if not sold:  # no variant any more: nothing to set
        return True
    if level is None:
        return False
    if level.digest in NO_LEVEL:  # no stock control now: the level is not the app's to set
        return True
    data = level.data or {}
    if (
        level.digest is None
        or level.shopify_id is None
        or data.get("location") != location
        or data.get("tried")
    ):
        return False
    at = data.get("at")
    if at and as_utc(datetime.fromisoformat(str(at))) > message.updated_at:
        return True  # written after the message ended
    got = (
        (message.response_payload or {}).get("levels") if isinstance(message.response_payload, dict) else None
    )
    if isinstance(got, dict) and sku in got and data.get("sent") == got[sku]:
        return True  # the batch got it in itself
    carried = (message.request_payload.get("targets") or {}).get(sku)
    return sku not in _refused(message) and carried is not None and data.get("sent") == carried


def _refused(message: Message) -> set[str]:
    """The SKUs the message names as not written: Shopify's refusals, or those whose level kept
    changing (jobs.stock_writer)."""
    detail: dict[str, Any] = message.error_detail if isinstance(message.error_detail, dict) else {}
    named = {str(e.get("sku")) for e in detail.get("user_errors") or [] if isinstance(e, dict)}
    return named | {str(s) for s in detail.get("skus") or []}


def _close(session: Session, message: Message, company: int, by: list[int]) -> None:
    if by:
        named = ", ".join(f"#{i}" for i in by)
        reason = (
            f"superseded: this batch's levels at company {company}'s location were set later by "
            f"message(s) {named}; nothing left to do (the original error is kept in the detail)"
        )
        words: tuple[str, dict[str, Any]] = (
            "stock_superseded",
            {"company": company, "ids": [f"#{i}" for i in by]},
        )
    else:
        reason = (
            f"superseded: later stock passes set this batch's levels at company {company}'s location, or "
            "they are no longer due; nothing left to do (the original error is kept in the detail)"
        )
        words = ("stock_superseded_earlier", {"company": company})
    trace.supersede(session, message, reason, words=words, by=by)
