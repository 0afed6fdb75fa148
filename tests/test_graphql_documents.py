"""Every .graphql file in the repository validates against the vendored Admin API 2026-10 schema.

The test finds the files itself, so a new document cannot slip in unchecked. A file is
validated together with the fragments it uses from the other files of its folder (that is how
the client sends it); a fragment-only file is validated on its own without the "unused
fragment" rule, so its fields are still checked.

No document the client sends (shopify_app/admin_api/documents) uses what the schema marks
deprecated: a field, an argument, an input field or an enum value written in the document.
Shopify removes those in a later version; the replacement is used instead. Only what has no
replacement may be listed in DEPRECATED_ALLOWED, each with why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    ArgumentNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    NoUnusedFragmentsRule,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.language import Source

from shopify_app.admin_api.documents import (
    DOCUMENTS_DIR,
    DocumentError,
    admin_schema,
    fragment_pool,
    parse_folder,
    with_fragments,
)

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


# (document file name, schema coordinate) -> why it stays: only what has no replacement in 2026-10.
# Empty: every deprecated field the documents used has its replacement (Market.priceList ->
# Market.catalogs -> MarketCatalog.priceList, read by MarketCatalogs.graphql).
DEPRECATED_ALLOWED: dict[tuple[str, str], str] = {}


class _DeprecatedUses(Visitor):
    """Schema coordinates of the deprecated things a document uses, with Shopify's reason."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: dict[str, str] = {}

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        definition, parent = self.type_info.get_field_def(), self.type_info.get_parent_type()
        if definition is not None and parent is not None and definition.deprecation_reason:
            self.found[f"{parent.name}.{node.name.value}"] = definition.deprecation_reason

    def enter_argument(self, node: ArgumentNode, _key: object, _parent: object, _path: object,
                       ancestors: list) -> None:  # fmt: skip
        argument, owner = self.type_info.get_argument(), ancestors[-1] if ancestors else None
        if argument is not None and argument.deprecation_reason and isinstance(owner, FieldNode):
            parent = self.type_info.get_parent_type()
            where = f"{parent.name}." if parent is not None else ""
            self.found[f"{where}{owner.name.value}({node.name.value}:)"] = argument.deprecation_reason

    def enter_object_field(self, node: ObjectFieldNode, *_args: object) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if isinstance(parent, GraphQLInputObjectType):
            definition = parent.fields.get(node.name.value)
            reason = getattr(definition, "deprecation_reason", None)
            if reason:
                self.found[f"{parent.name}.{node.name.value}"] = reason

    def enter_enum_value(self, node: EnumValueNode, *_args: object) -> None:
        enum = get_named_type(self.type_info.get_input_type())
        if isinstance(enum, GraphQLEnumType):
            value = enum.values.get(node.value)
            if value is not None and value.deprecation_reason:
                self.found[f"{enum.name}.{node.value}"] = value.deprecation_reason


def deprecated_uses(document: DocumentNode) -> dict[str, str]:
    """What `document` (with its fragments) uses that the schema deprecates: coordinate -> reason."""
    type_info = TypeInfo(admin_schema())
    uses = _DeprecatedUses(type_info)
    visit(document, TypeInfoVisitor(type_info, uses))
    return uses.found


def client_documents() -> dict[str, DocumentNode]:
    """Each file the client sends, as sent: with the fragments it spreads from its folder."""
    parsed = parse_folder(DOCUMENTS_DIR)
    pool = fragment_pool(parsed)
    return {path.name: with_fragments(document, pool) for path, document in parsed.items()}


def test_no_client_document_uses_a_deprecated_field_argument_or_enum_value() -> None:
    documents = client_documents()
    assert "MarketCatalogs.graphql" in documents and "Markets.graphql" in documents
    used = {
        (name, coordinate): reason
        for name, document in documents.items()
        for coordinate, reason in deprecated_uses(document).items()
    }
    unexcused = {key: reason for key, reason in used.items() if key not in DEPRECATED_ALLOWED}
    assert not unexcused, "deprecated in Admin API 2026-10, use the replacement:\n" + "\n".join(
        f"{name}: {coordinate} ({reason})" for (name, coordinate), reason in sorted(unexcused.items())
    )
    stale = sorted(set(DEPRECATED_ALLOWED) - set(used))
    assert not stale, f"DEPRECATED_ALLOWED lists uses no document has any more: {stale}"


def test_deprecated_uses_are_found_in_fields_arguments_input_fields_and_enum_values() -> None:
    document = parse(
        """
        query Q($first: Int!) {
          markets(first: $first) { nodes { ...M } }
          webhookSubscriptions(first: 1, callbackUrl: "https://x") { nodes { id } }
        }
        fragment M on Market { id priceList { id } catalogs(first: 1) { nodes { priceList { id } } } }
        mutation C {
          customerCreate(input: {email: "a@b.c", addresses: [{city: "Recife"}]}) { customer { id } }
          priceListCreate(input: {name: "x", currency: BYR,
                                  parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
            priceList { id }
          }
        }
        """
    )
    assert set(deprecated_uses(document)) == {
        "Market.priceList",
        "QueryRoot.webhookSubscriptions(callbackUrl:)",
        "CustomerInput.addresses",
        "CurrencyCode.BYR",
    }
