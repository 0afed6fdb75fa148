"""jobs.catalog_adopt's decision, pure: which Shopify product (without the app's custom id) is an
ERP product's, by SKU or EAN, and what is held for a person."""

from __future__ import annotations

from jobs.catalog_adopt import Found, _foreign, decide
from jobs.catalog_map import MappedProduct
from shopify_app.admin_api.results import CatalogVariant

EAN_1, EAN_6 = "7891000100103", "17891000100100"


def _mapped(seq: int, *packagings: tuple[int, str | None]) -> MappedProduct:
    skus = [{"id_sku": f"P{seq}E{qtd}", "ean": ean, "qtd_embalagem": qtd} for qtd, ean in packagings]
    return MappedProduct(seq, {"variants": [{} for _ in skus]}, "digest", "ACTIVE", skus)


def _variant(n: int, product: int, sku: str | None, barcode: str | None = None, **more) -> CatalogVariant:
    return CatalogVariant(f"gid://shopify/ProductVariant/{n}", sku, barcode, f"gid://shopify/Product/{product}",
                          f"Produto {product}", more.pop("custom_id", None), **more)  # fmt: skip


def _decide(creates: list[MappedProduct], *variants: CatalogVariant) -> Found:
    read = _foreign(variants)
    return decide([m for m in creates if str(m.seq_produto) not in read.owned], read.foreign)


def test_by_sku_and_by_an_ean_kept_in_the_sku_field_or_padded() -> None:
    """A connector that put the EAN in the SKU field (barcode empty), a store keeping GTIN-14 with
    a leading zero, and an EAN the ERP pads with spaces: all one product's packagings."""
    found = _decide(
        [_mapped(1, (1, EAN_1 + "  "), (6, EAN_6))],
        _variant(10, 100, EAN_1),  # the EAN as SKU, no barcode
        _variant(11, 100, "OLD-6", "0" + EAN_6),  # its own SKU, the EAN padded to 14 digits + 1
    )
    assert found.conflicts == {}
    assert found.adopted[1].variants == {"P1E1": "gid://shopify/ProductVariant/10",
                                         "P1E6": "gid://shopify/ProductVariant/11"}  # fmt: skip


def test_an_ean_on_a_variant_whose_sku_is_another_erp_products_is_not_taken() -> None:
    found = _decide([_mapped(1, (1, EAN_1))], _variant(10, 100, "P200E1", EAN_1))
    assert found.adopted == {} and "P200E1" in found.conflicts[1].message


def test_a_bundle_holding_the_ean_is_not_taken_over() -> None:
    found = _decide([_mapped(1, (1, EAN_1))], _variant(10, 100, "KIT-1", EAN_1, bundle=True))
    assert found.adopted == {} and 1 in found.conflicts


def test_the_apps_own_product_found_by_its_custom_id_is_upserted_not_a_copy_adopted() -> None:
    """The ledger lost (restored from a backup), a copy made by hand holding the EAN: productSet
    finds the app's own product by its custom id; the copy is nobody's to adopt."""
    found = _decide(
        [_mapped(1, (1, EAN_1))],
        _variant(10, 100, "P1E1", EAN_1, custom_id="1"),
        _variant(11, 101, "COPY", EAN_1),
    )
    assert found == Found()


def test_a_product_on_no_channel_is_published_once_adopted() -> None:
    """A lost create's product (on no channel) is published; a migrated one keeps its channels."""
    found = _decide(
        [_mapped(1, (1, EAN_1)), _mapped(2, (1, None))],
        _variant(10, 100, "P1E1", channels=0),
        _variant(11, 101, "P2E1", channels=3),
    )
    assert (found.adopted[1].unpublished, found.adopted[2].unpublished) == (True, False)


def test_a_sku_mistyped_as_another_erp_products_is_held_for_both_not_adopted_by_that_one():
    """The earlier connector's product for ERP 123 carries SKU P132E6 (digits swapped) beside 123's
    own EAN, and ERP 132 has no Shopify product. Adopted by 132 by its SKU, it was renamed and
    re-coded as 132 (123's sales history moved under it) while 123's own message named it: held for
    both, naming the other."""
    ean_123, ean_132 = "7891000100103", "7891000200109"
    found = _decide(
        [_mapped(123, (6, ean_123)), _mapped(132, (6, ean_132))],
        _variant(10, 500, "P132E6", ean_123),
    )
    assert found.adopted == {}
    assert set(found.conflicts) == {123, 132}
    assert "gid://shopify/Product/500" in found.conflicts[123].message
    assert "those of ERP product(s) 123 too" in found.conflicts[132].message, found.conflicts[132].message
