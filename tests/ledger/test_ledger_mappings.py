"""De:Para, store link and locations on SQLite and PostgreSQL: lookups raise what the UI can fix."""

import pytest
from sqlalchemy import func, select

from ledger import mappings, trace
from ledger.errors import MappingMissing
from ledger.mappings import MappingConflict, MappingKind
from ledger.models import LocationMapping, Mapping

LOC_A, LOC_B = "gid://shopify/Location/1", "gid://shopify/Location/2"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_store_link(session, shop):
    with pytest.raises(MappingMissing) as missing:
        mappings.store_link(session, shop.id)
    assert missing.value.detail["mapping"] == {"kind": "store_link", "code": shop.domain}
    mappings.set_store_link(session, shop.id, 1, 2)
    mappings.set_store_link(session, shop.id, 3, 4)
    session.commit()
    link = mappings.store_link(session, shop.id)
    assert (link.nro_empresa, link.nro_segmento) == (3, 4)


def test_locations_both_ways(session, shop, other_shop):
    with pytest.raises(MappingMissing) as missing:
        mappings.location_for_company(session, shop.id, 7)
    assert (missing.value.kind, missing.value.code) == ("location", "7")
    with pytest.raises(MappingMissing):
        mappings.company_for_location(session, shop.id, LOC_A)

    row, created = mappings.set_location_mapping(session, shop.id, 7, LOC_A, "Loja Centro")
    assert created and row.location_name == "Loja Centro"
    _, created = mappings.set_location_mapping(session, shop.id, 7, LOC_B)
    assert not created
    mappings.set_location_mapping(session, other_shop.id, 7, LOC_A)
    session.commit()
    assert mappings.location_for_company(session, shop.id, 7) == LOC_B
    assert mappings.company_for_location(session, shop.id, LOC_B) == 7
    assert mappings.location_for_company(session, other_shop.id, 7) == LOC_A
    mappings.set_location_mapping(session, shop.id, 8, LOC_A)
    with pytest.raises(MappingConflict):  # company 8 has its location: LOC_B cannot be its second
        mappings.set_location_mapping(session, shop.id, 8, LOC_B)
    row, created = mappings.set_location_mapping(session, shop.id, 9, LOC_B)  # 9 has none: LOC_B's changes
    assert not created and (row.nro_empresa, row.location_id) == (9, LOC_B)
    session.commit()
    assert mappings.company_for_location(session, shop.id, LOC_B) == 9
    with pytest.raises(MappingMissing):
        mappings.location_for_company(session, shop.id, 7)
    assert count(session, LocationMapping) == 3


def test_erp_code_upsert_delete_list(session, shop):
    with pytest.raises(MappingMissing) as missing:
        mappings.erp_code(session, shop.id, "payment_method", "pix")
    assert missing.value.detail["mapping"] == {"kind": "payment_method", "code": "pix"}

    _, created = mappings.upsert_mapping(session, shop.id, "payment_method", "pix", "12", "PIX")
    assert created
    row, created = mappings.upsert_mapping(session, shop.id, "payment_method", "pix", "13")
    assert not created and row.erp_code == "13"
    mappings.upsert_mapping(session, shop.id, "carrier", "pix", "99")
    session.commit()
    assert count(session, Mapping) == 2
    assert mappings.erp_code(session, shop.id, "payment_method", "pix") == "13"
    assert [r.shopify_code for r in mappings.list_mappings(session, shop.id, "carrier")] == ["pix"]

    assert mappings.delete_mapping(session, shop.id, "payment_method", "pix")
    assert not mappings.delete_mapping(session, shop.id, "payment_method", "pix")
    session.commit()
    assert count(session, Mapping) == 1
    with pytest.raises(ValueError):
        mappings.upsert_mapping(session, shop.id, "payment_method", " ", "1")
    with pytest.raises(ValueError):
        mappings.upsert_mapping(session, shop.id, "nonsense", "a", "1")


def test_location_is_a_kind_too(session, shop):
    row, created = mappings.upsert_mapping(session, shop.id, MappingKind.LOCATION, LOC_A, "5", "Centro")
    assert created and isinstance(row, LocationMapping)
    session.commit()
    assert mappings.erp_code(session, shop.id, "location", LOC_A) == "5"
    listed = mappings.list_mappings(session, shop.id, "location")
    assert [(r.shopify_code, r.erp_code, r.label) for r in listed] == [(LOC_A, "5", "Centro")]
    with pytest.raises(ValueError):
        mappings.upsert_mapping(session, shop.id, "location", LOC_B, "five")
    assert mappings.delete_mapping(session, shop.id, "location", LOC_A)
    session.commit()
    assert count(session, LocationMapping) == 0


