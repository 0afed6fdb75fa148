"""A refusal of the app's own check is told as the app's on the Messages page: not "refused by the
target system" nor "what Shopify said" when Shopify accepted the order and nothing reached the ERP;
its text keeps the data (companies, lines), the instructions being the explanation's, in the page's
language. The API's order notes give the flow apart from the text, for the page to name it."""

from __future__ import annotations

from decimal import Decimal

from api.conftest import headers
from jobs.order_customer import InvalidTaxId
from jobs.order_lookup import refuse_several_companies
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import OrderLink, Role


class _Line:
    def __init__(self, sku: str, name: str) -> None:
        self.sku, self.name = sku, name


class _Shipping:
    def __init__(self, nro: int, where: str, sku: str, name: str) -> None:
        self.nro_empresa, self.location_id, self.location_name = nro, f"gid://shopify/Location/{nro}", where
        self.lines = [(_Line(sku, name), 1)]


class _Order:
    name = "#1008"


def _explained(client, message, shop: int, error: BaseException, locale: str = "pt-BR") -> dict:
    mid = message(shop, "orders", "order:46159", shopify_id="gid://shopify/Order/46159", error=error)
    answer = client.get(f"/api/messages/{mid}?locale={locale}", headers=headers(Role.ADMIN))
    return answer.get_json()["explanation"]


def _several_companies() -> Rejected:
    shipping = [_Shipping(1, "Loja Centro", "P39E1", "PAPEL"), _Shipping(3, "CD", "P16E1", "PRESUNTO")]
    try:
        refuse_several_companies(_Order(), shipping)  # type: ignore[arg-type]
    except Rejected as refused:
        return refused
    raise AssertionError("two companies were not refused")


def test_an_order_shipping_from_several_companies_is_stopped_by_the_app_and_names_only_the_data(
    client, shops, message
):
    refused = _several_companies()
    assert refused.system == "app"
    assert "P39E1 (PAPEL) x1" in refused.message and "company 3 (location CD)" in refused.message
    assert "Retry" not in refused.message and "Change location" not in refused.message
    told = _explained(client, message, shops.a, refused)
    assert told["title"] == "Parado pela integração" and told["system"] == "app"
    assert "Alterar local" in told["what_to_do"]


def test_an_invalid_tax_id_is_the_apps_check_not_shopifys(client, shops, message):
    refused = InvalidTaxId("11111111111", "a CPF made of one repeated digit is not valid")
    assert refused.system == "app"
    told = _explained(client, message, shops.a, refused)
    assert told["system"] == "app" and told["title"] != "Recusado pelo sistema de destino"


def test_a_message_recorded_with_the_old_system_still_reads_as_the_apps_check(client, shops, message):
    old = Rejected("order #1008 ships from 2 ERP companies: ...", system="ledger", code="MULTI_COMPANY")
    told = _explained(client, message, shops.a, old, "en")
    assert told["system"] == "app" and told["title"] == "Stopped by the integration"


def test_order_notes_give_the_flow_apart_from_the_text(client, settings, shops, message):
    """The page labels the flow in its language; the text comes without the "orders: " prefix."""
    with session_scope(settings.database_url) as session:
        link = OrderLink(
            shop_id=shops.a,
            shopify_order_id="gid://shopify/Order/46159",
            shopify_order_name="#1008",
            nro_empresa=1,
            total=Decimal("10"),
            currency="BRL",
        )
        session.add(link)
        session.flush()
        order_id = link.id
    message(
        shops.a, "orders", "order:46159", shopify_id="gid://shopify/Order/46159", error=_several_companies()
    )
    for locale, said in (
        ("en", "order #1008 ships from 2 ERP companies"),
        ("pt-BR", "o pedido #1008 sai de 2"),
    ):
        listed = client.get(f"/api/orders?locale={locale}", headers=headers(Role.VIEWER)).get_json()
        row = next(o for o in listed["orders"] if o["id"] == order_id)
        notes = row["attention_notes"]
        assert notes and notes[0]["flow"] == "orders", notes
        assert notes[0]["text"].startswith(said), notes  # its words, in the page's language


def test_every_list_row_says_whether_the_app_stopped_it_or_a_target_refused_it(client, shops, message):
    """UX review: the list and the detail's facts called an invalid CPF "refused by the target",
    though the ERP never saw it; the rows say which it was, for the page to name it."""
    stopped = {
        message(shops.a, "orders", "order:1", error=InvalidTaxId("11111111111", "one repeated digit")),
        message(shops.a, "orders", "order:2", error=_several_companies()),
        message(
            shops.a, "orders", "order:3", error=Rejected("2 companies", system="ledger", code="MULTI_COMPANY")
        ),
    }
    refused = message(
        shops.a, "orders", "order:4", error=Rejected("Forma inativa", system="consinco", code="PED-017")
    )
    done = message(shops.a, "orders", "order:5", done=True)
    listed = client.get("/api/messages?flow=orders", headers=headers(Role.VIEWER)).get_json()["messages"]
    flags = {m["id"]: m["stopped_by_app"] for m in listed}
    assert flags == {**dict.fromkeys(stopped, True), refused: False, done: False}
    one = client.get(f"/api/messages/{refused}", headers=headers(Role.VIEWER)).get_json()
    assert one["stopped_by_app"] is False
    first = client.get(f"/api/messages/{min(stopped)}", headers=headers(Role.VIEWER)).get_json()
    assert first["stopped_by_app"] is True
