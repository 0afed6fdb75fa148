"""Daily reconciliation (flow `reconcile`): what webhooks and polls missed, and where the sides drift.

Sources: Shopify orders updated in the last `window` (2 days by default: the overlap Shopify
itself advises, since webhooks can be lost), the ledger's OrderLinks and trace, the ERP's
orders (GET PedidoVenda/{nro}), stock per mapped company and SKUs. Unit of work: one report per
shop and day (message `report:<YYYY-MM-DD>`, the report in response_payload; a second run the
same day replaces it), also kept in Redis (`reconcile:<shop_id>:latest`) for the CLI and page.

Sections:
- orders: Shopify orders without an OrderLink (webhook missed) -> `jobs.orders.import_order`
  enqueued by dotted name; linked orders never sent to the ERP; ERP orders that do not exist;
  totals that differ (Shopify current total less tips and gift cards sold vs the ERP's
  vlrTotalAtendido, else vlrTotalPedido);
  cancelled on one side only; ERP events about orders the app does not know;
- stock: per mapped location, what the stock flow would set now (the ERP's figure less orders not
  in the ERP yet, whole Shopify units, 0 when not for sale) vs Shopify `available` for the bound
  SKUs: `stock_sample` of them per company, read 250 a call, a window that moves on by that many
  each day, so a catalog larger than the sample is covered whole every ceil(SKUs / sample) days;
- catalog: active ERP SKUs without a variant binding, bindings whose SKU is gone or inactive.
A section the ERP or Shopify cannot answer carries its error; the others still report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import erp
from erp.client import ErpClient
from jobs.locks import LockBusy, flow_lock
from jobs.order_map import WILL_NOT_BE_PAID, erp_total_expected
from ledger import kv, queues, trace
from ledger.db import session_scope
from ledger.errors import IntegrationError, Transient
from ledger.flows import BOTH
from ledger.models import Binding, LocationMapping, Message, MessageStatus, OrderLink, Shop, utcnow
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.order_settlement import OrderTotal, gift_cards_sold, orders_with_totals_since
from shopify_app.admin_api.stock_ops import MAX_ITEMS_PER_CALL, item_levels_at

log = logging.getLogger(__name__)

FLOW = "reconcile"
WINDOW = timedelta(days=2)
STOCK_SAMPLE = 1000  # SKUs per company and day: 4 reads of 250
LISTED = 50  # rows listed per finding (counts are always complete)
TOLERANCE = Decimal("0.01")  # a cent or more differs: totals are equal to the cent by design
IMPORT_JOB = "jobs.orders.import_order"
NOT_SENT_AFTER = timedelta(hours=1)
OVERLAP = timedelta(hours=1)  # a report window reaches this far back before the last report ran
MAX_CATCH_UP = timedelta(days=30)
IN_FLIGHT = timedelta(minutes=10)  # an order changed this recently may still be on its way in


def redis_key(shop_id: int) -> str:
    return f"reconcile:{shop_id}:latest"


def run(shop_id: int, *, window: timedelta = WINDOW, stock_sample: int = STOCK_SAMPLE) -> dict[str, Any]:
    """Build, store and return today's report for one shop ({"busy": True} if one is running)."""
    try:
        with flow_lock(shop_id, FLOW):
            return _run(shop_id, window, stock_sample)
    except LockBusy:
        log.info("reconcile: shop %s already running", shop_id)
        return {"busy": True}


def report_key(at: datetime) -> str:
    """The unit of one day's report."""
    return f"report:{at:%Y-%m-%d}"


