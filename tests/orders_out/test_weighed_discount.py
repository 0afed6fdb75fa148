"""ERP -> Shopify weight adjustments: a weighed item picked lighter than ordered becomes a line
discount in the picking's order edit, so Shopify's total follows the NF-e and the invoice's
capture pays the order in full; a heavier pick is recorded, never charged above the
authorisation; the same events again send nothing."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from jobs.order_edits import to_shopify
from ledger import watermarks
from ledger.db import session_scope
from ledger.models import MessageStatus
from shopify_app.admin_api import order_edit_discounts
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

from .conftest import World


def _calculated_orders(world: World) -> int:
    """Order edits begun on the shop (every orderEditBegin stores one CalculatedOrder)."""
    return len(world.shopify.sandbox.store.scan(world.name, "CalculatedOrder"))


def test_lighter_weighed_item_discounts_the_line_and_the_invoice_capture_pays_the_order(
    world: World,
) -> None:
    weighed_sku, plain_sku = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed_sku, 1), (plain_sku, 2)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    authorised = before.open_authorization()
    assert authorised is not None and before.current_total is not None

    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): 0.985})
    assert world.poll()["enqueued"] == 1

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert edit.response_payload["edited"] is True and len(edit.response_payload["discounted"]) == 1
    price = world.chain.prices[weighed_sku]
    difference = price - (Decimal("0.985") * price).quantize(Decimal("0.01"))
    assert difference > 0
    doc = world.order_doc(order.gid)
    assert Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"]) == before.current_total - difference
    line = next(item for item in doc["_lines"] if item["sku"] == weighed_sku)
    assert line["currentQuantity"] == 1  # the quantity stays: the weight is money, not units
    [allocation] = line["discountAllocations"]
    assert Decimal(allocation["allocatedAmountSet"]["shopMoney"]["amount"]) == difference
    assert allocation["discountApplication"]["description"] == "Ajuste de peso: 1,000 kg → 0,985 kg"
    [change] = world.line_changes(order.gid)
    assert (change.kind, change.qty_before, change.qty_after, change.applied) == (
        "weight",
        1,
        Decimal("0.985"),
        True,
    )
    assert "Ajuste de peso: 1,000 kg → 0,985 kg" in (change.reason or "")

    erp_order = world.erp.invoice(order.nro)
    [document] = erp_order["documentosFiscais"]
    assert world.poll()["enqueued"] == 1
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    invoiced = Decimal(str(document["vlrTotal"]))
    assert after.current_total == invoiced == before.current_total - difference
    assert after.paid == invoiced < authorised.amount
    assert after.financial_status == "PAID"
    assert world.link(order.gid).captured_amount == invoiced

    # Again: the poller finds the events traced, a replay of the edit re-reads Shopify and sends nothing.
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)
    traced = world.traced_events()
    assert len(world.messages("order_edits", order) + world.messages("invoices", order)) == 2
    with session_scope() as session:
        watermarks.reset(session, world.shop_id, "order_events")
    again = world.poll()
    # every event the shop traced is found traced: the order's two, and any of another test's order
    # that a poll's overlap read just after the shop's install (traced skipped then); the rest of the
    # ERP's are other tests' shops' orders, unknown to this shop
    assert again["enqueued"] == 0 and again["seen"] == traced >= 2
    assert again["seen"] + again["ignored"] + again["unknown"] == again["read"]
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot
    assert _calculated_orders(world) == begun  # no orderEditBegin, so no discount either
    assert len(world.line_changes(order.gid)) == 1


def test_heavier_weighed_item_is_recorded_and_never_charged_above_the_authorisation(
    world: World,
) -> None:
    weighed_sku, plain_sku = world.weighed(), world.plain(1)
    order = world.linked_order([(weighed_sku, 1), (plain_sku, 1)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    begun = _calculated_orders(world)

    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): 1.04})
    assert world.poll()["enqueued"] == 1

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value and edit.response_payload["edited"] is False
    assert _calculated_orders(world) == begun
    assert world.settlement(order.gid).current_total == before.current_total
    [change] = world.line_changes(order.gid)
    assert (change.kind, change.qty_after, change.applied) == ("weight", Decimal("1.04"), False)
    assert "not charged above what was authorised" in (change.reason or "")

    # The invoice then takes what was authorised (the order's total), not the heavier NF-e, and
    # names the difference the store absorbs; the goods do not leave unpaid.
    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.paid == before.current_total and after.open_authorization() is None
    assert nfe_total > before.current_total
    attention = world.link(order.gid).needs_attention or ""
    assert f"{nfe_total - before.current_total} was not charged" in attention


def test_heavier_and_a_cut_in_one_picking_capture_no_more_than_shopifys_total(world: World) -> None:
    """The picking cuts a line and weighs an item heavier. The cut lowers Shopify's total and leaves
    room in the authorisation, but the heavier weight is not in Shopify (the line keeps its price):
    the capture takes Shopify's total, what the customer sees they owe, not the whole NF-e (Shopify
    would show the difference as owed back), and names what was not charged for a person."""
    weighed, plain = world.weighed(), world.plain(0)
    order = world.linked_order([(weighed, 2), (plain, 3)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[plain]): 1}, weights={str(order.lines[weighed]): 2.4})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    shopify_total = world.settlement(order.gid).current_total

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert nfe_total > shopify_total
    after = world.settlement(order.gid)
    assert after.paid == shopify_total and after.open_authorization() is None  # the rest released
    attention = world.link(order.gid).needs_attention or ""
    assert f"{nfe_total - shopify_total} was not charged" in attention, attention
    assert f"Shopify order's total {shopify_total}" in attention and "refund" not in attention, attention


def test_a_gram_light_on_a_cheap_item_is_recorded_and_the_rest_of_the_picking_is_applied(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bananas at R$ 3,99/kg: 1 kg ordered, the scale says 0,999 kg, and both ERP line totals are
    3,99. There is nothing to take off (Shopify takes no discount of zero): the weighing is
    recorded, the cut of the same picking is applied, and the invoice captures the NF-e."""
    plain = world.plain(0)
    banana = next(s for s in world.chain.skus if s.weighed and s.id_sku not in world.variants)
    monkeypatch.setitem(world.chain.prices, banana.id_sku, Decimal("3.99"))
    world.publish(banana)
    order = world.linked_order([(banana.id_sku, 1), (plain, 3)], gateway="cartao", capture="manual")
    world.erp.separate(
        order.nro, cuts={str(order.lines[plain]): 1}, weights={str(order.lines[banana.id_sku]): 0.999}
    )
    world.poll()

    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    assert edit.response_payload["discounted"] == []
    lines = {line["sku"]: line for line in world.order_doc(order.gid)["_lines"]}
    assert (lines[plain]["currentQuantity"], lines[banana.id_sku]["currentQuantity"]) == (1, 1)
    assert lines[banana.id_sku]["discountAllocations"] == []
    changes = {c.sku: c for c in world.line_changes(order.gid)}
    assert (changes[plain].kind, changes[plain].applied) == ("cut", True)
    weight = changes[banana.id_sku]
    assert (weight.kind, weight.qty_after, weight.applied) == ("weight", Decimal("0.999"), False)
    assert "the ERP charges the same" in (weight.reason or "")

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert world.settlement(order.gid).paid == nfe_total


