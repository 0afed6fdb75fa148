"""Messages: search by any external id, detail with PII masked below admin and the error
explained, retry / replay / retry all failed enqueue the flow's replay job, all audited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from orders_in.test_order_map import TARGET, money_bag, raw_order, variants_for
from rq import Queue
from spine_auth.factories import SHOP_B
from sqlalchemy import select

from jobs import order_map, price_unpriced
from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.models import AuditEvent, Message, Role, utcnow
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.api_mappings import KINDS as DE_PARA_KINDS

from .conftest import headers, queued

NFE_KEY = "35260412345678000195550010000012341000012345"
CUSTOMER = {
    "customer": {"email": "ana.souza@example.com", "firstName": "Ana", "lastName": "Souza"},
    "clienteDto": {"cpfCnpj": "52998224725", "nomeRazaoSocial": "Ana Souza"},
    "name": "#1001",
}


def ids(client, query: str, role: Role = Role.VIEWER, shop: str | None = None) -> list[int]:
    extra = {"shop": shop} if shop else {}
    response = client.get(f"/api/messages?{query}", headers=headers(role, **extra))
    assert response.status_code == 200, response.get_json()
    return [m["id"] for m in response.get_json()["messages"]]


def test_search_by_sku_order_name_nropedvenda_and_nfe_key(client, shops, message):
    sku = message(shops.a, "skus", "sku-7891000100103", search=("7891000100103",), done=True)
    order = message(
        shops.a,
        "orders",
        "order-1001",
        shopify_id="gid://shopify/Order/55",
        erp_id="880123",
        search=("#1001",),
        done=True,
    )
    invoice = message(shops.a, "invoices", "nfe-1", search=(NFE_KEY, "880123"), done=True)
    message(shops.b, "orders", "order-1001", search=("#1001",), done=True)
    assert ids(client, "q=7891000100103") == [sku]
    assert ids(client, "q=%231001") == [order]
    assert ids(client, "q=880123") == [invoice, order]
    assert ids(client, f"q={NFE_KEY}") == [invoice]
    assert ids(client, "q=880123&flow=invoices") == [invoice]
    assert ids(client, "status=done&limit=1") == [invoice]
    assert ids(client, f"before_id={invoice}") == [order, sku]
    assert client.get("/api/messages?status=bogus", headers=headers()).status_code == 400


def test_each_row_says_what_it_is_about_never_a_gid(client, settings, shops, message):
    """An order's message is named by its order (the link's name, else the name it was searched
    by) and ERP number; a stock message by its ERP company, a catalog one by its ERP product."""
    from ledger.models import OrderLink

    with session_scope(settings.database_url) as session:
        session.add(OrderLink(shop_id=shops.a, shopify_order_id="gid://shopify/Order/46194",
                              shopify_order_name="#1010", nro_pedvenda=7))  # fmt: skip
    linked = message(shops.a, "invoices", "event:5", shopify_id="gid://shopify/Order/46194", erp_id="7")
    searched = message(
        shops.a, "orders", "order:46195", shopify_id="gid://shopify/Order/46195", search=("#1011",)
    )
    unnamed = message(shops.a, "orders", "order:46196", shopify_id="gid://shopify/Order/46196")
    stock = message(shops.a, "stock", "stock:3:abc", erp_id="3")
    product = message(shops.a, "products", "product:778", erp_id="778")
    rows = client.get("/api/messages", headers=headers(Role.VIEWER)).get_json()["messages"]
    about = {m["id"]: m["subject"] for m in rows}
    assert about[linked] == {"kind": "order", "name": "#1010", "erp": "7", "shopify_number": None}
    assert about[searched] == {"kind": "order", "name": "#1011", "erp": None, "shopify_number": None}
    assert about[unnamed] == {"kind": "order", "name": None, "erp": None, "shopify_number": "46196"}
    assert about[stock] == {"kind": "company", "erp": "3"}
    assert about[product] == {"kind": "product", "erp": "778", "title": None}
    one = client.get(f"/api/messages/{linked}", headers=headers(Role.VIEWER)).get_json()
    assert one["subject"]["name"] == "#1010"


def test_a_product_is_named_by_its_title_and_a_gid_becomes_an_admin_path(client, settings, shops, message):
    """A catalog message names the product by the title the app knows (the ERP catalog it keeps),
    and a Shopify gid comes with where it opens in Shopify's admin (orders/N, products/N), so the
    page shows the name and links the gid instead of printing it."""
    from ledger.models import Binding

    cached = {"product": {"seq_produto": 778, "description": "ARROZ TIO JOÃO 5KG"}, "skus": {}}
    with session_scope(settings.database_url) as session:
        session.add(Binding(shop_id=shops.a, kind="erp_catalog", erp_id="778", data=cached))
        session.add(Binding(shop_id=shops.b, kind="erp_catalog", erp_id="779", data=cached))
    product = message(shops.a, "products", "product:778", erp_id="778", shopify_id="gid://shopify/Product/55")
    other = message(shops.a, "products", "product:779", erp_id="779")  # shop B's title is not shop A's
    order = message(shops.a, "orders", "order:46196", shopify_id="gid://shopify/Order/46196")
    variant = message(shops.a, "skus", "sku:9", erp_id="9", shopify_id="gid://shopify/ProductVariant/9")
    rows = client.get("/api/messages", headers=headers(Role.VIEWER)).get_json()["messages"]
    by_id = {m["id"]: m for m in rows}
    assert by_id[product]["subject"] == {"kind": "product", "erp": "778", "title": "ARROZ TIO JOÃO 5KG"}
    assert by_id[other]["subject"]["title"] is None
    assert by_id[product]["shopify_admin_path"] == "products/55"
    assert by_id[order]["shopify_admin_path"] == "orders/46196"
    assert by_id[variant]["shopify_admin_path"] is None  # a variant opens under its product: not known here
    one = client.get(f"/api/messages/{product}", headers=headers(Role.VIEWER)).get_json()
    assert one["subject"]["title"] == "ARROZ TIO JOÃO 5KG"
    assert one["shopify_admin_path"] == "products/55"


def test_an_unreadable_sku_record_is_named_by_its_own_product(client, settings, shops, message):
    """An unreadable SKU or price record's message carries the record's idSku as its erp_id
    (jobs.catalog_malformed): it is titled by the product the record names (its request's
    seqProduto, else the SKU's variant binding), never by the product whose number is the idSku."""
    from ledger.models import Binding

    def cached(seq: int, title: str) -> Binding:
        data = {"product": {"seq_produto": seq, "description": title}, "skus": {}}
        return Binding(shop_id=shops.a, kind="erp_catalog", erp_id=str(seq), data=data)

    def record(flow: str, unit: str, sku: str | None, seq: str | None) -> int:
        return message(shops.a, flow, unit, erp_id=sku or seq, request={"id_sku": sku, "seq_produto": seq})

    beer, rice = "CERVEJA HEINEKEN LATA 350ML", "ARROZ TIO JOÃO 5KG"
    with session_scope(settings.database_url) as session:
        session.add_all([cached(4021, beer), cached(987, rice)])
        session.add(Binding(shop_id=shops.a, kind="variant", erp_id="4022", data={"seq_produto": 987}))
    sku_record = record("skus", "record:4021", "4021", "987")
    unknown = record("skus", "record:4023", "4023", None)
    bound = record("prices", "record:1@2:4022", "4022", None)  # its product told by the SKU's binding
    product_record = record("products", "record:4021", None, "4021")
    rows = client.get("/api/messages", headers=headers(Role.VIEWER)).get_json()["messages"]
    about = {m["id"]: m["subject"] for m in rows}
    assert about[sku_record] == {"kind": "product", "erp": "987", "title": rice, "sku": "4021"}
    assert about[unknown] == {"kind": "product", "erp": None, "title": None, "sku": "4023"}
    assert about[bound] == {"kind": "product", "erp": "987", "title": rice, "sku": "4022"}
    assert about[product_record] == {"kind": "product", "erp": "4021", "title": beer}


def test_pii_is_masked_for_a_viewer_and_revealed_for_an_admin(client, shops, message):
    message_id = message(shops.a, "orders", "order-1001", request=CUSTOMER, done=True)
    seen_by_viewer = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER)).get_json()
    text = str(seen_by_viewer["request_payload"])
    assert seen_by_viewer["pii_masked"] is True
    assert "ana.souza@example.com" not in text and "52998224725" not in text and "Souza" not in text
    assert seen_by_viewer["request_payload"]["name"] == "#1001"  # an order name is not PII
    seen_by_admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN)).get_json()
    assert seen_by_admin["pii_masked"] is False and seen_by_admin["request_payload"] == CUSTOMER
    assert client.get(f"/api/messages/{message_id}", headers=headers(shop=SHOP_B)).status_code == 404


