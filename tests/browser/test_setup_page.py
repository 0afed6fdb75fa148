"""The guided first run against both sandboxes: test the ERP connection, save it, pick the
store's company + segment, link a company to a location, mark another not sold in this store, set the
sales channel."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.db import session_scope
from ledger.models import ErpConnection, LocationMapping, Shop, StoreLink

from .conftest import api_call, connect_erp, screenshot, settled

pytestmark = pytest.mark.browser


def test_setup_against_the_sandboxes(open_page, fresh) -> None:
    page = open_page("/app/setup")
    expect(page.get_by_role("heading", name="Configuração", exact=True)).to_be_visible()

    erp = page.locator("s-section").filter(has_text="Conexão com o ERP")
    erp.get_by_label("URL da API").fill(fresh.consinco.url)
    erp.get_by_label("Usuário").fill("ecommerce")
    erp.get_by_label("Senha").fill("senha-errada")
    erp.get_by_role("button", name="Testar conexão").click()
    expect(page.get_by_test_id("erp-test-result")).to_contain_text("A conexão falhou")

    erp.get_by_label("Senha").fill("consinco")
    erp.get_by_role("button", name="Testar conexão").click()
    expect(page.get_by_test_id("erp-test-result")).to_contain_text("Conexão funcionando")
    erp.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Salvo", exact=True).first).to_be_visible()

    link = page.locator("s-section").filter(has_text="Loja ↔ empresa e segmento")
    company = link.get_by_label("Empresa (NROEMPRESA)")
    expect(company.locator("option")).not_to_have_count(1)  # the ERP's companies arrived
    company.select_option(index=1)
    link.get_by_label("Segmento (NROSEGMENTO)").select_option(index=1)
    link.get_by_role("button", name="Salvar").click()

    locations = page.locator("s-section").filter(has_text="Empresas do ERP ↔ locais da Shopify")
    first_location = locations.locator("select").first
    expect(first_location.locator("option")).not_to_have_count(1)
    first_location.select_option(index=1)
    mapped = int(first_location.input_value())
    locations.get_by_role("button", name="Salvar").click()
    # The active companies left without a location, each "not sold in this store" or refused.
    not_sold = locations.get_by_test_id("not-sold-companies")
    expect(not_sold.locator(f's-checkbox[data-company="{mapped}"]')).to_have_count(0)
    boxes = not_sold.locator("s-checkbox")
    expect(boxes).not_to_have_count(0)
    ticked = int(boxes.last.get_attribute("data-company"))
    expect(boxes.last.get_by_label("não vendida nesta loja")).not_to_be_checked()
    boxes.last.get_by_label("não vendida nesta loja").check()
    with page.expect_response(lambda r: r.url.endswith("/api/setup/settings") and r.request.method == "PUT"):
        locations.get_by_role("button", name="Salvar").click()
    with session_scope(fresh.settings.database_url) as db:
        assert db.scalars(select(Shop)).one().settings.get("ignored_companies") == [ticked]

    rules = page.locator("s-section").filter(has_text="Canal de venda e regras")
    rules.get_by_label("Canal de venda (seqCanalVenda)").fill("3")
    rules.get_by_label("Código geral de operação (codGeralOper)").fill("207")
    representative = rules.get_by_label("Representante (nroRepresentante)")
    expect(representative).to_have_value("")  # optional: unset, orders go without one
    representative.fill("1")
    rules.get_by_label("Estornar o pagamento na Shopify").select_option("false")
    sources = rules.get_by_label("Origens de pedidos de marketplace (indIntermediador)")
    sources.fill(" Mercado Livre , amazon-channel, mercado livre ")
    on_delivery = rules.get_by_label("Formas de pagamento na entrega")
    on_delivery.fill(" Pagamento na entrega , cash on delivery (COD), PAGAMENTO NA ENTREGA")
    slots = rules.get_by_label("Atributos do horário de entrega")
    expect(slots).to_have_value(
        "Delivery-Date, Delivery-Time, Pickup-Date, Pickup-Time, Data de entrega, Horário de entrega, "
        "Data de retirada, Horário de retirada"
    )  # the default: Zapiet's and the Portuguese names
    slots.fill("Janela de entrega, janela_de_entrega , Dia")
    app_wait = rules.get_by_label("Espera pelo app de fraude (minutos)")
    expect(app_wait).to_have_value("0")
    app_wait.fill("3")
    channels = rules.get_by_test_id("sales-channels")
    expect(channels.get_by_label("Online Store (padrão)")).to_be_checked()  # publish_to unset
    expect(channels.get_by_label("Point of Sale")).not_to_be_checked()
    rules.get_by_role("button", name="Salvar").click()
    expect(page.locator('[data-step="location_mappings"]')).to_contain_text("✓")
    with session_scope(fresh.settings.database_url) as db:  # untouched boxes pin nothing
        assert "publish_to" not in db.scalars(select(Shop)).one().settings
    channels_listed = json.loads(api_call(page, "GET", "/api/setup/publications")["body"])["publications"]
    channels.get_by_label("Point of Sale").check()
    rules.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Salvo", exact=True).first).to_be_visible()
    screenshot(page, "setup-pt-BR")

    with session_scope(fresh.settings.database_url) as db:
        conn = db.scalars(select(ErpConnection)).one()
        assert conn.base_url == fresh.consinco.url and conn.username == "ecommerce"
        link_row = db.scalars(select(StoreLink)).one()
        assert link_row.nro_empresa and link_row.nro_segmento
        assert len(db.scalars(select(LocationMapping)).all()) == 1
        stored = db.scalars(select(Shop)).one().settings
        assert stored["cancel_refund"] is False and "cancel_restock" not in stored  # untouched: not pinned
        publications = {p["title"]: p["id"] for p in channels_listed}
        assert stored["publish_to"] == [publications["Online Store"], publications["Point of Sale"]]
        assert stored["ignored_companies"] == [ticked]  # the rules' Save left it alone
        assert stored["marketplace_sources"] == ["Mercado Livre", "amazon-channel"]
        assert stored["pay_on_delivery_gateways"] == ["Pagamento na entrega", "cash on delivery (COD)"]
        assert stored["delivery_slot_attributes"] == ["Janela de entrega", "Dia"]  # one per name
        assert stored["risk_app_wait_minutes"] == 3
        assert stored["nro_representante"] == 1 and "nro_tab_venda" not in stored  # left empty: not sent
    expect(sources).to_have_value("Mercado Livre, amazon-channel")  # as saved
    expect(on_delivery).to_have_value("Pagamento na entrega, cash on delivery (COD)")
    expect(slots).to_have_value("Janela de entrega, Dia")
    app_wait.fill("0")  # back to no wait: 0 is a value, sent
    with page.expect_response(lambda r: r.url.endswith("/api/setup/settings") and r.request.method == "PUT"):
        rules.get_by_role("button", name="Salvar").click()
    with session_scope(fresh.settings.database_url) as db:
        assert db.scalars(select(Shop)).one().settings["risk_app_wait_minutes"] == 0
    assert page.errors == []

    viewer = open_page("/app/setup", user="estoquista")  # nobody gave Ana a role: viewer
    box = viewer.get_by_test_id("not-sold-companies").locator(f's-checkbox[data-company="{ticked}"]')
    expect(box.get_by_label("não vendida nesta loja")).to_be_checked()
    expect(box.get_by_label("não vendida nesta loja")).to_be_disabled()


def test_the_dry_run_shows_apart_what_only_the_daily_full_sweep_retires(open_page) -> None:
    """jobs.catalog_diff's `full_sweep` (a packaging deleted in the ERP: a sync does not retire it,
    the daily full sweep does): said apart from the verdicts, with when the sweep runs."""
    sweep = {
        "counts": {"retire": 1, "archive": 0},
        "retire": [{"seq_produto": 1, "title": "ARROZ 5KG", "status": "ACTIVE", "status_before": "ACTIVE",
                    "retired": ["P1E6"], "shopify_id": None}],
        "schedule": "0 5 * * *", "enabled": True, "next_run_at": "2026-12-01T05:00:00+00:00",
    }  # fmt: skip
    counts = {"create": 0, "change": 0, "archive": 0, "unchanged": 38, "waiting": 0}
    result = {"counts": counts, "create": [], "change": [], "archive": [], "waiting": [], "full_sweep": sweep}
    page = open_page("/app/setup")
    page.route(
        "**/api/setup/catalog-diff",
        lambda route: route.fulfill(status=202, json={"job_id": "catalog-diff-x"}),
    )
    page.route(
        "**/api/setup/catalog-diff/catalog-diff-x",
        lambda route: route.fulfill(
            json={"job_id": "catalog-diff-x", "status": "done", "result": result, "error": None}
        ),
    )
    settled(page)
    page.get_by_role("button", name="Simular").click()
    told = page.get_by_test_id("catalog-diff-full-sweep")
    expect(told).to_contain_text("não por uma sincronização, pela varredura completa diária")
    told.locator("summary").click()
    expect(told).to_contain_text("P1E6")
    assert page.errors == []


def _dry_run(page, result: dict) -> None:
    """The dry run's button answered with `result` (jobs.catalog_diff's), the job done at once; the
    page's sections loaded first (the click lands on the button, not where it was before they grew)."""
    settled(page)
    page.route(
        "**/api/setup/catalog-diff",
        lambda route: route.fulfill(status=202, json={"job_id": "catalog-diff-x"}),
    )
    page.route(
        "**/api/setup/catalog-diff/catalog-diff-x",
        lambda route: route.fulfill(
            json={"job_id": "catalog-diff-x", "status": "done", "result": result, "error": None}
        ),
    )


