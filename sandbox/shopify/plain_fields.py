"""graphql-core's executor with a short way for plain scalar fields read off a document.

Why: a 250-item inventory payload has 3,000+ fields, nearly all of them scalars read straight
off a dict (`name`, `delta`, `id`...). For those graphql-core builds a resolve info, calls the
default resolver and walks `complete_value` per field, which was most of a call's CPU.

The short way gives the same answer the long one does: it is taken only for a field that has
no resolver of its own (neither on the schema nor in the registry), no arguments, a scalar or
enum type (not a list), and a source dict that holds the key — exactly the case in which
`registry.resolve_field` returns `source[name]` — and the value is passed through the type's own
`coerce_output_value`, as `complete_leaf_value` does. Anything else (a null for a non-null
field, a value the scalar refuses, an exception object...) takes graphql-core's own path, so
errors keep their messages and locations.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLLeafType, GraphQLObjectType, Undefined, is_leaf_type, is_non_null_type
from graphql.execution.incremental.incremental_executor import IncrementalExecutor

from sandbox.shopify import registry

_NOT_PLAIN = (None, False)


class PlainFieldsExecutor(IncrementalExecutor):
    """IncrementalExecutor (what `graphql.execute` uses) plus the plain-scalar short way."""

    _plans: dict[tuple[str, str], tuple[GraphQLLeafType | None, bool]] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if type(source) is dict and self.field_resolver is registry.resolve_field:
            node = field_details_list[0].node
            name = node.name.value
            if name in source and not node.arguments:
                leaf, non_null = self._plan(parent_type, name)
                if leaf is not None:
                    value = source[name]
                    if value is None and not non_null:
                        return None
                    if value is not None and value is not Undefined and not isinstance(value, Exception):
                        try:
                            coerced = leaf.coerce_output_value(value)
                        except Exception:  # the long way raises it, located, as a field error
                            coerced = None
                        if coerced is not None and coerced is not Undefined:
                            return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _plan(self, parent_type: GraphQLObjectType, name: str) -> tuple[GraphQLLeafType | None, bool]:
        """(leaf type, non-null) when `parent_type.name` is a plain scalar field, else (None, _)."""
        key = (parent_type.name, name)
        plan = self._plans.get(key)
        if plan is None:
            plan = _NOT_PLAIN
            field_def = parent_type.fields.get(name)
            if field_def is not None and field_def.resolve is None and not field_def.args:
                inner = field_def.type.of_type if is_non_null_type(field_def.type) else field_def.type
                if is_leaf_type(inner):
                    plan = (inner, is_non_null_type(field_def.type))
            self._plans[key] = plan
        if plan[0] is not None and registry.is_registered(*key):
            return _NOT_PLAIN  # a registered resolver always wins (checked live: modules may load late)
        return plan
