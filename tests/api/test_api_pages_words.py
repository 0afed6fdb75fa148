"""Review (pages): today's merchant texts, through the API in pt-BR (and en). Each test fails today."""

from __future__ import annotations

import re

from ledger import trace
from ledger.db import session_scope
from ledger.models import Role
from tests.api.conftest import headers
from tests.api.test_api_orders_admin import seed_order

ENGLISH = re.compile(r"\b(the|of|and|would|none|was|were|stay|they|Retry|no answer|from)\b")


def _detail(client, mid: int, locale: str, role: Role = Role.ADMIN) -> dict:
    answer = client.get(f"/api/messages/{mid}?locale={locale}", headers=headers(role))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


# 1. MOVED_PACKAGINGS_HELD: the message's reason is English on a pt-BR page ------------------------
def test_moved_packagings_held_reason_is_in_portuguese(client, shops, settings):
    from jobs import catalog_unlisted

    why = (
        "that is 30% of the 10 packagings in the catalog: more likely a read or setup problem than "
        "packagings the ERP no longer has"
    )
    with session_scope(settings.database_url) as session:
        held = {39: ["P39E1", "P39E6"], 16: ["P16E1"]}
        catalog_unlisted._moved_record(shops.a, held, [16], 10, why)(session)
        [mid] = [m.id for m in trace.unit_messages(session, shops.a, "skus", [catalog_unlisted.MOVED_UNIT])]
    said = _detail(client, mid, "pt-BR")
    reason = said["failure_reason"] or ""
    assert not ENGLISH.search(reason), reason  # "The skus pass's read of the catalog changes ... Retry: ..."
    # and the app held them itself: no target refused anything
    assert said["explanation"]["title"] != "Recusado pelo sistema de destino", said["explanation"]
    assert said["explanation"]["title"] == "Embalagens retidas para uma pessoa", said["explanation"]
    assert "(P16E1 do produto 16, P39E1 do produto 39, P39E6 do produto 39)" in reason, reason
    assert "isso é 30% das 10 embalagens do catálogo" in reason, reason
    assert "1 produto(s) sairia(m) de venda, sem nenhuma embalagem ativa: 16." in reason, reason
    en = _detail(client, mid, "en")
    assert en["failure_reason"] == en["error_text"], en  # the words say what the English says


def test_the_full_syncs_held_packagings_are_said_in_portuguese(client, shops, settings):
    from jobs import absence, catalog_unlisted

    gone = {seq: [f"P{seq}E1", f"P{seq}E2"] for seq in range(1, 31)}  # 60 of 100: held
    why = absence.held_why(60, 100, None, known_as="packagings in the catalog",
                           rather="packagings the ERP no longer has")  # fmt: skip
    assert why is not None
    with session_scope(settings.database_url) as session:
        catalog_unlisted._hold(shops.a, gone, [3, 7], 100, None, why, retired=2)(session)
        [mid] = [m.id for m in trace.unit_messages(session, shops.a, "skus", [catalog_unlisted.UNIT])]
    said = _detail(client, mid, "pt-BR")
    reason = said["failure_reason"] or ""
    assert not ENGLISH.search(reason), reason
    assert said["explanation"]["title"] == "Embalagens retidas para uma pessoa", said["explanation"]
    assert "não listou 60 embalagem(ns) que a loja tem (P1E1 do produto 1, " in reason, reason
    assert "P10E2 do produto 10 e mais 40); nenhuma foi retirada" in reason, reason
    assert "2 produto(s) sairia(m) de venda, sem nenhuma embalagem ativa: 3, 7." in reason, reason
    assert reason.endswith("as 2 embalagem(ns) confirmada(s) pelo Tentar de novo foram retiradas; as acima "
                           "não tinham sido listadas então."), reason  # fmt: skip
    en = _detail(client, mid, "en")
    assert en["failure_reason"] == en["error_text"], en


