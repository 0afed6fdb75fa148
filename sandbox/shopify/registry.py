"""Resolver registration and the default field resolver.

A resolver module registers `(Type, field)` functions with `@field`, `@query` or `@mutation`.
Everything else is read off the source document when the document holds the key (plain data);
a field that is neither registered nor plain answers `not emulated: Type.field` so a missing
emulation is loud, never a silent null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox
    from sandbox.shopify.store import Store

Resolver = Callable[..., Any]

_FIELDS: dict[tuple[str, str], Resolver] = {}

# Mutations that must carry @idempotent(key:) since 2026-04 (the emulated ones).
IDEMPOTENT_MUTATIONS = {"inventorySetQuantities", "inventoryActivate", "inventoryAdjustQuantities"}
_MEMO = "docs_memo"


@dataclass
class Ctx:
    """What every resolver sees as `info.context`."""

    shop: str
    sandbox: Sandbox
    api_key: str
    bulk: bool = False
    # The access scopes of the request's token (what an app may read); None: not an app's request
    # (the checkout, control endpoints), which sees everything.
    scopes: frozenset[str] | None = None
    notes: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.sandbox.store

    def now(self) -> float:
        return self.sandbox.clock.now()

    def remember(self, docs: Iterable[dict[str, Any]]) -> None:
        """Keep documents this request just read or wrote, for `recall` (a payload that names
        the same item 250 times then reads it once). Call it after the request's last write."""
        generation, memo = self.notes.get(_MEMO) or (None, {})
        if generation != self.store.generation:
            memo = {}
        memo.update((d["id"], d) for d in docs)
        self.notes[_MEMO] = (self.store.generation, memo)

    def recall(self, object_id: str | None) -> dict[str, Any] | None:
        """`store.get`, answered from `remember`ed documents while the store saw no write since."""
        generation, memo = self.notes.get(_MEMO) or (None, {})
        if generation == self.store.generation and object_id in memo:
            return memo[object_id]
        return self.store.get(self.shop, object_id)


def field(type_name: str, field_name: str) -> Callable[[Resolver], Resolver]:
    """Register a resolver for `type_name.field_name`; it is called as fn(source, info, **args)."""

    def register(fn: Resolver) -> Resolver:
        known = _FIELDS.get((type_name, field_name))
        if known is not None and (known.__module__, known.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(
                f"{type_name}.{field_name} is already resolved by {known.__module__}.{known.__qualname__}"
            )
        _FIELDS[(type_name, field_name)] = fn
        return fn

    return register


def query(field_name: str) -> Callable[[Resolver], Resolver]:
    return field("QueryRoot", field_name)


def mutation(field_name: str) -> Callable[[Resolver], Resolver]:
    return field("Mutation", field_name)


def is_registered(type_name: str, field_name: str) -> bool:
    return (type_name, field_name) in _FIELDS


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """The default field resolver: registered function, else plain data, else 'not emulated'."""
    type_name = info.parent_type.name
    fn = _FIELDS.get((type_name, info.field_name))
    if fn is not None:
        if type_name == "Mutation" and info.field_name in IDEMPOTENT_MUTATIONS:
            from sandbox.shopify.idempotency import run_idempotent

            return run_idempotent(fn, source, info, args)
        return fn(source, info, **args)
    if isinstance(source, dict) and info.field_name in source:
        return source[info.field_name]
    if isinstance(source, dict) and type_name.endswith("UserError"):
        return None  # optional parts of a userError (elementIndex, code...) are plain nulls
    raise GraphQLError(
        f"not emulated: {type_name}.{info.field_name}", info.field_nodes, extensions={"code": "NOT_EMULATED"}
    )


def user_error(field_path: list[str] | None, message: str, code: str | None = None, **extra: Any) -> dict:
    """A userError the way Shopify shapes them (`field` is a path of strings)."""
    error = {"field": [str(p) for p in field_path] if field_path is not None else None, "message": message}
    error["code"] = code
    error.update(extra)
    return error