def _uneven_weight(price: Decimal, units: int) -> tuple[Decimal, Decimal]:
    """(kg, ERP difference) of a lighter pick whose difference in cents `units` does not divide."""
    for grams in range(units * 1000 - 15, units * 1000 - 400, -5):
        kg = Decimal(grams) / 1000
        difference = price * units - (kg * price).quantize(Decimal("0.01"))
        if int(difference * 100) % units:
            return kg, difference
    raise AssertionError(f"no uneven weight for price {price}")


def test_lighter_line_of_several_units_matches_the_nfe_to_the_cent(world: World) -> None:
    """A per-unit discount cannot carry a difference the line's units do not divide: the line is
    split (one unit on a line of its own) so Shopify's lines, its total and the capture all
    equal the NF-e to the cent; the same picking again changes nothing."""
    weighed_sku, plain_sku = world.weighed(), world.plain(2)
    order = world.linked_order([(weighed_sku, 3), (plain_sku, 1)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    assert before.current_total is not None
    price = world.chain.prices[weighed_sku]
    kg, difference = _uneven_weight(price, 3)

    world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): float(kg)})
    assert world.poll()["enqueued"] == 1
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text

    items = world.erp.order(order.nro)["itens"]
    erp_line = next(item for item in items if item["seqItem"] == order.lines[weighed_sku])
    served_value = Decimal(str(erp_line["vlrTotalAtendido"]))
    assert served_value == price * 3 - difference
    doc = world.order_doc(order.gid)
    weighed = [item for item in doc["_lines"] if item["sku"] == weighed_sku and item["currentQuantity"] > 0]
    assert sorted(item["currentQuantity"] for item in weighed) == [1, 2]  # the units stay 3
    line_totals = sum(
        Decimal(item["originalUnitPriceSet"]["shopMoney"]["amount"]) * item["currentQuantity"]
        - sum(Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in item["discountAllocations"])
        for item in weighed
    )
    assert line_totals == served_value  # the Shopify lines sum to the ERP's line value exactly
    assert Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"]) == before.current_total - difference
    [change] = world.line_changes(order.gid)
    assert (change.kind, change.qty_after, change.applied) == ("weight", kg, True)
    assert "Ajuste de peso: 3,000 kg" in (change.reason or "")

    erp_order = world.erp.invoice(order.nro, model="65")
    [document] = erp_order["documentosFiscais"]
    assert world.poll()["enqueued"] == 1
    [invoice] = world.messages("invoices", order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    invoiced = Decimal(str(document["vlrTotal"]))
    assert after.current_total == invoiced == after.paid == world.link(order.gid).captured_amount
    assert after.financial_status == "PAID"
    assert all(item["unfulfilledQuantity"] == 0 for item in world.order_doc(order.gid)["_lines"])

    # The same picking again: no new edit, no second split, no second discount.
    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot
    assert _calculated_orders(world) == begun
    assert len(world.line_changes(order.gid)) == 1


def _set_price(world: World, sku: str, price: Decimal) -> None:
    """The variant's price in Shopify now (the catalog flow moved it after the checkout)."""
    store = world.shopify.sandbox.store
    store.put(world.name, {**store.get(world.name, world.variants[sku]), "price": f"{price}"})


@pytest.mark.parametrize(
    "case", ["checkout code", "price up", "price down past the difference", "Shopify refuses the unit"]
)
def test_split_is_measured_on_shopify_and_falls_back_when_it_cannot_be_exact(
    world: World, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split reads what moving a unit costs in Shopify's calculated order (the line's checkout
    discount, the variant's price now), so the total still goes down by exactly the difference; when
    no discounts can make it exact, the unit goes back and the old rounding applies."""
    weighed_sku, plain_sku = world.weighed(), world.plain(0)
    checkout = {"discount_code": "PESO10", "discount_percent": 10.0} if case == "checkout code" else {}
    order = world.linked_order(
        [(weighed_sku, 3), (plain_sku, 1)], gateway="cartao", capture="manual", **checkout
    )
    before = world.settlement(order.gid).current_total
    assert before is not None
    price = world.chain.prices[weighed_sku]
    kg, difference = _uneven_weight(price, 3)
    now = {"price up": price + Decimal("1.37"), "price down past the difference": price - difference - 1}
    if case == "Shopify refuses the unit":  # e.g. no stock to add at the location: not stuck, not split

        def refuse(*_args: object, **_kwargs: object) -> None:
            raise ShopifyUserErrors("OrderEditAddVariant", [UserError(("variantId",), "Out of stock.")])

        monkeypatch.setattr(order_edit_discounts, "add_unit", refuse)
    try:
        if case in now:
            _set_price(world, weighed_sku, now[case])
        world.erp.separate(order.nro, weights={str(order.lines[weighed_sku]): float(kg)})
        assert world.poll()["enqueued"] == 1
    finally:
        _set_price(world, weighed_sku, price)
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    doc = world.order_doc(order.gid)
    total = Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
    weighed = [item for item in doc["_lines"] if item["sku"] == weighed_sku and item["currentQuantity"] > 0]
    [change] = world.line_changes(order.gid)
    if case in ("price down past the difference", "Shopify refuses the unit"):
        assert [item["currentQuantity"] for item in weighed] == [3]  # the unit went back
        assert 0 < before - difference - total < Decimal("0.03")
        expected = "no split could match it" if case in now else "Shopify refused the unit on its own line"
        assert expected in (change.reason or "")
    else:
        assert sorted(item["currentQuantity"] for item in weighed) == [1, 2]
        assert total == before - difference
        assert "one unit went on a line of its own" in (change.reason or "")
        assert "moving the unit changed Shopify's subtotal" in (change.reason or "")
    snapshot, begun = copy.deepcopy(doc), _calculated_orders(world)
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot and _calculated_orders(world) == begun


@pytest.mark.parametrize("kg", [Decimal("0.3"), Decimal("1.4")])
def test_weighed_substitute_is_charged_what_the_erp_weighed(world: World, kg: Decimal) -> None:
    """A plain item replaced at picking by a weighed one: Shopify sells it in whole kilograms, so
    the substitute goes in as the kilograms rounded up with the difference off one unit, and
    Shopify's total, the NF-e and the capture agree; the same picking again sends nothing."""
    original, weighed_sku = world.plain(0), world.weighed()
    price = world.chain.prices[weighed_sku]
    units = int(2 * price / world.chain.prices[original]) + 1  # the substitute costs less: all is captured
    order = world.linked_order([(original, units), (world.plain(1), 1)], gateway="cartao", capture="manual")
    before = world.settlement(order.gid)
    assert before.current_total is not None
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == weighed_sku)
    world.erp.separate(
        order.nro,
        substitutions=[{"seqItem": order.lines[original], "codAcesso": sub_ean, "qtd": float(kg)}],
        weights={},
    )
    assert world.poll()["enqueued"] == 1
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text

    erp_line = next(item for item in world.erp.order(order.nro)["itens"] if item.get("seqItemSubstituido"))
    charged = Decimal(str(erp_line["vlrTotalAtendido"]))
    assert 0 < charged < price * 2
    doc = world.order_doc(order.gid)
    added = [item for item in doc["_lines"] if item["sku"] == weighed_sku and item["currentQuantity"] > 0]
    assert sum(item["currentQuantity"] for item in added) == int(kg) + 1  # whole kilograms, rounded up
    line_totals = sum(
        Decimal(item["originalUnitPriceSet"]["shopMoney"]["amount"]) * item["currentQuantity"]
        - sum(Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in item["discountAllocations"])
        for item in added
    )
    assert line_totals == charged
    descriptions = [
        a["discountApplication"]["description"] for item in added for a in item["discountAllocations"]
    ]
    assert descriptions == [
        f"Peso do substituto: {kg:.3f} kg".replace(".", ",") + f" (item {erp_line['seqItem']})"
    ]
    change = next(c for c in world.line_changes(order.gid) if c.sku == weighed_sku)
    assert change.kind == "substitution" and change.applied and "weighed" in (change.reason or "")

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.current_total == nfe_total == after.paid == world.link(order.gid).captured_amount
    assert after.financial_status == "PAID" and not world.link(order.gid).needs_attention

    snapshot, begun = copy.deepcopy(world.order_doc(order.gid)), _calculated_orders(world)
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot and _calculated_orders(world) == begun


def test_a_whole_kilogram_weighed_substitute_is_not_added_again_by_a_replay(
    world: World, monkeypatch
) -> None:
    """A weighed substitute of whole kilograms needs no discount, so no description marks it. Its
    edit committed in Shopify but the answer was lost (a transient retry): the replay recognises
    the substitute's units already on the order and does not add it a second time."""
    from shopify_app.admin_api.errors import ShopifyNetworkError
    from shopify_app.admin_api.transport import AdminTransport

    original, weighed_sku = world.plain(0), world.weighed()
    units = int(2 * world.chain.prices[weighed_sku] / world.chain.prices[original]) + 1
    order = world.linked_order([(original, units), (world.plain(1), 1)], gateway="cartao", capture="manual")
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == weighed_sku)
    world.erp.separate(
        order.nro,
        substitutions=[{"seqItem": order.lines[original], "codAcesso": sub_ean, "qtd": 1.0}],
        weights={},
    )
    real_send = AdminTransport.send

    def lost(self, op, variables, token):  # Shopify takes every OrderEditCommit, its answer is lost
        answer = real_send(self, op, variables, token)
        if op.name == "OrderEditCommit":
            raise ShopifyNetworkError("read timed out")
        return answer

    monkeypatch.setattr(AdminTransport, "send", lost)
    world.poll()
    monkeypatch.setattr(AdminTransport, "send", real_send)

    def substitute_units() -> int:
        lines = world.order_doc(order.gid)["_lines"]
        return sum(line["currentQuantity"] for line in lines if line["sku"] == weighed_sku)

    [edit] = world.messages("order_edits", order)
    assert edit.status != MessageStatus.DONE.value  # the job never learnt the commit went through
    assert substitute_units() == 1  # Shopify has the 1 kg substitute
    assert to_shopify.replay(edit.id) == MessageStatus.DONE.value  # RQ's retry, the catch-up, a person
    assert substitute_units() == 1, "the substitute was added again"
    change = next(c for c in world.line_changes(order.gid) if c.sku == weighed_sku)
    assert change.applied


