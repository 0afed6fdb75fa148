"""Orders taken in Shopify and not in the ERP yet, as the stock flow sees them.

Why its own module: the stock flow subtracts these orders (pending_payloads) and must also
notice when one starts or stops counting. A new order lowers, in Shopify, only the variant sold;
the other packagings of its product (a box of 6 sold takes 6 single units) and the same variant
in the other stores selling the company's units (every installed shop on the same ERP) must drop
now, not when the ERP row moves (the order may wait days for a boleto or a mapping). An order's
units are subtracted while its orders message is open; the ERP may reserve the order before that
message closes (its answer lost, the RQ retry minutes away), and a level computed then has the
order twice: once in the ERP's reservation, once as pending. Nothing in the ERP moves when the
message closes, so the next pass would read no row and keep the level short for good.
`flag_order_changes` turns every orders message of a shop on the same ERP that opened, changed
or closed (done or skipped: in the ERP, cancelled) since the shop's stock flow last looked into
"stock_recheck" bindings for its products (the mechanism the prices flow uses), so their levels
are computed again from the remembered ERP figure, with or without the order (no ERP read). An
orders message left open when its order link is marked cancelled (a cancellation whose ERP
number is unknown, jobs.cancellations.to_erp, which touches the message) stops counting then,
and is flagged too. An order of this shop skipped (cancelled in Shopify before it reached the
ERP) also lowered Shopify's level by itself, and the ERP never had it: its SKUs' levels are read
from Shopify again (jobs.stock_reread), the recheck alone seeing a target equal to the level last
written. That movement is recorded once per skip, though the cursor's overlap reads the message
again for minutes. Not every skip undoes a sale: an order closed as handled (entered in the ERP by
hand: the ERP's own reservation takes its units) and an order not for the ERP (sold at a POS
register, a test order, one of the store's time without the app: `jobs.order_kinds.not_for_erp`)
stand as sales in Shopify, and their drop is Shopify's level as it should be. Noted as a
cancellation, its units would be given back (a register's sale offered again) or the drop it made
taken as explained twice (a sale not known yet given back): they are no movement, and like any
order not skipped they explain a drop of the level (`sold_since`), but for an order of the store's
time without the app (error_detail "before_install": an orders/updated or the reconciliation made its
message now, its sale lowered the level long before): dated by its message, it would explain a drop
it did not make, and a sale not known yet would be given back.

An order already in the ERP that a person edits in Shopify to add units (orders/edited, flow
`order_edits`) has those units committed in Shopify at once, and reserved in the ERP only when the
edit reaches it: its job waits for the order's lock or the ERP, the edit is held while a line is
not mapped, or it came too late (separated) and is flagged for a person. Meanwhile they are sold
and not in the ERP's figure, like an order not posted yet: an edit's message while open (its
`changes`, read from both sides: each line's ERP quantity and Shopify's) holds the units it adds
(`edit_payloads`, at its order's company), and explains a drop of the level from when it came
(`sold_since`); when it closes (applied, undone, handled) its products are computed again
(`flag_order_changes`). Without it, the first write after the edit kept the drop out as one not
explained, and the next (any ERP movement of the SKU) offered the units again.

A shop joining or leaving the ERP (`same_erp_shops`: uninstalled, reinstalled, its connection
verified, moved) starts or stops its pending orders counting in the other stores' levels with no
message of it changing: each shop's pass keeps the set of shops it counted (SHOPS_SEEN_KIND) and,
when it differs, flags the products of the open orders and edits of the shops that came or went.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import delete, exists, or_, select

from erp.factory import erp_address
from jobs import stock_reread
from ledger import bindings, erp_place, trace, watermarks
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.models import (
    Binding,
    ErpConnection,
    Message,
    MessageStatus,
    OrderLink,
    Shop,
    ShopStatus,
    StoreLink,
    utcnow,
)

ORDERS_FLOW = "orders"
EDITS_FLOW = "order_edits"  # a Shopify edit of an order in the ERP (jobs.order_edits.to_erp)
ADDING = ("added", "qty")  # the kinds of an edit's change that may add units (to_erp.LineChange)
CLOSED = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)
# An orders message in one of these holds its order's stock, however old.
PENDING_ORDER_STATUSES = tuple(s.value for s in MessageStatus if s.value not in CLOSED)
# The orders cursor (watermark flow "stock", this scope; named when only closed orders were
# flagged) is read back this much, so a message opened or closed by a transaction that committed
# after our read is not missed (a recheck twice costs nothing: an unchanged level is not written).
CLOSED_SCOPE = "orders_closed"
CLOSED_OVERLAP = timedelta(minutes=10)
# erp_id = an orders message's unit_key, data {"skipped": its finished_at}: the skip was noted as a
# Shopify movement (jobs.stock_reread). The overlap above reads a skipped message again on every
# pass for minutes; a recheck twice is free, a movement recorded twice is not (each forces a read of
# the level, and its -units lowers the guard against sales not known yet once more). Kept while the
# cursor's overlap may still read the message, dropped after.
SKIP_NOTED_KIND = "stock_skip_noted"
# erp_id SHOPS_SEEN_ID, data {"shops": [ids]}: the shops on this shop's ERP whose pending orders its
# last stock pass counted (same_erp_shops); one joining or leaving has its orders' products rechecked.
SHOPS_SEEN_KIND, SHOPS_SEEN_ID = "stock_erp_shops", "same_erp"


def pending_payloads(shop_id: int, session: Any = None) -> list[dict[str, Any]]:
    """`pending_orders`' payloads."""
    return list(pending_orders(shop_id, session).values())


