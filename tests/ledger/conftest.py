"""Fixtures for the ledger service tests: a session on SQLite or PostgreSQL, and a shop in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ledger.db import get_sessionmaker
from ledger.models import Shop


@pytest.fixture
def session(any_database_url) -> Iterator[Session]:
    s = get_sessionmaker(any_database_url)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def shop(session) -> Shop:
    row = Shop(domain="mercado-bom.myshopify.com")
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def other_shop(session) -> Shop:
    row = Shop(domain="outra-loja.myshopify.com")
    session.add(row)
    session.commit()
    return row
