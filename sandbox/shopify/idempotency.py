"""`@idempotent(key:)` on inventory mutations: required, replayed, refused on mismatch, busy while
a request under the same key runs, refused as failed after a request under it failed.

The key is scoped per (shop, app, mutation field). The first result is stored with a digest of
the coerced arguments; the same key with the same arguments returns that first result; the
same key with other arguments answers IDEMPOTENCY_KEY_PARAMETER_MISMATCH. The two other codes
of the 2026-10 schema (InventorySetQuantitiesUserErrorCode and its siblings) are answered as
Shopify describes them:
- IDEMPOTENCY_CONCURRENT_REQUEST ("This request is currently in progress, please try again."):
  a request arrives while another one under the same key is still running. Each request claims
  its keys before it runs (`in_flight`, around the request's transaction, outside the store
  lock); a client's resend after a timeout meets the first one still running.
- IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED ("A previous request with this idempotency key failed.
  Retry with a new idempotency key."): a request under the key failed on Shopify's side (its
  resolver crashed: an INTERNAL_SERVER_ERROR, nothing kept). The key stays failed; only a new
  key runs the mutation.
Test controls, as a slow or failing Shopify: `hold_next(sandbox, shop, field, seconds)` keeps the
shop's next request of `field` running `seconds` (wall clock) after it claimed its key, and
`fail_next(sandbox, shop, field)` makes it fail on Shopify's side (control API:
`/_sandbox/shops/<shop>/idempotency/hold` and `/fail`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo, OperationDefinitionNode, OperationType, get_named_type
from graphql.execution.values import get_directive_values

from sandbox.shopify.registry import IDEMPOTENT_MUTATIONS, Ctx, user_error
from sandbox.shopify.schema import admin_schema

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

IN_PROGRESS = ("This request is currently in progress, please try again.", "IDEMPOTENCY_CONCURRENT_REQUEST")
FAILED_BEFORE = (
    "A previous request with this idempotency key failed. Retry with a new idempotency key.",
    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
)
MISMATCH = (
    "The same idempotency key was used with different parameters.",
    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
)
FAILED = "failed"  # the digest stored for a key whose request failed
INTERNAL_ERROR = "Internal error. Looks like something went wrong on our end."
_BUSY = "idempotency_busy"  # Ctx.notes: the (key, field) pairs another request holds

Claim = tuple[str, str, str, str]  # (shop, api key, key, mutation field)


@dataclass
class Flights:
    """The keys of the requests running now, and the test controls (per sandbox)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: set[Claim] = field(default_factory=set)
    holds: dict[tuple[str, str], list[float | threading.Event]] = field(default_factory=dict)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)


HOLD_MAX = 60.0  # a hold until released ends by itself after this long (a test that forgot it)


def hold_next(sandbox: Sandbox, shop: str, field_name: str, seconds: float | threading.Event) -> None:
    """The shop's next request of `field_name` runs `seconds` longer (a slow Shopify), or, given an
    event, until the test sets it (a test that must not depend on the machine's speed)."""
    hold = seconds if isinstance(seconds, threading.Event) else float(seconds)
    with sandbox.idempotency.lock:
        sandbox.idempotency.holds.setdefault((shop, field_name), []).append(hold)


def running(sandbox: Sandbox, shop: str, field_name: str) -> bool:
    """Whether a request of `field_name` for the shop is running now (its keys claimed)."""
    with sandbox.idempotency.lock:
        return any(c[0] == shop and c[3] == field_name for c in sandbox.idempotency.running)


def fail_next(sandbox: Sandbox, shop: str, field_name: str) -> None:
    """The shop's next request of `field_name` fails on Shopify's side, its key with it."""
    with sandbox.idempotency.lock:
        key = (shop, field_name)
        sandbox.idempotency.failures[key] = sandbox.idempotency.failures.get(key, 0) + 1


def _keys(operation: OperationDefinitionNode, variables: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, field) of each idempotent root field of a mutation."""
    directive = admin_schema().get_directive("idempotent")
    found = []
    for node in operation.selection_set.selections:
        name = getattr(node, "name", None)
        if name is None or name.value not in IDEMPOTENT_MUTATIONS or directive is None:
            continue
        values = get_directive_values(directive, node, variables) or {}  # type: ignore[arg-type]
        if isinstance(values.get("key"), str):
            found.append((values["key"], name.value))
    return found


@contextmanager
def in_flight(ctx: Ctx, operation: OperationDefinitionNode, variables: dict[str, Any]) -> Iterator[None]:
    """Run a request with its idempotency keys claimed; a key another request holds is noted as
    busy for `run_idempotent`. A hold asked for one of its fields is served here, keys claimed."""
    if operation.operation != OperationType.MUTATION:
        yield
        return
    flights: Flights = ctx.sandbox.idempotency
    claimed: list[Claim] = []
    busy: set[tuple[str, str]] = set()
    hold = 0.0
    release: threading.Event | None = None
    with flights.lock:
        for key, field_name in _keys(operation, variables):
            claim = (ctx.shop, ctx.api_key, key, field_name)
            if claim in flights.running:
                busy.add((key, field_name))
                continue
            flights.running.add(claim)
            claimed.append(claim)
            waiting = flights.holds.get((ctx.shop, field_name))
            if waiting:
                given = waiting.pop(0)
                if isinstance(given, threading.Event):
                    release = given
                else:
                    hold = max(hold, given)
    ctx.notes[_BUSY] = busy
    try:
        if hold:
            time.sleep(hold)
        if release is not None:
            release.wait(HOLD_MAX)
        yield
    finally:
        with flights.lock:
            flights.running.difference_update(claimed)


def _key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
    key = (values or {}).get("key")
    return key if isinstance(key, str) else None


def _answer(info: GraphQLResolveInfo, words: tuple[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = dict.fromkeys(get_named_type(info.return_type).fields)
    payload["userErrors"] = [user_error(["idempotencyKey"], *words)]
    return payload


def _take_failure(ctx: Ctx, field_name: str) -> bool:
    flights: Flights = ctx.sandbox.idempotency
    with flights.lock:
        left = flights.failures.get((ctx.shop, field_name), 0)
        if left:
            flights.failures[(ctx.shop, field_name)] = left - 1
        return bool(left)


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
    ctx: Ctx = info.context
    if (key, info.field_name) in ctx.notes.get(_BUSY, ()):
        return _answer(info, IN_PROGRESS)
    digest = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()
    stored = ctx.store.get_idempotent(ctx.shop, ctx.api_key, key, info.field_name)
    if stored is not None:
        stored_digest, result = stored
        if stored_digest == FAILED:
            return _answer(info, FAILED_BEFORE)
        if stored_digest == digest:
            return result
        return _answer(info, MISMATCH)
    try:
        if _take_failure(ctx, info.field_name):
            raise GraphQLError(INTERNAL_ERROR, info.field_nodes, extensions={"code": "INTERNAL_SERVER_ERROR"})
        result = fn(source, info, **args)
    except Exception:
        ctx.store.put_idempotent(ctx.shop, ctx.api_key, key, info.field_name, FAILED, None)
        raise
    ctx.store.put_idempotent(ctx.shop, ctx.api_key, key, info.field_name, digest, result)
    return result
