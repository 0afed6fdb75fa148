"""Configuration, the app factory, gunicorn's settings and shopify.app.toml."""

from __future__ import annotations

import runpy
import tomllib
from dataclasses import fields

import pytest

from app import create_app
from ledger import crypto
from settings import (
    DEFAULT_SCOPES,
    DEV_API_SECRET,
    DEV_ENCRYPTION_KEY,
    ROOT,
    ConfigurationError,
    Settings,
    key_list,
)

PRODUCTION_SECRETS = [
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "ENCRYPTION_KEY",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "SHOPIFY_APP_URL",
]


@pytest.fixture
def bare_env(monkeypatch):
    """An environment with none of the app's variables set."""
    for f in fields(Settings):
        monkeypatch.delenv(f.metadata["env"], raising=False)
    return monkeypatch


def test_production_without_secrets_refuses_and_names_every_one(bare_env):
    bare_env.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env().validate()
    for name in PRODUCTION_SECRETS:
        assert name in str(caught.value)
    with pytest.raises(ConfigurationError):
        create_app(blueprints=(), cli_modules=())


def test_production_names_only_what_is_missing(bare_env):
    bare_env.setenv("APP_ENV", "production")
    bare_env.setenv("SHOPIFY_API_KEY", "real-key")
    bare_env.setenv("SHOPIFY_API_SECRET", "real-secret")
    bare_env.setenv("ENCRYPTION_KEY", "not-a-fernet-key")
    bare_env.setenv("SECRET_KEY", "s" * 40)
    bare_env.setenv("DATABASE_URL", "postgresql+psycopg://db/app")
    bare_env.setenv("REDIS_URL", "redis://redis:6379/0")
    bare_env.setenv("SHOPIFY_APP_URL", "http://app.example.com")
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env().validate()
    message = str(caught.value)
    assert "ENCRYPTION_KEY" in message and "SHOPIFY_APP_URL" in message
    assert "SHOPIFY_API_SECRET" not in message and "DATABASE_URL" not in message

    bare_env.setenv("ENCRYPTION_KEY", crypto.generate_key())
    bare_env.setenv("SHOPIFY_APP_URL", "https://app.example.com")
    Settings.from_env().validate()  # complete: starts


@pytest.fixture
def production_env(bare_env):
    """A complete production environment: it starts."""
    bare_env.setenv("APP_ENV", "production")
    bare_env.setenv("SHOPIFY_API_KEY", "real-key")
    bare_env.setenv("SHOPIFY_API_SECRET", "real-secret-0123456789")
    bare_env.setenv("ENCRYPTION_KEY", crypto.generate_key())
    bare_env.setenv("SECRET_KEY", "s" * 40)
    bare_env.setenv("DATABASE_URL", "postgresql+psycopg://db/app")
    bare_env.setenv("REDIS_URL", "redis://redis:6379/0")
    bare_env.setenv("SHOPIFY_APP_URL", "https://app.example.com")
    Settings.from_env().validate()
    return bare_env


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8701", "http://sandbox.internal:8701", "https://sandbox.example.com"]
)
def test_production_refuses_a_shopify_base_url(production_env, base_url):
    """Production talks to https://{shop} only: a SHOPIFY_BASE_URL left over from staging would
    receive the client secret, ID tokens and every shop's access token (in clear over http)."""
    production_env.setenv("SHOPIFY_BASE_URL", base_url)
    with pytest.raises(ConfigurationError, match="SHOPIFY_BASE_URL"):
        Settings.from_env().validate()


@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", "staging", "dev"])
def test_an_unknown_app_env_is_refused_naming_the_allowed_values(bare_env, value):
    """APP_ENV is development, production or test, exactly: a near-miss of "production" would
    otherwise run with every production guard off, on the public development secrets."""
    bare_env.setenv("APP_ENV", value)
    with pytest.raises(ConfigurationError, match="development, production, test") as caught:
        Settings.from_env().validate()
    assert repr(value) in str(caught.value)


