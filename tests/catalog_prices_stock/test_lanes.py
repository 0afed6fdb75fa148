"""The catalog flows pace in the background lane of the shop's bucket (orders keep the floor)."""

from __future__ import annotations

from jobs import prices, stock
from shopify_app.admin_api import client as admin_client
from shopify_app.admin_api.pacing import BACKGROUND


def test_prices_and_stock_reserve_in_the_background_lane(chain, monkeypatch):
    shop = chain.install("faixas", 1, 1, [1, 2])
    chain.load_catalog(shop)
    lanes: list[str] = []
    build = admin_client.build_client

    def spy(*args, **kwargs):
        lanes.append(kwargs.get("lane", "foreground"))
        return build(*args, **kwargs)

    monkeypatch.setattr(admin_client, "build_client", spy)
    prices.run(shop.shop_id)
    stock.run(shop.shop_id)
    assert lanes and set(lanes) == {BACKGROUND}, lanes
