"""Every product the app sends carries its custom id (consinco.seq_produto), whether or not productSet
sets it on the products it creates (Shopify's docs do not promise it): the sandbox switch
`product_set_sets_custom_id` plays both."""

from __future__ import annotations

from typing import Any

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
from sandbox.shopify import catalog
from sandbox.shopify.registry import Ctx
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError

from .conftest import SHOP_NAME, InstalledShop

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


# ---- one refused product of a metafieldsSet call (atomic: a userError on one element sets none) ----

BAD = 1  # a seqProduto of the first 25


def _failed(shop_id: int) -> dict[int, Message]:
    with session_scope() as session:
        rows = session.scalars(
            select(Message).where(Message.flow == "products", Message.status == MessageStatus.FAILED.value)
        ).all()
        session.expunge_all()
    return {int(m.unit_key.split(":")[1]): m for m in rows}


def _refusing(client: Any, user_error: Any) -> Any:
    """client.metafields_set answering as Shopify would when the element setting BAD's id is refused."""
    real = client.metafields_set

    def one_refused(metafields: list[dict[str, Any]]) -> Any:
        for i, m in enumerate(metafields):
            if m["value"] == str(BAD):
                raise ShopifyUserErrors("metafieldsSet", [user_error(i)])
        return real(metafields)

    return one_refused


def test_one_refused_custom_id_does_not_hold_the_other_24(installed: InstalledShop) -> None:
    """(The reviewer's scenario.) Shopify names the refused element (elementIndex): only it fails,
    the other 24 of its call are set in one more call."""
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    client = installed.client()
    taken = "Value is already assigned to another product"
    client.metafields_set = _refusing(  # type: ignore[method-assign]
        client, lambda i: UserError(("metafields", str(i), "value"), taken, "TAKEN", i)
    )
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert sorted(_failed(installed.shop_id)) == [BAD]
    ids = _ids(installed)
    assert ids.count(None) == 1 and len(set(ids)) == PRODUCTS
    assert installed.mutations.count("metafieldsSet") == 2  # 24 again (the refusal is played here), 13


def test_a_refusal_naming_no_element_halves_the_call_until_the_refused_one_is_alone(
    installed: InstalledShop,
) -> None:
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    client = installed.client()
    client.metafields_set = _refusing(  # type: ignore[method-assign]
        client, lambda i: UserError(("metafields",), "Something is invalid", "INVALID")
    )
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    failed = _failed(installed.shop_id)
    assert sorted(failed) == [BAD]
    assert "Something is invalid" in (failed[BAD].error_text or "")
    assert _ids(installed).count(None) == 1


def _held_by_a_transient(installed: InstalledShop) -> None:
    """Every product created without its custom id and bound so (custom_id_missing)."""
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    client = installed.client()

    def down(metafields: object) -> None:
        raise Transient("Shopify is down for the test")

    client.metafields_set = down  # type: ignore[method-assign]
    with pytest.raises(Transient):
        catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert _ids(installed) == [None] * PRODUCTS


def _delete_product(installed: InstalledShop, product_id: str) -> None:
    """As a person deleting it in Shopify admin: the product goes with its metafields and variants."""
    store = installed.shopify.sandbox.store
    for metafield in store.scan(SHOP_NAME, "Metafield"):
        if metafield["ownerId"] == product_id:
            store.delete(SHOP_NAME, metafield["id"])
    ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
    for variant in catalog.variants_of(ctx, product_id):
        catalog.delete_variant(ctx, variant)
    store.delete(SHOP_NAME, product_id)


def _bound(shop_id: int, seq: int) -> Binding:
    with session_scope() as session:
        row = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(seq)])[str(seq)]
        session.expunge(row)
    return row


def test_a_custom_id_taken_by_a_duplicate_fails_that_product_alone_naming_the_duplicate(
    installed: InstalledShop,
) -> None:
    _held_by_a_transient(installed)
    client = installed.client()
    duplicate_id = installed.duplicate_holding(client, BAD)

    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # the re-plan asked for
    failed = _failed(installed.shop_id)
    assert sorted(failed) == [BAD]
    message = failed[BAD]
    assert message.error_detail["code"] == "CUSTOM_ID_TAKEN"
    assert duplicate_id in (message.error_text or "") and "delete" in (message.error_text or "")
    ids = [i for i in _ids(installed) if i is not None]
    assert len(ids) == PRODUCTS and len(set(ids)) == PRODUCTS  # 37 set, and the duplicate's
    assert MISSING in _bound(installed.shop_id, BAD).data

    # Retry, once the duplicate is deleted: the id goes on the bound product, which is then sent.
    _delete_product(installed, duplicate_id)
    catalog_flow.replay(message.id, client=client)
    assert _failed(installed.shop_id) == {}
    ids = _ids(installed)
    assert len(ids) == PRODUCTS and None not in ids and len(set(ids)) == PRODUCTS
    bound = _bound(installed.shop_id, BAD)
    assert bound.digest and MISSING not in bound.data


