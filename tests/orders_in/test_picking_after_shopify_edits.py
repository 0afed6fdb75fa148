"""ERP -> Shopify picking edits of orders Shopify and the ERP see a little differently: a line the
merchant removed before picking (the ERP never had it), a substitute Shopify prices otherwise
than the ERP. The picking lands on the line the ERP means, at the ERP's money, and its echo is
not taken for a merchant's edit."""

from __future__ import annotations

from decimal import Decimal

from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import MessageStatus
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edits_after_picking import edit_messages
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported


def _picking_messages(nro: int) -> list:
    return [m for m in edit_messages(ERP_TO_SHOPIFY) if m.erp_id == str(nro)]


def test_a_cut_after_the_merchant_removed_a_duplicate_line_cuts_the_line_still_held(world):
    """A on two Shopify lines (2 and 1); the merchant removes the first before picking (the ERP gets
    one line of A, the second's). The ERP cuts that line to 0: Shopify's second line is cut (not
    the removed first one, which changed nothing and left a unit the ERP never served); a replay
    sends nothing."""
    from jobs.order_edits import to_shopify

    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, skus=[(a, 2), (b, 1), (a, 1)])
    edit_in_shopify(world, gid, a, 0)  # the variant's first line
    world.drain()
    assert [i["idSku"] for i in world.chain.order(nro)["itens"]].count(a) == 1
    cuts = {
        str(i["seqItem"]): 0 if i["idSku"] == a else i["qtdPedida"] for i in world.chain.order(nro)["itens"]
    }
    world.chain.handle.erp.separate(nro, cuts=cuts, weights={})
    poll_erp_events(world)
    world.drain()

    [out] = _picking_messages(nro)
    assert out.status == MessageStatus.DONE.value and out.response_payload["edited"] is True, out.error_text
    lines = [(line["sku"], line["currentQuantity"]) for line in world.order_doc(gid)["_lines"]]
    assert lines == [(a, 0), (b, 1), (a, 0)], lines
    assert world.link(gid).needs_attention is None
    assert to_shopify.replay(out.id) == MessageStatus.DONE.value
    assert [(line["sku"], line["currentQuantity"]) for line in world.order_doc(gid)["_lines"]] == lines


def test_a_substitute_shopify_prices_above_the_erp_is_discounted_to_the_erps_price(world):
    """The ERP substitutes A with 2 of S at its own price; Shopify's price for S is R$ 1,00 above
    (a promotion started in the ERP, the price sync not run yet). The added line gets a discount
    down to what the ERP charges, so Shopify's line is the NF-e's and the echo of the app's own
    edit is not flagged as a merchant's edit."""
    from sandbox.shopify.checkout import context

    a, sub = world.sku(0), world.sku(2)
    gid, nro = imported(world, skus=[(a, 2), (world.sku(1), 1)])
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        variant = ctx.store.get(ctx.shop, world.variants[sub])
        variant["price"] = str(Decimal(str(variant["price"])) + Decimal("1.00"))
        ctx.store.put(ctx.shop, variant)
    seq_a = next(i["seqItem"] for i in world.chain.order(nro)["itens"] if i["idSku"] == a)
    ean = next(s.ean for s in world.chain.skus if s.id_sku == sub)
    substitution = [{"seqItem": seq_a, "codAcesso": ean, "qtd": 2}]
    world.chain.handle.erp.separate(nro, substitutions=substitution, weights={})
    poll_erp_events(world)
    world.drain()

    [out] = _picking_messages(nro)
    assert out.status == MessageStatus.DONE.value, out.error_text
    served = next(i for i in world.chain.order(nro)["itens"] if i["idSku"] == sub)
    line = next(line for line in world.order_doc(gid)["_lines"] if line["sku"] == sub)
    unit = Decimal(line["discountedUnitPriceSet"]["shopMoney"]["amount"])
    assert line["currentQuantity"] * unit == Decimal(str(served["vlrTotalAtendido"])), (line, served)
    assert world.link(gid).needs_attention is None
    assert all(m.status != MessageStatus.FAILED.value for m in edit_messages()), [
        m.error_text for m in edit_messages()
    ]
