"""An ERP event of an order whose channel id is a Shopify order another shop links names that
store only when it is on this shop's ERP (a sibling store of the chain). Two chains on one
installation: a Shopify order id typed as a channel id in one's ERP named the other chain's
myshopify domain and order on its Messages page (the hand link's rule, shops_on_same_erp)."""

from __future__ import annotations

from datetime import UTC, datetime

from erp.records import OrderEvent
from jobs import order_events
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.models import ErpConnection, OrderLink
from tests.spine_auth.factories import SHOP_A

ERP = "https://erp.rede-{}.com.br/smpedidovenda/smpedidovendaapi"


def _said_to_b(settings, shops, erp_of_a: str) -> str:
    with session_scope(settings.database_url) as session:
        password = encrypt("pw", settings.encryption_keys)
        session.add(
            ErpConnection(shop_id=shops.a, base_url=ERP.format(erp_of_a), username="a", password_enc=password)
        )
        session.add(
            ErpConnection(shop_id=shops.b, base_url=ERP.format("b"), username="b", password_enc=password)
        )
        session.add(OrderLink(shop_id=shops.a, shopify_order_id="gid://shopify/Order/5001", nro_pedvenda=10))
    event = OrderEvent(
        seq_evento=1, kind="C", nro_pedvenda=777, seq_canal_venda=None,
        channel_order_id="gid://shopify/Order/5001", nro_empresa=1, situacao="C",
        occurred_at=datetime.now(UTC), altered=False, total=None, total_served=None, lines=(),
        invoice=None, tracking=None, cancel_reason=None, nfe_cancelled=False,
    )  # fmt: skip
    with session_scope(settings.database_url) as session:
        text, _words = order_events.unknown_order(session, shops.b, event, None)
    return text


def test_a_store_on_another_erp_is_not_named(settings, shops):
    text = _said_to_b(settings, shops, "a")
    assert SHOP_A not in text and "5001" not in text, text
    assert text.startswith("ERP order 777 is not linked to any Shopify order of this shop"), text


def test_a_sibling_store_on_the_same_erp_is_named(settings, shops):
    text = _said_to_b(settings, shops, "b")
    assert f"Shopify order 5001 of {SHOP_A}, another store on this ERP" in text, text
