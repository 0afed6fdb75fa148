"""A reconciliation report's explanations (each row's `why`, a closed store's `note`, a row's
`sent_again` and `fix`) and a stock batch's above-ceiling note are said on the message's page in
the request's language: the jobs keep the English text and beside it its words
(shopify_app.reconcile_words, shopify_app.stock_words). A report stored before the words, or words
under a key the catalogue lacks, reads as the English; the stored message keeps what the job wrote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from jobs import reconcile, stock_writer
from jobs.reconcile_prices import Expected, price_differs
from jobs.stock_map import SkuUnit
from ledger import handled, trace
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Role, utcnow
from ledger.words import beside
from shopify_app.admin_api.order_settlement import OrderTotal

from .conftest import headers

ORDER = "gid://shopify/Order/7001"


def _never_sent() -> dict[str, Any]:
    """The row the job writes for a linked order the ERP never received."""
    link = SimpleNamespace(shopify_order_id=ORDER, shopify_order_name="#1002", nro_pedvenda=None,
                           created_at=utcnow() - timedelta(hours=3))  # fmt: skip
    shop = OrderTotal(id=ORDER, name="#1002", created_at=None, updated_at="2026-11-28T00:00:00Z",
                      cancelled_at=None, financial_status="PAID", current_total=Decimal("10.00"),
                      tips=Decimal(0))  # fmt: skip
    findings: dict = {
        k: [] for k in ("missing_in_shopify", "missing_in_erp", "status_differs", "totals_differ")
    }
    reconcile._compare(link, shop, SimpleNamespace(order=lambda _id: shop), None, findings)  # type: ignore[arg-type]
    [row] = findings["missing_in_erp"]
    return row


def _heavier() -> dict[str, Any]:
    line = SimpleNamespace(weighed=True, is_substitute=False, id_sku="PES-1", seq_produto=9,
                           qty_ordered=Decimal("2.000"), qty_served=Decimal("2.370"),
                           total_ordered=Decimal("20.00"), total_served=Decimal("23.70"))  # fmt: skip
    row = {"order": "gid://shopify/Order/7002", "name": "#1003", "shopify": "20.00", "erp": "23.70"}
    return row | reconcile._heavier(SimpleNamespace(lines=[line]), Decimal("3.70"))


def _edited() -> dict[str, Any]:
    row = {
        "sku": "P5E1",
        "product": "gid://shopify/Product/5",
        **beside("why", *reconcile.NOT_FOR_SALE_IN_SHOPIFY),
    }
    reconcile._edited_row(row, 5, ["title", "sku of P5E1"])
    return row


def _held(detail: dict[str, Any], status: str, why: str) -> dict[str, Any]:
    order = OrderTotal(id="gid://shopify/Order/7003", name="#1004", created_at=None, updated_at="",
                       cancelled_at=None, financial_status="PENDING", current_total=None)  # fmt: skip
    return reconcile._held_row(order, status, why, detail)


def report() -> dict[str, Any]:
    """A report as the job writes it, its rows built by the job's own code."""
    by_hand = {handled.KEY: {"note": "entered in the ERP by hand", "by": "1"}}
    skipped = {trace.SKIP: {"key": "order_test", "params": {}}}
    return {
        "summary": {"errors": []},
        "orders": {
            "missing_in_erp": [_never_sent()],
            "totals_differ": [_heavier()],
            "held_in_app": [
                _held(
                    by_hand,
                    MessageStatus.SKIPPED.value,
                    "handled outside the app: entered in the ERP by hand",
                ),
                _held(
                    skipped,
                    MessageStatus.SKIPPED.value,
                    "A Shopify test order (a payment provider in test mode): not sent to the ERP",
                ),
                _held(
                    {"waiting": "payment", "financial_status": "PENDING"},
                    MessageStatus.PENDING.value,
                    "Waiting for payment: Shopify says PENDING; orders go to the ERP once paid",
                ),
                _held(
                    {},
                    MessageStatus.PARKED.value,
                    "order #1004: payment gateway 'Pix' has no ERP payment form",
                ),
            ],
        },
        "stock": {"locations": [reconcile._closed_store(3, "gid://shopify/Location/1")]},
        "catalog": {
            "orphan_bindings": [{"sku": "P6E1", **beside("why", *reconcile.NOT_IN_ERP)}],
            "shopify_differs": [_edited()],
            "prices_differ": [
                price_differs(
                    "P7E1",
                    "gid://shopify/ProductVariant/7",
                    Expected(Decimal("12.90"), Decimal("14.90"), "price:7"),
                    "1234.50",
                    None,
                ),
            ],
        },
    }


def _stored(settings, shop_id: int, flow: str, unit: str, response: dict[str, Any]) -> int:
    with session_scope(settings.database_url) as session:
        message = trace.begin(session, shop_id, flow, unit, "both")
        trace.succeed(session, message, response=response)
        return message.id