WHY = "that is 60% of the 100 SKUs priced: more likely a read or setup problem than packagings deleted"
# What the page says of each part, per language: the statuses in words, not Shopify's codes.
SAID = {
    "pt-BR": {
        "button": "Simular",
        "change": "Alterar",
        "archive": "Arquivar",
        "unreadable": "Registros ilegíveis no ERP",
        "active": "Ativo (à venda)",
        "archived": "Arquivado",
        "held": "2 embalagem(ns) que o ERP não lista mais ficariam à espera de uma pessoa, não retiradas",
        "off_sale": "Destes, 1 produto(s) sairiam de venda",
        "prices": "Preços que a loja mostraria (empresa 1, segmento 2)",
        "promo": "R$\xa07,99 (de R$\xa09,49)",
        "until": "05/12/2026",
        "was": "R$\xa019,90",
        "now": "R$\xa021,90",
        "list": "Lista de preços do mercado Sul (empresa 2, segmento 2)",
        "list_made": "O mercado ainda não tem lista de preços",
        "list_was": "R$\xa05,00",
        "list_now": "R$\xa05,50",
        "list_gone": "Sem preço no ERP: o preço fixo é removido, preço base",
        "list_error": "Os preços deste mercado não têm prévia",
        "retiring": "O mercado Norte (empresa 3, segmento 1) não está mais mapeado: a próxima sincronização "
        "remove seus 12 preços fixos",
    },
    "en": {
        "button": "Run the dry run",
        "change": "Change",
        "archive": "Archive",
        "unreadable": "Unreadable ERP records",
        "active": "Active (on sale)",
        "archived": "Archived",
        "held": "2 packaging(s) the ERP no longer lists would be held for a person, not retired",
        "off_sale": "Of these, 1 product(s) would go off sale",
        "prices": "Prices the store would show (company 1, segment 2)",
        "promo": "R$7.99 (from R$9.49)",
        "until": "12/5/2026",
        "was": "R$19.90",
        "now": "R$21.90",
        "list": "Price list of market Sul (company 2, segment 2)",
        "list_made": "The market has no price list yet",
        "list_was": "R$5.00",
        "list_now": "R$5.50",
        "list_gone": "No price in the ERP: its fixed price is removed, base price",
        "list_error": "This market's prices are not previewed",
        "retiring": "Market Norte (company 3, segment 1) is no longer mapped: the next sync removes its 12 "
        "fixed prices",
    },
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_the_dry_run_shows_every_part_of_its_result_in_words(open_page, locale: str) -> None:
    """jobs.catalog_diff's whole result: the packagings held for a person (count, why, SKUs), the
    ERP records it could not read (count and list), the products the full sweep would take off
    sale; and a store status in words, only the new one when it does not change."""
    said = SAID[locale]
    sweep = {
        "counts": {"retire": 2, "archive": 1},
        "retire": [
            {"seq_produto": 20, "title": "CERVEJA LATA", "status": "ACTIVE", "status_before": "ACTIVE",
             "retired": ["P20E12"], "shopify_id": None},
            {"seq_produto": 21, "title": "SABAO", "status": "ARCHIVED", "status_before": "ACTIVE",
             "retired": ["P21E1"], "shopify_id": None},
        ],
        "schedule": "0 5 * * *", "enabled": True, "next_run_at": "2026-12-01T05:00:00+00:00",
    }  # fmt: skip
    result = {
        "counts": {"create": 0, "change": 1, "archive": 1, "unchanged": 3, "waiting": 0, "unreadable": 1},
        "create": [],
        "change": [{"seq_produto": 12, "title": "ARROZ 5KG", "status": "ACTIVE", "status_before": "ACTIVE",
                    "skus": ["P12E1"], "shopify_id": None}],
        "archive": [{"seq_produto": 13, "title": "FEIJAO", "status": "ARCHIVED", "status_before": "ACTIVE",
                     "skus": ["P13E1"], "shopify_id": None}],
        "waiting": [],
        "unreadable": [{"record": "P30E1", "problem": "The ERP SKU P30E1 (product 30) could not be read"}],
        "full_sweep": sweep,
        "held": {"count": 2, "why": WHY, "skus": ["P40E1", "P41E1"]},
        "prices": {
            "nro_empresa": 1, "nro_segmento": 2,
            "counts": {"first": 1, "change": 1, "kept_by_hand": 0, "unchanged": 4, "unreadable": 0},
            "first": [{"sku": "P50E1", "seq_produto": 50, "price": "7.99", "compare_at": "9.49",
                       "for_sale": True, "promotion_until": "2026-12-05"}],
            "change": [{"sku": "P12E1", "seq_produto": 12, "price": "21.90", "compare_at": None,
                        "for_sale": True, "promotion_until": None, "variant_id": "gid://shopify/ProductVariant/5",
                        "before": {"price": "19.90", "compare_at": None}}],
            "kept_by_hand": [],
        },
        "price_lists": {
            "lists": [
                {"market_id": "gid://shopify/Market/7", "market_name": "Sul", "nro_empresa": 2,
                 "nro_segmento": 2, "price_list_id": None, "list": "created",
                 "counts": {"first": 0, "change": 1, "kept_by_hand": 0, "no_price": 1, "unchanged": 9,
                            "unreadable": 0},
                 "first": [], "kept_by_hand": [],
                 "change": [{"sku": "P60E1", "seq_produto": 60, "price": "5.50", "compare_at": None,
                             "promotion_until": None, "variant_id": "gid://shopify/ProductVariant/9",
                             "before": {"price": "5.00", "compare_at": None}}],
                 "no_price": [{"sku": "P61E1", "seq_produto": 61, "price": None, "compare_at": None,
                               "promotion_until": None, "variant_id": "gid://shopify/ProductVariant/8",
                               "removes_fixed": True}]},
                {"market_id": "gid://shopify/Market/99", "market_name": "Oeste", "nro_empresa": 4,
                 "nro_segmento": 1, "error": "market gid://shopify/Market/99 does not exist in Shopify"},
            ],
            "retiring": [{"market_id": "gid://shopify/Market/5", "market_name": "Norte", "nro_empresa": 3,
                          "nro_segmento": 1, "price_list_id": "gid://shopify/PriceList/3",
                          "fixed_prices": 12}],
        },
    }  # fmt: skip
    page = open_page("/app/setup", locale=locale)
    _dry_run(page, result)
    page.get_by_role("button", name=said["button"]).click()
    shown = page.get_by_test_id("catalog-diff-result")
    expect(shown).to_be_visible()
    for summary in shown.locator("summary").all():
        summary.click()
    text = shown.inner_text()
    assert "ACTIVE" not in text and "ARCHIVED" not in text, text  # no Shopify status code
    expect(shown.get_by_role("row").filter(has_text="ARROZ 5KG")).not_to_contain_text("→")  # unchanged
    expect(shown.get_by_role("row").filter(has_text="ARROZ 5KG")).to_contain_text(said["active"])
    expect(shown.get_by_role("row").filter(has_text="FEIJAO")).to_contain_text(
        f"{said['active']} → {said['archived']}"
    )
    expect(shown.get_by_role("row").filter(has_text="SABAO")).to_contain_text(
        f"{said['active']} → {said['archived']}"
    )
    expect(shown.get_by_role("row").filter(has_text="CERVEJA LATA")).not_to_contain_text("→")

    expect(shown.get_by_role("row").filter(has_text=said["unreadable"])).to_contain_text("1")
    expect(page.get_by_test_id("catalog-diff-unreadable")).to_contain_text("P30E1")
    expect(page.get_by_test_id("catalog-diff-unreadable")).to_contain_text("could not be read")

    held = page.get_by_test_id("catalog-diff-held")
    expect(held).to_contain_text(said["held"])
    expect(held).to_contain_text(WHY)
    expect(held).to_contain_text("P40E1, P41E1")

    expect(page.get_by_test_id("catalog-diff-full-sweep")).to_contain_text(said["off_sale"])
    prices = page.get_by_test_id("catalog-diff-prices")  # the store's prices, a promotion struck through
    expect(prices).to_contain_text(said["prices"])
    first = prices.get_by_test_id("catalog-diff-prices-first").get_by_role("row").filter(has_text="P50E1")
    expect(first).to_contain_text(said["promo"])
    expect(first).to_contain_text(said["until"])  # the ERP's day, not shifted by a time zone
    changed = prices.get_by_test_id("catalog-diff-prices-change").get_by_role("row").filter(has_text="P12E1")
    expect(changed).to_contain_text(said["was"])  # what Shopify shows now, beside the price after
    expect(changed).to_contain_text(said["now"])
    lists = page.get_by_test_id("catalog-diff-list")  # the markets' price lists
    expect(lists.first).to_contain_text(said["list"])
    expect(lists.first).to_contain_text(said["list_made"])
    moved = lists.first.get_by_test_id("catalog-diff-list-change").get_by_role("row").filter(has_text="P60E1")
    expect(moved).to_contain_text(said["list_was"])  # the list's fixed price now, beside the price after
    expect(moved).to_contain_text(said["list_now"])
    gone = (
        lists.first.get_by_test_id("catalog-diff-list-no_price").get_by_role("row").filter(has_text="P61E1")
    )
    expect(gone).to_contain_text(said["list_gone"])
    expect(lists.nth(1)).to_contain_text(said["list_error"])
    expect(lists.nth(1)).to_contain_text("does not exist in Shopify")
    expect(page.get_by_test_id("catalog-diff-list-retiring")).to_contain_text(said["retiring"])
    screenshot(page, f"setup-dry-run-{locale}")
    assert page.errors == []


def test_a_location_set_changed_since_the_page_opened_is_not_replaced(open_page, fresh) -> None:
    """Two admins on the Setup page: the other one links a location meanwhile. This page's save
    would have replaced the set with its older one, deleting that line (orders fulfilled there then
    post to the store link's company): it is refused, the section says so in the page's words with
    a button to reload, and saving after the reload keeps both lines."""
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    page = open_page("/app/setup")
    locations = page.locator("s-section").filter(has_text="Empresas do ERP ↔ locais da Shopify")
    first_location = locations.locator("select").first
    expect(first_location.locator("option")).not_to_have_count(1)  # the page holds the set now

    companies = [
        c["nro_empresa"]
        for c in json.loads(api_call(page, "GET", "/api/setup/erp-choices")["body"])["companies"]
    ]
    shop_locations = json.loads(api_call(page, "GET", "/api/setup/locations")["body"])["locations"]
    version = json.loads(api_call(page, "GET", "/api/setup/location-mappings")["body"])["version"]
    theirs = {"nro_empresa": companies[-1], "location_id": shop_locations[-1]["id"], "location_name": "Deles"}
    other_admin = api_call(
        page, "PUT", "/api/setup/location-mappings", {"version": version, "mappings": [theirs]}
    )
    assert other_admin["status"] == 200, other_admin

    first_location.select_option(str(companies[0]))
    locations.get_by_role("button", name="Salvar").click()
    stale = locations.get_by_test_id("location-mappings-stale")
    expect(stale).to_contain_text("Não salvo: os vínculos mudaram desde que você abriu esta página")
    expect(stale).to_contain_text("recarregue a página")
    with session_scope(fresh.settings.database_url) as db:
        assert [(r.nro_empresa, r.location_id) for r in db.scalars(select(LocationMapping))] == [
            (companies[-1], shop_locations[-1]["id"])
        ]
    screenshot(page, "setup-locations-stale-pt-BR")

    stale.get_by_role("button", name="Recarregar os vínculos").click()
    expect(locations.get_by_test_id("location-mappings-stale")).to_be_empty()
    expect(locations.locator("select").last).to_have_value(str(companies[-1]))  # their line shown
    locations.locator("select").first.select_option(str(companies[0]))
    with page.expect_response(
        lambda r: r.url.endswith("/api/setup/location-mappings") and r.request.method == "PUT"
    ) as saved:
        locations.get_by_role("button", name="Salvar").click()
    assert saved.value.status == 200
    with session_scope(fresh.settings.database_url) as db:
        assert sorted((r.nro_empresa, r.location_id) for r in db.scalars(select(LocationMapping))) == sorted(
            [(companies[0], shop_locations[0]["id"]), (companies[-1], shop_locations[-1]["id"])]
        )
    assert page.errors == []


def test_a_company_given_two_locations_is_refused_on_its_picker_in_words(open_page, fresh) -> None:
    """The API names a refused line's field "mappings[1].nro_empresa": the pickers had no name, so
    the toast listed it raw."""
    page = open_page("/app/setup")  # installs the shop
    connect_erp(page, fresh)
    page = open_page("/app/setup")
    locations = page.locator("s-section").filter(has_text="Empresas do ERP ↔ locais da Shopify")
    pickers = locations.locator("s-select")
    expect(pickers.nth(1).locator("option").nth(1)).to_be_attached()  # two pickers, the companies listed
    choices = json.loads(api_call(page, "GET", "/api/setup/erp-choices")["body"])
    company = choices["companies"][0]["nro_empresa"]
    pickers.nth(0).locator("select").select_option(str(company))
    pickers.nth(1).locator("select").select_option(str(company))
    locations.get_by_role("button", name="Salvar").click()
    toast = page.locator("#stand-in-toasts")
    expect(toast).to_contain_text("Alguns campos não são válidos")
    expect(pickers.nth(1)).to_have_attribute("name", "mappings[1].nro_empresa")
    expect(pickers.nth(1)).to_have_attribute("error", re.compile(str(company)))
    assert "mappings[" not in toast.inner_text()
    with session_scope(fresh.settings.database_url) as db:
        assert list(db.scalars(select(LocationMapping))) == []
    assert page.errors == []


BULK = "Acima de quantas mudanças usar operação em massa"


def _saved_settings(page) -> dict:
    answer = api_call(page, "GET", "/api/setup/settings")
    assert answer["status"] == 200, answer
    return json.loads(answer["body"])


def test_a_number_the_api_cannot_read_is_refused_on_its_field_not_saved_as_another(open_page, fresh) -> None:
    """Typed "5.000" (five thousand, as pt-BR writes it) was read with parseInt as 5 and saved behind
    "Saved"; an emptied required number was left out and "Saved" told while the old value stayed."""
    page = open_page("/app/setup")
    settled(page)
    before = _saved_settings(page)["bulk_threshold"]
    assert before is not None
    field = page.get_by_label(BULK)
    host = page.locator("s-number-field[name=bulk_threshold]")  # the field, as the API's error marks it
    section = page.locator("s-section").filter(has=field)
    field.fill("5.000")
    section.get_by_role("button", name="Salvar").click()
    expect(host).to_have_attribute("error", "deve ser um número inteiro")
    assert _saved_settings(page)["bulk_threshold"] == before

    field.fill("")
    section.get_by_role("button", name="Salvar").click()
    expect(host).to_have_attribute("error", "preencha este campo")
    assert _saved_settings(page)["bulk_threshold"] == before

    field.fill("5000")
    section.get_by_role("button", name="Salvar").click()
    expect(page.locator("#stand-in-toasts")).to_contain_text("Salvo")
    assert _saved_settings(page)["bulk_threshold"] == 5000
