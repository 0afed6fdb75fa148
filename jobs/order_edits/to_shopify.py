"""Order edits ERP -> Shopify ("faturado com alteração"), flow `order_edits`.

Source: EventoPedido 'S' (jobs.order_events enqueues `apply_event(shop_id, seq_evento)`).
Unit of work: one event; its lines are compared with the Shopify order and the differences
become one order edit (orderEditBegin -> orderEditSetQuantity / orderEditAddVariant ->
orderEditCommit) before the invoice is confirmed (the F event waits for this one).

Per-line ledger: one OrderLineChange per (event, ERP line) — kind cut / substitution / weight /
qty, quantities before and after, the reason — written before the edit (applied=False) and
marked applied after the commit. Quantities are absolute targets, so a replay after a partial
failure converges and an edit already in Shopify costs no mutation.

Weighed items: the catalog flows sell a weighed SKU in units of 1 kg (jobs.catalog_map
WEIGHED_SALE_UNIT_KG), and Shopify quantities are integers, so a different weight cannot be a
quantity. A line picked LIGHTER gets, in the same order edit, a fixed-amount line discount
(orderEditAddLineItemDiscount, "Ajuste de peso: 1,000 kg → 0,985 kg") equal to what the ERP
charges less: its ordered line total minus its served line total (= (ordered kg − weighed kg) ×
price per kg, with the ERP's own rounding and pro-rata discount), so Shopify's current total
follows the NF-e and the invoice's capture settles the order (PAID, not PARTIALLY_PAID).
Shopify takes a fixed value per unit (shopify_app.admin_api.order_edit_discounts states that
assumption), so a difference of D cents on n units is exact only when n divides D. When it does
not, the line is SPLIT in the same edit: n−1 units stay on the line with floor(D/n) off each,
and one unit goes on a line of its own (the same variant, orderEditAddVariant allowDuplicates)
with the rest off it, so the discounts sum to D to the cent. The split is measured, not
predicted: each staged step returns the calculated order's subtotal, so Shopify's proration of
the line's other discounts (a checkout code) and the price it gives the added unit (the
variant's price now) are taken into the second discount, and the subtotal is checked to have
gone down by exactly D before the commit. Only when no pair of discounts within the prices can
do it (the variant's price fell by more than D since checkout) is the unit put back and the old
rounding used: per-unit amount rounded UP, Shopify up to n−1 cents below the NF-e; the capture
never takes above Shopify's total, so those cents are not charged (jobs.invoice_capture: absorbed
up to CENTS_ABSORBED, named for a person above it); the reason records the cents.
A weighed SUBSTITUTE (0,300 kg of another weighed item) goes in as its kilograms rounded up,
units − 1 on one line and one unit on a line of its own (allowDuplicates: the order may sell the
variant already) with a fixed discount ("Peso do substituto: 0,300 kg (item 3)") of what
Shopify's price for those units, read when the unit is added, is above the ERP's charge for the
line; the description tells a replay it is in, and when no discount was needed (whole
kilograms) its units on the variant's lines past the order's own do (the ledger row is written
after the commit, whose answer can be lost). Another event of the same picking (an 'S' emitted
again, the tracking's copy of an altered 'F') knows it from the order's other events' ledger rows
(jobs.order_edits.repeats): added there, it is not added again. So is any change the last
event of its ERP line applied alike (`repeats.applied_alike`: the same picking under a re-issued
NF-e's new key) and Shopify still shows (its line at or below the target): it is marked
`adjusted`, nothing sent, so a person's refund since is not undone and a line fulfilled since is
not edited; a line a person put units back on since is set to the ERP's target again.
A weighed line a person lowered in Shopify before the picking reached it (2 units of 1 kg, 1 left,
1,1 kg weighed) takes off only what its units left, worth their share of the ordered total, are
above the ERP's charge (here nothing: the difference worked out on 2 kg, put on the 1 unit left,
would charge 0,1 kg for it); the person's edit is flagged on the Shopify -> ERP side.
A line picked HEAVIER is recorded only (applied False): the customer is not charged above
what was authorised, so the line keeps its price and the capture stays within the
authorisation. So is a line picked lighter whose ERP line totals round to the same cents (a
gram light on a cheap item): there is nothing to take off, and Shopify takes no discount of
zero. A weighed line cut to zero is an ordinary cut, on all of its lines (an earlier event's split
unit too; a weighed substitute cut later, on every line it was added on). Idempotent like the
quantities: an adjustment whose description one of the variant's Shopify lines already carries is
not sent again (an order edit commits all of its changes or none, so the description means the
split, its quantities and both discounts are in); the units of a weighed variant are counted over
all of its lines, so a replay after a split plans the same adjustment. A weighed SKU on several
ERP lines (ordered twice) is on as many Shopify lines: each ERP line's cut or weighing is its own
line's, with that line's units (a split's unit goes on a line of its own after the order's).

A line sold by the unit served in part of one (1,5 of 2 boxes) is treated like a lighter weighed
line: Shopify keeps its units rounded up and a fixed discount ("Atendido em parte: 1,5 de 2") takes
the part not served off, split alike when its units do not divide it (`_part_served`).

Picked AGAIN (a later 'S' event before the NF-e) so that the line takes no adjustment now (the box
served whole, 1 box, the meat weighed at the ordered weight or heavier), the earlier picking's
"Atendido em parte" / "Ajuste de peso" discount is taken off its line and its split's unit line
(orderEditRemoveDiscount), the units set as the picking says (the split's unit line emptied when
fewer are served): kept, Shopify's total and the capture would stay below the NF-e. Only a
discount the app's own ledger rows recorded putting on (`OrderLineChange.discounts`: description and
amount per unit; `_stale_adjustments`, `_app_made`): a person's discount stays, even worded alike.
A line a person lowered since is never raised back: it keeps its units and loses the discount
alone, named for a person (jobs.order_edits.lowered). Picked again to ANOTHER part or weight is
still refused for a person (WEIGHT_ALREADY_ADJUSTED). A plain cut picked again to more (2 of 3,
then 3 of 3) gets back the units the app's own cut took off (`_picked_again`), never a person's.

A substitute sold by the unit that the order lacks is added at the price Shopify gives it (the
variant's price now, which may lag the ERP's) and, when that is above the ERP's charge, with a
discount per unit down to it ("Preço do substituto: R$ 40,57 (item 3)"; below it, none, as a
weighed substitute), so the echo of the edit is not a merchant's price change. It goes on a line of
its own on its first attempt, beside any line of the product Shopify shows (a person's addition
after picking, a line removed before the ERP had the order): only a retry looks for it on the
variant's lines (`_pending_edits`). A change Shopify cannot make on units a person fulfilled is
left out, the rest applied, and named for a person (jobs.order_edits.fulfilled); one it refuses
still fails the edit naming the SKU and ERP line. A cut never raises a line a person lowered in
Shopify before the picking got there: left out and named for a person too
(jobs.order_edits.lowered). Nor one lowered after the order was read, before the edit began: the
edit's lines are compared with the read (`_as_read`), and a difference leaves it uncommitted and
retries, planned again from the order as it is.

Which Shopify line is an ERP line's (`own_lines`): the nth ERP line of a SKU is the nth line of
its variant, passing a line at 0 units the ERP never had (a merchant removed it before picking:
the import and the edits before picking send only lines holding units; no more of them than the
variant has lines beyond the SKU's ERP lines: one a person emptied after picking is still its ERP
line's), but not one the app's own cut may have emptied (a replay, another event of the same
picking, per the ledger).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from erp.records import OrderEvent
from jobs import old_orders, order_events, stock_reread
from jobs.order_edits import fulfilled, lowered, repeats, weight_words
from ledger import bindings, mappings, order_notes
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import OrderLineChange, OrderLink
from ledger.words import Said, Words, around, quantity, said, stored_for
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_results import CalculatedLine
from shopify_app.admin_api.order_results import OrderLine as ShopifyLine

log = logging.getLogger(__name__)

FLOW = "order_edits"
CENT = Decimal("0.01")
WEIGHT_ADJUSTMENT = "Ajuste de peso"
WEIGHED_SUBSTITUTE = "Peso do substituto"
PART_SERVED = "Atendido em parte"
SUBSTITUTE_PRICE = "Preço do substituto"
# The discounts a picking of the app puts on an order line of its own (what a later picking of the
# line may take off again: `_stale_adjustments`); never a person's, whatever it says.
APP_ADJUSTMENTS = (WEIGHT_ADJUSTMENT, PART_SERVED)

# A change's kind as a note's words name it (shopify_app.note_words), where Shopify refused it.
CHANGE_KINDS = {"cut": "kind_cut", "qty": "kind_qty", "substitution": "kind_substitution",
                "weight": "kind_weight"}  # fmt: skip


@dataclass(frozen=True)
class LineChange:
    """One ERP line's difference and what it means for the Shopify order."""

    change_key: str  # "event:<seq>:item:<seqItem>" (OrderLineChange idempotency)
    kind: str  # cut | substitution | weight | qty
    sku: str | None
    qty_before: Decimal
    qty_after: Decimal
    reason: str
    line_item_id: str | None = None  # the Shopify line whose quantity is set
    variant_id: str | None = None  # the variant added (substitute) / of the line
    shopify_quantity: int | None = None  # target quantity in Shopify (None: no Shopify change)
    substitute_sku: str | None = None
    discount_per_unit: Decimal | None = None  # weight adjustment: fixed discount per Shopify unit
    discount_description: str | None = None  # "Ajuste de peso: 1,000 kg → 0,985 kg" (its identity)
    discount_total: Decimal | None = None  # weight adjustment: what the ERP charges less (D)
    weighed_units: int | None = None  # the variant's Shopify units, over all of its lines
    split_discount: Decimal | None = None  # split: the planned discount on the unit on its own line
    charge_total: Decimal | None = None  # weighed substitute: what the ERP charges for it
    substitute_charge: Decimal | None = None  # a substitute by the unit: what the ERP charges for its units
    adjusted: bool = False  # the adjustment is already on Shopify's lines (a replay): nothing to send
    never_raises: bool = False  # a cut: takes units off its line, never puts back (jobs.order_edits.lowered)
    # a substitute's receiving line: the units of its own ERP line it must still hold, else a person
    # lowered it since (the customer wants fewer) and the substitute's target would raise it back
    keeps: int | None = None
    split_lines: tuple[str, ...] = ()  # a weighed line cut: its weight split's unit lines, set with it
    # a weighed SKU on several ERP lines: the Shopify lines that are this change's own (its line, its
    # split's unit lines), the only ones whose adjustments count for it; None: the variant's lines
    own_lines: tuple[str, ...] | None = None
    removes: tuple[str, ...] = ()  # an earlier picking's adjustments (descriptions) taken off its lines
    removed_from: tuple[str, ...] = ()  # the lines they are on: its line, that picking's split unit line
    emptied: tuple[
        str, ...
    ] = ()  # that adjustment's split unit lines, set to 0 with it (`_stale_adjustments`)
    below: int | None = None  # the ERP's units, above what a person left the line: its discount alone off
    # picked again: the line emptied by the app's own earlier cut, left empty (`below`, `_picked_again`)
    emptied_before: bool = False
    words: Said | None = None  # the reason in the merchant's words (ledger.words.said), while it says it

    @property
    def sends(self) -> bool:
        """Whether this change is applied to Shopify (a quantity or a discount)."""
        return self.adjusted or self.shopify_quantity is not None or self.takes_discount or bool(self.removes)

    @property
    def takes_discount(self) -> bool:
        """Whether a line discount is staged for it: a split (its kept units may take none, the unit
        alone the rest), else a positive amount per unit (Shopify takes no discount of zero)."""
        return self.splits or (self.discount_per_unit is not None and self.discount_per_unit > 0)

    @property
    def splits(self) -> bool:
        return self.split_discount is not None

    @property
    def adds_weighed(self) -> bool:
        """A weighed substitute: whole kilograms added, the difference off one unit of them."""
        return self.charge_total is not None


