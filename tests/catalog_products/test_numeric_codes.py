"""EAN and NCM served as JSON numbers (Consinco sometimes sends codes that way): a number has no
leading zeros, so the code it stands for is rebuilt where the field is parsed
(erp.parse_catalogue): an EAN is left-padded to the shortest GTIN length whose check digit
validates (leading zeros never change a GTIN's check digit), an NCM to its 8 digits. Else an
EAN-13 such as 0036000291452 arrives as 11 digits, is refused as a barcode ("length") and the
merchant is told to fix a correct code; and NCM 09012100 is shown as 9012100."""

from __future__ import annotations

from typing import Any

from erp.parse_catalogue import parse_product, parse_sku
from jobs import catalog_flow
from jobs.catalog_map import barcode_problem, cache_product, cache_sku, map_product

from .conftest import InstalledShop
from .erp_writes import set_title
from .test_malformed_records import barcode, sku_record_served_with


def _sku(ean: Any, weighed: bool = False) -> dict[str, Any]:
    raw = {"idSku": "P919E1", "seqProduto": 919, "qtdEmbalagem": 1, "embalagem": "UN",
           "codAcesso": ean, "pesavel": weighed, "pesoBruto": 1, "pesoLiquido": 1,
           "statusEmbalagem": "A", "indIntegraEcommerce": "S", "ativo": True,
           "dtaHorAlteracao": "2026-01-01T10:00:00"}  # fmt: skip
    return cache_sku(parse_sku(raw))


def _product(ncm: Any) -> dict[str, Any]:
    raw = {"seqProduto": 919, "seqFamilia": 1, "descCompleta": "CAFE", "familia": "CAFE",
           "codNbmSh": ncm, "indIntegraEcommerce": "S", "dtaHorAlteracao": "2026-01-01T10:00:00"}  # fmt: skip
    return cache_product(parse_product(raw))


def test_a_numeric_ean_that_lost_its_leading_zeros_is_sent_as_its_barcode() -> None:
    # UPC-A 036000291452 (EAN-13 0036000291452, an imported item); as a JSON number: 36000291452
    as_text, as_number = _sku("0036000291452"), _sku(36000291452)
    assert barcode_problem(as_text) is None
    assert barcode_problem(as_number) is None, as_number["ean"]
    assert as_number["ean"] == "036000291452"  # the shortest GTIN length it validates at: GTIN-12


def test_a_numeric_ean_pads_to_the_shortest_gtin_length_that_validates() -> None:
    assert _sku(7891000315507)["ean"] == "7891000315507"  # a whole EAN-13: as it came
    assert _sku(96385074)["ean"] == "96385074"  # a whole EAN-8
    assert _sku(1234565)["ean"] == "01234565"  # EAN-8 01234565 as a number
    assert _sku(12345678905)["ean"] == "012345678905"  # UPC-A 012345678905


def test_a_numeric_code_no_padding_makes_a_gtin_of_is_left_as_it_came() -> None:
    """Padding would not make it a valid barcode: the merchant is told about the code the ERP holds."""
    wrong = _sku(36000291453)  # check digit off
    assert wrong["ean"] == "36000291453" and barcode_problem(wrong) == "length"
    assert _sku(123456789012345)["ean"] == "123456789012345"  # longer than any GTIN


def test_a_weighed_packagings_short_numeric_code_stays_a_scale_code() -> None:
    """A weighed item's code shorter than any GTIN is a scale code (jobs.catalog_map), never padded
    into a GTIN-8 by chance of its check digit: it reads as its text would."""
    as_number, as_text = _sku(1236, weighed=True), _sku("1236", weighed=True)  # 00001236 would validate
    assert as_number["ean"] == as_text["ean"] == "1236"
    assert barcode_problem(as_number) == barcode_problem(as_text)


def test_a_numeric_ncm_keeps_its_leading_zero() -> None:
    product = _product(9012100)
    assert product["ncm"] == "09012100"
    assert _product("09012100")["ncm"] == "09012100"
    assert _product(22030000)["ncm"] == "22030000"
    sku = _sku("7891000315507")
    mapped = map_product(product, [sku], "DRAFT")
    assert "09012100" in str(mapped)  # as the product page shows it (descriptionHtml)


def test_a_numeric_ean_goes_to_shopify_as_its_barcode(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    set_title(installed.erp, 5, "PRODUTO 5 NOVO")  # P5E1 is in the next read
    with sku_record_served_with("P5E1", codAcesso=36000291452):
        result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert result.failed == 0
    assert barcode(installed, 5, "P5E1") == "036000291452"
    client.close()


def test_a_numeric_zero_is_no_barcode() -> None:
    assert _sku(0)["ean"] == "0" and barcode_problem(_sku(0)) == barcode_problem(_sku("0"))


def test_a_numeric_cest_keeps_its_leading_zero() -> None:
    raw = {
        "seqProduto": 919,
        "descCompleta": "CAFE",
        "codCest": 100100,
        "dtaHorAlteracao": "2026-01-01T10:00:00",
    }
    assert parse_product(raw).cest == "0100100"  # CEST 01.001.00
