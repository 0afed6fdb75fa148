"""A unit parked on a setup step not done yet says what it waits for in the page's language: the
store link, the ERP connection and a company with no location were given no words, so a pt-BR
Messages page and the pt-BR alert e-mails read them in English ("no store_link mapping for ...")."""

from __future__ import annotations

from sqlalchemy import select

from jobs import prices, stock
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Role
from tests.api.conftest import headers


def test_units_parked_on_setup_say_what_they_wait_for_in_portuguese(client, shops):
    prices.run(shops.a)  # no store link yet: the prices pass parks on it
    stock.run(shops.a)  # no ERP connection yet: the stock pass parks on it
    stock._refuse(shops.a, 4)  # an ERP company with no location: parked, as a pass parks it
    with session_scope() as session:
        parked = {
            m.unit_key: m.error_text
            for m in session.scalars(
                select(Message).where(
                    Message.shop_id == shops.a, Message.status == MessageStatus.PARKED.value
                )
            )
        }
    assert set(parked) == {"price:store_link", "stock:erp_connection", "stock:4:location"}, parked
    listed = client.get("/api/messages?status=parked&locale=pt-BR", headers=headers(Role.VIEWER)).get_json()
    said = {m["unit_key"]: m["failure_reason"] for m in listed["messages"]}
    assert said["price:store_link"].startswith("esta loja ainda não está vinculada a uma empresa"), said
    assert said["stock:erp_connection"].startswith("esta loja não tem conexão com o ERP"), said
    assert said["stock:4:location"].startswith("a empresa 4 do ERP não tem local da Shopify vinculado"), said
    english = client.get("/api/messages?status=parked&locale=en", headers=headers(Role.VIEWER)).get_json()
    assert {m["unit_key"]: m["failure_reason"] for m in english["messages"]} == parked


def test_a_unit_parked_on_the_erp_connection_is_not_explained_as_a_mapping_of_the_shops_own_id(client, shops):
    """ "Não há De:Para de conexão com o ERP para “1”": the shop's id in the app's database, and no
    De:Para line to create; it is a Setup step not done yet."""
    stock.run(shops.a)  # no ERP connection yet
    with session_scope() as session:
        [parked] = session.scalars(
            select(Message.id).where(Message.shop_id == shops.a, Message.status == MessageStatus.PARKED.value)
        ).all()
    said = {}
    for locale in ("pt-BR", "en"):
        detail = client.get(f"/api/messages/{parked}?locale={locale}", headers=headers()).get_json()
        said[locale] = detail["explanation"]["what_happened"]
    assert said["pt-BR"].startswith("A etapa ") and "da Configuração ainda não foi feita" in said["pt-BR"], (
        said
    )
    assert said["en"].startswith("The ") and "step of Setup is not done yet" in said["en"], said