def test_unmapped_codes_seen(session, shop):
    for key, code in [("o1", "pix"), ("o2", "pix"), ("o3", "boleto"), ("o4", "card")]:
        trace.fail(
            session,
            trace.begin(session, shop.id, "orders", key, "shopify_to_erp"),
            MappingMissing("payment_method", code),
        )
    trace.fail(
        session,
        trace.begin(session, shop.id, "orders", "o5", "shopify_to_erp"),
        MappingMissing("carrier", "sedex"),
    )
    trace.fail(
        session,
        trace.begin(session, shop.id, "stock", "s1", "erp_to_shopify"),
        MappingMissing("location", "9"),
    )
    mappings.upsert_mapping(session, shop.id, "payment_method", "card", "3")
    session.commit()
    assert mappings.unmapped_codes_seen(session, shop.id, "payment_method") == [("pix", 2), ("boleto", 1)]
    assert mappings.unmapped_codes_seen(session, shop.id, "carrier") == [("sedex", 1)]
    assert mappings.unmapped_codes_seen(session, shop.id, "location") == [("9", 1)]
    mappings.set_location_mapping(session, shop.id, 9, LOC_A)
    assert mappings.unmapped_codes_seen(session, shop.id, "location") == []


def test_csv_round_trip(session, shop, other_shop):
    mappings.upsert_mapping(session, shop.id, "carrier", "Sedex", "10", "Correios Sedex")
    mappings.upsert_mapping(session, shop.id, "carrier", "PAC, econômico", "11")
    session.commit()
    exported = mappings.export_csv(session, shop.id, "carrier")
    assert exported.splitlines()[0] == "shopify_code,erp_code,label"
    result = mappings.import_csv(session, other_shop.id, "carrier", exported)
    session.commit()
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    assert mappings.export_csv(session, other_shop.id, "carrier") == exported


def test_csv_cells_a_spreadsheet_would_run_are_exported_as_text_and_read_back(session, shop, other_shop):
    """A label like "=HYPERLINK(...)" or "+55 11" is a formula to Excel: exported with a leading
    apostrophe (text), and the import takes it off again."""
    mappings.upsert_mapping(session, shop.id, "carrier", "@Loggi", "12", '=HYPERLINK("http://x")')
    mappings.upsert_mapping(session, shop.id, "carrier", "Sedex", "10", "+55 11 correios")
    session.commit()
    exported = mappings.export_csv(session, shop.id, "carrier")
    assert "\n'@Loggi,12," in exported and "'=HYPERLINK" in exported and ",'+55 11 correios" in exported
    assert mappings.import_csv(session, other_shop.id, "carrier", exported).created == 2
    session.commit()
    assert {(r.shopify_code, r.label) for r in mappings.list_mappings(session, other_shop.id, "carrier")} == {
        ("@Loggi", '=HYPERLINK("http://x")'),
        ("Sedex", "+55 11 correios"),
    }


def test_csv_import_reports_bad_lines_and_keeps_good_ones(session, shop):
    mappings.upsert_mapping(session, shop.id, "payment_method", "pix", "1")
    mappings.set_location_mapping(session, shop.id, 1, LOC_A)
    session.commit()
    text = "shopify_code,erp_code,label\npix,2,PIX\nboleto,,\ncartao,3,Cartão\n"
    result = mappings.import_csv(session, shop.id, "payment_method", text)
    assert (result.created, result.updated) == (1, 1)
    assert [line for line, _ in result.errors] == [3]
    session.commit()
    assert mappings.erp_code(session, shop.id, "payment_method", "pix") == "2"

    locations = f"shopify_code,erp_code\n{LOC_B},2\n{LOC_A},2\n{LOC_B},x\n"  # company 2 twice: line 3
    result = mappings.import_csv(session, shop.id, "location", locations)
    assert (result.created, result.updated) == (1, 0)
    assert [line for line, _ in result.errors] == [3, 4]
    assert result.errors[0][1] == "company 2 appears twice"  # the setup page's words
    assert result.errors[1][1].startswith("NROEMPRESA must be a number")  # a bad company, not LOC_B twice
    assert mappings.import_csv(session, shop.id, "carrier", "code,erp\n1,2\n").errors[0][0] == 1


