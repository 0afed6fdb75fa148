"""Requested cost, remembered per (document, variables shape).

Why: walking a 250-item mutation against the schema on every call costs more than the call's
own work, yet the requested cost of a document only moves with a few variable values. The walk
in `cost.py` reads variables in exactly three ways: the `first` / `last` page sizes (the count of
a connection, the `<= 250` limit, "you must provide one of first or last") and the length of input
lists (the `<= 250` input limit). So the shape of a request is the values of the variables used as
`first` / `last`, plus "every input list is within the limit". A request whose lists are all
within the limit reuses the cost computed for its shape; any longer list, and any walk that
raises, goes through the full walk every time, so the exact error (naming the size) is unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from sandbox.shopify.cost import MAX_INPUT_LIST, requested_cost

PAGE_ARGUMENTS = ("first", "last")


def page_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Names of the variables passed as `first` / `last` anywhere in the operation or its fragments."""
    names: set[str] = set()
    selection_sets = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    for node in _fields(selection_sets):
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS and isinstance(argument.value, VariableNode):
                names.add(argument.value.name.value)
    return tuple(sorted(names))


def _fields(selection_sets: list[SelectionSetNode | None]) -> Iterator[FieldNode]:
    stack = [s for s in selection_sets if s is not None]
    while stack:
        for node in stack.pop().selections:
            if isinstance(node, FieldNode):
                yield node
            if isinstance(node, FieldNode | InlineFragmentNode) and node.selection_set is not None:
                stack.append(node.selection_set)


def lists_within_limit(value: Any) -> bool:
    """True when no list inside `value` (dicts and lists, any depth) is longer than the input limit."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            stack.extend(v for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            if len(current) > MAX_INPUT_LIST:
                return False
            stack.extend(v for v in current if isinstance(v, dict | list))
    return True


class RequestedCostCache:
    """`requested_cost` with a bounded memory of (document key, page sizes) -> cost."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._page_variables: dict[Hashable, tuple[str, ...]] = {}
        self._costs: OrderedDict[Hashable, int] = OrderedDict()
        self._lock = threading.Lock()

    def cost(
        self,
        document_key: Hashable,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Any,
    ) -> int:
        """The requested cost; raises CostError exactly as `requested_cost` does.

        `document_key` must name the document text and operation (the same key, the same AST);
        `variables` is graphql-core's VariableValues (or a plain dict of coerced values).
        """
        coerced = getattr(variables, "coerced", variables) or {}
        if not lists_within_limit(coerced):
            return requested_cost(schema, operation, fragments, variables)
        names = self._page_variables.get(document_key)
        if names is None:
            names = page_variables(operation, fragments)
            self._page_variables[document_key] = names
        key = (document_key, tuple(coerced.get(n) for n in names))
        with self._lock:
            found = self._costs.get(key)
            if found is not None:
                self._costs.move_to_end(key)
                return found
        cost = requested_cost(schema, operation, fragments, variables)
        with self._lock:
            self._costs[key] = cost
            while len(self._costs) > self._size:
                self._costs.popitem(last=False)
            if len(self._page_variables) > self._size:
                self._page_variables.clear()
        return cost
