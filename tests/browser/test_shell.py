"""The page shell without a browser: the right scripts for production and sandbox mode, the
api key meta, the locale choice, the i18n catalogues, and the sandbox-only ID token route."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from flask import Flask

from app import create_app
from ledger import crypto
from ledger.schedules import LAST_STATUSES
from settings import Settings
from shopify_app.frontend import (
    APP_BRIDGE_CDN,
    I18N_DIR,
    POLARIS_CDN,
    STATIC_DIR,
    demo_page_url,
    pick_locale,
)


def _app(**changes: str) -> Flask:
    base = dataclasses.replace(Settings.from_env(), app_env="test", api_key="key-123", shopify_base_url="")
    settings = dataclasses.replace(base, **changes)
    app = create_app(settings, blueprints=("shopify_app.frontend",), cli_modules=())
    app.testing = True
    return app


def test_production_page_loads_shopify_scripts_with_the_api_key() -> None:
    html = _app().test_client().get("/?shop=loja.myshopify.com&locale=en").get_data(as_text=True)
    assert '<meta name="shopify-api-key" content="key-123">' in html
    assert f'src="{APP_BRIDGE_CDN}"' in html and f'src="{POLARIS_CDN}"' in html
    assert "stand-ins" not in html
    assert '<html lang="en">' in html


def test_the_live_pages_poll_interval_is_theirs_unless_the_app_sets_one() -> None:
    app = _app()
    html = app.test_client().get("/app/flows").get_data(as_text=True)
    assert "app-poll-ms" not in html  # each page keeps its own (flows 3 s, the catalog diff 2 s)
    app.config["FRONTEND_POLL_MS"] = 1000
    html = app.test_client().get("/app/flows").get_data(as_text=True)
    assert '<meta name="app-poll-ms" content="1000">' in html
    for page in ("flows", "message_detail", "setup_diff"):
        source = (STATIC_DIR / "app" / "pages" / f"{page}.js").read_text(encoding="utf-8")
        assert re.search(r"const POLL_MS = pollEvery\(\d+\);", source), page


def test_sandbox_mode_and_the_flag_choose_the_stand_ins(monkeypatch) -> None:
    html = _app(shopify_base_url="http://127.0.0.1:9").test_client().get("/app/flows").get_data(as_text=True)
    assert 'src="/static/stand-ins/app-bridge.js"' in html and 'src="/static/stand-ins/polaris.js"' in html
    monkeypatch.setenv("FRONTEND_LOCAL_SCRIPTS", "1")
    assert "stand-ins/polaris.js" in _app().test_client().get("/app").get_data(as_text=True)


def _production_app() -> Flask:
    """A complete production configuration (create_app validates it)."""
    return _app(
        app_env="production",
        api_secret="real-secret-0123456789",
        encryption_keys=crypto.generate_key(),
        secret_key="s" * 40,
        database_url="postgresql+psycopg://db/app",
        redis_url="redis://redis:6379/0",
        app_url="https://app.example.com",
    )


def test_flasks_own_html_error_pages_carry_the_frame_ancestors_too() -> None:
    """Shopify asks for frame-ancestors on every HTML route: a 404 or 405 page Flask writes itself
    gets the page's rule (the shop's admin only for a valid shop domain); JSON needs none."""
    client = _app().test_client()
    missing = client.get("/nowhere?shop=loja.myshopify.com")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert missing.headers["Content-Security-Policy"] == (
        "frame-ancestors https://admin.shopify.com https://loja.myshopify.com;"
    )
    wrong = client.post("/app", query_string={"shop": "evil.example;x.myshopify.com"})
    assert wrong.status_code == 405
    assert wrong.headers["Content-Security-Policy"] == "frame-ancestors https://admin.shopify.com;"
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_production_ignores_the_local_scripts_flag(monkeypatch) -> None:
    """The app-bridge stand-in is no App Bridge (its ID tokens come from the sandbox): production
    loads Shopify's scripts whatever FRONTEND_LOCAL_SCRIPTS says."""
    monkeypatch.setenv("FRONTEND_LOCAL_SCRIPTS", "1")
    html = _production_app().test_client().get("/app").get_data(as_text=True)
    assert f'src="{APP_BRIDGE_CDN}"' in html and "stand-ins" not in html