def replay(message_id: int) -> dict[str, Any]:
    """Run the report of the message's shop again (current state: a report is never replayed stale).

    The new report is today's message; a replayed message of an earlier day (parked on the ERP
    connection, resumed once it was saved) is done too, pointing to it, or it would stay parked."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.flow != FLOW:
            raise LookupError(f"message {message_id} is not a reconciliation report")
        shop_id, unit_key = message.shop_id, message.unit_key
    report = run(shop_id)
    if "summary" not in report:  # another report is running: it is today's
        return report
    today = report_key(datetime.fromisoformat(report["generated_at"]))
    if unit_key != today:
        with session_scope() as session:
            replayed = session.get(Message, message_id)
            if replayed is not None and replayed.status != MessageStatus.DONE.value:
                pointer = {"replaced_by": today, "summary": report["summary"]}
                trace.succeed(session, replayed, response=pointer)
    return report


def latest(shop_id: int) -> dict[str, Any] | None:
    """The last stored report (Redis, else the newest report message; a replayed earlier day's
    message only points to the report its replay made)."""
    raw = kv.get_redis().get(redis_key(shop_id))
    if raw:
        return json.loads(raw)
    with session_scope() as session:
        messages = session.scalars(
            select(Message)
            .where(
                Message.shop_id == shop_id, Message.flow == FLOW, Message.status == MessageStatus.DONE.value
            )
            .order_by(Message.updated_at.desc())
        )
        for message in messages:
            if message.response_payload and "replaced_by" not in message.response_payload:
                return dict(message.response_payload)
        return None


def _since(session: Any, shop_id: int, started: datetime, window: timedelta) -> datetime:
    """The window, stretched back to the last report that ran (less an overlap) when runs were
    missed, so a day without a report leaves no gap (at most MAX_CATCH_UP back)."""
    since = started - window
    last = session.scalars(
        select(Message.created_at)
        .where(Message.shop_id == shop_id, Message.flow == FLOW, Message.status == MessageStatus.DONE.value)
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()
    if last is not None:
        since = min(since, max(_utc(last) - OVERLAP, started - MAX_CATCH_UP))
    return since


def _run(shop_id: int, window: timedelta, stock_sample: int) -> dict[str, Any]:
    started = utcnow()
    with session_scope() as session:
        since = _since(session, shop_id, started, window)
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} does not exist")
        domain = shop.domain
        message = trace.begin(session, shop_id, FLOW, report_key(started), BOTH,
                              request={"since": since.isoformat(), "stock_sample": stock_sample})  # fmt: skip
        message_id = message.id
    try:
        client, erp_client = for_shop(domain, lane="background"), erp.for_shop(shop_id)
        report: dict[str, Any] = {
            "shop": domain,
            "generated_at": started.isoformat(),
            "since": since.isoformat(),
        }
        report["orders"] = _section(lambda: _orders(shop_id, client, erp_client, since))
        report["stock"] = _section(lambda: _stock(shop_id, client, erp_client, stock_sample, started.date()))
        report["catalog"] = _section(lambda: _catalog(shop_id, erp_client))
        report["summary"] = summary(report)
    except Exception as exc:
        with session_scope() as session:
            failed = session.get(Message, message_id)
            assert failed is not None
            trace.fail(session, failed, exc)
        raise
    with session_scope() as session:
        done = session.get(Message, message_id)
        assert done is not None
        trace.succeed(session, done, response=report)
    kv.get_redis().set(redis_key(shop_id), json.dumps(report), ex=timedelta(days=3))  # LGPD: not for ever
    log.info("reconcile: shop %s %s", shop_id, report["summary"], extra={"shop_id": shop_id, "flow": FLOW})
    return report


def _section(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One section; an outside system's classified failure is reported in it, not raised."""
    try:
        return build()
    except IntegrationError as exc:
        return {"error": f"{type(exc).__name__}: {exc.message}", "retryable": isinstance(exc, Transient)}


# ---------------------------------------------------------------------------- orders


