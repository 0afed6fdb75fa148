"""Production -> homologation -> production again: the ERP generation is that ERP's identity
(ledger.setup_moves.erp_moved keeps one per place), not a counter (0, 1, 2), so the production
orders sent before the round trip are production's again: their cancellation/edit/address is
not refused (ORDER_OF_OTHER_ERP), their events not skipped as OTHER_ERP; homologation's are still
another ERP's."""

from __future__ import annotations

from jobs import order_generation
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, OrderLink
from tests.api.conftest import headers

PROD = {"base_url": "http://erp-prod.example.com.br/api", "username": "u", "password": "p"}
HOMOLOG = {"base_url": "http://erp-homolog.example.com.br/api", "username": "u", "password": "p"}


def test_an_order_sent_to_production_is_production_again_after_a_round_trip(client, settings, shops):
    assert client.put("/api/setup/erp-connection", json=PROD, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:  # an order imported into production
        session.add(
            Message(
                shop_id=shops.a,
                flow="orders",
                unit_key="order:1001",
                direction="shopify_to_erp",
                status=MessageStatus.DONE.value,
                response_payload={"erp_generation": 0},
            )
        )
        session.add(
            OrderLink(
                shop_id=shops.a,
                shopify_order_id="gid://shopify/Order/1001",
                shopify_order_name="#1001",
                nro_pedvenda=77,
                nro_empresa=1,
            )
        )
    assert client.put("/api/setup/erp-connection", json=HOMOLOG, headers=headers()).status_code == 200
    assert client.put("/api/setup/erp-connection", json=PROD, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:
        link = session.query(OrderLink).filter_by(shop_id=shops.a, nro_pedvenda=77).one()
        refused = order_generation.refusal(session, link, "the cancellation")
        now = order_generation.current(session, shops.a)
    # a counter gave generation 2 here, the order's 0: "linked to ... the ERP the shop was on before"
    assert now == 0 and refused is None, (now, refused and refused.message)


def test_an_order_sent_to_homologation_stays_homologations_once_back_on_production(client, settings, shops):
    """Back on production (generation 0 again), an order of the ERP in between is still another
    ERP's: refused, and counted among those a reconciliation does not look up (before_current
    no longer takes generation 0 for a shop that never moved)."""
    assert client.put("/api/setup/erp-connection", json=PROD, headers=headers()).status_code == 200
    assert client.put("/api/setup/erp-connection", json=HOMOLOG, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:  # an order imported into homologation
        session.add(
            Message(
                shop_id=shops.a,
                flow="orders",
                unit_key="order:1002",
                direction="shopify_to_erp",
                status=MessageStatus.DONE.value,
                response_payload={"erp_generation": 1},
            )
        )
        session.add(
            OrderLink(
                shop_id=shops.a,
                shopify_order_id="gid://shopify/Order/1002",
                shopify_order_name="#1002",
                nro_pedvenda=78,
                nro_empresa=1,
            )
        )
    assert client.put("/api/setup/erp-connection", json=PROD, headers=headers()).status_code == 200
    with session_scope(settings.database_url) as session:
        link = session.query(OrderLink).filter_by(shop_id=shops.a, nro_pedvenda=78).one()
        refused = order_generation.refusal(session, link, "the cancellation")
        before = order_generation.before_current(session, shops.a, [link])
        assert order_generation.current(session, shops.a) == 0
    assert refused is not None and refused.code == order_generation.CODE
    assert before == {link.id}
