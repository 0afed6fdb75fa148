"""The Orders row (OrderLink) says what Shopify says after the picking and the invoice: the total
after a cut (orderEditCommit's answer), the financial status after the capture (orderCapture's
answer), and what is paid, a Pix paid at checkout's as much as a captured card's. Demo: #1002
showed 'Autorizado', total 114,85 and 66,59 captured while Shopify had it PAID at 66,59."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from ledger.db import session_scope
from ledger.models import OrderLink

from .conftest import World


def _as_imported(gid: str, status: str) -> None:
    with session_scope() as session:  # as jobs.order_lookup writes it at import: the status then
        session.execute(
            update(OrderLink).where(OrderLink.shopify_order_id == gid).values(shopify_status=status)
        )


def test_row_after_a_cut_and_the_capture_matches_shopify(world: World) -> None:
    cut_sku, kept_sku = world.plain(0), world.plain(1)
    order = world.linked_order([(cut_sku, 3), (kept_sku, 1)], gateway="cartao", capture="manual")
    _as_imported(order.gid, "AUTHORIZED")
    world.erp.separate(order.nro, cuts={str(order.lines[cut_sku]): 1})
    world.poll()
    edited = world.settlement(order.gid)
    assert world.link(order.gid).total == edited.current_total  # the order edit's new total
    erp_order = world.erp.invoice(order.nro)
    world.poll()
    after = world.settlement(order.gid)
    link = world.link(order.gid)
    invoiced = Decimal(str(erp_order["documentosFiscais"][0]["vlrTotal"]))
    assert after.financial_status == "PAID" and after.paid == invoiced == after.current_total
    assert (link.shopify_status, link.total, link.captured_amount) == ("PAID", invoiced, invoiced)


def test_a_pix_paid_at_checkout_shows_what_was_paid(world: World) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    world.erp.invoice(order.nro)
    world.poll()
    after = world.settlement(order.gid)
    link = world.link(order.gid)
    assert after.paid > 0 and not after.authorizations
    assert (link.shopify_status, link.captured_amount) == (after.financial_status, after.paid)
