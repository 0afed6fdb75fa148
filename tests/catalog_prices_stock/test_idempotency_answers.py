"""Shopify's answers to an idempotency key are no refusal of the stock: a resend after a timeout
that meets the first request still running (IDEMPOTENCY_CONCURRENT_REQUEST) waits for it under
the same key, and a retry after a request Shopify failed (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED)
goes again under a new key. Both come from the client's own retries, against the sandbox
answering as Shopify does (sandbox/shopify/idempotency.py)."""

from __future__ import annotations

import functools

from jobs import stock
from ledger.models import MessageStatus
from sandbox.shopify import idempotency
from shopify_app.admin_api import client as client_module
from shopify_app.admin_api.transport import AdminTransport

from .chain import messages
from .test_stock_flow import erp_stock, expected

FIELD = "inventorySetQuantities"


def _levels_as_the_erp_says(chain, shop, catalog) -> None:
    rows = erp_stock(chain, 1)
    for sku, data in catalog.items():
        want = expected(*rows[sku], weighed=data["weighed"])
        if want is not None:
            assert chain.level(shop, data["inventory_item_id"], 1) == want, sku


def _all_done(shop) -> None:
    """Company 1's messages all done (the others have no location: parked, as ever)."""
    ours = [m for m in messages(shop.shop_id, "stock") if not m.unit_key.endswith(":location")]
    open_ = [m for m in ours if m.status != MessageStatus.DONE.value]
    assert ours and open_ == [], [(m.unit_key, m.status, m.error_class, m.error_text) for m in open_]


def test_a_resend_meeting_the_first_request_still_running_waits_for_it(chain, calls, monkeypatch):
    """Shopify takes longer than the client waits: the client's resend under the same key is
    answered 'in progress'; the batch waits and sends the same key again, which then answers
    the first request's result. Nothing is refused, nothing applied twice."""
    monkeypatch.setattr(client_module, "AdminTransport", functools.partial(AdminTransport, timeout=1))
    shop = chain.install("idem-concorrente", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    idempotency.hold_next(chain.shopify.sandbox, shop.name, FIELD, 3.0)
    mark = calls.mark()
    stock.run(shop.shop_id)
    _all_done(shop)
    writes = [n for n in calls.names(mark, shop.name) if n == "InventorySetAvailable"]
    assert len(writes) >= 3  # the held one, the resend after the timeout, the one answered
    _levels_as_the_erp_says(chain, shop, catalog)


def test_a_retry_after_shopify_failed_the_request_goes_under_a_new_key(chain, monkeypatch):
    """Shopify fails the write on its side (a 5xx); the client's retry under the same key is
    answered 'a previous request with this key failed, retry with a new key': the batch goes
    again under a new key and lands."""
    shop = chain.install("idem-anterior", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    keys: list[str] = []
    real = idempotency.run_idempotent

    def seen(fn, source, info, args):
        keys.append(idempotency._key(info))
        return real(fn, source, info, args)

    monkeypatch.setattr(idempotency, "run_idempotent", seen)
    idempotency.fail_next(chain.shopify.sandbox, shop.name, FIELD)
    stock.run(shop.shop_id)
    _all_done(shop)
    assert keys[0] == keys[1] != keys[2]  # failed, refused as failed before, renewed
    _levels_as_the_erp_says(chain, shop, catalog)
