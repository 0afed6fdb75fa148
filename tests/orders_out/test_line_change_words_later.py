"""The later steps of a picking edit that reword an order line's change (a weight split made,
measured off or not made; a substitute added at Shopify's price; a change another event applied)
keep its words beside the English they write: the order's page says the row in Portuguese, and
the words said in English are the stored reason, word for word past what an earlier step wrote
(`head`, which the catalogue words its own way: "Weighed", "ERP item", "1 of 3")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobs.order_edits import to_shopify
from ledger.models import MessageStatus, OrderLineChange
from ledger.words import quantity
from shopify_app import line_words
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

from .conftest import LinkedOrder, World
from .test_picking_reported_twice import _emit_again
from .test_weighed_discount import _set_price, _uneven_weight


def _said(change: OrderLineChange, head: str, head_en: str) -> str:
    """The change's words in pt-BR, after checking they say its English reason: `head` (what an
    earlier step wrote) as the catalogue's en says it (`head_en`), the rest word for word."""
    reason = change.reason or ""
    assert change.reason_words, f"no words beside {reason!r}"
    assert reason.startswith(head), (reason, head)
    en = line_words.reason(change, "en")
    assert en == head_en + reason[len(head) :], (en, reason)
    pt = line_words.reason(change, "pt-BR") or ""
    assert pt and pt != en and "Shopify is" not in pt and " the " not in pt, pt
    return pt


def _picked(world: World, order: LinkedOrder, **picking: Any) -> list[OrderLineChange]:
    world.erp.separate(order.nro, **picking)
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    return world.line_changes(order.gid)


# -- a weighed line whose difference its units do not divide (to_shopify._split, fulfilled.unsplit)


def _uneven(world: World, **checkout: Any) -> tuple[LinkedOrder, str, Decimal, Decimal]:
    weighed = world.weighed()
    order = world.linked_order(
        [(weighed, 3), (world.plain(0), 1)], gateway="cartao", capture="manual", **checkout
    )
    kg, difference = _uneven_weight(world.chain.prices[weighed], 3)
    return order, weighed, kg, difference


def _planned(change: OrderLineChange, kg: Decimal, difference: Decimal) -> tuple[str, str]:
    """(the split's plan as the job wrote it, as the catalogue says it in en)."""
    description = f"Ajuste de peso: 3,000 kg → {kg:.3f} kg".replace(".", ",")
    said = f"line discount {difference} '{description}'"
    head = (change.reason or "").split(";")[0]
    assert head.startswith("weighed ") and head.endswith(f" kg: {said}"), head
    return head, f"Weighed {quantity(kg)} kg instead of 3 kg: {said}"


@pytest.mark.parametrize("checkout", [{}, {"discount_code": "PESO10", "discount_percent": 10.0}],
                         ids=["even", "checkout code"])  # fmt: skip
def test_a_split_made_is_said_in_portuguese(world: World, checkout: dict[str, Any]) -> None:
    order, weighed, kg, difference = _uneven(world, **checkout)
    [change] = _picked(world, order, weights={str(order.lines[weighed]): float(kg)})
    assert "one unit went on a line of its own" in (change.reason or "")
    pt = _said(change, *_planned(change, kg, difference))
    assert "Pesado com" in pt and "então uma unidade foi para um item separado" in pt, pt
    if checkout:
        assert "mover a unidade mudou o subtotal da Shopify em R$ " in pt, pt


