"""Install and session routes.

- `POST /auth/session`: the embedded page's first call, with `Authorization: Bearer <ID token>`.
  Installs by token exchange when the shop has no usable offline token (new, uninstalled,
  needs re-auth), then answers who the caller is: {shop, user_id, role, installed}; or 409
  needs_reauth with the reason when the grant lacks scopes the app requires.
- `GET /auth/install?shop=` and `GET /auth/callback`: the authorization code grant for installs
  that start outside the admin (shop domain regex, state nonce in a signed cookie, query HMAC
  in constant time, signed-query freshness).

Every refusal is a 4xx (or 502/503 when Shopify itself is the problem) with a JSON reason.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Blueprint, current_app, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import InterfaceError, OperationalError

from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Shop, ShopStatus
from settings import Settings
from shopify_app import oauth, shop_timezone
from shopify_app.id_token import InvalidIdToken, bearer_token, verify_id_token
from shopify_app.roles import database_down, json_error, resolve_role
from shopify_app.scopes import is_missing_reason, missing_scopes
from shopify_app.shops import find_shop
from shopify_app.token_endpoint import TokenRequestRejected, exchange_authorization_code
from shopify_app.tokens import shop_token_lock

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

STATE_COOKIE = "shopify_oauth_state"
STATE_MAX_AGE_SECONDS = 600
# Token-exchange refusals that mean "this ID token is no good": the page should fetch a new one.
_SUBJECT_TOKEN_ERRORS = {"invalid_subject_token", "invalid_token"}


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _state_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="shopify-oauth-state")


@bp.errorhandler(oauth.InstallRefused)
def _install_refused(exc: oauth.InstallRefused) -> ResponseReturnValue:
    return json_error(exc.status, exc.code, exc.reason)


@bp.errorhandler(Transient)
def _shopify_unavailable(exc: Transient) -> ResponseReturnValue:
    log.warning("auth: Shopify unavailable: %s", exc.message)
    response = json_error(503, "shopify_unavailable", "Shopify could not be reached; try again shortly")
    response.headers["Retry-After"] = str(int(exc.retry_after or 5))
    return response


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _database_down(exc: Exception) -> ResponseReturnValue:
    return database_down(exc)


@bp.post("/session")
def session() -> ResponseReturnValue:
    """Authenticate the embedded page and install by token exchange when needed."""
    settings = _settings()
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return json_error(401, "unauthenticated", "missing Authorization: Bearer <ID token>")
    try:
        claims = verify_id_token(token, settings)
    except InvalidIdToken as exc:
        log.info("auth: rejected ID token: %s", exc.reason)
        return json_error(401, "invalid_session", exc.reason)

    try:
        newly_installed = oauth.ensure_installed(settings, claims, token)
    except TokenRequestRejected as exc:
        if exc.error in _SUBJECT_TOKEN_ERRORS:
            return json_error(401, "invalid_session", "Shopify refused this ID token")
        return json_error(502, "install_refused", exc.message, shopify_error=exc.error)

    with session_scope(settings.database_url) as db:
        shop = find_shop(db, claims.shop)
        if shop is None:  # uninstalled between the exchange and now
            return json_error(409, "not_installed", "the app is not installed on this shop")
        if shop.status == ShopStatus.NEEDS_REAUTH.value:
            return _parked(settings, shop)
        role = resolve_role(db, shop, claims.user_id)
    return jsonify(
        {
            "shop": claims.shop,
            "user_id": claims.user_id,
            "role": role.value,
            "installed": True,
            "newly_installed": newly_installed,
            # the page shows dates in the store's time (read from Shopify at install)
            "timezone": shop_timezone.remember(settings, claims.shop, refresh=newly_installed),
        }
    )


def _parked(settings: Settings, shop: Shop) -> ResponseReturnValue:
    """409 for a shop the install left parked (its grant lacks scopes the app requires): the
    reason, and for missing scopes the way to ask Shopify for them. No `action`: opening the
    session again would only get the same grant."""
    reason = shop.status_reason or "the shop must authorize the app again"
    extra: dict[str, object] = {}
    if is_missing_reason(reason):
        extra["missing_scopes"] = missing_scopes(shop.scopes.split(","), settings.scope_list)
        extra["reauthorize"] = oauth.reauthorize_path(shop.domain)
    return json_error(409, "needs_reauth", reason, reason=reason, **extra)


@bp.get("/install")
def install() -> ResponseReturnValue:
    """Start the authorization code grant: send the merchant to approve the app's scopes."""
    settings = _settings()
    shop = oauth.clean_shop(request.args.get("shop"))
    if "hmac" in request.args:
        reason = oauth.verify_query_hmac(request.args.to_dict(flat=False), settings.signing_secrets)
        if reason is not None:
            return json_error(401, "invalid_hmac", reason)
    state = secrets.token_urlsafe(32)
    response = redirect(oauth.authorize_url(settings, shop, state), code=302)
    response.set_cookie(
        STATE_COOKIE,
        _state_serializer(settings).dumps({"state": state, "shop": shop}),
        max_age=STATE_MAX_AGE_SECONDS,
        path="/auth",
        secure=settings.app_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


def _check_state(settings: Settings, state: str | None, shop: str) -> None:
    """The callback's `state` must be the nonce this browser was given, for this shop."""
    cookie = request.cookies.get(STATE_COOKIE)
    if not cookie or not state:
        raise oauth.InstallRefused(401, "invalid_state", "missing OAuth state; start the install again")
    try:
        saved = _state_serializer(settings).loads(cookie, max_age=STATE_MAX_AGE_SECONDS)
    except BadSignature as exc:  # includes SignatureExpired
        raise oauth.InstallRefused(401, "invalid_state", "OAuth state expired or tampered") from exc
    # compare_digest refuses non-ASCII text (a TypeError, a 500): compare the bytes instead.
    expected = str(saved.get("state", "")).encode() if isinstance(saved, dict) else b""
    if not expected or not hmac.compare_digest(expected, state.encode("utf-8")):
        raise oauth.InstallRefused(401, "invalid_state", "OAuth state does not match")
    if saved.get("shop") != shop:
        raise oauth.InstallRefused(401, "invalid_state", "OAuth state was issued for another shop")


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    """Finish the grant: verify Shopify's signature and our nonce, exchange the code, store tokens."""
    settings = _settings()
    params = request.args.to_dict(flat=False)
    reason = oauth.verify_query_hmac(params, settings.signing_secrets)
    if reason is not None:
        log.info("auth: callback refused: %s", reason)
        return json_error(401, "invalid_hmac", reason)
    shop = oauth.clean_shop(request.args.get("shop"))
    _check_state(settings, request.args.get("state"), shop)
    code = request.args.get("code")
    if not code:
        return json_error(400, "missing_code", "the callback carries no authorization code")
    # Under the shop's token lock, as token exchange installs: a worker refreshing the old grant's
    # token meanwhile neither parks the shop nor overwrites the new token (shopify_app.tokens).
    # Taken before the code is spent, so a busy lock answers 503 and a reload of this URL works.
    with shop_token_lock(settings, shop):
        try:
            token_set = exchange_authorization_code(settings, shop, code)
        except TokenRequestRejected as exc:
            return json_error(400, "code_refused", exc.message, shopify_error=exc.error)
        oauth.install(settings, shop, token_set, actor="merchant")
    shop_timezone.remember(settings, shop, refresh=True)
    response = redirect(oauth.app_home_url(settings, shop), code=302)
    response.delete_cookie(STATE_COOKIE, path="/auth")
    return response
