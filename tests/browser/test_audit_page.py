"""The audit page in words: who (a name, "Sistema", or "Usuário 1002" with a hint), which thing
("De:Para · Formas de pagamento: Pix"), what changed ("Código da operação fiscal: — → 207", one
line per changed field, the password hidden), never raw JSON or codes; and every date in the
store's time zone (Shopify's shop.ianaTimezone, São Paulo in the sandbox), not the browser's."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import func, select

from browser.conftest import SHOP_DOMAIN
from browser.ledger_rows import shop_id
from ledger import audit
from ledger.db import session_scope
from ledger.models import AuditEvent, Shop

AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)  # 09:00 in São Paulo, 21:00 in Tokyo


def _seed(database_url: str, shop: int) -> None:
    """What the setup page's saves write (shopify_app/api_setup.py, api_settings.py, api_mappings.py)."""
    events = [
        (
            "1002",
            "erp_connection.saved",
            "erp_connection",
            None,
            {"base_url": "http://erp.example/api", "username": "ecommerce", "password": "changed"},
        ),
        (
            "1002",
            "erp_connection.saved",
            "erp_connection",
            {"base_url": "http://erp.example/api", "username": "ecommerce"},
            {"base_url": "http://erp.example/api", "username": "ecommerce", "password": "changed"},
        ),
        (
            "1002",
            "settings.changed",
            "settings",
            {"cod_geral_oper": None, "payment_confirmation": None, "seq_canal_venda": None},
            {"cod_geral_oper": 207, "payment_confirmation": "authorized", "seq_canal_venda": 7},
        ),
        (
            "1002",
            "mapping.created",
            "mapping:payment_method:Pix",
            None,
            {"erp_code": "2", "label": "PIX", "shopify_code": "Pix"},
        ),
        (
            "1002",
            "location_mappings.saved",
            "location_mappings",
            {"mappings": []},
            {
                "mappings": [
                    {
                        "location_id": "gid://shopify/Location/1",
                        "location_name": "Loja Centro",
                        "nro_empresa": 1,
                    }
                ]
            },
        ),
        (
            "1002",
            "store_link.saved",
            "store_link",
            {"nro_empresa": 1, "nro_segmento": 2},
            {"nro_empresa": 1, "nro_segmento": 3},
        ),
    ]
    with session_scope(database_url) as db:
        for actor, action, target, before, after in events:
            event = audit.record(db, shop, SHOP_DOMAIN, actor, action, target, before, after)
            event.created_at = AT


def test_the_audit_reads_in_words_in_the_stores_time(open_page, fresh):
    first = open_page("/app/setup")  # the install: the zone is read from Shopify then
    first.context.close()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        assert db.get(Shop, shop).iana_timezone == "America/Sao_Paulo"
    _seed(fresh.settings.database_url, shop)

    page = open_page("/app/audit", timezone_id="Asia/Tokyo")
    audit_box = page.get_by_test_id("audit")
    expect(audit_box).to_contain_text("Código da operação fiscal: — → 207")
    text = audit_box.inner_text()
    for words in (
        "Sistema",  # the first staff member became owner
        "Papel: Proprietário",
        "Usuário",  # an actor the roles table has no name for
        "Configurações",
        "Canal de venda (seqCanalVenda): — → 7",
        "Enviar pedidos ao ERP quando o pagamento estiver: — → Autorizado",
        "De:Para · Formas de pagamento: Pix",
        "Código no ERP: 2",
        "Conexão com o ERP",
        "Senha: •••• (oculta)",  # the first save: a password set, never shown
        "Senha: alterada (não exibida)",  # a later save changing it
        "empresa 1: Loja Centro",
        "Loja ↔ empresa do ERP",
        "Segmento do ERP: 2 → 3",
        "30/11/2026, 09:00:00",  # São Paulo's time, though the browser is in Tokyo
    ):
        assert words in text, (words, text)
    for raw in (
        '{"',
        "mapping:",
        "system",
        "settings\t",
        "store_link",
        "erp_connection",
        "21:00:00",
        "gid://",
    ):
        assert raw not in text, (raw, text)
    assert "Empresa do ERP" not in text  # store link: only the changed field is listed
    expect(page.get_by_test_id("roles")).to_contain_text("Nome não informado")


