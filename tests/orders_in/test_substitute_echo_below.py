"""The ERP substitutes A with S, and Shopify's price for S is below the ERP's charge (the price sync
not run yet). to_shopify adds S at Shopify's price with no discount (by design). Its echo
(orders/edited) is not flagged as a merchant's edit; a person's discount on it after picking is."""

from __future__ import annotations

from decimal import Decimal

from ledger.flows import ERP_TO_SHOPIFY, SHOPIFY_TO_ERP
from ledger.models import MessageStatus
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import discount_in_shopify, imported


def _substituted(world, a: str, sub: str) -> tuple[str, int]:
    """An order of A (2) and another SKU, whose A the ERP's picking replaced with 2 of `sub`,
    the picking applied in Shopify (its echo drained): (order gid, ERP order)."""
    gid, nro = imported(world, skus=[(a, 2), (world.sku(1), 1)])
    seq_a = next(i["seqItem"] for i in world.chain.order(nro)["itens"] if i["idSku"] == a)
    ean = next(s.ean for s in world.chain.skus if s.id_sku == sub)
    world.chain.handle.erp.separate(
        nro, substitutions=[{"seqItem": seq_a, "codAcesso": ean, "qtd": 2}], weights={}
    )
    poll_erp_events(world)
    world.drain()
    return gid, nro


def test_a_unit_substitute_priced_below_the_erps_charge_echoes_without_a_flag(world) -> None:
    from sandbox.shopify.checkout import context

    a, sub = world.sku(0), world.sku(2)
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        variant = ctx.store.get(ctx.shop, world.variants[sub])
        variant["price"] = str(Decimal(str(variant["price"])) - Decimal("1.00"))
        ctx.store.put(ctx.shop, variant)
    gid, nro = _substituted(world, a, sub)
    out = [m for m in edit_messages(ERP_TO_SHOPIFY) if m.erp_id == str(nro)]
    assert out and all(m.status == MessageStatus.DONE.value for m in out)  # the picking reached Shopify
    ins = edit_messages(SHOPIFY_TO_ERP)
    assert world.link(gid).needs_attention is None
    assert all(m.status != MessageStatus.FAILED.value for m in ins)


def test_a_discount_on_a_substitute_after_picking_is_flagged_not_taken_for_the_echo(world) -> None:
    """Lower in Shopify is the picking's echo only without a discount: a person's courtesy discount
    on the substitute after picking was skipped as "Shopify already matches", Shopify charging less
    than the ERP invoices and nobody told. It is flagged (the edit came after separation)."""
    substitute = world.sku(2)
    gid, _nro = _substituted(world, world.sku(0), substitute)
    echoes = {m.id for m in edit_messages()}
    assert world.link(gid).needs_attention is None  # the picking's own echo: nothing to tell

    discount_in_shopify(world, gid, substitute, Decimal("5.00"))  # a courtesy discount after picking
    world.drain()
    new = [m for m in edit_messages() if m.id not in echoes]
    assert [m.status for m in new] == [MessageStatus.FAILED.value], [(m.status, m.error_text) for m in new]
    assert "already being separated" in (world.link(gid).needs_attention or "")
