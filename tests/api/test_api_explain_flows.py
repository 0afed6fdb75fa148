"""What the merchant reads when something fails, as the Messages API gives it: the words follow the
unit's flow and what the app knows of the failure, not only the error's code (a cancellation refused
at picking is not an edit refused; a market's price list is not the store's own price; a refused
ERP login is one whatever the login endpoint's codigo; a unit whose job was lost is interrupted,
not pending)."""

from __future__ import annotations

from datetime import timedelta

from erp.errors import ErpAuthError, ErpRejected
from ledger import trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, Role, utcnow

from .conftest import headers, queued


def _detail(client, message_id: int, locale: str = "en") -> dict:
    reply = client.get(f"/api/messages/{message_id}?locale={locale}", headers=headers(Role.OPERATOR))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def _said(explanation: dict) -> str:
    return f"{explanation['what_happened']} {explanation['what_to_do']}"


def test_a_market_price_list_without_a_price_is_not_explained_as_the_store_sku_off_sale(
    client, shops, settings
):
    """jobs.price_lists._explain_unpriced: a market's (company, segment) pair has no price for a SKU.
    The SKU is not off sale, its market shows the base price, and the pair is the market's."""
    from jobs import price_unpriced

    where = (
        "not sent to price list gid://shopify/PriceList/9 (a fixed price it had there is removed): "
        "the market shows the base price for it"
    )
    with session_scope(settings.database_url) as session:
        price_unpriced.explain(session, shops.a, "pricelist:77:sku:789-1", "789-1", 7, 3, where=where,
                               market="gid://shopify/Market/77")  # fmt: skip
        listed = trace.search(session, shops.a, flow="prices")[0].id
        price_unpriced.explain(session, shops.a, price_unpriced.store_unit(12, "12-1"), "12-1", 1, 1,
                               where="it is off sale")  # fmt: skip
        store = next(m.id for m in trace.search(session, shops.a, flow="prices") if m.id != listed)
    words = (("en", "company 7, segment 3", "base price"), ("pt-BR", "empresa 7, segmento 3", "preço base"))
    for locale, pair, base in words:
        shown = _detail(client, listed, locale)
        said = _said(shown["explanation"])
        assert shown["error_detail"]["code"] == "LIST_NO_PRICE"
        assert pair in said and base in said, said
        assert "store" not in said.lower() and "loja" not in said.lower(), said
        assert "off sale" not in said and "fora de venda" not in said, said
    # The store's own pair keeps its words: the SKU is off sale there.
    assert "off sale" in _detail(client, store)["explanation"]["what_happened"]


def test_a_refused_erp_login_is_explained_as_a_login_whatever_its_codigo(client, shops, message):
    """erp.transport: a wrong ERP password raises ErpAuthError with the login endpoint's own codigo
    (CREDENCIAIS_INVALIDAS in the sandbox, anything in production); the explanation sends the
    merchant to Setup's user and password, never to "fix the data"."""
    for codigo in ("CREDENCIAIS_INVALIDAS", "E401", None):
        refused = ErpAuthError("Consinco refused the login for user 'integ': Usuário ou senha inválidos.",
                               codigo=codigo, status=401, endpoint="login")  # fmt: skip
        mid = message(shops.a, "orders", f"order:{codigo}", search=("#1001",), error=refused)
        for locale, where in (
            ("en", "Setup > ERP connection"),
            ("pt-BR", "Configuração > Conexão com o ERP"),
        ):
            shown = _detail(client, mid, locale)
            assert shown["error_detail"]["auth"] is True
            assert where in shown["explanation"]["what_to_do"], (codigo, shown["explanation"])
            assert shown["explanation"]["title"] in ("ERP login refused", "Login no ERP recusado")
    # Another refusal of the ERP is not a login.
    other = message(
        shops.a, "orders", "order:2", error=ErpRejected("Produto inativo", codigo="X", status=422)
    )
    assert "Setup" not in _detail(client, other)["explanation"]["what_to_do"]


