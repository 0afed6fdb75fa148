"""Products already in Shopify without the app's custom id (the middleware the app replaces made
them, a lost answer, a person by hand) are adopted by SKU or EAN, never made a second time; what
the app cannot tell for sure is held for a person, named (jobs/catalog_adopt.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import delete, select

from jobs import catalog_adopt, catalog_diff, catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, Message, MessageStatus
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx

from .conftest import SHOP_NAME, InstalledShop

PRODUCTS = 38


def _by_seq(installed: InstalledShop) -> dict[str, dict[str, Any]]:
    return {p["metafields"].get("consinco.seq_produto"): p for p in installed.state()["products"]}


def _as_the_middleware_left_it(installed: InstalledShop) -> dict[str, dict[str, Any]]:
    """Load the catalog, then take away what makes it the app's: the custom ids in Shopify and the
    whole ledger of bindings (a new install, the middleware's products in the store). Each
    product's title is changed too, as the middleware had it. {seqProduto: the product as it was}."""
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    before = _by_seq(installed)
    assert len(before) == PRODUCTS
    store = installed.shopify.sandbox.store
    for metafield in store.scan(SHOP_NAME, "Metafield"):
        if metafield["namespace"] == "consinco":
            store.delete(SHOP_NAME, metafield["id"])
    for product in store.scan(SHOP_NAME, "Product"):
        store.put(SHOP_NAME, {**product, "title": "Old middleware title"})
    with session_scope() as session:
        session.execute(delete(Binding).where(Binding.shop_id == installed.shop_id))
    installed.mutations.calls.clear()
    return before


def _by_hand(installed: InstalledShop) -> Ctx:
    """What a person's edits in the Shopify admin go through (the sandbox's store)."""
    return Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")


def _delete_product(installed: InstalledShop, product_id: str) -> None:
    ctx = _by_hand(installed)
    for variant in catalog.variants_of(ctx, product_id):
        catalog.delete_variant(ctx, variant)
    ctx.store.delete(SHOP_NAME, product_id)


def _failed(installed: InstalledShop) -> dict[str, Message]:
    with session_scope() as session:
        rows = session.scalars(
            select(Message).where(
                Message.shop_id == installed.shop_id, Message.status == MessageStatus.FAILED
            )
        ).all()
        for row in rows:
            session.expunge(row)
    return {m.unit_key.rsplit(":", 1)[-1]: m for m in rows}


@pytest.mark.parametrize("whole_shop", [False, True], ids=["searched", "whole-shop"])
@pytest.mark.parametrize("bulk", [False, True], ids=["direct", "bulk"])
def test_a_catalog_already_in_shopify_without_the_erp_id_is_adopted_not_made_again(
    installed: InstalledShop, monkeypatch, bulk: bool, whole_shop: bool
) -> None:
    before = _as_the_middleware_left_it(installed)
    if whole_shop:  # a first load of more products than this reads the shop's variants whole
        monkeypatch.setattr(catalog_adopt, "WHOLE_SHOP_ABOVE", 10)

    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=bulk)

    assert result.adopted == PRODUCTS and result.created == 0 and result.failed == 0
    after = _by_seq(installed)
    assert sorted(after) == sorted(before)  # every product kept, now with its custom id again
    for seq, product in after.items():
        assert product["id"] == before[seq]["id"]  # the same product, its orders and channels with it
        assert [v["id"] for v in product["variants"]] == [v["id"] for v in before[seq]["variants"]]
        assert product["title"] == before[seq]["title"]  # the ERP's, over the middleware's
    assert installed.mutations.count("publishablePublish") == 0  # on the channels it was on
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == installed.shop_id, Binding.kind == VARIANT_KIND)
        ).all()
        assert rows and all(catalog_adopt.ADOPTED not in (b.data or {}) for b in rows)
        products = session.scalars(
            select(Binding).where(Binding.shop_id == installed.shop_id, Binding.kind == PRODUCT_KIND)
        ).all()
        assert len(products) == PRODUCTS and all(b.digest for b in products)

    installed.mutations.calls.clear()
    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=bulk)
    assert again.unchanged == PRODUCTS and installed.mutations.count() == 0


