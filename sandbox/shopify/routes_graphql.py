"""POST /admin/api/2026-10/graphql.json — Shopify's Admin GraphQL endpoint."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.shopify import executor
from sandbox.shopify.hosts import request_shop
from sandbox.shopify.schema import API_VERSION

blueprint = Blueprint("sandbox_graphql", __name__)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def _answer(body: dict | str, status: int = 200) -> Response:
    response = jsonify(body if isinstance(body, dict) else {"errors": body})
    response.status_code = status
    response.headers["X-Request-Id"] = str(uuid.uuid4())
    return response


@blueprint.post("/admin/api/<version>/graphql.json")
def graphql(version: str) -> Response:
    sandbox = current_app.config["SANDBOX"]
    if version != API_VERSION:
        return _answer("Not Found", 404)
    shop = request_shop()
    if shop is None:
        return _answer("Not Found", 404)
    token = sandbox.tokens.check_access_token(request.headers.get("X-Shopify-Access-Token"))
    if token is None or token["shop"] != shop:
        return _answer(INVALID_TOKEN, 401)
    if request.mimetype == "application/graphql":
        payload = {"query": request.get_data(as_text=True)}
    else:
        payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _answer(
            {"errors": [{"message": "No query string was present", "extensions": {"code": "BAD_REQUEST"}}]},
            400,
        )
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return _answer({"errors": [{"message": "Variables must be an object"}]}, 400)
    body = executor.run(
        sandbox,
        shop,
        token["api_key"],
        payload["query"],
        variables,
        payload.get("operationName"),
        scopes=token.get("scope") or "",
    )
    return _answer(body)
