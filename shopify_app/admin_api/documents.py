"""The GraphQL documents the client sends: one `.graphql` file per operation, loaded and parsed once.

Why files: every string the app sends to Shopify is then visible to the schema-validation test
(tests/test_graphql_documents.py), so a new document cannot slip in unchecked. Fragments may
live in any file of the folder; an operation is sent together with exactly the fragments it
uses (transitively), because Shopify rejects unused fragments.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from gql import GraphQLRequest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    build_client_schema,
    parse,
    print_ast,
    visit,
)
from graphql.language import Source

DOCUMENTS_DIR = Path(__file__).resolve().parent / "documents"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "admin_2026-10.introspection.json.gz"


class DocumentError(LookupError):
    """An operation name with no .graphql file, or a folder whose documents do not assemble."""


@dataclass(frozen=True)
class Operation:
    """One named operation, ready to send: its gql request, its text, whether it is a mutation and
    the variable holding its `@idempotent` key (the executor renews a key Shopify calls failed).

    `text` is the document as sent (operation + the fragments it spreads), printed once here: gql
    prints the AST again on every request, ~10 % of an order job's CPU (docs/benchmarks.md).
    """

    name: str
    request: GraphQLRequest
    is_mutation: bool
    source_path: Path
    text: str
    key_variable: str | None = None  # the variable an `@idempotent(key: $x)` takes its key from


def idempotency_key_variable(operation: OperationDefinitionNode) -> str | None:
    """The variable whose value is the operation's `@idempotent(key:)` (None: no such directive,
    or a literal key): the executor sends a new key through it when Shopify asks for one."""
    for selection in operation.selection_set.selections:
        for directive in getattr(selection, "directives", None) or ():
            if directive.name.value != "idempotent":
                continue
            for argument in directive.arguments:
                if argument.name.value == "key" and isinstance(argument.value, VariableNode):
                    return argument.value.name.value
    return None


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def fragment_spreads(node: object) -> set[str]:
    """Names of the fragments spread anywhere inside `node`."""
    collector = _SpreadCollector()
    visit(node, collector)  # type: ignore[arg-type]
    return collector.names


def parse_folder(folder: Path) -> dict[Path, DocumentNode]:
    """Every .graphql file of `folder`, parsed (a syntax error names its file)."""
    return {
        path: parse(Source(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(folder.glob("*.graphql"))
    }


def fragment_pool(parsed: dict[Path, DocumentNode]) -> dict[str, FragmentDefinitionNode]:
    """All fragment definitions of a folder by name; a duplicate name is an error."""
    pool: dict[str, FragmentDefinitionNode] = {}
    for path, document in parsed.items():
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in pool:
                    raise DocumentError(f"fragment {name} is defined twice ({path})")
                pool[name] = definition
    return pool


def with_fragments(document: DocumentNode, pool: dict[str, FragmentDefinitionNode]) -> DocumentNode:
    """`document` plus the fragments from `pool` it uses and does not define itself."""
    own = {d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    needed: list[FragmentDefinitionNode] = []
    pending = list(fragment_spreads(document) - own)
    seen = set(own)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in pool:
            raise DocumentError(f"unknown fragment {name}")
        needed.append(pool[name])
        pending.extend(fragment_spreads(pool[name]) - seen)
    return DocumentNode(definitions=(*document.definitions, *sorted(needed, key=lambda f: f.name.value)))


def load_operations(folder: Path = DOCUMENTS_DIR) -> dict[str, Operation]:
    """Every operation of `folder` by operation name; one operation per file."""
    parsed = parse_folder(folder)
    pool = fragment_pool(parsed)
    operations: dict[str, Operation] = {}
    for path, document in parsed.items():
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not ops:
            continue
        if len(ops) > 1 or ops[0].name is None:
            raise DocumentError(f"{path}: exactly one named operation per file")
        name = ops[0].name.value
        if name in operations:
            raise DocumentError(f"operation {name} is defined twice ({path})")
        full = with_fragments(document, pool)
        operations[name] = Operation(
            name=name,
            request=GraphQLRequest(full, operation_name=name),
            is_mutation=ops[0].operation.value == "mutation",
            source_path=path,
            text=print_ast(full),
            key_variable=idempotency_key_variable(ops[0]),
        )
    return operations


@functools.cache
def operations() -> dict[str, Operation]:
    """The client's operations, parsed once per process."""
    return load_operations()


def operation(name: str) -> Operation:
    """The operation called `name` (the file's operation name, e.g. "InventorySetQuantities")."""
    try:
        return operations()[name]
    except KeyError:
        raise DocumentError(f"no .graphql document defines operation {name}") from None


@functools.cache
def admin_schema() -> GraphQLSchema:
    """The vendored Admin API 2026-10 schema (assume_valid: graphql-core 3.3 rejects a deprecation rule)."""
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection["data"], assume_valid=True)