def _orders(shop_id: int, client: AdminClient, erp_client: ErpClient, since: datetime) -> dict[str, Any]:
    listed: dict[str, OrderTotal] = {o.id: o for o in orders_with_totals_since(client, since.isoformat())}
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        # Shopify's times are whole seconds: an order of the install's own second is the app's.
        installed_first = _utc(shop.created_at).replace(microsecond=0).isoformat() if shop is not None else ""
        links = list(
            session.scalars(
                select(OrderLink).where(
                    OrderLink.shop_id == shop_id,
                    (OrderLink.shopify_order_id.in_(list(listed))) | (OrderLink.created_at >= since),
                )
            )
        )
        for link in links:
            session.expunge(link)
        unknown = _unknown_erp_orders(session, shop_id, since)
    linked = {link.shopify_order_id for link in links}
    unlinked = [o for o in listed.values() if o.id not in linked and not o.cancelled_at]
    # Placed before the app was installed: the store handled it without the app (jobs.orders
    # never sends it to the ERP), so it is counted, not imported.
    before_install = [o for o in unlinked if o.created_at and _iso_utc(o.created_at) < installed_first]
    unlinked = [o for o in unlinked if o not in before_install]
    # Linked with no ERP number (jobs.orders links an order it parks or refuses): its message
    # says why as well, so it is held as an unlinked one is, not "never sent to the ERP".
    # Its order need not be listed (changed within the window): a parked order replayed today
    # is linked today though Shopify last changed it days ago; the link stands in for it then.
    unsent = [listed.get(link.shopify_order_id) or _stand_in(link) for link in links
              if link.nro_pedvenda is None and link.cancelled_at is None]  # fmt: skip
    held = _held_in_app(shop_id, unlinked + [o for o in unsent if not o.cancelled_at])
    missing_in_ledger, enqueued, in_flight = [], [], []
    recent = (utcnow() - IN_FLIGHT).isoformat()
    for order in unlinked:
        if order.id in held:
            continue  # the app has it: waiting for payment, parked on a mapping, refused (its message says)
        if _iso_utc(order.updated_at) >= recent:
            in_flight.append(order.id)  # its webhook may still be in the inbox: the next report sees it
            continue
        missing_in_ledger.append({"order": order.id, "name": order.name, "total": _text(order.current_total)})
        num = order.id.rsplit("/", 1)[-1]
        job = queues.enqueue(IMPORT_JOB, shop_id, order.id, queue=queues.ORDERS, replace_ended=True,
                             job_id=queues.job_key("reconcile-import", shop_id, num))  # fmt: skip
        if job is not None:
            enqueued.append(order.id)
    findings: dict[str, list[dict[str, Any]]] = {
        "missing_in_erp": [], "missing_in_shopify": [], "totals_differ": [], "status_differs": []
    }  # fmt: skip
    for link in links:
        if link.shopify_order_id not in held:
            _compare(link, listed.get(link.shopify_order_id), client, erp_client, findings)
    return {
        "checked": len(listed),
        "missing_in_ledger": missing_in_ledger[:LISTED],
        "missing_in_ledger_count": len(missing_in_ledger),
        "imports_enqueued": enqueued,
        "held_in_app": list(held.values())[:LISTED],
        "held_in_app_count": len(held),
        "placed_before_install_count": len(before_install),
        "in_flight_count": len(in_flight),
        **{k: v[:LISTED] for k, v in findings.items()},
        **{f"{k}_count": len(v) for k, v in findings.items()},
        "unknown_in_erp": unknown[:LISTED],
    }


OPEN_MESSAGE = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value, MessageStatus.PARKED.value,
                MessageStatus.FAILED.value)  # fmt: skip


def _stand_in(link: OrderLink) -> OrderTotal:
    """What _held_in_app needs of an order the listing did not bring, from its link."""
    return OrderTotal(
        id=link.shopify_order_id,
        name=link.shopify_order_name or "",
        created_at=None,
        updated_at="",
        cancelled_at=None,
        financial_status=link.shopify_status,
        current_total=None,
    )


def _held_in_app(shop_id: int, orders: list[OrderTotal]) -> dict[str, dict[str, Any]]:
    """Orders not in the ERP (no link, or a link with no ERP number) whose webhook did arrive: their
    orders message (waiting for payment, parked, refused, a test order never sent...) says why;
    not a missed webhook, nor one "never sent". A closed message
    holds nothing: one skipped as unpaid (EXPIRED, VOIDED) whose order Shopify now shows paid, or
    one done whose link was lost, is not held (the missed orders/paid: imported again)."""
    if not orders:
        return {}
    keys = {f"order:{o.id.rsplit('/', 1)[-1]}": o for o in orders}
    with session_scope() as session:
        rows = session.execute(
            select(Message.unit_key, Message.status, Message.error_text, Message.error_detail).where(
                Message.shop_id == shop_id, Message.flow == "orders", Message.unit_key.in_(list(keys))
            )
        ).all()
    held = {}
    for key, status, why, detail in rows:
        order = keys[key]
        unpaid = (order.financial_status or "").upper() in WILL_NOT_BE_PAID
        never = bool((detail or {}).get("not_for_erp"))  # a test order (jobs.orders.not_for_erp)
        if status in OPEN_MESSAGE or (status == MessageStatus.SKIPPED.value and (unpaid or never)):
            held[order.id] = {"order": order.id, "name": order.name, "status": status, "why": why}
    return held


