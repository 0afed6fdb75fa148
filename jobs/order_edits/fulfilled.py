"""Picking changes Shopify cannot make: units a person fulfilled already (flow `order_edits`, ERP -> Shopify).

Shopify edits only a line's unfulfilled units: orderEditSetQuantity refuses a quantity below what
was fulfilled, and any change of a line fulfilled in full ("The line item is fulfilled and can't
be edited"); a discount it takes on fulfilled units too. One refusal failed the whole edit, the
other lines' changes with it, for ever (a retry meets the same refusal) and held the invoice
behind it. So before the edit begins (`hold_back`), each quantity the edit would set is checked
against its line's fulfilled units (currentQuantity less unfulfilledQuantity, read with the
order): a line fulfilled in full keeps its units; one fulfilled in part goes down to its fulfilled
units at most; a weight split that would take a fulfilled unit off its line is not split (the
rounded-up discount per unit instead). The rest of the picking is applied.

What the edit cannot do is named per ERP line (`Unapplied.text`: "SKU P1E1 (ERP line 1): 3
fulfilled in Shopify, the ERP's cut to 1 not applied: refund 2 in Shopify"), in the ledger row's
reason (not applied) and on the order link for a person (`NOTE_TOPIC`, a note of its own beside the
flow's others, replaced or cleared by the next picking edit of the order). The invoice is not
held for it: the NF-e says what was served, the capture follows the NF-e total and the fulfilment
counts the units fulfilled already (jobs.invoice_lines); what is left is the person's refund (or
the units added by hand) in Shopify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from typing import Any

from jobs.order_edits import repeats, weight_words
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine

NOTE_TOPIC = "fulfilled lines"  # its note: "order_edits (fulfilled lines): SKU ..."
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Unapplied:
    """A change of one ERP line the edit cannot make in full."""

    change_key: str
    sku: str | None
    fulfilled: int  # the line's units fulfilled in Shopify
    current: int  # the line's units now
    target: int  # what the ERP's picking asks
    sent: int | None = None  # what the edit sets instead (down to the fulfilled units); None: nothing

    @property
    def text(self) -> str:
        item = repeats.item_of(self.change_key)
        line = f"SKU {self.sku or '?'} (ERP line {item if item is not None else '?'})"
        if self.target >= self.current:
            return (f"{line}: {self.fulfilled} fulfilled in Shopify, the ERP's {self.target} served not "
                    f"applied (a fulfilled line cannot be edited): {self.target - self.current} more to "
                    "charge in Shopify by hand")  # fmt: skip
        done = "not applied" if self.sent is None else f"applied down to {self.sent} only"
        return (f"{line}: {self.fulfilled} fulfilled in Shopify, the ERP's cut to {self.target} {done}: "
                f"refund {self.fulfilled - self.target} in Shopify")  # fmt: skip

    @property
    def words(self) -> tuple[str, dict[str, Any]]:
        """`text` as the note's words (shopify_app.note_words)."""
        item = repeats.item_of(self.change_key)
        named = item if item is not None else "?"
        line = {"sku": self.sku or "?", "item": named, "fulfilled": self.fulfilled, "target": self.target}
        if self.target >= self.current:
            return "fulfilled_more_served", {**line, "more": self.target - self.current}
        done = ("cut_not_applied", {}) if self.sent is None else ("cut_applied_down_to", {"sent": self.sent})
        return "fulfilled_cut", {**line, "done": done, "refund": self.fulfilled - self.target}


def _fulfilled(lines: Sequence[ShopifyLine], line_item_id: str | None) -> tuple[int, int] | None:
    """(units fulfilled, units now) of a line, None when not read or none fulfilled."""
    line = next((s for s in lines if s.id == line_item_id), None)
    if line is None or line.unfulfilled_quantity is None:
        return None
    fulfilled = max(0, line.current_quantity - line.unfulfilled_quantity)
    return (fulfilled, line.current_quantity) if fulfilled else None


