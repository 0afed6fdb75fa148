"""Demo step 4: orders, Shopify -> ERP and back: checkout, import, picking, NF-e, cancellations.

Orders are placed through the Shopify sandbox's checkout, so they reach the app the only way
real ones do: signed orders/create + orders/paid webhooks, the inbox, the worker, jobs.orders.
The ERP sandbox then plays the store: it separates each order (one with a cut, one with a
weighed item weighing differently), invoices most (NF-e 55, one NFC-e 65) and cancels some
(one before invoicing, one after). The EventoPedido poller (jobs.order_events.run) brings each
event back to Shopify through the worker, and the demo prints both sides per order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs.demo_catalog import flow_module, run_flows
from ledger.bindings import VARIANT_KIND
from ledger.db import session_scope
from ledger.models import Binding, Message, MessageStatus, OrderLink

log = logging.getLogger(__name__)

WAIT_SECONDS = 90.0
OPEN = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
EVENT_FLOWS = ("order_edits", "invoices", "cancellations")


@dataclass
class Scenario:
    """One order's story: how it is paid and what the store does with it."""

    label: str
    gateway: str  # pix | cartao | boleto
    capture: str = "automatic"
    cut: bool = False  # serve less than ordered on the first line
    weighed: bool = False  # carry a weighed (KG) item
    model: str | None = "55"  # invoice model; None = never invoiced
    cancel: str | None = None  # "before" / "after" invoicing
    shipping: str = "SEDEX"  # the checkout's rate (sandbox SHIPPING_RATES); RETIRADA: a local pickup
    risk: str = "low"  # Shopify's fraud analysis at checkout; "high": held for a person's review
    slot: dict[str, str] | None = None  # a delivery-date app's cart attributes: the slot obsPedido names
    reschedule: dict[str, str] | None = None  # the slot changed in Shopify once the order is in the ERP
    asked: dict[str, str] | None = None  # the first line's properties (its ERP item's observacaoItem)


def scenarios(today: date) -> tuple[Scenario, ...]:
    """The stories, with the slots a customer picks at checkout on the days after `today` (the run's:
    a slot computed when the module was imported is past for a run that starts after midnight)."""
    slot_day, next_day = ((today + timedelta(days=n)).isoformat() for n in (1, 2))
    return (
        Scenario(
            "Pix, delivery slot chosen then rescheduled, invoiced (NF-e)",
            "pix",
            slot={"Data de entrega": slot_day, "Horário de entrega": "08h às 12h"},
            reschedule={"Data de entrega": next_day, "Horário de entrega": "14h às 18h"},
            asked={"Aceita substituto": "Não", "_option_set": "3"},
        ),
        Scenario("card, manual capture, a cut at picking", "cartao", "manual", cut=True, shipping="PAC"),
        Scenario("card, manual capture, weighed item (NFC-e)", "cartao", "manual", weighed=True, model="65"),
        Scenario("boleto, paid later, invoiced", "boleto", shipping="EXPRESSA"),
        Scenario("Pix, cancelled by the store before invoicing", "pix", model=None, cancel="before"),
        Scenario("card, invoiced then cancelled (NF-e cancelled)", "cartao", cancel="after"),
        Scenario(
            "Pix, store pickup: ready for pickup at the NF-e",
            "pix",
            shipping="RETIRADA",
            slot={"Pickup-Date": slot_day, "Pickup-Time": "17:00 - 18:00"},
        ),
        Scenario(
            "card, fraud risk high: held, sent after a person's review", "cartao", "manual", risk="high"
        ),
    )


@dataclass
class PlacedOrder:
    scenario: Scenario
    gid: str
    name: str = ""
    nro: int | None = None
    row: dict[str, Any] = field(default_factory=dict)  # both sides as printed (read_both_sides)


@dataclass
class OrdersOutcome:
    placed: list[PlacedOrder] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    day: date = field(default_factory=lambda: store_today())  # the slots are the days after it


def store_today(now: datetime | None = None) -> date:
    """The store's day (ERP_TIMEZONE), as the customer picking a slot sees it: at 22:00 in Sao Paulo
    the server's (UTC) date is already tomorrow, and "tomorrow's" slot would be the day after."""
    from jobs.price_map import erp_today
    from settings import get_settings

    return erp_today(get_settings().erp_timezone, now)


