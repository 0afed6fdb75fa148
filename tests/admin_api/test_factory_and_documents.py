"""for_shop wiring (settings origin, tokens, Redis) and the document loader."""

from __future__ import annotations

import pytest

from shopify_app.admin_api import documents, for_shop
from shopify_app.admin_api.documents import DocumentError, load_operations
from tests.admin_api.conftest import SHOP, gql_body


def test_for_shop_uses_settings_origin_and_the_tokens_module(env, redis_conn, http, monkeypatch):
    env.setenv("SHOPIFY_BASE_URL", "http://sandbox.example:8701")
    calls: list[tuple[str, str | None]] = []

    def fake_get_access_token(shop_domain: str, *, refused: str | None = None) -> str:
        calls.append((shop_domain, refused))
        return "shpat_from_tokens"

    monkeypatch.setattr("shopify_app.tokens.get_access_token", fake_get_access_token)
    url = "http://sandbox.example:8701/admin/api/2026-10/graphql.json"
    http.post(url, json=gql_body({"job": {"id": "gid://shopify/Job/1", "done": True}}))
    client = for_shop(SHOP, redis=redis_conn)
    assert client.job("gid://shopify/Job/1").done
    request = http.request_history[0]
    assert request.headers["Host"] == SHOP
    assert request.headers["X-Shopify-Access-Token"] == "shpat_from_tokens"
    assert calls == [(SHOP, None)]
    assert redis_conn.exists(f"shopify:bucket:{SHOP}")  # the shared bucket lives in the given Redis


def test_for_shop_talks_to_the_real_shop_without_a_base_url(env, redis_conn, http):
    env.delenv("SHOPIFY_BASE_URL", raising=False)
    http.post(
        f"https://{SHOP}/admin/api/2026-10/graphql.json", json=gql_body({"job": {"id": "j", "done": True}})
    )
    client = for_shop(SHOP, redis=redis_conn, token_provider=lambda _refused: "t")
    client.job("j")
    assert http.request_history[0].headers.get("Host") is None  # the URL itself names the shop


def test_every_operation_is_parsed_once_with_the_fragments_it_uses():
    ops = documents.operations()
    assert documents.operations() is ops
    order = ops["Order"]
    names = [d.name.value for d in order.request.document.definitions]
    assert names[0] == "Order"
    assert set(names[1:]) == {
        "OrderFields",
        "OrderBuyerFields",
        "OrderLineFields",
        "OrderShippingLineFields",
        "MailingAddressFields",
        "MoneyBagFields",
    }
    assert ops["InventorySetQuantities"].is_mutation and not order.is_mutation


def test_unknown_operation_is_a_clear_error():
    with pytest.raises(DocumentError, match="NoSuchOperation"):
        documents.operation("NoSuchOperation")


def test_loader_refuses_two_operations_in_one_file(tmp_path):
    (tmp_path / "Two.graphql").write_text("query A { shop { id } }\nquery B { shop { id } }")
    with pytest.raises(DocumentError, match="one named operation"):
        load_operations(tmp_path)


def test_loader_refuses_an_unknown_fragment(tmp_path):
    (tmp_path / "Q.graphql").write_text("query Q { shop { ...Missing } }")
    with pytest.raises(DocumentError, match="Missing"):
        load_operations(tmp_path)