def hold_back(edits: Sequence[Any], lines: Sequence[ShopifyLine]) -> tuple[list[Any], dict[str, Unapplied]]:
    """Pure: the quantity edits (`to_shopify.LineChange`s Shopify does not show yet) as Shopify
    takes them — a line fulfilled in full left out, one fulfilled in part set no lower than its
    fulfilled units — and what is not applied, by change key."""
    kept, unapplied = [], {}
    for change in edits:
        found = _fulfilled(lines, change.line_item_id) if change.shopify_quantity is not None else None
        if found is None:
            kept.append(change)
            continue
        fulfilled, current = found
        target = change.shopify_quantity
        if fulfilled < current and target >= fulfilled:
            kept.append(change)
            continue
        sent = fulfilled if fulfilled < current else None  # fulfilled in part: down to its fulfilled units
        unapplied[change.change_key] = Unapplied(
            change.change_key, change.sku, fulfilled, current, target, sent
        )
        if sent is not None:
            kept.append(replace(change, shopify_quantity=sent))
    return kept, unapplied


def unsplit(splits: Sequence[Any], lines: Sequence[ShopifyLine]) -> tuple[list[Any], list[Any]]:
    """Pure: (the weight splits Shopify takes, the ones not split): a split sets its line to its
    units − 1, which Shopify refuses below the line's fulfilled units; such a line takes the
    rounded-up discount per unit of all its units instead (on fulfilled units too). A weighed line
    keeps its units (its quantity is not changed); a box served in part (1,5 of 2: kind cut or qty)
    is still set to its units rounded up, or it would keep the boxes not served at all, each with
    the discount worked out for fewer."""
    kept, whole = [], []
    for change in splits:
        found = _fulfilled(lines, change.line_item_id)
        units = change.weighed_units or 0
        if found is None or (found[0] < found[1] and found[0] <= units - 1):
            kept.append(change)
            continue
        difference = change.discount_total or Decimal("0")
        per_unit = (difference / units).quantize(CENT, rounding=ROUND_CEILING)
        below = per_unit * units - difference
        planned, plan = weight_words.planned(change)
        reason = (f"{planned}; {found[0]} of its units fulfilled in Shopify, so not "
                  f"split: {per_unit} per unit x {units}, Shopify {below} below the NF-e line, the "
                  "capture follows the NF-e")  # fmt: skip
        not_split = ("line_split_fulfilled", {"fulfilled": found[0], "per_unit": per_unit, "units": units,
                                              "below": below})  # fmt: skip
        words = weight_words.after_plan(reason, plan, not_split)
        quantity = None if change.kind == "weight" else units
        whole.append(replace(change, split_discount=None, shopify_quantity=quantity,
                             discount_per_unit=per_unit, reason=reason, words=words))  # fmt: skip
    return kept, whole


def as_recorded(change: Any, unapplied: Unapplied | None, *, kept: bool = True) -> Any:
    """The change as the ledger keeps it: one not applied in full says so (and, left out, sets
    nothing: its row stays not applied). `kept`: the change is still staged for what Shopify takes
    of it (a discount on fulfilled units); one held back whole (jobs.order_edits.lowered: a part of
    a box served, on a line a person lowered) stages no discount either, so it keeps none: counted
    as sent, its row said applied, and the same picking reported again took it for in Shopify
    already (jobs.order_edits.repeats.applied_alike) and cleared the note naming it."""
    if unapplied is None:
        return change
    reason = f"{change.reason}; NOT applied in full: {unapplied.text}"
    words = change.words if change.words is not None and change.words[0] == change.reason else None
    said = (
        (reason, (*words[1], ("line_not_applied_in_full", {"unapplied": unapplied.words}))) if words else None
    )
    left_out = {} if kept else {"discount_per_unit": None, "split_discount": None}
    return replace(change, reason=reason, words=said, shopify_quantity=unapplied.sent, **left_out)
