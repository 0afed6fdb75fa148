"""The embedded admin page: one HTML shell, plain JS modules, i18n catalogues, script stand-ins.

Shopify loads the app at `/` (or `/app/...`) inside the admin's iframe with `?shop=&host=&locale=`.
The shell carries the `shopify-api-key` meta and loads App Bridge and Polaris web components
from Shopify's CDN; the page's own modules (frontend/static/app) do everything else through the
JSON API with the ID token App Bridge hands out.

Where the CDN cannot be reached (the local demo against the sandboxes, the browser tests) the
shell loads local stand-ins instead (frontend/static/stand-ins): chosen when the app talks to
the Shopify sandbox (`SHOPIFY_BASE_URL` set) or `FRONTEND_LOCAL_SCRIPTS=1`, never in production.
The app-bridge stand-in gets its ID tokens from the sandbox's control API through
`/_stand-in/id_token`, a route that exists only in sandbox mode (the sandbox does not answer
cross-origin calls).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from urllib.parse import urlencode

import requests
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue

from settings import ROOT, Settings
from shopify_app.id_token import is_valid_shop_domain

log = logging.getLogger(__name__)

FRONTEND_DIR = ROOT / "frontend"
STATIC_DIR = FRONTEND_DIR / "static"
I18N_DIR = FRONTEND_DIR / "i18n"

APP_BRIDGE_CDN = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
POLARIS_CDN = "https://cdn.shopify.com/shopifycloud/polaris.js"
APP_BRIDGE_STAND_IN = "/static/stand-ins/app-bridge.js"
POLARIS_STAND_IN = "/static/stand-ins/polaris.js"

# Catalogues the page can ask for; pt-BR is the default (the merchants are Brazilian).
LOCALES = ("pt-BR", "en")
DEFAULT_LOCALE = "pt-BR"
SANDBOX_TIMEOUT_SECONDS = 10

bp = Blueprint(
    "frontend",
    __name__,
    template_folder=str(FRONTEND_DIR / "templates"),
    static_folder=str(STATIC_DIR),
    static_url_path="/static",
)


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def uses_local_scripts(settings: Settings) -> bool:
    """True when the page must load the stand-ins instead of Shopify's CDN.

    FRONTEND_LOCAL_SCRIPTS (app config, else environment) decides when set: 1/true forces the
    stand-ins, 0/false forces the CDN (the browser tests route the CDN URLs themselves). Unset,
    sandbox mode (SHOPIFY_BASE_URL set, not production) means the stand-ins. Production always
    loads Shopify's scripts: the app-bridge stand-in is no App Bridge, whatever the flag says.
    """
    if settings.is_production:
        return False
    flag = str(current_app.config.get("FRONTEND_LOCAL_SCRIPTS", os.environ.get("FRONTEND_LOCAL_SCRIPTS", "")))
    flag = flag.strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    if flag in ("0", "false", "no", "off"):
        return False
    return bool(settings.shopify_base_url) and not settings.is_production


def _poll_ms() -> int | None:
    """FRONTEND_POLL_MS (app config only): how often the live pages re-read, for every page alike;
    unset, each page keeps its own (2-3 s). The browser tests shorten it, so what they wait to see
    arrives in a second, not three."""
    value = current_app.config.get("FRONTEND_POLL_MS")
    return int(value) if value else None


def pick_locale(value: str | None) -> str:
    """The catalogue for Shopify's `locale` parameter: `en`, `en-US` -> en; anything else pt-BR."""
    tag = (value or "").strip().replace("_", "-").lower()
    if tag.split("-")[0] == "en":
        return "en"
    return DEFAULT_LOCALE


def load_catalogue(locale: str) -> dict[str, str]:
    """One i18n catalogue as a dict (used by the shell for the title and by the tests)."""
    path = I18N_DIR / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def demo_page_url(settings: Settings, shop: str, user: str = "owner", locale: str = DEFAULT_LOCALE) -> str:
    """The page's URL as Shopify's admin would frame it, for the sandbox demo to print.

    `user` is a sandbox staff handle (owner, gerente, estoquista): the app-bridge stand-in asks
    the sandbox for that person's ID token, so a person can click through as each role.
    """
    name = shop.removesuffix(".myshopify.com")
    host = base64.urlsafe_b64encode(f"admin.shopify.com/store/{name}".encode()).decode().rstrip("=")
    query = {"shop": f"{name}.myshopify.com", "host": host, "embedded": "1", "locale": locale}
    query["sandbox_user"] = user
    return f"{settings.app_url}/app/setup?{urlencode(query)}"


@bp.get("/")
@bp.get("/app")
@bp.get("/app/<path:subpath>")
def page(subpath: str = "") -> ResponseReturnValue:
    """The shell of every page; the JS router picks the page from the path."""
    settings = _settings()
    local = uses_local_scripts(settings)
    locale = pick_locale(request.args.get("locale"))
    html = render_template(
        "index.html",
        api_key=settings.api_key,
        app_bridge_src=APP_BRIDGE_STAND_IN if local else APP_BRIDGE_CDN,
        polaris_src=POLARIS_STAND_IN if local else POLARIS_CDN,
        locale=locale,
        title=load_catalogue(locale).get("app.title", "Consinco"),
        local_scripts=local,
        poll_ms=_poll_ms(),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = frame_ancestors(request.args.get("shop", ""))
    return response


def frame_ancestors(shop: str) -> str:
    """The Content-Security-Policy of every HTML answer (the page, and Flask's own error pages).

    Shopify's admin frames the app: allow exactly Shopify's own admin and the shop's admin, the
    latter only for a valid shop domain (nothing a query string could add).
    """
    ancestors = "https://admin.shopify.com"
    if is_valid_shop_domain(shop):
        ancestors += f" https://{shop.lower()}"
    return f"frame-ancestors {ancestors};"


@bp.get("/i18n/<locale>.json")
def catalogue(locale: str) -> ResponseReturnValue:
    """An i18n catalogue for the page's modules."""
    if locale not in LOCALES:
        abort(404)
    return send_from_directory(Path(I18N_DIR), f"{locale}.json", mimetype="application/json")


@bp.post("/_stand-in/id_token")
def stand_in_id_token() -> ResponseReturnValue:
    """Sandbox mode only: an ID token for a sandbox staff member, as App Bridge would give.

    The app-bridge stand-in calls this (same origin) instead of the sandbox's control API.
    """
    settings = _settings()
    if not settings.shopify_base_url or settings.is_production:
        abort(404)
    body = request.get_json(silent=True) or {}
    shop = str(body.get("shop", "")).removesuffix(".myshopify.com")
    user = str(body.get("user") or "owner")
    if not shop or not shop.replace("-", "").isalnum():
        return jsonify({"error": {"code": "invalid_shop", "message": "shop is required"}}), 400
    try:
        answer = requests.post(
            f"{settings.shopify_base_url}/_sandbox/shops/{shop}/id_token",
            json={"user": user},
            timeout=SANDBOX_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        log.warning("frontend: sandbox unreachable for id_token: %s", type(exc).__name__)
        return jsonify({"error": {"code": "sandbox_unreachable", "message": "sandbox unreachable"}}), 502
    if answer.status_code != 200:
        return jsonify({"error": {"code": "unknown_user", "message": answer.text[:200]}}), answer.status_code
    return jsonify({"id_token": answer.json()["id_token"]})