def plan_changes(
    event: OrderEvent,
    lines: Sequence[ShopifyLine],
    variant_of: Mapping[str, str],
    carried: Mapping[str, Sequence[str]] | None = None,
    tried: Collection[str] = (),
    generation: int = 0,
    recorded: Collection[int] = (),
    ours: Collection[str] = (),
    left: Mapping[int, Decimal | None] | None = None,
) -> list[LineChange]:
    """Pure: the picking differences of an 'S' event against the Shopify order's lines.

    `variant_of` maps ERP idSku -> ProductVariant gid (the "variant" bindings); `carried` the
    manual discount descriptions each Shopify line already carries (what a replay finds);
    `tried` the change keys an earlier attempt of this event (or another event of the same
    picking, jobs.order_edits.repeats) recorded before its commit; `generation` the ERP the event
    came from (its change keys are "event:<seq>:item:<seqItem>", "event:<seq>:erp<n>:item:..."
    of the n-th ERP the connection moved to); `recorded` the ERP lines (seqItems) another event of
    the same picking recorded a change of (`own_lines`: their lines may show it already); `ours` the
    carried descriptions the app's own ledger says an earlier picking of the order put on
    (`_stale_adjustments`: taken off when this picking plans none for the line); `left` what the
    app's own earlier picking left each ERP line it cut with (repeats.left_by_picking: `_picked_again`).
    Raises MappingMissing("variant", idSku) for a substitute whose SKU is not in Shopify.
    """
    substitutes = {line.replaces_seq_item: line for line in event.lines if line.is_substitute}
    # The import sent a variant's Shopify lines in order, one ERP line each: the nth ERP line of a
    # SKU is its nth Shopify line (a weighed line's split, a weighed substitute, go on lines of
    # their own after the order's), the lines a merchant removed before the ERP had them left out.
    touched = set(recorded) | {item for key in tried if (item := repeats.item_of(key)) is not None}
    own_line, nth_of = own_lines(event, lines, variant_of, touched)
    shared_skus = {line.id_sku for line in event.lines if nth_of.get(line.seq_item, 0) > 0}  # on 2+ ERP lines
    # A substitute of a SKU the order already has lands on that SKU's first Shopify line (the
    # receiving line): it is set to its own ERP line's served units plus the substitutes' (not
    # the substitutes' units alone, which took away the customer's own units of it). Targets are
    # per Shopify line, not per SKU: on a SKU split over two lines ("leve 3 pague 2", 2 + 3) the
    # second keeps its own served units, so the order holds what the ERP served, not that twice.
    # Two substitutes by a SKU the order lacks add it once, with their units together.
    shared = {line.id_sku for line in event.lines if line.is_substitute and not line.weighed}
    together: dict[str | None, int] = {}
    receiving: dict[str | None, int] = {}  # SKU -> seq_item of the ERP line of its receiving line
    for sku in shared:
        same = [line for line in event.lines if line.id_sku == sku and line.qty_served is not None]
        if len(same) > 1:
            first = next((line.seq_item for line in same if nth_of.get(line.seq_item) == 0), None)
            takes = [line for line in same if line.is_substitute or line.seq_item == first]
            together[sku] = sum(_units(line.qty_served) for line in takes)
            if first is not None:
                receiving[sku] = first
    carried_all = {d for descriptions in (carried or {}).values() for d in descriptions}
    changes: list[LineChange] = []
    for line in event.lines:
        if line.qty_served is None:
            continue
        key = repeats.change_key(event.seq_evento, line.seq_item, generation)
        original = next((o for o in event.lines if o.seq_item == line.replaces_seq_item), None)
        if (
            line.is_substitute
            and original is not None
            and not original.weighed
            and own_line.get(original.seq_item) is None
            and line.id_sku not in receiving
        ):
            # The substitute of an ERP line the Shopify order has no line of (typed in the ERP and
            # linked by a person): adding it would charge the customer a product they never ordered.
            base = {"sku": line.id_sku, "qty_before": line.qty_ordered, "qty_after": line.qty_served,
                    "line_item_id": None, "variant_id": variant_of.get(line.id_sku or "")}  # fmt: skip
            changes.append(_not_on_order(key, line, base, "substitution"))
            continue
        if line.is_substitute:
            change = _substitute(key, line, event, variant_of, carried_all)
            if line.id_sku in together:
                charged = sum((_charged(o) for o in event.lines if o.is_substitute and o.id_sku == line.id_sku
                               and o.qty_served), Decimal("0"))  # fmt: skip
                change = replace(change, shopify_quantity=together[line.id_sku], substitute_charge=charged)
            if line.id_sku in receiving:  # a set of that one line (jobs.stock_reread counts it once)
                own = own_line.get(receiving[line.id_sku])
                first = next(o for o in event.lines if o.seq_item == receiving[line.id_sku])
                change = replace(change, line_item_id=own.id if own else None,
                                 keeps=_units(first.qty_served))  # fmt: skip
            changes.append(change)
            continue
        shopify_line = own_line.get(line.seq_item)
        receives = receiving.get(line.id_sku) == line.seq_item
        target = together[line.id_sku] if receives else _units(line.qty_served)
        line_id = shopify_line.id if shopify_line else None
        variant = shopify_line.variant_id if shopify_line else variant_of.get(line.id_sku or "")
        base = {"sku": line.id_sku, "qty_before": line.qty_ordered, "qty_after": line.qty_served,
                "line_item_id": line_id, "variant_id": variant}  # fmt: skip
        replaced_by = substitutes.get(line.seq_item)
        if shopify_line is None and not receives and not line.weighed and line.qty_served != line.qty_ordered:
            # An ERP line the Shopify order has no line of (an ERP order typed by hand and linked by
            # a person, its lines not the order's): a target set here would add that product to the
            # customer's order, charged. Recorded and named; nothing changed in Shopify.
            changes.append(_not_on_order(key, line, base, "substitution" if replaced_by else "cut"))
            continue
        if replaced_by is not None:
            reason = said(
                f"replaced at picking by {replaced_by.id_sku} (ERP line {replaced_by.seq_item})",
                ("line_replaced", {"sku": replaced_by.id_sku, "item": replaced_by.seq_item}),
            )
            changes.append(LineChange(key, "substitution", shopify_quantity=target, never_raises=not receives,
                                      substitute_sku=replaced_by.id_sku, **reason, **base,
                                      keeps=_units(line.qty_served) if receives else None))  # fmt: skip
        elif line.weighed and line.qty_served > 0:
            if line.qty_served != line.qty_ordered:
                shared = line.id_sku in shared_skus
                owned = {s.id for s in own_line.values() if s is not None}
                changes.append(_weight(key, line, lines, shopify_line, carried or {}, base, shared, owned))
        elif _in_part(line) and shopify_line is not None and not receives:
            changes.append(_part_served(key, line, lines, shopify_line, carried or {}, base))
        elif line.qty_served < line.qty_ordered:
            reason = said(
                f"cut at picking: {line.qty_served} of {line.qty_ordered} served",
                ("line_cut", {"served": quantity(line.qty_served), "ordered": quantity(line.qty_ordered)}),
            )
            changes.append(LineChange(key, "cut", shopify_quantity=target, never_raises=not receives,
                                      keeps=_units(line.qty_served) if receives else None,
                                      **reason, **base))  # fmt: skip
        elif line.qty_served > line.qty_ordered:
            # As a weighed line picked heavier: the customer never asked for the extra units, so the
            # Shopify line keeps its quantity and the capture stays within what they see they owe
            # (jobs.invoice_capture.within_total); raised here, the extra was charged and captured.
            reason = said(
                f"more served than ordered: {line.qty_served} of {line.qty_ordered}: not charged above "
                "what was ordered, so the Shopify line keeps its quantity and the capture stays within "
                "the order's total",
                (
                    "line_more_served_kept",
                    {"served": quantity(line.qty_served), "ordered": quantity(line.qty_ordered)},
                ),
            )
            changes.append(LineChange(key, "qty", **reason, **base))
    changes = _with_split_units(changes, event, lines, own_line, carried or {}, shared_skus)
    changes = _stale_adjustments(changes, event, lines, own_line, carried or {}, set(ours), generation)
    others_lines = set(substitutes) | set(receiving.values())  # a substitute's lines are set as planned
    changes = _picked_again(changes, event, own_line, left or {}, generation, others_lines)
    if not any(change.change_key in tried for change in changes):
        return changes  # a first attempt: units of the variant already there are not this event's
    matched = {s.id for s in own_line.values() if s is not None}
    return _weighed_adds_found(changes, lines, matched, carried or {})


def _with_split_units(
    changes: list[LineChange],
    event: OrderEvent,
    lines: Sequence[ShopifyLine],
    own_line: Mapping[int, ShopifyLine | None],
    carried: Mapping[str, Sequence[str]],
    shared_skus: Collection[str | None],
) -> list[LineChange]:
    """A weighed line cut (to zero) after an earlier event split it (`_split`: one unit on a line
    of its own, the extra of its weight adjustment) is cut on all of its Shopify lines: its own
    line alone would leave the split's unit on the order, charged but neither delivered nor
    invoiced. The split's lines are the variant's lines no ERP line owns that carry an "Ajuste de
    peso" discount (a weighed substitute's carry its own, a person's addition none); on a SKU of
    several ERP lines, the ones carrying the adjustment its own line carries too. So is a weighed
    substitute an earlier event added (`_add_weighed`: units − 1 on a line, one on a line of its own)
    then cut to zero: all of the variant's lines no ERP line owns that carry no "Ajuste de peso" (as
    `_weighed_adds_found` counts them), not merely the variant's first line."""
    erp_line = {line.seq_item: line for line in event.lines}
    own = {s.id for s in own_line.values() if s is not None}
    found = []
    for change in changes:
        line = erp_line.get(repeats.item_of(change.change_key) or -1)
        if line is not None and line.is_substitute and line.weighed and change.shopify_quantity == 0:
            added = [s.id for s in lines if s.variant_id == change.variant_id and s.id not in own
                     and s.current_quantity > 0
                     and not any(d.startswith(WEIGHT_ADJUSTMENT) for d in carried.get(s.id, ()))]  # fmt: skip
            if change.line_item_id is None and added:
                change = replace(change, line_item_id=added[0], split_lines=tuple(added[1:]))
            found.append(change)
            continue
        shopify_line = own_line.get(line.seq_item) if line is not None else None
        cut = line is not None and line.weighed and change.kind == "cut" and change.shopify_quantity == 0
        if not cut or shopify_line is None or shopify_line.variant_id is None:
            found.append(change)
            continue
        mine = {d for d in carried.get(shopify_line.id, ()) if d.startswith(WEIGHT_ADJUSTMENT)}
        split = []
        for s in lines:
            if s.variant_id != shopify_line.variant_id or s.id in own or s.current_quantity <= 0:
                continue
            adjusted = {d for d in carried.get(s.id, ()) if d.startswith(WEIGHT_ADJUSTMENT)}
            if adjusted and (line.id_sku not in shared_skus or adjusted & mine):
                split.append(s.id)
        found.append(replace(change, split_lines=tuple(split)) if split else change)
    return found


