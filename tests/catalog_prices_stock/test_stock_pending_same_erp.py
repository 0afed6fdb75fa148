"""Which shops share one ERP's stock (jobs.stock_pending.same_erp_shops): the same rule as a setup
move and a hand link (ledger.erp_place), so a sister store's open orders are held back from this
store's levels however its ERP address is written."""

from __future__ import annotations

from datetime import timedelta

from jobs import stock_pending
from jobs.stock_pending import same_erp_shops
from ledger import bindings, watermarks
from ledger.db import session_scope
from ledger.models import ErpConnection, Message, Shop, ShopStatus, utcnow


def _shop(
    session, domain: str, base_url: str, status: str = ShopStatus.ACTIVE.value, *, logged_in: bool = True
) -> int:
    shop = Shop(domain=domain, status=status)
    session.add(shop)
    session.flush()
    verified = utcnow() if logged_in else None  # its own credentials logged in there (erp.factory)
    session.add(
        ErpConnection(
            shop_id=shop.id, base_url=base_url, username="u", password_enc=b"x", verified_at=verified
        )
    )
    session.flush()
    return shop.id


def test_stores_on_one_erp_written_with_another_scheme_or_default_port_share_its_stock(database_url):
    with session_scope(database_url) as session:
        a = _shop(session, "a.myshopify.com", "http://erp.rede.com.br/api")
        b = _shop(session, "b.myshopify.com", "https://ERP.rede.com.br:443/api/")
        c = _shop(session, "c.myshopify.com", "https://erp.rede.com.br:8443/api")  # another port: another ERP
        d = _shop(session, "d.myshopify.com", "http://erp.rede.com.br/api", ShopStatus.UNINSTALLED.value)
        assert same_erp_shops(session, a) == {a, b}
        assert same_erp_shops(session, c) == {c}
        assert d not in same_erp_shops(session, b)


def test_a_store_whose_credentials_never_logged_in_there_holds_no_stock_of_another(database_url):
    """An admin of another store types this ERP's address with made-up credentials: its orders,
    never posted (the login refused), stayed open and held back this store's stock. A store counts
    on an ERP once its own credentials logged in there."""
    with session_scope(database_url) as session:
        a = _shop(session, "a.myshopify.com", "https://erp.rede.com.br/api")
        b = _shop(session, "b.myshopify.com", "https://erp.rede.com.br/api", logged_in=False)
        assert same_erp_shops(session, a) == {a}
        assert same_erp_shops(session, b) == {a, b}  # its own stock still counts the verified one's


def _pending_order(session, shop_id: int, num: int, sku: str) -> None:
    """An order of `shop_id` parked before the ERP: it holds its units in every store on the ERP."""
    session.add(
        Message(
            shop_id=shop_id,
            flow="orders",
            unit_key=f"order:{num}",
            direction="shopify_to_erp",
            status="parked",
            shopify_id=f"gid://shopify/Order/{num}",
            request_payload={"nro_empresa": 1, "lines": [{"sku": sku, "quantity": "3"}]},
        )
    )


def _later_pass(database_url, shop_id: int) -> set[str]:
    """A later stock pass of `shop_id` (its orders cursor well past the overlap): what it flags."""
    with session_scope(database_url) as session:
        later = utcnow() + timedelta(minutes=30)
        watermarks.advance(session, shop_id, "stock", stock_pending.CLOSED_SCOPE, later, 0, later)
    with session_scope(database_url) as session:
        read = bindings.read_requests(session, shop_id, "stock_recheck")
        bindings.forget_requests(session, shop_id, "stock_recheck", read)  # what earlier passes acted on
        stock_pending.flag_order_changes(session, shop_id)
        return set(bindings.read_requests(session, shop_id, "stock_recheck"))


def test_a_store_leaving_or_joining_the_erp_has_its_pending_orders_products_rechecked(database_url):
    """Store B's order pending (not in the ERP yet) holds its units back from store A's levels. B
    uninstalls: the order stops counting for A, though no message of it changes, so A's level stayed
    short by its units until the SKU's ERP row moved or the nightly sweep; B reinstalled, the order
    counts again and A's level stayed oversellable. A's pass sees the set of stores change."""
    with session_scope(database_url) as session:
        a = _shop(session, "a.myshopify.com", "https://erp.rede.com.br/api")
        b = _shop(session, "b.myshopify.com", "https://erp.rede.com.br/api")
        _pending_order(session, b, 1, "SKU9")
    with session_scope(database_url) as session:
        stock_pending.flag_order_changes(session, a)  # A's pass saw B's order come
    assert _later_pass(database_url, a) == set()  # nothing changed since
    with session_scope(database_url) as session:
        session.get(Shop, b).status = ShopStatus.UNINSTALLED.value  # jobs.compliance.app_uninstalled
    assert _later_pass(database_url, a) == {"SKU9"}  # B left: its order no longer holds A's units
    assert _later_pass(database_url, a) == set()  # once
    with session_scope(database_url) as session:
        session.get(Shop, b).status = ShopStatus.ACTIVE.value  # reinstalled
    assert _later_pass(database_url, a) == {"SKU9"}  # B came back: its order holds A's units again