def test_documents_and_emails_inside_payload_texts_are_masked_for_a_viewer(client, settings, shops):
    """A payload may quote a CPF or an e-mail in free text under a key that says nothing (the
    reconcile report's held orders carry each order message's error_text as `why`): below admin
    the payloads are masked as error details are, by key and then every text."""
    from ledger import trace

    why = "CPF/CNPJ '52998224726' is invalid (ana.souza@example.com): CPF check digits do not match"
    report = {"orders": {"held_in_app": [{"order": "gid://shopify/Order/9001", "name": "#1001", "why": why}]}}
    with session_scope(settings.database_url) as session:
        msg = trace.begin(session, shops.a, "reconcile", "report:2026-11-28", "both", request={"note": why})
        trace.succeed(session, msg, response=report)
        message_id = msg.id
    seen = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER)).get_json()
    for shown in (
        seen["response_payload"]["orders"]["held_in_app"][0]["why"],
        seen["request_payload"]["note"],
    ):
        assert "52998224726" not in shown and "ana.souza@example.com" not in shown, shown
        assert "CPF check digits do not match" in shown
    assert seen["response_payload"]["orders"]["held_in_app"][0]["order"] == "gid://shopify/Order/9001"
    seen_by_admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN)).get_json()
    assert seen_by_admin["response_payload"] == report


