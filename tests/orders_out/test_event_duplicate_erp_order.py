"""An ERP event of a second ERP order naming a linked Shopify order as its channel id (the ERP holds
a duplicate of the order: docs/consinco-api.md, a re-post it inserted again). Found by its channel
id, the duplicate's C cancelled and refunded the live Shopify order (its ERP order still picked and
invoiced), and its F would write the duplicate's NF-e on it: now the event fails, naming both ERP
orders, and nothing is applied (jobs.order_events.other_order)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from erp.client import ErpClient
from erp.records import CustomerInput, OrderInput, OrderLineInput
from ledger.models import MessageStatus

from .conftest import NRO_EMPRESA, LinkedOrder, World


def _duplicate(world: World, order: LinkedOrder, sku: str, units: int) -> LinkedOrder:
    """A second ERP order of the same sale, under a placeholder channel id (the sandbox answers the
    first order to a post of the same one); its events are then made to name `order`."""
    skus = {s.id_sku: s for s in world.chain.skus}
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    dup = client.insert_order(OrderInput(
        seq_canal_venda=7, channel_order_id=f"{order.gid}-dup", ordered_at=datetime.now(UTC),
        nro_empresa=NRO_EMPRESA, nro_segmento=world.chain.segment, cod_geral_oper=207,
        customer=CustomerInput(cpf_cnpj="52998224725", name="MARIA SILVA"),
        lines=(OrderLineInput(qty=Decimal(units), seq_produto=skus[sku].seq_produto,
                              qtd_embalagem=skus[sku].qtd_embalagem, unit_price=world.chain.prices[sku]),),
        freight=Decimal(0)))  # fmt: skip
    client.close()
    return LinkedOrder(order.gid, dup.nro_pedvenda, {})


def _failed_naming_both(world: World, flow: str, dup: LinkedOrder, order: LinkedOrder) -> None:
    [message] = world.messages(flow, dup)
    assert message.status == MessageStatus.FAILED.value, (message.status, message.error_text)
    assert (message.error_detail or {}).get("code") == "DUPLICATE_ERP_ORDER"
    assert f"ERP order {dup.nro}" in message.error_text and f"ERP order {order.nro}" in message.error_text
    assert message.shopify_id == order.gid  # on the Shopify order's page
    link = world.link(order.gid)
    assert link.nro_pedvenda == order.nro and f"ERP order {dup.nro}" in (link.needs_attention or "")


def test_the_cancellation_of_a_duplicate_erp_order_leaves_the_live_order_alone(world: World) -> None:
    sku = world.plain(0)
    order = world.linked_order([(sku, 2)], gateway="pix")
    dup = _duplicate(world, order, sku, 2)
    world.erp.cancel(dup.nro, "Pedido duplicado")
    world.rewrite_event(dup.nro, "C", lambda data: data.update(idPedidoCanalVenda=order.gid))
    world.poll()

    _failed_naming_both(world, "cancellations", dup, order)
    doc = world.order_doc(order.gid)
    assert not doc["cancelledAt"] and doc["displayFinancialStatus"] == "PAID"
    link = world.link(order.gid)
    assert link.erp_status != "C" and link.cancelled_at is None


def test_the_invoice_of_a_duplicate_erp_order_is_not_written_on_the_linked_order(world: World) -> None:
    sku = world.plain(0)
    order = world.linked_order([(sku, 2)], gateway="cartao", capture="manual")
    dup = _duplicate(world, order, sku, 2)
    world.erp.invoice(dup.nro)
    world.rewrite_event(dup.nro, "F", lambda data: data.update(idPedidoCanalVenda=order.gid))
    world.poll()

    _failed_naming_both(world, "invoices", dup, order)
    assert not world.settlement(order.gid).nfe.get("chave")  # no NF-e of the duplicate on it
    # The linked ERP order's own invoice still applies.
    _total, done = world.invoice(order)
    assert done.status == MessageStatus.DONE.value, done.error_text
    assert world.settlement(order.gid).nfe.get("chave")