def test_saving_the_erp_connection_retries_the_messages_its_login_refused(client, shops, message, rq):
    """Every order of the hours the password was wrong failed on the login: saving the fixed
    connection retries them (once per attempt: saving twice enqueues each once), not others."""
    refused = [
        message(shops.a, "orders", f"order:{n}", error=ErpAuthError("login refused", codigo="C", status=401))
        for n in range(2)
    ]
    edit = message(shops.a, "order_edits", "edit:1", error=ErpAuthError("login refused", status=401))
    message(shops.a, "orders", "order:9", error=ErpRejected("Produto inativo", codigo="X", status=422))
    message(shops.b, "orders", "order:b", error=ErpAuthError("login refused", status=401))
    body = {"base_url": "http://erp.example.test", "username": "u", "password": "fixed"}
    saved = client.put("/api/setup/erp-connection", json=body, headers=headers())
    assert saved.status_code == 200 and saved.get_json()["retried"] == 3
    assert sorted(queued(rq, "orders")) == sorted(
        [("jobs.orders.replay", (m,)) for m in refused] + [("jobs.order_edits.replay", (edit,))]
    )
    again = client.put("/api/setup/erp-connection", json={**body, "password": ""}, headers=headers())
    assert again.get_json()["retried"] == 3  # still failed: the same jobs, not enqueued twice
    assert len(queued(rq, "orders")) == 3


def test_a_cancellation_refused_at_picking_is_not_explained_as_an_edit(client, shops, message):
    """jobs.cancellations.to_erp._refused: the ERP refuses to cancel an order being picked, with
    the same codigo as an edit refused at picking. The order is cancelled in Shopify and live in the
    ERP: cancel it in the ERP, not "undo the edit in Shopify"."""
    refused = ErpRejected("Pedido 555 em separação: não pode ser cancelado.", codigo="PEDIDO_EM_SEPARACAO",
                          status=409, endpoint="PedidoVenda/{nro}/Cancelamento")  # fmt: skip
    cancel = message(shops.a, "cancellations", "cancel:1", search=("#1001",), error=refused)
    for locale, edit, cancel_word in (("en", "edit", "cancel"), ("pt-BR", "edição", "cancele")):
        said = _said(_detail(client, cancel, locale)["explanation"])
        assert edit not in said.lower() and cancel_word in said.lower(), said
    edit = message(shops.a, "order_edits", "edit:1", error=refused)
    assert "edit" in _said(_detail(client, edit)["explanation"])  # an edit keeps its own words


def test_a_cancellation_of_an_order_not_found_in_the_erp_does_not_say_resend_it(client, shops, message):
    """The order is linked to an ERP number the ERP does not know: resending it would make a new
    ERP order for a sale that is off."""
    gone = ErpRejected("Pedido 555 não encontrado.", codigo="PEDIDO_NAO_ENCONTRADO", status=404)
    for flow in ("cancellations", "order_edits"):
        said = _said(_detail(client, message(shops.a, flow, f"{flow}:1", error=gone))["explanation"])
        assert "resend" not in said.lower() and "NROPEDVENDA" in said, (flow, said)


def test_a_cancellation_refused_for_another_reason_says_the_erp_order_is_live(client, shops, message):
    refused = ErpRejected("Pedido em carga 12: cancele a carga antes.", codigo="PEDIDO_EM_CARGA", status=422)
    said = _said(_detail(client, message(shops.a, "cancellations", "cancel:2", error=refused))["explanation"])
    assert "still live" in said and "Cancel the order in the ERP" in said, said


def test_a_stuck_pending_unit_is_flagged_explained_and_counted(client, shops, message, settings):
    """trace.is_stale: a unit begun and left pending (its worker killed) is redone by nothing; the
    Messages list flags it, its detail explains it and offers Retry, and the dashboard counts it."""
    stuck = message(shops.a, "stock", "stock:4:batch-1")
    running = message(shops.a, "stock", "stock:4:batch-2")
    with session_scope(settings.database_url) as session:
        session.get(Message, stuck).updated_at = utcnow() - timedelta(hours=2)
    shown = _detail(client, stuck)
    assert (shown["status"], shown["stuck"], shown["can_retry"]) == ("pending", True, True)
    assert shown["explanation"]["title"] == "Interrupted" and "Retry" in shown["explanation"]["what_to_do"]
    assert _detail(client, stuck, "pt-BR")["explanation"]["title"] == "Interrompida"
    fresh = _detail(client, running)
    assert (fresh["stuck"], fresh["explanation"]) == (False, None)
    listed = client.get("/api/messages?flow=stock", headers=headers(Role.VIEWER)).get_json()["messages"]
    assert {m["id"]: m["stuck"] for m in listed} == {stuck: True, running: False}
    rows = {
        row["name"]: row for row in client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["flows"]
    }
    assert rows["stock"]["counts_24h"]["stuck"] == 1 and rows["orders"]["counts_24h"]["stuck"] == 0