def test_log_level_is_taken_in_either_case_and_an_unknown_one_is_refused_by_name(bare_env):
    """gunicorn.conf.py passes LOG_LEVEL on lower-cased, so "info" is a natural spelling; logging
    itself knows only "INFO" and crashed every process with a bare ValueError on it."""
    bare_env.setenv("LOG_LEVEL", "info")
    assert Settings.from_env().log_level == "INFO"
    bare_env.setenv("LOG_LEVEL", "verbose")
    with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
        Settings.from_env()


def test_app_env_is_read_without_surrounding_blanks(production_env):
    """APP_ENV " production " (a stray blank in an env file) is production, with every guard on."""
    production_env.setenv("APP_ENV", " production ")
    assert Settings.from_env().is_production
    production_env.delenv("SHOPIFY_API_SECRET")
    with pytest.raises(ConfigurationError, match="SHOPIFY_API_SECRET"):
        Settings.from_env().validate()


def test_an_unset_app_env_is_development(bare_env):
    """The README's two commands run on a fresh machine with nothing set."""
    settings = Settings.from_env()
    assert settings.app_env == "development" and not settings.is_production


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_bare_postgres_database_url_uses_the_psycopg_driver(production_env, scheme):
    """Managed PostgreSQL hands out postgres:// or postgresql:// URLs; SQLAlchemy knows no
    "postgres" dialect and maps "postgresql" to psycopg2 (not installed): every database use
    would fail after a clean start. Both mean the ledger's driver, psycopg 3."""
    from sqlalchemy import create_engine

    production_env.setenv("DATABASE_URL", f"{scheme}://u:p@db/app")
    settings = Settings.from_env()
    settings.validate()
    assert settings.database_url == "postgresql+psycopg://u:p@db/app"
    assert create_engine(settings.database_url).dialect.driver == "psycopg"


def test_production_refuses_the_public_dev_secret_as_the_previous_secret(production_env):
    """The previous secret verifies webhooks and ID tokens too: the public stand-in there would
    let anyone who reads settings.py forge an owner's ID token for any shop."""
    production_env.setenv("SHOPIFY_API_SECRET_PREVIOUS", DEV_API_SECRET)
    with pytest.raises(ConfigurationError, match="SHOPIFY_API_SECRET_PREVIOUS"):
        Settings.from_env().validate()
    production_env.setenv("SHOPIFY_API_SECRET_PREVIOUS", "the-real-old-secret")
    Settings.from_env().validate()  # a real rotation starts


@pytest.mark.parametrize("spacing", ["{real},{dev}", "{real}, {dev}", "{real} ,\t{dev} ", " {dev} ,{real}"])
def test_production_refuses_the_public_dev_encryption_key_however_the_list_is_spaced(production_env, spacing):
    """ledger.crypto reads each key stripped: "<real>, <dev key>" keeps the public key a working one."""
    real = crypto.generate_key()
    production_env.setenv("ENCRYPTION_KEY", spacing.format(real=real, dev=DEV_ENCRYPTION_KEY))
    with pytest.raises(ConfigurationError, match="ENCRYPTION_KEY"):
        Settings.from_env().validate()


def test_settings_and_crypto_read_the_key_list_alike():
    real = crypto.generate_key()
    assert key_list(f" {real} ,, {DEV_ENCRYPTION_KEY}, ") == [real, DEV_ENCRYPTION_KEY]
    token = crypto.encrypt("x", DEV_ENCRYPTION_KEY)
    assert crypto.decrypt(token, f"{real} ,, {DEV_ENCRYPTION_KEY}, ") == "x"


@pytest.mark.parametrize(
    ("name", "value"), [("ERP_ALLOWED_NETWORKS", "10.8.0.0/16,10.9.0/24x"), ("ERP_ALLOW_HTTP", "sim")]
)
def test_a_typo_in_the_erp_address_switches_is_refused(bare_env, name, value):
    """A mistyped allow-list or switch must not silently mean "allow nothing" or "allow http"."""
    bare_env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env()


