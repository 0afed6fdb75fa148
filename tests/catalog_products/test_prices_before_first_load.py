"""Day one: connection, store link and locations saved, the first catalog load not run yet (or still
running: a supermarket's first bulk load takes hours, prices run every 5 minutes). The prices pass
parked one message per ERP product ("priced once the products/SKUs flows create them"): the Messages
page and the alert e-mail held a row per product of the catalog. One message says it now, and the
first pass after the load closes it and prices every SKU."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from jobs import catalog_flow, prices
from ledger.db import session_scope
from ledger.models import Message


def _statuses() -> Counter:
    with session_scope() as session:
        return Counter(
            (m.flow, m.unit_key if m.status == "parked" else "", m.status)
            for m in session.scalars(select(Message))
        )


def test_prices_before_the_first_catalog_load_park_one_message_not_one_per_product(installed):
    run = prices.run(installed.shop_id)
    assert run.waiting > 1
    parked = [key for (flow, key, status) in _statuses() if flow == "prices" and status == "parked"]
    assert parked == [prices.FIRST_LOAD_UNIT]
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == prices.FIRST_LOAD_UNIT)).one()
        assert f"{run.waiting} SKU(s) wait for the shop's first catalog load" in message.error_text
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    after = prices.run(installed.shop_id)
    assert after.waiting == 0
    assert not [key for (flow, key, status) in _statuses() if flow == "prices" and status == "parked"]