def test_a_retry_that_could_not_tell_the_held_packagings_is_said_in_portuguese(client, shops, settings):
    """The held message after a Retry whose new read served a SKU record that names no product
    (absence.untold: nothing retired this time) says why in the page's language, not English."""
    from jobs import absence, catalog_unlisted

    gone = {seq: [f"P{seq}E1"] for seq in range(1, 23)}  # 22 held: 20 named and 2 more
    why = absence.held_why(60, 100, None, known_as="packagings in the catalog",
                           rather="packagings the ERP no longer has")  # fmt: skip
    assert why is not None
    skus = [i for ids in gone.values() for i in ids]
    with session_scope(settings.database_url) as session:
        catalog_unlisted._hold(shops.a, gone, [], 100, None, why)(session)
        catalog_unlisted.untold(shops.a, skus, "the read of the changes made meanwhile").record(session)
        [mid] = [m.id for m in trace.unit_messages(session, shops.a, "skus", [catalog_unlisted.UNIT])]
    said = _detail(client, mid, "pt-BR")
    reason = said["failure_reason"] or ""
    assert not ENGLISH.search(reason), reason
    assert "um registro de SKU da leitura das alterações feitas nesse meio-tempo não pôde ser lido" in reason
    assert "nenhuma das 22 embalagem(ns) desta mensagem (P1E1, P2E1, " in reason, reason
    assert "P20E1 e mais 2) foi retirada desta vez" in reason, reason
    en = _detail(client, mid, "en")
    assert en["failure_reason"] == en["error_text"], en  # the words say what the English says
    assert "of the 22 packaging(s) this message names (P1E1, P2E1, " in en["error_text"]


def test_the_prices_held_skus_are_said_in_portuguese(client, shops, settings):
    """The prices flow's held message (SKUs a whole read of the store's pair did not list, kept on
    sale at their last price) and, after a Retry that could not tell (absence.untold), its new
    reason: both in the page's language, saying what the English says."""
    from jobs import absence, price_unlisted

    skus = [f"P{seq}E1" for seq in range(1, 61)]  # 60 of 100 priced: held, 20 named and 40 more
    why = absence.held_why(60, 100, None, known_as="SKUs priced", rather="SKUs no longer sold")
    assert why is not None
    with session_scope(settings.database_url) as session:
        price_unlisted._hold(session, shops.a, skus, 100, 7, 2, None, why, retired=3)
        [mid] = [m.id for m in trace.unit_messages(session, shops.a, "prices", [price_unlisted.UNIT])]
    said = _detail(client, mid, "pt-BR")
    reason = said["failure_reason"] or ""
    assert not ENGLISH.search(reason), reason
    assert "empresa 7 segmento 2" in reason and "não listou 60 SKU(s)" in reason, reason
    assert "(P1E1, P2E1, " in reason and "P20E1 e mais 40)" in reason, reason
    assert "isso é 60% dos 100 SKUs com preço" in reason, reason
    assert reason.endswith("os 3 SKU(s) confirmado(s) pelo Tentar de novo saíram de venda; os acima não "
                           "tinham sido listados então."), reason  # fmt: skip
    en = _detail(client, mid, "en")
    assert en["failure_reason"] == en["error_text"], en  # the words say what the English says

    with session_scope(settings.database_url) as session:
        price_unlisted._untold(shops.a, skus, 7, 2, "the read of the changes made meanwhile")
    [mid] = _prices_held(settings, shops.a)  # (the same message, failed again)
    said = _detail(client, mid, "pt-BR")
    reason = said["failure_reason"] or ""
    assert not ENGLISH.search(reason), reason
    assert "um registro de preço da leitura das alterações feitas nesse meio-tempo não pôde" in reason
    assert "nenhum dos 60 SKU(s) desta mensagem (P1E1, P2E1, " in reason and "P20E1 e mais 40)" in reason
    en = _detail(client, mid, "en")
    assert en["failure_reason"] == en["error_text"], en


def _prices_held(settings, shop_id: int) -> list[int]:
    from jobs import price_unlisted

    with session_scope(settings.database_url) as session:
        return sorted(m.id for m in trace.unit_messages(session, shop_id, "prices", [price_unlisted.UNIT]))


