"""node(id) / nodes(ids): any stored object by gid; its `__typename` picks the GraphQL type. An
order the request's grant does not reach (older than 60 days without read_all_orders) reads null,
as by order(id) (sandbox.shopify.order_store.readable)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_store
from sandbox.shopify.registry import query


def _node(ctx: Any, object_id: str) -> dict | None:
    doc = ctx.store.get(ctx.shop, object_id)
    return doc if order_store.readable(ctx, doc) else None


@query("node")
def resolve_node(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return _node(info.context, id)


@query("nodes")
def resolve_nodes(_src: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict | None]:
    return [_node(info.context, i) for i in ids]
