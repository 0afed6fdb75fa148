"""Query cost like Shopify's calculated cost (formula in README.md, "Cost and throttling").

`requested_cost` walks the document against the schema before execution (and enforces the
`first`/`last` <= 250 and input-list <= 250 limits); `actual_cost` walks the same document over
the returned data, counting returned items instead of `first`. `input_cost` adds what the
schema's input fields say they cost ("Complexity cost: 0.2 per variant": productSet's variants,
metafields, files), which depends on the variables, not on the document.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from graphql.type.definition import GraphQLObjectType

MAX_PAGE = 250
MAX_INPUT_LIST = 250
MUTATION_COST = 10
CONNECTION_COST = 2
_FREE_TYPES = ("PageInfo",)
_MISSING = object()


class CostError(GraphQLError):
    """A limit broken before execution (page size or input list size)."""


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: Any):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._caps: dict[int, Any] = {}  # per list field node: its requested shape's cost
        self._nested: dict[int, bool] = {}  # per connection field node: a connection under its items

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any = _MISSING) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self._field(node, parent, data)
            elif isinstance(node, InlineFragmentNode):
                target = (
                    self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                )
                total += self.selection(node.selection_set, target, data)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection(fragment.selection_set, target, data)
        return total

    def _field(self, node: FieldNode, parent: Any, data: Any) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 0
        definition: GraphQLField = fields[name]
        named = get_named_type(definition.type)
        args: dict[str, Any] = {}  # only the requested walk reads arguments (limits, first/last)
        if data is _MISSING:
            args = get_argument_values(definition, node, self.variables)
            _check_limits(name, args, node)
            value: Any = _MISSING
        else:
            if not isinstance(data, dict):
                return 0
            value = data.get((node.alias or node.name).value)
            if value is None:
                return MUTATION_COST if parent is self.schema.mutation_type else 0
        if is_leaf_type(named):
            return 0
        if parent is self.schema.mutation_type:
            return MUTATION_COST + self.selection(node.selection_set, named, value)
        if named.name.endswith("Connection"):
            if (
                value is _MISSING
                and "first" in definition.args
                and args.get("first") is None
                and args.get("last") is None
            ):
                raise CostError(
                    "you must provide one of first or last", node, extensions={"code": "BAD_REQUEST"}
                )
            return self._connection(node, named, args, value)
        if named.name.endswith("Edge") or named.name in _FREE_TYPES:
            return self.selection(node.selection_set, named, value)
        if isinstance(value, list):
            return 1 + self._most_costly(node, named, value)
        return 1 + self.selection(node.selection_set, named, value)

    def _most_costly(self, node: FieldNode, named: Any, items: list) -> int:
        """The highest cost among a list's items. Without a connection below it, no item can
        cost more than the requested shape, so the walk stops at the first item that does
        (250 inventory changes are costed by their first)."""
        cap = self._caps.get(id(node), _MISSING)
        if cap is _MISSING:
            cap = (
                None
                if self._holds_connection(node.selection_set, named)
                else (_Walk(self.schema, self.fragments, self.variables).selection(node.selection_set, named))
            )
            self._caps[id(node)] = cap
        best = 0
        for item in items:
            best = max(best, self.selection(node.selection_set, named, item))
            if cap is not None and best >= cap:
                break
        return best

    def _holds_connection(self, selection_set: SelectionSetNode | None, parent: Any) -> bool:
        """True when a connection field appears anywhere under `selection_set` (fragments too)."""
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                definition = (getattr(parent, "fields", None) or {}).get(node.name.value)
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                if named.name.endswith("Connection") or self._holds_connection(node.selection_set, named):
                    return True
            elif isinstance(node, InlineFragmentNode):
                target = (
                    self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                )
                if self._holds_connection(node.selection_set, target):
                    return True
            elif isinstance(node, FragmentSpreadNode) and node.name.value in self.fragments:
                fragment = self.fragments[node.name.value]
                target = self.schema.get_type(fragment.type_condition.name.value)
                if self._holds_connection(fragment.selection_set, target):
                    return True
        return False

    def _connection(self, node: FieldNode, conn: GraphQLObjectType, args: dict, value: Any) -> int:
        if value is not _MISSING and self._nested_connection(node, conn):
            return CONNECTION_COST + self._returned_items(node, conn, value)
        per_item = 0
        for sub in _fields_of(node.selection_set, self.fragments):
            sub_name = sub.name.value
            if sub_name in ("edges", "nodes"):
                item_type = get_named_type(conn.fields[sub_name].type)
                if sub_name == "nodes":
                    per_item += 1 + self.selection(sub.selection_set, item_type)
                else:
                    per_item += self.selection(sub.selection_set, item_type)
        if value is _MISSING:
            count = args.get("first") or args.get("last") or 0
        else:
            lists = [v for v in value.values() if isinstance(v, list)] if isinstance(value, dict) else []
            count = max((len(v) for v in lists), default=0)
        return CONNECTION_COST + count * per_item

    def _nested_connection(self, node: FieldNode, conn: GraphQLObjectType) -> bool:
        """True when another connection sits under this one's items (cached per field node)."""
        nested = self._nested.get(id(node))
        if nested is None:
            nested = self._nested[id(node)] = any(
                self._holds_connection(sub.selection_set, get_named_type(conn.fields[sub.name.value].type))
                for sub in _fields_of(node.selection_set, self.fragments)
                if sub.name.value in ("edges", "nodes")
            )
        return nested

    def _returned_items(self, node: FieldNode, conn: GraphQLObjectType, value: Any) -> int:
        """Each returned item costed by what came back under it: a nested connection counts the
        items it returned, not its `first` (Shopify's actual cost)."""
        if not isinstance(value, dict):
            return 0
        total = 0
        for sub in _fields_of(node.selection_set, self.fragments):
            name = sub.name.value
            if name not in ("edges", "nodes"):
                continue
            item_type = get_named_type(conn.fields[name].type)
            for item in value.get((sub.alias or sub.name).value) or ():
                if item is not None:
                    total += (1 if name == "nodes" else 0) + self.selection(
                        sub.selection_set, item_type, item
                    )
        return total