def pending_since(
    before: dict[int, dict[str, Any]], shop_id: int, session: Any = None, taken_at: datetime | None = None
) -> list[dict[str, Any]]:
    """The orders pending in `before` (taken at `taken_at`, before the ERP rows were read), pending
    now, or come in since `taken_at` whatever became of them but a skip or a cancellation, each
    once. An order reaching the ERP while its rows are read (its reservation after its row was
    read, its message closed before the levels are computed) is in the snapshot; one taken in
    Shopify meanwhile is in the later query, or, sent to the ERP at once and reserved there after
    the rows were read (a stale write's re-computation minutes into a big company's pass), among
    those come in since: in neither, its units were handed back. An order in both the ERP's
    reservation and these counts twice for one pass, the safe direction: its message closed, so
    the next pass computes its products again (`flag_order_changes`)."""
    if session is None:
        with session_scope() as own:
            return pending_since(before, shop_id, own, taken_at)
    shops = same_erp_shops(session, shop_id)
    since = _come_in_since(session, shop_id, shops, taken_at) if taken_at is not None else {}
    return list({**before, **since, **_pending_in(session, shop_id, shops)}.values())


def _come_in_since(
    session: Any, shop_id: int, shops: Collection[int], taken_at: datetime
) -> dict[int, dict[str, Any]]:
    """Request payloads, by message id, of `shops`' orders, and of the units Shopify edits added to
    orders in the ERP, whose message was closed since `taken_at` but for a skip (never the ERP's) or
    a cancellation (released). Closed since, not begun since: an import begun before the snapshot
    had no payload in it yet (it writes its lines once it has read the order), and an edit begun
    after it and taken by the ERP after the rows were read is in no other count."""
    stmt = (
        select(Message.id, Message.request_payload, StoreLink.nro_empresa)
        .outerjoin(StoreLink, StoreLink.shop_id == Message.shop_id)
        .where(
            Message.flow == ORDERS_FLOW,
            Message.status == MessageStatus.DONE.value,
            Message.shop_id.in_(sorted(shops)),
            Message.finished_at >= taken_at,
            ~_link_cancelled(),
        )
    )
    edits = edit_payloads(session, shop_id, open_only=False, shops=shops, finished_since=taken_at)
    return {**_payloads(session, stmt), **edits}


def pending_orders(shop_id: int, session: Any = None) -> dict[int, dict[str, Any]]:
    """Request payloads, by orders message id, of orders taken in Shopify, not in the ERP yet, in
    every installed shop connected to the same ERP as `shop_id` (erp.factory.erp_address): two
    stores selling one company's stock sell the same units (each payload names its company), but
    company 1 of another Consinco is another company, and a shop that uninstalled the app holds
    nothing.

    Whether an order counts is its state, never its age: its orders message is open (pending,
    waiting for payment, parked, retrying or failed) and its order link, if any, is not cancelled.
    An order parked for weeks is still sold in Shopify and still not reserved in the ERP; it holds
    its stock until it reaches the ERP (done) or is cancelled (the cancellation skips it).
    A payload without its company (parked for a setting before the orders flow named it) takes
    its store link's."""
    if session is None:
        with session_scope() as own:
            return pending_orders(shop_id, own)
    return _pending_in(session, shop_id, same_erp_shops(session, shop_id))


