"""Mutations without an idempotency key are not sent again after an answer that may hide their
success (executor.NOT_RESENT): a fulfillmentCreate whose answer was lost (a 5xx, a read timeout)
would fulfil the same units twice while the fulfillment order still has that many left (an order
invoiced over several NF-e), or be refused as nothing left to fulfil and fail an invoice that is
done. The error goes up as transient after the one attempt; the caller's retry re-reads first."""

from __future__ import annotations

import pytest
import requests

from shopify_app.admin_api import documents
from shopify_app.admin_api.errors import ShopifyTransient
from shopify_app.admin_api.executor import NOT_RESENT
from tests.admin_api.conftest import URL, gql_body, sent

MADE = {
    "fulfillmentCreate": {
        "fulfillment": {"id": "gid://shopify/Fulfillment/9", "status": "SUCCESS"},
        "userErrors": [],
    }
}
LINES = {
    "gid://shopify/FulfillmentOrder/1": [{"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 3}]
}
LOST = [
    pytest.param({"status_code": 502, "text": "<html>Bad Gateway</html>"}, id="502"),
    pytest.param({"exc": requests.exceptions.ReadTimeout}, id="read-timeout"),
]

# Resent after a lost answer: the second call does what the first did, or answers "done already"
# with a code its caller reads (the reason, checked against the 2026-10 schema's descriptions).
RESENT = {
    "MetafieldDefinitionCreate": "TAKEN: ensure_metafield_definition reads it as there already",
    "FulfillmentOrderPreparedForPickup": "NOTHING_TO_PREPARE read as ready already",
    "FulfillmentTrackingInfoUpdate": "sets the tracking",
    "MetafieldsSet": "sets values",
    "MetafieldsDelete": "a metafield already gone is no error",
    "OrderEditBegin": "an edit never committed changes nothing",
    "OrderEditSetQuantity": "sets a staged quantity",
    "PriceListFixedPricesAdd": "sets prices by variant",
    "PriceListFixedPricesDelete": "the job re-reads; deletes by variant",
    "PriceListFixedPricesUpdate": "sets and deletes prices by variant",
    "ProductSet": "an upsert by identifier (custom id, handle or id)",
    "ProductVariantsBulkUpdate": "sets variant fields",
    "PublishablePublish": "publishing a published product changes nothing",
    "StagedUploadsCreate": "upload targets only",
    "TagsAdd": "adds to a set",
}


def test_every_mutation_is_keyed_held_back_or_known_to_be_safe_to_send_again() -> None:
    """A mutation document added later is classified here before it is sent: @idempotent with a key,
    not resent, or resent for a reason named above."""
    mutations = {name for name, op in documents.operations().items() if op.is_mutation}
    keyed = {name for name in mutations if documents.operation(name).key_variable}
    assert keyed == {"InventoryActivate", "InventorySetAvailable", "InventorySetQuantities"}
    assert mutations >= NOT_RESENT and not NOT_RESENT & (keyed | set(RESENT))
    assert mutations - keyed - NOT_RESENT == set(RESENT)


@pytest.mark.parametrize("lost", LOST)
def test_a_fulfillment_whose_answer_was_lost_is_not_created_again(client, http, lost) -> None:
    http.post(URL, [lost, {"json": gql_body(MADE)}])
    with pytest.raises(ShopifyTransient):  # the caller re-reads the order and fulfils what is left
        client.fulfillment_create(LINES)
    assert len(sent(http)) == 1


@pytest.mark.parametrize("lost", LOST)
def test_a_void_a_fulfillment_cancel_and_an_added_variant_are_not_sent_again(client, http, lost) -> None:
    http.post(URL, [lost])
    with pytest.raises(ShopifyTransient):
        client.transaction_void("gid://shopify/OrderTransaction/1")
    with pytest.raises(ShopifyTransient):
        client.executor.mutate(
            "FulfillmentCancel", {"id": "gid://shopify/Fulfillment/1"}, "fulfillmentCancel"
        )
    with pytest.raises(ShopifyTransient):
        client.order_edit_add_variant("gid://shopify/CalculatedOrder/1", "gid://shopify/ProductVariant/1", 1)
    with pytest.raises(ShopifyTransient):
        client.catalog_create("Consinco 1/1 br", ["gid://shopify/Market/1"])
    assert [b["operationName"] for b in sent(http)] == [
        "TransactionVoid", "FulfillmentCancel", "OrderEditAddVariant", "CatalogCreate"
    ]  # fmt: skip


def test_a_resendable_mutation_is_still_sent_again_after_a_5xx(client, http) -> None:
    done = {"tagsAdd": {"node": {"id": "gid://shopify/Order/1"}, "userErrors": []}}
    http.post(URL, [{"status_code": 502, "text": "Bad Gateway"}, {"json": gql_body(done)}])
    client.tags_add("gid://shopify/Order/1", ["nfe"])
    assert [b["operationName"] for b in sent(http)] == ["TagsAdd", "TagsAdd"]
