"""Find a parked order by its name, read why in the merchant's words, create the missing
De:Para line from there, and see the order resume; the De:Para page creates a line."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from ledger.db import session_scope
from ledger.mappings import list_mappings

from .conftest import SHOP_DOMAIN, api_call, connect_erp, screenshot
from .ledger_rows import done_message, parked_order, parked_stock, rejected_order, shop_id

pytestmark = pytest.mark.browser


def _ready(page) -> None:
    expect(page.locator("#app-nav s-link[aria-current=page]")).to_have_count(1)


def test_find_a_parked_order_and_create_its_mapping(open_page, fresh) -> None:
    page = open_page("/app/messages")
    _ready(page)
    connect_erp(page, fresh)  # the De:Para pickers read the ERP's payment methods
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    parked_order(fresh.settings.database_url, shop, "#1042", "payment_method", "pix-loja")
    rejected_order(fresh.settings.database_url, shop, "#1043", "Forma de pagamento inativa na empresa 1")
    done_message(fresh.settings.database_url, shop, "products", "product:778", erp_id="778")

    page.get_by_label("Buscar por código").fill("#1042")
    page.get_by_role("button", name="Buscar", exact=True).click()
    results = page.get_by_test_id("messages-results")
    expect(results.locator("s-table-row[data-message-id]")).to_have_count(1)
    expect(results).to_contain_text("Parada")
    screenshot(page, "messages-pt-BR")

    results.get_by_role("link", name="#").first.click()
    expect(page.get_by_role("heading", name="Mensagem #")).to_be_visible()
    expect(page.get_by_text("pix-loja").first).to_be_visible()
    screenshot(page, "message-detail-pt-BR")

    page.get_by_role("link", name="Criar o De:Para de pix-loja").click()
    expect(page.get_by_label("Gateway de pagamento (Shopify)")).to_have_value("pix-loja")
    expect(page.get_by_test_id("unmapped")).to_contain_text("pix-loja")
    erp_method = page.get_by_label("Forma de pagamento (ERP)")  # a picker: the ERP's payment methods
    expect(erp_method.locator("option")).not_to_have_count(1)
    erp_method.select_option(index=2)
    chosen = erp_method.input_value()
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("1 mensagem(ns) retomada(s)")).to_be_visible()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("pix-loja")
    expect(page.get_by_test_id("unmapped")).to_contain_text("Nenhum código aguardando")
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop_id(fresh.settings.database_url, SHOP_DOMAIN), "payment_method")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [("pix-loja", chosen)]


def test_a_messages_row_names_the_order_not_its_gid(open_page, fresh) -> None:
    """Demo: the row showed "gid://shopify/Order/46194" over three lines and never "#1010"."""
    from ledger.models import OrderLink

    page = open_page("/app/messages")
    _ready(page)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        gid, name = "gid://shopify/Order/46194", "#1010"
        db.add(OrderLink(shop_id=shop, shopify_order_id=gid, shopify_order_name=name, nro_pedvenda=7))
    done_message(fresh.settings.database_url, shop, "invoices", "event:5",
                 shopify_id="gid://shopify/Order/46194", erp_id="7")  # fmt: skip
    done_message(fresh.settings.database_url, shop, "stock", "stock:3:abc", erp_id="3")
    page.reload()
    rows = page.get_by_test_id("messages-results").locator("s-table-row[data-message-id]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_test_id("message-subject")).to_have_text("Empresa 3")
    expect(rows.nth(1).get_by_test_id("message-subject")).to_have_text("#1010 · ERP 7")
    assert "gid://" not in page.get_by_test_id("messages-results").inner_text()


def test_rejected_order_shows_the_erp_words(open_page, fresh) -> None:
    page = open_page("/app/messages")
    _ready(page)
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    words = "Forma de pagamento inativa na empresa 1"
    message_id = rejected_order(fresh.settings.database_url, shop, "#2001", words)
    page.goto(fresh.page_url(f"/app/messages/{message_id}"))
    expect(page.get_by_text(words).first).to_be_visible()
    expect(page.get_by_role("button", name="Tentar de novo")).to_be_visible()
    page.get_by_role("button", name="Tentar de novo").click()
    expect(page.get_by_text("Nova tentativa enfileirada")).to_be_visible()


def test_mappings_page_creates_a_line(open_page, fresh) -> None:
    page = open_page("/app/mappings", kind="carrier")
    expect(page.get_by_role("button", name="Transportadoras", pressed=True)).to_be_visible()
    page.get_by_label("Forma de entrega (Shopify)").fill("Entrega Expressa")
    page.get_by_label("Transportadora (ERP)").fill("12")
    page.get_by_label("Descrição").fill("Motoboy")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Entrega Expressa")
    screenshot(page, "mappings-pt-BR")
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop_id(fresh.settings.database_url, SHOP_DOMAIN), "carrier")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [("Entrega Expressa", "12")]
    assert page.errors == []


def test_card_brand_and_network_lines_are_typed_numbers(open_page, fresh) -> None:
    """The card kinds have their own tables: both codes typed (no list to pick from), a codBandeira
    that is no number refused in Portuguese on its field, a number saved under the card brand."""
    page = open_page("/app/mappings", kind="card_brand")
    expect(page.get_by_role("button", name="Bandeiras de cartão", pressed=True)).to_be_visible()
    expect(page.get_by_role("button", name="Redes adquirentes", pressed=False)).to_be_visible()
    page.get_by_label("Bandeira do cartão (Shopify)").fill("Visa")
    erp = page.get_by_label("Bandeira (ERP, codBandeira)")
    erp.fill("Cielo")
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("[name=erp_code]")).to_have_attribute(
        "error", "a bandeira do cartão no ERP (codBandeira) deve ser um número"
    )
    erp.fill("1")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Visa")
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop_id(fresh.settings.database_url, SHOP_DOMAIN), "card_brand")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [("Visa", "1")]

    page.get_by_role("button", name="Redes adquirentes").click()
    expect(page.get_by_role("button", name="Redes adquirentes", pressed=True)).to_be_visible()
    page.get_by_label("Gateway de pagamento (Shopify)").fill("Cielo Checkout")
    page.get_by_label("Rede adquirente (ERP, codRede)").fill("3")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Cielo Checkout")
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop_id(fresh.settings.database_url, SHOP_DOMAIN), "card_network")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [("Cielo Checkout", "3")]
    assert page.errors == []


def test_csv_import_then_export(open_page, fresh, tmp_path) -> None:
    page = open_page("/app/mappings", kind="carrier")
    sheet = tmp_path / "transportadoras.csv"
    sheet.write_text("shopify_code,erp_code,label\nSedex,21,Correios\nRetira na loja,30,\n,9,sem código\n")
    page.get_by_label("Arquivo CSV (shopify_code;erp_code;label)").set_input_files(str(sheet))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importado: 2 criada(s)")).to_be_visible()
    expect(page.get_by_text("Linha 4:")).to_be_visible()  # the bad line, by its number
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Retira na loja")

    with page.expect_download() as download:
        page.get_by_role("button", name="Exportar CSV").click()
    exported = download.value.path().read_text(encoding="utf-8")
    # a pt-BR page's file is split at ";", as Excel in Portuguese splits it into columns
    assert "Sedex;21;Correios" in exported and "Retira na loja;30" in exported
    assert download.value.suggested_filename == "depara-carrier.csv"


def test_a_location_csv_naming_a_location_twice_says_so_in_the_pages_language(
    open_page, fresh, tmp_path
) -> None:
    """The import's line errors read like the setup page's: a location named twice is "o local ...
    aparece duas vezes" on a pt-BR page (api.js fieldText), not the API's English."""
    page = open_page("/app/setup")  # installs the shop
    location = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"][0]["id"]
    page = open_page("/app/mappings", kind="location")
    sheet = tmp_path / "locais.csv"
    sheet.write_text(f"shopify_code,erp_code,label\n{location},5,\n{location},6,\n")
    page.get_by_label("Arquivo CSV (shopify_code;erp_code;label)").set_input_files(str(sheet))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importado: 1 criada(s)")).to_be_visible()
    expect(page.get_by_text(f"Linha 3: o local {location} aparece duas vezes")).to_be_visible()
    assert page.errors == []


