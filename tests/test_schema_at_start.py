"""Production refuses to start on a database that is not at the code's newest migration, naming
the command to run: a release deployed without `alembic upgrade head` served, and every per-minute
tick failed on a missing column (no NF-e, no capture, no stock) with only a failed RQ job to say so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from ledger import db as ledger_db
from ledger.schema import alembic_config
from settings import ConfigurationError, Settings
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"schema_at_start_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        ledger_db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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


def test_production_starts_only_on_a_database_at_the_newest_migration(env, fresh_database):
    settings = _production(env, fresh_database)
    with pytest.raises(ConfigurationError, match=r"empty .*alembic upgrade head"):
        create_app(settings, blueprints=(), cli_modules=())
    command.upgrade(alembic_config(fresh_database), "0001")  # a release behind
    with pytest.raises(ConfigurationError, match=r"at revision 0001.*alembic upgrade head"):
        create_app(settings, blueprints=(), cli_modules=())
    command.upgrade(alembic_config(fresh_database), "head")
    create_app(settings, blueprints=(), cli_modules=())  # starts