def test_a_location_csv_audits_every_location_whose_company_changed(session, shop):
    """`changed` of a location import is the location -> company snapshot's difference: a company
    moved to LOC_B leaves LOC_A without a line (None after), what the audit keeps."""
    mappings.set_location_mapping(session, shop.id, 5, LOC_A)
    session.commit()
    result = mappings.import_csv(session, shop.id, "location", f"shopify_code,erp_code\n{LOC_B},5\n")
    assert (result.created, result.updated, result.errors) == (0, 1, [])
    assert result.changed == {LOC_A: ("5", None), LOC_B: (None, "5")}
    again = mappings.import_csv(session, shop.id, "location", f"shopify_code,erp_code\n{LOC_B},5\n")
    assert (again.updated, again.changed) == (1, {})


def test_every_gateway_an_order_waits_for_is_seen_not_only_the_one_it_parked_on(session, shop):
    """jobs.order_map.map_payments parks an order paid through several unmapped gateways on the
    first and names them all (detail "gateways"): the De:Para page lists each as waited for, so the
    merchant maps them in one visit, not one per resume."""
    for key, first, gateways in [
        ("o1", "gift_card", ["gift_card", "shopify_payments"]),
        ("o2", "gift_card", ["gift_card", "SHOPIFY_PAYMENTS", "boleto"]),
        ("o3", "pix", None),
    ]:
        missing = MappingMissing("payment_method", first, **({"gateways": gateways} if gateways else {}))
        trace.fail(session, trace.begin(session, shop.id, "orders", key, "shopify_to_erp"), missing)
    mappings.upsert_mapping(session, shop.id, "payment_method", "BOLETO", "5")
    session.commit()
    assert mappings.unmapped_codes_seen(session, shop.id, "payment_method") == [
        ("gift_card", 2),
        ("shopify_payments", 2),  # spelt as first seen: "SHOPIFY_PAYMENTS" is the same gateway
        ("pix", 1),
    ]


def test_a_gateway_waited_for_under_two_spellings_or_beside_another_is_one_row_counted_whole(session, shop):
    """The spellings "Pix" and "PIX" are one gateway (one De:Para line maps both), and an order
    parked on "Boleto" that names Pix waits for it too: the page lists Pix once, every order counted."""
    for key, first, gateways in [
        ("o1", "Pix", None),
        ("o2", "PIX", None),
        ("o3", "Boleto", ["Boleto", "pix"]),
    ]:
        missing = MappingMissing("payment_method", first, **({"gateways": gateways} if gateways else {}))
        trace.fail(session, trace.begin(session, shop.id, "orders", key, "shopify_to_erp"), missing)
    session.commit()
    seen = mappings.unmapped_codes_seen(session, shop.id, "payment_method")
    assert [(mappings.gateway_key(code), n) for code, n in seen] == [("pix", 3), ("boleto", 1)], seen


NFD_CARD = "Carta\u0303o de cre\u0301dito"  # "Cartão de crédito" as a CSV written on a Mac spells it
NFC_CARD = "Cartão de crédito"  # as Shopify names the gateway


def test_a_name_written_decomposed_is_the_gateway_shopify_names_composed(session, shop):
    """A De:Para line saved in NFD (a letter, then its accent) is the gateway Shopify names in NFC:
    names compare NFC-normalised (ledger.mappings.gateway_key), and are stored so; else the order
    stayed parked on a line that looks mapped on the page."""
    assert mappings.gateway_key(NFD_CARD) == mappings.gateway_key(NFC_CARD) == "cartão de crédito"
    missing = MappingMissing("payment_method", NFC_CARD)
    trace.fail(session, trace.begin(session, shop.id, "orders", "o1", "shopify_to_erp"), missing)
    result = mappings.import_csv(session, shop.id, "payment_method", f"shopify_code,erp_code\n{NFD_CARD},3\n")
    assert (result.created, result.errors) == (1, [])
    mappings.upsert_mapping(session, shop.id, "carrier", "Entrega Rapida Sa\u0303o Paulo", "7")
    session.commit()
    assert mappings.erp_code(session, shop.id, "payment_method", NFC_CARD) == "3"
    assert mappings.erp_code(session, shop.id, "carrier", "ENTREGA RAPIDA SÃO PAULO") == "7"
    assert [r.shopify_code for r in mappings.list_mappings(session, shop.id, "payment_method")] == [NFC_CARD]
    assert mappings.unmapped_codes_seen(session, shop.id, "payment_method") == []
    assert len(trace.parked_waiting_for(session, shop.id, "payment_method", NFD_CARD)) == 1
    # a line stored decomposed before the rule: found, and saved again it is that line, not a second
    boleto = "Boleto Banca\u0301rio"
    session.add(Mapping(shop_id=shop.id, kind="payment_method", shopify_code=boleto, erp_code="4"))
    session.commit()
    assert mappings.erp_code(session, shop.id, "payment_method", "boleto bancário") == "4"
    _, created = mappings.upsert_mapping(session, shop.id, "payment_method", "Boleto Bancário", "5")
    assert not created and count(session, Mapping) == 3


