"""Fixtures for the Consinco sandbox: a small in-process ERP, the same served over HTTP, a
logged-in `requests` session, and a PostgreSQL database of its own (the sandbox creates its
tables with create_all; it does not use the app's migrations)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.runner import SandboxHandle, serve_in_thread
from sandbox_consinco.helpers import login

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def chain_template(tmp_path_factory) -> Path:
    """One generated chain (300 SKUs x 3 companies, seed 7), copied for each test."""
    path = tmp_path_factory.mktemp("template") / "consinco.db"
    ConsincoErp(str(path), skus=300, companies=3, seed=7).close()
    return path


@pytest.fixture
def chain_db(tmp_path, chain_template) -> str:
    target = tmp_path / "consinco.db"
    shutil.copyfile(chain_template, target)
    return str(target)


@pytest.fixture
def erp(chain_db) -> Iterator[ConsincoErp]:
    instance = ConsincoErp(chain_db)
    yield instance
    instance.close()


@pytest.fixture
def served(chain_db) -> Iterator[SandboxHandle]:
    handle = serve_in_thread(port=0, db=chain_db)
    yield handle
    handle.stop()


@pytest.fixture
def api(served) -> Iterator[requests.Session]:
    session = login(served)
    yield session
    session.close()


@pytest.fixture(scope="session")
def consinco_pg_url() -> Iterator[str]:
    """A PostgreSQL database owned by these tests, dropped at the end."""
    name = f"sandbox_consinco_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