def wait_until(check: Callable[[], bool], timeout: float = WAIT_SECONDS, every: float = 0.3) -> bool:
    """Poll `check` until true or `timeout` (the worker applies webhooks and events meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def link_of(gid: str) -> OrderLink | None:
    with session_scope() as session:
        return session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == gid)).one_or_none()


def order_message(shop_id: int, gid: str) -> Message | None:
    with session_scope() as session:
        return session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == "orders",
                Message.unit_key == f"order:{gid.rsplit('/', 1)[-1]}",
            )
        ).one_or_none()


def sellable_skus(stack: Any, shop_id: int, location: str) -> tuple[list[str], list[str]]:
    """(plain, weighed) SKUs of active variants with stock at the store's location, most stock first."""
    from sandbox.shopify.state_dump import dump

    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == VARIANT_KIND)
        )
        weighed = {b.erp_id for b in rows if (b.data or {}).get("weighed")}
    stocked: list[tuple[int, str]] = []
    for product in dump(stack.shopify.sandbox, stack.options.shop)["products"]:
        if product["status"] != "ACTIVE":
            continue
        for variant in product["variants"]:
            available = (variant["inventory"].get(location) or {}).get("available") or 0
            if available >= 5:
                stocked.append((available, variant["sku"]))
    stocked.sort(reverse=True)
    return [s for _, s in stocked if s not in weighed], [s for _, s in stocked if s in weighed]


def place_all(
    stack: Any, plain: list[str], weighed: list[str], echo: Callable[[str], None], day: date
) -> list[PlacedOrder]:
    """One checkout per scenario (its webhooks go to the app); a boleto is paid right after."""
    from sandbox.shopify.checkout import mark_paid, place_order

    placed: list[PlacedOrder] = []
    cursor = 0
    for index, scenario in enumerate(scenarios(day)):
        if scenario.weighed and not weighed:
            echo(f"  ({scenario.label}: no weighed item in stock, skipped)")
            continue
        lines = [{"sku": plain[(cursor + i) % len(plain)], "quantity": 3 if i == 0 else 1} for i in range(2)]
        if scenario.asked:
            lines[0]["properties"] = scenario.asked
        cursor += 2
        if scenario.weighed:
            lines.append({"sku": weighed[index % len(weighed)], "quantity": 2})
        gid = place_order(
            stack.shopify.sandbox, stack.options.shop, lines=lines, gateway=scenario.gateway,
            capture=scenario.capture, seed=100 + index, discount_rate=0.3, shipping=scenario.shipping,
            risk=scenario.risk, attributes=scenario.slot,
        )  # fmt: skip
        order = stack.shopify.sandbox.store.get(stack.options.shop, gid)
        placed.append(PlacedOrder(scenario, gid, order.get("name", "")))
        echo(f"  placed {order.get('name', gid)}: {scenario.label}")
        if scenario.gateway == "boleto":
            mark_paid(stack.shopify.sandbox, stack.options.shop, gid)
            echo(f"    {order.get('name', gid)}: the boleto was paid (orders/paid)")
    return placed


def review_held(stack: Any, shop_id: int, placed: list[PlacedOrder], echo: Callable[[str], None]) -> None:
    """An order Shopify recommends cancelling waits for a person (jobs.order_risk): the demo shows why,
    then plays the operator who reviewed it and sends it with "Send to the ERP anyway" (the decision
    kept and audited as the page's button does: shopify_app.api_risk_accept)."""
    from ledger import audit, order_risk
    from shopify_app.enqueue import enqueue_replay

    for order in placed:
        if order.scenario.risk != "high":
            continue
        if not wait_until(lambda o=order: _held(shop_id, o.gid)):
            message = order_message(shop_id, order.gid)
            echo(f"    {order.name}: not held ({message.status if message else 'no message yet'})")
            continue
        held = order_message(shop_id, order.gid)
        assert held is not None
        with session_scope() as session:
            message = session.get(Message, held.id)
            assert message is not None
            echo(f"    {order.name}: {message.error_text}")
            before = {"recommendation": (message.error_detail or {}).get("recommendation")}
            order_risk.accept(message, "merchant")
            audit.record(session, shop_id, stack.shop_domain, "merchant",
                         "order.risk_accepted", f"message:{message.id}", before,
                         {"message_id": message.id, "shopify_id": message.shopify_id})  # fmt: skip
            message_id = message.id
        with session_scope() as session:
            message = session.get(Message, message_id)
            assert message is not None
            enqueue_replay(message)
        echo(f"    {order.name}: an operator reviewed it and sent it (Send to the ERP anyway, audited)")


def _held(shop_id: int, gid: str) -> bool:
    from ledger import order_risk

    message = order_message(shop_id, gid)
    return message is not None and order_risk.held_for_risk(message)


