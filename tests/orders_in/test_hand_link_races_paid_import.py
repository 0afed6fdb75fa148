"""A person links a waiting order to the ERP order they typed by hand (POST
/api/orders/<id>/erp-order) just as its payment's import runs: the link commits after the import
read the order unlinked (`_known`) and before it began its message. The import must see the message
closed as handled and post nothing: before, its begin reopened the message, a second ERP order was
posted for the sale (two NF-e, the stock taken twice) and the link's typed number overwritten."""

from __future__ import annotations

from jobs import orders
from ledger import handled
from sandbox.shopify.checkout import mark_paid
from tests.orders_in.test_delivery_address_hand_linked import (  # noqa: F401 (fixtures)
    link_by_hand,
    operator,
    typed_in_the_erp,
)
from tests.orders_in.test_orders_past_read_window import _waiting


def test_a_hand_link_landing_as_the_paid_import_begins_leaves_one_erp_order(
    world,
    link_by_hand,  # noqa: F811
    monkeypatch,
) -> None:
    gid = _waiting(world)
    nro = typed_in_the_erp(world)
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.delivered()  # orders/paid's job waits in the queue; its import is run here first
    looked, linked = orders._known, {}

    def looked_then_linked(*args, **kwargs):
        row = looked(*args, **kwargs)
        if not linked:  # the person's click lands between the import's look and its begin
            linked["answer"] = link_by_hand(gid, nro)
        return row

    monkeypatch.setattr(orders, "_known", looked_then_linked)
    assert orders.import_order(world.shop_id, gid, trigger="orders/paid") == "handled"
    assert linked["answer"][0] == 200, linked["answer"]
    monkeypatch.setattr(orders, "_known", looked)
    world.drain()  # the queued orders/paid job: handled too
    assert world.erp_orders_for(gid) == []  # the app posted nothing: the typed order is the sale's
    assert world.link(gid).nro_pedvenda == nro
    message = world.message(gid)
    info = handled.info_of(message.status, message.error_detail)
    assert info is not None and info["erp_order"] == nro