def test_the_explanation_masks_the_systems_words_for_a_viewer(client, shops, message):
    """The explanation block repeats the system's message: a viewer sees it masked there too."""
    refused = Rejected("CPF 529.982.247-25 invalido (ana.souza@example.com)", system="consinco", code="X")
    message_id = message(shops.a, "orders", "order:1", error=refused)
    seen_by_viewer = client.get(f"/api/messages/{message_id}", headers=headers(Role.VIEWER)).get_json()
    words = seen_by_viewer["explanation"]["system_message"] or ""
    assert words and "529.982.247-25" not in words and "ana.souza@example.com" not in words
    seen_by_admin = client.get(f"/api/messages/{message_id}", headers=headers(Role.ADMIN)).get_json()
    assert "529.982.247-25" in seen_by_admin["explanation"]["system_message"]


def test_error_explained_in_the_merchants_language(client, shops, message):
    refused = message(
        shops.a,
        "orders",
        "o-1",
        error=Rejected("Pedido já faturado", system="consinco", code="PEDIDO_FATURADO"),
    )
    parked = message(shops.a, "orders", "o-2", error=MappingMissing("payment_method", "pix"))
    pt = client.get(f"/api/messages/{refused}", headers=headers()).get_json()["explanation"]
    assert pt["system"] == "consinco" and pt["system_message"] == "Pedido já faturado"
    assert "faturado" in pt["what_happened"] and pt["code"] == "PEDIDO_FATURADO"
    en = client.get(f"/api/messages/{refused}?locale=en", headers=headers()).get_json()["explanation"]
    assert "invoiced" in en["what_happened"]
    waiting = client.get(f"/api/messages/{parked}", headers=headers()).get_json()
    assert waiting["explanation"]["mapping"] == {"kind": "payment_method", "code": "pix", "side": "shopify"}
    assert "pix" in waiting["explanation"]["what_happened"] and waiting["can_retry"] is True
    english = client.get(
        f"/api/messages/{parked}", headers=headers(**{"Accept-Language": "en-US,en"})
    ).get_json()
    assert english["locale"] == "en" and "mapping" in english["explanation"]["what_to_do"]


def test_retry_and_replay_follow_the_status_and_are_audited(client, settings, shops, message, rq):
    failed = message(shops.a, "orders", "o-1", error=Rejected("no", system="consinco"))
    done = message(shops.a, "skus", "s-1", done=True)
    retried = client.post(f"/api/messages/{failed}/retry", headers=headers(Role.OPERATOR))
    assert retried.status_code == 202 and retried.get_json()["enqueued"] is True
    assert client.post(f"/api/messages/{failed}/replay", headers=headers(Role.OPERATOR)).status_code == 409
    assert client.post(f"/api/messages/{done}/retry", headers=headers(Role.OPERATOR)).status_code == 409
    assert client.post(f"/api/messages/{done}/replay", headers=headers(Role.OPERATOR)).status_code == 202
    assert client.post(f"/api/messages/{done}/replay", headers=headers(shop=SHOP_B)).status_code == 404
    assert queued(rq, "orders") == [("jobs.orders.replay", (failed,))]
    assert queued(rq, "catalog") == [("jobs.skus.replay", (done,))]
    with session_scope(settings.database_url) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("message.%")).order_by(AuditEvent.id)
        )
        assert [(e.action, e.target, e.actor) for e in events] == [
            ("message.retry", f"message:{failed}", "3"),
            ("message.replay", f"message:{done}", "3"),
        ]


