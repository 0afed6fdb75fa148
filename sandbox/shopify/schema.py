"""The real Admin API 2026-10 schema, vendored from Shopify's own package, loaded once."""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

API_VERSION = "2026-10"
SCHEMA_PATH = Path(__file__).parent / "schema" / "admin_2026-10.introspection.json.gz"


@functools.cache
def admin_schema() -> GraphQLSchema:
    """The schema (graphql-core needs `assume_valid=True` for Shopify's deprecations)."""
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return build_client_schema(data["data"], assume_valid=True)
