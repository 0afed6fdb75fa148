"""A product made in Shopify (a bag, gift wrap: no ERP product behind it, its SKU no ERP idSku
P{seq}E{qtd}) parks the order. No catalog sync will ever bind it, so the park must not say the
order "resumes once the catalog sync binds it": it names the product and its SKU and says what
resumes it, an order edit that replaces or removes the line, which does resume it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.api_explain import explain

from .conftest import create_variant


def test_a_product_made_in_shopify_parks_saying_to_edit_the_order_and_the_edit_resumes_it(world) -> None:
    bag = SimpleNamespace(id_sku="SACOLA-01", unit="UN", description="Sacola retornável")
    bag_variant = create_variant(for_shop(world.domain), bag, Decimal("0.50"))
    gid = world.place([(world.sku(0), 1), ("SACOLA-01", 1)])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    text = message.error_text
    assert "'Sacola retornável - UN' (SKU SACOLA-01) was made in Shopify" in text, text
    assert "order edit" in text and "catalog sync binds it" not in text, text
    shown = explain(message, "en")
    assert "made in Shopify" in shown["what_happened"] and "order edit" in shown["what_to_do"], shown
    assert "catalog sync publishes" not in shown["what_to_do"], shown

    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(bag_variant)
    order_edit_discounts.set_quantity(client.executor, edit.calculated_order_id, line.id, 0)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert [i["idSku"] for i in items] == [world.sku(0)]


def test_a_product_made_in_shopify_added_after_separation_is_flagged_too_late_not_parked(world) -> None:
    """Staff add a bag (made in Shopify) and a unit of an ERP item once the ERP is separating the
    order: the ERP takes no edit at all, so no binding would ever resume a park. The edit is
    flagged as too late, naming both changes, the bag as not an ERP product."""
    from tests.orders_in.test_edits_after_picking import changes_sent, edit_messages
    from tests.orders_in.test_edits_and_cancels import imported

    bag = SimpleNamespace(id_sku="SACOLA-01", unit="UN", description="Sacola retornável")
    bag_variant = create_variant(for_shop(world.domain), bag, Decimal("0.50"))
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, skus=[(a, 2), (b, 1)])
    world.chain.handle.erp.separate(nro, weights={})  # picking started, nothing cut
    items = [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"]]
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, bag_variant, 1)
    client.order_edit_set_quantity(edit.calculated_order_id, edit.line_for_variant(world.variants[b]).id, 2)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    [message] = edit_messages()
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_detail["code"] == "PEDIDO_EM_SEPARACAO"
    note = world.link(gid).needs_attention
    assert f"({b} 1 -> 2; SACOLA-01 0 -> 1, not an ERP product)" in note, note
    assert "already being separated" in note and "order resumes" not in note, note
    rows = {(c.sku, c.kind, c.qty_before, c.qty_after, c.applied) for c in changes_sent()}
    assert rows == {(b, "qty", Decimal(1), Decimal(2), False), ("SACOLA-01", "added", 0, 1, False)}, rows
    assert [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"]] == items  # nothing sent


def _copy_of(world, sku: str, price: str) -> str:
    """The merchant's "Duplicate" of the app's product in the Shopify admin, sold as a kit of 6:
    Shopify copies the SKU; the app never published nor bound the copy."""
    kit = SimpleNamespace(id_sku=sku, unit="KIT6", description="Kit 6 unidades")
    return create_variant(for_shop(world.domain), kit, Decimal(price))


def test_a_copy_of_the_apps_product_made_in_shopify_parks_and_is_never_sent_as_the_erp_sku(world) -> None:
    """Sent by its SKU, the kit would reach the ERP as one unit of the product at six times its
    price, done with nothing said. It parks naming it a copy, on its own variant (no catalog sync
    will bind it: the catch-up does not resume it), and an order edit replacing it resumes it."""
    from jobs import orders
    from sandbox.shopify.checkout import place_order
    from shopify_app import fail_words

    a = world.sku(0)
    kit = _copy_of(world, a, "231.78")
    gid = place_order(world.shopify.sandbox, world.name, lines=[{"variantId": kit, "quantity": 1}],
                      discount_rate=0.0, seed=11)  # fmt: skip
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value, (message.status, message.error_text)
    assert world.erp_orders_for(gid) == []
    assert message.error_detail["mapping"] == {"kind": "variant", "code": kit}
    text = message.error_text
    assert f"'Kit 6 unidades - KIT6' (SKU {a}) is a copy made in Shopify" in text, text
    assert "catalog sync binds it" not in text and "order edit" in text, text
    said = fail_words.reason(message, "pt-BR")
    assert f"'Kit 6 unidades - KIT6' (SKU {a}) é uma cópia feita na Shopify" in said, said
    shown = explain(message, "en")
    assert "is a copy made in Shopify" in shown["what_happened"], shown
    assert "order edit" in shown["what_to_do"], shown
    assert orders.run(world.shop_id)["resumed"] == 0

    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_set_quantity(edit.calculated_order_id, edit.line_for_variant(kit).id, 0)
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[a], 6)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert [(i["idSku"], i["qtdPedida"]) for i in items] == [(a, 6)]


def test_a_line_of_a_deleted_variant_is_still_sent_by_its_sku(world) -> None:
    """Not a copy: the product deleted in Shopify after the sale leaves its line with no variant,
    and the line's SKU is the ERP product it sold."""
    from sandbox.shopify import catalog
    from sandbox.shopify.checkout import context

    gid = world.place([(world.sku(0), 2)])
    ctx = context(world.shopify.sandbox, world.name)
    catalog.delete_product_by_hand(ctx, ctx.store.get(world.name, world.variants[world.sku(0)])["productId"])
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert [(i["idSku"], i["qtdPedida"]) for i in items] == [(world.sku(0), 2)]


def test_an_edit_adding_a_copy_is_held_as_not_an_erp_product_not_parked(world) -> None:
    """An order edit adding the kit (a copy of A) and a unit of A: held for a person (no binding will
    come for the copy), the copy named by its own name, A's unit a change of its own."""
    from sandbox.shopify.checkout import pay_balance
    from tests.orders_in.test_edits_after_picking import changes_sent
    from tests.orders_in.test_edits_and_cancels import imported
    from tests.orders_in.test_parked_edits import edit_messages

    a, b = world.sku(0), world.sku(1)
    kit = _copy_of(world, a, "231.78")
    gid, nro = imported(world, skus=[(a, 2), (b, 1)])
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, kit, 1)
    client.order_edit_set_quantity(edit.calculated_order_id, edit.line_for_variant(world.variants[a]).id, 3)
    client.order_edit_commit(edit.calculated_order_id)
    pay_balance(world.shopify.sandbox, world.name, gid)
    world.drain()
    [message] = edit_messages()
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert message.error_detail["code"] == "EDIT_NOT_ERP_PRODUCT"
    note = world.link(gid).needs_attention
    assert f"{a} 2 -> 3" in note and "Kit 6 unidades - KIT6 0 -> 1, not an ERP product" in note, note
    rows = {(c.sku, c.qty_before, c.qty_after) for c in changes_sent()}
    assert rows == {(a, 2, 3), ("Kit 6 unidades - KIT6", 0, 1)}, rows
    assert [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"]] == [(a, 2), (b, 1)]
