"""A substitute by a product the order already has lands on that product's line (its units raised),
at the line's checkout price; when the ERP's price fell since, the NF-e charges less than Shopify
asks for the order. The capture takes the NF-e; Shopify then shows the customer owing the
difference, and the invoice's note tells a person to take it off there (the line keeps its price:
jobs.invoice_capture._shopify_above)."""

from __future__ import annotations

from ledger.models import MessageStatus

from .conftest import World


def test_a_substitute_on_a_line_whose_erp_price_fell_is_named_for_a_person(world: World) -> None:
    a, b = world.plain(0), world.plain(1)
    y, x = (a, b) if world.chain.prices[a] < world.chain.prices[b] else (b, a)  # Y, the substitute, cheaper
    order = world.linked_order([(y, 2), (x, 1)], gateway="cartao", capture="manual")
    seq_y = next(s for s in world.chain.skus if s.id_sku == y).seq_produto
    world.erp.simulator.update_prices([seq_y], 0.8)  # the ERP's price of Y fell since checkout
    ean = next(s for s in world.chain.skus if s.id_sku == y).ean
    world.erp.separate(order.nro, substitutions=[{"seqItem": order.lines[x], "codAcesso": ean, "qtd": 1}])
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text

    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    after = world.settlement(order.gid)
    assert after.paid == nfe_total < after.current_total  # the NF-e taken, the rest released
    gap = after.current_total - nfe_total
    note = world.link(order.gid).needs_attention or ""
    said = f"the Shopify order's total {after.current_total} is {gap} above what the NF-e invoiced"
    assert said in note, note
