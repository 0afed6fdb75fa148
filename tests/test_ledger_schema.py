"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.db import get_engine
from ledger.models import Base


def test_migrations_match_models(any_database_url):
    with get_engine(any_database_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