def test_a_message_left_pending_can_be_retried_once_stale_and_not_before(client, settings, shops, rq):
    """A catalog product replay began its message (pending) and its worker died; RQ holds no job
    for it any more. Nothing else redoes it (the scheduled pass reads only what the ERP changed):
    past the stale threshold the Messages page offers Retry, and the endpoint takes it."""
    with session_scope(settings.database_url) as session:
        stuck = trace.begin(session, shops.a, "products", "product:1234", "erp_to_shopify", search=["1234"])
        stuck.updated_at = utcnow() - timedelta(seconds=trace.STALE_AFTER_SECONDS + 60)
        running = trace.begin(session, shops.a, "products", "product:5678", "erp_to_shopify")
        stuck_id, running_id = stuck.id, running.id
    detail = client.get(f"/api/messages/{stuck_id}", headers=headers(Role.OPERATOR)).get_json()
    assert (detail["status"], detail["can_retry"], detail["can_replay"]) == ("pending", True, False)
    retried = client.post(f"/api/messages/{stuck_id}/retry", headers=headers(Role.OPERATOR))
    assert retried.status_code == 202 and retried.get_json()["enqueued"] is True
    assert queued(rq, "catalog") == [("jobs.products.replay", (stuck_id,))]
    # Pending a moment ago: its job may still be running, so it is not offered.
    fresh = client.get(f"/api/messages/{running_id}", headers=headers(Role.OPERATOR)).get_json()
    assert fresh["can_retry"] is False
    refused = client.post(f"/api/messages/{running_id}/retry", headers=headers(Role.OPERATOR))
    assert refused.status_code == 409 and "15 minutes" in refused.get_json()["error"]["message"]


def test_a_pending_message_whose_job_rq_still_holds_is_not_offered_a_retry(client, settings, shops, rq):
    """A catalog load's units stay pending while its bulk operation runs (hours): their job is
    alive in RQ, so they are not offered as lost; once RQ holds no such job, they are."""
    with session_scope(settings.database_url) as session:
        loading = trace.begin(session, shops.a, "products", "product:42", "erp_to_shopify", job_id="load-1")
        loading.updated_at = utcnow() - timedelta(hours=3)
        loading_id = loading.id
    job = Queue("catalog", connection=rq).enqueue("jobs.products.run", shops.a, job_id="load-1")
    detail = client.get(f"/api/messages/{loading_id}", headers=headers(Role.OPERATOR)).get_json()
    assert (detail["status"], detail["can_retry"]) == ("pending", False)
    assert client.post(f"/api/messages/{loading_id}/retry", headers=headers(Role.OPERATOR)).status_code == 409
    job.delete()  # the worker was killed and RQ cleaned it up: nothing will finish it
    detail = client.get(f"/api/messages/{loading_id}", headers=headers(Role.OPERATOR)).get_json()
    assert detail["can_retry"] is True


def test_retry_failed_enqueues_one_job_per_failed_message_of_the_flow(client, shops, message, rq):
    failed = [message(shops.a, "orders", f"o-{n}", error=Rejected("no", system="consinco")) for n in range(3)]
    message(shops.a, "orders", "o-parked", error=MappingMissing("carrier", "x"))
    message(shops.a, "orders", "o-done", done=True)
    message(shops.a, "invoices", "i-1", error=Rejected("no", system="shopify"))
    message(shops.b, "orders", "o-b", error=Rejected("no", system="consinco"))
    response = client.post("/api/messages/retry-failed?flow=orders", headers=headers(Role.OPERATOR))
    assert response.status_code == 202
    assert response.get_json() == {"flow": "orders", "enqueued": 3, "message_ids": failed, "remaining": 0}
    assert sorted(queued(rq, "orders")) == sorted(("jobs.orders.replay", (m,)) for m in failed)
    assert client.post("/api/messages/retry-failed", headers=headers()).status_code == 400


def test_retry_failed_reaches_past_the_messages_whose_replay_is_still_queued(
    client, shops, message, rq, monkeypatch
) -> None:
    """A message stays failed while its replay waits in the queue: the next click goes on to the
    messages after them, and says how many are left for the click after."""
    from shopify_app import api_messages

    monkeypatch.setattr(api_messages, "RETRY_FAILED_MAX", 2)
    failed = [message(shops.a, "prices", f"p-{n}", error=Rejected("no", system="consinco")) for n in range(5)]
    post = lambda: client.post("/api/messages/retry-failed?flow=prices", headers=headers(Role.OPERATOR))  # noqa: E731
    first, second, third = post().get_json(), post().get_json(), post().get_json()
    assert (first["message_ids"], first["remaining"]) == (failed[:2], 3)
    assert (second["message_ids"], second["remaining"]) == (failed[2:4], 1)
    assert (third["message_ids"], third["remaining"]) == (failed[4:], 0)
    assert post().get_json()["message_ids"] == []  # every replay still queued: nothing new


