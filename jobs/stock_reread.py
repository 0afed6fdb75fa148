"""Levels Shopify moved by itself: the SKUs whose Shopify level the stock flow must read again.

Why its own module: the stock flow compares a SKU's target with the level it last wrote (its
"stock" binding) and writes nothing when they agree, trusting that nothing else moved the level.
Three Shopify-side movements break that trust, each after the ERP already counted the same units,
so no ERP row moves afterwards to bring the level back:
- an ERP cancellation (jobs.cancellations.to_shopify): orderCancel with restock puts the order's
  units back to "available". The ERP released its reservation first; a stock pass in between
  wrote that figure, and the restock adds the units a second time (phantom stock).
- a picking edit (jobs.order_edits.to_shopify): orderEditSetQuantity(restock: true) returns the
  cut units (too high, the same way); orderEditAddVariant or a raised quantity commits a
  substitute's units (too low).
- an order cancelled in Shopify before it reached the ERP (its orders message skipped,
  jobs.stock_pending): its sale lowered Shopify's level, and unless Shopify restocked it, nothing
  puts the units back.

Each movement is a "stock_reread" binding per (SKU, what moved it) (erp_id "<idSku>|<source>",
data {"company", "delta": the units Shopify's "available" moved by (0: not known), "at": when})
and a "stock_recheck" of every packaging of the SKU's product. The stock pass treats a moved SKU
as one whose Shopify level is unknown: the writer reads it first and writes the target only when
Shopify shows another figure, compare-and-swap from what it read. A real sale is never given
back: what Shopify showed when last known (the "stock" binding's "sent", at "at") plus the
movements since (`shown`) is what it should show now; a lower figure that no order of the shop
known since explains is a sale whose order is not known yet, kept out of the level as after a
stale answer (jobs.stock_writer). A movement that may be in "sent" already (begun before "at")
counts only when it lowered the level: a raise counted twice would keep real units out of sale,
a fall counted twice only trusts a drop of that size as explained.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from jobs.order_map import numeric_id
from jobs.stock_map import SkuUnit
from ledger import bindings
from ledger.bindings import PRODUCT_KIND, BindingRow
from ledger.bindings import STOCK_RECHECK_KIND as RECHECK_KIND
from ledger.db import session_scope
from ledger.models import Binding, Message, OrderLineChange, as_utc, utcnow

REREAD_KIND = "stock_reread"  # erp_id = "<idSku>|<source>": Shopify moved the SKU's level itself


@dataclass(frozen=True)
class Move:
    sku: str
    company: int | None  # None: not known, read at every company's location
    delta: int  # units Shopify's "available" moved by (0: not known)
    at: datetime
    key: str = ""  # its "stock_reread" binding's erp_id


@dataclass(frozen=True)
class Moves:
    """The movements a stock pass read, and when each was asked (what `forget` drops)."""

    found: tuple[Move, ...] = ()
    read: Mapping[str, datetime] | None = None

    def at(self, company: int) -> dict[str, list[Move]]:
        """The movements of `company`'s location, by idSku."""
        out: dict[str, list[Move]] = {}
        for move in self.found:
            if move.company in (None, company):
                out.setdefault(move.sku, []).append(move)
        return out

    def only(self, company: int) -> Moves:
        """The movements recorded for `company` itself (not those of no known company)."""
        return self._kept(tuple(m for m in self.found if m.company == company))

    def without(self, skus: Collection[str]) -> Moves:
        """All but these SKUs' movements: a level the pass set aside as moving is sent by the next
        pass, which must still count them (forgotten, the drop they explain reads as a sale)."""
        return self._kept(tuple(m for m in self.found if m.sku not in skus)) if skus else self

    def _kept(self, found: tuple[Move, ...]) -> Moves:
        return Moves(found, {m.key: (self.read or {})[m.key] for m in found if m.key in (self.read or {})})


def recheck_products(session: Any, shop_id: int, skus: Iterable[str]) -> set[str]:
    """Ask a stock recheck of every packaging of these SKUs' products (they share the product's
    base units); the SKUs flagged."""
    flagged = {str(sku) for sku in skus}
    seqs = {str(unit.seq_produto) for sku in flagged if (unit := SkuUnit.from_binding(sku, None))}
    for product in bindings.get_many(session, shop_id, PRODUCT_KIND, seqs).values():
        flagged.update(str(s) for s in (product.data or {}).get("skus", []))
    bindings.upsert_many(
        session, shop_id, RECHECK_KIND, [BindingRow(sku, None, None, {}) for sku in sorted(flagged)]
    )
    return flagged


def note(
    session: Any, shop_id: int, company: int | None, source: str, deltas: Mapping[str, int], at: datetime
) -> None:
    """Shopify moved these SKUs' levels (`deltas`: idSku -> units, 0 when not known) by `source`."""
    if not deltas:
        return
    rows = [
        BindingRow(
            f"{sku}|{source}", None, None, {"company": company, "delta": int(delta), "at": at.isoformat()}
        )
        for sku, delta in deltas.items()
    ]
    bindings.upsert_many(session, shop_id, REREAD_KIND, rows)
    recheck_products(session, shop_id, deltas)


def cancelled(
    shop_id: int, link_id: int, order_id: str, company: int | None, erp_skus: Iterable[str]
) -> None:
    """orderCancel restocked the order: every SKU it may hold (its lines as taken, the ERP's
    lines, the substitutes a picking added) is read again. How many units came back is not known
    here (the order as Shopify held it when cancelled), so the delta is 0: a drop below what
    Shopify last showed is still kept out only beyond what the restock may have added back."""
    with session_scope() as session:
        cancelled_in(session, shop_id, link_id, order_id, company, erp_skus)


