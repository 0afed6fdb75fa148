"""A refund of shipping in the Shopify admin (a late delivery: "Refund shipping"), as Shopify records
it: the shipping line's current price drops, the Refund lists the shipping it gave back
(refundShippingLines). Before the ERP picks the order, the ERP's freight follows (an edit like any
other) and nothing is flagged as money given back with nothing taken back: the freight was taken
back. Money given beyond the shipping is flagged for that part alone (jobs.order_edits.goodwill)."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_edits
from jobs.inbox import WebhookEvent
from jobs.order_edits import goodwill
from ledger import order_notes
from ledger.models import MessageStatus
from sandbox.shopify.resolvers.order_refunds import refund_order
from shopify_app.admin_api import for_shop
from shopify_app.admin_api.refund_money import refund_money
from tests.orders_in.test_edits_and_cancels import imported


def refund_shipping(world, gid: str, shipping: str, amount: str | None = None) -> WebhookEvent:
    """The admin's refund of `shipping` (and `amount` given back in all, when more), and its
    refunds/create delivery as the inbox hands it over."""
    made = refund_order(
        world.shopify.sandbox,
        world.name,
        gid,
        {},
        shipping=Decimal(shipping),
        amount=None if amount is None else Decimal(amount),
        note="entrega atrasada",
    )
    refund_id = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund_id, "order_id": int(gid.rsplit("/", 1)[-1]), "refund_line_items": []}
    return WebhookEvent(refund_id, "refunds/create", world.domain, f"r-{refund_id}", f"re-{refund_id}",
                        "2026-10", None, payload)  # fmt: skip


def _freight(world, nro: int) -> Decimal:
    return Decimal(str(world.chain.order(nro)["vlrTotFrete"]))


def test_the_refund_reads_the_shipping_it_gave_back(world) -> None:
    gid, _nro = imported(world, gateway="pix", shipping="SEDEX")
    event = refund_shipping(world, gid, "20.00")
    money = refund_money(for_shop(world.domain), f"gid://shopify/Refund/{event.payload['id']}")
    assert (money.total, money.items, money.shipping, money.beyond) == (
        Decimal("20.00"),
        Decimal(0),
        Decimal("20.00"),
        Decimal(0),
    )
    order = world.order_doc(gid)
    assert order["currentShippingPriceSet"]["shopMoney"]["amount"] == "12.50"
    assert order["totalRefundedShippingSet"]["shopMoney"]["amount"] == "20.00"


def test_a_shipping_refund_before_picking_lowers_the_erp_freight_and_flags_nothing(world) -> None:
    gid, nro = imported(world, gateway="pix", shipping="SEDEX")
    assert _freight(world, nro) == Decimal("32.50")
    items = world.chain.order(nro)["itens"]
    assert order_edits.on_refund(refund_shipping(world, gid, "20.00")) == MessageStatus.DONE.value
    assert _freight(world, nro) == Decimal("12.50")
    assert world.chain.order(nro)["itens"] == items
    link = world.link(gid)
    assert link.needs_attention is None, link.needs_attention
    assert order_notes.note_of(link, "order_edits", topic=goodwill.NOTE_TOPIC) is None


def test_money_given_beyond_the_shipping_refunded_is_flagged_for_that_part_alone(world) -> None:
    gid, nro = imported(world, gateway="pix", shipping="SEDEX")
    event = refund_shipping(world, gid, "32.50", amount="37.50")
    order_edits.on_refund(event)
    assert _freight(world, nro) == Decimal("0.00")
    note = order_notes.note_of(world.link(gid), "order_edits", topic=goodwill.NOTE_TOPIC) or ""
    assert "had 5.00 given back in Shopify beyond any item or freight taken back" in note, note
    assert f"(refund {event.payload['id']})" in note, note