def _stale_adjustments(
    changes: list[LineChange],
    event: OrderEvent,
    lines: Sequence[ShopifyLine],
    own_line: Mapping[int, ShopifyLine | None],
    carried: Mapping[str, Sequence[str]],
    ours: set[str],
    generation: int,
) -> list[LineChange]:
    """An ERP line picked again (a later 'S' event) otherwise than the picking that put an
    adjustment of the app's on its Shopify line ("Atendido em parte: 1,5 de 2" and now 2 of 2, or 1;
    "Ajuste de peso: 1,000 kg → 0,800 kg" and now 1 kg, or heavier): this picking plans no discount
    for it, so the old one is taken off (`removes`), on its line and on its split's unit line, or
    Shopify's total, and the capture, would stay below the NF-e. The units follow the picking as
    a cut's do: a line sold by the unit holds what was served (rounded up), the split's unit line
    emptied when there are more units than that; a weighed line keeps its units. Only descriptions
    of the app's own (`APP_ADJUSTMENTS` its ledger wrote for the order: `ours`): a person's discount
    stays, whatever it says. A line whose picking plans ANOTHER adjustment is left to
    `_refuse_other_weighing` (a person adjusts it), one replaced by a substitute or cut to zero with its
    weight split (`_with_split_units`) is set as planned.

    A picking never puts back units a person took off (jobs.order_edits.lowered): a line holding
    fewer units than the ERP's now and than the earlier picking left it with (a person lowered it
    since: 1,5 of 2 boxes, 2 in Shopify, the customer wants 1; the ERP picks 2 of 2 again) keeps its
    units, only the discount goes (each unit it holds is served whole now: Shopify charges them in
    full, what the ERP would invoice for them) and the line is named for a person (`below`: the ERP
    serves and invoices more). Fewer than the ERP's now but as many as the earlier picking left
    (0,5 of 2 boxes, 1 in Shopify, now 2 of 2) is the ERP's own picking raised again: set."""
    if not ours:
        return changes
    by_key = {change.change_key: change for change in changes}
    own = {s.id for s in own_line.values() if s is not None}
    found: dict[str, LineChange] = {}
    for line in event.lines:
        shopify_line = own_line.get(line.seq_item)
        if line.is_substitute or line.qty_served is None or shopify_line is None:
            continue
        mine = [d for d in carried.get(shopify_line.id, ()) if d.startswith(APP_ADJUSTMENTS) and d in ours]
        key = repeats.change_key(event.seq_evento, line.seq_item, generation)
        change = by_key.get(key)
        if not mine or (
            change is not None
            and (
                change.discount_description is not None
                or change.adjusted
                or change.kind == "substitution"
                or change.split_lines
            )
        ):
            continue  # fmt: skip
        split = [s for s in lines if s.variant_id == shopify_line.variant_id and s.id not in own
                 and s.current_quantity > 0 and set(carried.get(s.id, ())) & set(mine)]  # fmt: skip
        units = shopify_line.current_quantity + sum(s.current_quantity for s in split)
        target = change.shopify_quantity if change is not None else None
        emptied: tuple[str, ...] = ()
        below: int | None = None
        if line.weighed and target != 0:  # its units kept: fewer than ordered, a person lowered it
            ordered_units = _units(line.qty_ordered)
            below = ordered_units if units < ordered_units else None
        else:
            wanted = target if target is not None else _units(line.qty_served)
            earlier = _earlier_units(mine)
            if units < wanted and (earlier is None or units < earlier):
                below, target = wanted, None
            else:
                target = wanted - (units - shopify_line.current_quantity) if wanted >= units else wanted
                emptied = () if wanted >= units else tuple(s.id for s in split)
        raises = target is not None and target > shopify_line.current_quantity  # the ERP's own, picked again
        descriptions = tuple(dict.fromkeys(mine))
        if change is None:
            served, ordered = line.qty_served, line.qty_ordered
            kind = "weight" if line.weighed else "cut" if served < ordered else "qty"
            change = LineChange(
                key, kind, sku=line.id_sku, qty_before=ordered, qty_after=served,
                line_item_id=shopify_line.id, variant_id=shopify_line.variant_id,
                **said(f"Picked again: {served} of {ordered} served",
                       ("line_picked_again", {"served": quantity(served), "ordered": quantity(ordered)})),
            )  # fmt: skip
        named = "', '".join(descriptions)
        if below is None:
            off = (f"the discount '{named}' of an earlier picking taken off: Shopify charges the line as "
                   "picked now")  # fmt: skip
            taken: Words = ("line_adjustment_removed", {"description": named})
        else:
            off = (f"the discount '{named}' of an earlier picking taken off: Shopify charges in full the "
                   "units a person left on the line")  # fmt: skip
            taken = ("line_adjustment_removed_kept", {"description": named})
        reason = f"{change.reason}; {off}"
        parts = change.words[1] if change.words is not None and change.words[0] == change.reason else None
        words = (reason, (*parts, taken)) if parts else None
        found[key] = replace(change, removes=descriptions, emptied=emptied, shopify_quantity=target,
                             removed_from=(shopify_line.id, *(s.id for s in split)), reason=reason,
                             words=words, below=below, never_raises=not raises)  # fmt: skip
    kept = [found.pop(change.change_key, change) for change in changes]
    return kept + list(found.values())


def _picked_again(
    changes: list[LineChange],
    event: OrderEvent,
    own_line: Mapping[int, ShopifyLine | None],
    left: Mapping[int, Decimal | None],
    generation: int,
    skipped: Collection[int],
) -> list[LineChange]:
    """An ERP line sold by the unit picked again (a later 'S' event before the NF-e: the picker found
    the item after all) to MORE than an earlier picking of the app's cut its Shopify line to: 2 of 3
    served, the line set to 2; now 3 of 3 (a line served as ordered plans no change of its own), or
    2 of 3 after a cut to 1 (a cut never raises its line). Left so, Shopify keeps fewer units than
    the ERP serves and invoices: the NF-e above Shopify's total, goods given uncharged. So the line
    is set to what the ERP serves now, the units the app's own cut took off put back ("Picked again:
    3 of 3 served").

    Never units a person took off (jobs.order_edits.lowered): `left` says what the app's own last
    picking of the line left on it (repeats.left_by_picking; as placed when its cut was held back),
    and a line holding fewer than that was lowered by a person since: it keeps its units, named for
    a person (`below`), as `_stale_adjustments` keeps one (a person's edit sets the units the
    customer wants, not units fewer). A line the app's cut emptied (0 units) is not set again
    (`emptied_before`): Shopify keeps an emptied line, and no unit goes back on it (the sandbox refuses
    it as an edit of a line with no editable units): named for a person too. A line the ERP picks
    otherwise than as a cut now (a part of a box, a weighing, a substitute) is its own change's, and a
    line holding as many units as the ERP serves, or more (a person's addition), is left as it is; at
    the ERP's units already (a retry after the commit's answer was lost), it is recorded as set."""
    if not left:
        return changes
    by_key = {change.change_key: change for change in changes}
    found: dict[str, LineChange] = {}
    for line in event.lines:
        shopify_line = own_line.get(line.seq_item)
        if (
            line.seq_item not in left
            or line.seq_item in skipped
            or line.is_substitute
            or line.weighed
            or line.qty_served is None
            or line.qty_served > line.qty_ordered
            or _in_part(line)
            or shopify_line is None
        ):
            continue  # fmt: skip
        key = repeats.change_key(event.seq_evento, line.seq_item, generation)
        change = by_key.get(key)
        if change is not None and not (
            change.kind == "cut" and change.never_raises and not change.removes and change.below is None
        ):
            continue
        served, ordered = line.qty_served, line.qty_ordered
        target, now = _units(served), shopify_line.current_quantity
        earlier = left[line.seq_item]
        before = _units(earlier if earlier is not None else ordered)  # what the app's picking left on it
        if now > target or (change is not None and (now == target or now < before)):
            continue  # a person's addition; a cut at its units already, or below them (`lowered`)
        if change is None:
            if now == target and before >= target:
                continue  # nothing of the app's to put back
            change = LineChange(
                key, "qty", sku=line.id_sku, qty_before=ordered, qty_after=served,
                line_item_id=shopify_line.id, variant_id=shopify_line.variant_id,
                **said(f"Picked again: {served} of {ordered} served",
                       ("line_picked_again", {"served": quantity(served), "ordered": quantity(ordered)})),
            )  # fmt: skip
        if now < target and (now < before or now == 0):  # a person lowered it since; the app emptied it
            found[key] = replace(change, shopify_quantity=None, below=target, removed_from=(shopify_line.id,),
                                 emptied_before=now >= before, never_raises=False)  # fmt: skip
        else:  # the app's own cut put back (or in Shopify already: a retry after its answer was lost)
            found[key] = replace(change, shopify_quantity=target, never_raises=False)
    kept = [found.pop(change.change_key, change) for change in changes]
    return kept + list(found.values())


def _earlier_units(descriptions: Sequence[str]) -> int | None:
    """The units an earlier picking left a line served in part with, as its adjustment says
    ("Atendido em parte: 1,5 de 2": 2); None when none of them says (a weighing keeps its units)."""
    found = []
    for description in descriptions:
        if description.startswith(f"{PART_SERVED}: "):
            served = description[len(PART_SERVED) + 2 :].split(" de ")[0].replace(",", ".")
            try:
                found.append(_units(Decimal(served)))
            except InvalidOperation:
                continue
    return max(found) if found else None


def _weighed_adds_found(
    changes: list[LineChange],
    lines: Sequence[ShopifyLine],
    own: Collection[str],
    carried: Mapping[str, Sequence[str]],
) -> list[LineChange]:
    """Mark the weighed substitutes Shopify already holds (`adjusted`): one of whole kilograms
    needed no discount, so no description tells a replay it is in (an edit whose commit answer
    was lost). Counted on Shopify's lines of the variant: not its own lines (`own`: the ones
    `own_lines` gave the ERP lines of the SKU that are not substitutes) and not a weight split's
    unit (it carries an "Ajuste de peso" discount), the units are substitutes'; when they reach
    what this event's substitutes of the variant add, the edit that added them committed (all or
    nothing). Only on a retry of the event (`plan_changes`' `tried`): on a first attempt, units
    of the variant past its own lines are a person's additions, and the substitute is still to be
    added."""
    wanted: dict[str, int] = {}
    for change in changes:
        if change.adds_weighed and change.variant_id:
            wanted[change.variant_id] = wanted.get(change.variant_id, 0) + (change.shopify_quantity or 0)
    found = set()
    for variant, units in wanted.items():
        added = [s for s in lines if s.variant_id == variant and s.id not in own]
        weighed_split = [
            s for s in added if any(d.startswith(WEIGHT_ADJUSTMENT) for d in carried.get(s.id, ()))
        ]
        if sum(s.current_quantity for s in added if s not in weighed_split) >= units > 0:
            found.add(variant)
    return [replace(c, adjusted=True) if c.adds_weighed and c.variant_id in found else c for c in changes]


def own_lines(
    event: OrderEvent, lines: Sequence[ShopifyLine], variant_of: Mapping[str, str], touched: Collection[int]
) -> tuple[dict[int, ShopifyLine | None], dict[int, int]]:
    """Pure: the Shopify line of each ERP line that is not a substitute, and its place among its
    SKU's ERP lines ({seqItem: line}, {seqItem: n}).

    The import (jobs.order_map.goods_lines) and an edit before picking (jobs.order_edits.to_erp)
    send the ERP a variant's lines in Shopify's order, leaving out the lines at 0 units: a line a
    merchant removed before the ERP had the order is on no ERP line. So the ERP lines of a SKU
    take the variant's lines in order, passing a line at 0 units, unless the ERP line at hand was
    recorded already (`touched`: this event's change keys tried, another event's of the same
    picking): the app's own cut may have emptied it, and a replay must find it there, not the
    next line. Only as many as the variant has lines beyond the SKU's ERP lines are passed: with
    as many of each, every line was the ERP's, and one at 0 units is a line a person removed after
    the ERP had it (a "leve 3 pague 2" on two lines, the first removed after picking): its ERP line
    meets it (its cut held back, named for a person: jobs.order_edits.lowered), not the next line,
    whose units the ERP serves. Lines added after picking (a weight split's unit, a weighed substitute, a
    person's addition) come after the order's own. An ERP line with no line left in that order
    takes the nth of all the variant's lines, else its first (as before); no variant: by SKU."""
    found: dict[int, ShopifyLine | None] = {}
    nth_of: dict[int, int] = {}
    by_sku: dict[str | None, list[Any]] = {}
    for line in sorted(event.lines, key=lambda line: line.seq_item):
        if not line.is_substitute:
            by_sku.setdefault(line.id_sku, []).append(line)
    for sku, erp_lines in by_sku.items():
        variant = variant_of.get(sku or "")
        same = [s for s in lines if variant and s.variant_id == variant]
        at, passable = 0, len(same) - len(erp_lines)  # the lines the ERP cannot have had: at most these
        for nth, line in enumerate(erp_lines):
            nth_of[line.seq_item] = nth
            if not same:
                found[line.seq_item] = next((s for s in lines if sku and s.sku == sku), None)
                continue
            while (
                passable > 0
                and at < len(same)
                and same[at].current_quantity <= 0
                and line.seq_item not in touched
            ):
                at, passable = at + 1, passable - 1
            if at < len(same):
                found[line.seq_item], at = same[at], at + 1
            else:
                found[line.seq_item] = same[nth] if nth < len(same) else same[0]
    return found, nth_of


