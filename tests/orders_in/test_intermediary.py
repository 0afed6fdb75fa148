"""indIntermediador (NF-e layout 4.00, NT 2020.006): every non-presential sale's fiscal document
says whether it was sold on a third party's platform. The ERP issues the NF-e from the order, so
the order says it: 0 for the store's own site (the Online Store, any source not listed), 1 for an
order whose Shopify sourceName is one of the shop's `marketplace_sources` (a marketplace channel)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from erp.payloads import order_payload
from jobs import order_map, order_posted
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop
from shopify_app.admin_api.order_import_ops import parse_erp_order

from .test_not_for_erp import change_order
from .test_order_map import TARGET, raw_order, variants_for

ONE_LINE = [(Decimal("10.00"), 1, 1, Decimal(0))]


def _sold_through(world, gid: str) -> tuple[int, int]:
    """indIntermediador as the ERP stored it and as it answers the order read back."""
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    [stored] = world.erp_orders_for(gid)
    return stored["indintermediador"], world.chain.order(stored["nropedvenda"])["indIntermediador"]


def test_an_online_store_order_says_no_intermediary(world):
    gid = world.place(gateway="pix")
    assert world.order_doc(gid)["sourceName"] == "web"
    assert _sold_through(world, gid) == (0, 0)


def test_an_order_from_a_configured_marketplace_source_says_a_third_partys_platform(world):
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "marketplace_sources": ["Mercado Livre Channel"]}
    gid = world.place(gateway="pix")
    change_order(world, gid, lambda order: order.update(sourceName=" mercado livre CHANNEL "))
    assert _sold_through(world, gid) == (1, 1)
    other = world.place(gateway="pix")  # the same shop's own site: still no intermediary
    assert _sold_through(world, other) == (0, 0)


def test_the_indicator_is_always_in_the_body_under_its_configurable_name():
    read = parse_erp_order({**raw_order(ONE_LINE), "sourceName": "web"})
    mapped = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
    assert mapped.order_input.intermediary == 0
    assert order_payload(mapped.order_input)["indIntermediador"] == 0
    market = replace(TARGET, marketplace_sources=frozenset({"amazon-channel"}))
    read = parse_erp_order({**raw_order(ONE_LINE), "sourceName": "Amazon-Channel"})
    marketplace = order_map.map_order(read, market, variants_for(1), {"Pix": 2})
    assert marketplace.order_input.intermediary == 1
    # A lost answer's repost sends what the first POST said (the kept input), not a re-mapping.
    again = order_posted.replayed(order_posted.kept(marketplace), read.order)
    assert again.order_input.intermediary == 1
    with pytest.raises(ValueError):
        replace(mapped.order_input, intermediary=2)