# 2. An order waiting for payment: the explanation beside the reason still says PENDING -----------
def test_waiting_for_payment_explanation_says_the_status_in_words(client, settings, shops):
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shops.a, "orders", "order:77", "shopify_to_erp")
        message.error_text = "Waiting for payment: Shopify says PENDING; orders go to the ERP once paid"
        message.error_detail = {"waiting": "payment", "financial_status": "PENDING"}
        waiting = message.id
    said = _detail(client, waiting, "pt-BR", Role.VIEWER)
    assert said["reason"] == "aguardando pagamento: a Shopify diz pendente"  # today's fix, list/reason
    happened = said["explanation"]["what_happened"]
    assert "PENDING" not in happened, happened  # "A Shopify mostra o pedido como PENDING, ainda não pago."


# 3. ORDER_TOO_OLD_TO_READ: the sentence names the order by its raw gid --------------------------
def test_order_too_old_names_the_order_not_its_gid(client, settings, shops, message, monkeypatch):
    from jobs import old_orders

    monkeypatch.setattr(old_orders, "too_old_to_read", lambda *a: True)
    gid = "gid://shopify/Order/5001"
    refused = old_orders.unreadable(shops.a, gid, "Cancel the order", ("too_old_todo_cancel_plain", {}))
    mid = message(shops.a, "cancellations", "event:9", error=refused, shopify_id=gid, erp_id="77")
    reason = _detail(client, mid, "pt-BR")["failure_reason"] or ""
    # not "A Shopify não deixa mais o app ler o pedido gid://shopify/Order/5001"
    assert "gid://" not in reason and "o pedido 5001:" in reason, reason  # unlinked: its number
    seed_order(settings, shops.a, "#1001", 77)  # linked: its name
    linked = old_orders.unreadable(
        shops.a, "gid://shopify/Order/1001", "Cancel the order", ("too_old_todo_cancel_plain", {})
    )
    mid = message(shops.a, "cancellations", "event:10", error=linked, shopify_id="gid://shopify/Order/1001")
    assert "o pedido #1001:" in (_detail(client, mid, "pt-BR")["failure_reason"] or "")


# 4. reconcile_incomplete: a Shopify section's failure is English inside the pt-BR sentence ------
def test_reconcile_incomplete_with_shopify_down_is_in_portuguese(client, shops, message):
    from jobs import reconcile
    from shopify_app.admin_api.errors import ShopifyNetworkError

    def down():
        raise ShopifyNetworkError("no answer from Shopify: ConnectTimeout")

    report = {"orders": reconcile._section(down), "stock": {}, "catalog": {}}
    mid = message(shops.a, "reconcile", "report:2026-11-30", error=reconcile._incomplete(report))
    reason = _detail(client, mid, "pt-BR")["failure_reason"] or ""
    assert reason.startswith("conciliação incompleta: pedidos: ")
    assert "no answer from Shopify" not in reason, reason


# 5. stock_company_stopped: the ERP's own sentence ends in "." and the words add another ----------
def test_stock_company_stopped_has_no_double_full_stop(client, shops):
    from erp.errors import ErpRejected
    from jobs import stock_records

    stock_records.stopped(shops.a, 5, ErpRejected("Empresa 5 inativa.", codigo="EMPRESA_INATIVA", status=422))
    [row] = client.get("/api/messages?flow=stock&locale=pt-BR", headers=headers()).get_json()["messages"]
    assert ".." not in row["failure_reason"], row["failure_reason"]  # "parou: Empresa 5 inativa.. As demais"