def _iso_utc(text: str | None) -> str:
    """Shopify's ISO time as a comparable UTC ISO string ("" when absent)."""
    if not text:
        return ""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _compare(
    link: OrderLink,
    shopify: OrderTotal | None,
    client: AdminClient,
    erp_client: ErpClient,
    findings: dict[str, list[dict[str, Any]]],
) -> None:
    """One linked order against both sides. A link without an ERP order is "missing in the ERP"
    unless Shopify shows the order cancelled: the ERP refused it (or it was never sent) and the
    store cancelled it since, so there is nothing the ERP should hold."""
    row = {"order": link.shopify_order_id, "name": link.shopify_order_name, "nro_pedvenda": link.nro_pedvenda}
    current = shopify if shopify is not None else client.order(link.shopify_order_id)
    if current is None:
        findings["missing_in_shopify"].append(row)
        return
    if link.nro_pedvenda is None:
        if current.cancelled_at is not None:
            return  # cancelled in Shopify before it reached the ERP: not missing there
        if link.created_at and utcnow() - _utc(link.created_at) > NOT_SENT_AFTER:
            findings["missing_in_erp"].append({**row, "why": "never sent to the ERP (see the orders flow)"})
        return
    try:
        erp_order = erp_client.get_order(link.nro_pedvenda)
    except erp.ErpRejected as exc:
        if exc.status == 404:
            findings["missing_in_erp"].append({**row, "why": exc.mensagem})
            return
        raise
    if shopify is None:
        return
    erp_cancelled, shop_cancelled = erp_order.situacao == "C", shopify.cancelled_at is not None
    if erp_cancelled != shop_cancelled:
        findings["status_differs"].append(
            {**row, "erp": erp_order.situacao, "shopify_cancelled": shop_cancelled}
        )
        return
    if erp_cancelled:
        return
    erp_total = erp_order.total_served if erp_order.total_served is not None else erp_order.total
    if shopify.current_total is None:
        return
    # The ERP order carries goods and freight: Shopify's total less tips and gift cards sold (no
    # ERP line carries them). The gift cards are read only for an order the tips do not explain.
    cards = Decimal(0)
    expected = erp_total_expected(shopify.current_total, shopify.tips, cards)
    if expected - erp_total >= TOLERANCE:
        cards = gift_cards_sold(client, link.shopify_order_id)
        expected = erp_total_expected(shopify.current_total, shopify.tips, cards)
    if abs(expected - erp_total) >= TOLERANCE:
        basis = "vlrTotalAtendido" if erp_order.total_served is not None else "vlrTotalPedido"
        shop = {"shopify": _text(shopify.current_total)}
        shop |= {"tips": _text(shopify.tips)} if shopify.tips else {}
        shop |= {"gift_cards": _text(cards)} if cards else {}
        findings["totals_differ"].append({**row, **shop, "erp": _text(erp_total), "erp_basis": basis})