def test_the_audit_in_english(open_page, fresh):
    open_page("/app/setup").context.close()
    _seed(fresh.settings.database_url, shop_id(fresh.settings.database_url, SHOP_DOMAIN))
    page = open_page("/app/audit", locale="en")
    audit_box = page.get_by_test_id("audit")
    expect(audit_box).to_contain_text("Fiscal operation code: — → 207")
    text = audit_box.inner_text()
    for words in (
        "System",
        "Mapping · Payment methods: Pix",
        "Password: •••• (hidden)",
        "Password: changed (hidden)",
        "What changed",
    ):
        assert words in text, (words, text)
    assert '{"' not in text and "system" not in text
    expect(page.get_by_test_id("roles")).to_contain_text("Name not known")


def test_load_more_clicked_twice_lists_each_older_event_once(open_page, fresh):
    """Review (pages): the audit's own Load more stayed on the page while its page loaded, so a
    double click read the same older page twice and listed each of its events twice (74 rows for
    62 events). It reads its list as the Orders and Messages pages do (widgets.pagedList)."""
    open_page("/app/setup").context.close()
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    with session_scope(database) as db:
        for n in range(60):
            audit.record(db, shop, SHOP_DOMAIN, "1", "mapping.created", f"mapping:payment_method:pix{n}",
                         None, {"erp_code": str(n)})  # fmt: skip
    with session_scope(database) as db:
        total = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.shop_id == shop))
    assert 50 < total <= 100, total  # two pages
    page = open_page("/app/audit")
    rows = page.get_by_test_id("audit").locator("s-table-body s-table-row")
    expect(rows).to_have_count(50)
    older = "/api/audit"
    with page.expect_response(lambda r: urlsplit(r.url).path == older and "before_id=" in r.url):
        page.get_by_role("button", name="Carregar mais").dblclick()
    expect(rows).to_have_count(total)
    expect(page.get_by_role("button", name="Carregar mais")).to_have_count(0)  # nothing older
    page.wait_for_load_state("networkidle")  # a second page read (the bug) has landed by now
    expect(rows).to_have_count(total)
    assert page.errors == []


def test_the_alert_emails_audit_rows_read_in_words(open_page, fresh):
    """A change of the alert e-mail settings and a test e-mail that failed (what api_settings.put_settings
    and api_alerts._audited write) read "alert emails", "to: ", "code: mail_refused" on the pt-BR page."""
    open_page("/app/setup").context.close()
    shop = shop_id(fresh.settings.database_url, SHOP_DOMAIN)
    with session_scope(fresh.settings.database_url) as db:
        audit.record(db, shop, SHOP_DOMAIN, "1", "settings.changed", "settings",
                     {"alert_emails": [], "alert_locale": "pt-BR"},
                     {"alert_emails": ["equipe@loja.com.br"], "alert_locale": "en"})  # fmt: skip
        audit.record(db, shop, SHOP_DOMAIN, "1", "alerts.test_sent", "alerts", None,
                     {"to": ["equipe@loja.com.br"], "ok": False, "code": "mail_refused"})  # fmt: skip
    page = open_page("/app/audit")
    box = page.get_by_test_id("audit")
    expect(box).to_contain_text("Para: equipe@loja.com.br")
    text = box.inner_text()
    for words in ("Endereços dos alertas por e-mail", "Idioma dos alertas por e-mail", "Alertas por e-mail",
                  "Enviado: não", "Motivo do não envio: O servidor de e-mail recusou o e-mail"):  # fmt: skip
        assert words in text, (words, text)
    codes = ("alert emails", "alert locale", "\talerts\t", "to: ", "ok: ", "code: ", "mail_refused")
    raw = [code for code in codes if code in text]
    assert raw == [], text
    assert page.errors == []
