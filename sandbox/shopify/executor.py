"""One GraphQL request, start to finish: parse, validate against the real schema, cost,
throttle, execute with the registered resolvers, format like Shopify. The HTTP route and the
bulk runner both call `run`, so a bulk line behaves exactly like a single call."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast

from sandbox.shopify import resolvers
from sandbox.shopify.cost import CostError, actual_cost, requested_cost
from sandbox.shopify.options import TIERS
from sandbox.shopify.registry import Ctx, resolve_field
from sandbox.shopify.schema import admin_schema

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)

MAX_QUERY_COST = 1000

resolvers.load_all()


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
) -> dict[str, Any]:
    """Execute one request and return Shopify's response body (always with extensions.cost
    unless `bulk`, which is neither charged nor throttled)."""
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
    coerced = get_variable_values(schema, operation.variable_definitions or [], variables or {})
    if isinstance(coerced, list):
        return body(errors=[_format(e) for e in coerced])
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    try:
        requested = requested_cost(schema, operation, fragments, coerced)
    except CostError as error:
        return body(errors=[_format(error)])
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
    ctx = Ctx(shop=shop, sandbox=sandbox, api_key=api_key, bulk=bulk)
    with sandbox.store.transaction():
        result = execute(
            schema, document, None, ctx, variables or {}, operation_name, field_resolver=resolve_field
        )
    data = result.data
    actual = actual_cost(schema, operation, fragments, coerced, data) if data is not None else requested
    if not bulk:
        sandbox.throttle.refund(bucket, requested - actual)
    return body(
        data=data,
        errors=[_format(e) for e in result.errors or []],
        requested=requested,
        actual=actual,
        executed=True,
    )


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
