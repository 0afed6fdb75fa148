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