def test_a_csv_name_repeated_after_a_refused_line_still_lands(session, shop):
    """The repeat check counts the lines that landed: "PIX" after a refused "pix" (no ERP code) is
    the file's first line for that gateway and lands; a third spelling repeats it."""
    text = "shopify_code,erp_code\npix,x\nPIX,2\n Pix ,3\n"
    result = mappings.import_csv(session, shop.id, "payment_method", text)
    assert (result.created, [line for line, _ in result.errors]) == (1, [2, 4])
    assert result.errors[1][1] == "“Pix” appears twice: line 3 already maps it"
    assert mappings.erp_code(session, shop.id, "payment_method", "Pix") == "2"


def test_a_company_moved_to_another_location_is_named_as_given_or_not_at_all(session, shop):
    """`set_location_mapping` wrote a name only when given: a company moved from LOC_A "Loja Centro"
    to LOC_B without a name kept "Loja Centro" as LOC_B's. A move writes the name given (None:
    unknown); the same location saved with no name keeps its own."""
    mappings.set_location_mapping(session, shop.id, 1, LOC_A, "Loja Centro")
    row, _ = mappings.set_location_mapping(session, shop.id, 1, LOC_B)
    assert (row.location_id, row.location_name) == (LOC_B, None)
    mappings.set_location_mapping(session, shop.id, 1, LOC_B, "CD")
    row, _ = mappings.set_location_mapping(session, shop.id, 1, LOC_B)
    assert row.location_name == "CD"
    row, _ = mappings.set_location_mapping(session, shop.id, 2, LOC_B)  # the location changes company
    assert (row.nro_empresa, row.location_name) == (2, "CD")


@pytest.mark.parametrize(
    ("kind", "shopify_name", "typed", "words"),
    [
        ("card_brand", "Visa", "  VISA ", "the ERP card brand (codBandeira) must be a number"),
        (
            "card_network",
            "Cartão de crédito",
            NFD_CARD.upper(),
            "the ERP card network (codRede) must be a number",
        ),
    ],
)
def test_card_brands_and_networks_are_numbers_mapped_from_names(session, shop, other_shop, kind, shopify_name,
                                                                typed, words):  # fmt: skip
    """A card payment's brand (Shopify's CardPaymentDetails.company) and its gateway (the acquirer
    network) map to the ERP's codBandeira and codRede: numbers, or the card payment call fails on
    every order; and names as a person types them, found as Shopify names them."""
    missing = MappingMissing(kind, shopify_name)
    trace.fail(session, trace.begin(session, shop.id, "orders", "o1", "shopify_to_erp"), missing)
    with pytest.raises(ValueError) as refused:
        mappings.upsert_mapping(session, shop.id, kind, shopify_name, "Cielo")
    assert str(refused.value) == f"{words}, got 'Cielo'"
    with pytest.raises(ValueError):
        mappings.upsert_mapping(session, shop.id, kind, shopify_name, "²")  # a digit no int4 column takes
    assert mappings.unmapped_codes_seen(session, shop.id, kind) == [(shopify_name, 1)]

    _, created = mappings.upsert_mapping(session, shop.id, kind, typed, "3", "the line")
    assert created
    _, created = mappings.upsert_mapping(session, shop.id, kind, shopify_name, "4")  # that line, changed
    assert not created
    session.commit()
    assert mappings.erp_code(session, shop.id, kind, shopify_name) == "4"
    assert [(r.kind, r.erp_code) for r in mappings.list_mappings(session, shop.id, kind)] == [(kind, "4")]
    assert mappings.unmapped_codes_seen(session, shop.id, kind) == []
    assert len(trace.parked_waiting_for(session, shop.id, kind, typed)) == 1

    exported = mappings.export_csv(session, shop.id, kind)
    text = exported + "Elo,x,\n"
    result = mappings.import_csv(session, other_shop.id, kind, text)
    assert (result.created, result.errors) == (1, [(3, f"{words}, got 'x'")])
    session.commit()
    assert mappings.export_csv(session, other_shop.id, kind) == exported
