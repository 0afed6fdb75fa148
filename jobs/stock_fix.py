"""A person's fix of the stock levels a reconciliation report found differing at a company's location.

Why it takes a person: a Shopify level that differs from the ERP's figure (the stock flow's own
target: jobs.reconcile._stock) stays so when nothing moves its ERP row. The stock flow writes a
level only when its target changes (the "stock" binding's digest), so the daily sweep never looks
at a level set by hand in Shopify, by a count or by another app. And a level below the target may
be a sale whose order the app does not know yet: the flow never gives such a drop back
(jobs.stock_writer). Only a person knows that no sale stands behind it. The report's page offers the
fix per company; the API (shopify_app.api_stock_fix) begins this unit as a stock message,
`stock:<company>:fix:<report message id>` (ledger.drift.stock_fix_unit), carrying the SKUs the report
listed there, and enqueues its replay (jobs.stock.replay).

How (`note_moves`, then the pass for those SKUs alone): each SKU becomes a level Shopify moved by
itself (jobs.stock_reread, source "fix:<message id>:<attempt>") by the units between what the stock flow
last knew Shopify showed (its "stock" binding's "sent") and what the report saw. The pass reads each
level first, keeps out a drop since then that no order known explains (a sale while the person
read the report), and writes the ERP's figure by compare-and-swap from what it read. The moves are
forgotten once the company's pass ends clean (`forget_moves`), so a later pass counts none of them.

Left out (named in the message's response, `left_out`): a SKU the stock flow wrote after the report
began (the report's figure is older than Shopify's), and one the report no longer lists (it was run
again and found the level in step). A report holds at most its first 50 differing rows a company
(jobs.reconcile.LISTED): the day's report run again (its Replay) lists the next ones, and the fix
asked again for it is the same message's next attempt (the API compares the report's time).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from jobs import stock_reread
from ledger import bindings, drift
from ledger.bindings import STOCK_KIND
from ledger.db import session_scope
from ledger.models import Message, as_utc, utcnow
from ledger.words import Words, beside

UNIT = re.compile(r"^stock:(\d+):fix:(\d+)$")
WRITTEN_SINCE = "written_since"  # the stock flow wrote it after the report began
NOT_LISTED = "not_listed"  # the report (run again since) no longer lists it
# (English, words key) of each part of the fix's note (shopify_app.stock_words says them)
LEFT_OUT = {
    WRITTEN_SINCE: (
        "left out, written by the stock flow after the report began (run the reconciliation again)",
        "stock_fix_written_since",
    ),
    NOT_LISTED: ("left out, the report no longer lists them as differing", "stock_fix_not_listed"),
}


def is_fix(unit: str) -> bool:
    return UNIT.match(unit) is not None


def source(message_id: int, attempt: int | None = None) -> str:
    """The movements' source (jobs.stock_reread: erp_id "<idSku>|<source>"), one per attempt: a
    fix asked again for the day's report run again is the message's next attempt, with its own
    movements. Without `attempt`: the prefix of every attempt's."""
    return f"fix:{message_id}:" + ("" if attempt is None else str(attempt))


def note_moves(
    shop_id: int, message_id: int, attempt: int, company: int, report_id: int, skus: list[str]
) -> dict[str, str]:
    """Record the fix's movements (module docstring); the SKUs left out, with why. A SKU an earlier
    attempt of the fix noted keeps its movement (the attempt's batches may have written its level)."""
    with session_scope() as session:
        report = session.get(Message, report_id)
        payload = report.response_payload if report is not None and report.shop_id == shop_id else None
        listed = drift.stock_differ(payload, company)
        location, rows = listed if listed is not None else (None, [])
        seen = {str(row["sku"]): row.get("shopify") for row in rows}
        began = _began(payload)
        known = bindings.get_many(session, shop_id, STOCK_KIND, [f"{company}:{sku}" for sku in skus])
        # An earlier attempt's movements stand (its batches may have written some levels since): a
        # fix failed and asked again is the next attempt, and noting its SKUs again counted the
        # person's correction twice (a level raised by 5 by hand expected at +10: 5 units held back).
        mine = "|" + source(message_id)
        noted = {m.sku for m in stock_reread.read(session, shop_id).found if mine in m.key}
        deltas: dict[str, int] = {}
        left_out: dict[str, str] = {}
        for sku in skus:
            if sku in noted:
                continue
            if sku not in seen:
                left_out[sku] = NOT_LISTED
                continue
            old = known.get(f"{company}:{sku}")
            at = stock_reread.shown_at(old)
            if at is not None and began is not None and at > began:
                left_out[sku] = WRITTEN_SINCE
                continue
            deltas[sku] = _delta(old, seen[sku], location)
        stock_reread.note(session, shop_id, company, source(message_id, attempt), deltas, utcnow())
    return left_out


def forget_moves(shop_id: int, message_id: int, keep: Collection[str] = ()) -> None:
    """The fix's movements (an earlier attempt's left by a failure too), done with once its
    company's pass ended clean; but those of the SKUs in `keep`, set aside as moving, whose levels
    the next pass sends ("the next pass sends them", as the fix's note says): forgotten, the drop
    the person confirmed was no sale read as one, and its units stayed off sale. That pass's own
    clean end forgets them."""
    prefix = "|" + source(message_id)
    with session_scope() as session:
        moves = stock_reread.read(session, shop_id)
        mine = tuple(m for m in moves.found if prefix in m.key and m.sku not in keep)
        asked = {m.key: (moves.read or {})[m.key] for m in mine}
        stock_reread.forget(session, shop_id, stock_reread.Moves(mine, asked))


def outcome(
    asked: int, sent: int, failed: list[str], moving: list[str], left_out: dict[str, str]
) -> dict[str, Any]:
    """The fix's message's response: the pass's figures, the SKUs left out and why, and a note in
    English with its words beside it (`note_words`) saying it all. `asked`: the SKUs the pass was
    given (left out ones not among them)."""
    already = max(0, asked - sent - len(failed) - len(moving))
    english = [f"{sent} level(s) set to the ERP's figure, {already} already at it"]
    parts: list[Words] = [("stock_fix_done", {"sent": sent, "already": already})]
    for skus, text, key in (
        (failed, "not set, refused by Shopify (see the stock batch's message)", "stock_fix_refused"),
        (moving, "not set, Shopify's level kept changing (the next pass sends them)", "stock_fix_moving"),
        *(([s for s, w in sorted(left_out.items()) if w == why], *LEFT_OUT[why]) for why in LEFT_OUT),
    ):
        if skus:
            english.append(f"{text}: {', '.join(skus)}")
            parts.append((key, {"skus": list(skus)}))
    return {
        "levels_sent": sent,
        "failed": list(failed),
        "moving": list(moving),
        "left_out": dict(sorted(left_out.items())),
        **beside("note", "; ".join(english), *parts),
    }


def _began(report: Any) -> datetime | None:
    text = report.get("generated_at") if isinstance(report, dict) else None
    try:
        return as_utc(datetime.fromisoformat(text)) if isinstance(text, str) else None
    except ValueError:
        return None


def _delta(binding: Any, seen: Any, location: str | None) -> int:
    """The units Shopify's level moved by since the stock flow last knew it: what the report saw less
    the binding's "sent" there (0, not known: no level seen, or none sent at that location)."""
    data = (binding.data or {}) if binding is not None else {}
    sent = data.get("sent")
    if data.get("location") != location or isinstance(seen, bool) or not isinstance(seen, int):
        return 0
    if isinstance(sent, bool) or not isinstance(sent, int):
        return 0
    return seen - sent
