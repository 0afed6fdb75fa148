"""An edit of an order already in the ERP re-sends its payment forms. Made from the De:Para as it is
now, a Pix line changed since (a new bank for Pix from today on) moved the old order's receivable
to the new form with no word; one mistyped (a form the ERP lacks) failed every edit of orders
imported right; one deleted parked them. The forms the import posted stay the order's."""

from __future__ import annotations

import pytest

from ledger import mappings
from ledger.db import session_scope
from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, edit_message, imported


@pytest.mark.parametrize("change", ["another form", "a form the ERP lacks", "deleted"])
def test_an_edit_keeps_the_payment_form_the_order_was_imported_under(world, change: str) -> None:
    gid, nro = imported(world, gateway="pix")
    assert [p["nroFormaPagto"] for p in world.chain.order(nro)["formasPagto"]] == [2]
    with session_scope() as session:  # the merchant changes the Pix line for orders from now on
        if change == "deleted":
            session.delete(mappings.find_mapping(session, world.shop_id, "payment_method", "Pix"))
        else:
            code = "5" if change == "another form" else "9"
            mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", code)
    edit_in_shopify(world, gid, world.sku(0), 1)  # 2 -> 1: a unit taken off the old order
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert [p["nroFormaPagto"] for p in world.chain.order(nro)["formasPagto"]] == [2]
    assert [p["nro_forma_pagto"] for p in message.request_payload["payments"]] == [2]