def test_a_product_deleted_before_its_custom_id_is_set_fails_alone_and_its_retry_creates_it_again(
    installed: InstalledShop,
) -> None:
    installed.shopify.sandbox.options.product_set_sets_custom_id = False
    client = installed.client()
    real = client.metafields_set
    gone: list[str] = []

    def deleted_meanwhile(metafields: list[dict[str, Any]]) -> Any:
        for m in metafields:
            if m["value"] == str(BAD) and not gone:
                gone.append(m["ownerId"])
                _delete_product(installed, m["ownerId"])
        return real(metafields)

    client.metafields_set = deleted_meanwhile  # type: ignore[method-assign]
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    failed = _failed(installed.shop_id)
    assert sorted(failed) == [BAD]
    assert failed[BAD].error_detail["code"] == "CUSTOM_ID_PRODUCT_GONE"
    assert "deleted" in (failed[BAD].error_text or "")
    ids = _ids(installed)
    assert len(ids) == PRODUCTS - 1 and None not in ids

    catalog_flow.replay(failed[BAD].id, client=installed.client())
    assert _failed(installed.shop_id) == {}
    ids = _ids(installed)
    assert len(ids) == PRODUCTS and None not in ids and len(set(ids)) == PRODUCTS
    bound = _bound(installed.shop_id, BAD)
    assert bound.shopify_id not in gone and bound.digest and MISSING not in bound.data
    made_again = installed.shopify.sandbox.store.get(SHOP_NAME, bound.shopify_id)
    assert made_again is not None and made_again["publishedOn"]  # published, as any product it creates


class _FakeClient:
    """metafieldsSet answering as scripted: a list of exceptions (None: the call sets them)."""

    def __init__(self, answers: list[Exception | None]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def metafields_set(self, metafields: list[dict[str, Any]]) -> list[Any]:
        self.calls.append([m["value"] for m in metafields])
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        return []

    def product_by_custom_id(self, namespace: str, key: str, value: str) -> None:
        return None


def test_set_ids_reads_the_index_in_field_and_a_transient_resend_leaves_the_rest_retrying() -> None:
    from jobs.catalog_custom_id import set_ids

    products = {seq: f"gid://shopify/Product/{seq}" for seq in range(1, 31)}
    refused = ShopifyUserErrors(  # no elementIndex: the index in the field path names the element
        "metafieldsSet", [UserError(("metafields", "2", "value"), "Value is invalid", "INVALID_VALUE")]
    )
    client = _FakeClient([refused, Transient("503 for the test")])
    failures = set_ids(client, products)  # type: ignore[arg-type]
    assert client.calls[1] == [str(s) for s in range(1, 26) if s != 3]  # the other 24, once more
    assert len(client.calls) == 2  # the transient stops the calls
    assert failures[3].detail["code"] == "CUSTOM_ID_FAILED" and "Value is invalid" in failures[3].message
    assert set(failures) == set(range(1, 31))
    assert all(isinstance(failures[s], Transient) for s in failures if s != 3)


def test_a_held_product_found_deleted_in_shopify_is_sent_again_as_new(installed: InstalledShop) -> None:
    _held_by_a_transient(installed)
    deleted = _bound(installed.shop_id, BAD).shopify_id
    assert deleted is not None
    _delete_product(installed, deleted)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())  # the re-plan
    assert _failed(installed.shop_id) == {}
    ids = _ids(installed)
    assert len(ids) == PRODUCTS and None not in ids and len(set(ids)) == PRODUCTS
    bound = _bound(installed.shop_id, BAD)
    assert bound.shopify_id != deleted and bound.digest and MISSING not in bound.data
    made_again = installed.shopify.sandbox.store.get(SHOP_NAME, bound.shopify_id)
    assert made_again is not None and made_again["publishedOn"]  # published, as any product it creates