def wait_in_erp(shop_id: int, placed: list[PlacedOrder], echo: Callable[[str], None]) -> None:
    """Wait for each order's NROPEDVENDA; an order that does not arrive is shown with its trace's reason."""
    for order in placed:
        ok = wait_until(
            lambda o=order: (link := link_of(o.gid)) is not None and link.nro_pedvenda is not None
        )
        link = link_of(order.gid)
        if ok and link is not None:
            order.nro = link.nro_pedvenda
            continue
        message = order_message(shop_id, order.gid)
        why = f"{message.status}: {message.error_text}" if message is not None else "no message yet"
        echo(f"    {order.name}: not in the ERP ({why})")


UPDATE_ORDER = """mutation Update($input: OrderInput!) {
  orderUpdate(input: $input) { userErrors { field message } }
}"""


def reschedule(stack: Any, placed: list[PlacedOrder], echo: Callable[[str], None]) -> None:
    """The customer calls to move the delivery: staff change the order's slot attributes in the
    Shopify admin (orderUpdate: orders/updated), and the app rewrites the ERP order's observation
    before it is picked (jobs.order_edits.address)."""
    import requests

    shop, url = stack.options.shop, stack.shopify.url
    for order in placed:
        new = order.scenario.reschedule
        if not new or order.nro is None:
            continue
        doc = stack.shopify.sandbox.store.get(shop, order.gid) or {}
        kept = [a for a in doc.get("customAttributes") or [] if a["key"] not in new]
        attributes = kept + [{"key": k, "value": v} for k, v in new.items()]
        changes = {"id": order.gid, "customAttributes": attributes}
        token = requests.post(f"{url}/_sandbox/shops/{shop}/access_token", json={}, timeout=10).json()
        answer = requests.post(f"{url}/admin/api/2026-10/graphql.json", timeout=30,
                               json={"query": UPDATE_ORDER, "variables": {"input": changes}},
                               headers={"Host": stack.shop_domain,
                                        "X-Shopify-Access-Token": token["access_token"]}).json()  # fmt: skip
        if "errors" in answer or answer["data"]["orderUpdate"]["userErrors"]:
            echo(f"    {order.name}: the slot could not be changed in Shopify: {answer}")
            continue
        said = slot_text(new)
        moved = wait_until(lambda o=order, s=said: s in (stack.erp.erp.order(o.nro).get("obsPedido") or ""))
        where = "rewritten in" if moved else "NOT yet rewritten in"
        echo(f"    {order.name}: rescheduled in Shopify ({said}); the observation {where} ERP order "
             f"{order.nro}")  # fmt: skip


def slot_text(attributes: dict[str, str]) -> str:
    """The slot as obsPedido names it with the default setting (jobs.order_slot)."""
    from jobs.order_slot import delivery_slot, slot_keys
    from ledger.shop_settings import DEFAULTS

    return delivery_slot(attributes, slot_keys(DEFAULTS["delivery_slot_attributes"])) or ""


def store_work(erp_handle: Any, placed: list[PlacedOrder], when: str) -> int:
    """What the store does at this stage ("separate", "invoice", "cancel"); returns how many."""
    done = 0
    for order in placed:
        if order.nro is None:
            continue
        s = order.scenario
        if when == "separate" and s.cancel != "before":
            items = erp_handle.erp.order(order.nro)["itens"]
            # the cut serves 2 fewer of the first line; a weighed line weighs 7% less than ordered
            cuts = {items[0]["seqItem"]: max(0.0, float(items[0]["qtdPedida"]) - 2)} if s.cut else None
            weights = {i["seqItem"]: round(float(i["qtdPedida"]) * 0.93, 3) for i in items if i["pesavel"]}
            erp_handle.erp.separate(order.nro, cuts=cuts, weights=weights or None)
        elif when == "invoice" and s.model is not None:
            erp_handle.erp.invoice(order.nro, model=s.model)
        elif when == "cancel_before" and s.cancel == "before":
            erp_handle.erp.cancel(order.nro, reason="Cliente desistiu (demo)")
        elif when == "cancel_after" and s.cancel == "after":
            erp_handle.erp.cancel(order.nro, reason="NF-e cancelada pela loja (demo)")
        else:
            continue
        done += 1
    return done


