"""An order edit the ERP cannot take yet while its order is still editable (D/A/L): a line it
added has no ERP SKU bound (jobs.order_edits.held).

A product made in Shopify (a bag, gift wrap) or a custom item: no binding will ever come, so the
edit is not parked waiting for one; it fails for a person, the order link flagged (the edit's other
changes are held back with it: the ERP would pick and invoice the old quantities), its text saying
that another order edit, replacing or removing the line, carries the change to the ERP. An ERP SKU
not bound yet: parked, resumed once the catalog sync binds it, the link flagged meanwhile. Either
way the held edit is closed once a later change of the order supersedes it or the order is
cancelled (either side), and turns into the "too late" flag once the ERP starts picking."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from jobs import orders
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.shopify.checkout import pay_balance
from shopify_app.admin_api import for_shop, order_edit_discounts
from shopify_app.api_explain import explain
from tests.orders_in.conftest import bind, create_variant
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_after_picking import changes_sent
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, imported

BAG = SimpleNamespace(id_sku="SACOLA-01", unit="UN", description="Sacola retornável")


def edit_messages():
    with session_scope() as session:
        query = select(Message).where(Message.flow == "order_edits")
        return list(session.scalars(query.order_by(Message.id)))


def items(world, nro: int) -> list[tuple[str, int]]:
    return [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"]]


def bag_and_one_more_b(world) -> tuple[str, int, str]:
    """The order imported with A x2, B x1; then edited in Shopify: a bag (made in Shopify) added
    and B raised to 2. Returns (gid, nro, the bag's variant)."""
    bag_variant = create_variant(for_shop(world.domain), BAG, Decimal("0.50"))
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, skus=[(a, 2), (b, 1)])
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, bag_variant, 1)
    client.order_edit_set_quantity(edit.calculated_order_id, edit.line_for_variant(world.variants[b]).id, 2)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    return gid, nro, bag_variant


def remove_line(world, gid: str, variant: str) -> None:
    client = for_shop(world.domain)
    edit, _ = order_edit_discounts.begin(client.executor, gid)
    line = edit.line_for_variant(variant)
    order_edit_discounts.set_quantity(client.executor, edit.calculated_order_id, line.id, 0)
    client.order_edit_commit(edit.calculated_order_id)


def test_an_edit_adding_a_product_made_in_shopify_is_held_for_a_person_not_parked(world):
    a, b = world.sku(0), world.sku(1)
    gid, nro, _ = bag_and_one_more_b(world)
    [held] = edit_messages()
    assert held.status == MessageStatus.FAILED.value, (held.status, held.error_text)
    assert held.error_detail["code"] == "EDIT_NOT_ERP_PRODUCT"
    text = held.error_text
    assert f"({b} 1 -> 2; SACOLA-01 0 -> 1, not an ERP product)" in text, text
    assert "another order edit" in text and "carries this change to the ERP" in text, text
    assert "order resumes" not in text and "catalog sync" not in text, text
    note = world.link(gid).needs_attention
    assert note and "order_edits: " in note and text in note, note  # the Orders page shows it
    shown = explain(held, "en")
    assert "another order edit" in shown["what_to_do"] and "resumes" not in shown["what_to_do"], shown
    rows = {(c.sku, c.kind, c.qty_before, c.qty_after, c.applied) for c in changes_sent()}
    assert rows == {(b, "qty", Decimal(1), Decimal(2), False), ("SACOLA-01", "added", 0, 1, False)}, rows
    assert items(world, nro) == [(a, 2), (b, 1)]  # nothing sent


def test_a_held_edit_superseded_by_an_applied_edit_is_closed(world):
    a, b = world.sku(0), world.sku(1)
    gid, nro, bag_variant = bag_and_one_more_b(world)
    # staff remove the bag, as the note says: that edit carries B x2 to the ERP
    remove_line(world, gid, bag_variant)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    first, second = edit_messages()
    assert items(world, nro) == [(a, 2), (b, 2)]
    assert second.status == MessageStatus.DONE.value, second.error_text
    assert first.status == MessageStatus.SKIPPED.value, (first.status, first.error_text)
    assert f"message #{second.id}" in first.error_text and f"ERP order {nro}" in first.error_text
    assert first.error_detail["skip"]["key"] == "edit_superseded_sent"
    assert world.link(gid).needs_attention is None


def test_a_later_edit_still_held_supersedes_the_earlier_one(world):
    """Two edits, the bag still there: one open message for the order, the latest (its lines are
    the order's current ones)."""
    a = world.sku(0)
    gid, _, _ = bag_and_one_more_b(world)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_set_quantity(edit.calculated_order_id, edit.line_for_variant(world.variants[a]).id, 3)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    first, second = edit_messages()
    assert second.status == MessageStatus.FAILED.value, (second.status, second.error_text)
    assert second.error_detail["code"] == "EDIT_NOT_ERP_PRODUCT"
    assert first.status == MessageStatus.SKIPPED.value, (first.status, first.error_text)
    assert first.error_detail["skip"]["key"] == "edit_superseded_held"
    assert f"{a} 2 -> 3" in world.link(gid).needs_attention