def test_a_location_csv_whose_lines_conflict_or_run_long_says_so_in_the_pages_language(
    open_page, fresh, tmp_path
) -> None:
    """A location already mapped to another company (MappingConflict) and a value too long read in
    pt-BR on a pt-BR page too (api.js FIELD_WORDS), not in the API's English."""
    page = open_page("/app/setup")  # installs the shop
    found = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    first, second = found[0]["id"], found[1]["id"]
    page = open_page("/app/mappings", kind="location")
    upload = page.get_by_label("Arquivo CSV (shopify_code;erp_code;label)")
    sheet = tmp_path / "locais.csv"
    sheet.write_text(f"shopify_code,erp_code,label\n{first},5,\n{second},6,\n")
    upload.set_input_files(str(sheet))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importado: 2 criada(s)")).to_be_visible()

    again = tmp_path / "locais-de-novo.csv"
    again.write_text(f"shopify_code,erp_code,label\n{first},6,\n{first},7,{'x' * 300}\n")
    upload.set_input_files(str(again))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importado: 0 criada(s)")).to_be_visible()
    expect(
        page.get_by_text(
            f"Linha 2: o local {first} está mapeado para a empresa 5 e a empresa 6, para o local {second}"
        )
    ).to_be_visible()
    expect(
        page.get_by_text("Linha 3: um valor é longo demais (o código da Shopify tem no máximo 100")
    ).to_be_visible()
    assert page.errors == []