def poll_events(shop_id: int, module: Any, counts: dict[str, int]) -> None:
    """One EventoPedido poll, then wait until every event message it wrote has settled."""
    result = module.run(shop_id)
    for key, value in result.items():
        counts[key] = counts.get(key, 0) + int(value)

    def settled() -> bool:
        with session_scope() as session:
            open_count = session.scalar(
                select(Message.id)
                .where(
                    Message.shop_id == shop_id,
                    Message.flow.in_(EVENT_FLOWS),
                    Message.unit_key.like("event:%"),
                    Message.status.in_(OPEN),
                )
                .limit(1)
            )
        return open_count is None

    wait_until(settled)


ERP_STATUS = {
    "D": "D typing",
    "A": "A review",
    "L": "L released",
    "S": "S picking",
    "F": "F invoiced",
    "C": "C cancelled",
}


def read_both_sides(stack: Any, placed: list[PlacedOrder]) -> None:
    """Each order as each system shows it now: the Shopify sandbox's order (statuses, money
    received, the NF-e key metafield) and the ERP sandbox's PedidoVenda (status, fiscal document)."""
    from sandbox.shopify import metafield_store
    from sandbox.shopify.registry import Ctx

    sandbox = stack.shopify.sandbox
    ctx = Ctx(shop=stack.options.shop, sandbox=sandbox, api_key=sandbox.options.api_key)
    for order in placed:
        doc = sandbox.store.get(stack.options.shop, order.gid) or {}
        fields = {
            f"{m['namespace']}.{m['key']}": m["value"] for m in metafield_store.for_owner(ctx, order.gid)
        }
        shopify_status = f"{doc.get('displayFinancialStatus')}/{doc.get('displayFulfillmentStatus')}"
        if doc.get("cancelledAt"):
            shopify_status = f"CANCELLED {doc.get('displayFinancialStatus')}"
        erp: dict[str, Any] = stack.erp.erp.order(order.nro) if order.nro is not None else {}
        docs = erp.get("documentosFiscais") or []
        link = link_of(order.gid)
        order.row = {
            "name": doc.get("name") or order.name,
            "nro": order.nro,
            "shopify": shopify_status,
            "erp": ERP_STATUS.get(erp.get("situacaoPed", ""), erp.get("situacaoPed") or "-"),
            "total": _money(_amount(doc.get("currentTotalPriceSet"))),
            "ordered": _money(_amount(doc.get("totalPriceSet"))),
            "received": _money(_amount(doc.get("totalReceivedSet"))),
            "refunded": _amount(doc.get("totalRefundedSet")) or Decimal(0),
            "nfe_shopify": fields.get("nfe.chave"),
            "nfe_erp": docs[-1]["chaveAcesso"] if docs else None,
            "nfe_model": docs[-1]["modeloDf"] if docs else None,
            "invoiced": _money(Decimal(str(docs[-1]["vlrTotal"]))) if docs else None,
            "nfe_cancelled": bool(docs) and docs[-1].get("statusDf") == "C",
            "attention": link.needs_attention if link is not None else None,
            # the card data the ERP holds for its card receivables (jobs.card_payments)
            "cards": [form["cartao"] for form in erp.get("formasPagto") or [] if form.get("cartao")],
            "obs": erp.get("obsPedido") or "",  # the slot the customer chose, where it goes, the note
            # what the customer asked of a line (its properties), by the ERP item's SKU
            "item_notes": {
                i["idSku"]: i["observacaoItem"] for i in erp.get("itens") or [] if i.get("observacaoItem")
            },
            **_pickup(doc),
        }


def _pickup(doc: dict[str, Any]) -> dict[str, Any]:
    """Where a local pickup is collected and whether it is marked ready ({}: not a pickup)."""
    for fo in doc.get("_fulfillmentOrders") or []:
        if (fo.get("deliveryMethod") or {}).get("methodType") == "PICK_UP":
            where = (fo.get("assignedLocation") or {}).get("name") or "the store"
            return {"pickup_at": where, "ready_for_pickup": bool(fo.get("_preparedForPickup"))}
    return {}