@pytest.mark.parametrize("value", ["redis-host:6379", "localhost", "http://redis:6379/0"])
def test_a_redis_url_without_a_redis_scheme_is_refused_at_start(bare_env, value):
    """redis-py reads only redis://, rediss:// and unix://: one without passed as "set" and every
    webhook answered 500 after its inbox row was written (the receiver catches Redis' own errors)."""
    bare_env.setenv("REDIS_URL", value)
    with pytest.raises(ConfigurationError, match="REDIS_URL must start with redis://"):
        Settings.from_env().validate()


def test_a_redis_url_refused_does_not_show_its_password(bare_env):
    bare_env.setenv("REDIS_URL", "user:s3cret-pass@redis-host:6379")
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env().validate()
    assert "s3cret" not in str(caught.value) and "redis-host:6379" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_URL", "redis://:Bx7Kq/abc@cache.internal:6379/0"),  # a "/" in the password
        (
            "SMTP_URL",
            "smtp://AKIAEXAMPLE:Bx7Kq/abc+def@email-smtp.sa-east-1.amazonaws.com:587",
        ),  # SES's base64
        ("SMTP_URL", "smtp://user:Bx7Kq#x@mail.loja.com.br:587"),
        ("SMTP_URL", "smtp://"),
    ],
)
def test_a_url_whose_password_breaks_its_syntax_is_refused_without_quoting_it(bare_env, name, value):
    """A password holding "/", "#" or "?" splits the URL there: its head read as the port, every use
    failed with a ValueError quoting it (no alert ever sent, logged and shown on the Failed jobs page;
    every Redis use a 500). Refused at start, the password never quoted."""
    bare_env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{name} cannot be read") as caught:
        Settings.from_env().validate()
    assert "Bx7Kq" not in str(caught.value) and caught.value.__cause__ is None
    bare_env.setenv(name, value.replace("Bx7Kq/abc", "Bx7Kq%2Fabc").replace("Bx7Kq#x", "Bx7Kq%23x"))
    if value != "smtp://":
        Settings.from_env().validate()  # percent-encoded, as the message says: read


@pytest.mark.parametrize("version", ["2026-1O", "2024-01", "unstable"])
def test_an_admin_api_version_other_than_the_vendored_schemas_is_refused(bare_env, version):
    """Every GraphQL document is checked against the vendored 2026-10 schema (and the webhooks are
    subscribed at it): a typo would be a 404 in every job, an older version another schema."""
    bare_env.setenv("SHOPIFY_API_VERSION", version)
    with pytest.raises(ConfigurationError, match="SHOPIFY_API_VERSION must be 2026-10"):
        Settings.from_env().validate()