def test_a_weighed_substitute_is_added_even_when_a_person_added_that_product_after_picking(
    world: World,
) -> None:
    """The unit of the weighed product a person added in Shopify after the ERP separated is an
    extra (the invoice leaves it unfulfilled and names it); it is not the ERP's substitute, which
    the picking edit still adds on its first attempt. Only a retry of the same event counts the
    variant's units as the substitute already in."""
    from shopify_app.admin_api import for_shop

    original, weighed_sku = world.plain(0), world.weighed()
    units = int(2 * world.chain.prices[weighed_sku] / world.chain.prices[original]) + 1
    order = world.linked_order([(original, units), (world.plain(1), 1)], gateway="cartao", capture="manual")
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == weighed_sku)
    world.erp.separate(
        order.nro,
        substitutions=[{"seqItem": order.lines[original], "codAcesso": sub_ean, "qtd": 1.0}],
        weights={},
    )
    # After separation, before the app applied it, a person adds 1 unit of that weighed variant in
    # Shopify (the ERP, already separating, never takes it).
    client = for_shop(world.domain)
    edit = client.order_edit_begin(order.gid)
    client.order_edit_add_variant(
        edit.calculated_order_id, world.variants[weighed_sku], 1, location_id=world.location_id
    )
    client.order_edit_commit(edit.calculated_order_id)

    world.poll()
    [message] = world.messages("order_edits", order)
    assert message.status == MessageStatus.DONE.value, message.error_text

    def units_of(sku: str) -> int:
        return sum(x["currentQuantity"] for x in world.order_doc(order.gid)["_lines"] if x["sku"] == sku)

    assert units_of(original) == 0
    # The ERP picked 1 kg of the substitute; the person's unit is extra: 2 units in Shopify.
    assert units_of(weighed_sku) == 2, (
        "the ERP's weighed substitute was never added (taken for the unit a person added); "
        f"change rows: {[(c.sku, c.kind, c.applied, c.reason) for c in world.line_changes(order.gid)]}"
    )