def _pending_in(session: Any, shop_id: int, shops: Collection[int]) -> dict[int, dict[str, Any]]:
    """`pending_orders` of `shops` (`shop_id`'s shops on its ERP, or some of them)."""
    stmt = (
        select(Message.id, Message.request_payload, StoreLink.nro_empresa)
        .outerjoin(StoreLink, StoreLink.shop_id == Message.shop_id)
        .where(
            Message.flow == ORDERS_FLOW,
            Message.status.in_(PENDING_ORDER_STATUSES),
            Message.shop_id.in_(sorted(shops)),
            ~_link_cancelled(),
        )
    )
    return {**_payloads(session, stmt), **edit_payloads(session, shop_id, shops=shops)}


def _payloads(session: Any, stmt: Any) -> dict[int, dict[str, Any]]:
    """(message id, request payload, store link's company) rows as payloads by message id; one
    without its company (parked for a setting before the orders flow named it) takes its store's."""
    return {
        message_id: p if p.get("nro_empresa") is not None else {**p, "nro_empresa": linked}
        for message_id, p, linked in session.execute(stmt)
        if p
    }


def added_units(payload: dict[str, Any] | None) -> dict[str, Decimal]:
    """idSku -> the Shopify units an order edit's changes add (its ERP quantity -> Shopify's, raised).
    A change counts in the ERP's quantity (a weighed line's kilograms); the edit's `lines` give each
    SKU's Shopify units beside it (`erp_qty`), which turn it into Shopify's (as an order's payload
    counts them: jobs.stock_map multiplies by the binding's unit_kg); without them, as it came."""
    ratio: dict[str, tuple[Decimal, Decimal]] = {}
    for line in (payload or {}).get("lines") or []:
        try:
            units, erp = Decimal(str(line["quantity"])), Decimal(str(line["erp_qty"]))
        except (ArithmeticError, KeyError, TypeError):
            continue
        was = ratio.get(str(line.get("sku")), (Decimal(0), Decimal(0)))
        ratio[str(line.get("sku"))] = (was[0] + units, was[1] + erp)
    added: dict[str, Decimal] = {}
    for change in (payload or {}).get("changes") or []:
        if not isinstance(change, dict) or change.get("kind") not in ADDING or not change.get("sku"):
            continue
        try:
            more = Decimal(str(change.get("after"))) - Decimal(str(change.get("before")))
        except ArithmeticError:
            continue
        sku = str(change["sku"])
        units, erp = ratio.get(sku, (Decimal(0), Decimal(0)))
        if units > 0 and erp > 0:
            more = more * units / erp
        if more > 0:
            added[sku] = added.get(sku, Decimal(0)) + more
    return added