def test_a_stale_unit_whose_job_rq_still_holds_is_not_counted_stuck(client, shops, settings, rq):
    """A catalog load's units stay pending while its bulk operation runs for hours: not lost."""
    from rq import Queue

    with session_scope(settings.database_url) as session:
        for n in range(3):
            unit = trace.begin(
                session, shops.a, "products", f"product:{n}", "erp_to_shopify", job_id="load-1"
            )
            unit.updated_at = utcnow() - timedelta(hours=3)
    job = Queue("catalog", connection=rq).enqueue("jobs.products.run", shops.a, job_id="load-1")
    rows = {
        row["name"]: row for row in client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["flows"]
    }
    assert rows["products"]["counts_24h"]["stuck"] == 0
    job.delete()
    rows = {
        row["name"]: row for row in client.get("/api/flows", headers=headers(Role.VIEWER)).get_json()["flows"]
    }
    assert rows["products"]["counts_24h"]["stuck"] == 3


def test_an_unreadable_erp_record_and_an_app_refusal_are_not_titled_refused_by_the_target(
    client, shops, message
):
    from erp.errors import ErpUnexpectedShape
    from erp.names import NAMES
    from jobs import catalog_malformed

    shape = ErpUnexpectedShape("ProdutoSku", "qtdEmbalagem", "is not a number", "x")
    unreadable = catalog_malformed.describe("skus", {"idSku": "12-1", "seqProduto": 12}, shape, NAMES)
    mid = message(shops.a, "skus", unreadable.unit_key, error=unreadable.error)
    shown = _detail(client, mid)["explanation"]
    assert shown["title"] == "ERP record the app cannot read" and "Consinco" in shown["what_to_do"], shown
    app = message(
        shops.a, "orders", "order:3", error=Rejected("held: totals", system="app", code="SOMETHING_NEW")
    )
    assert _detail(client, app)["explanation"]["title"] == "Stopped by the integration"


def test_a_product_sent_without_a_wrong_ean_as_its_barcode_says_which_sku_to_correct():
    """Done, yet explained: the product went without the barcode of a SKU whose ERP code is no
    GTIN (jobs.catalog_map.barcode_problem), and that note is how the merchant hears of it. A
    weighed item's scale code is named too, with nothing to correct."""
    from shopify_app.api_explain import explain

    wrong = {"id_sku": "P1E1", "ean": "7891234567890", "why": "check_digit"}
    plu = {"id_sku": "P2E1", "ean": "1234", "why": "scale_code"}
    done = Message(
        flow="skus", unit_key="product:1", status="done", request_payload={"barcodes_not_sent": [wrong]}
    )
    said = explain(done, "en")
    assert said is not None and said["title"] == "Sent without a barcode" and said["code"] == "EAN_INVALID"
    assert "P1E1 (7891234567890: wrong check digit)" in said["what_happened"]
    assert "Correct the EAN in the ERP" in said["what_to_do"]
    assert "dígito verificador errado" in explain(done, "pt-BR")["what_happened"]
    scale = Message(
        flow="products", unit_key="product:2", status="done", request_payload={"barcodes_not_sent": [plu]}
    )
    assert (
        explain(scale, "en")["what_to_do"].startswith("Nothing to do")
        and explain(scale, "en")["code"] is None
    )
    plain = Message(flow="skus", unit_key="product:3", status="done", request_payload={"skus": []})
    assert explain(plain, "en") is None