def print_orders(placed: list[PlacedOrder], echo: Callable[[str], None]) -> None:
    echo(
        f"  {'order':<7}{'Shopify id':>11} {'ERP nro':>7}  {'Shopify status':<27}{'ERP status':<13}"
        f"{'total':>8}{'captured':>10}"
    )
    for order in placed:
        r = order.row
        if not r:
            continue
        echo(
            f"  {r['name']:<7}{order.gid.rsplit('/', 1)[-1]:>11} {r['nro'] or '-':>7}  {r['shopify']:<27}"
            f"{r['erp']:<13}{r['total']:>8}{r['received']:>10}"
        )
        cancelled = "CANCELLED" in r["shopify"]  # a cancelled order's current total is 0: no edit
        if r["ordered"] != r["total"] and not cancelled:
            echo(f"  {'':<7}edited to the picking: ordered {r['ordered']}, now {r['total']}")
        if r["nfe_erp"]:
            model = "NFC-e" if r["nfe_model"] == "65" else "NF-e"
            where = "on the Shopify order" if r["nfe_shopify"] == r["nfe_erp"] else "NOT on the Shopify order"
            state = ", cancelled in the ERP" if r["nfe_cancelled"] else ""
            echo(f"  {'':<7}{model} {r['nfe_erp']} ({where}{state})")
            if r["invoiced"] != r["total"] and not cancelled:
                echo(f"  {'':<7}NF-e total {r['invoiced']}: the capture follows the NF-e, not Shopify")
        for sku, note in (r.get("item_notes") or {}).items():
            echo(f"  {'':<7}ERP item {sku}, its note (observacaoItem): {note}")
        if order.scenario.slot and r["obs"]:
            named = all(f"{key}: " in r["obs"] for key in order.scenario.slot)
            echo(f"  {'':<7}ERP observation{' names the slot' if named else ''}: {r['obs']}")
        if r.get("ready_for_pickup"):
            where = f"store pickup at {r['pickup_at']}"
            echo(f"  {'':<7}{where}: marked ready for pickup at the NF-e (Shopify told the customer); the "
                 "merchant marks it picked up in Shopify when it is collected")  # fmt: skip
        elif r.get("pickup_at") and not cancelled:
            echo(f"  {'':<7}store pickup at {r['pickup_at']}: not ready for pickup yet")
        for card in r.get("cards") or []:
            echo(f"  {'':<7}card {card.get('nroCartao')} (codBandeira {card.get('codBandeira')}, codRede "
                 f"{card.get('codRede')}), NSU {card.get('nsu')}, authorisation "
                 f"{card.get('nroAutorizacao')}: in the ERP's card receivables")  # fmt: skip
        if r["refunded"]:
            echo(f"  {'':<7}refunded {_money(r['refunded'])}")
        for note in (r["attention"] or "").splitlines():  # one note a flow (ledger.order_notes)
            echo(f"  {'':<7}needs a person: {note}")
        echo(f"  {'':<7}- {order.scenario.label}")


def _amount(money_bag: Any) -> Decimal | None:
    if not money_bag:
        return None
    return Decimal(str(money_bag["shopMoney"]["amount"]))


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run_orders(stack: Any, shop_id: int, setup: Any, echo: Callable[[str], None]) -> OrdersOutcome:
    """Place the scenarios, wait for the ERP, play the store's part stage by stage, print both sides."""
    outcome = OrdersOutcome()
    if flow_module("orders") is None:
        echo("  (flow not available yet: orders in)")
        outcome.skipped.append("orders")
        return outcome
    location = setup.locations[setup.nro_empresa][1]
    plain, weighed = sellable_skus(stack, shop_id, location)
    if len(plain) < 2:
        echo(f"  (no SKUs in stock at {location}: no orders to place)")
        return outcome
    outcome.placed = place_all(stack, plain, weighed, echo, outcome.day)
    review_held(stack, shop_id, outcome.placed, echo)
    wait_in_erp(shop_id, outcome.placed, echo)
    echo(
        f"  {sum(o.nro is not None for o in outcome.placed)} of {len(outcome.placed)} orders reached the ERP"
    )
    reschedule(stack, outcome.placed, echo)
    events = flow_module("order_events")
    if events is None:
        echo("  (flow not available yet: order events, invoices, cancellations back to Shopify)")
        outcome.skipped.append("order_events")
    else:
        for stage, text in (
            ("cancel_before", "cancelled by the store before picking"),
            ("separate", "separated at picking"),
            ("invoice", "invoiced"),
            ("cancel_after", "cancelled after invoicing"),
        ):
            count = store_work(stack.erp, outcome.placed, stage)
            if count:
                echo(f"  ERP: {count} order(s) {text}; polling EventoPedido")
                poll_events(shop_id, events, outcome.events)
    # A sale lowers in Shopify only the variant sold: the product's other packagings (the box of 6)
    # follow at the stock flow's next pass, as the schedule runs it within minutes; run now, so a
    # reconciliation right after the demo finds Shopify as the ERP says.
    run_flows(shop_id, ("stock",), echo, outcome.skipped, {})
    read_both_sides(stack, outcome.placed)
    print_orders(outcome.placed, echo)
    return outcome