def edit_payloads(
    session: Any,
    shop_id: int,
    *,
    open_only: bool = True,
    own_only: bool = False,
    since: datetime | None = None,
    shops: Collection[int] | None = None,
    finished_since: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """Payloads as `pending_orders` gives them, by order_edits message id, of the units Shopify edits
    added to orders in the ERP (their orders message done) that the ERP does not hold yet: each
    edit's message open (`open_only`; else any not skipped, for `sold_since`), of an order's open
    ones its newest read alone, its order link not cancelled, in every shop on the same ERP
    (`own_only`: this shop's alone; `shops`: those), begun after `since` when given, closed (done)
    since `finished_since` when given. Each payload's
    `sold_at` is its message's time (the edit came then); each line at the company the order's
    payload names for its SKU (a line of an order shipping from several companies names its own),
    else the order's, else the store link's."""
    if shops is None:
        shops = [shop_id] if own_only else same_erp_shops(session, shop_id)
    status = (
        Message.status.in_(PENDING_ORDER_STATUSES)
        if open_only
        else Message.status != MessageStatus.SKIPPED.value
    )
    stmt = select(
        Message.id,
        Message.shop_id,
        Message.shopify_id,
        Message.status,
        Message.created_at,
        Message.request_payload,
    ).where(
        Message.flow == EDITS_FLOW,
        Message.unit_key.like("edit:%"),
        status,
        Message.shop_id.in_(sorted(shops)),
        ~_link_cancelled(),
    )
    if since is not None:
        stmt = stmt.where(Message.created_at > since)
    if finished_since is not None:
        stmt = stmt.where(Message.status == MessageStatus.DONE.value, Message.finished_at >= finished_since)
    # Each edit's changes are read against the ERP order as it stands, every open edit before it
    # included: of an order's open edits (the ERP refused or has not taken them), its newest read
    # says what they add together; the older ones' units are in it (counted once, not 2 + 3).
    read = [e for e in session.execute(stmt).all() if e.shopify_id and isinstance(e.request_payload, dict)]
    read = [e for e in read if isinstance(e.request_payload.get("changes"), list)]
    newest: dict[tuple[int, str], int] = {}
    for e in read:
        if e.status in PENDING_ORDER_STATUSES:
            newest[(e.shop_id, e.shopify_id)] = max(e.id, newest.get((e.shop_id, e.shopify_id), 0))
    current = [
        e for e in read if e.status not in PENDING_ORDER_STATUSES or newest[(e.shop_id, e.shopify_id)] == e.id
    ]
    wanted = [(e.id, e.shop_id, e.shopify_id, e.created_at, added_units(e.request_payload)) for e in current]
    wanted = [w for w in wanted if w[4]]
    if not wanted:
        return {}
    orders = session.execute(
        select(Message.shop_id, Message.shopify_id, Message.request_payload, StoreLink.nro_empresa)
        .outerjoin(StoreLink, StoreLink.shop_id == Message.shop_id)
        .where(
            Message.flow == ORDERS_FLOW,
            Message.status == MessageStatus.DONE.value,
            Message.shop_id.in_(sorted({w[1] for w in wanted})),
            Message.shopify_id.in_(sorted({w[2] for w in wanted})),
        )
    ).all()
    placed = {(o.shop_id, o.shopify_id): (o.request_payload or {}, o.nro_empresa) for o in orders}
    found: dict[int, dict[str, Any]] = {}
    for message_id, shop, order_id, created_at, added in wanted:
        if (shop, order_id) not in placed:
            continue  # not in the ERP: its import sends Shopify's lines as they are then
        order, linked = placed[(shop, order_id)]
        company = linked if order.get("nro_empresa") is None else order["nro_empresa"]
        at_sku = {
            str(line["sku"]): line["nro_empresa"]
            for line in order.get("lines") or []
            if line.get("sku") and line.get("nro_empresa") is not None
        }
        lines = [
            {"sku": sku, "quantity": str(units), "nro_empresa": at_sku.get(sku, company)}
            for sku, units in added.items()
        ]
        found[message_id] = {"nro_empresa": company, "lines": lines, "sold_at": _utc(created_at).isoformat()}
    return found


def _link_cancelled() -> Any:
    """Whether the orders message's order link is marked cancelled (an EXISTS on Message)."""
    return exists().where(
        OrderLink.shop_id == Message.shop_id,
        OrderLink.shopify_order_id == Message.shopify_id,
        OrderLink.cancelled_at.is_not(None),
    )


def same_erp_shops(session: Any, shop_id: int) -> set[int]:
    """`shop_id` and every installed shop on its ERP (one query): by ledger.erp_place's rule, as a
    setup move and a hand link tell it (http and https of one host, a default port written or
    not, are one Consinco). Another shop only once its own credentials logged in there
    (ErpConnection.verified_at): the address alone is typed, and an admin of another store typing
    this ERP's with made-up credentials made its orders, never posted, hold back this store's stock."""
    rows = session.execute(
        select(Shop.id, Shop.status, ErpConnection.base_url, ErpConnection.verified_at).outerjoin(
            ErpConnection, ErpConnection.shop_id == Shop.id
        )
    ).all()
    address = {shop: _place(erp_address(url)) for shop, _status, url, _verified in rows}
    mine = address.get(shop_id)
    return {shop_id} | {
        shop
        for shop, status, _url, verified in rows
        if mine is not None
        and address[shop] == mine
        and status != ShopStatus.UNINSTALLED.value
        and verified is not None
    }


def _place(address: str | None) -> tuple[str, str] | None:
    return erp_place.place(address) if address is not None else None


def flag_order_changes(session: Any, shop_id: int) -> int:
    """Ask a stock recheck of every SKU of the products in orders (and of the units Shopify edits of
    orders in the ERP added) of the shops on this shop's ERP that opened, changed or closed since
    this shop last looked (whatever their status), and of the open ones of a shop that joined or
    left this shop's ERP since (`_shops_changed`); the
    cursor moves in the same transaction. This shop's orders skipped since are Shopify-side
    movements too (jobs.stock_reread). Returns the SKUs flagged."""
    started = utcnow()
    since = watermarks.read(session, shop_id, "stock", CLOSED_SCOPE).last_changed_at or started
    shops = same_erp_shops(session, shop_id)
    stmt = select(
        Message.shop_id,
        Message.flow,
        Message.status,
        Message.unit_key,
        Message.created_at,
        Message.finished_at,
        Message.updated_at,
        Message.request_payload,
        Message.error_detail,
    ).where(
        Message.shop_id.in_(sorted(shops)),  # uses ix_messages_updated
        Message.updated_at >= since - CLOSED_OVERLAP,
        Message.flow.in_((ORDERS_FLOW, EDITS_FLOW)),
    )
    skus = _shops_changed(session, shop_id, shops)
    skipped: list[_Skipped] = []
    for shop, flow, status, unit_key, created_at, finished_at, updated_at, payload, detail in session.execute(
        stmt
    ):
        if flow == EDITS_FLOW:  # an edit's units: counted while it was open (edit_payloads)
            skus.update(added_units(payload))
            continue
        lines = [line for line in (payload or {}).get("lines") or [] if line.get("sku")]
        skus.update(str(line["sku"]) for line in lines)
        if shop == shop_id and status == MessageStatus.SKIPPED.value and not _sale_stands(detail):
            skipped.append(_Skipped(unit_key, created_at, finished_at or updated_at, payload or {}))
    _note_skipped(session, shop_id, skipped)
    flagged = stock_reread.recheck_products(session, shop_id, skus)
    watermarks.advance(session, shop_id, "stock", CLOSED_SCOPE, started, 0, started)
    # The next pass reads from `started` less the overlap: a skip noted before then is not read again.
    session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id,
            Binding.kind == SKIP_NOTED_KIND,
            Binding.updated_at < started - CLOSED_OVERLAP,
        )
    )
    return len(flagged)