# 6. NFE_KEY_MISMATCH part company/uf: the sentence says the key is not the document's, it is -----
def test_nfe_key_of_another_company_does_not_say_it_is_another_documents_key(monkeypatch):
    from jobs import company_cnpj
    from ledger.errors import Rejected
    from ledger.words import stored
    from shopify_app.note_words import say_note
    from tests.orders_out.test_invoice_keys import OURS, THEIRS, _invoice, _key, _refusal

    monkeypatch.setattr(company_cnpj, "of", lambda shop_id, nro: OURS)
    monkeypatch.setattr(company_cnpj, "state_of", lambda shop_id, nro, cnpj: "SP" if cnpj == OURS else None)
    refused: Rejected = _refusal(_invoice(_key(THEIRS), issuer=THEIRS), [], company=(1, 2))  # self-consistent
    assert refused.detail["part"] == "company"
    said = say_note([stored(refused.words)], "pt-BR") or ""
    # the document names THEIRS and its key carries THEIRS: the key IS the document's key
    assert "não é a chave do documento que o ERP descreve" not in said, said


def test_every_kind_of_shopify_transient_failure_is_said_in_both_languages():
    """The ShopifyTransient family's words (shopify_app.note_words), whatever page shows them."""
    from ledger.words import stored
    from shopify_app import fail_words
    from shopify_app.admin_api import errors

    kinds = [
        errors.ShopifyTransient("no free bulk operation slot"),
        errors.Throttled("Shopify answered 429", status=429),
        errors.ShopifyServerError("Shopify answered HTTP 503", status=503),
        errors.ShopifyNetworkError("no answer from Shopify: ConnectTimeout", error="ConnectTimeout"),
        errors.ShopifyNetworkError("Shopify's answer was lost before it was read"),
        errors.IdempotencyInProgress("orderCapture: in progress"),
        errors.IdempotencyKeyFailed("orderCapture: failed (3 keys tried)"),
        errors.BulkStillRunning("still running", bulk_id="gid://shopify/BulkOperation/1", status="RUNNING"),
        errors.ShopUnavailable("Shopify answered HTTP 402: Unavailable Shop", status=402),
        errors.ShopUnavailable("Shopify answered HTTP 423: Unavailable Shop", status=423),
        errors.ShopUnavailable("job: the shop is not active (SHOP_INACTIVE)"),
    ]

    def family(cls: type) -> set[type]:
        return {cls}.union(*(family(sub) for sub in cls.__subclasses__()))

    assert family(errors.ShopifyTransient) <= {type(exc) for exc in kinds}
    for exc in kinds:
        pt, en = (fail_words.said(stored(exc.words), locale) for locale in ("pt-BR", "en"))
        assert pt and en and pt != en and "{" not in pt + en, (exc, pt, en)
        assert not ENGLISH.search(pt.replace("Shopify", "")), pt
    said = fail_words.said(stored(kinds[3].words), "pt-BR")
    assert said == (
        "A Shopify não respondeu (ConnectTimeout), nem depois das novas tentativas: ela está fora do ar "
        "ou inacessível daqui; o app tenta de novo mais tarde"
    )


# Shopify's financial statuses on the Orders page ---------------------------------------------------
def test_every_shopify_financial_status_has_a_label_in_both_languages(client, settings, shops):
    """The Orders page labels a link's shopify_status (Shopify's displayFinancialStatus, written by
    jobs.order_lookup / jobs.invoices) with label("shopify_status.", ...): a value the catalogue
    lacks shows as its raw code (EXPIRED: a card authorisation that lapsed before the capture)."""
    import json

    from shopify_app.admin_api.documents import admin_schema
    from shopify_app.frontend import I18N_DIR

    seed_order(settings, shops.a, "#2001", 77, shopify_status="EXPIRED")
    answer = client.get("/api/orders", headers=headers(Role.VIEWER)).get_json()
    assert answer["orders"][0]["shopify_status"] == "EXPIRED"  # what the page labels

    statuses = list(admin_schema().get_type("OrderDisplayFinancialStatus").values)
    assert "EXPIRED" in statuses and len(statuses) >= 8, statuses
    for locale in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{locale}.json").read_text(encoding="utf-8"))
        missing = [s for s in statuses if f"shopify_status.{s}" not in catalogue]
        assert missing == [], f"the Orders page shows these raw in {locale}: {missing}"
        said = [catalogue[f"shopify_status.{s}"] for s in statuses]
        assert all(text and text != code for text, code in zip(said, statuses, strict=True)), said
