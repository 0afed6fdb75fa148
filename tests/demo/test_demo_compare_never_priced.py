"""The demo's own comparison (jobs.demo_compare) judges the stock of a SKU with no price record at the
store's (company, segment) as the stock flow sets it: not for sale (jobs.stock_map.for_sale: no
price binding), held at 0. `compare` merged the prices' sale map with the catalog's active map,
defaulting a SKU the prices did not list to for sale, so the demo expected the ERP's figure there
and printed a stock difference where both systems agree."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from erp.records import PriceItem, Product, Sku, SkuStock, Stock
from jobs import demo_compare

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ZERO = Decimal(0)


class Erp:
    """One product of one packaging (P1E1), 10 in stock at company 1, no price record at the store's
    (company, segment): never priced."""

    def products(self) -> list[Product]:
        return [Product(seq_produto=1, seq_familia=1, description="ARROZ 1KG", short_description=None,
                        family="GRAOS", brand="X", category="MERCEARIA", weighed=False, decimal_qty=False,
                        ncm=None, cest=None, manufacturer_ref=None, integrate_ecommerce=True,
                        created_at=None, changed_at=NOW)]  # fmt: skip

    def skus(self) -> list[Sku]:
        return [Sku(id_sku="P1E1", seq_produto=1, qtd_embalagem=Decimal(1), packaging="UN", unit="UN",
                    description="ARROZ", ean=None, weighed=False, gross_weight=None, net_weight=None,
                    packaging_status="A", integrate_ecommerce=True, active=True, changed_at=NOW)]  # fmt: skip

    def price_items(self, since, company, segment) -> list[PriceItem]:
        return []

    def stock(self, since, company) -> list[Stock]:
        return [Stock(nro_empresa=company, seq_produto=1, store=Decimal(10), warehouse=ZERO, third_party=ZERO,
                      exchange=ZERO, reserved_sale=ZERO, reserved_receiving=ZERO, reserved_fixed=ZERO,
                      available=Decimal(10), controlled=True, safety=ZERO, available_ecommerce=None,
                      skus=(SkuStock("P1E1", Decimal(1), None),), changed_at=NOW,
                      last_movement_at=None)]  # fmt: skip


def _compare(monkeypatch, level: int) -> dict[str, list[str]]:
    """The comparison of a Shopify holding P1E1 ACTIVE at R$ 0.00 (never priced) and `level` in stock."""
    data = {"seq_produto": 1, "qtd_embalagem": "1", "weighed": False, "active": True}
    monkeypatch.setattr(demo_compare, "session_scope", lambda: contextlib.nullcontext(None))
    bound = lambda session, shop, kind, keys: {k: SimpleNamespace(data=data) for k in keys}  # noqa: E731
    monkeypatch.setattr(demo_compare.bindings, "get_many", bound)
    state = {"products": [{"metafields": {"consinco.seq_produto": "1"}, "status": "ACTIVE",
                           "variants": [{"sku": "P1E1", "price": "0.00", "compareAtPrice": None,
                                         "inventory": {"Loja 1": {"available": level}}}]}]}  # fmt: skip
    report = demo_compare.compare(Erp(), state, 1, (1, 1), {1: "Loja 1"}, date(2026, 1, 1))  # type: ignore[arg-type]
    return dict(report.differences)


def test_a_sku_never_priced_held_at_0_is_no_stock_difference(monkeypatch) -> None:
    assert _compare(monkeypatch, 0).get("stock", []) == []


def test_a_sku_never_priced_with_the_erps_figure_in_shopify_differs(monkeypatch) -> None:
    """Sold in Shopify though it has no price: the flows would have held it at 0."""
    assert _compare(monkeypatch, 10)["stock"] == ["P1E1 at Loja 1: Shopify 10, ERP 0"]