def _fields_of(selection_set: SelectionSetNode | None, fragments: dict) -> list[FieldNode]:
    out: list[FieldNode] = []
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            out.append(node)
        elif isinstance(node, InlineFragmentNode):
            out.extend(_fields_of(node.selection_set, fragments))
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            out.extend(_fields_of(fragments[node.name.value].selection_set, fragments))
    return out


def _check_limits(name: str, args: dict, node: FieldNode) -> None:
    for page_arg in ("first", "last"):
        size = args.get(page_arg)
        if isinstance(size, int) and size > MAX_PAGE:
            raise CostError(
                f"Argument '{page_arg}' on Field '{name}' has an invalid value ({size}). "
                f"Expected a value less than or equal to {MAX_PAGE}.",
                node,
                extensions={"code": "BAD_REQUEST"},
            )
    _check_lists(args, node)


def _check_lists(value: Any, node: FieldNode) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _check_lists(item, node)
    elif isinstance(value, list):
        if len(value) > MAX_INPUT_LIST:
            raise CostError(
                f"The input array size of {len(value)} is greater than the maximum allowed of "
                f"{MAX_INPUT_LIST}.",
                node,
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        for item in value:
            _check_lists(item, node)


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Any:
    return schema.mutation_type if operation.operation.value == "mutation" else schema.query_type


def requested_cost(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict, variables: Any
) -> int:
    """The cost charged before execution; raises CostError on a broken input limit."""
    return _Walk(schema, fragments, variables).selection(operation.selection_set, _root(schema, operation))


def actual_cost(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict, variables: Any, data: Any
) -> int:
    """The cost of what was returned (refunded against the requested cost)."""
    if not isinstance(data, dict):
        return 0
    return _Walk(schema, fragments, variables).selection(
        operation.selection_set, _root(schema, operation), data
    )


_RATE = re.compile(r"Complexity cost: ([0-9.]+) per ")


@functools.lru_cache(maxsize=8)
def _input_rates(schema: GraphQLSchema) -> tuple[dict[str, dict[str, float]], frozenset[str], frozenset[str]]:
    """({input type: {field: cost per item}}, the input types that hold a rated field at any depth,
    the mutation fields taking one), read off the schema's descriptions."""
    rates: dict[str, dict[str, float]] = {}
    inputs = [t for t in schema.type_map.values() if isinstance(t, GraphQLInputObjectType)]
    for kind in inputs:
        for name, definition in kind.fields.items():
            found = _RATE.search(definition.description or "")
            if found:
                rates.setdefault(kind.name, {})[name] = float(found.group(1))
    reaching = set(rates)
    grown = True
    while grown:
        grown = False
        for kind in inputs:
            if kind.name not in reaching and any(
                get_named_type(f.type).name in reaching for f in kind.fields.values()
            ):
                reaching.add(kind.name)
                grown = True
    mutation = schema.mutation_type
    fields = frozenset(
        name
        for name, definition in (mutation.fields.items() if mutation else ())
        if any(get_named_type(a.type).name in reaching for a in definition.args.values())
    )
    return rates, frozenset(reaching), fields


def input_cost(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Any) -> int:
    """The cost of a mutation's input items (0.2 per productSet variant, 0.4 per metafield...),
    rounded up; 0 for a query or a mutation whose input has no rated field."""
    if operation.operation.value != "mutation" or schema.mutation_type is None:
        return 0
    rates, reaching, fields = _input_rates(schema)
    total = 0.0
    for node in operation.selection_set.selections:
        if not isinstance(node, FieldNode) or node.name.value not in fields:
            continue
        definition = schema.mutation_type.fields[node.name.value]
        args = get_argument_values(definition, node, variables)
        for name, value in args.items():
            total += _items_cost(get_named_type(definition.args[name].type), value, rates, reaching)
    return math.ceil(round(total, 6))


def _items_cost(kind: Any, value: Any, rates: dict[str, dict[str, float]], reaching: frozenset[str]) -> float:
    if isinstance(value, list):
        return sum(_items_cost(kind, item, rates, reaching) for item in value)
    if not isinstance(value, dict) or kind.name not in reaching:
        return 0.0
    own = rates.get(kind.name, {})
    total = 0.0
    for name, field_value in value.items():
        definition = kind.fields.get(name)
        if definition is None or field_value is None:
            continue
        rate = own.get(name)
        if rate:
            total += rate * (len(field_value) if isinstance(field_value, list) else 1)
        total += _items_cost(get_named_type(definition.type), field_value, rates, reaching)
    return total
