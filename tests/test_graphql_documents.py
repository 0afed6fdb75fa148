"""Every .graphql file in the repository validates against the vendored Admin API 2026-10 schema.

The test finds the files itself, so a new document cannot slip in unchecked. A file is
validated together with the fragments it uses from the other files of its folder (that is how
the client sends it); a fragment-only file is validated on its own without the "unused
fragment" rule, so its fields are still checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Source

from shopify_app.admin_api.documents import DocumentError, admin_schema, fragment_pool, with_fragments

ROOT = Path(__file__).resolve().parents[1]
EXCLUDED_PARTS = {".venv", "node_modules", ".git", "build", "dist"}
FRAGMENT_RULES = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]


def graphql_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.graphql")
        if not EXCLUDED_PARTS.intersection(path.relative_to(ROOT).parts)
    )


def document_errors(path: Path) -> list[str]:
    """Why `path` does not validate (empty when it does)."""
    try:
        document = parse(Source(path.read_text(encoding="utf-8"), str(path)))
        siblings = {
            p: parse(Source(p.read_text(encoding="utf-8"), str(p)))
            for p in sorted(path.parent.glob("*.graphql"))
        }
        full = with_fragments(document, fragment_pool(siblings))
    except (GraphQLError, DocumentError) as exc:
        return [str(exc)]
    return errors_of(full)


def errors_of(document: DocumentNode) -> list[str]:
    has_operation = any(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    rules = specified_rules if has_operation else FRAGMENT_RULES
    return [error.message for error in validate(admin_schema(), document, rules)]


FILES = graphql_files()


def test_the_client_documents_are_found() -> None:
    names = {p.name for p in FILES}
    assert {"InventorySetQuantities.graphql", "ProductSet.graphql", "Order.graphql"} <= names


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_document_is_valid_against_admin_schema(path: Path) -> None:
    errors = document_errors(path)
    assert not errors, f"{path.relative_to(ROOT)} is not valid against Admin API 2026-10:\n" + "\n".join(
        errors
    )


def test_a_broken_document_is_rejected() -> None:
    broken = parse("query Broken { shop { nameThatDoesNotExist } orders(first: 1) { nodes { id } } }")
    errors = errors_of(broken)
    assert any("nameThatDoesNotExist" in e for e in errors)


def test_a_broken_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "Frag.graphql").write_text("fragment F on Order { id nope }")
    (tmp_path / "Q.graphql").write_text("query Q($id: ID!) { order(id: $id) { ...F } }")
    assert any("nope" in e for e in document_errors(tmp_path / "Q.graphql"))
    assert any("nope" in e for e in document_errors(tmp_path / "Frag.graphql"))
    (tmp_path / "syntax").mkdir()
    (tmp_path / "syntax" / "Syntax.graphql").write_text("query { order(id: ")
    assert document_errors(tmp_path / "syntax" / "Syntax.graphql")