def test_an_nfe_cents_above_shopifys_total_is_absorbed_not_flagged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weighed item a few grams heavier beside a cut: the NF-e is cents above Shopify's total.
    The capture still takes no more than Shopify's total, but cents (CENTS_ABSORBED) are no work
    for a person: said on the invoice's message, not flagged on the order."""
    plain = world.plain(0)
    item = next(s for s in world.chain.skus if s.weighed and s.id_sku not in world.variants)
    monkeypatch.setitem(world.chain.prices, item.id_sku, Decimal("9.99"))
    world.publish(item)
    order = world.linked_order([(item.id_sku, 2), (plain, 3)], gateway="cartao", capture="manual")
    world.erp.separate(
        order.nro, cuts={str(order.lines[plain]): 1}, weights={str(order.lines[item.id_sku]): 2.004}
    )
    world.poll()
    shopify_total = world.settlement(order.gid).current_total

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    assert Decimal("0") < nfe_total - shopify_total <= Decimal("0.05"), (nfe_total, shopify_total)
    assert world.settlement(order.gid).paid == shopify_total
    assert "not charged" not in (world.link(order.gid).needs_attention or "")
    assert "absorbed" in json.dumps(invoice.response_payload), invoice.response_payload


@pytest.mark.parametrize("served", ["1.8", "1.75", "2", "0.333"])
def test_without_the_erps_line_totals_the_adjustment_takes_the_discount_off_pro_rata(served: str) -> None:
    """An EventoPedido whose items carry no vlrTotalPedido / vlrTotalAtendido (optional to the
    parser): the adjustment of a weighed line picked lighter was (ordered - served) x price, its
    discount left out, where the ERP takes it off pro rata: Shopify's total fell below the NF-e and
    the capture left the difference uncharged. Without totals it is what the ERP's totals say."""
    from erp.records import OrderLine

    def line(**totals: Decimal | None) -> OrderLine:  # 2 kg at R$ 50,00/kg, R$ 10,00 off the line
        return OrderLine(seq_item=1, id_sku="P5E1", seq_produto=5, ean=None, qtd_embalagem=Decimal(1),
                         qty_ordered=Decimal(2), qty_served=Decimal(served), table_price=None,
                         promo_price=None, unit_price=Decimal("50.00"), discount=Decimal("10.00"),
                         weighed=True, replaces_seq_item=None, **totals)  # fmt: skip

    erp_served = (Decimal(served) * Decimal(50) - Decimal(10) * Decimal(served) / 2).quantize(Decimal("0.01"))
    with_totals = line(total_ordered=Decimal("90.00"), total_served=erp_served)
    without = line(total_ordered=None, total_served=None)
    assert to_shopify.weight_difference(without) == to_shopify.weight_difference(with_totals)
    assert to_shopify.part_difference(without, 2) == to_shopify.part_difference(with_totals, 2)
    assert to_shopify._charged(without) == to_shopify._charged(with_totals) == erp_served