def _unknown_erp_orders(session: Any, shop_id: int, since: datetime) -> list[dict[str, Any]]:
    """ERP orders the poller saw events of but no Shopify order matches (skipped as unknown)."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.SKIPPED.value,
            Message.unit_key.like("event:%"),
            Message.updated_at >= since,
            Message.error_text.like("ERP order % is not linked%"),
        )
    )
    seen: dict[str, dict[str, Any]] = {}
    for message in rows:
        seen.setdefault(message.erp_id or "", {"nro_pedvenda": message.erp_id, "events": 0})["events"] += 1
    return list(seen.values())


# ---------------------------------------------------------------------------- stock and catalog


def _stock(
    shop_id: int, client: AdminClient, erp_client: ErpClient, sample: int, day: date | None = None
) -> dict[str, Any]:
    """Shopify's `available` against what the stock flow would set now (jobs.stock's own rule:
    the ERP's figure less the orders not in the ERP yet, in whole Shopify units, 0 for a SKU not
    for sale), so a weighed item, a pending order or an unpriced variant is not drift. `sample`
    SKUs per company, from where `day` puts the window (the whole catalog when it is larger)."""
    from jobs.stock_map import (
        SkuUnit,
        for_sale,
        level_target,
        pending_base_by_product,
        sellable_base,
        sku_ids,
    )
    from jobs.stock_pending import pending_payloads

    with session_scope() as session:
        locations = [
            (m.nro_empresa, m.location_id)
            for m in session.scalars(
                select(LocationMapping)
                .where(LocationMapping.shop_id == shop_id)
                .order_by(LocationMapping.nro_empresa)
            )
        ]
        variants = {b.erp_id: b.data or {} for b in session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "variant"))}  # fmt: skip
        prices = {b.erp_id: b.data or {} for b in session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "price"))}  # fmt: skip
        payloads = pending_payloads(shop_id, session)
    units = {sku: u for sku, data in variants.items() if (u := SkuUnit.from_binding(sku, data))}
    by_product: dict[int, list[str]] = {}
    for sku, unit in units.items():
        by_product.setdefault(unit.seq_produto, []).append(sku)
    pending = pending_base_by_product(payloads, units)
    result = []
    for nro_empresa, location_id in locations:
        expected: dict[str, int] = {}
        for stock in erp_client.stock(None, nro_empresa):
            base = sellable_base(stock)
            for id_sku in sku_ids(stock, lambda: by_product):
                unit, data = units.get(id_sku), variants.get(id_sku, {})
                if unit is None or not data.get("inventory_item_id"):
                    continue
                pending_here = pending.get((nro_empresa, unit.seq_produto), Decimal(0))
                selling = for_sale(data, prices.get(id_sku))
                target = level_target(base, pending_here, unit, for_sale=selling)
                if target.quantity is not None:  # no stock control: sold without limit, no level
                    expected[id_sku] = target.quantity
        chosen, start = _window(sorted(expected), sample, day or utcnow().date())
        differ = []
        for at in range(0, len(chosen), MAX_ITEMS_PER_CALL):
            batch = chosen[at : at + MAX_ITEMS_PER_CALL]
            seen = item_levels_at(client, [variants[s]["inventory_item_id"] for s in batch], location_id)
            for id_sku in batch:
                item = seen.get(variants[id_sku]["inventory_item_id"])
                shopify = None if item is None else item.available  # None: not stocked there
                if shopify != expected[id_sku]:
                    differ.append({"sku": id_sku, "erp": str(expected[id_sku]), "shopify": shopify})
        result.append({"nro_empresa": nro_empresa, "location_id": location_id, "checked": len(chosen),
                       "from_sku": chosen[0] if chosen and start else None,
                       "bound_with_stock": len(expected), "differ": differ[:LISTED],
                       "differ_count": len(differ)})  # fmt: skip
    return {"locations": result, "sample": sample}


def _window(skus: list[str], sample: int, day: date) -> tuple[list[str], int]:
    """`sample` of the sorted SKUs, starting where the day's turn puts it and wrapping around:
    consecutive days check consecutive windows, so every SKU is checked within
    ceil(len / sample) days (all of them each day when the catalog is no larger)."""
    if len(skus) <= sample:
        return skus, 0
    start = (day.toordinal() * sample) % len(skus)
    return (skus[start:] + skus[:start])[:sample], start


def _catalog(shop_id: int, erp_client: ErpClient) -> dict[str, Any]:
    active, inactive = set(), set()
    for sku in erp_client.skus():
        (active if sku.active else inactive).add(sku.id_sku)
    with session_scope() as session:
        bound = {b.erp_id for b in session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "variant"))}  # fmt: skip
    missing = sorted(active - bound)
    orphans = sorted(bound - active)
    return {
        "erp_active": len(active),
        "bound": len(bound),
        "missing_in_shopify": missing[:LISTED],
        "missing_in_shopify_count": len(missing),
        "orphan_bindings": [
            {"sku": s, "why": "inactive in the ERP" if s in inactive else "not in the ERP"}
            for s in orphans[:LISTED]
        ],
        "orphan_bindings_count": len(orphans),
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Pure: the counts a person reads first (None where a section failed)."""
    orders, stock, catalog = report.get("orders", {}), report.get("stock", {}), report.get("catalog", {})
    return {
        "orders_missing_in_ledger": orders.get("missing_in_ledger_count"),
        "orders_held_in_app": orders.get("held_in_app_count"),
        "orders_missing_in_erp": orders.get("missing_in_erp_count"),
        "orders_missing_in_shopify": orders.get("missing_in_shopify_count"),
        "order_totals_differ": orders.get("totals_differ_count"),
        "order_status_differs": orders.get("status_differs_count"),
        "stock_differs": None
        if "error" in stock
        else sum(loc["differ_count"] for loc in stock.get("locations", [])),
        "skus_missing_in_shopify": catalog.get("missing_in_shopify_count"),
        "orphan_bindings": catalog.get("orphan_bindings_count"),
        "errors": [name for name in ("orders", "stock", "catalog") if "error" in report.get(name, {})],
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every time in the ledger is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
