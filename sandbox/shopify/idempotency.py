"""`@idempotent(key:)` on inventory mutations: required, replayed, or refused on mismatch.

The key is scoped per (shop, app, mutation field). The first result is stored with a digest of
the coerced arguments; the same key with the same arguments returns that first result; the
same key with other arguments answers IDEMPOTENCY_KEY_PARAMETER_MISMATCH.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, get_named_type
from graphql.execution.values import get_directive_values

from sandbox.shopify.registry import user_error


def _key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
    key = (values or {}).get("key")
    return key if isinstance(key, str) else None


def run_idempotent(fn: Callable[..., Any], source: Any, info: GraphQLResolveInfo, args: dict) -> Any:
    """Call the mutation resolver under its idempotency key."""
    key = _key(info)
    if key is None:
        raise GraphQLError(
            f"The @idempotent directive is required for this mutation ({info.field_name}).",
            info.field_nodes,
            extensions={"code": "BAD_REQUEST"},
        )
    if not key.strip():
        raise GraphQLError(
            "The idempotency key cannot be an empty string or whitespace only.", info.field_nodes
        )
    ctx = info.context
    digest = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()
    stored = ctx.store.get_idempotent(ctx.shop, ctx.api_key, key, info.field_name)
    if stored is not None:
        stored_digest, result = stored
        if stored_digest == digest:
            return result
        payload: dict[str, Any] = dict.fromkeys(get_named_type(info.return_type).fields)
        payload["userErrors"] = [
            user_error(
                ["idempotencyKey"],
                "The same idempotency key was used with different parameters.",
                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            )
        ]
        return payload
    result = fn(source, info, **args)
    ctx.store.put_idempotent(ctx.shop, ctx.api_key, key, info.field_name, digest, result)
    return result