def test_the_real_app_on_the_public_development_keys_is_refused_when_app_env_is_forgotten(bare_env):
    """A server with the real app's credentials and APP_ENV left unset (development) would encrypt
    every store's access token and ERP password with the key published in settings.py."""
    bare_env.setenv("SHOPIFY_API_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    bare_env.setenv("SHOPIFY_API_SECRET", "shpss_real_secret")
    bare_env.setenv("SHOPIFY_APP_URL", "https://integracao.supermercado.com.br")
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env().validate()
    assert "ENCRYPTION_KEY and SECRET_KEY" in str(caught.value) and "APP_ENV=production" in str(caught.value)
    with pytest.raises(ConfigurationError):
        create_app(blueprints=(), cli_modules=())
    bare_env.setenv("ENCRYPTION_KEY", crypto.generate_key())
    bare_env.setenv("SECRET_KEY", "a-developer-s-own")
    Settings.from_env().validate()  # a developer's own store under development, on keys of their own


def test_the_public_development_keys_stay_allowed_with_the_sandbox_the_stand_in_client_id_or_the_loopback(
    bare_env,
):
    Settings.from_env().validate()  # the stand-in client id: no real Shopify knows it
    bare_env.setenv("SHOPIFY_API_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    Settings.from_env().validate()  # the app on the loopback (the demo, whatever client id the shell has)
    bare_env.setenv("SHOPIFY_APP_URL", "https://integracao.supermercado.com.br")
    bare_env.setenv("SHOPIFY_BASE_URL", "http://127.0.0.1:8701")
    Settings.from_env().validate()  # the sandbox stands in


def test_development_defaults_start(bare_env):
    settings = Settings.from_env()
    settings.validate()
    assert settings.api_version == "2026-10"
    assert settings.admin_origin("x.myshopify.com") == ("https://x.myshopify.com", {})


def test_create_app_mounts_the_auth_routes(settings):
    app = create_app(settings)  # every blueprint, as `flask --app app run` builds it
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/auth/session", "/auth/install", "/auth/callback", "/healthz"} <= rules
    assert app.test_client().get("/healthz").json == {"ok": True}


def test_gunicorn_config_reads_port_and_concurrency_and_resets_after_fork(monkeypatch):
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9123"
    assert config["workers"] == 3
    assert config["wsgi_app"] == "app:create_app()"

    calls: list[str] = []
    monkeypatch.setattr("ledger.db.dispose_all", lambda: calls.append("db"))
    monkeypatch.setattr("ledger.kv.reset_clients", lambda: calls.append("redis"))
    config["post_fork"](server=None, worker=None)
    assert calls == ["db", "redis"]


def test_gunicorn_config_takes_an_empty_variable_as_unset(monkeypatch):
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        monkeypatch.setenv(name, "")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["bind"], config["threads"], config["timeout"]) == ("0.0.0.0:8000", 4, 30)
    assert config["workers"] >= 2


def test_gunicorn_freezes_what_the_master_loaded_before_each_fork(monkeypatch):
    """A worker's garbage collector never rescans the preloaded app (docs/benchmarks.md)."""
    import gc

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    loaded = object.__new__(type("Loaded", (), {}))  # a tracked object made "in the master"
    assert gc.is_tracked(loaded)
    try:
        config["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0 and not any(o is loaded for o in gc.get_objects())
    finally:
        gc.unfreeze()


@pytest.fixture(scope="module")
def app_toml() -> dict:
    with (ROOT / "shopify.app.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_app_toml_declares_the_embedded_app(app_toml):
    assert app_toml["client_id"] and app_toml["name"]
    assert app_toml["application_url"].startswith(("https://", "http://"))
    assert app_toml["embedded"] is True
    assert [u.endswith("/auth/callback") for u in app_toml["auth"]["redirect_urls"]] == [True]


def test_app_toml_scopes_agree_with_settings(app_toml):
    assert app_toml["access_scopes"]["scopes"].split(",") == DEFAULT_SCOPES.split(",")


def test_app_toml_subscribes_to_every_topic_at_the_one_receiver(app_toml):
    assert app_toml["webhooks"]["api_version"] == "2026-10"
    subscriptions = app_toml["webhooks"]["subscriptions"]
    topics = [t for s in subscriptions for t in s.get("topics", [])]
    compliance = [t for s in subscriptions for t in s.get("compliance_topics", [])]
    assert sorted(topics) == sorted(
        [
            "orders/create",
            "orders/updated",
            "orders/edited",
            "orders/cancelled",
            "orders/risk_assessment_changed",
            "orders/paid",
            "refunds/create",
            "app/uninstalled",
            "app/scopes_update",
            "bulk_operations/finish",
            "products/delete",
        ]
    )
    assert sorted(compliance) == ["customers/data_request", "customers/redact", "shop/redact"]
    assert {s["uri"] for s in subscriptions} == {"/webhooks"}
