"""jobs.catalog_map on its own: ERP product + SKUs -> ProductSetInput (pure, no services)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from stdnum import ean as gtin

from erp.records import Product, Sku
from jobs import catalog_ledger, catalog_map
from jobs.catalog_map import cache_product, cache_sku, map_product, option_label

WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def ean13(body: str) -> str:
    return body + gtin.calc_check_digit(body)


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
        unit=f"{packaging}-{qtd}", description=None, ean=ean13(f"78912345{qtd:04d}"), weighed=False,
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
    assert first["barcode"] == "7891234500014"
    assert box["unitPriceMeasurement"]["quantityValue"] == 12.0
    for variant in data["variants"]:  # other flows own these
        assert not {"price", "compareAtPrice", "inventoryQuantities", "inventoryPolicy"} & set(variant)
    assert "metafields" not in data and "tags" not in data
    assert mapped.variables["identifier"] == {
        "customId": {"namespace": "consinco", "key": "seq_produto", "value": "919"}
    }


def test_a_blank_description_gets_the_fallback_title_and_a_weight_no_float_holds_is_no_weight() -> None:
    """Shopify requires a title: "   " is as good as none. A weight of 1E+400 kg is infinite as a
    float, which JSON cannot carry (the request failed before it left, retried as a network error)."""
    huge = sku(1, "UN", gross_weight="1E+400", net_weight="1E+400")
    data = map_product(product(description="   "), [huge]).input
    assert data["title"] == "Produto 919"
    assert data["variants"][0]["inventoryItem"]["measurement"]["weight"]["value"] == 0.0  # none: 0
    orjson.dumps(data)  # the whole input is JSON
    assert (
        map_product(product(description=" ARROZ "), [sku(1, "UN")]).input["title"] == " ARROZ "
    )  # as the ERP has it


def test_a_title_brand_or_category_past_255_characters_is_cut_between_words() -> None:
    """Shopify refuses a title, vendor or product type past 255 characters, failing the whole
    product: a longer ERP text is cut at the last space within (by characters for one long word);
    up to 255 it goes as the ERP has it, so no digest of a usual catalog moves."""
    words = "ARROZ TIPO 1 " * 30  # 390 characters
    data = map_product(
        product(description=words, brand="B" * 300, category="MERCEARIA " * 30), [sku(1, "UN")]
    ).input
    assert len(data["title"]) <= 255 and words.startswith(data["title"]) and words[len(data["title"])] == " "
    assert data["vendor"] == "B" * 255
    assert len(data["productType"]) <= 255 and data["productType"].endswith("MERCEARIA")
    exact = "X" * 255
    assert map_product(product(description=exact), [sku(1, "UN")]).input["title"] == exact
    assert map_product(product(), [sku(1, "UN")]).digest == map_product(product(), [sku(1, "UN")]).digest


def test_bound_variant_ids_are_sent_but_not_hashed() -> None:
    """The ids of the bound variants go in the input and the bulk line (productSet updates those
    variants in place), not in the digest: an unchanged catalog still costs nothing."""
    plain = map_product(product(), [sku(12), sku(1, "UN")])
    ids = {"P919E12": "gid://shopify/ProductVariant/12", "P919E404": "gid://shopify/ProductVariant/4"}
    bound = map_product(product(), [sku(12), sku(1, "UN")], variant_ids=ids)
    assert bound.digest == plain.digest
    assert [v.get("id") for v in bound.input["variants"]] == [None, "gid://shopify/ProductVariant/12"]
    sent = orjson.loads(bound.line)
    assert sent["input"]["variants"][1]["id"] == "gid://shopify/ProductVariant/12"
    assert sent == bound.variables
    assert bound.sends_variant_ids and not plain.sends_variant_ids
    stripped = bound.without_variant_ids()
    assert (stripped.input, stripped.line, stripped.digest) == (plain.input, plain.line, plain.digest)
    assert plain.without_variant_ids() is plain


def test_a_bound_variant_that_lost_its_unit_price_is_told_to_stop_showing_it_outside_the_digest() -> None:
    """A bound variant whose binding says it was sent a unit price (weighed, a box) and whose input
    has none now (its family no longer weighed) is sent showUnitPrice false: productSet keeps an
    absent unit price. Out of the digest like the ids: no other product is sent again for it."""
    plain = map_product(product(), [sku(12), sku(1, "UN")])
    ids = {"P919E1": "gid://shopify/ProductVariant/1", "P919E12": "gid://shopify/ProductVariant/12"}
    bound = map_product(product(), [sku(12), sku(1, "UN")], variant_ids=ids, unit_priced=list(ids))
    assert bound.digest == plain.digest
    unit, box = bound.input["variants"]
    assert unit["showUnitPrice"] is False and "unitPriceMeasurement" not in unit
    assert box["showUnitPrice"] is True and box["unitPriceMeasurement"]["quantityUnit"] == "ITEM"
    assert orjson.loads(bound.line) == bound.variables
    assert bound.without_variant_ids().input["variants"][0] == {
        **plain.input["variants"][0],
        "showUnitPrice": False,
    }
    assert "showUnitPrice" not in map_product(product(), [sku(1, "UN")], variant_ids=ids).input["variants"][0]
    assert catalog_map.shows_unit_price(True, "1") and catalog_map.shows_unit_price(False, "12")
    assert not catalog_map.shows_unit_price(False, "1") and not catalog_map.shows_unit_price(False, None)


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
    mapped = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="2000012000003")])
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
    assert [s["label"] for s in twin.skus] == ["UN (P919E1)", "UN (P919E1B)"]


def test_a_new_packaging_never_takes_the_label_a_bound_one_has() -> None:
    """Two weighed packagings are both "KG": each is kept apart by its own SKU, whichever comes
    first. A label given by position let a new, smaller packaging take the bound one's plain "KG":
    sent without an id, Shopify matched it by that value to the bound variant (lost). (Both of
    quantity 1: a weighed packaging of another quantity is sold by no variant, test_weighed_tray.)"""
    one = map_product(product(weighed=True), [sku(1, "KG", weighed=True)])
    new = {**sku(1, "KG", weighed=True), "id_sku": "P919E0K"}  # sorts first
    two = map_product(product(weighed=True), [sku(1, "KG", weighed=True), new])
    assert [s["label"] for s in one.skus] == ["KG"]
    labels = {s["id_sku"]: s["label"] for s in two.skus}
    assert labels == {"P919E0K": "KG (P919E0K)", "P919E1": "KG (P919E1)"}
    assert "KG" not in labels.values()
    with pytest.raises(ValueError):
        map_product(product(), [])
    with pytest.raises(ValueError):
        map_product(product(), [sku(1, "UN")], "DELETED")


def _not_sent(mapped) -> list[dict]:
    """What the product's message records of the codes not sent as barcodes (its request)."""
    (start,) = catalog_ledger.unit_starts([mapped])
    return start.request.get("barcodes_not_sent", [])


