"""Every product the app sends carries its custom id (consinco.seq_produto), whether or not productSet
sets it on the products it creates (Shopify's docs do not promise it): the sandbox switch
`product_set_sets_custom_id` plays both."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from jobs import catalog_flow
from jobs.catalog_custom_id import MISSING
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from ledger import bindings
from ledger.bindings import CATALOG_RECHECK_KIND
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, Message, MessageStatus

from .conftest import InstalledShop

PRODUCTS = 38


def _ids(shop: InstalledShop) -> list[str | None]:
    """The custom id of every product in Shopify (None: the product has none)."""
    return [p["metafields"].get("consinco.seq_produto") for p in shop.state()["products"]]


def _lose_bindings(shop_id: int) -> None:
    with session_scope() as session:
        session.execute(
            delete(Binding).where(Binding.shop_id == shop_id, Binding.kind.in_((PRODUCT_KIND, VARIANT_KIND)))
        )


@pytest.mark.parametrize("bulk", [False, True], ids=["direct", "bulk"])
def test_products_created_without_their_custom_id_get_it_and_a_rerun_without_bindings_duplicates_none(
    installed: InstalledShop, bulk: bool
) -> None:
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    first = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=bulk)
    assert first.created == PRODUCTS and first.failed == 0
    ids = _ids(installed)
    assert len(ids) == PRODUCTS and None not in ids and len(set(ids)) == PRODUCTS
    assert installed.mutations.count("metafieldsSet") == 2  # 38 products, 25 a call

    _lose_bindings(installed.shop_id)  # the ledger restored from an old backup, say
    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=bulk)
    assert again.created == PRODUCTS and again.failed == 0  # "created" for the ledger: found by custom id
    assert len(installed.state()["products"]) == PRODUCTS  # no duplicate
    assert installed.mutations.count("metafieldsSet") == 2  # found by it: nothing missing


def test_a_shopify_that_sets_the_custom_id_itself_costs_no_extra_call(installed: InstalledShop) -> None:
    assert installed.shopify.sandbox.options.product_set_sets_custom_id  # the sandbox's default
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)
    assert installed.mutations.count("metafieldsSet") == 0
    assert len(installed.state()["products"]) == PRODUCTS


def test_a_custom_id_that_could_not_be_set_holds_the_product_until_it_is(installed: InstalledShop) -> None:
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    client = installed.client()

    def down(metafields: object) -> None:
        raise Transient("Shopify is down for the test")

    client.metafields_set = down  # type: ignore[method-assign]
    with pytest.raises(Transient):
        catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert _ids(installed) == [None] * PRODUCTS  # in Shopify, without their custom id
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(s) for s in range(1, 100)])
        assert len(bound) == PRODUCTS
        assert all(b.digest is None and b.data[MISSING] and b.shopify_id for b in bound.values())
        assert len(bindings.read_requests(session, installed.shop_id, CATALOG_RECHECK_KIND)) == PRODUCTS
        messages = session.scalars(select(Message).where(Message.flow == "products")).all()
        assert {m.status for m in messages} == {MessageStatus.RETRYING.value}
        assert {m.error_detail["code"] for m in messages} == {"CUSTOM_ID_RETRYING"}
        assert "without its ERP id (metafield consinco.seq_produto)" in messages[0].error_text

    sets = installed.mutations.count("productSet")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())  # RQ's retry
    ids = _ids(installed)
    assert len(ids) == PRODUCTS and None not in ids  # set first, by the bound id: no duplicate
    assert installed.mutations.count("productSet") - sets == PRODUCTS
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(s) for s in range(1, 100)])
        assert all(b.digest and MISSING not in b.data for b in bound.values())
        statuses = set(session.scalars(select(Message.status).where(Message.flow == "products")))
        assert statuses == {MessageStatus.DONE.value}


def test_the_product_set_answer_reads_the_app_custom_id_when_bulk_lines_name_none() -> None:
    """Bulk JSONL lines carry only identifier and input: the document's defaults are the app's id."""
    from graphql import OperationDefinitionNode, parse

    from jobs.catalog_map import CUSTOM_ID_KEY, CUSTOM_ID_NAMESPACE
    from shopify_app.admin_api.documents import DOCUMENTS_DIR

    document = parse((DOCUMENTS_DIR / "ProductSet.graphql").read_text(encoding="utf-8"))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    defaults = {
        v.variable.name.value: getattr(v.default_value, "value", None) for v in operation.variable_definitions
    }
    assert defaults["idNamespace"] == CUSTOM_ID_NAMESPACE and defaults["idKey"] == CUSTOM_ID_KEY