def test_a_held_edit_of_an_order_then_cancelled_in_shopify_is_closed(world):
    gid, nro, _ = bag_and_one_more_b(world)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    [held] = edit_messages()
    assert held.status == MessageStatus.SKIPPED.value, (held.status, held.error_text)
    assert held.error_detail["skip"]["key"] == "edit_held_cancelled"
    assert world.link(gid).needs_attention is None


def test_a_held_edit_of_an_order_cancelled_in_the_erp_is_closed(world):
    gid, nro, _ = bag_and_one_more_b(world)
    world.chain.handle.erp.cancel(nro)
    poll_erp_events(world)
    world.drain()
    held = next(m for m in edit_messages() if m.unit_key.startswith("edit:"))
    assert held.status == MessageStatus.SKIPPED.value, (held.status, held.error_text)
    assert held.error_detail["skip"]["key"] == "edit_held_cancelled"
    assert "order_edits: " not in (world.link(gid).needs_attention or "")


def test_a_held_edit_is_flagged_too_late_once_the_erp_separates_the_order(world):
    """Bag added + B 1 -> 2 while the ERP order is L: held. The ERP separates it as placed
    (B x1): the note no longer tells of another edit (the ERP takes none now) but that the change
    was not applied and the picking must change, or the edit be undone."""
    b = world.sku(1)
    gid, nro, _ = bag_and_one_more_b(world)
    world.chain.handle.erp.separate(nro, weights={})
    poll_erp_events(world)
    world.drain()
    held = next(m for m in edit_messages() if m.unit_key.startswith("edit:"))
    assert held.status == MessageStatus.FAILED.value, (held.status, held.error_text)
    assert held.error_detail["code"] == "PEDIDO_EM_SEPARACAO", held.error_detail
    note = world.link(gid).needs_attention
    assert f"({b} 1 -> 2; SACOLA-01 0 -> 1, not an ERP product)" in note, note
    assert "already being separated" in note and "another order edit" not in note, note


def test_an_edit_adding_an_erp_sku_not_bound_yet_parks_flagged_and_resumes_once_bound(world):
    """An ERP idSku the catalog sync has not bound yet: a binding can come, so the edit parks
    (resumed by the orders catch-up once bound), with its own text; the link is flagged while it
    waits, and cleared once the edit goes."""
    a, b = world.sku(0), world.sku(1)
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    variant = create_variant(for_shop(world.domain), unbound, world.chain.prices[unbound.id_sku])
    gid, nro = imported(world, skus=[(a, 2), (b, 1)])
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, variant, 1)
    client.order_edit_commit(edit.calculated_order_id)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    [parked] = edit_messages()
    assert parked.status == MessageStatus.PARKED.value, (parked.status, parked.error_text)
    assert parked.error_detail["mapping"] == {"kind": "variant", "code": unbound.id_sku}
    text = parked.error_text
    assert f"{unbound.id_sku} 0 -> 1, its ERP product not bound to Shopify yet" in text, text
    assert "catalog sync binds it" in text and "another order edit" in text, text
    assert "order resumes" not in text, text
    assert text in world.link(gid).needs_attention
    bind(world.shop_id, unbound, variant)  # what the SKU sync does
    assert orders.run(world.shop_id)["resumed"] == 1
    world.drain()
    [parked] = edit_messages()
    assert parked.status == MessageStatus.DONE.value, parked.error_text
    assert items(world, nro) == [(a, 2), (b, 1), (unbound.id_sku, 1)]
    assert world.link(gid).needs_attention is None


def test_a_held_edit_is_flagged_too_late_when_redis_fails_between_the_polls_enqueues(world, monkeypatch):
    """The S event's poll enqueues the held edits' replays before the event's own job: Redis failing
    on them, nothing of the event is enqueued and the next poll takes it again whole (its job run
    first, its message final, the poll would take the event as seen and the held edit keep its old
    advice)."""
    from redis.exceptions import ConnectionError as RedisDown

    from jobs import order_events
    from jobs.order_edits import held as held_edits

    _gid, nro, _ = bag_and_one_more_b(world)
    world.chain.handle.erp.separate(nro, weights={})
    real = held_edits.enqueue_replays

    def down(*args, **kwargs):
        raise RedisDown("Redis restarting")

    monkeypatch.setattr(held_edits, "enqueue_replays", down)
    with pytest.raises(RedisDown):  # the poll fails (RQ retries it); what it enqueued is the point
        order_events.run(world.shop_id)
    monkeypatch.setattr(held_edits, "enqueue_replays", real)
    world.drain()  # whatever the failed poll enqueued
    poll_erp_events(world)  # the poll again
    world.drain()

    held = next(m for m in edit_messages() if m.unit_key.startswith("edit:"))
    assert held.status == MessageStatus.FAILED.value and held.error_detail["code"] == "PEDIDO_EM_SEPARACAO"