def _seen(client, message_id: int, locale: str, role: Role = Role.ADMIN) -> dict[str, Any]:
    answer = client.get(f"/api/messages/{message_id}?locale={locale}", headers=headers(role))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["response_payload"]


def test_a_reports_explanations_are_said_in_the_requests_language(client, settings, shops):
    stored = report()
    message_id = _stored(settings, shops.a, "reconcile", "report:2026-11-28", stored)
    pt, en = _seen(client, message_id, "pt-BR"), _seen(client, message_id, "en")

    assert pt["orders"]["missing_in_erp"][0]["why"] == "nunca enviado ao ERP (veja o fluxo de pedidos)"
    assert en["orders"]["missing_in_erp"][0]["why"] == "never sent to the ERP (see the orders flow)"
    assert pt["orders"]["totals_differ"][0]["why"] == (
        "item(ns) pesável(is) separado(s) com mais peso (PES-1 de 2,000 kg para 2,370 kg): o ERP cobra "
        "R$ 3,70 a mais; como previsto, a Shopify mantém o preço, sem cobrar acima do que foi autorizado"
    )
    assert en["orders"]["totals_differ"][0]["why"] == (
        "weighed item(s) picked heavier (PES-1 2.000 kg -> 2.370 kg): the ERP charges 3.70 more; by design "
        "Shopify keeps its price, not charged above what was authorised"
    )
    assert [row["why"] for row in pt["orders"]["held_in_app"]] == [
        "resolvida fora do app: entered in the ERP by hand",
        "Pedido de teste da Shopify (provedor de pagamento em modo de teste): não enviado ao ERP",
        "aguardando pagamento: a Shopify diz pendente",  # the status in words, not its code
        "order #1004: payment gateway 'Pix' has no ERP payment form",  # a failure's own text, as written
    ]
    assert en["orders"]["held_in_app"][2]["why"] == "waiting for payment: Shopify says pending"
    [closed] = pt["stock"]["locations"]
    assert closed["note"].startswith("a empresa 3 está inativa no ERP: o fluxo de estoque zera")
    assert en["stock"]["locations"][0]["note"] == stored["stock"]["locations"][0]["note"]
    assert pt["catalog"]["orphan_bindings"][0]["why"] == "não está no ERP"
    [edited] = pt["catalog"]["shopify_differs"]
    assert (
        edited["why"]
        == "fora de venda na Shopify enquanto o ERP o vende; editado na Shopify: título, SKU de P5E1"
    )
    assert edited["sent_again"] == "os valores do ERP são enviados de novo pela próxima passagem de produtos"
    assert en["catalog"]["shopify_differs"][0]["why"] == (
        "not for sale in Shopify while the ERP sells it; edited in Shopify: title, sku of P5E1"
    )
    [price] = pt["catalog"]["prices_differ"]
    assert price["why"] == (
        "preço na Shopify R$ 1.234,50, no ERP R$ 12,90; preço comparativo na Shopify nenhum, no ERP R$ 14,90 "
        "(há uma promoção em vigor no ERP)"
    )
    assert price["fix"].startswith("Reenvie (Replay) a mensagem de preços price:7")
    # English reads as the job wrote it, word for word
    worded = [("orders", "missing_in_erp"), ("orders", "totals_differ"), ("catalog", "orphan_bindings"),
              ("catalog", "shopify_differs"), ("catalog", "prices_differ")]  # fmt: skip
    for section, key in worded:
        assert [r["why"] for r in en[section][key]] == [r["why"] for r in stored[section][key]], key
    assert en["catalog"]["prices_differ"][0]["fix"] == stored["catalog"]["prices_differ"][0]["fix"]
    assert en["catalog"]["shopify_differs"][0]["sent_again"] == reconcile.SENT_AGAIN
    with session_scope(settings.database_url) as session:  # the message keeps what the job wrote
        assert session.get(Message, message_id).response_payload == stored


def test_a_report_stored_before_the_words_reads_as_written(client, settings, shops):
    """No words (an older report), or words under a key the catalogue lacks: the English."""
    old = {
        "summary": {"errors": []},
        "orders": {
            "missing_in_erp": [{"order": ORDER, "why": "never sent to the ERP (see the orders flow)"}]
        },
        "stock": {
            "locations": [{"nro_empresa": 3, "closed": True, "note": "company 3 is inactive in the ERP"}]
        },
        "catalog": {
            "orphan_bindings": [{"sku": "P6E1", **beside("why", "a key since retired", ("no_such_key", {}))}]
        },
    }
    message_id = _stored(settings, shops.a, "reconcile", "report:2026-11-27", old)
    for locale in ("pt-BR", "en"):
        seen = _seen(client, message_id, locale)
        assert seen["orders"]["missing_in_erp"][0]["why"] == "never sent to the ERP (see the orders flow)"
        assert seen["stock"]["locations"][0]["note"] == "company 3 is inactive in the ERP"
        assert seen["catalog"]["orphan_bindings"][0]["why"] == "a key since retired"
        assert seen == old