def test_a_split_shopify_took_another_amount_off_for_is_said_in_portuguese(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shopify's subtotal went down by a cent more than the ERP's difference (a fixed value not
    per unit): the reason says so, and so do its words."""
    real = to_shopify._discount

    def a_cent_more(*args: Any, **kwargs: Any) -> Decimal:
        return real(*args, **kwargs) - Decimal("0.01")

    monkeypatch.setattr(to_shopify, "_discount", a_cent_more)
    order, weighed, kg, difference = _uneven(world)
    [change] = _picked(world, order, weights={str(order.lines[weighed]): float(kg)})
    assert f"not {difference}: the capture follows the NF-e total" in (change.reason or "")
    pt = _said(change, *_planned(change, kg, difference))
    assert "o subtotal da Shopify baixou R$ " in pt and "a captura segue o total da NF-e" in pt, pt


@pytest.mark.parametrize("case", ["price down past the difference", "Shopify refuses the unit"])
def test_a_split_not_made_is_said_in_portuguese(
    world: World, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    order, weighed, kg, difference = _uneven(world)
    price = world.chain.prices[weighed]
    if case == "Shopify refuses the unit":

        def refuse(*_args: object, **_kwargs: object) -> None:
            raise ShopifyUserErrors("OrderEditAddVariant", [UserError(("variantId",), "Out of stock.")])

        monkeypatch.setattr(order_edit_discounts, "add_unit", refuse)
    else:
        _set_price(world, weighed, price - difference - 1)
    try:
        [change] = _picked(world, order, weights={str(order.lines[weighed]): float(kg)})
    finally:
        _set_price(world, weighed, price)
    pt = _said(change, *_planned(change, kg, difference))
    if case == "Shopify refuses the unit":
        assert "a Shopify recusou a unidade em um item separado (OrderEditAddVariant rejected: " in pt, pt
    else:
        assert "nenhuma divisão acerta o desconto ao centavo (a variante custa R$ " in pt, pt
    assert "por unidade x 3: a Shopify fica R$ 0,0" in pt, pt


def test_a_split_of_a_fulfilled_line_not_made_is_said_in_portuguese(world: World) -> None:
    """The line's 3 units fulfilled by hand before the picking came: no unit moves off it
    (jobs.order_edits.fulfilled.unsplit)."""
    order, weighed, kg, difference = _uneven(world)
    client = for_shop(world.domain)
    fo = next(fo for fo in client.fulfillment_orders(order.gid) if fo.status == "OPEN")
    line = next(line for line in world.order_doc(order.gid)["_lines"] if line["sku"] == weighed)
    client.fulfillment_create(
        {fo.id: [{"id": item.id, "quantity": 3} for item in fo.lines if item.line_item_id == line["id"]]}
    )
    [change] = _picked(world, order, weights={str(order.lines[weighed]): float(kg)})
    assert "3 of its units fulfilled in Shopify, so not split" in (change.reason or "")
    pt = _said(change, *_planned(change, kg, difference))
    assert "3 das suas unidades já processada(s) na Shopify, então sem divisão: R$ " in pt, pt


# -- a substitute the order lacks, added at Shopify's price (to_shopify._add_weighed, _add_substitute)


def _substituted(world: World, sku: str, qty: float, units: int = 1) -> tuple[LinkedOrder, int]:
    """An order of a plain item (x `units`) the ERP replaces at picking by `qty` of `sku`; its ERP line."""
    original = world.plain(0)
    order = world.linked_order([(original, units), (world.plain(1), 1)], gateway="cartao", capture="manual")
    ean = next(s.ean for s in world.chain.skus if s.id_sku == sku)
    world.erp.separate(
        order.nro,
        substitutions=[{"seqItem": order.lines[original], "codAcesso": ean, "qtd": qty}],
        weights={},
    )
    return order, order.lines[original]


def _substitute_row(world: World, order: LinkedOrder, sku: str) -> OrderLineChange:
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    return next(c for c in world.line_changes(order.gid) if c.sku == sku)


@pytest.mark.parametrize("case", ["not above", "less", "a unit's whole price"])
def test_a_weighed_substitute_added_is_said_in_portuguese(world: World, case: str) -> None:
    weighed = world.weighed()
    price = world.chain.prices[weighed]
    kg = {"not above": Decimal("1"), "less": Decimal("0.3"), "a unit's whole price": Decimal("1.4")}[case]
    units = int(3 * price / world.chain.prices[world.plain(0)]) + 1  # the substitute costs less
    order, item = _substituted(world, weighed, float(kg), units)
    if case == "a unit's whole price":
        _set_price(world, weighed, price * 2)  # 2 x 2p less 2p is still above the ERP's 1.4p
    try:
        change = _substitute_row(world, order, weighed)
    finally:
        _set_price(world, weighed, price)
    head = (change.reason or "").partition(": ")[0]
    assert head.startswith(f"substitute for ERP line {item}, weighed "), head
    pt = _said(change, head, f"Substitute for ERP item {item}, weighed {quantity(kg)} kg")
    assert pt.startswith(
        f"Substituto do item {item} do ERP, pesado com {quantity(kg).replace('.', ',')} kg: "
    )
    said = {
        "not above": "na Shopify não fica acima dos R$ ",
        "less": "'Peso do substituto: 0,300 kg",
        "a unit's whole price": "(o preço inteiro de uma unidade) ainda fica R$ ",
    }[case]
    assert said in pt, pt


@pytest.mark.parametrize("case", ["not above", "less", "cents below"])
def test_a_substitute_by_the_unit_added_is_said_in_portuguese(world: World, case: str) -> None:
    substitute = world.plain(2)
    price = world.chain.prices[substitute]
    order, item = _substituted(world, substitute, 3)
    if case == "cents below":  # the ERP charges 3 units a cent less than 3 x its price

        def a_cent_less(data: dict[str, Any]) -> None:
            line = next(i for i in data["itens"] if i.get("seqItemSubstituido"))
            line["vlrTotalAtendido"] = float(price * 3 - Decimal("0.01"))

        world.rewrite_event(order.nro, "S", a_cent_less)
    if case != "not above":
        _set_price(world, substitute, price + 1)
    try:
        change = _substitute_row(world, order, substitute)
    finally:
        _set_price(world, substitute, price)
    pt = _said(change, f"substitute for ERP line {item}", f"Substitute for ERP item {item}")
    assert pt.startswith(f"Substituto do item {item} do ERP: 3 x R$ "), pt
    said = {
        "not above": "na Shopify não fica acima dos R$ ",
        "less": "por unidade 'Preço do substituto: R$ ",
        "cents below": "a Shopify fica R$ 0,02 abaixo dos R$ ",
    }[case]
    assert said in pt, pt


# -- a change another event of the order applied (to_shopify._added_before)


def test_a_change_another_event_applied_is_said_in_portuguese(world: World) -> None:
    plain = world.plain(0)
    order = world.linked_order([(plain, 3), (world.plain(1), 1)], gateway="cartao", capture="manual")
    [first] = _picked(world, order, cuts={str(order.lines[plain]): 1})
    _emit_again(world, order, "S")
    world.poll()
    [_, again] = world.messages("order_edits", order)
    assert again.status == MessageStatus.DONE.value, again.error_text
    second = next(c for c in world.line_changes(order.gid) if c.change_key != first.change_key)
    head = first.reason or ""
    assert (second.reason or "").startswith(f"{head}: in Shopify already, applied by ERP event #")
    pt = _said(second, head, "Cut at picking: 1 of 3 served")
    assert pt.startswith("Corte na separação: 1 de 3 atendido(s): já na Shopify, aplicado pelo evento #"), pt


def test_a_reason_of_several_parts_is_said_inside_a_later_steps_and_stale_words_are_not() -> None:
    """Pure: the words of a reason of two parts ("...; ...") said inside "<reason>: in Shopify
    already, ..." read as the English does; words that no longer say the reason give none."""
    from ledger.words import around, said, stored_for

    amounts = {"difference": Decimal("0.92"), "per_unit": Decimal("0.31"), "units": 3}
    discount = (
        "line_weight_discount",
        {"served": "2.98", "ordered": "3", **amounts, "description": "Ajuste"},
    )
    plan = said("weighed 2.98 kg ...; Shopify discounts per unit, ...", discount,
                ("line_weight_residual", {"residual": Decimal("0.01")}))  # fmt: skip
    reason = f"{plan['reason']}: in Shopify already, applied by ERP event #13"
    words = around(plan["words"], plan["reason"], reason, "line_applied_before", {"event": 13})
    row = OrderLineChange(reason=reason, reason_words=stored_for(reason, words))
    assert line_words.reason(row, "en") == (
        "Weighed 2.98 kg instead of 3 kg: line discount 0.92 (0.31 per unit x 3) 'Ajuste'; Shopify discounts "
        "per unit, so its line is 0.01 below the NF-e line, and the capture follows the NF-e total: in "
        "Shopify already, applied by ERP event #13"
    )
    assert (line_words.reason(row, "pt-BR") or "").endswith(
        "a captura segue o total da NF-e: já na Shopify, aplicado pelo evento #13 do ERP"
    )
    assert around(plan["words"], "another text", reason, "line_applied_before", {"event": 13}) is None
