"""Picking cuts that would RAISE a Shopify line (flow `order_edits`, ERP -> Shopify).

A cut (or a line replaced by a substitute) takes units off: its target is the ERP's served units,
set as an absolute quantity so a replay converges. But the picking reaches Shopify a while after
the ERP separated the order (the poller, the queue), and in between a person may have lowered the
line in Shopify (an edit, a refund: the customer wants fewer). Set to the target there, the line
would get back units the person took off, and their edit, which waits for the picking
(jobs.order_edits.picking_state), would then read as an echo of it: the customer's change undone
silently, the ERP invoicing and delivering what they no longer want.

So a cut never raises its line (`to_shopify.LineChange.never_raises`): one whose line holds fewer
units than the target is left out, the rest of the picking applied, and the line is named for a
person (`Lowered.text`: "SKU P1E1 (ERP line 1): 1 in Shopify, below the ERP's cut to 2: ...") in
its ledger row's reason (not applied) and on the order link (`NOTE_TOPIC`, a note of its own,
replaced or cleared by the order's next picking edit, as jobs.order_edits.fulfilled's). The
person's own edit, counted against what the ERP served (jobs.order_edits.to_erp), is flagged too:
the ERP serves the target, Shopify has less. A line added to by a substitute (its receiving line)
is raised on purpose, and is not such a cut.

So is a line the ERP picks AGAIN after a person lowered it (to_shopify `_stale_adjustments`: 1,5 of 2
boxes, 2 in Shopify with "Atendido em parte: 1,5 de 2", the customer wants 1; the ERP picks 2 of 2):
its units stay, the earlier picking's discount alone is taken off (each unit held is served whole:
Shopify charges them in full, what the ERP would invoice for them), and it is named alike
(`Lowered.removed`: "... 1 in Shopify, below the 2 the ERP picked again: kept, the earlier
picking's discount '...' taken off ...").

And so is a line sold by the unit the ERP picks again to more than the app's own cut left it with
(to_shopify `_picked_again`: 2 of 3, then 3 of 3): the units the app's cut took off are put back,
but a line a person lowered since keeps its units ("... 1 in Shopify, below the 3 the ERP picked
again: kept ..."), and one the app's cut emptied is not set again ("... 0 in Shopify, below the 3
the ERP picked again: its line was emptied by an earlier picking's cut ...": `emptied`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobs.order_edits import repeats
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine

NOTE_TOPIC = "lowered lines"  # its note: "order_edits (lowered lines): SKU ..."


@dataclass(frozen=True)
class Lowered:
    """A cut of one ERP line left out: its Shopify line holds fewer units than the cut's target."""

    change_key: str
    sku: str | None
    current: int  # the line's units in Shopify now
    target: int  # what the ERP served (the cut's target)
    sent: None = None  # as jobs.order_edits.fulfilled.Unapplied: nothing set on the line
    removed: str | None = None  # picked again: the earlier picking's discount taken off (its description)
    again: bool = False  # picked again to more than the app's own cut left (to_shopify `_picked_again`)
    emptied: bool = False  # ... on a line that cut emptied: not set again
    substitute: bool = False  # a substitute's units onto a line a person lowered since (`keeps`)

    @property
    def text(self) -> str:
        item = repeats.item_of(self.change_key)
        line = f"SKU {self.sku or '?'} (ERP line {item if item is not None else '?'})"
        if self.removed is not None:
            return (f"{line}: {self.current} in Shopify, below the {self.target} the ERP picked again: kept "
                    f"(a picking never puts back units a person took off), the earlier picking's discount "
                    f"'{self.removed}' taken off, so Shopify charges the {self.current} in full; the ERP "
                    f"serves and invoices {self.target}: change its picking to {self.current}, or set "
                    f"{self.target} in Shopify")  # fmt: skip
        if self.emptied:
            return (f"{line}: {self.current} in Shopify, below the {self.target} the ERP picked again: its "
                    f"line was emptied by an earlier picking's cut and is not set again; the ERP serves and "
                    f"invoices {self.target}: change its picking to {self.current}, or add {self.target} in "
                    "Shopify")  # fmt: skip
        if self.again:
            return (f"{line}: {self.current} in Shopify, below the {self.target} the ERP picked again: kept "
                    f"(a picking never puts back units a person took off); the ERP serves and invoices "
                    f"{self.target}: change its picking to {self.current}, or set {self.target} in "
                    "Shopify")  # fmt: skip
        if self.substitute:
            return (f"{line}: {self.current} in Shopify, lowered by a person since: the {self.target} the "
                    f"ERP's picking puts on it with a substitute are not set (a picking never puts back "
                    f"units a person took off); the ERP serves and invoices {self.target}: change its "
                    f"picking, or set {self.target} in Shopify")  # fmt: skip
        return (f"{line}: {self.current} in Shopify, below the ERP's cut to {self.target}: not applied (a "
                f"cut never puts units back); the ERP serves and invoices {self.target}: change its picking "
                f"to {self.current}, or set {self.target} in Shopify")  # fmt: skip

    @property
    def words(self) -> tuple[str, dict[str, Any]]:
        """`text` as the note's words (shopify_app.note_words)."""
        item = repeats.item_of(self.change_key)
        named = item if item is not None else "?"
        if self.removed is not None:
            return "lowered_picked_again", {"sku": self.sku or "?", "item": named, "current": self.current,
                                            "target": self.target, "description": self.removed}  # fmt: skip
        if self.emptied or self.again:
            key = "lowered_picked_again_emptied" if self.emptied else "lowered_picked_again_kept"
            return key, {"sku": self.sku or "?", "item": named, "current": self.current,
                         "target": self.target}  # fmt: skip
        key = "lowered_substitute" if self.substitute else "lowered_cut"
        return key, {"sku": self.sku or "?", "item": named, "current": self.current, "target": self.target}


def hold_back(edits: Sequence[Any], lines: Sequence[ShopifyLine]) -> tuple[list[Any], dict[str, Lowered]]:
    """Pure: the picking's changes (`to_shopify.LineChange`s) but the cuts that would raise their
    line, and those, by change key. A split change (a part of a box served whose units do not divide
    its discount) targets its units on its line plus the one it puts on a line of its own. A line
    picked again below what a person left it with (`below`) is kept, for its discount alone, and named;
    one with no discount to take off (to_shopify `_picked_again`) is named alone."""
    kept, lowered = [], {}
    for change in edits:
        if getattr(change, "below", None) is not None:
            held = sum(s.current_quantity for s in lines if s.id in change.removed_from)
            if not change.removes:
                lowered[change.change_key] = Lowered(change.change_key, change.sku, held, change.below,
                                                     again=True, emptied=change.emptied_before)  # fmt: skip
                continue
            named = "', '".join(change.removes)
            lowered[change.change_key] = Lowered(
                change.change_key, change.sku, held, change.below, removed=named
            )
            kept.append(change)
            continue
        line = next((s for s in lines if s.id == change.line_item_id), None)
        target = change.shopify_quantity
        if target is not None and change.split_discount is not None:
            target += 1
        if change.never_raises and line is not None and target is not None and line.current_quantity < target:
            lowered[change.change_key] = Lowered(change.change_key, change.sku, line.current_quantity, target)
            continue
        keeps = getattr(change, "keeps", None)  # a substitute's receiving line a person lowered since
        if keeps is not None and line is not None and target is not None and line.current_quantity < keeps:
            lowered[change.change_key] = Lowered(change.change_key, change.sku, line.current_quantity, target,
                                                 substitute=True)  # fmt: skip
            continue
        kept.append(change)
    return kept, lowered