def _shops_changed(session: Any, shop_id: int, shops: set[int]) -> set[str]:
    """The SKUs of the orders pending in a shop that joined or left this shop's ERP (`shops` now,
    against the ones its last pass saw: SHOPS_SEEN_KIND), and records `shops`. Their orders started
    or stopped counting in this shop's levels (`pending_orders`: a sibling store uninstalled, its
    connection verified, reinstalled, moved to another ERP; this shop's own connection moved), yet
    none of their messages changed: without this, a level stayed short by a gone store's units, or
    oversellable by a new one's, until the SKU's ERP row moved or the nightly full sweep. The
    first pass (nothing recorded yet) records and flags nothing: the set it changed from is not
    known."""
    seen = bindings.get_many(session, shop_id, SHOPS_SEEN_KIND, [SHOPS_SEEN_ID]).get(SHOPS_SEEN_ID)
    before = (seen.data or {}).get("shops") if seen is not None else None
    now = sorted(shops)
    if before == now:
        return set()
    bindings.upsert_many(
        session, shop_id, SHOPS_SEEN_KIND, [BindingRow(SHOPS_SEEN_ID, None, None, {"shops": now})]
    )
    if not isinstance(before, list):
        return set()
    moved = set(before) ^ shops
    pending = _pending_in(session, shop_id, moved).values()
    return {str(line["sku"]) for payload in pending for line in payload.get("lines") or [] if line.get("sku")}


def _sale_stands(detail: Any) -> bool:
    """A skipped orders message whose sale stands: closed as handled (ledger.handled: entered in
    the ERP by hand) or not for the ERP (jobs.orders: a POS register's sale, a test order...)."""
    return isinstance(detail, dict) and (
        isinstance(detail.get(trace.HANDLED), dict) or bool(detail.get("not_for_erp"))
    )


def _sale_stands_sql() -> Any:
    """`_sale_stands` as SQL on Message."""
    return trace.closed_as_handled() | Message.error_detail["not_for_erp"].as_boolean().is_(True)


def _sold_before_install_sql() -> Any:
    """An orders message skipped as an order of the store's time before the app (jobs.orders): its
    sale is older than the message."""
    return Message.error_detail["before_install"].as_boolean().is_(True)


@dataclass(frozen=True)
class _Skipped:
    unit_key: str
    created_at: datetime  # when the order was taken: its sale lowered Shopify's level then
    finished_at: datetime  # when it was skipped: which skip of the message this is
    payload: dict[str, Any]


