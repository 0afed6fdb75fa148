"""An installed shop for the catalog flows: both sandboxes in threads, the ledger rows that link
them (shop + offline token, ERP connection, store link), and a counter of the GraphQL
mutations the Shopify sandbox executed (the "second run costs zero mutations" proof)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import OperationType, parse

from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import ErpConnection, Shop
from sandbox.consinco.runner import SandboxHandle as ErpHandle
from sandbox.consinco.runner import serve_in_thread as serve_erp
from sandbox.shopify.runner import SandboxHandle as ShopifyHandle
from sandbox.shopify.runner import serve_in_thread as serve_shopify
from settings import get_settings
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import store_tokens

logging.getLogger("werkzeug").setLevel(logging.WARNING)

SHOP_NAME = "catalogo"
SHOP_DOMAIN = f"{SHOP_NAME}.myshopify.com"
SKUS = 60


REJECTED = {
    "data": {
        "productSet": {
            "product": None,
            "userErrors": [
                {
                    "field": ["input", "variants", "0", "barcode"],
                    "message": "Barcode is invalid",
                    "code": "INVALID",
                }
            ],
        }
    },
    "extensions": {
        "cost": {
            "requestedQueryCost": 10,
            "actualQueryCost": 10,
            "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100},
        }
    },
}


@dataclass
class MutationCounter:
    """WSGI middleware counting mutation documents per root field (HTTP calls, not bulk lines)."""

    app: Any
    calls: list[str] = field(default_factory=list)
    fail_after: int | None = None  # answer HTTP 503 to every mutation after this many
    reject_seq: str | None = None  # answer userErrors to productSet of this seqProduto

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith("graphql.json"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            name = self._mutation(body)
            if name is not None:
                if self.fail_after is not None and len(self.calls) >= self.fail_after:
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                    return [b"down for the test"]
                self.calls.append(name)
                if name == "productSet" and self._custom_id(body) == self.reject_seq:
                    start_response("200 OK", [("Content-Type", "application/json")])
                    return [json.dumps(REJECTED).encode()]
        return self.app(environ, start_response)

    @staticmethod
    def _custom_id(body: bytes) -> str | None:
        variables = json.loads(body).get("variables") or {}
        return ((variables.get("identifier") or {}).get("customId") or {}).get("value")

    @staticmethod
    def _mutation(body: bytes) -> str | None:
        try:
            document = parse(json.loads(body)["query"])
        except (ValueError, KeyError, TypeError):
            return None
        for definition in document.definitions:
            if getattr(definition, "operation", None) == OperationType.MUTATION:
                return definition.selection_set.selections[0].name.value
        return None

    def count(self, name: str | None = None) -> int:
        return len([c for c in self.calls if name is None or c == name])


@dataclass
class InstalledShop:
    shop_id: int
    domain: str
    erp: ErpHandle
    shopify: ShopifyHandle
    mutations: MutationCounter

    def client(self) -> AdminClient:
        """The app's client, polling bulk operations quickly (no webhook reaches the tests)."""
        client = for_shop(self.domain)
        client.bulk.poll_initial = 0.05
        client.bulk.poll_max = 0.2
        return client

    def state(self) -> dict[str, Any]:
        from sandbox.shopify.state_dump import dump

        return dump(self.shopify.sandbox, SHOP_NAME)

    def duplicate_holding(self, client: AdminClient, seq: int | str) -> str:
        """A product someone made by hand earlier holding `seq`'s custom id (the counter is told to
        let a productSet without a custom id through); its gid."""
        self.mutations.reject_seq = "-"
        duplicate = client.product_set({"title": "Duplicate made earlier", "productOptions": [
            {"name": "Title", "values": [{"name": "Default Title"}]}], "variants": [
            {"optionValues": [{"optionName": "Title", "name": "Default Title"}]}]}).product  # fmt: skip
        client.metafields_set([{"ownerId": duplicate.id, "namespace": "consinco", "key": "seq_produto",
                                "type": "id", "value": str(seq)}])  # fmt: skip
        return duplicate.id

    def set_setting(self, key: str, value: Any) -> None:
        with session_scope() as session:
            shop = session.get(Shop, self.shop_id)
            assert shop is not None
            shop.settings = {**(shop.settings or {}), key: value}


@pytest.fixture
def erp_sandbox() -> Iterator[ErpHandle]:
    handle = serve_erp(port=0, skus=SKUS, companies=2, segments=2, seed=11)
    yield handle
    handle.stop()


@pytest.fixture
def shopify_sandbox() -> Iterator[ShopifyHandle]:
    # A Plus store's bucket (20,000 points, 1,000/s): these tests are about what the catalog sends,
    # not how its calls are paced (tests/admin_api, tests/catalog_prices_stock/test_lanes.py); on a
    # Standard bucket half of their time was the pacer's waits.
    handle = serve_shopify(port=0, default_tier="plus")
    yield handle
    handle.stop()


@pytest.fixture
def installed(env, erp_sandbox, shopify_sandbox, redis_conn) -> InstalledShop:
    counter = MutationCounter(shopify_sandbox._server.app)
    shopify_sandbox._server.app = counter
    env.setenv("SHOPIFY_BASE_URL", shopify_sandbox.url)
    settings = get_settings()
    token = shopify_sandbox.sandbox.tokens.issue_access_token(SHOP_NAME, settings.api_key, expiring=False)
    with session_scope() as session:
        shop = Shop(domain=SHOP_DOMAIN, scopes=token["scope"], settings={})
        session.add(shop)
        session.flush()
        store_tokens(session, shop, TokenSet(access_token=token["access_token"], scope=token["scope"]))
        session.add(
            ErpConnection(
                shop_id=shop.id,
                base_url=erp_sandbox.url,
                username="ecommerce",
                password_enc=encrypt("consinco"),
            )
        )
        set_store_link(session, shop.id, 1, 1)
        shop_id = shop.id
    return InstalledShop(shop_id, SHOP_DOMAIN, erp_sandbox, shopify_sandbox, counter)
