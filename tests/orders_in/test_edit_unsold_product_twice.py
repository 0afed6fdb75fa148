"""An edit that puts a product the ERP cannot sell on two lines: the same variant added twice
(orderEditAddVariant's allowDuplicates), or two variants sharing one SKU. Both lines named the same
change (edit:<id>:SACOLA-01) in one INSERT ... ON CONFLICT DO UPDATE, which PostgreSQL refuses
("cannot affect row a second time"); the crash was then recorded on the broken transaction, so the
message stayed pending and the order unflagged: nobody told, the ERP picking the old lines. The
lines are one change of their total (jobs.order_edits.to_erp.merged): held back, flagged for a person."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop, order_edit_discounts
from tests.orders_in.conftest import create_variant
from tests.orders_in.test_edits_after_picking import changes_sent
from tests.orders_in.test_edits_and_cancels import imported
from tests.orders_in.test_parked_edits import BAG, edit_messages, items


def _assert_held_as_one_change(world, gid: str, nro: int, before: list) -> None:
    [held] = edit_messages()
    assert held.status == MessageStatus.FAILED.value, (held.status, held.error_text)
    assert held.error_detail["code"] == "EDIT_NOT_ERP_PRODUCT", held.error_text
    note = world.link(gid).needs_attention
    assert note and "SACOLA-01 0 -> 2, not an ERP product" in note, note
    [change] = changes_sent()
    assert (change.sku, change.kind, change.qty_before, change.qty_after) == ("SACOLA-01", "added", 0, 2)
    assert change.applied is False
    assert items(world, nro) == before  # the ERP keeps its lines: nothing applied


def test_the_same_unsold_variant_added_twice_is_flagged_not_a_bug(world):
    """Case: orderEditAddVariant(allowDuplicates) adds the bag (no ERP product) on two lines."""
    bag = create_variant(for_shop(world.domain), BAG, Decimal("0.50"))
    gid, nro = imported(world, skus=[(world.sku(0), 2), (world.sku(1), 1)])
    before = items(world, nro)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    for _ in range(2):
        order_edit_discounts.add_variant(client.executor, edit.calculated_order_id, bag, 1, location_id=None)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    _assert_held_as_one_change(world, gid, nro, before)


def test_two_unsold_variants_sharing_a_sku_are_flagged_not_a_bug(world):
    """Case: two products made in Shopify whose variants carry the same SKU, both added."""
    shop = for_shop(world.domain)
    first, second = create_variant(shop, BAG, Decimal("0.50")), create_variant(shop, BAG, Decimal("0.75"))
    gid, nro = imported(world, skus=[(world.sku(0), 2), (world.sku(1), 1)])
    before = items(world, nro)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    for variant in (first, second):
        order_edit_discounts.add_variant(
            client.executor, edit.calculated_order_id, variant, 1, location_id=None
        )
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    _assert_held_as_one_change(world, gid, nro, before)
