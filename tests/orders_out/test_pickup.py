"""ERP -> Shopify: a Shopify local pickup ("retira na loja") at invoicing. Its fulfillment order
(deliveryMethod PICK_UP) is marked ready for pickup — Shopify sends the customer its notice — and
not fulfilled: the goods are still in the store; the merchant marks it picked up in Shopify."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobs import invoices
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api import for_shop

from .conftest import World
from .test_invoice_documents import _another_nfe


def _notices(world: World, gid: str) -> list[dict[str, Any]]:
    return [n for n in world.order_doc(gid).get("_notifications") or [] if n["kind"] == "READY_FOR_PICKUP"]


def test_an_invoiced_local_pickup_is_marked_ready_for_pickup_not_fulfilled(world: World) -> None:
    """The NF-e is on the order, tagged and charged as for a delivery; its pickup fulfillment order
    is marked ready for pickup (the customer notified once), no fulfillment is made and the units
    stay committed in the store. A redelivery changes nothing and notifies nobody again; once the
    merchant marks it picked up in Shopify, a replay leaves that alone too."""
    sku = world.plain(0)
    order = world.linked_order([(sku, 2)], gateway="cartao", capture="manual", shipping="RETIRADA")
    [fo] = world.order_doc(order.gid)["_fulfillmentOrders"]
    assert fo["deliveryMethod"]["methodType"] == "PICK_UP"

    total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    done = message.response_payload
    assert done["fulfillments"] == []
    ready = done["ready_for_pickup"]
    assert ready["marked"] == [fo["id"]] and "picked up in Shopify" in ready["next"]
    state = world.settlement(order.gid)
    assert state.fulfillments == [] and "NF-e emitida" in state.tags and state.nfe["chave"]
    assert state.paid == total  # the capture follows the NF-e, as for a delivery
    doc = world.order_doc(order.gid)
    assert doc["_fulfillmentOrders"][0]["status"] == "IN_PROGRESS"
    assert doc["displayFulfillmentStatus"] == "IN_PROGRESS"
    assert len(_notices(world, order.gid)) == 1
    assert world.stock(sku) == {"available": 48, "committed": 2, "on_hand": 50}  # still in the store
    link = world.link(order.gid)
    assert link.nfe_key == state.nfe["chave"] and link.needs_attention is None

    assert invoices.replay(message.id) == MessageStatus.DONE.value  # a redelivery
    [again] = world.messages("invoices", order)
    assert again.response_payload["ready_for_pickup"]["already_ready"] == [fo["id"]]
    assert again.response_payload["fulfillments"] == [] and len(_notices(world, order.gid)) == 1

    client = for_shop(world.domain)  # the customer collects it: the merchant marks it picked up
    client.fulfillment_create({fo["id"]: None})
    assert world.order_doc(order.gid)["displayFulfillmentStatus"] == "FULFILLED"
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    assert len(world.settlement(order.gid).fulfillments) == 1 and len(_notices(world, order.gid)) == 1
    assert world.stock(sku) == {"available": 48, "committed": 0, "on_hand": 48}


def test_a_pickup_invoiced_in_two_nfe_is_ready_once_the_last_is_in(world: World) -> None:
    """Partial invoicing: the first NF-e (item A) leaves the pickup waiting — "ready" then would
    call the customer for half the basket; the second (item B) marks it ready, and item A, on the
    first NF-e, is not named as left off the NF-e."""
    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual", shipping="RETIRADA")
    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    items = {i["idSku"]: i for i in erp_order["itens"]}
    part_b = Decimal(str(items[b]["vlrTotalAtendido"]))
    part_a = Decimal(str(document["vlrTotal"])) - part_b
    with world.erp.store.write() as (conn, _now):
        doc = t.mfl_doctofiscal
        conn.execute(doc.update().where(doc.c.seqnf == document["seqNf"]).values(vlrtotal=float(part_a)))

    def first_part_only(data: dict[str, Any]) -> None:
        data["documentoFiscal"]["vlrTotal"] = float(part_a)
        data["itens"] = [i for i in data["itens"] if i["idSku"] == a]

    world.rewrite_event(order.nro, "F", first_part_only)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    [fo] = world.order_doc(order.gid)["_fulfillmentOrders"]
    assert first.response_payload["ready_for_pickup"]["waiting"] == [fo["id"]]
    assert fo["status"] == "OPEN" and _notices(world, order.gid) == []

    _another_nfe(world, order.nro, part_b, items=[items[b]["seqItem"]])
    world.poll()
    second = world.messages("invoices", order)[1]
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert second.response_payload["ready_for_pickup"]["marked"] == [fo["id"]]
    assert "needs_attention" not in second.response_payload, second.response_payload
    assert world.link(order.gid).needs_attention is None
    assert len(_notices(world, order.gid)) == 1 and world.settlement(order.gid).fulfillments == []


def test_an_invoiced_pickup_cancelled_in_the_erp_is_cancelled_in_shopify(world: World) -> None:
    """No fulfillment was made at invoicing, so none is cancelled first: the order is cancelled, its
    ready pickup with it, and flagged for a person as any order cancelled after its NF-e."""
    sku = world.plain(1)
    order = world.linked_order([(sku, 2)], gateway="pix", shipping="RETIRADA")
    _total, invoicing = world.invoice(order)
    assert invoicing.response_payload["ready_for_pickup"]["marked"], invoicing.response_payload
    world.erp.cancel(order.nro, "NF-e cancelada: cliente desistiu")
    world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["fulfillments_cancelled"] == []
    doc = world.order_doc(order.gid)
    assert doc["cancelledAt"] and [fo["status"] for fo in doc["_fulfillmentOrders"]] == ["CANCELLED"]
    assert "NF-e cancelada" in world.settlement(order.gid).tags
    assert "cancelled in the ERP after invoicing" in (world.link(order.gid).needs_attention or "")
