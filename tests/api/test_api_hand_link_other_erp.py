"""A number linked from another ERP does not take the same number of the ERP the shop reads now:
store B moved from the chain's homologation Consinco to its production one, which store A uses, and
B's old links keep homologation NROPEDVENDA numbers that overlap production's; a shop's own link
learned from the ERP it was on before is that ERP's order too (ledger.link_generation.of_link)."""

from __future__ import annotations

from ledger import order_link_by_hand
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, Message, OrderLink, Role
from shopify_app import api_orders
from tests.api.conftest import headers

PROD = "https://erp.rede.com.br/smpedidovenda/smpedidovendaapi"
PLACES = {
    "erp-homolog.rede.com.br/smpedidovenda/smpedidovendaapi/": 0,
    "erp.rede.com.br/smpedidovenda/smpedidovendaapi/": 1,
}


def _connect(settings, shop_id, *, generation=0, places=None):
    with session_scope(settings.database_url) as session:
        pw = encrypt("pw", settings.encryption_keys)
        session.add(
            ErpConnection(
                shop_id=shop_id,
                base_url=PROD,
                username="u",
                password_enc=pw,
                generation=generation,
                moves=1 if places else 0,
                places=places or {},
            )
        )


def _link(settings, shop_id, num, nro=None, *, imported_on=None, hand_linked_erp=None):
    """A link of order `num`; `imported_on`: the ERP generation its import recorded."""
    with session_scope(settings.database_url) as session:
        gid = f"gid://shopify/Order/{num}"
        link = OrderLink(
            shop_id=shop_id,
            shopify_order_id=gid,
            shopify_order_name=f"#{num}",
            nro_pedvenda=nro,
            hand_linked_erp=hand_linked_erp,
        )
        session.add(link)
        if imported_on is not None:
            session.add(
                Message(
                    shop_id=shop_id,
                    flow="orders",
                    unit_key=f"order:{num}",
                    status="done",
                    direction="shopify_to_erp",
                    shopify_id=gid,
                    erp_id=str(nro),
                    response_payload={"nro_pedvenda": nro, "erp_generation": imported_on},
                )
            )
        session.flush()
        return link.id


def _taken(settings, link_id, nro):
    with session_scope(settings.database_url) as session:
        other = order_link_by_hand.taken_by(session, session.get(OrderLink, link_id), nro)
        return None if other is None else other.id


def test_another_stores_number_of_its_former_erp_does_not_take_it(client, settings, shops, monkeypatch):
    _connect(settings, shops.b, generation=1, places=PLACES)  # B: production now, homologation before
    _connect(settings, shops.a)
    _link(settings, shops.b, 777, 1500, imported_on=0)  # B's homologation order 1500
    mine = _link(settings, shops.a, 888)
    assert _taken(settings, mine, 1500) is None
    erp_order = order_link_by_hand.ErpOrder(1500, 1, "A", None, None, None, None)
    monkeypatch.setattr(api_orders, "_read_erp_order", lambda nro: erp_order)
    reply = client.post(
        f"/api/orders/{mine}/erp-order", json={"nro_pedvenda": 1500}, headers=headers(Role.OPERATOR)
    )
    assert reply.get_json().get("error", {}).get("code") != "erp_order_taken", reply.get_json()


def test_another_stores_number_of_this_erp_still_takes_it(settings, shops):
    _connect(settings, shops.b, generation=1, places=PLACES)
    _connect(settings, shops.a)
    theirs = _link(settings, shops.b, 778, 1600, imported_on=1)  # B's production order 1600
    unknown = _link(settings, shops.b, 779, 1700, hand_linked_erp=7)  # an ERP `places` does not name
    mine = _link(settings, shops.a, 888)
    assert _taken(settings, mine, 1600) == theirs
    assert _taken(settings, mine, 1700) == unknown  # not known where: refused, the safe side


def test_own_number_of_the_former_erp_does_not_take_it(settings, shops):
    _connect(settings, shops.a, generation=1, places=PLACES)  # A moved homologation -> production
    _link(settings, shops.a, 901, 1500, imported_on=0)
    _link(settings, shops.a, 902, 1501, hand_linked_erp=0)
    now = _link(settings, shops.a, 903, 1502, hand_linked_erp=1)
    mine = _link(settings, shops.a, 904)
    assert _taken(settings, mine, 1500) is None
    assert _taken(settings, mine, 1501) is None
    assert _taken(settings, mine, 1502) == now