def cancelled_in(
    session: Any, shop_id: int, link_id: int, order_id: str, company: int | None, erp_skus: Iterable[str]
) -> None:
    """`cancelled` in the caller's transaction. Also for an order cancelled in Shopify by anyone
    after the ERP had cancelled it (a person, as the app's failed cancel advised; the ERP first, the
    merchant's cancel after): the ERP released its reservation, a pass may have written that figure,
    and the person's restock added the units again."""
    skus = {str(s) for s in erp_skus if s}
    payload = session.scalars(
        select(Message.request_payload).where(
            Message.shop_id == shop_id,
            Message.flow == "orders",
            Message.unit_key == f"order:{numeric_id(order_id)}",
        )
    ).first()
    skus.update(str(line["sku"]) for line in (payload or {}).get("lines") or [] if line.get("sku"))
    for sku, substitute in session.execute(
        select(OrderLineChange.sku, OrderLineChange.substitute_sku).where(
            OrderLineChange.order_link_id == link_id
        )
    ):
        skus.update(s for s in (sku, substitute) if s)
    note(session, shop_id, company, f"cancel:{link_id}", dict.fromkeys(skus, 0), utcnow())


def edited(
    shop_id: int,
    company: int | None,
    seq_evento: int,
    changes: Sequence[Any],
    committed: Sequence[Any],
    lines: Sequence[Any],
) -> None:
    """A picking edit of event `seq_evento` (jobs.order_edits.to_shopify LineChanges). `committed`:
    the quantity changes this attempt committed, each a line set from its quantity in `lines`
    (the order before the edit) to `shopify_quantity`, restocking what leaves or committing what
    is added, or a variant added, committing its units (a weight split moves one unit to a line
    of its own: nothing net). Every SKU whose units a change may move is read again; those of a
    change an earlier attempt committed (its answer lost) with a delta not known (0).

    Worked out once per Shopify line, not per change: a cut of a SKU's own line and a substitute by
    the same SKU both set that one line (to what they serve together), and Shopify moved the units
    of its quantity before the edit less the target set, once. A variant added without a line is
    counted once too (its changes carry the units they add together); a weighed substitute's units
    go on lines of their own, each counted."""
    current = {line.id: (line.current_quantity, line.sku) for line in lines}
    deltas: dict[str, int] = {}
    for change in changes:
        if change.shopify_quantity is not None or change.adds_weighed:
            for sku in (change.sku, change.substitute_sku):
                if sku:
                    deltas.setdefault(str(sku), 0)
    weighed: list[tuple[int, Any]] = []
    last: dict[tuple[str, Any], Any] = {}  # the last target set per line (or variant added)
    for change in committed:
        if change.adds_weighed:
            weighed.append((-(change.shopify_quantity or 0), change.sku))
        elif change.line_item_id is None:
            last[("variant", change.variant_id or change.sku)] = change
        else:
            last[("line", change.line_item_id)] = change
    moves = list(weighed)
    for (kind, key), change in last.items():
        if kind == "variant":
            moves.append((-(change.shopify_quantity or 0), change.sku))
            continue
        before, line_sku = current.get(key, (None, None))
        if before is not None:
            moves.append((before - (change.shopify_quantity or 0), change.sku or line_sku))
    for moved, sku in moves:
        if sku:
            deltas[str(sku)] = deltas.get(str(sku), 0) + moved
    with session_scope() as session:
        note(session, shop_id, company, f"event:{seq_evento}", deltas, utcnow())


def read(session: Any, shop_id: int) -> Moves:
    """The movements recorded for the shop (read at the start of a stock pass)."""
    found, asked = [], {}
    for erp_id, data, at in session.execute(
        select(Binding.erp_id, Binding.data, Binding.updated_at).where(
            Binding.shop_id == shop_id, Binding.kind == REREAD_KIND
        )
    ):
        asked[erp_id] = at
        data = data or {}
        company = data.get("company")
        found.append(
            Move(
                erp_id.split("|", 1)[0],
                None if company is None else int(company),
                int(data.get("delta") or 0),
                as_utc(datetime.fromisoformat(data["at"])) if data.get("at") else as_utc(at),
                erp_id,
            )
        )
    return Moves(tuple(found), asked)


def shown_at(binding: Binding | None) -> datetime | None:
    """When Shopify showed a "stock" binding's "sent" level: its "at", else (written before "at" was
    kept) the binding's last update, later or equal, so fewer orders explain a drop since then."""
    if binding is None:
        return None
    at = (binding.data or {}).get("at")
    found = datetime.fromisoformat(at) if at else binding.updated_at
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found


def forget(session: Any, shop_id: int, moves: Moves) -> None:
    """Done with the movements a pass read (one recorded again since stays for the next pass)."""
    bindings.forget_requests(session, shop_id, REREAD_KIND, moves.read or {})


def shown(moves: Sequence[Move], sent: int, since: datetime) -> int:
    """What Shopify should show now: `sent` (shown at `since`) plus the movements since; one that
    began before `since` may be in `sent` already and counts only when it lowered the level."""
    since = as_utc(since)
    return sent + sum(m.delta for m in moves if m.at > since or m.delta < 0)


def put_back(moves: Sequence[Move]) -> int | None:
    """The units these movements may have put back on sale: their raises summed, None when one of
    a size not known (0: a restocking cancel) may have raised the level by any amount; 0 when they
    only lowered it."""
    if any(m.delta == 0 for m in moves):
        return None
    return sum(m.delta for m in moves if m.delta > 0)
