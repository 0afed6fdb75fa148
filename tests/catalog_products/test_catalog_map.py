"""jobs.catalog_map on its own: ERP product + SKUs -> ProductSetInput (pure, no services)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from erp.records import Product, Sku
from jobs.catalog_map import cache_product, cache_sku, map_product, option_label

WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def product(**over) -> dict:
    base = Product(
        seq_produto=919, seq_familia=311, description="ARROZ TIPO 1 CAMIL 5KG", short_description="ARROZ 5KG",
        family="ARROZ TIPO 1", brand="CAMIL", category="MERCEARIA", weighed=False, decimal_qty=False,
        ncm="10063021", cest=None, manufacturer_ref="CAM-5", integrate_ecommerce=True, created_at=WHEN,
        changed_at=WHEN,
    )  # fmt: skip
    return {**cache_product(base), **over}


def sku(qtd: int, packaging: str = "CX", **over) -> dict:
    base = Sku(
        id_sku=f"P919E{qtd}", seq_produto=919, qtd_embalagem=Decimal(qtd), packaging=packaging,
        unit=f"{packaging}-{qtd}", description=None, ean=f"78912345{qtd:05d}", weighed=False,
        gross_weight=Decimal("5.1") * qtd, net_weight=Decimal(5) * qtd, packaging_status="A",
        integrate_ecommerce=True, active=True, changed_at=WHEN,
    )  # fmt: skip
    return {**cache_sku(base), **over}


def test_one_product_with_one_variant_per_packaging() -> None:
    mapped = map_product(product(), [sku(12), sku(1, "UN")])
    data = mapped.input
    assert (data["title"], data["vendor"], data["productType"], data["status"]) == (
        "ARROZ TIPO 1 CAMIL 5KG", "CAMIL", "MERCEARIA", "ACTIVE",
    )  # fmt: skip
    assert data["productOptions"] == [{"name": "Embalagem", "values": [{"name": "UN"}, {"name": "CX-12"}]}]
    first, box = data["variants"]
    assert first["optionValues"] == [{"optionName": "Embalagem", "name": "UN"}]
    assert first["inventoryItem"] == {
        "sku": "P919E1",
        "tracked": True,  # Shopify would create it untracked: sold without limit
        "measurement": {"weight": {"value": 5.1, "unit": "KILOGRAMS"}},
    }
    assert first["barcode"] == "7891234500001"
    assert box["unitPriceMeasurement"]["quantityValue"] == 12.0
    for variant in data["variants"]:  # other flows own these
        assert not {"price", "compareAtPrice", "inventoryQuantities", "inventoryPolicy"} & set(variant)
    assert "metafields" not in data and "tags" not in data
    assert mapped.variables["identifier"] == {
        "customId": {"namespace": "consinco", "key": "seq_produto", "value": "919"}
    }


def test_digest_ignores_record_order_and_change_times_but_not_content() -> None:
    a = map_product(product(), [sku(12), sku(1, "UN")])
    b = map_product(product(changed_at="2026-11-29T00:00:00+00:00"), [sku(1, "UN"), sku(12)])
    c = map_product(product(), [sku(12, ean="7890000000000"), sku(1, "UN")])
    assert a.digest == b.digest != c.digest


@pytest.mark.parametrize("setting", ["DRAFT", "ARCHIVED"])
def test_inactive_product_and_inactive_packaging(setting: str) -> None:
    off = map_product(product(integrate_ecommerce=False), [sku(1, "UN")], setting)
    assert off.status == setting and off.skus[0]["active"] is False
    all_off = map_product(product(), [sku(1, "UN", active=False)], setting)
    assert all_off.status == setting

    mixed = map_product(product(), [sku(1, "UN"), sku(12, active=False)], setting)
    assert mixed.status == "ACTIVE"
    assert [v.get("inventoryPolicy") for v in mixed.input["variants"]] == [None, "DENY"]
    assert [s["active"] for s in mixed.skus] == [True, False]


def test_weighed_item_sells_per_kilogram() -> None:
    mapped = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="2000012000005")])
    (variant,) = mapped.input["variants"]
    assert variant["optionValues"][0]["name"] == "KG"
    assert variant["inventoryItem"]["measurement"] == {"weight": {"value": 1.0, "unit": "KILOGRAMS"}}
    assert variant["unitPriceMeasurement"] == {
        "quantityUnit": "KG", "quantityValue": 1.0, "referenceUnit": "KG", "referenceValue": 1,
    }  # fmt: skip
    assert mapped.skus[0]["weighed"] is True


def test_labels_and_refusals() -> None:
    assert option_label({"qtd_embalagem": "6", "packaging": "cx"}) == "CX-6"
    assert option_label({"qtd_embalagem": "1", "packaging": "PT"}) == "PT"
    twin = map_product(product(), [sku(1, "UN"), {**sku(1, "UN"), "id_sku": "P919E1B"}])
    assert [s["label"] for s in twin.skus] == ["UN", "UN (P919E1B)"]
    with pytest.raises(ValueError):
        map_product(product(), [])
    with pytest.raises(ValueError):
        map_product(product(), [sku(1, "UN")], "DELETED")
