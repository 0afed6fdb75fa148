"""Every line of an open order edit: the pages after orderEditBegin's first 250 are read by the
calculated order's id; when Shopify gives none, the edit is refused before any change."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import Rejected
from shopify_app.admin_api.order_edit_lines import NOT_READ, begun_edit


def _line(n: int) -> dict[str, Any]:
    return {"id": f"gid://shopify/CalculatedLineItem/{n}", "sku": f"S{n}", "quantity": 1, "variant": None}


def _begun(lines: range, *, more: bool) -> dict[str, Any]:
    info = {"hasNextPage": more, "endCursor": "c250" if more else None}
    calculated = {"id": "gid://shopify/CalculatedOrder/9", "lineItems": {"nodes": [_line(n) for n in lines],
                                                                         "pageInfo": info}}  # fmt: skip
    return {"calculatedOrder": calculated}


class Runner:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers, self.calls = answers, []

    def query(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((name, variables))
        return self.answers.pop(0)


def test_the_lines_past_the_first_page_are_read_by_the_calculated_orders_id() -> None:
    page = {
        "nodes": [_line(n) for n in range(251, 261)],
        "pageInfo": {"hasNextPage": False, "endCursor": "x"},
    }
    runner = Runner([{"node": {"lineItems": page}}])
    edit = begun_edit(runner, _begun(range(1, 251), more=True))
    assert [line.id.rsplit("/", 1)[-1] for line in edit.lines] == [str(n) for n in range(1, 261)]
    assert edit.line_for_item("gid://shopify/LineItem/255").sku == "S255"
    [(name, variables)] = runner.calls
    assert name == "CalculatedOrderLineItems"
    assert variables == {"id": "gid://shopify/CalculatedOrder/9", "first": 250, "after": "c250"}


def test_an_edit_of_one_page_reads_nothing_more() -> None:
    runner = Runner([])
    assert len(begun_edit(runner, _begun(range(1, 4), more=False)).lines) == 3
    assert runner.calls == []


def test_lines_shopify_does_not_give_refuse_the_edit_for_a_person() -> None:
    runner = Runner([{"node": None}])
    with pytest.raises(Rejected) as refused:
        begun_edit(runner, _begun(range(1, 251), more=True))
    assert refused.value.code == NOT_READ and refused.value.system == "shopify"
    assert "first 250 lines" in str(refused.value) and "no change was made" in str(refused.value)