def test_a_viewer_reads_the_said_explanations_masked(client, settings, shops):
    """A person's note said in pt-BR is masked below admin as the English is."""
    by_hand = {handled.KEY: {"note": "CPF 529.982.247-25 entered by hand"}}
    row = _held(
        by_hand, MessageStatus.SKIPPED.value, "handled outside the app: CPF 529.982.247-25 entered by hand"
    )
    message_id = _stored(settings, shops.a, "reconcile", "report:2026-11-26",
                         {"summary": {"errors": []}, "orders": {"held_in_app": [row]}})  # fmt: skip
    why = _seen(client, message_id, "pt-BR", Role.VIEWER)["orders"]["held_in_app"][0]["why"]
    assert why.startswith("resolvida fora do app: CPF") and "529.982.247-25" not in why, why
    assert "529.982.247-25" in _seen(client, message_id, "pt-BR")["orders"]["held_in_app"][0]["why"]


def test_a_stock_batchs_above_ceiling_note_is_said_in_the_requests_language(client, settings, shops):
    unit = SkuUnit(id_sku="ARZ-5", seq_produto=5, qtd_embalagem=Decimal(1))
    entries = [
        SimpleNamespace(id_sku="ARZ-5", base=Decimal("1500000000.000"), unit=unit),
        SimpleNamespace(id_sku="ARZ-6", base=Decimal("12"), unit=unit),
    ]
    response = {
        "levels": {"ARZ-5": 1_000_000_000},
        **stock_writer.above_ceiling_note(1, entries, {"ARZ-5": 10**9}),
    }
    message_id = _stored(settings, shops.a, "stock", "stock:1:batch", response)
    pt, en = _seen(client, message_id, "pt-BR"), _seen(client, message_id, "en")
    assert pt["note"] == (
        "Estoque do ERP acima do teto da Shopify de 1.000.000.000 unidades por nível, enviado no teto (menos "
        "as unidades que pedidos comprometeram lá): ARZ-5 (no ERP 1.500.000.000)"
    )
    assert (
        en["note"]
        == response["note"]
        == (
            "ERP stock above Shopify's ceiling of 1,000,000,000 units per level, sent at the ceiling (less "
            "the units orders committed there): ARZ-5 (ERP 1500000000)"
        )
    )
    old = {"levels": {"ARZ-5": 10**9}, "note": "an older note"}
    assert _seen(client, _stored(settings, shops.a, "stock", "stock:1:old", old), "pt-BR") == old


def test_a_section_that_could_not_be_read_says_its_error_in_the_requests_language(client, settings, shops):
    """A section whose read failed (jobs.reconcile._section) keeps its error, shown on the report:
    said with the failure's words in pt-BR (the ERP unreachable), or its message as it came."""
    from ledger.errors import Rejected, Transient

    def down() -> dict[str, Any]:
        raise Transient("Consinco unreachable at /pedido (timeout)").worded(
            "erp_unreachable", endpoint="/pedido", error="timeout"
        )

    def refused() -> dict[str, Any]:
        raise Rejected("Acesso negado ao estoque.", system="consinco")

    response = {"orders": reconcile._section(down), "stock": reconcile._section(refused)}
    assert response["orders"]["error"] == "Transient: Consinco unreachable at /pedido (timeout)"
    message_id = _stored(settings, shops.a, "reconcile", "report:section-error", response)
    pt = _seen(client, message_id, "pt-BR")
    assert pt["orders"]["error"] == (
        "não pôde ser lida agora e é tentada de novo: O ERP (Consinco) não respondeu em /pedido (timeout), "
        "nem depois das novas tentativas: ele está fora do ar ou inacessível daqui"
    )
    assert pt["stock"]["error"] == "não pôde ser lida: Acesso negado ao estoque."
    en = _seen(client, message_id, "en")
    assert en["stock"]["error"] == "could not be read: Acesso negado ao estoque."
    assert "Transient" not in pt["orders"]["error"] and "unreachable" not in pt["orders"]["error"]


def test_a_held_order_that_will_not_be_paid_says_its_status_in_words(client, settings, shops):
    """An order skipped as unpaid (jobs.orders 'order_will_not_be_paid', its status as Shopify's
    code) is held in the report: its row says the status in words, as the waiting row does."""
    skipped = {trace.SKIP: {"key": "order_will_not_be_paid", "params": {"status": "EXPIRED"}}}
    row = _held(skipped, MessageStatus.SKIPPED.value, "Shopify says EXPIRED: this order will not be paid")
    message_id = _stored(settings, shops.a, "reconcile", "report:2026-11-29",
                         {"summary": {"errors": []}, "orders": {"held_in_app": [row]}})  # fmt: skip
    pt = _seen(client, message_id, "pt-BR")["orders"]["held_in_app"][0]["why"]
    en = _seen(client, message_id, "en")["orders"]["held_in_app"][0]["why"]
    assert "EXPIRED" not in pt and "expirado" in pt, pt
    assert en.startswith("Shopify shows the payment as expired: "), en
