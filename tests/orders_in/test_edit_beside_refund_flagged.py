"""An order the ERP is picking (S), refunded (both units of B taken back) and edited (A 2 -> 1) in
Shopify: one flag names every line against what the ERP served, closing the earlier one. Worded by
the change that ran last, a refund's lines were told "undo the edit in Shopify": a refund cannot be
undone, and a person who undid the edit was told so again, for ever. Now the note says the order was
edited and refunded, and advises changing the picking."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_edits
from jobs.inbox import WebhookEvent
from jobs.order_edits import to_erp as edits_to_erp
from ledger import order_notes
from sandbox.shopify.resolvers.order_refunds import refund_order
from shopify_app import note_words
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported


def _refund_items(world, gid: str, sku: str, units: int) -> WebhookEvent:
    line = next(li["id"] for li in world.order_doc(gid)["_lines"] if li.get("sku") == sku)
    made = refund_order(world.shopify.sandbox, world.name, gid, {line: units}, restock=True)
    refund_id = int(made["id"].rsplit("/", 1)[-1])
    payload = {"id": refund_id, "order_id": int(gid.rsplit("/", 1)[-1]), "refund_line_items": []}
    return WebhookEvent(refund_id, "refunds/create", world.domain, f"r-{refund_id}", f"re-{refund_id}",
                        "2026-10", None, payload)  # fmt: skip


def test_an_edit_beside_a_refund_flagged_is_never_told_to_be_undone(world) -> None:
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, gateway="pix", skus=[(a, 2), (b, 2)])
    num = gid.rsplit("/", 1)[-1]
    world.chain.handle.erp.separate(nro, weights={})  # picking started, nothing cut
    order_edits.on_refund(_refund_items(world, gid, b, 2))
    assert "A refund cannot be reversed" in world.link(gid).needs_attention

    edit_in_shopify(world, gid, a, 1)
    edits_to_erp.apply_edit(world.shop_id, num, "901")
    note = world.link(gid).needs_attention
    assert f"was edited and refunded in Shopify ({a} 2 -> 1; {b} 2 -> 0)" in note, note
    assert "A refund cannot be reversed" in note and "undo the edit" not in note, note
    link = world.link(gid)
    [flag] = [n for n in order_notes.notes(link) if n.flow == "order_edits"]
    said = note_words.note_text(flag, order_notes.words_of(link), "pt-BR")
    assert "foi editado e reembolsado na Shopify" in said, said

    edit_in_shopify(world, gid, a, 2)  # the person undoes the edit: B's refund stays
    edits_to_erp.apply_edit(world.shop_id, num, "902")
    note = world.link(gid).needs_attention
    assert f"was edited and refunded in Shopify ({b} 2 -> 0)" in note, note
    assert "A refund cannot be reversed" in note and "undo the edit" not in note, note
    assert Decimal(str(world.chain.order(nro)["vlrTotalPedido"])) > 0  # (nothing sent to the ERP)
