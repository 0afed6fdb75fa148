"""A change the ERP order could not take fails for a person and notes the order, the note saying
what to do: "cancel the order in Shopify (the ERP order is cancelled with it); otherwise undo the
edit" (EDIT_LEFT_NO_ITEM), "change the picking or undo the edit" (PEDIDO_EM_SEPARACAO). Done as
told, the note goes and the failure is settled (skipped) with it: left FAILED, the failed queue and
the alert digest kept listing, as work to do, a task already done (it was closed only when a later
change was applied; a cancellation, or an undo the ERP already matched, left it)."""

from __future__ import annotations

from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    imported,
    remove_every_item,
)


def _open_failures():
    return [
        (m.unit_key, (m.error_detail or {}).get("code"))
        for m in edit_messages()
        if m.status == MessageStatus.FAILED.value
    ]


def test_an_order_left_with_no_item_then_cancelled_as_told_closes_the_failure(world):
    gid, nro = imported(world)
    remove_every_item(world, gid)
    assert "cancel the order in Shopify" in world.link(gid).needs_attention
    cancel_in_shopify(world, gid)  # as the note says
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C" and world.link(gid).needs_attention is None
    assert _open_failures() == []


def test_an_order_left_with_no_item_then_undone_exactly_closes_the_failure(world):
    gid, _nro = imported(world)  # sku(0) x2, sku(1) x1
    remove_every_item(world, gid)
    client = for_shop(world.domain)
    edit = client.order_edit_begin(gid)  # undone, as the note says: the same items back
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[world.sku(0)], 2)
    client.order_edit_add_variant(edit.calculated_order_id, world.variants[world.sku(1)], 1)
    client.order_edit_commit(edit.calculated_order_id)
    world.drain()
    print([(m.unit_key, m.status, (m.error_text or "")[:80]) for m in edit_messages()])
    assert world.link(gid).needs_attention is None
    assert _open_failures() == []
