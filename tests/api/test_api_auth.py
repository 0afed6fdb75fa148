"""Every /api route: a missing or forged ID token is a 401, a role below the minimum a 403."""

from __future__ import annotations

import re

from spine_auth.factories import SHOP_A, bearer, make_id_token
from werkzeug.routing import Rule

from app import create_app
from ledger.models import Role
from settings import Settings

from .conftest import headers

SAMPLE_ARGS = {
    "event_id": "1",
    "job_id": "catalog-diff-1-abc",
    "mapping_id": "1",
    "flow": "products",
    "message_id": "1",
    "order_id": "1",
    "user_id": "77",
}
BELOW = {Role.OPERATOR: Role.VIEWER, Role.ADMIN: Role.OPERATOR, Role.OWNER: Role.ADMIN}


def api_routes() -> list[tuple[str, str, Rule]]:
    app = create_app(Settings.from_env(), blueprints=("shopify_app.api",), cli_modules=())
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api") and rule.endpoint != "api.unknown":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule)
                found.append((method, path, rule))
    return found


ROUTES = api_routes()


def test_every_route_is_role_protected(app):
    for _, _, rule in ROUTES:
        view = app.view_functions[rule.endpoint]
        assert isinstance(getattr(view, "required_role", None), Role), rule.rule


def test_missing_and_forged_tokens_are_401(client):
    forged = bearer(make_id_token(SHOP_A, "2", secret="x" * 40))
    wrong = []
    for method, path, _ in ROUTES:
        missing = client.open(path, method=method, json={})
        bad = client.open(path, method=method, json={}, headers=forged)
        codes = (
            missing.status_code,
            missing.get_json()["error"]["code"],
            bad.status_code,
            bad.get_json()["error"]["code"],
        )
        if codes != (401, "unauthenticated", 401, "invalid_session"):
            wrong.append((method, path, codes))
    assert wrong == []


def test_a_role_below_the_minimum_is_403(app, client):
    checked, wrong = 0, []
    for method, path, rule in ROUTES:
        minimum = app.view_functions[rule.endpoint].required_role
        if minimum is Role.VIEWER:
            continue
        below = BELOW[minimum]
        response = client.open(path, method=method, json={}, headers=headers(below))
        checked += 1
        body = response.get_json()
        if response.status_code != 403 or body["error"]["role"] != below.value:
            wrong.append((method, path, response.status_code))
    assert wrong == []
    assert checked >= 15


def test_reads_need_only_viewer(client):
    assert client.get("/api/me", headers=headers(Role.VIEWER)).get_json()["role"] == "viewer"