def test_an_ean_with_a_wrong_check_digit_is_not_the_barcode_and_its_message_names_it() -> None:
    """7891234567890: its check digit should be 5. Sent, Shopify (and every channel reading the
    barcode as a GTIN) would hold a code that scans as nothing; the merchant is told which SKU."""
    mapped = map_product(product(), [sku(1, "UN", ean="7891234567890"), sku(12)])
    wrong, box = mapped.input["variants"]
    assert wrong["barcode"] is None and box["barcode"] == "7891234500120"
    assert _not_sent(mapped) == [{"id_sku": "P919E1", "ean": "7891234567890", "why": "check_digit"}]
    (start,) = catalog_ledger.unit_starts([mapped])
    assert "EAN_INVALID" in start.search  # the Messages page finds every product with one
    assert mapped.skus[0]["ean"] == "7891234567890"  # the binding keeps the ERP's code (orders)


@pytest.mark.parametrize(
    ("code", "why"),
    [("789123456789", "check_digit"), ("78912345678", "length"), ("7891234S67895", "not_digits")],
)
def test_a_code_that_is_no_gtin_is_not_the_barcode(code: str, why: str) -> None:
    mapped = map_product(product(), [sku(1, "UN", ean=code)])
    assert mapped.input["variants"][0]["barcode"] is None
    assert _not_sent(mapped) == [{"id_sku": "P919E1", "ean": code, "why": why}]


@pytest.mark.parametrize("code", ["96385074", "012345678905", "7891234567895", "17891234500011"])
def test_a_valid_gtin_of_any_length_is_the_barcode_as_the_erp_has_it(code: str) -> None:
    mapped = map_product(product(), [sku(1, "UN", ean=code)])
    assert mapped.input["variants"][0]["barcode"] == code and _not_sent(mapped) == []


