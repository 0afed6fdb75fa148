"""stagedUploadsCreate, bulkOperationRunMutation, bulkOperationCancel, bulkOperation(id),
bulkOperations and the deprecated currentBulkOperation."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, OperationType

from sandbox.shopify.connections import connection
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx, mutation, query, user_error
from sandbox.shopify.search_query import Term, compare, matches

_NOT_IN_BULK = {
    "bulkOperationRunMutation",
    "bulkOperationRunQuery",
    "bulkOperationCancel",
    "stagedUploadsCreate",
}


@mutation("stagedUploadsCreate")
def staged_uploads_create(_src: Any, info: GraphQLResolveInfo, input: list[dict]) -> dict:
    ctx: Ctx = info.context
    targets, errors = [], []
    for index, item in enumerate(input):
        if item["resource"] != "BULK_MUTATION_VARIABLES":
            errors.append(
                user_error(
                    ["input", str(index), "resource"], f"not emulated: staged uploads of {item['resource']}"
                )
            )
            continue
        targets.append(ctx.sandbox.bulk.staged_target(ctx.shop, item["filename"], item["mimeType"]))
    return {"stagedTargets": targets if not errors else None, "userErrors": errors}


def _mutation_problem(text: str) -> str | None:
    from sandbox.shopify.executor import operation_of, parse_and_validate

    document, errors = parse_and_validate(text)
    if document is None:
        return "; ".join(e["message"] for e in errors)
    operation = operation_of(document)
    if operation is None or operation.operation != OperationType.MUTATION:
        return "The bulk mutation must be a single mutation operation."
    names = {s.name.value for s in operation.selection_set.selections if hasattr(s, "name")}
    if names & _NOT_IN_BULK:
        return f"The mutation {sorted(names & _NOT_IN_BULK)[0]} is not allowed in a bulk operation."
    return None


@mutation("bulkOperationRunMutation")
def bulk_operation_run_mutation(
    _src: Any,
    info: GraphQLResolveInfo,
    mutation: str,
    stagedUploadPath: str,
    clientIdentifier: str | None = None,
    groupObjects: bool | None = None,
) -> dict:
    ctx: Ctx = info.context
    runner = ctx.sandbox.bulk
    problem = _mutation_problem(mutation)
    if problem:
        return {"bulkOperation": None, "userErrors": [user_error(["mutation"], problem, "INVALID_MUTATION")]}
    if ctx.store.get_blob(f"staged:{stagedUploadPath}") is None:
        return {
            "bulkOperation": None,
            "userErrors": [
                user_error(
                    ["stagedUploadPath"],
                    "The JSONL file could not be found. Try uploading the file again.",
                    "NO_SUCH_FILE",
                )
            ],
        }
    limit = ctx.sandbox.options.bulk_max_running
    if len(runner.running(ctx.shop)) >= limit:
        return {
            "bulkOperation": None,
            "userErrors": [
                user_error(
                    None,
                    f"A shop can run at most {limit} bulk operations at a time. Wait for one to finish.",
                    "LIMIT_REACHED",
                )
            ],
        }
    op = runner.start(ctx.shop, ctx.api_key, mutation, stagedUploadPath, clientIdentifier)
    return {"bulkOperation": op, "userErrors": []}


@mutation("bulkOperationCancel")
def bulk_operation_cancel(_src: Any, info: GraphQLResolveInfo, id: str) -> dict:
    ctx: Ctx = info.context
    op = ctx.sandbox.bulk.cancel(ctx.shop, id)
    if op is None:
        return {"bulkOperation": None, "userErrors": [user_error(["id"], "Bulk operation does not exist")]}
    return {"bulkOperation": op, "userErrors": []}


@query("bulkOperation")
def resolve_bulk_operation(_src: Any, info: GraphQLResolveInfo, id: str) -> dict | None:
    doc = info.context.store.get(info.context.shop, id)
    return doc if doc and doc.get("__typename") == "BulkOperation" else None


@query("bulkOperations")
def resolve_bulk_operations(_src: Any, info: GraphQLResolveInfo, **args: Any) -> dict:
    """The schema: "Defaults to sorting by created_at, with newest operations first"; `reverse`
    flips that (oldest first)."""
    ctx: Ctx = info.context
    found = [
        op
        for op in ctx.store.scan(ctx.shop, "BulkOperation")
        if matches(args.get("query"), lambda terms, op=op: _holds(op, terms))
    ]
    key = "completedAt" if args.get("sortKey") == "COMPLETED_AT" else "createdAt"
    found.sort(key=lambda op: (op.get(key) or "", num_of(op["id"]) or 0), reverse=True)
    return connection(found, args)


def _holds(op: dict, terms: list[Term]) -> bool:
    for term in terms:
        if term.field in ("status", "operation_type", "type"):
            key = "status" if term.field == "status" else "type"
            if op[key].lower() != term.value.lower():
                return False
        if term.field == "created_at" and not compare(op.get("createdAt"), term.op, term.value):
            return False
        if term.field == "id" and not compare(num_of(op["id"]), term.op, term.value):
            return False
    return True


@query("currentBulkOperation")
def resolve_current_bulk_operation(_src: Any, info: GraphQLResolveInfo, type: str = "QUERY") -> dict | None:
    ctx: Ctx = info.context
    found = [op for op in ctx.store.scan(ctx.shop, "BulkOperation") if op["type"] == type]
    return found[-1] if found else None