def _substitute(
    key: str, line: Any, event: OrderEvent, variant_of: Mapping[str, str], carried_all: set[str]
) -> LineChange:
    variant = variant_of.get(line.id_sku or "")
    if variant is None:
        raise MappingMissing(
            "variant",
            line.id_sku or str(line.seq_produto),
            f"substitute {line.id_sku} of ERP order {event.nro_pedvenda} is not in Shopify (no variant "
            "binding): publish the SKU, then the edit resumes",
            words=("picking_substitute_unbound", {"sku": line.id_sku, "nro": event.nro_pedvenda}),
        )
    change = LineChange(
        key,
        "substitution",
        sku=line.id_sku,
        qty_before=Decimal("0"),
        qty_after=line.qty_served,
        **said(
            f"substitute for ERP line {line.replaces_seq_item}",
            ("line_substitute", {"item": line.replaces_seq_item}),
        ),
        variant_id=variant,
        shopify_quantity=_units(line.qty_served),
        substitute_sku=line.id_sku,
    )
    if not line.weighed:  # added at Shopify's price for it, taken down to the ERP's (`_add_substitute`)
        return replace(change, substitute_charge=_charged(line)) if line.qty_served > 0 else change
    if line.qty_served <= 0:
        return change
    # Shopify sells a weighed SKU in whole kilograms: the kilograms rounded up, and what the ERP
    # charges less than them off one unit (measured against Shopify's price when it is added).
    units = int(line.qty_served.to_integral_value(rounding=ROUND_CEILING))
    charged = _charged(line)
    description = f"{WEIGHED_SUBSTITUTE}: {_kg(line.qty_served)} kg (item {line.seq_item})"
    reason = said(
        f"substitute for ERP line {line.replaces_seq_item}, weighed {line.qty_served} kg",
        ("line_substitute_weighed", {"item": line.replaces_seq_item, "kg": quantity(line.qty_served)}),
    )
    return replace(change, shopify_quantity=units, charge_total=charged.quantize(CENT), **reason,
                   discount_description=description, adjusted=description in carried_all)  # fmt: skip


def _charged(line: Any) -> Decimal:
    """What the ERP charges for a line's served units (its served total, else `line_total`)."""
    charged = line.total_served if line.total_served is not None else line_total(line, line.qty_served)
    return charged.quantize(CENT)


def line_total(line: Any, quantity: Decimal | int) -> Decimal:
    """What the ERP charges for `quantity` of a line whose event gives no line totals: quantity x
    price, less the line's discount pro rata (the ERP takes it off so: docs/consinco-api.md). Without
    the discount, a weighed line picked lighter was adjusted by more than the ERP charges less, and
    Shopify's total fell below the NF-e: the capture (never above it) left the difference uncharged."""
    discount = getattr(line, "discount", None) or Decimal(0)
    share = discount * Decimal(quantity) / line.qty_ordered if line.qty_ordered else Decimal(0)
    return (Decimal(quantity) * line.unit_price - share).quantize(CENT)


def _not_on_order(key: str, line: Any, base: dict[str, Any], kind: str) -> LineChange:
    """A picking change of an ERP line no Shopify line is of: recorded, never applied."""
    served, ordered = quantity(line.qty_served), quantity(line.qty_ordered)
    reason = said(
        f"ERP item {line.seq_item} ({line.id_sku}) is on no line of the Shopify order: served "
        f"{line.qty_served} of {line.qty_ordered}, not changed in Shopify",
        (
            "line_not_on_order",
            {"item": line.seq_item, "sku": line.id_sku, "served": served, "ordered": ordered},
        ),
    )
    return LineChange(key, kind, **reason, **{**base, "line_item_id": None})


def _weight(
    key: str,
    line: Any,
    lines: Sequence[ShopifyLine],
    shopify_line: ShopifyLine | None,
    carried: Mapping[str, Sequence[str]],
    base: dict[str, Any],
    shared: bool = False,
    owned: Collection[str] = (),
) -> LineChange:
    """A weighed line picked at another weight: a discount when lighter (split when the units do
    not divide it), a record when heavier. `shared`: the SKU is on other ERP lines of the order
    too, each on a Shopify line of its own: this line's units and discount are its own line's
    (else the variant's units are counted over all of its lines, so a replay after a split
    plans the same adjustment), and so are the adjustments it finds (`_own_and_split`: another
    line's "Ajuste de peso" is no replay of this one, nor a weighing of it before)."""
    ordered, served = line.qty_ordered, line.qty_served
    weighed = f"weighed {served} kg instead of {ordered} kg"
    kg = {"served": quantity(served), "ordered": quantity(ordered)}
    if served > ordered:
        reason = (f"{weighed} (heavier): not charged above what was authorised, so the Shopify line keeps "
                  "its price and the capture stays within the authorisation")  # fmt: skip
        return LineChange(key, "weight", **said(reason, ("line_weight_heavier", kg)), **base)
    difference = weight_difference(line)
    if difference <= 0:  # a gram light on a cheap item: both line totals round to the same cents
        reason = (f"{weighed}: the ERP charges the same (its line totals differ by {difference}), so the "
                  "Shopify line keeps its price")  # fmt: skip
        same_charge = ("line_weight_same_charge", {**kg, "difference": difference})
        return LineChange(key, "weight", **said(reason, same_charge), **base)
    same = _variant_lines(lines, shopify_line)
    units = sum(s.current_quantity for s in same)
    if shared:
        units = shopify_line.current_quantity if shopify_line else 0
    if shopify_line is None or units <= 0:
        reason = f"{weighed}: no Shopify line to adjust, the capture follows the NF-e total"
        return LineChange(key, "weight", **said(reason, ("line_weight_no_line", kg)), **base)
    description = f"{WEIGHT_ADJUSTMENT}: {_kg(ordered)} kg → {_kg(served)} kg"
    mine = _own_and_split(shopify_line, same, carried, owned) if shared else same
    adjusted = any(description in carried.get(s.id, ()) for s in mine)
    ordered_units = _units(ordered)
    if not adjusted and units < ordered_units:
        # A person lowered the line before the picking reached Shopify (their edit, counted against
        # what the ERP served, is flagged by jobs.order_edits.to_erp): the units left are worth their
        # share of the ordered total, and only what that is above the ERP's charge comes off.
        held = (_ordered_total(line) * units / ordered_units).quantize(CENT)
        difference = held - _charged(line)
        if difference <= 0:
            reason = (f"{weighed}; {units} of its {ordered_units} units left in Shopify (lowered there), "
                      "charged no more than the ERP's weighing: the line keeps its price")  # fmt: skip
            lowered_words = ("line_weight_lowered", {**kg, "units": units, "ordered_units": ordered_units})
            return LineChange(key, "weight", **said(reason, lowered_words), **base)
    money = {"discount_description": description, "discount_total": difference, "weighed_units": units,
             "adjusted": adjusted, "own_lines": tuple(s.id for s in mine) if shared else None}  # fmt: skip
    if units > 1 and (difference / CENT) % units:
        price = _unit_price(shopify_line)
        shares = (
            split_shares(difference, units, Decimal("0"), price, price)
            if len(same) == 1 or adjusted or shared
            else None
        )
        if shares is not None:
            per_unit, alone = shares
            reason = (f"{weighed}: line discount {difference} '{description}'; Shopify discounts per unit "
                      f"and {units} units do not divide it, so one unit goes on a line of its own: "
                      f"{per_unit} per unit x {units - 1} + {alone} on 1 = {difference}")  # fmt: skip
            split = {**kg, "difference": difference, "description": description, "units": units,
                     "per_unit": per_unit, "kept": units - 1, "alone": alone}  # fmt: skip
            return LineChange(key, "weight", **said(reason, ("line_weight_split", split)),
                              shopify_quantity=units - 1, discount_per_unit=per_unit, split_discount=alone,
                              **money, **base)  # fmt: skip
    if len(same) > 1 and not adjusted:
        units = shopify_line.current_quantity  # the variant on several lines of its own: adjust the first
        money["weighed_units"] = units
    per_unit = (difference / units).quantize(CENT, rounding=ROUND_CEILING)
    reason = f"{weighed}: line discount {difference} ({per_unit} per unit x {units}) '{description}'"
    parts: list[Words] = [("line_weight_discount", {**kg, "difference": difference, "per_unit": per_unit,
                                                   "units": units, "description": description})]  # fmt: skip
    residual = per_unit * units - difference
    if residual:
        reason += (f"; Shopify discounts per unit, so its line is {residual} below the NF-e line, "
                   "and the capture follows the NF-e total")  # fmt: skip
        parts.append(("line_weight_residual", {"residual": residual}))
    return LineChange(key, "weight", **said(reason, *parts), discount_per_unit=per_unit, **money, **base)


def _in_part(line: Any) -> bool:
    """A line sold by the unit served in part of one (1,5 of 2 boxes)."""
    served = line.qty_served
    return not line.weighed and served is not None and served != served.to_integral_value()


def _part_served(
    key: str,
    line: Any,
    lines: Sequence[ShopifyLine],
    shopify_line: ShopifyLine,
    carried: Mapping[str, Sequence[str]],
    base: dict[str, Any],
) -> LineChange:
    """A line served in part of a unit (1,5 of 2 boxes): Shopify sells whole units, so its line
    keeps the units rounded up (`_units`) and a fixed discount ("Atendido em parte: 1,5 de 2") takes
    off what the ERP charges less than for them, as a lighter weighed line (`_weight`: one unit on a
    line of its own when the units do not divide it), so Shopify's total is the NF-e's. Dropped to
    the units rounded down, Shopify would fall below the NF-e by the part served, and the echo of
    that edit would read as the merchant's (jobs.order_edits.to_erp `picked` counts the same units)."""
    ordered, served = line.qty_ordered, line.qty_served
    units = _units(served)
    cut = served < ordered  # a cut never raises its line (jobs.order_edits.lowered), as a whole one
    kind = "cut" if cut else "qty"
    difference = part_difference(line, units)
    description = f"{PART_SERVED}: {_number(served)} de {_number(ordered)}"
    said_units = {"served": quantity(served), "ordered": quantity(ordered), "units": units,
                  "difference": difference, "description": description}  # fmt: skip
    head = (f"served in part at picking: {served} of {ordered} served, so {units} units in Shopify with line "
            f"discount {difference}")  # fmt: skip
    same = _variant_lines(lines, shopify_line)
    money = {"discount_description": description, "discount_total": difference, "weighed_units": units,
             "adjusted": any(description in carried.get(s.id, ()) for s in same)}  # fmt: skip
    if difference <= 0:  # a part worth less than a cent: the units rounded up, nothing off
        reason = said(f"cut at picking: {served} of {ordered} served",
                      ("line_cut", {"served": quantity(served), "ordered": quantity(ordered)}))  # fmt: skip
        return LineChange(key, kind, shopify_quantity=units, never_raises=cut, **reason, **base)
    if units > 1 and (difference / CENT) % units and len(same) <= 1:
        price = _unit_price(shopify_line)
        shares = split_shares(difference, units, Decimal("0"), price, price)
        if shares is not None:
            per_unit, alone = shares
            reason = (f"{head} '{description}'; Shopify discounts per unit and {units} units do not divide "
                      f"it, so one unit goes on a line of its own: {per_unit} per unit x {units - 1} + "
                      f"{alone} on 1 = {difference}")  # fmt: skip
            split = {**said_units, "per_unit": per_unit, "kept": units - 1, "alone": alone}
            return LineChange(key, kind, **said(reason, ("line_part_split", split)),
                              shopify_quantity=units - 1, discount_per_unit=per_unit, split_discount=alone,
                              never_raises=cut, **money, **base)  # fmt: skip
    per_unit = (difference / units).quantize(CENT, rounding=ROUND_CEILING)
    reason = f"{head} ({per_unit} per unit x {units}) '{description}'"
    parts: list[Words] = [("line_part_served", {**said_units, "per_unit": per_unit})]
    residual = per_unit * units - difference
    if residual:
        reason += (f"; Shopify discounts per unit, so its line is {residual} below the NF-e line, "
                   "and the capture follows the NF-e total")  # fmt: skip
        parts.append(("line_weight_residual", {"residual": residual}))
    return LineChange(key, kind, **said(reason, *parts), shopify_quantity=units, discount_per_unit=per_unit,
                      never_raises=cut, **money, **base)  # fmt: skip


