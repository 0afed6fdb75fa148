"""Which shops share one ERP's stock (jobs.stock_pending.same_erp_shops): the same rule as a setup
move and a hand link (ledger.erp_place), so a sister store's open orders are held back from this
store's levels however its ERP address is written."""

from __future__ import annotations

from jobs.stock_pending import same_erp_shops
from ledger.db import session_scope
from ledger.models import ErpConnection, Shop, ShopStatus, utcnow


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
