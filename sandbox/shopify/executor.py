"""One GraphQL request, start to finish: parse, validate against the real schema, cost,
throttle, execute with the registered resolvers, format like Shopify. The HTTP route and the
bulk runner both call `run`, so a bulk line behaves exactly like a single call."""

from __future__ import annotations

import functools
import logging
import sys
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    validate,
)
from graphql.execution.execute import (
    UNEXPECTED_MULTIPLE_PAYLOADS,
    assume_not_async_iterable,
    assume_not_awaitable,
)
from graphql.utilities import get_operation_ast

from sandbox.shopify import idempotency, resolvers
from sandbox.shopify.cost import CostError, actual_cost, input_cost
from sandbox.shopify.cost_cache import RequestedCostCache
from sandbox.shopify.options import TIERS
from sandbox.shopify.plain_fields import PlainFieldsExecutor
from sandbox.shopify.registry import Ctx, resolve_field
from sandbox.shopify.schema import admin_schema

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)

MAX_QUERY_COST = 1000
# Variable coercion reports every error (graphql-core's executor stops at 50 by default).
_ALL_COERCION_ERRORS = sys.maxsize

resolvers.load_all()
_requested_costs = RequestedCostCache()


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        log.error("sandbox resolver failed: %s", error.message, exc_info=error.original_error)
        extensions.setdefault("code", "INTERNAL_SERVER_ERROR")
    if extensions:
        formatted["extensions"] = extensions
    return formatted


@functools.lru_cache(maxsize=256)
def _document(query: str) -> DocumentNode | tuple[dict, ...]:
    """Parsed and validated document, or the errors Shopify would answer (cached by text)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return ({**error.formatted, "extensions": {"code": "PARSE_ERROR"}},)
    errors = validate(admin_schema(), document)
    if errors:
        return tuple(
            {
                **e.formatted,
                "extensions": {
                    "code": "undefinedField"
                    if "Cannot query field" in e.message
                    else "GRAPHQL_VALIDATION_FAILED"
                },
            }
            for e in errors
        )
    return document


def parse_and_validate(query: str) -> tuple[DocumentNode | None, list[dict]]:
    """The document, or the errors (for callers that validate before running, e.g. bulk)."""
    found = _document(query)
    if isinstance(found, tuple):
        return None, list(found)
    return found, []


def run(
    sandbox: Sandbox,
    shop: str,
    api_key: str,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    bulk: bool = False,
    scopes: str | None = None,
) -> dict[str, Any]:
    """Execute one request and return Shopify's response body (always with extensions.cost
    unless `bulk`, which is neither charged nor throttled). `scopes`: the token's grant
    (comma-separated), which bounds what the request reads (sandbox.shopify.order_store.readable);
    None sees everything."""
    schema = admin_schema()
    tier = sandbox.shops.tier(shop)
    bucket = sandbox.throttle.bucket(api_key, shop, *TIERS[tier])

    def body(
        data: Any = None,
        errors: list | None = None,
        requested: int = 0,
        actual: int = 0,
        executed: bool = False,
    ) -> dict:
        """Request errors (before execution) carry no `data`; execution results always do."""
        out: dict[str, Any] = {}
        if errors:
            out["errors"] = errors
        if executed:
            out["data"] = data
        if not bulk:
            out["extensions"] = {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": actual if data is not None else None,
                    "throttleStatus": bucket.status(),
                }
            }
        return out

    document, errors = parse_and_validate(query)
    if document is None:
        return body(errors=errors)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return body(
            errors=[{"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}]
        )
    granted = None if scopes is None else frozenset(s.strip() for s in scopes.split(",") if s.strip())
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=api_key, bulk=bulk, scopes=granted)
    # One executor coerces the variables once: the cost walk and the execution share them.
    executor = PlainFieldsExecutor.build(
        schema,
        document,
        None,
        ctx,
        variables or {},
        operation_name,
        resolve_field,
        None,
        None,
        _ALL_COERCION_ERRORS,
        False,
        None,
        assume_not_awaitable,  # every resolver is synchronous
        assume_not_async_iterable,
    )
    if isinstance(executor, list):
        return body(errors=[_format(e) for e in executor])
    coerced = executor.variable_values
    fragments = _fragments(query)
    try:
        requested = _requested_costs.cost((query, operation_name), schema, operation, fragments, coerced)
    except CostError as error:
        return body(errors=[_format(error)])
    items = 0 if bulk else input_cost(schema, operation, coerced)  # charged whatever comes back
    requested += items
    if requested > MAX_QUERY_COST and not bulk:
        return body(errors=[_max_cost_error(requested)], requested=requested)
    if not bulk and not sandbox.throttle.take(bucket, requested):
        return body(
            errors=[
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ],
            requested=requested,
        )
    with idempotency.in_flight(ctx, operation, coerced), sandbox.store.transaction():
        result = executor.execute_operation()
    if not isinstance(result, ExecutionResult):
        raise GraphQLError(UNEXPECTED_MULTIPLE_PAYLOADS)
    data = result.data
    actual = (
        actual_cost(schema, operation, fragments, coerced, data) + items if data is not None else requested
    )
    if not bulk:
        sandbox.throttle.refund(bucket, requested - actual)
    return body(
        data=data,
        errors=[_format(e) for e in result.errors or []],
        requested=requested,
        actual=actual,
        executed=True,
    )


@functools.lru_cache(maxsize=256)
def _fragments(query: str) -> dict[str, FragmentDefinitionNode]:
    """The fragments by name of a valid document, cached by its text like the document itself
    (a DocumentNode hashes by walking its whole tree, so it is no cheap cache key)."""
    document = _document(query)
    assert isinstance(document, DocumentNode)
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operation_of(document: DocumentNode) -> OperationDefinitionNode | None:
    return get_operation_ast(document, None)


def _max_cost_error(requested: int) -> dict[str, Any]:
    return {
        "message": (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({MAX_QUERY_COST}).\n\n"
            "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
            "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk "
            "operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations"
            "-with-admin-api for usage details.\n"
        ),
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST},
    }