# -- refusals and parkings a retry cannot settle, explained (custom item, tax on top, no ERP price)


def _custom_item_parked() -> MappingMissing:
    """The exact exception the orders flow raises for a custom item added by an edit (7282247)."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    raw["lineItems"]["nodes"].append({
        "id": "gid://shopify/LineItem/90", "sku": None, "name": "Sacola retornável", "quantity": 1,
        "currentQuantity": 1, "variant": None, "requiresShipping": False, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(Decimal("5.00")),
        "discountedUnitPriceAfterAllDiscountsSet": money_bag(Decimal("5.00")),
        "totalDiscountSet": money_bag(Decimal(0)), "discountAllocations": [],
    })  # fmt: skip
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("55.00"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("65.00"))
    raw["totalTipReceivedSet"] = money_bag(Decimal("0.00"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("65.00"))
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    return parked.value


def _taxes_added() -> Rejected:
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("75.90"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("75.90"))
    raw["taxesIncluded"] = False
    raw["currentTotalTaxSet"] = money_bag(Decimal("6.00"))
    with pytest.raises(Rejected) as refused:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert refused.value.code == "TAXES_ADDED"
    return refused.value


def _explanation(client, message_id: int, locale: str) -> dict:
    response = client.get(f"/api/messages/{message_id}?locale={locale}", headers=headers(Role.OPERATOR))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_custom_item_parked_order_says_what_to_do(client, shops, message):
    """The order parks on a custom item with no SKU: the only way on is an order edit replacing or
    removing it (the job's own text says so). The Messages detail must say that, and must not send
    the merchant to create a De:Para line of a kind the De:Para does not have."""
    error = _custom_item_parked()
    assert "order edit" in error.message  # the job knows the remedy
    message_id = message(shops.a, "orders", "order:1001", search=("#1001",), error=error)
    detail = _explanation(client, message_id, "en")
    explained = detail["explanation"]
    shown = " ".join(str(explained[k] or "") for k in ("what_happened", "what_to_do", "system_message"))
    problems = []
    if "edit" not in shown.lower():
        problems.append(f"no order edit remedy shown: {explained}")
    if explained["mapping"] and explained["mapping"]["kind"] not in DE_PARA_KINDS:
        # the page renders a "create mapping" link for it; POST /api/mappings refuses that kind
        made = client.put(
            "/api/mappings",
            json={"kind": explained["mapping"]["kind"], "shopify_code": explained["mapping"]["code"],
                  "erp_code": "1"},
            headers=headers(Role.ADMIN),
        )  # fmt: skip
        problems.append(
            f"links to creating a {explained['mapping']['kind']!r} mapping for "
            f"{explained['mapping']['code']!r} (POST /api/mappings answers {made.status_code})"
        )
    assert problems == []


def test_taxes_added_refusal_does_not_promise_a_retry(client, shops, message):
    """bf30b53: a TAXES_ADDED order keeps the tax it was charged, so a retry gets the same refusal:
    enter it in the ERP by hand or cancel it. The explanation must not tell the merchant to click
    Retry (pt-BR: Tentar de novo)."""
    error = _taxes_added()
    message_id = message(shops.a, "orders", "order:1001", search=("#1001",), error=error)
    en = _explanation(client, message_id, "en")["explanation"]
    pt = _explanation(client, message_id, "pt-BR")["explanation"]
    assert "Retry" not in en["what_to_do"], en["what_to_do"]
    assert "Tentar de novo" not in pt["what_to_do"], pt["what_to_do"]


def test_no_price_message_is_not_called_a_refusal(client, settings, shops):
    """jobs.price_unpriced: nothing was refused by anyone (the SKU's price was simply not sent);
    the pt-BR page must not tell the merchant the target system refused the send."""
    with session_scope(settings.database_url) as session:
        price_unpriced.explain(session, shops.a, price_unpriced.store_unit(12, "P12E1"), "P12E1", 1, 1,
                               where="not sent to Shopify, not for sale until it has one")  # fmt: skip
        message_id = session.scalar(select(Message.id).where(Message.unit_key == "price:12:P12E1"))
    pt = _explanation(client, message_id, "pt-BR")["explanation"]
    en = _explanation(client, message_id, "en")["explanation"]
    assert "recusou" not in pt["what_happened"], pt
    assert "refused" not in en["what_happened"], en


def test_an_order_parked_on_a_missing_setting_is_not_explained_as_a_missing_sku(client, shops, message):
    """jobs.order_lookup.resolve_target parks every order with MappingMissing("setting",
    "seq_canal_venda") until Setup has the sales channel: the first thing a new store sees. It was
    explained as a SKU not published in Shopify yet."""
    error = MappingMissing(
        "setting",
        "seq_canal_venda",
        "configure the sales channel (seqCanalVenda) under Settings: orders wait for it",
    )
    message_id = message(shops.a, "orders", "order:1001", search=("#1001",), error=error)
    en = _explanation(client, message_id, "en")["explanation"]
    pt = _explanation(client, message_id, "pt-BR")["explanation"]
    for shown, setup in ((en, "Setup"), (pt, "Configuração")):
        said = f"{shown['what_happened']} {shown['what_to_do']}"
        assert "SKU" not in said and "catalog" not in said.lower(), shown
        assert "seqCanalVenda" in shown["what_happened"] and setup in shown["what_to_do"], shown
        assert shown["mapping"] is None  # no De:Para line to create


def test_an_order_waiting_for_payment_says_so_and_is_not_offered_as_a_stuck_retry(
    client, settings, shops, rq
):
    """jobs.orders leaves an unpaid order (a boleto, a Pix not paid yet) pending, saying why: it
    goes to the ERP by itself once Shopify marks it paid, and the orders catch-up reads it again
    meanwhile. Hours later it is not taken for a unit a lost job left pending (no Retry), and its
    detail says what it waits for instead of nothing."""
    from jobs.orders import _mark_waiting

    with session_scope(settings.database_url) as session:
        waiting = trace.begin(session, shops.a, "orders", "order:1001", "shopify_to_erp",
                              shopify_id="gid://shopify/Order/1001", search=["#1001"])  # fmt: skip
        _mark_waiting(waiting, "PENDING", "paid")
        waiting.updated_at = utcnow() - timedelta(hours=2)
        waiting_id = waiting.id
    pt = _explanation(client, waiting_id, "pt-BR")
    en = _explanation(client, waiting_id, "en")
    assert (pt["status"], pt["can_retry"], pt["can_replay"]) == ("pending", False, False)
    assert (
        "pagamento" in pt["explanation"]["title"].lower() and "pendente" in pt["explanation"]["what_happened"]
    )
    assert (
        en["explanation"]["title"] == "Waiting for payment"
        and "Nothing to do" in en["explanation"]["what_to_do"]
    )
    refused = client.post(f"/api/messages/{waiting_id}/retry", headers=headers(Role.OPERATOR))
    assert refused.status_code == 409 and queued(rq, "orders") == []


def test_a_partly_paid_order_waiting_for_the_rest_says_how_much_and_to_ask_the_buyer(client, settings, shops):
    """A gift card took R$ 5.00, the Pix for the other R$ 24.90 failed: Shopify says PARTIALLY_PAID,
    which the "authorized" setting would send, but nothing will pay the rest by itself. The detail
    says how much is not paid and that the buyer has to pay it (not "nothing to do")."""
    from jobs.orders import _mark_waiting

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])  # 10.00 + 19.90 shipping
    raw["displayFinancialStatus"] = "PARTIALLY_PAID"
    paid = ((1, "gift_card", "SUCCESS", "5.00"), (2, "Pix", "FAILURE", "24.90"))
    raw["transactions"] = [
        {"id": f"gid://shopify/OrderTransaction/{n}", "gateway": gateway, "kind": "SALE", "status": status,
         "amountSet": money_bag(Decimal(amount))}
        for n, gateway, status, amount in paid
    ]  # fmt: skip
    order = parse_erp_order(raw).order
    assert not order_map.is_ready(order, "authorized")
    with session_scope(settings.database_url) as session:
        waiting = trace.begin(session, shops.a, "orders", "order:1001", "shopify_to_erp",
                              shopify_id="gid://shopify/Order/1001", search=["#1001"])  # fmt: skip
        _mark_waiting(waiting, order.financial_status, "authorized", order)
        assert "24.90 is not paid" in waiting.error_text
        waiting_id = waiting.id
    pt = _explanation(client, waiting_id, "pt-BR")["explanation"]
    en = _explanation(client, waiting_id, "en")["explanation"]
    assert en["title"] == "Waiting for payment"
    assert "24.90 is not paid" in en["what_happened"] and "29.90" in en["what_happened"]
    assert "Ask the buyer to pay the rest" in en["what_to_do"] and "Nothing to do" not in en["what_to_do"]
    assert "R$ 24,90 não foi pago" in pt["what_happened"] and "pague o restante" in pt["what_to_do"]


def test_an_order_with_payment_terms_waiting_says_why_and_what_to_do(client, settings, shops):
    """B2B / draft order terms "due on fulfillment": Shopify took nothing at checkout and the payment
    falls due after the ERP fulfils it. "Nothing to do: it goes once paid" was a deadlock read as a
    normal wait; the detail names the terms and the merchant's ways on, in both languages."""
    import dataclasses

    from jobs.orders import _mark_waiting
    from shopify_app.admin_api.order_import_ops import PaymentTerms

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["displayFinancialStatus"], raw["transactions"], raw["paymentGatewayNames"] = "PENDING", [], []
    terms = PaymentTerms("FULFILLMENT")  # read apart (OrderPaymentTerms) for a waiting order
    read = dataclasses.replace(parse_erp_order(raw), payment_terms=terms)
    with session_scope(settings.database_url) as session:
        waiting = trace.begin(session, shops.a, "orders", "order:1001", "shopify_to_erp",
                              shopify_id="gid://shopify/Order/1001", search=["#1001"])  # fmt: skip
        _mark_waiting(waiting, "PENDING", "paid", read.order, read)
        assert "payment terms (FULFILLMENT" in waiting.error_text
        waiting_id = waiting.id
    pt = _explanation(client, waiting_id, "pt-BR")["explanation"]
    en = _explanation(client, waiting_id, "en")["explanation"]
    assert en["title"] == "Waiting for payment" and "Nothing to do" not in en["what_to_do"]
    assert "payment terms (FULFILLMENT" in en["what_happened"]
    assert "cannot be paid first" in en["what_happened"] and "mark the order as paid" in en["what_to_do"]
    assert "prazo de pagamento (FULFILLMENT" in pt["what_happened"]
    assert "marque o pedido como pago" in pt["what_to_do"]


def test_an_order_paid_by_a_manual_method_waiting_names_the_pay_on_delivery_setting(client, settings, shops):
    """Cash on delivery: Shopify leaves the order PENDING with a pending sale of a manual method.
    "Nothing to do: it goes once paid" never comes true when the driver collects the money; the
    message and its detail name the method and the setting pay_on_delivery_gateways that sends it."""
    from jobs.orders import _mark_waiting

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["displayFinancialStatus"], raw["paymentGatewayNames"] = "PENDING", ["Pagamento na entrega"]
    raw["transactions"] = [
        {"id": "gid://shopify/OrderTransaction/1", "gateway": "Pagamento na entrega", "kind": "SALE",
         "status": "PENDING", "manualPaymentGateway": True, "amountSet": money_bag(Decimal("29.90"))}
    ]  # fmt: skip
    order = parse_erp_order(raw).order
    with session_scope(settings.database_url) as session:
        waiting = trace.begin(session, shops.a, "orders", "order:1001", "shopify_to_erp",
                              shopify_id="gid://shopify/Order/1001", search=["#1001"])  # fmt: skip
        _mark_waiting(waiting, "PENDING", "paid", order)
        assert "'Pagamento na entrega' is a manual payment method" in waiting.error_text
        assert "pay_on_delivery_gateways" in waiting.error_text
        waiting_id = waiting.id
    pt = _explanation(client, waiting_id, "pt-BR")["explanation"]
    en = _explanation(client, waiting_id, "en")["explanation"]
    assert en["title"] == "Waiting for payment" and "Nothing to do" not in en["what_to_do"]
    assert "Pagamento na entrega, a manual payment method" in en["what_happened"]
    assert (
        "pay_on_delivery_gateways" in en["what_to_do"]
        and "Formas de pagamento na entrega" in pt["what_to_do"]
    )


def test_an_order_parked_on_no_payment_recorded_says_what_the_code_means(client, shops, message):
    """Parked on payment_method "(no payment)" (jobs.order_map.map_payments): "there is no payment
    method mapping for (no payment)" alone tells the merchant nothing; the detail says Shopify
    recorded no payment and which line to create, keeping the De:Para link."""
    from ledger.mappings import NO_PAYMENT

    error = MappingMissing("payment_method", NO_PAYMENT, "order #1001: Shopify recorded no payment")
    message_id = message(shops.a, "orders", "order:1001", search=("#1001",), error=error)
    en = _explanation(client, message_id, "en")["explanation"]
    pt = _explanation(client, message_id, "pt-BR")["explanation"]
    assert en["mapping"] == {"kind": "payment_method", "code": NO_PAYMENT, "side": "shopify"}
    assert "recorded no payment" in en["what_happened"] and f"“{NO_PAYMENT}”" in en["what_to_do"]
    assert "não registrou nenhum pagamento" in pt["what_happened"] and f"“{NO_PAYMENT}”" in pt["what_to_do"]


def test_retry_failed_of_prices_does_not_confirm_the_held_unlisted_skus(client, shops, message, rq):
    """The held "price:unlisted" message's Retry means "a person checked these SKUs: take them off
    sale"; the flow's one-click "Retry failed" leaves it out (it confirmed hundreds unseen)."""
    from jobs import price_unlisted
    from ledger.errors import Rejected

    unpriced = message(
        shops.a, "prices", "price:10:10-1", error=Rejected("no price (0)", system="consinco", code="NO_PRICE")
    )
    with session_scope() as session:  # a pass held 300 SKUs missing from the moved pair's full read
        price_unlisted._hold(session, shops.a, [f"{n}-1" for n in range(300)], 400, 1, 2, None, "many")
    response = client.post("/api/messages/retry-failed?flow=prices", headers=headers(Role.OPERATOR))
    assert response.status_code == 202
    # only the unpriced SKU's message; the held one needs its own, deliberate Retry
    assert response.get_json()["message_ids"] == [unpriced], response.get_json()


def test_retry_failed_of_skus_does_not_confirm_the_held_unlisted_packagings(client, shops, message, rq):
    """The full sync's held "catalog:unlisted" message's Retry means "a person checked these
    packagings: retire them"; the SKUs flow's "Retry failed" leaves it out, and the message is
    explained as the catalog's, not as the prices flow's."""
    from jobs import catalog_unlisted
    from ledger.errors import Rejected

    refused = message(
        shops.a, "skus", "product:10", error=Rejected("Barcode is invalid", system="shopify", code="INVALID")
    )
    gone = {seq: [f"P{seq}E1", f"P{seq}E6"] for seq in range(1, 101)}
    held = catalog_unlisted._hold(shops.a, gone, [1, 2], 250, None, "that is 80% of the 250 packagings")
    with session_scope() as session:  # a full sync held 200 packagings missing from its read
        held(session)
        held_id = session.scalars(select(Message.id).where(Message.unit_key == catalog_unlisted.UNIT)).one()
    response = client.post("/api/messages/retry-failed?flow=skus", headers=headers(Role.OPERATOR))
    assert response.status_code == 202
    assert response.get_json()["message_ids"] == [refused], response.get_json()
    en = _explanation(client, held_id, "en")["explanation"]
    assert en["code"] == "UNLISTED_PACKAGINGS_HELD" and "full catalog sync" in en["what_happened"]
    assert "P1E1 of product 1" in en["system_message"] and "Retry" in en["what_to_do"]


def test_only_the_replay_of_a_done_prices_message_asks_for_the_erp_price_back(client, shops, message, rq):
    """The prices flow's Replay (a person asking for the ERP's price over one set by hand) says so
    on its job; its Retry, "Retry failed" and other flows' replays do not."""
    done = message(shops.a, "prices", "price:4", done=True)
    failed = message(shops.a, "prices", "price:5", error=Rejected("no", system="shopify"))
    other = message(shops.a, "skus", "s-1", done=True)
    for path in (f"{done}/replay", f"{failed}/retry", f"{other}/replay", "retry-failed?flow=prices"):
        assert client.post(f"/api/messages/{path}", headers=headers(Role.OPERATOR)).status_code == 202
    jobs = {j.args[0]: j for name in ("prices", "catalog") for j in Queue(name, connection=rq).get_jobs()}
    assert jobs[done].func_name == "jobs.prices.replay" and jobs[done].kwargs == {"erp_price_back": True}
    assert jobs[failed].kwargs == {} and jobs[other].kwargs == {}


def test_retry_failed_stopped_by_redis_midway_audits_what_it_enqueued(
    client, settings, shops, message, rq, monkeypatch
):
    """Redis lost on the third enqueue: the two replays enqueued before stay queued, and the audit
    says so (the 503 rolled it back), with where it stopped; the answer is Redis unreachable."""
    import redis

    from shopify_app import api_messages

    ids = [
        message(shops.a, "prices", f"price:{n}", error=Rejected("no", system="consinco")) for n in range(5)
    ]
    real, calls = api_messages.enqueue_replay, []

    def flaky(msg, conn, **kwargs):
        calls.append(msg.id)
        if len(calls) == 3:
            raise redis.exceptions.ConnectionError("Redis went away")
        return real(msg, conn, **kwargs)

    monkeypatch.setattr(api_messages, "enqueue_replay", flaky)
    answer = client.post("/api/messages/retry-failed?flow=prices", headers=headers(Role.OPERATOR))
    assert answer.status_code == 503
    assert len([job for job in queued(rq, "catalog") if job[0] == "jobs.prices.replay"]) == 2
    with session_scope(settings.database_url) as session:
        [audit] = session.query(AuditEvent).filter(AuditEvent.action == "message.retry_failed").all()
        assert audit.after == {"enqueued": 2, "message_ids": ids[:2], "stopped": "Redis unreachable"}
