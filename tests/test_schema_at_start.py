"""Production refuses to start on a database that is not at the code's newest migration, naming
the command to run: a release deployed without `alembic upgrade head` served, and every per-minute
tick failed on a missing column (no NF-e, no capture, no stock) with only a failed RQ job to say so."""

from __future__ import annotations

import pytest
from alembic import command
from cryptography.fernet import Fernet

from app import create_app
from ledger.schema import alembic_config
from settings import ConfigurationError, Settings


def _production(env, database_url: str) -> Settings:
    env.setenv("APP_ENV", "production")
    env.setenv("DATABASE_URL", database_url)
    env.setenv("SHOPIFY_API_KEY", "real-key")
    env.setenv("SHOPIFY_API_SECRET", "real-secret")
    env.setenv("SECRET_KEY", "real-flask-secret")
    env.setenv("ENCRYPTION_KEY", Fernet.generate_key().decode())
    env.setenv("SHOPIFY_APP_URL", "https://app.example.com")
    env.delenv("SHOPIFY_BASE_URL", raising=False)
    return Settings.from_env()


def test_production_starts_only_on_a_database_at_the_newest_migration(env, empty_pg_database_url):
    settings = _production(env, empty_pg_database_url)
    with pytest.raises(ConfigurationError, match=r"empty .*alembic upgrade head"):
        create_app(settings, blueprints=(), cli_modules=())
    command.upgrade(alembic_config(empty_pg_database_url), "0001")  # a release behind
    with pytest.raises(ConfigurationError, match=r"at revision 0001.*alembic upgrade head"):
        create_app(settings, blueprints=(), cli_modules=())
    command.upgrade(alembic_config(empty_pg_database_url), "head")
    create_app(settings, blueprints=(), cli_modules=())  # starts


def test_a_database_newer_than_the_release_is_told_so_not_to_upgrade(env, empty_pg_database_url):
    """A release rolled back after a newer one migrated the database: `alembic upgrade head`, the
    advice given to a release behind, fails on this one ("Can't locate revision"); it is told what
    can be done instead."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError
    from sqlalchemy import create_engine, text

    config = alembic_config(empty_pg_database_url)
    command.upgrade(config, "head")
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = create_engine(empty_pg_database_url)
    with engine.begin() as conn:  # what the newer release's migration left
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(CommandError):
        command.upgrade(config, "head")
    with pytest.raises(
        ConfigurationError, match=rf"at revision 9999, newer than this release knows \({head}"
    ) as caught:
        create_app(_production(env, empty_pg_database_url), blueprints=(), cli_modules=())
    assert "deploy the release that has that revision" in str(caught.value)