def test_the_dry_run_says_which_products_would_be_taken_over_and_which_held(installed: InstalledShop) -> None:
    before = _as_the_middleware_left_it(installed)
    seq, product = next(iter(sorted(before.items())))
    installed.mutations.reject_seq = "-"
    installed.client().product_set({"title": "Copy made by hand", "productOptions": [
        {"name": "Title", "values": [{"name": "Default Title"}]}], "variants": [
        {"optionValues": [{"optionName": "Title", "name": "Default Title"}],
         "inventoryItem": {"sku": product["variants"][0]["sku"]}}]})  # fmt: skip
    installed.mutations.calls.clear()

    diff = catalog_diff.compute(installed.shop_id)

    counts = diff["counts"]
    assert (counts["create"], counts["adopt"], counts["conflict"]) == (0, PRODUCTS - 1, 1)
    assert [c["seq_produto"] for c in diff["conflict"]] == [int(seq)]
    assert product["id"] in diff["conflict"][0]["existing"]
    taken = {a["seq_produto"]: a["shopify_id"] for a in diff["adopt"]}
    assert all(taken[int(s)] == p["id"] for s, p in before.items() if s != seq and int(s) in taken)
    assert installed.mutations.count() == 0  # a dry run: nothing written
    with session_scope() as session:
        assert session.scalars(select(Binding).where(Binding.shop_id == installed.shop_id)).first() is None


def test_the_dry_run_names_the_live_prices_the_first_prices_overwrite_on_adopted_variants(
    installed: InstalledShop,
) -> None:
    """The earlier connector's variants are live at its prices (R$ 123.45, 150.00 struck through):
    listed as a "first" price, with nothing of what Shopify shows, the merchant could not see which
    prices the switch overwrites. Each is a "change" with Shopify's price now (`before`)."""
    before = _as_the_middleware_left_it(installed)
    ctx = _by_hand(installed)
    for product in before.values():
        for v in product["variants"]:
            doc = ctx.store.get(SHOP_NAME, v["id"])
            catalog.save_variant(ctx, {**doc, "price": "123.45", "compareAtPrice": "150.00"})
    prices = catalog_diff.compute(installed.shop_id)["prices"]
    adopted = {v["id"] for product in before.values() for v in product["variants"]}
    changes = [row for row in prices["change"] if row["variant_id"] in adopted]
    assert changes and prices["counts"]["first"] == 0, prices["counts"]
    assert all(row["before"] == {"price": "123.45", "compare_at": "150.00"} for row in changes), changes[0]


def test_a_product_made_by_hand_with_an_erp_sku_and_its_own_option_is_adopted_whole(
    installed: InstalledShop,
) -> None:
    """Matched by SKU one variant, by EAN the other; its option and title become the ERP's."""
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)
    seq, product = next((s, p) for s, p in _by_seq(installed).items() if len(p["variants"]) == 2)
    first, second = product["variants"]
    _as_the_middleware_left_it(installed)
    ctx = _by_hand(installed)
    for other in ctx.store.scan(SHOP_NAME, "Product"):
        if other["id"] != product["id"]:
            _delete_product(installed, other["id"])  # only this one was in the store
    variant = ctx.store.get(SHOP_NAME, second["id"])
    catalog.save_variant(ctx, {**variant, "sku": "OLD-123"})  # the middleware's own SKU; the EAN kept

    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)

    after = _by_seq(installed)
    assert after[seq]["id"] == product["id"] and len(after) == PRODUCTS
    assert {v["id"]: v["sku"] for v in after[seq]["variants"]} == {
        first["id"]: first["sku"],
        second["id"]: second["sku"],
    }


