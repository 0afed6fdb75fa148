"""OAuth: /admin/oauth/authorize (authorization code grant) and /admin/oauth/access_token
(authorization code, token exchange from an ID token, refresh of expiring offline tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from sandbox.shopify.hosts import request_shop

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

blueprint = Blueprint("sandbox_oauth", __name__)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ONLINE_TOKEN = "urn:shopify:params:oauth:token-type:online-access-token"


def query_hmac(params: dict[str, str], secret: str) -> str:
    """Shopify's query-string signature: hex HMAC-SHA256 of sorted `k=v` joined by `&`."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


@blueprint.get("/admin/oauth/authorize")
def authorize() -> Response:
    sandbox = current_app.config["SANDBOX"]
    options = sandbox.options
    shop = request_shop() or request.args.get("shop", "").removesuffix(".myshopify.com") or None
    if shop is None:
        return _error("invalid_request", "Unknown shop", 404)
    if request.args.get("client_id") != options.api_key:
        return _error("invalid_request", "Oauth error invalid_request: The client_id is invalid")
    redirect_uri = request.args.get("redirect_uri") or f"{options.app_url}/auth/callback"
    sandbox.shops.ensure(shop)
    params = {
        "code": sandbox.tokens.issue_code(shop, options.api_key),
        "host": base64.b64encode(f"admin.shopify.com/store/{shop}".encode()).decode().rstrip("="),
        "shop": f"{shop}.myshopify.com",
        "state": request.args.get("state", ""),
        "timestamp": str(int(sandbox.clock.now())),
    }
    params["hmac"] = query_hmac(params, options.api_secret)
    return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}")


@blueprint.post("/admin/oauth/access_token")
def access_token() -> Response:
    sandbox = current_app.config["SANDBOX"]
    options = sandbox.options
    form = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    form = {k: str(v) for k, v in (form or {}).items()}
    shop = request_shop()
    if shop is None:
        return _error("invalid_request", "Unknown shop", 404)
    if form.get("client_id") != options.api_key or not hmac.compare_digest(
        form.get("client_secret", ""), options.api_secret
    ):
        return _error("invalid_client", "Client credentials are invalid")
    grant = form.get("grant_type", "authorization_code" if "code" in form else "")
    expiring = form.get("expiring") == "1"
    if grant == "authorization_code":
        if not sandbox.tokens.redeem_code(shop, options.api_key, form.get("code", "")):
            return _error("invalid_request", "The authorization code was not found or was already used")
        return jsonify(sandbox.tokens.issue_access_token(shop, options.api_key, expiring))
    if grant == TOKEN_EXCHANGE:
        claims = sandbox.tokens.verify_id_token(form.get("subject_token", ""))
        if claims is None or claims["dest"] != f"https://{shop}.myshopify.com":
            return _error("invalid_subject_token", "The subject token is invalid or expired")
        if form.get("requested_token_type") == ONLINE_TOKEN:
            return jsonify(_online_token(sandbox, shop, claims["sub"]))
        return jsonify(sandbox.tokens.issue_access_token(shop, options.api_key, expiring))
    if grant == "refresh_token":
        body = sandbox.tokens.refresh(shop, options.api_key, form.get("refresh_token", ""))
        if body is None:
            return _error("invalid_grant", "The refresh token is invalid, expired or was already used")
        return jsonify(body)
    return _error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")


def _online_token(sandbox: Sandbox, shop: str, user_id: str) -> dict:
    member = sandbox.shops.staff_member(shop, user_id) or {}
    body = sandbox.tokens.issue_online_token(shop, sandbox.options.api_key)
    return {
        **body,
        "associated_user_scope": body["scope"],
        "associated_user": {
            "id": int(user_id),
            "first_name": member.get("firstName"),
            "last_name": member.get("lastName"),
            "email": member.get("email"),
            "email_verified": True,
            "account_owner": member.get("isShopOwner", False),
            "locale": "pt-BR",
            "collaborator": False,
        },
    }