def part_difference(line: Any, units: int) -> Decimal:
    """What the ERP charges less for a line served in part of a unit than for `units` (its served
    quantity rounded up, what Shopify's line holds): the ordered line total's share of those units
    minus the served total (its rounding, its pro-rata discount), else the same from `line_total`."""
    if line.total_ordered is not None and line.total_served is not None and line.qty_ordered:
        return (line.total_ordered * units / line.qty_ordered - line.total_served).quantize(CENT)
    return line_total(line, units) - line_total(line, line.qty_served)


def split_shares(
    difference: Decimal, units: int, shift: Decimal, kept_price: Decimal, alone_price: Decimal
) -> tuple[Decimal, Decimal] | None:
    """Pure: (discount per unit on the units − 1 kept, discount on the unit alone) that take
    exactly `difference + shift` off; `shift` is what moving the unit to its own line changed
    Shopify's subtotal by (0 when the variant's price is the line's and the line carries no other
    discount). Evenly: floor(difference / units) per unit, the rest on the unit alone. None when
    no pair within the prices does it."""
    kept, total = units - 1, int((difference + shift) / CENT)
    if kept < 1 or total <= 0:
        return None
    kept_cents, alone_cents = int(kept_price / CENT), int(alone_price / CENT)
    per_unit = min(int(difference / CENT) // units, total // kept)
    per_unit = max(per_unit, -(-(total - alone_cents) // kept))  # the unit alone takes at most its price
    per_unit = min(per_unit, kept_cents)  # and so does each unit kept
    alone = total - kept * per_unit
    if not (per_unit >= 0 and 0 <= alone <= alone_cents):
        return None
    return per_unit * CENT, alone * CENT


def _unit_price(line: ShopifyLine) -> Decimal:
    money = line.discounted_unit_price or line.original_unit_price
    return money.amount if money else Decimal("0")


def _variant_lines(lines: Sequence[ShopifyLine], shopify_line: ShopifyLine | None) -> list[ShopifyLine]:
    """The Shopify lines of the same variant still holding units (a split leaves two)."""
    if shopify_line is None:
        return []
    if shopify_line.variant_id is None:
        return [shopify_line] if shopify_line.current_quantity > 0 else []
    return [s for s in lines if s.variant_id == shopify_line.variant_id and s.current_quantity > 0]


def _ordered_total(line: Any) -> Decimal:
    """The ERP line's ordered total (its rounding, its discount), else `line_total`."""
    if line.total_ordered is not None:
        return Decimal(line.total_ordered)
    return line_total(line, line.qty_ordered)


def weight_difference(line: Any) -> Decimal:
    """What the ERP charges less for a lighter pick: its ordered minus its served line total
    (its rounding, its pro-rata discount), else the same from `line_total`."""
    if line.total_ordered is not None and line.total_served is not None:
        return (line.total_ordered - line.total_served).quantize(CENT)
    return line_total(line, line.qty_ordered) - line_total(line, line.qty_served)


def _kg(quantity: Decimal) -> str:
    """Kilograms the Brazilian way: 0,985."""
    return f"{quantity:.3f}".replace(".", ",")


def _number(quantity: Decimal) -> str:
    """A quantity the Brazilian way, no trailing zeros: 1,5; 2."""
    return format(quantity.normalize(), "f").replace(".", ",")


def _units(quantity: Decimal) -> int:
    """The Shopify units of an ERP quantity sold by the unit: a part of a unit served (1,5 boxes)
    counts as a whole one, its price off by a discount (`_part_served`, a substitute's down to the
    ERP's charge: `_add_substitute`), never dropped (Shopify would fall below the NF-e)."""
    return int(quantity.to_integral_value(rounding=ROUND_CEILING))


# ---------------------------------------------------------------------------- jobs


def run(shop_id: int) -> None:
    """'Run now' from the dashboard: enqueue the EventoPedido poller."""
    order_events.poll_now(shop_id)


def apply_event(shop_id: int, seq_evento: int, generation: int = 0) -> str:
    """The job the poller enqueues for an 'S' event (of the shop's `generation`-th ERP); the
    message's final status."""
    return order_events.apply_by_seq(shop_id, seq_evento, FLOW, replay, generation)


def replay(message_id: int) -> str:
    """Redo one 'S' event, re-reading the Shopify order (retry, replay, resume)."""
    return order_events.execute(message_id, _apply)


def edit_from_event(unit: order_events.EventUnit, *, only_new: bool = False) -> dict[str, Any]:
    """Apply the picking differences an event's lines carry (an 'F' event "faturado com
    alteração"): the same edit, recorded under that event. `only_new` (an 'S' event of the order
    was applied): the changes another event applied alike are left out, not recorded again under
    this one; what the NF-e changed since (a line cut or weighed again at the checkout) is applied."""
    return _apply(unit, only_new=only_new)


def _apply(unit: order_events.EventUnit, *, only_new: bool = False) -> dict[str, Any]:
    event = unit.event
    with session_scope() as session:
        order_events.wait_for_earlier(session, unit.shop_id, event, must_apply=(), generation=unit.generation)
        if event.kind == "S" and (
            (later := order_events.later_done(session, unit.shop_id, event, unit.generation, kinds=("S",)))
            or (
                (later := order_events.later_done(session, unit.shop_id, event, unit.generation))
                and not _applied_before(session, unit.link_id, event, unit.generation)
            )
        ):
            # A picking states the whole order (quantities, weights): one the ERP reported after this
            # one, or its invoice, was applied already. This older one, taken late (committed after
            # the read overlap: the late sweep) or retried by a person, would undo it: the customer
            # paid for 1 box, received and was invoiced for 3. Also a replay of this one applied
            # before, once a later picking was: it sends its own quantities again, over the later's
            # (only its invoice after it leaves it alone: the replay re-reads Shopify, sends nothing).
            raise order_events.Skipped(
                f"picking event #{event.seq_evento} was superseded by event #{later} of ERP order "
                f"{event.nro_pedvenda}, applied already: nothing applied",
                words=(
                    "picking_superseded",
                    {"seq": event.seq_evento, "later": later, "nro": event.nro_pedvenda},
                ),
            )
        skus = [line.id_sku for line in event.lines if line.id_sku]
        found = bindings.get_many(session, unit.shop_id, "variant", skus)
        variant_of = {k: b.shopify_id for k, b in found.items() if b.shopify_id}
        try:
            location = mappings.location_for_company(session, unit.shop_id, event.nro_empresa)
        except MappingMissing:
            location = None  # Shopify assigns the added line to the order's location
    client = for_shop(unit.shop_domain)
    order = client.order(unit.order_id)
    if order is None:  # deleted in Shopify, or too old for the app to read: edited by hand then
        raise old_orders.unreadable(
            unit.shop_id, unit.order_id,
            f"Apply the ERP's picking changes of event #{event.seq_evento} to the order (items cut, "
            "replaced or weighed)",
            ("too_old_todo_picking", {"seq": event.seq_evento}),
        )  # fmt: skip
    if order.cancelled_at:
        raise order_events.Skipped(
            f"Shopify order {order.name} is cancelled: picking changes not applied",
            words=("picking_order_cancelled", {"name": order.name}),
        )
    # The same picking reported by another event (an 'S' sent twice, the tracking's 'F' copy of an
    # altered invoice): a weighed substitute it added is not added again (jobs.order_edits.repeats).
    others = repeats.recorded(unit.link_id, event, unit.generation)
    carried = _carried(client, unit.order_id, event, again=bool(others))
    ours = _app_made(unit.link_id, carried)  # an earlier picking's adjustments (`_stale_adjustments`)
    seen = repeats.weighed_substitutes(event, others)
    # rows this event recorded before the change keys named the ERP generation count as its own
    legacy = repeats.legacy(unit.link_id, event.seq_evento, unit.generation)
    tried = (
        _tried(unit.link_id, event, unit.generation)
        | set(legacy)
        | repeats.tried_keys(event, seen, unit.generation)
    )
    recorded = {row.seq_item for row in others}
    left = repeats.left_by_picking(others)  # what the app's own earlier cuts left (`_picked_again`)
    changes = plan_changes(
        event, order.lines, variant_of, carried, tried, unit.generation, recorded, ours.descriptions(), left
    )
    # ...nor is any change the last event of its ERP line applied alike (the same picking under a
    # re-issued NF-e's key, an 'S' sent twice) and Shopify still shows: sent again, it would undo a
    # person's refund since; a line holding more units than the ERP served is set to its target.
    alike = repeats.applied_alike(changes, others, order.lines)
    marked = [_added_before(change, seen, alike) for change in changes]
    if only_new:  # in Shopify already (the 'S' event's doing): its row's, not recorded again here
        marked = [m for m in marked if not m.adjusted or m.change_key in tried]
    changes = marked
    if not changes:
        _separated(unit.link_id, event.situacao)
        raise order_events.Skipped(
            "picking changed nothing on this order", words=("picking_nothing_changed", {})
        )
    applied_before = _record(unit.link_id, changes, applied=False, legacy=legacy)
    _refuse_other_weighing(changes, order.lines, carried)
    pending = [change for change in changes if not change.adjusted]
    # A weighed substitute is added on lines of its own, so a replay knows it by its discount's
    # description or its units on lines of their own in Shopify (`adjusted`), or its ledger row.
    weighed_adds = [c for c in pending if c.adds_weighed and c.change_key not in applied_before]
    pending = [change for change in pending if not change.adds_weighed]
    # A cut never puts back units a person took off in Shopify before it got there
    # (jobs.order_edits.lowered): held back before anything is planned for its line, its discount and
    # split (a part of a box served) included.
    pending, lowered_lines = lowered.hold_back(pending, order.lines)
    # Shopify edits only unfulfilled units: what it would refuse is left out, named per ERP line.
    splits, whole = fulfilled.unsplit(
        [change for change in pending if change.splits and change.line_item_id is not None], order.lines
    )
    unsplit_of = {change.change_key: change for change in whole}
    pending = [unsplit_of.get(change.change_key, change) for change in pending]
    # planned before: a substitute's commit may have added it (`_pending_edits` looks for it then)
    again = {
        c.change_key for c in pending if c.change_key in tried or repeats.item_of(c.change_key) in recorded
    }
    edits, unapplied = fulfilled.hold_back(
        _pending_edits([c for c in pending if c not in splits], order.lines, again), order.lines
    )
    left_out: dict[str, Any] = {**unapplied, **lowered_lines}
    staged_keys = {c.change_key for c in pending}  # a change held back whole stages nothing
    changes = [
        fulfilled.as_recorded(
            unsplit_of.get(c.change_key, c), left_out.get(c.change_key), kept=c.change_key in staged_keys
        )
        for c in changes
    ]
    discounts = [c for c in pending if c.takes_discount and c.line_item_id is not None]
    removals = [c for c in pending if c.removes]
    calculated, total = None, None
    done: dict[str, LineChange] = {}  # change key -> the change as staged (its measured discounts)
    taken: dict[str, list[dict[str, Any]]] = {}  # change key -> the app's discounts it took off
    if edits or discounts or weighed_adds or removals:
        edit, subtotal = order_edit_discounts.begin(client.executor, unit.order_id)
        _as_read(edit, [*removals, *splits, *edits, *discounts], order.lines)
        on_lines = (
            order_edit_discounts.calculated_discounts(client.executor, edit.calculated_order_id)
            if removals
            else {}
        )
        for change in removals:  # an earlier picking's adjustment off, before anything is measured
            with _naming(change):
                subtotal, taken[change.change_key] = _remove_adjustments(
                    client, edit, change, order.lines, subtotal, on_lines, ours
                )
        for change in splits:  # first: each is measured from the subtotal the one before left
            with _naming(change):
                done[change.change_key], subtotal = _split(client, edit, change, order, location, subtotal)
        for change in edits:
            with _naming(change):
                if change.line_item_id is not None:
                    for line_id, target in _lines_set(change, order.lines):  # a split unit line too
                        calc_line = _calculated_line(edit, replace(change, line_item_id=line_id), order.lines)
                        client.order_edit_set_quantity(edit.calculated_order_id, calc_line, target)
                elif change.substitute_charge is not None:
                    done[change.change_key] = _add_substitute(client, edit, change, order, location)
                else:
                    client.order_edit_add_variant(
                        edit.calculated_order_id, change.variant_id or "", change.shopify_quantity or 0,
                        location_id=location,
                    )  # fmt: skip
        for change in discounts:
            if change.change_key not in done:
                with _naming(change):
                    calc_line = _calculated_line(edit, change, order.lines)
                    _discount(
                        client, edit, calc_line, change.discount_per_unit, order, change.discount_description
                    )
        for change in weighed_adds:
            with _naming(change):
                done[change.change_key] = _add_weighed(client, edit, change, order, location)
        note = f"Consinco: separação do pedido {event.nro_pedvenda} (evento {event.seq_evento})"
        answer = client.order_edit_commit(edit.calculated_order_id, staff_note=note)
        calculated, total = edit.calculated_order_id, answer.current_total
        changes = [done.get(change.change_key, change) for change in changes]
        staged = {c.change_key for c in discounts}  # its line's discount and its split unit's
        discounted_by = {c.change_key: _staged(c) for c in changes if c.change_key in staged}
        made = {key: discounted_by.get(key, []) + taken.get(key, []) for key in {*discounted_by, *taken}}
    else:
        made = {}
        # Nothing left to send, the picking in Shopify already: committed before, its answer lost (the
        # row's target found there, an adjustment's description carried). Shopify's total now is the
        # picking's, which that lost answer would have brought to the Orders page.
        if any(change.sends for change in changes):
            total = order.current_total
    _record(unit.link_id, changes, applied=True, legacy=legacy, discounts=made)
    # Shopify restocked / committed their units (a weighed cut's split unit on a line of its own)
    set_lines = [replace(c, line_item_id=line, shopify_quantity=target, split_lines=(), emptied=())
                 for c in edits if c.line_item_id for line, target in _lines_set(c, order.lines)]  # fmt: skip
    committed = [*[c for c in edits if not c.line_item_id], *set_lines, *weighed_adds] if calculated else []
    stock_reread.edited(unit.shop_id, event.nro_empresa, event.seq_evento, changes, committed, order.lines)
    with session_scope() as session:
        link = session.get(OrderLink, unit.link_id)
        if link is not None:
            link.erp_status = _advanced(link.erp_status, event.situacao or "S")
            if total is not None:  # the Orders page's total follows the picking, as Shopify's does
                link.total = total.amount
            if unapplied:  # for a person; the invoice goes on (jobs.order_edits.fulfilled)
                text = "; ".join(u.text for u in unapplied.values())
                words = [u.words for u in unapplied.values()]
                order_notes.put(link, FLOW, text, topic=fulfilled.NOTE_TOPIC, words=words)
            else:
                order_notes.clear(link, FLOW, topic=fulfilled.NOTE_TOPIC)
            if lowered_lines:  # for a person; their own edit is flagged by jobs.order_edits.to_erp
                text = "; ".join(u.text for u in lowered_lines.values())
                words = [u.words for u in lowered_lines.values()]
                order_notes.put(link, FLOW, text, topic=lowered.NOTE_TOPIC, words=words)
            else:
                order_notes.clear(link, FLOW, topic=lowered.NOTE_TOPIC)
    for unsent in left_out.values():
        log.warning("order_edits: order %s event %s: %s", unit.order_id, event.seq_evento, unsent.text,
                    extra={"shop_id": unit.shop_id, "flow": FLOW})  # fmt: skip
    log.info("order_edits: order %s event %s: %d change(s), %d edited, %d discounted, %d split, "
             "%d weighed added", unit.order_id, event.seq_evento, len(changes), len(edits), len(discounts),
             len(splits), len(weighed_adds), extra={"shop_id": unit.shop_id, "flow": FLOW})  # fmt: skip
    discounted = discounts + [  # and the lines added with a discount (weighed substitutes, by the unit)
        c
        for c in done.values()
        if (c.adds_weighed or c.substitute_charge is not None) and c.discount_per_unit
    ]
    return {
        "edited": bool(edits or discounts or weighed_adds or removals),
        "discounted": [change.change_key for change in discounted],
        "calculated_order_id": calculated,
        "changes": [_jsonable(change) for change in changes],
        "not_applied": [
            {"change_key": u.change_key, "sku": u.sku, "text": u.text} for u in left_out.values()
        ],
    }


def _as_read(edit: Any, staged: Sequence[LineChange], lines: Sequence[ShopifyLine]) -> None:
    """Raises Transient, the edit left uncommitted (nothing of it in Shopify), when a line the edit
    stages on holds in it (orderEditBegin's calculated order: the order as it is now) other units
    than the read the picking was planned from (`lines`): a person edited the order in between (an
    edit, a refund). Staged anyway, the plan would undo their edit (a cut set to 2 on a line they
    lowered to 1 puts a unit they took off back, charged), past the rule that held it back
    (jobs.order_edits.lowered) and unnamed. The retry reads the order again and plans from it."""
    for line_id in dict.fromkeys(
        line_id
        for change in staged
        for line_id in (change.line_item_id, *change.split_lines, *change.emptied, *change.removed_from)
        if line_id is not None
    ):
        read = _current(lines, line_id)
        calculated = edit.line_for_item(line_id) or _same_place(edit, line_id, lines)
        if read is not None and calculated is not None and calculated.quantity != read:
            raise Transient(
                f"line {line_id} of the Shopify order holds {calculated.quantity} units, not the {read} the "
                "picking was planned from (edited in Shopify meanwhile): the order is read again",
                line_item_id=line_id,
            )


@contextmanager
def _naming(change: LineChange) -> Iterator[None]:
    """A change Shopify refuses fails the edit naming its SKU and ERP line (an order edit commits
    all of its changes or none: nothing of the picking is in Shopify)."""
    try:
        yield
    except ShopifyUserErrors as refused:
        item = repeats.item_of(change.change_key)
        raise Rejected(
            f"SKU {change.sku or '?'} (ERP line {item if item is not None else '?'}), {change.kind}: "
            f"{refused.message}; nothing of this picking was applied in Shopify",
            system="shopify",
            code=refused.code,
            field=refused.field,
            detail=refused.detail,
            words=_change_refused(change, item, refused.message),
        ) from refused


def _change_refused(change: LineChange, item: int | None, message: str) -> Words | None:
    """A change Shopify refused in the merchant's words (None: a kind the pages cannot name)."""
    kind = CHANGE_KINDS.get(change.kind)
    if kind is None:
        return None
    said = {"sku": change.sku or "?", "item": item if item is not None else "?", "kind": (kind, {})}
    return "picking_change_refused", {**said, "message": message}


def _split(
    client: Any, edit: Any, change: LineChange, order: Any, location: str | None, before: Decimal
) -> tuple[LineChange, Decimal]:
    """Stage one split weight adjustment; (the change as applied, the calculated subtotal after).

    n−1 units stay on the line, one unit is added on a line of its own, and the two discounts
    are worked out from what Shopify's calculated order says these moves cost (`shift`), so the
    subtotal goes down by exactly the ERP's difference. When no pair of discounts can do it, the
    unit goes back and the line gets the rounded-up per-unit discount of the unsplit rule."""
    executor, calc_id = client.executor, edit.calculated_order_id
    planned, plan = weight_words.planned(change)  # "weighed ...: line discount D 'Ajuste de peso: ...'"
    units, difference = change.weighed_units or 0, change.discount_total or Decimal("0")
    kept_line = _calculated_line(edit, change, order.lines)
    shopify_line = next((s for s in order.lines if s.id == change.line_item_id), None)
    kept_price = _unit_price(shopify_line) if shopify_line else Decimal("0")

    def unsplit(
        alone: order_edit_discounts.Staged | None, why: str, why_words: Words
    ) -> tuple[LineChange, Decimal]:
        """`why_words`: `why` and what follows said as one part (its key, its params but the
        amounts worked out here)."""
        if alone is not None:
            order_edit_discounts.set_quantity(executor, calc_id, alone.line_id or "", 0)
        order_edit_discounts.set_quantity(executor, calc_id, kept_line, units)
        per_unit = (difference / units).quantize(CENT, rounding=ROUND_CEILING)
        after = _discount(client, edit, kept_line, per_unit, order, change.discount_description)
        below = per_unit * units - difference
        reason = (f"{planned}; {why}, so {per_unit} per unit x {units}: Shopify is {below} below the "
                  "NF-e line, the capture follows the NF-e")  # fmt: skip
        key, params = why_words
        gone = (key, {**params, "per_unit": per_unit, "units": units, "below": below})
        unsplit_change = replace(
            change, discount_per_unit=per_unit, split_discount=None, shopify_quantity=None
        )
        return replace(
            unsplit_change, reason=reason, words=weight_words.after_plan(reason, plan, gone)
        ), after

    order_edit_discounts.set_quantity(executor, calc_id, kept_line, units - 1)
    try:
        alone = order_edit_discounts.add_unit(
            executor, calc_id, change.variant_id or "", location_id=location
        )
    except ShopifyUserErrors as refused:  # e.g. no stock left to add at the location: no split, not stuck
        refusal = f"Shopify refused the unit on its own line ({refused})"
        return unsplit(None, refusal, ("line_split_refused", {"message": str(refused)}))
    shift = alone.subtotal - before
    alone_price = alone.unit_price if alone.unit_price is not None else kept_price
    shares = split_shares(difference, units, shift, kept_price, alone_price)
    if shares is None:
        unmatched = ("line_split_unmatched", {"price": alone_price, "line_price": kept_price})
        return unsplit(alone, f"no split could match it to the cent (the variant is priced {alone_price} "
                              f"now, the line {kept_price})", unmatched)  # fmt: skip
    per_unit, on_alone = shares
    after = alone.subtotal
    if per_unit:
        after = _discount(client, edit, kept_line, per_unit, order, change.discount_description)
    if on_alone:
        after = _discount(client, edit, alone.line_id or "", on_alone, order, change.discount_description)
    reason = (f"{planned}; Shopify discounts per unit and {units} units do not divide it, so one unit "
              f"went on a line of its own: {per_unit} per unit x {units - 1} + {on_alone} on 1")  # fmt: skip
    made: dict[str, Any] = {"units": units, "per_unit": per_unit, "kept": units - 1, "alone": on_alone}
    parts: list[Words] = [("line_split_made", made)]
    if shift:
        reason += (f" (moving the unit changed Shopify's subtotal by {shift}: the variant's price now, "
                   "the line's other discounts)")  # fmt: skip
        parts = [("line_split_made_shifted", {**made, "shift": shift})]
    if after - before != -difference:
        reason += (f"; Shopify's subtotal went down by {before - after}, not {difference}: the capture "
                   "follows the NF-e total")  # fmt: skip
        parts.append(("line_split_off", {"taken": before - after, "difference": difference}))
        log.warning("order_edits: split of %s took %s off, not %s (a fixed value not per unit?)",
                    change.sku, before - after, difference)  # fmt: skip
    words = weight_words.after_plan(reason, plan, *parts)
    return replace(
        change, discount_per_unit=per_unit, split_discount=on_alone, reason=reason, words=words
    ), after


def _add_weighed(client: Any, edit: Any, change: LineChange, order: Any, location: str | None) -> LineChange:
    """Stage a weighed substitute: its kilograms rounded up (units − 1 on one line, one on a line
    of its own) and, off that one unit, what Shopify's price for them is above the ERP's charge."""
    executor, calc_id, variant = client.executor, edit.calculated_order_id, change.variant_id or ""
    units, charged = change.shopify_quantity or 1, change.charge_total or Decimal("0")
    if units > 1:
        order_edit_discounts.add_variant(executor, calc_id, variant, units - 1, location_id=location)
    alone = order_edit_discounts.add_variant(executor, calc_id, variant, 1, location_id=location)
    price = alone.unit_price if alone.unit_price is not None else Decimal("0")
    difference = (price * units - charged).quantize(CENT)
    sold = f"{units} x {price} in Shopify"
    money = {"units": units, "price": price, "charged": charged}
    if difference <= 0:
        reason = (f"{change.reason}: {sold} is not above the ERP's {charged}, so no discount; the "
                  "capture follows the NF-e")  # fmt: skip
        words = around(change.words, change.reason, reason, "line_substitute_not_above", money)
        return replace(change, discount_total=Decimal("0"), reason=reason, words=words)
    off = min(difference, price)
    _discount(client, edit, alone.line_id or "", off, order, change.discount_description)
    reason = f"{change.reason}: {sold} less {off} '{change.discount_description}' = the ERP's {charged}"
    less = ("line_substitute_weighed_less", {**money, "off": off, "description": change.discount_description})
    if off < difference:
        reason = (f"{change.reason}: {sold} less {off} (a unit's whole price) is still {difference - off} "
                  f"above the ERP's {charged}: the capture follows the NF-e")  # fmt: skip
        less = ("line_substitute_weighed_short", {**money, "off": off, "still": difference - off})
    words = around(change.words, change.reason, reason, *less)
    return replace(change, discount_total=off, discount_per_unit=off, reason=reason, words=words)


def _add_substitute(
    client: Any, edit: Any, change: LineChange, order: Any, location: str | None
) -> LineChange:
    """Stage a substitute sold by the unit the order lacks: its units at the price Shopify gives
    them (the variant's price now, which may lag the ERP's: a promotion the price sync has not
    brought yet) and, when that is above the ERP's charge, a discount per unit down to it
    ("Preço do substituto: ..."), so Shopify's line is the NF-e's and the echo of this edit is
    not a merchant's price change. Priced below the ERP: no discount (as `_add_weighed`), the
    capture follows the NF-e."""
    units, charged = change.shopify_quantity or 0, change.substitute_charge or Decimal("0")
    added = order_edit_discounts.add_variant(
        client.executor, edit.calculated_order_id, change.variant_id or "", units, location_id=location
    )
    price = added.unit_price if added.unit_price is not None else Decimal("0")
    difference = (price * units - charged).quantize(CENT)
    sold = f"{units} x {price} in Shopify"
    money = {"units": units, "price": price, "charged": charged}
    if difference <= 0 or units <= 0:
        reason = (f"{change.reason}: {sold} is not above the ERP's {charged}, so no discount; the capture "
                  "follows the NF-e")  # fmt: skip
        words = around(change.words, change.reason, reason, "line_substitute_not_above", money)
        return replace(change, reason=reason, words=words)
    per_unit = min((difference / units).quantize(CENT, rounding=ROUND_CEILING), price)
    each = f"{(charged / units).quantize(CENT):.2f}".replace(".", ",")
    description = f"{SUBSTITUTE_PRICE}: R$ {each} (item {repeats.item_of(change.change_key)})"
    _discount(client, edit, added.line_id or "", per_unit, order, description)
    reason = f"{change.reason}: {sold} less {per_unit} per unit '{description}' = the ERP's {charged}"
    less = ("line_substitute_priced", {**money, "per_unit": per_unit, "description": description})
    if per_unit * units != difference:
        reason = (f"{change.reason}: {sold} less {per_unit} per unit '{description}': Shopify is "
                  f"{per_unit * units - difference} below the ERP's {charged}, the capture follows the "
                  "NF-e")  # fmt: skip
        less = ("line_substitute_priced_below", {**less[1], "below": per_unit * units - difference})
    words = around(change.words, change.reason, reason, *less)
    return replace(change, discount_per_unit=per_unit, discount_description=description, reason=reason,
                   words=words)  # fmt: skip


def _discount(
    client: Any, edit: Any, calc_line: str, amount: Decimal | None, order: Any, description: str | None = None
) -> Decimal:
    """Stage a per-unit weight discount; the calculated subtotal after."""
    staged = order_edit_discounts.add_line_item_discount(
        client.executor, edit.calculated_order_id, calc_line, amount or Decimal("0"), order.currency or "BRL",
        description=description,
    )  # fmt: skip
    return staged.subtotal


def _carried(client: Any, order_id: str, event: OrderEvent, again: bool = False) -> dict[str, list[str]]:
    """The manual discount descriptions of the order's lines, read only when a weighed line came
    out lighter or was cut (its weight split's unit goes with it: `_with_split_units`), or a line
    sold by the unit was served in part of one (what tells a replay its adjustment is already in
    Shopify), or the order was picked before (`again`: an earlier picking's adjustment the line may
    no longer take, `_stale_adjustments`)."""
    if not again and not any(
        (
            line.weighed
            and line.qty_served is not None
            and (line.qty_served < line.qty_ordered or (line.is_substitute and line.qty_served > 0))
        )
        or _in_part(line)
        for line in event.lines
    ):
        return {}
    found = order_edit_discounts.line_discounts(client.executor, order_id)
    return {line_id: [d.description or "" for d in items] for line_id, items in found.items()}


@dataclass
class AppDiscounts:
    """The app's own adjustments (`APP_ADJUSTMENTS`) on the order, as its ledger rows recorded them
    (`OrderLineChange.discounts`): each discount a picking edit put on and none since took off, by
    description, with its amount per unit (None: one of any amount, a commit whose answer was lost).
    `by_text`: descriptions only a row written before the rows kept their discounts names (in its
    reason): matched by the description alone, as then."""

    counted: dict[str, list[Decimal | None]] = field(default_factory=dict)
    by_text: set[str] = field(default_factory=set)

    def descriptions(self) -> set[str]:
        return {d for d, left in self.counted.items() if left} | self.by_text

    def take(self, description: str | None, per_unit: Decimal | None) -> bool:
        """Whether a discount with this description and amount per unit is one of the app's (each
        recorded discount answers once: a person's worded and priced alike stays)."""
        if description is None:
            return False
        if description in self.by_text:
            return True
        left = self.counted.get(description, [])
        for wanted in (per_unit, None):  # its own amount, else one of any amount
            if wanted in left:
                left.remove(wanted)
                return True
        return False


def _app_made(link_id: int, carried: Mapping[str, Sequence[str]]) -> AppDiscounts:
    """The app's own adjustments among the carried descriptions (`AppDiscounts`): what its picking
    ledger rows for the order recorded putting on (`discounts`), less what they recorded taking
    off, so a later picking takes off only those. A person's discount worded like the app's is on
    no row of the app's and stays; worded and priced alike it is the same money either way, and only
    as many as the app put on go. Rows written before the rows kept their discounts (`discounts`
    NULL) are read by their reason: a description it names ("... '<description>'") is the app's."""
    wanted = {d for descriptions in carried.values() for d in descriptions if d.startswith(APP_ADJUSTMENTS)}
    found = AppDiscounts()
    if not wanted:
        return found
    with session_scope() as session:
        rows = session.execute(
            select(OrderLineChange.reason, OrderLineChange.discounts).where(
                OrderLineChange.order_link_id == link_id,
                OrderLineChange.direction == ERP_TO_SHOPIFY,
            )
        ).all()
    taken: list[tuple[str, Decimal | None]] = []
    for reason, discounts in rows:
        if discounts is None:  # written before: its reason names its discount
            found.by_text |= {d for d in wanted if f"'{d}'" in (reason or "")}
            continue
        for entry in discounts:
            description = entry.get("description")
            if description not in wanted:
                continue
            amount = None if entry.get("per_unit") is None else Decimal(str(entry["per_unit"]))
            if entry.get("taken_off"):
                taken.append((description, amount))
            else:
                found.counted.setdefault(description, []).append(amount)
    for description, amount in taken:
        left = found.counted.get(description, [])
        if amount in left:
            left.remove(amount)
        found.by_text.discard(description)  # taken off once since: what is left of it is not the app's
    for description, left in found.counted.items():  # a lost answer's, when its commit's is recorded too
        if any(amount is not None for amount in left):
            found.counted[description] = [amount for amount in left if amount is not None]
    return found


def _remove_adjustments(
    client: Any,
    edit: Any,
    change: LineChange,
    lines: Sequence[ShopifyLine],
    subtotal: Decimal,
    on_lines: Mapping[str, Sequence[order_edit_discounts.CalculatedDiscount]],
    ours: AppDiscounts,
) -> tuple[Decimal, list[dict[str, Any]]]:
    """Stage the removal of an earlier picking's adjustment (`change.removes`) from the change's
    line and its split unit lines: each discount application of those lines' that is one of the
    app's own (`ours`: its description and amount per unit, each once), once (`on_lines`: the edit's
    discounts by calculated line, order_edit_discounts.calculated_discounts); the calculated
    subtotal after, and what was taken off as the ledger row records it (`_record`)."""
    removed: set[str] = set()
    taken: list[dict[str, Any]] = []
    for line_id in change.removed_from:
        calc_id = _calculated_line(edit, replace(change, line_item_id=line_id), lines)
        for found in on_lines.get(calc_id, ()):
            if found.application_id in removed or found.description not in change.removes:
                continue
            if not ours.take(found.description, found.per_unit):
                continue  # a person's, worded like the app's
            subtotal = order_edit_discounts.remove_discount(
                client.executor, edit.calculated_order_id, found.application_id
            )
            removed.add(found.application_id)
            taken.append(_entry(found.description, found.per_unit, taken_off=True))
    return subtotal, taken


def _entry(description: str | None, per_unit: Decimal | None, *, taken_off: bool = False) -> dict[str, Any]:
    """One of the app's discounts as a ledger row records it (`OrderLineChange.discounts`)."""
    return {"description": description, "per_unit": None if per_unit is None else str(per_unit),
            "taken_off": taken_off}  # fmt: skip


def _staged(change: LineChange) -> list[dict[str, Any]]:
    """The app's adjustments a change staged (its line's discount per unit, its split unit's), as
    its ledger row records them once committed."""
    description = change.discount_description
    if description is None or not description.startswith(APP_ADJUSTMENTS):
        return []
    amounts = [change.discount_per_unit, change.split_discount]
    return [_entry(description, amount) for amount in amounts if amount is not None and amount > 0]


def _pending_edits(
    changes: Sequence[LineChange], lines: Sequence[ShopifyLine], again: Collection[str] = ()
) -> list[LineChange]:
    """The changes Shopify does not show yet (absolute targets: a replay sends nothing twice).

    A change without a line of its own (a substitute by a product no ERP line has) adds its
    variant: two ERP lines replaced by the same new SKU both carry the units they serve together
    (plan_changes), so the variant is added once, not once per ERP line. On its first attempt it is
    always added, on a line of its own: a line of the variant already on the order is not the
    substitute's (a person added the product after picking: their units are theirs; one they removed
    before the ERP had the order holds none, and Shopify edits no line at 0). Only a change planned
    before (`again`: its key tried, its ERP line recorded by another event of the picking, whose
    commit may have added it) looks for it on the variant's lines (repeats.substitute_line), as
    repeats.applied_alike does, and sets the one it finds. A substitute by a SKU the order has
    carries that SKU's receiving line, and so does a change of the line itself, with the same units
    (plan_changes): the line is set once (a second orderEditSetQuantity of one line is one change
    too many)."""
    pending = []
    by_variant: set[str | None] = set()
    sent: dict[str, int] = {}  # line -> its place in `pending`
    set_lines = {
        change.line_item_id
        for change in changes
        if change.shopify_quantity is not None
        and change.line_item_id is not None
        and (
            any(_current(lines, s) != change.shopify_quantity for s in _with_split(change))
            or any(_current(lines, s) for s in change.emptied)
        )
    }
    for change in changes:
        if change.shopify_quantity is None:
            continue
        if change.line_item_id is not None:
            if change.line_item_id in sent:  # the last target of a line wins, as in one edit
                pending[sent[change.line_item_id]] = change
            elif change.line_item_id in set_lines:
                sent[change.line_item_id] = len(pending)
                pending.append(change)
            continue
        if change.variant_id in by_variant:
            continue
        by_variant.add(change.variant_id)
        existing = None
        if change.change_key in again:
            existing = repeats.substitute_line(change.variant_id, change.shopify_quantity, lines)
        if existing is None:
            if change.shopify_quantity:  # none served: nothing to add
                pending.append(change)
        elif existing.current_quantity != change.shopify_quantity and existing.id not in set_lines:
            pending.append(LineChange(**{**asdict(change), "line_item_id": existing.id}))
    return pending


def _with_split(change: LineChange) -> tuple[str | None, ...]:
    return (change.line_item_id, *change.split_lines)


def _lines_set(change: LineChange, lines: Sequence[ShopifyLine]) -> list[tuple[str, int]]:
    """The Shopify lines a quantity change sets, each with its target: its line and, a weighed line
    cut to zero, its weight split's unit lines still holding units (`_with_split_units`), or an
    earlier picking's split unit line emptied as its adjustment is taken off (`_stale_adjustments`:
    to 0); its line not again when it is at the target already (a person emptied it, or the
    units are there) and only such a unit line is left to set."""
    target = change.shopify_quantity or 0
    split = [s for s in change.split_lines if change.shopify_quantity == 0 and _current(lines, s)]
    emptied = [s for s in change.emptied if _current(lines, s)]
    own = change.line_item_id
    kept = own is not None and not ((split or emptied) and _current(lines, own) == change.shopify_quantity)
    found = [(own, target)] if kept and own is not None else []
    return found + [(s, target) for s in split] + [(s, 0) for s in emptied]


def _current(lines: Sequence[ShopifyLine], line_item_id: str) -> int | None:
    return next((s.current_quantity for s in lines if s.id == line_item_id), None)


def _own_and_split(
    shopify_line: ShopifyLine, same: Sequence[ShopifyLine], carried: Mapping[str, Sequence[str]],
    owned: Collection[str],
) -> list[ShopifyLine]:  # fmt: skip
    """A weighed line's own Shopify line and its split's unit lines: the variant's lines no ERP line
    owns that carry an adjustment its own line carries (as `_with_split_units` finds them)."""
    mine = set(carried.get(shopify_line.id, ()))
    split = [
        s for s in same if s.id != shopify_line.id and s.id not in owned and mine & set(carried.get(s.id, ()))
    ]
    return [shopify_line, *split]


def _refuse_other_weighing(
    changes: Sequence[LineChange], lines: Sequence[ShopifyLine], carried: Mapping[str, Sequence[str]]
) -> None:
    """A line already adjusted for another weighing is refused: a second discount would charge
    the customer less twice."""
    for change in changes:
        if change.adjusted or change.discount_description is None or change.line_item_id is None:
            continue
        shopify_line = next((s for s in lines if s.id == change.line_item_id), None)
        checked = _variant_lines(lines, shopify_line)
        if change.own_lines is not None:  # a weighed SKU on several ERP lines: this line's own alone
            checked = [s for s in checked if s.id in change.own_lines]
        for same in checked:
            adjustments = (WEIGHT_ADJUSTMENT, PART_SERVED)
            other = next((d for d in carried.get(same.id, ()) if d.startswith(adjustments)), None)
            if other is not None:
                raise Rejected(
                    f"line {change.sku} already carries '{other}'; this picking says "
                    f"'{change.discount_description}': a person must adjust the order by hand",
                    system="app",
                    code="WEIGHT_ALREADY_ADJUSTED",
                    words=("picking_weight_adjusted_before",
                           {"sku": change.sku, "other": other, "said": change.discount_description}),
                )  # fmt: skip


def _calculated_line(edit: Any, change: LineChange, lines: Sequence[ShopifyLine]) -> str:
    """The calculated line a change stages on. For a line of the order (`line_item_id`): the one
    Shopify numbers as it, else the one in its place among the variant's lines (both list the
    order's lines in order) — never merely the variant's first, as one SKU can sit on two lines
    ("leve 3 pague 2") and a cut of the second must not land on the first. By variant or SKU only
    for a line added in this edit (no line item yet)."""
    if change.line_item_id is not None:
        line = edit.line_for_item(change.line_item_id)
        if line is None:
            line = _same_place(edit, change.line_item_id, lines)
    else:
        line = edit.line_for_variant(change.variant_id) if change.variant_id else None
        line = line or next((c for c in edit.lines if change.sku and c.sku == change.sku), None)
    if line is None:
        raise Rejected(
            f"order edit has no line for {change.sku or change.variant_id}",
            system="shopify",
            code="LINE_NOT_EDITABLE",
            words=("picking_line_not_editable", {"line": change.sku or change.variant_id}),
        )
    return line.id


def _same_place(edit: Any, line_item_id: str, lines: Sequence[ShopifyLine]) -> CalculatedLine | None:
    """The calculated line in the place `line_item_id` holds among its variant's order lines
    (None when the edit does not list as many lines of the variant: no place to trust)."""
    shopify_line = next((s for s in lines if s.id == line_item_id), None)
    if shopify_line is None or shopify_line.variant_id is None:
        return None
    same = [s.id for s in lines if s.variant_id == shopify_line.variant_id]
    calculated = edit.lines_for_variant(shopify_line.variant_id)
    return calculated[same.index(line_item_id)] if len(calculated) == len(same) else None


def _applied_before(session: Any, link_id: int, event: OrderEvent, generation: int = 0) -> bool:
    """Whether an earlier run of this event applied changes in Shopify (a replay of an applied
    picking re-reads Shopify and sends nothing: it is no late picking to skip)."""
    prefix = repeats.event_prefix(event.seq_evento, generation)
    return (
        session.scalar(
            select(OrderLineChange.id)
            .where(
                OrderLineChange.order_link_id == link_id,
                OrderLineChange.change_key.startswith(prefix, autoescape=True),
                OrderLineChange.applied.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def _tried(link_id: int, event: OrderEvent, generation: int = 0) -> set[str]:
    """The change keys of this event an earlier attempt recorded (before committing its edit)."""
    prefix = repeats.event_prefix(event.seq_evento, generation)
    with session_scope() as session:
        return set(
            session.scalars(
                select(OrderLineChange.change_key).where(
                    OrderLineChange.order_link_id == link_id,
                    OrderLineChange.change_key.startswith(prefix, autoescape=True),
                )
            )
        )


def _added_before(change: LineChange, seen: repeats.Seen, alike: Mapping[str, int]) -> LineChange:
    """A change another event of the order applied already: in Shopify, nothing to send — a
    weighed substitute it added (`seen`), or the same change of the ERP line as the last one applied
    (`alike`: repeats.applied_alike)."""
    by = seen.applied.get(repeats.item_of(change.change_key) or -1) if change.adds_weighed else None
    by = alike.get(change.change_key) if by is None else by
    if by is None or change.adjusted:
        return change
    reason = f"{change.reason}: in Shopify already, applied by ERP event #{by}"
    words = around(change.words, change.reason, reason, "line_applied_before", {"event": by})
    return replace(change, adjusted=True, reason=reason, words=words)


def _record(
    link_id: int,
    changes: Sequence[LineChange],
    *,
    applied: bool,
    legacy: Mapping[str, str] | None = None,
    discounts: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> set[str]:
    """Upsert the per-line ledger rows (one per (event, ERP line)); the change keys that were
    applied already (a row once applied stays so: a replay's first pass does not undo it).
    `legacy`: this event's rows under the keys of before they named the ERP generation (change key
    -> key held, `repeats.legacy`): each is this change's row, and takes its key now. `discounts`:
    the app's adjustments the committed edit put on or took off, by change key (`_staged`,
    `_remove_adjustments`), kept on the row (`_app_made`); an adjustment found in Shopify already
    (`adjusted`: a commit whose answer was lost) is kept as one of any amount."""
    legacy = legacy or {}
    with session_scope() as session:
        keys = [c.change_key for c in changes]
        rows = session.scalars(
            select(OrderLineChange).where(
                OrderLineChange.order_link_id == link_id,
                OrderLineChange.change_key.in_(keys + [legacy[k] for k in keys if k in legacy]),
            )
        ).all()
        held = {row.change_key: row for row in rows}
        existing = {}
        for key in keys:
            row, old = held.get(key), held.get(legacy.get(key, ""))
            if row is None and old is not None:
                old.change_key, row = key, old
            elif row is not None and old is not None and old.applied:  # both: the old one applied it
                row.applied = True
            if row is not None:
                existing[key] = row
        for change in changes:
            row = existing.get(change.change_key)
            if row is None:
                row = OrderLineChange(
                    order_link_id=link_id, change_key=change.change_key, direction=ERP_TO_SHOPIFY
                )
                session.add(row)
            row.kind, row.sku, row.substitute_sku = change.kind, change.sku, change.substitute_sku
            row.qty_before, row.qty_after = change.qty_before, change.qty_after
            if not (change.adjusted and row.reason):  # a replay keeps what the applied edit recorded
                row.reason, row.reason_words = change.reason, stored_for(change.reason, change.words)
            row.applied = bool(row.applied) or (applied and change.sends)
            entries = list(row.discounts or []) + list((discounts or {}).get(change.change_key, ()))
            said = change.discount_description
            if (
                applied
                and change.adjusted
                and said is not None
                and said.startswith(APP_ADJUSTMENTS)
                and not any(entry.get("description") == said for entry in entries)
            ):
                entries.append(_entry(said, None))
            if row.discounts is None or entries != row.discounts:
                row.discounts = entries
    return {key for key, row in existing.items() if row.applied}


def _jsonable(change: LineChange) -> dict[str, Any]:
    """The change as its message's request keeps it (its words are the ledger row's, not the request's)."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(change).items() if k != "words"}


# SITUACAOPED from typing to the end (consinco.md): a picking event never moves an order back from
# invoiced or cancelled (the same separation reported again after the NF-e).
_PAST_PICKING = frozenset({"S", "F", "C"})


def _advanced(current: str | None, reported: str) -> str:
    """The ERP status the Orders page shows after a picking event reporting `reported`."""
    return current if current in _PAST_PICKING and reported == "S" else reported


def _separated(link_id: int, reported: str | None) -> None:
    """A picking that changed nothing still tells the Orders page the ERP separated the order."""
    with session_scope() as session:
        link = session.get(OrderLink, link_id)
        if link is not None:
            link.erp_status = _advanced(link.erp_status, reported or "S")