def test_valid_eans_keep_the_digest_the_catalog_was_sent_with() -> None:
    """Pinned from the mapping before EANs were checked: a valid code changes nothing, so the
    upgrade re-sends only the products whose code was wrong, not the catalog."""
    mapped = map_product(product(), [sku(12), sku(1, "UN")])
    assert mapped.digest == "9e2f50d736e35b0a9007762e4e3985cd6085d5df58f9e83e4ba3e50dbbfb1daf"
    weighed = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="2000012000003")])
    assert weighed.digest == "ffed73bb2d21bf5134bd57b5ce6af1e8c5e9f14a1046d1d058239e45a855fe6f"


def test_a_wrong_code_is_in_the_digest_though_not_in_the_input() -> None:
    """A wrong code changed to another wrong one sends the same input (no barcode either way); the
    codes not sent are hashed with it, so the product is sent once and its binding and message say
    the code the ERP has now. Right codes and scale codes (PLU) add nothing: their digests stay."""
    one = map_product(product(), [sku(1, "UN", ean="7891234567890"), sku(12)])
    other = map_product(product(), [sku(1, "UN", ean="7891234567891"), sku(12)])
    assert one.input == other.input and one.digest != other.digest
    plu = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="1234")])
    plu2 = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="1235")])
    assert plu.digest == plu2.digest


def test_a_weighed_items_store_codes() -> None:
    """brazil.md: scale labels are EAN-13 in the GS1 restricted range 20-29. Such a code with a
    right check digit is the ERP's own code for the item (the store's scanners read it): the
    barcode, as before. A short scale code (PLU) is no GTIN: not sent, and its note says it is
    the item's internal code (nothing to correct), not a wrong EAN."""
    restricted = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="2000012000003")])
    assert restricted.input["variants"][0]["barcode"] == "2000012000003" and _not_sent(restricted) == []
    plu = map_product(product(weighed=True), [sku(1, "KG", weighed=True, ean="1234")])
    assert plu.input["variants"][0]["barcode"] is None
    assert _not_sent(plu) == [{"id_sku": "P919E1", "ean": "1234", "why": "scale_code"}]
    (start,) = catalog_ledger.unit_starts([plu])
    assert "EAN_INVALID" not in start.search
    no_code = map_product(product(), [sku(1, "UN", ean=None)])
    assert no_code.input["variants"][0]["barcode"] is None and _not_sent(no_code) == []


def test_quantities_and_weights_worked_out_once_per_text_keep_each_records_own_text() -> None:
    """map_product remembers a quantity's or weight's text once seen (the initial load maps ~35,000
    products): equal quantities written differently still keep their own text in the facts, and
    every label, weight and unit price is what the record alone gives."""
    boxes = [
        {**sku(12), "qtd_embalagem": "12.0", "id_sku": "P919E12A", "packaging": "cx"},
        {**sku(12), "packaging": None, "gross_weight": "0.000", "net_weight": "4.5"},
        {**sku(6), "qtd_embalagem": "6.5", "gross_weight": None, "net_weight": "0"},
        {**sku(1, "UN"), "qtd_embalagem": "1.00"},
    ]
    for _ in range(2):  # the second time from what the first remembered
        mapped = map_product(product(), boxes)
        facts = {f["id_sku"]: f for f in mapped.skus}
        assert [f["id_sku"] for f in mapped.skus] == ["P919E1", "P919E6", "P919E12", "P919E12A"]
        assert facts["P919E12A"]["qtd_embalagem"] == "12.0" and facts["P919E12"]["qtd_embalagem"] == "12"
        assert facts["P919E1"]["qtd_embalagem"] == "1.00"
        assert [f["label"] for f in mapped.skus] == ["UN", "CX-6.5", "UN-12", "CX-12"]
        assert [option_label(s) for s in sorted(boxes, key=lambda s: s["id_sku"])] == [
            "UN", "UN-12", "CX-12", "CX-6.5",
        ]  # fmt: skip
        variants = {v["inventoryItem"]["sku"]: v for v in mapped.input["variants"]}
        weights = {k: v["inventoryItem"]["measurement"]["weight"]["value"] for k, v in variants.items()}
        assert weights == {"P919E1": 5.1, "P919E6": 0.0, "P919E12": 4.5, "P919E12A": 61.2}
        prices = {k: (v.get("unitPriceMeasurement") or {}).get("quantityValue") for k, v in variants.items()}
        assert prices == {"P919E1": None, "P919E6": None, "P919E12": 12.0, "P919E12A": 12.0}
        head = (
            b'{"identifier":{"customId":{"namespace":"consinco","key":"seq_produto","value":"919"}},"input":{'
        )
        assert mapped.line.startswith(head)
