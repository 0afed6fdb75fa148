"""Linking an order to an ERP number by hand tells nothing about another store's orders: before the
ERP was read with this shop's own credentials only this shop's links are looked at ("the same ERP"
is told from the address the admin typed), and after it another store's order is not named."""

from __future__ import annotations

from ledger import order_link_by_hand
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, OrderLink, Role
from tests.api.conftest import headers

ERP_B = "https://erp.mercado-b.com.br/smpedidovenda/smpedidovendaapi"


def _link(settings, shop_id, name, nro=None):
    with session_scope(settings.database_url) as session:
        link = OrderLink(
            shop_id=shop_id,
            shopify_order_id=f"gid://shopify/Order/{abs(hash(name)) % 10**9}",
            shopify_order_name=name,
            nro_pedvenda=nro,
        )
        session.add(link)
        session.flush()
        return link.id


def _shop_b_on(settings, shops, url):
    with session_scope(settings.database_url) as session:
        session.add(
            ErpConnection(
                shop_id=shops.b,
                base_url=url,
                username="b",
                password_enc=encrypt("real", settings.encryption_keys),
            )
        )


def test_typing_another_stores_erp_address_does_not_tell_its_linked_orders(client, settings, shops):
    _shop_b_on(settings, shops, ERP_B)
    _link(settings, shops.b, "#B-9001 Maria", 555)
    own = _link(settings, shops.a, "#A-1")
    typed = {"base_url": ERP_B, "username": "x", "password": "guess"}
    assert client.put("/api/setup/erp-connection", json=typed, headers=headers(Role.ADMIN)).status_code == 200
    reply = client.post(
        f"/api/orders/{own}/erp-order", json={"nro_pedvenda": 555}, headers=headers(Role.OPERATOR)
    )
    text = reply.get_data(as_text=True)
    assert "#B-9001" not in text and "shop-b" not in text, (reply.status_code, text)
    assert reply.get_json()["error"]["code"] != "erp_order_taken"  # the ERP was asked (unreachable here)


def test_another_stores_link_is_told_without_its_order_or_domain(settings, shops):
    _shop_b_on(settings, shops, ERP_B)
    with session_scope(settings.database_url) as session:
        session.add(ErpConnection(shop_id=shops.a, base_url=ERP_B + "/", username="a", password_enc=b""))
    theirs = _link(settings, shops.b, "#B-9001 Maria", 555)
    mine = _link(settings, shops.a, "#A-1")
    with session_scope(settings.database_url) as session:
        link = session.get(OrderLink, mine)
        assert order_link_by_hand.taken_by(session, link, 555, other_shops=False) is None
        other = order_link_by_hand.taken_by(session, link, 555)
        assert other is not None and other.id == theirs
        refused = order_link_by_hand.taken_text(link, 555, other)
    text = refused.text
    assert "another store on the same ERP" in text and "#B-9001" not in text and "shop-b" not in text
    assert refused.words == ("taken_other_store", {"nro": 555})  # the page's words name nothing of theirs
