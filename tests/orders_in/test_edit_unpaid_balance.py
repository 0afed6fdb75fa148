"""An edit that raises a prepaid order's total leaves the rest owed in Shopify: a Pix order of 2 units
paid, edited to 5. Sent then, the ERP would book the whole new total as paid by the Pix (map_payments
puts what is short on the last form that took money) and pick and invoice goods no money is behind.
The edit waits for the payment as the import waits for an unpaid order (order_map.is_ready): the ERP
keeps its lines, the message and the order's note say what is unpaid, and the payment of the rest
(orders/paid) sends it, its payment forms what was paid."""

from __future__ import annotations

from decimal import Decimal

from jobs.order_edits import to_erp
from ledger import order_notes
from ledger.models import MessageStatus
from sandbox.shopify.checkout import pay_balance, place_order
from shopify_app import skip_words

from .test_edits_and_cancels import edit_in_shopify, edit_message


def _money(doc: dict, field: str) -> Decimal:
    return Decimal(doc[field]["shopMoney"]["amount"])


def _paid(erp_order: dict) -> Decimal:
    return sum((Decimal(str(p["vlrPagto"])) for p in erp_order["formasPagto"]), Decimal(0))


def test_an_edit_raising_a_pix_order_waits_for_the_rest_then_goes_with_what_was_paid(world):
    """Case: R$ 97,16 paid by Pix, edited 2 -> 5 units (R$ 115,89 of R$ 213,05 owed): held, ERP
    order unchanged, message waiting for payment and the order noted naming what is unpaid; the rest
    paid (orders/paid), the edit goes with payment forms summing to what Shopify was paid."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 2}],
                      gateway="pix", discount_rate=0.0, shipping=None, seed=11)  # fmt: skip
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    nro = link.nro_pedvenda
    before = world.chain.order(nro)
    edit_in_shopify(world, gid, world.sku(0), 5)  # 2 -> 5: the customer owes the difference
    world.drain()

    doc = world.order_doc(gid)
    outstanding, total = _money(doc, "totalOutstandingSet"), _money(doc, "currentTotalPriceSet")
    assert outstanding > 0
    message = edit_message(world, gid)
    assert message.status == MessageStatus.PENDING.value, message.error_text
    assert message.error_detail["waiting"] == "payment"
    assert Decimal(message.error_detail["unpaid"]) == outstanding
    assert "Waiting for payment" in message.error_text and to_erp.brl(outstanding) in message.error_text
    said = skip_words.reason(message, "en")
    assert said is not None and "waiting for payment" in said and str(outstanding) in said
    erp_order = world.chain.order(nro)
    assert {i["idSku"]: i["qtdPedida"] for i in erp_order["itens"]} == {world.sku(0): 2}  # unchanged
    assert erp_order["formasPagto"] == before["formasPagto"]
    link = world.link(gid)
    note = link.needs_attention or ""
    assert to_erp.brl(outstanding) in note and "not yet paid in Shopify" in note
    parts = order_notes.words_of_note(link, to_erp.FLOW)
    assert parts and parts[0][0] == "edit_held_unpaid", parts

    pay_balance(world.shopify.sandbox, world.name, gid)  # orders/paid + orders/updated
    world.drain()
    doc = world.order_doc(gid)
    assert _money(doc, "totalOutstandingSet") == 0
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    erp_order = world.chain.order(nro)
    assert {i["idSku"]: i["qtdPedida"] for i in erp_order["itens"]} == {world.sku(0): 5}
    assert Decimal(str(erp_order["vlrTotalPedido"])) == total
    paid = _money(doc, "totalReceivedSet") - _money(doc, "totalRefundedSet")
    assert _paid(erp_order) == paid == total
    assert not world.link(gid).needs_attention  # the note cleared with the edit applied


def test_an_edit_lowering_a_paid_order_still_goes_at_once(world):
    """Case: an edit that lowers a paid order's total owes nothing: applied at once, as before."""
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.sku(0), "quantity": 3}],
                      gateway="pix", discount_rate=0.0, shipping=None, seed=12)  # fmt: skip
    world.drain()
    nro = world.link(gid).nro_pedvenda
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]} == {world.sku(0): 1}
