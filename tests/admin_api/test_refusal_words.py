"""A mutation Shopify answers with userErrors (ShopifyUserErrors) carries its words: the sentence
around Shopify's own message said in the merchant's language (shopify_app.note_words
shopify_refused), the operation a fragment of its own, Shopify's text a param as it came. Said in
English, the words are the refusal's text as written (the note a failed event leaves reads the same
either way in en)."""

from __future__ import annotations

from typing import Any

import pytest

from shopify_app.admin_api import documents
from shopify_app.admin_api.errors import (
    REFUSED_WHAT,
    MaxCostExceeded,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
    UserError,
)
from shopify_app.note_words import WORDS, say_note

ERRORS = [
    UserError(("input", "amount"), "Amount must be greater than zero.", "GREATER_THAN"),
    UserError((), "Something else."),
]
SHOPIFY_SAID = "input.amount: Amount must be greater than zero. (GREATER_THAN); -: Something else."


def _said(exc: Any, locale: str) -> str | None:
    """The refusal's words said as a note's (stored as ledger.order_notes keeps them)."""
    assert exc.words is not None
    key, params = exc.words
    if "what" in params:
        what_key, what_params = params["what"]
        params = {**params, "what": {"key": what_key, "params": what_params}}
    return say_note([{"key": key, "params": params}], locale)


def test_every_operation_named_is_a_mutation_and_its_fragment_says_its_name_in_english() -> None:
    operations = documents.operations()
    for operation, key in REFUSED_WHAT.items():
        assert operations[operation].is_mutation, operation
        assert WORDS[key][1] == operation, key


@pytest.mark.parametrize("operation", [*sorted(REFUSED_WHAT), "productVariantsBulkUpdate"])
def test_a_refusal_says_shopifys_words_as_they_came_in_both_languages(operation: str) -> None:
    exc = ShopifyUserErrors(operation, ERRORS)
    assert exc.message == f"{operation} rejected: {SHOPIFY_SAID}"
    assert _said(exc, "en") == exc.message
    pt = _said(exc, "pt-BR")
    assert pt is not None and pt.startswith("A Shopify recusou ") and pt.endswith(f": {SHOPIFY_SAID}"), pt
    assert "rejected" not in pt and "{" not in pt, pt


def test_the_operations_of_the_order_flows_are_said_by_what_they_do() -> None:
    assert (
        _said(ShopifyUserErrors("OrderCapture", ERRORS), "pt-BR")
        == f"A Shopify recusou a captura: {SHOPIFY_SAID}"
    )
    fulfil = _said(ShopifyUserErrors("FulfillmentCreate", ERRORS), "pt-BR")
    assert fulfil == f"A Shopify recusou o processamento: {SHOPIFY_SAID}"
    other = _said(ShopifyUserErrors("productSet", ERRORS), "pt-BR")
    assert other == f"A Shopify recusou a operação productSet: {SHOPIFY_SAID}"


def test_a_refusal_renamed_with_its_skus_keeps_words_that_say_its_new_text() -> None:
    """jobs.catalog_load names the SKU of each variant Shopify refused in the text: the words say
    that text, not the one before it."""
    from jobs.catalog_load import _naming_skus
    from jobs.catalog_map import MappedProduct

    variants = [{"inventoryItem": {"sku": "P1E1"}}, {"inventoryItem": {"sku": "P1E6"}}]
    mapped = MappedProduct(1, {"variants": variants}, "digest", "ACTIVE", [])
    refused = [UserError(("input", "variants", "1", "barcode"), "Barcode is invalid", "INVALID")]
    named = _naming_skus(ShopifyUserErrors("productSet", refused), mapped)
    assert isinstance(named, ShopifyUserErrors) and "SKU P1E6" in named.message
    assert _said(named, "en") == named.message
    assert _said(named, "pt-BR") == (
        "A Shopify recusou a operação productSet: SKU P1E6 (input.variants.1.barcode): Barcode is invalid "
        "(INVALID)"
    )


@pytest.mark.parametrize("kind", [ShopifyGraphQLError, MaxCostExceeded])
def test_a_request_shopify_refused_as_a_whole_says_its_errors_as_they_came(kind: type) -> None:
    errors = [{"message": "Access denied for orderCapture field.", "extensions": {"code": "ACCESS_DENIED"}}]
    exc = kind("OrderCapture", errors)
    assert _said(exc, "en") == exc.message == "OrderCapture: Access denied for orderCapture field."
    assert _said(exc, "pt-BR") == "A Shopify recusou a captura: Access denied for orderCapture field."


@pytest.mark.parametrize("kind", [ShopifyHTTPError, ShopifyUnauthorized])
def test_an_http_refusal_says_shopifys_body_as_it_came(kind: type) -> None:
    exc = kind(403, "Forbidden" + "x" * 400)
    assert _said(exc, "en") == exc.message
    assert _said(exc, "pt-BR") == f"A Shopify respondeu HTTP 403: Forbidden{'x' * 291}"
