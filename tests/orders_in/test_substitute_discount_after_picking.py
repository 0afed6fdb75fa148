"""A unit substitute goes into Shopify at Shopify's price when it is below the ERP's charge, with no
discount: lower in Shopify is the picking's own echo. A person's courtesy discount on that line
after picking is not: skipped as "Shopify already matches", Shopify charged less than the ERP
invoices and nothing told a person. It is flagged now (the edit came after separation)."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import MessageStatus
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import discount_in_shopify, imported


def test_a_discount_on_a_substitute_after_picking_is_flagged_not_taken_for_the_echo(world) -> None:
    a, substitute = world.sku(0), world.sku(2)
    gid, nro = imported(world, skus=[(a, 2), (world.sku(1), 1)])
    seq_a = next(i["seqItem"] for i in world.chain.order(nro)["itens"] if i["idSku"] == a)
    ean = next(s.ean for s in world.chain.skus if s.id_sku == substitute)
    world.chain.handle.erp.separate(
        nro, substitutions=[{"seqItem": seq_a, "codAcesso": ean, "qtd": 2}], weights={}
    )
    poll_erp_events(world)
    world.drain()
    echoes = {m.id for m in edit_messages()}
    assert world.link(gid).needs_attention is None  # the picking's own echo: nothing to tell

    discount_in_shopify(world, gid, substitute, Decimal("5.00"))  # a courtesy discount after picking
    world.drain()
    new = [m for m in edit_messages() if m.id not in echoes]
    assert [m.status for m in new] == [MessageStatus.FAILED.value], [(m.status, m.error_text) for m in new]
    assert "already being separated" in (world.link(gid).needs_attention or "")
