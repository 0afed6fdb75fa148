"""An edit not sent because the ERP order would then total other than what Shopify charges
(TAXES_ADDED / TOTALS_MISMATCH, the import's check: tests/orders_in/test_edit_guards.py) is held
back for a person like the other held edits (jobs.order_edits.held), so it never stays open for
ever: a later edit applied carries its changes and closes it, a later one refused the same way
takes its place (one open message per order), the order's cancellation settles it, and the ERP's
picking turns it into the "too late" flag."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.models import MessageStatus
from tests.orders_in.test_edit_and_cancel_flags import poll_erp_events
from tests.orders_in.test_edit_guards import charged_on_top
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, imported
from tests.orders_in.test_parked_edits import edit_messages, items

CODES = [(True, "TAXES_ADDED"), (False, "TOTALS_MISMATCH")]


def refused_edit(world, gid: str, sku: str, quantity: int, *, tax: bool = True) -> None:
    """An edit lowering `sku` to `quantity`, Shopify then charging R$ 5,00 no line carries (a tax on
    top of the prices, or `tax` false a fee): the edit is refused for its total."""
    edit_in_shopify(world, gid, sku, quantity)
    charged_on_top(world, gid, Decimal("5.00"), tax=tax)
    world.drain()


@pytest.mark.parametrize(("tax", "code"), CODES)
def test_an_edit_refused_for_its_total_is_closed_by_a_later_edit_applied(world, tax, code):
    """The store stops charging the R$ 5,00 on top (its prices include the tax now) and a later
    edit removes B: applied, it carries the refused edit's A 2 -> 1 too, so the refused one closes."""
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world)
    refused_edit(world, gid, a, 1, tax=tax)
    [refused] = edit_messages()
    assert refused.status == MessageStatus.FAILED.value and refused.error_detail["code"] == code
    edit_in_shopify(world, gid, b, 0)  # Shopify's totals recomputed: nothing charged on top now
    world.drain()
    first, second = edit_messages()
    assert second.status == MessageStatus.DONE.value, (second.status, second.error_text)
    assert items(world, nro) == [(a, 1)]  # the refused edit's change reached the ERP with it
    assert first.status == MessageStatus.SKIPPED.value, (first.status, first.error_text)
    assert first.error_detail["skip"]["key"] == "edit_superseded_sent"
    assert f"message #{second.id}" in first.error_text
    assert world.link(gid).needs_attention is None


def test_two_edits_refused_for_their_total_leave_one_open_message(world):
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world)
    refused_edit(world, gid, a, 1)
    refused_edit(world, gid, b, 0)
    first, second = edit_messages()
    assert second.status == MessageStatus.FAILED.value, (second.status, second.error_text)
    assert second.error_detail["code"] == "TAXES_ADDED"
    assert first.status == MessageStatus.SKIPPED.value, (first.status, first.error_text)
    assert first.error_detail["skip"]["key"] == "edit_superseded_held"
    assert second.error_text in world.link(gid).needs_attention  # the latest edit's note
    assert items(world, nro) == [(a, 2), (b, 1)]  # nothing sent


def test_an_edit_refused_for_its_total_is_settled_when_the_order_is_cancelled(world):
    gid, nro = imported(world)
    refused_edit(world, gid, world.sku(0), 1)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    [refused] = edit_messages()
    assert refused.status == MessageStatus.SKIPPED.value, (refused.status, refused.error_text)
    assert refused.error_detail["skip"]["key"] == "edit_held_cancelled"
    assert "order_edits: " not in (world.link(gid).needs_attention or "")


def test_an_edit_refused_for_its_total_is_flagged_too_late_once_the_erp_separates_the_order(world):
    """The ERP separates the order as placed (A x2): the refused edit is replayed and its note no
    longer tells to settle a difference in an ERP order that takes no edit now, but that the
    picking must change."""
    a = world.sku(0)
    gid, nro = imported(world)
    refused_edit(world, gid, a, 1)
    world.chain.handle.erp.separate(nro, weights={})
    poll_erp_events(world)
    world.drain()
    refused = next(m for m in edit_messages() if m.unit_key.startswith("edit:"))  # not the picking's
    assert refused.status == MessageStatus.FAILED.value, (refused.status, refused.error_text)
    assert refused.error_detail["code"] == "PEDIDO_EM_SEPARACAO", refused.error_detail
    note = world.link(gid).needs_attention
    assert f"{a} 2 -> 1" in note and "already being separated" in note, note
