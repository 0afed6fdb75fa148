"""A market's price list deleted in Shopify (the admin's "Delete price list", priceListDelete):
forgotten, so the market is set up again and gets every price of its pair.

Part of the prices flow (jobs.price_lists). The pair's "price_list" binding keeps the list's id and
is not asked about on every pass (jobs.price_list_setup), so a deleted list shows only when a call
for it is answered PRICE_LIST_NOT_FOUND (priceListFixedPricesAdd of jobs.price_lists._send, or the
removal of jobs.price_list_retire.delete_fixed_prices): that call raises `ListGone`. Kept as it
was, every pass would fail on it for good, the refused batch due again, the list's watermark moving
on, and the other prices the list lost never sent again (their "list_price" digests say Shopify
holds them). `forget` drops the list's binding (the catalog the app made for it stays remembered,
so the new list goes in that catalog, not a second one), its prices' bindings, its watermark and
its held unreadable records (jobs.price_records: the whole read finds them again), and says so in
one message ("pricelist:<market>:gone:<list>", skipped with its words: nothing for a person to do);
jobs.price_lists.sync then sets the market up again in the same pass and sends every price.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete

from jobs import price_list_setup, price_records
from ledger import bindings, trace, watermarks
from ledger.bindings import LIST_PRICE_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import IntegrationError
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

FLOW = "prices"
CODE = "PRICE_LIST_NOT_FOUND"


class ListGone(Exception):
    """A fixed-price call was answered PRICE_LIST_NOT_FOUND: the list `list_id` no longer exists."""

    def __init__(self, list_id: str) -> None:
        super().__init__(f"price list {list_id} no longer exists in Shopify")
        self.list_id = list_id


def is_gone(exc: BaseException | None) -> bool:
    """Shopify answered that the call's price list does not exist."""
    return isinstance(exc, ShopifyUserErrors) and CODE in exc.codes


def forget(shop_id: int, client: AdminClient, key: str, scope: str, list_id: str) -> None:
    """Everything the flow remembers of the list `list_id` of the pair `key` ("<emp>:<seg>@<market
    gid>", watermark `scope`) dropped, and one message saying the list is made again."""
    market_id = key.partition("@")[2]
    market = market_id.rsplit("/", 1)[-1]
    prefix = f"{list_id.rsplit('/', 1)[-1]}:"
    name = _market_name(client, market_id)
    with session_scope() as session:
        found = bindings.get_many(session, shop_id, price_list_setup.LIST_KIND, [key]).get(key)
        catalog = (found.data or {}).get(price_list_setup.CATALOG) if found is not None else None
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop_id,
                ((Binding.kind == LIST_PRICE_KIND) & Binding.erp_id.like(f"{prefix}%"))
                | ((Binding.kind == price_list_setup.LIST_KIND) & (Binding.erp_id == key)),
            )
        )
        if catalog:  # the catalog the app made for the market gets the new list
            row = BindingRow(key, None, None, {price_list_setup.CATALOG: catalog})
            bindings.upsert_many(session, shop_id, price_list_setup.LIST_KIND, [row])
        watermarks.reset(session, shop_id, FLOW, scope)
        price_records.forget(session, shop_id, scope)
        company, _, segment = key.partition("@")[0].partition(":")
        unit = f"pricelist:{market}:gone:{prefix[:-1]}"
        request = {"price_list_id": list_id, "company": company, "segment": segment}
        message = trace.begin(
            session,
            shop_id,
            FLOW,
            unit,
            ERP_TO_SHOPIFY,
            shopify_id=list_id,
            search=[market_id],
            request=request,
        )
        trace.skip(
            session,
            message,
            f"the price list {list_id} of market {name} (company {company} segment {segment}) was deleted "
            "in Shopify; it is made again and every price of the pair sent again",
            words=("price_list_recreated", {"market": name, "company": company, "segment": segment}),
        )
    log.warning(
        "prices: shop %s price list %s of %s was deleted in Shopify; made again", shop_id, list_id, key
    )


def _market_name(client: AdminClient, market_id: str) -> str:
    """The market's name for the message; its id when Shopify cannot say it now."""
    try:
        return next((m.name or m.handle for m in client.markets() if m.id == market_id), market_id)
    except IntegrationError:
        return market_id
