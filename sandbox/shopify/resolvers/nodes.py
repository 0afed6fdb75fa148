"""node(id) / nodes(ids): any stored object by gid; its `__typename` picks the GraphQL type."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify.registry import query


@query("node")
def resolve_node(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    return info.context.store.get(info.context.shop, id)


@query("nodes")
def resolve_nodes(_src: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict | None]:
    return [info.context.store.get(info.context.shop, i) for i in ids]
