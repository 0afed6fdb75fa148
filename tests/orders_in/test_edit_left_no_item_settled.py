"""An edit that left the order with no item fails for a person (EDIT_LEFT_NO_ITEM) and notes the
order; a later edit giving it items again applies and clears the note, and now closes that failure
too (skipped, naming the later change), instead of leaving a task done already in the failed queue."""

from __future__ import annotations

from shopify_app.admin_api import for_shop
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import imported, remove_every_item


def test_an_order_left_with_no_item_is_closed_once_a_later_edit_gives_it_items(world) -> None:
    gid, _ = imported(world)
    remove_every_item(world, gid)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[world.sku(0)], 1)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    msgs = [(m.unit_key, m.status, (m.error_detail or {}).get("code")) for m in edit_messages()]
    assert world.link(gid).needs_attention is None
    assert all(s != "failed" for _, s, _ in msgs), msgs
