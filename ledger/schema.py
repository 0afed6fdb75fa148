"""Bring a database to the newest schema with Alembic (the only way the schema changes)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply every migration not yet applied (idempotent)."""
    command.upgrade(alembic_config(url), "head")


def behind_head(url: str) -> str | None:
    """Why the database at `url` is not at the code's newest migration (None when it is, or when it
    cannot be reached now: the app then answers 503 until it can). A release started without
    `alembic upgrade head` would otherwise serve, and every tick would fail on a missing column."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    head = scripts.get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except OperationalError:
        return None
    finally:
        engine.dispose()
    if current == head:
        return None
    if current and not _known(scripts, current):  # a newer release migrated it, then was rolled back
        return (
            f"the database is at revision {current}, newer than this release knows ({head} is its last): "
            "deploy the release that has that revision, or downgrade the database to "
            f"{head} with that release's code first (`alembic downgrade {head}`): an upgrade "
            "cannot start from a revision this release does not have"
        )
    found = f"at revision {current}" if current else "empty (no migration applied)"
    return f"the database is {found}; this release needs {head}: run `alembic upgrade head` (DATABASE_URL)"


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:  # (Alembic: "Can't locate revision identified by ...")
        return False
