"""The control API (reset, tier, chaos) and a static check that every userError code the
resolvers use exists in the real schema's enums (a wrong code would break serialization)."""

from __future__ import annotations

import ast
from pathlib import Path

import requests

from sandbox.shopify.schema import admin_schema
from sandbox.shopify.shops import STAFF
from sandbox.shopify.tokens import DEFAULT_SCOPES

from .helpers import PRODUCT_SET, ShopClient, two_variant_input

RESOLVERS = Path(__file__).resolve().parents[2] / "sandbox" / "shopify"


def test_every_user_error_code_exists_in_the_schema() -> None:
    enum_values = {
        value
        for named in admin_schema().type_map.values()
        if named.name.endswith("Code") and hasattr(named, "values")
        for value in named.values
    }
    used = set()
    for path in [*RESOLVERS.glob("resolvers/*.py"), RESOLVERS / "idempotency.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("user_error", "_error"):
                used |= {
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.isupper()
                }
    assert used, "no codes found: the scan is broken"
    assert used <= enum_values, used - enum_values


def test_reset_tier_and_chaos_endpoints(shop: ShopClient, emulator) -> None:
    shop.data(PRODUCT_SET, {"input": two_variant_input()})
    base = f"{emulator.url}/_sandbox"
    assert requests.post(f"{base}/shops/acme/tier", json={"tier": "advanced"}, timeout=10).status_code == 200
    assert shop.gql("{ shop { name } }")["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 200.0
    assert requests.post(f"{base}/shops/acme/tier", json={"tier": "gold"}, timeout=10).status_code == 400
    reset = requests.post(f"{base}/shops/acme/reset", timeout=10).json()
    assert [m["handle"] for m in reset["staff"]] == [s[0] for s in STAFF]
    state = requests.get(f"{base}/shops/acme/state", timeout=10).json()
    assert state["products"] == [] and len(state["locations"]) == 3
    chaos = requests.post(f"{base}/chaos", json={"duplicate_rate": 0.5, "reorder": True}, timeout=10).json()
    assert chaos["duplicate_rate"] == 0.5 and chaos["reorder"] is True


def test_uninstall_revokes_tokens_and_sends_app_uninstalled(shop: ShopClient, emulator, receiver) -> None:
    assert shop.post("{ shop { name } }").status_code == 200
    answer = requests.post(f"{emulator.url}/_sandbox/shops/acme/uninstall", timeout=10).json()
    assert answer["revoked_tokens"] == 1
    assert shop.post("{ shop { name } }").status_code == 401
    assert emulator.sandbox.webhooks.wait_idle()
    [got] = receiver.topics("app/uninstalled")
    assert got.json["myshopify_domain"] == "acme.myshopify.com"


def test_changing_the_grant_sends_app_scopes_update(shop: ShopClient, emulator, receiver) -> None:
    """The merchant approves (or loses) access scopes: Shopify sends app/scopes_update with the
    grant before and after, and tokens issued from then on carry the new grant."""
    url = f"{emulator.url}/_sandbox/shops/acme/scopes"
    answer = requests.post(url, json={"scopes": "read_products,write_orders"}, timeout=10).json()
    assert answer["current"] == ["read_products", "write_orders"] and len(answer["webhook_ids"]) == 1
    assert emulator.sandbox.webhooks.wait_idle()
    [got] = receiver.topics("app/scopes_update")
    assert got.json["previous"] == DEFAULT_SCOPES.split(",")
    assert got.json["current"] == ["read_products", "write_orders"]
    assert got.json["updated_at"] and got.json["id"] and got.json["shop_id"]
    issued = emulator.sandbox.tokens.issue_access_token(
        "acme", emulator.sandbox.options.api_key, expiring=True
    )
    assert issued["scope"] == "read_products,write_orders"
    again = requests.post(url, json={"scopes": ["read_products"]}, timeout=10).json()
    assert again["previous"] == ["read_products", "write_orders"] and again["current"] == ["read_products"]
    assert requests.post(url, json={}, timeout=10).status_code == 400


def test_control_sends_compliance_topic(emulator, receiver) -> None:
    payload = {
        "shop_id": 1,
        "shop_domain": "acme.myshopify.com",
        "customer": {"id": 7},
        "orders_to_redact": [1],
    }
    sent = requests.post(
        f"{emulator.url}/_sandbox/shops/acme/webhooks",
        json={"topic": "customers/redact", "payload": payload},
        timeout=10,
    ).json()
    assert len(sent["webhook_ids"]) == 1
    assert emulator.sandbox.webhooks.wait_idle()
    assert receiver.topics("customers/redact")[0].json == payload