def test_two_products_holding_one_products_codes_hold_it_for_a_person_and_its_retry_adopts(
    installed: InstalledShop,
) -> None:
    before = _as_the_middleware_left_it(installed)
    seq, product = next(iter(sorted(before.items())))
    client = installed.client()
    installed.mutations.reject_seq = "-"
    copy = client.product_set({"title": "Copy made by hand", "productOptions": [
        {"name": "Title", "values": [{"name": "Default Title"}]}], "variants": [
        {"optionValues": [{"optionName": "Title", "name": "Default Title"}],
         "inventoryItem": {"sku": product["variants"][0]["sku"]}}]}).product  # fmt: skip
    installed.mutations.reject_seq = None

    result = catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)

    assert result.adopted == PRODUCTS - 1 and result.created == 0 and result.failed == 1
    failed = _failed(installed)
    assert list(failed) == [seq]
    message = failed[seq]
    assert message.error_detail["code"] == catalog_adopt.CONFLICT_CODE
    assert product["id"] in (message.error_text or "") and copy.id in (message.error_text or "")
    assert len(installed.state()["products"]) == PRODUCTS + 1  # nothing made, nothing deleted

    _delete_product(installed, copy.id)  # the person deletes the copy in Shopify admin
    catalog_flow.replay(message.id, client=client)

    assert _failed(installed) == {}
    after = _by_seq(installed)
    assert after[seq]["id"] == product["id"] and len(installed.state()["products"]) == PRODUCTS


def test_a_product_holding_variants_that_are_not_the_products_packagings_is_not_touched(
    installed: InstalledShop,
) -> None:
    before = _as_the_middleware_left_it(installed)
    seq, product = next(iter(sorted(before.items())))
    ctx = _by_hand(installed)  # a kit's variant moved under it
    stray = ctx.store.get(SHOP_NAME, next(p for s, p in before.items() if s != seq)["variants"][0]["id"])
    catalog.save_variant(ctx, {**stray, "productId": product["id"], "sku": "KIT-9", "barcode": None})

    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)

    failed = _failed(installed)
    assert list(failed) == [seq] and "KIT-9" in (failed[seq].error_text or "")
    kept = next(p for p in installed.state()["products"] if p["id"] == product["id"])
    assert "KIT-9" in [v["sku"] for v in kept["variants"]]  # not deleted by a productSet
    assert "consinco.seq_produto" not in kept["metafields"]


class _LoseFirstProductSet:
    """The first productSet runs in Shopify, and its answer is lost (a 502 on the way back)."""

    def __init__(self, app: Any) -> None:
        self.app, self.lost = app, 0

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and not self.lost:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            if "productSet(" in (json.loads(body).get("query") or ""):
                self.lost += 1
                b"".join(self.app(environ, lambda *_: None))  # it ran
                start_response("502 Bad Gateway", [("Content-Type", "text/html")])
                return [b"<html>Bad Gateway</html>"]
        return self.app(environ, start_response)


def test_a_create_whose_answer_was_lost_is_not_sent_again_and_the_next_run_adopts_it(
    installed: InstalledShop,
) -> None:
    """Shopify making the product without its custom id (as its docs allow): a resend of the lost
    create would make a second product; the next run finds the first by its SKUs."""
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    installed.shopify._server.app = _LoseFirstProductSet(installed.shopify._server.app)

    with pytest.raises(Transient):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)
    assert installed.mutations.count("productSet") == 1  # not sent again by the client
    assert len(installed.state()["products"]) == 1

    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)

    assert result.adopted == 1 and result.failed == 0
    assert installed.mutations.count("publishablePublish") >= 1  # the lost create's product was on no channel
    products = installed.state()["products"]
    ids = [p["metafields"].get("consinco.seq_produto") for p in products]
    assert len(products) == PRODUCTS and None not in ids and len(set(ids)) == PRODUCTS


def test_the_whole_shop_read_asks_pages_under_shopifys_cost_ceiling(installed: InstalledShop) -> None:
    """4 points a variant: a page of 250 asked 1,002 and was halved to 125 (twice the calls)."""
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    client = installed.client()
    asked: list[float] = []
    client.executor.observer = lambda name, raw: asked.append(
        ((raw.extensions or {}).get("cost") or {}).get("requestedQueryCost") or 0
    )
    assert len(list(client.catalog_variants())) == 60
    assert asked and max(asked) <= 1000 and len(asked) == 1