def test_frame_ancestors_allow_only_the_admin_and_the_shop() -> None:
    response = _app().test_client().get("/?shop=loja.myshopify.com")
    assert response.headers["Content-Security-Policy"] == (
        "frame-ancestors https://admin.shopify.com https://loja.myshopify.com;"
    )
    for shop in (
        "evil.com/x.myshopify.com",
        "evil.example;x.myshopify.com",
        "*.myshopify.com",
        "a\tb.myshopify.com",
    ):
        evil = _app().test_client().get("/", query_string={"shop": shop})
        assert evil.headers["Content-Security-Policy"] == "frame-ancestors https://admin.shopify.com;", shop


def test_static_modules_and_catalogues_are_served() -> None:
    client = _app().test_client()
    assert client.get("/static/app/main.js").status_code == 200
    assert client.get("/static/stand-ins/app-bridge.js").status_code == 200
    assert client.get("/i18n/pt-BR.json").get_json()["nav.setup"] == "Configuração"
    assert client.get("/i18n/xx.json").status_code == 404


def test_stand_in_id_token_route_exists_only_in_sandbox_mode() -> None:
    assert _app().test_client().post("/_stand-in/id_token", json={"shop": "loja"}).status_code == 404


LOCALES = [
    ("pt-BR", "pt-BR"),
    ("pt", "pt-BR"),
    ("", "pt-BR"),
    (None, "pt-BR"),
    ("en", "en"),
    ("en-US", "en"),
    ("en_GB", "en"),
    ("fr", "pt-BR"),
]


@pytest.mark.parametrize(("value", "expected"), LOCALES)
def test_locale_choice(value: str | None, expected: str) -> None:
    assert pick_locale(value) == expected


def test_catalogues_have_the_same_keys_and_every_used_key_exists() -> None:
    pt = json.loads((I18N_DIR / "pt-BR.json").read_text(encoding="utf-8"))
    en = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    assert set(pt) == set(en)
    assert all(pt[k].count("{") == en[k].count("{") for k in pt)  # same placeholders
    used: set[str] = set()
    for module in (STATIC_DIR / "app").rglob("*.js"):
        used |= set(re.findall(r"\bt\(\"([a-z_.]+)\"", module.read_text(encoding="utf-8")))
    assert used, "no t() calls found"
    assert sorted(used - set(pt)) == []


def test_every_run_status_the_app_writes_has_a_label_in_both_languages() -> None:
    """The Flows page shows a schedule's last_status as label("run.", status), which falls back
    to the raw code: "enqueued" was all a merchant saw of a stock pass failing for good."""
    for lang in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert sorted(s for s in LAST_STATUSES if f"run.{s}" not in catalogue) == [], lang


def test_the_flows_page_lists_the_failed_runs_and_requeues_them() -> None:
    """A run that failed for good writes no message: RQ's failed-job registry, read through
    /api/jobs/failed, is the one list of it, and its requeue the way to run it again (a webhook
    whose body could not be read is dismissed instead)."""
    flows = (STATIC_DIR / "app" / "pages" / "flows.js").read_text(encoding="utf-8")
    assert (
        'api("/api/jobs/failed"' in flows
        and "/api/jobs/failed/${encodeURIComponent(job.id)}/${verb}" in flows
        and '["requeue", t("flows.requeue")' in flows
        and '["dismiss", t("flows.dismiss")' in flows
    )


def test_demo_url_names_the_shop_and_the_sandbox_staff_member() -> None:
    settings = dataclasses.replace(Settings.from_env(), app_url="http://127.0.0.1:8000")
    url = demo_page_url(settings, "mercado", user="gerente", locale="en")
    assert url.startswith("http://127.0.0.1:8000/app/setup?shop=mercado.myshopify.com&")
    assert "sandbox_user=gerente" in url and "locale=en" in url