def test_a_company_waiting_for_its_location_is_filled_in_on_the_company_side(open_page, fresh) -> None:
    """The stock flow parks an ERP company with no location on its number: its message's link and
    the unmapped list's "Map it" fill in the company, and the location is picked from the shop's
    (before, the number went into the location field as a location "1" Shopify does not have)."""
    page = open_page("/app/messages")
    _ready(page)
    connect_erp(page, fresh)  # the company picker reads the ERP's companies
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    company = min(
        c["nro_empresa"]
        for c in json.loads(api_call(page, "GET", "/api/setup/erp-choices")["body"])["companies"]
    )
    locations = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    message_id = parked_stock(fresh.settings.database_url, shop, company)

    page.goto(fresh.page_url(f"/app/messages/{message_id}"))
    expect(page.get_by_text("De:Para > Empresa ↔ local").first).to_be_visible()  # where the link goes
    page.locator("s-link[href*='kind=location']").click()
    shopify_side, erp_side = page.get_by_label("Local (Shopify)"), page.get_by_label("Empresa (NROEMPRESA)")
    expect(erp_side).to_have_value(str(company))
    expect(shopify_side).to_have_value("")
    expect(shopify_side.locator("option")).to_have_count(len(locations) + 1)  # the shop's, no "1" added

    page.goto(fresh.page_url("/app/mappings", kind="location"))
    page.get_by_test_id("unmapped").get_by_role("button", name="Mapear").click()
    expect(erp_side).to_have_value(str(company))
    expect(shopify_side).to_have_value("")
    shopify_side.select_option(locations[0]["id"])
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("1 mensagem(ns) retomada(s)")).to_be_visible()
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop, "location")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [(locations[0]["id"], str(company))]


def test_a_segment_market_line_is_picked_pair_and_market_from_the_lists(open_page, fresh) -> None:
    """The ERP side offers the (company, segment) pairs the ERP lists ("<empresa>:<segmento>", what
    the line takes: a segment alone was refused), the Shopify side the shop's markets by name;
    a market typed by its name is refused on its field (a line to it parked its pair for good)."""
    page = open_page("/app/messages")
    _ready(page)
    connect_erp(page, fresh)
    choices = json.loads(api_call(page, "GET", "/api/setup/erp-choices")["body"])
    company, segment = choices["companies"][0]["nro_empresa"], choices["segments"][0]["nro_segmento"]
    [market, *_] = json.loads(api_call(page, "GET", "/api/setup/markets")["body"])["markets"]
    page.goto(fresh.page_url("/app/mappings", kind="segment_market"))
    shopify_side = page.get_by_label("Mercado / catálogo (Shopify)")
    erp_side = page.get_by_label("Segmento (ERP)")
    pairs = len(choices["companies"]) * len(choices["segments"])
    expect(erp_side.locator("option")).to_have_count(pairs + 1)
    shopify_side.select_option(market["id"])
    erp_side.select_option(f"{company}:{segment}")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_test_id("mappings-table")).to_contain_text(market["name"])
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop, "segment_market")
        assert [(r.shopify_code, r.erp_code) for r in rows] == [(market["id"], f"{company}:{segment}")]
    typed = api_call(page, "PUT", "/api/mappings", {"kind": "segment_market", "shopify_code": "Brasil",
                                                    "erp_code": f"{company}:{segment}"})  # fmt: skip
    assert typed["status"] == 400 and "shopify_code" in typed["body"]
    assert page.errors == []


def test_save_double_clicked_sends_one_request(open_page, fresh) -> None:
    """The Save button is disabled while its request runs: a double-click saves once."""
    page = open_page("/app/mappings", kind="carrier")
    expect(page.get_by_role("button", name="Transportadoras", pressed=True)).to_be_visible()
    puts: list[str] = []

    def count_saves(request) -> None:
        if request.method == "PUT" and "/api/mappings" in request.url:
            puts.append(request.url)

    page.on("request", count_saves)
    page.get_by_label("Forma de entrega (Shopify)").fill("Sedex")
    page.get_by_label("Transportadora (ERP)").fill("7")
    page.get_by_role("button", name="Salvar").dblclick()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Sedex")
    expect(page.get_by_role("button", name="Salvar")).to_be_enabled()  # usable again once answered
    assert len(puts) == 1, puts
    assert page.errors == []


def test_a_csv_saved_by_excel_in_portuguese_keeps_its_accents(open_page, fresh, tmp_path) -> None:
    """Excel in Portuguese saves "CSV" in Windows-1252 with ";" between values: the page read it as
    UTF-8 ("Cartão" arriving as "Cart\ufffdo", a name no order has) and the API answered "missing
    column(s)". The page decodes it as Windows-1252 when it is no UTF-8; the API reads the ";"."""
    page = open_page("/app/mappings", kind="payment_method")
    sheet = tmp_path / "formas.csv"
    sheet.write_bytes(
        "shopify_code;erp_code;label\r\nCartão de crédito;3;Crédito, à vista\r\n".encode("cp1252")
    )
    page.get_by_label("Arquivo CSV (shopify_code;erp_code;label)").set_input_files(str(sheet))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importado: 1 criada(s)")).to_be_visible()
    expect(page.get_by_test_id("mappings-table")).to_contain_text("Cartão de crédito")
    with session_scope(fresh.settings.database_url) as db:
        rows = list_mappings(db, shop_id(fresh.settings.database_url, SHOP_DOMAIN), "payment_method")
        assert [(r.shopify_code, r.erp_code, r.label) for r in rows] == [
            ("Cartão de crédito", "3", "Crédito, à vista")
        ]
    assert page.errors == []