def _note_skipped(session: Any, shop_id: int, skipped: list[_Skipped]) -> None:
    """Orders cancelled in Shopify before they reached the ERP: each sale lowered Shopify's level
    (when it was taken), and Shopify gave the units back only if it restocked them. Each skip is
    noted once (SKIP_NOTED_KIND). A line without its company is the store link's, as in
    `pending_payloads` (a movement of no company would be read at every company's location)."""
    noted = bindings.get_many(session, shop_id, SKIP_NOTED_KIND, [s.unit_key for s in skipped])
    fresh = [s for s in skipped if (noted[s.unit_key].data if s.unit_key in noted else {}) != _noted(s)]
    if not fresh:
        return
    linked = session.scalars(select(StoreLink.nro_empresa).where(StoreLink.shop_id == shop_id)).first()
    for order in fresh:
        by_company: dict[Any, dict[str, int]] = {}
        for line in order.payload.get("lines") or []:
            if not line.get("sku") or line.get("quantity") is None:
                continue
            company = line.get("nro_empresa", order.payload.get("nro_empresa"))
            units = int(Decimal(str(line["quantity"])).to_integral_value(ROUND_CEILING))
            found = by_company.setdefault(linked if company is None else company, {})
            found[str(line["sku"])] = found.get(str(line["sku"]), 0) - units
        at = _utc(order.created_at)
        for company, deltas in by_company.items():
            stock_reread.note(session, shop_id, company, order.unit_key, deltas, at)
    bindings.upsert_many(
        session, shop_id, SKIP_NOTED_KIND, [BindingRow(s.unit_key, None, None, _noted(s)) for s in fresh]
    )


def _noted(order: _Skipped) -> dict[str, str]:
    return {"skipped": _utc(order.finished_at).isoformat()}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def sold_since(shop_id: int, company: int, since: datetime) -> dict[str, list[tuple[datetime, Decimal]]]:
    """This shop's orders for `company` whose message appeared after `since`, whatever became of
    them but a skip undoing the sale (cancelled, never paid; a sale entered in the ERP by hand or not
    for the ERP stands) or a cancellation since (its order link's), and but an order of the store's
    time before the app (its sale is older than its message): idSku -> [(sold at, Shopify units)].

    What explains a drop of a SKU's level at the company's location since Shopify showed a known
    figure (jobs.stock_writer): only this shop's orders of that very SKU move its inventory item
    there; an order still being read from Shopify (no payload yet) explains nothing yet. An order
    is dated by its sale (Shopify's createdAt, the payload's `sold_at`), else by its message: a
    sale kept out of a level before its webhook came was sold before that level was shown, and its
    message, appearing after, must not explain a later drop (another sale not known yet, handed
    back). A line without its company is the store link's, as in `pending_orders`."""
    stmt = (
        select(Message.created_at, Message.request_payload, StoreLink.nro_empresa)
        .outerjoin(StoreLink, StoreLink.shop_id == Message.shop_id)
        .where(
            Message.shop_id == shop_id,
            Message.flow == ORDERS_FLOW,
            or_(Message.status != MessageStatus.SKIPPED.value, _sale_stands_sql()),
            ~_sold_before_install_sql(),
            Message.created_at > since,
            ~_link_cancelled(),  # its units restocked: a later drop is another sale (cancelled
            # without restock, its drop reads unexplained: kept out for one write, the safe side)
        )
    )
    found: dict[str, list[tuple[datetime, Decimal]]] = {}
    with session_scope() as session:
        for created_at, payload, linked in session.execute(stmt):
            if not payload:
                continue
            at = _sold_at(payload) or _utc(created_at)
            for line in payload.get("lines") or []:
                line_company = line.get("nro_empresa", payload.get("nro_empresa"))
                if (linked if line_company is None else line_company) != company:
                    continue  # a line of an order shipping from several companies names its own
                if line.get("sku") and line.get("quantity") is not None:
                    found.setdefault(str(line["sku"]), []).append((at, Decimal(str(line["quantity"]))))
        for payload in edit_payloads(session, shop_id, open_only=False, own_only=True, since=since).values():
            at = _sold_at(payload) or _utc(since)
            for line in payload["lines"]:
                if line["nro_empresa"] == company:
                    found.setdefault(line["sku"], []).append((at, Decimal(line["quantity"])))
    return found


def _sold_at(payload: dict[str, Any]) -> datetime | None:
    """The order's sale time its payload keeps (Shopify's createdAt), None when it keeps none."""
    value = payload.get("sold_at")
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
