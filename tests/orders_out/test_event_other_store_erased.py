"""A store reinstalled after shop/redact (its order links erased with its data) reads the ERP events
of every store of its chain (one ERP, maybe one sales channel). An event of a sibling store's order
was said to be of an order this store's app sent before the uninstall (jobs.order_events
UNKNOWN_ORDER_ERASED), pointing its merchant at an order not in their Shopify: now that is said only
of an order of a company the store sells as or stocks from, that no other shop links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from jobs import reconcile
from ledger import mappings
from ledger.db import session_scope
from ledger.models import InstallPeriod, Message, MessageStatus, OrderLink, Shop, utcnow
from shopify_app import skip_words

from .conftest import World, install_world


def _reinstalled_after_redact(shopify: Any, chain: Any) -> World:
    """A second store of the chain whose first installation's data was erased (its install periods)."""
    b = install_world(shopify, chain)
    with session_scope() as session:
        shop = session.get(Shop, b.shop_id)
        session.add(
            InstallPeriod(
                domain=b.domain,
                installed_at=shop.created_at - timedelta(days=30),
                uninstalled_at=shop.created_at - timedelta(days=3),
            )
        )
        session.add(InstallPeriod(domain=b.domain, installed_at=shop.created_at, uninstalled_at=None))
    return b


def _said(b: World, nro: int) -> str:
    with session_scope() as session:
        [message] = session.scalars(
            select(Message).where(Message.shop_id == b.shop_id, Message.erp_id == str(nro))
        ).all()
        assert message.status == MessageStatus.SKIPPED.value, message.error_text
        return message.error_text or ""


def test_an_event_of_a_sibling_stores_linked_order_is_not_said_to_be_this_stores(
    world: World, shopify: Any, chain: Any
) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    b = _reinstalled_after_redact(shopify, chain)
    world.erp.cancel(order.nro, "Cliente desistiu")
    b.poll()
    text = _said(b, order.nro)
    number = order.gid.rsplit("/", 1)[-1]
    assert text == (
        f"ERP order {order.nro} is not linked to any Shopify order of this shop: it is Shopify order "
        f"{number} of {world.domain}, another store on this ERP; nothing to change here"
    ), text
    with session_scope() as session:
        [message] = session.scalars(
            select(Message).where(Message.shop_id == b.shop_id, Message.erp_id == str(order.nro))
        ).all()
        assert skip_words.reason(message, "en") == text
        assert skip_words.reason(message, "pt-BR").endswith(
            f"de {world.domain}, outra loja neste ERP; nada a mudar aqui"
        )
    # B's reconciliation does not count it among B's ERP orders no Shopify order matches. Only this
    # test's order is asked about: B's first poll reads a day of the session-wide ERP sandbox, where
    # an earlier test may have left an order of the chain's company that no shop links any more.
    with session_scope() as session:
        unknown = reconcile._unknown_erp_orders(session, b.shop_id, utcnow() - timedelta(days=1))
    assert str(order.nro) not in [row["nro_pedvenda"] for row in unknown], unknown


def test_an_event_of_another_company_is_not_said_to_be_this_stores(
    world: World, shopify: Any, chain: Any
) -> None:
    """No shop links the order (its store erased too), but its ERP company is none this store sells
    as or stocks from: not this store's either. Of the store's own company, it is."""
    first = world.linked_order([(world.plain(0), 1)], gateway="pix")
    second = world.linked_order([(world.plain(1), 1)], gateway="pix")
    with session_scope() as session:
        session.execute(delete(OrderLink).where(OrderLink.shop_id == world.shop_id))
    b = _reinstalled_after_redact(shopify, chain)
    with session_scope() as session:  # B sells as and stocks from another company of the ERP
        mappings.set_store_link(session, b.shop_id, 99, chain.segment)
        mappings.set_location_mapping(session, b.shop_id, 99, b.location_id)
    world.erp.cancel(first.nro, "Cliente desistiu")
    b.poll()
    assert "the app sent it from this store" not in _said(b, first.nro)

    with session_scope() as session:  # of B's own company: the order its app sent before the redact
        mappings.set_store_link(session, b.shop_id, 1, chain.segment)
        mappings.set_location_mapping(session, b.shop_id, 1, b.location_id)
    world.erp.cancel(second.nro, "Cliente desistiu")
    b.poll()
    assert "the app sent it from this store" in _said(b, second.nro)
