"""A lighter weighed pick Shopify cannot split (no stock for the unit on a line of its own) takes
the weight's discount rounded up to the cent on each unit: Shopify ends a cent or two below the
NF-e by design, which the invoice flow absorbs with no note. The report lists the order's totals
as by design, with that reason, not as real drift."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from erp.client import ErpClient
from jobs import reconcile
from jobs.invoice_capture import CENTS_ABSORBED
from ledger.models import MessageStatus
from shopify_app import reconcile_words
from shopify_app.admin_api import order_edit_discounts
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
from shopify_app.words import texts_in_locale

from .conftest import World


def _uneven_weight(price: Decimal, units: int) -> Decimal:
    """A weight under `units` kg whose discount `units` units do not divide to the cent."""
    for grams in range(units * 1000 - 15, units * 1000 - 400, -5):
        kg = Decimal(grams) / 1000
        difference = price * units - (kg * price).quantize(Decimal("0.01"))
        if int(difference * 100) % units:
            return kg
    raise AssertionError("no uneven weight")


def test_an_unsplit_lighter_picks_cents_are_by_design_with_their_reason(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    weighed = world.weighed()
    order = world.linked_order([(weighed, 3), (world.plain(0), 1)], gateway="cartao", capture="manual")
    kg = _uneven_weight(world.chain.prices[weighed], 3)

    def no_stock(*_a, **_k):
        raise ShopifyUserErrors("OrderEditAddVariant", [UserError(("variantId",), "Out of stock.")])

    monkeypatch.setattr(order_edit_discounts, "add_unit", no_stock)  # the unit cannot go on its own line
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): float(kg)})
    world.poll()
    [edit] = world.messages("order_edits", order)
    assert edit.status == MessageStatus.DONE.value, edit.error_text
    nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text
    gap = nfe_total - world.settlement(order.gid).current_total
    assert Decimal("0") < gap <= Decimal("0.02") and not world.link(order.gid).needs_attention  # absorbed

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    [row] = [r for r in orders["totals_differ"] if r["order"] == order.gid]
    counts = (orders["totals_differ_count"], orders["totals_differ_by_design_count"])
    assert row.get("by_design") and counts == (0, 1), orders
    assert row["why"].startswith(f"weighed item(s) picked lighter ({weighed} 3"), row
    assert f"leaves Shopify {gap} below the ERP" in row["why"], row
    said = texts_in_locale(row, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["why"]
    assert said.startswith(f"item(ns) pesável(is) separado(s) com menos peso ({weighed} de 3"), said
    assert f"{gap}".replace(".", ",") in said and "abaixo do ERP" in said, said


def _erp_order(*lines: tuple[str, str, bool]) -> SimpleNamespace:
    """An ERP order of weighed lines (ordered kg, served kg, a substitute)."""
    return SimpleNamespace(
        lines=[_line(ordered, served, substitute) for ordered, served, substitute in lines]
    )


def _line(ordered: str, served: str, substitute: bool) -> SimpleNamespace:
    return SimpleNamespace(weighed=True, is_substitute=substitute, id_sku="PES-1", seq_produto=9,
                           qty_ordered=Decimal(ordered), qty_served=Decimal(served))  # fmt: skip


def test_only_the_cents_a_lighter_picks_units_can_leave_are_by_design() -> None:
    """At most a cent a unit but one per lighter line (none for a substitute, a heavier or a
    one-unit line), and never above what the invoice flow absorbs: more is real drift."""
    three = _erp_order(("3.000", "2.985", False))
    assert reconcile._weight_residual(three, Decimal("0.02"))["by_design"]
    assert reconcile._weight_residual(three, Decimal("0.03")) == {}
    assert reconcile._weight_residual(three, Decimal("-0.01")) == {}
    assert reconcile._weight_residual(_erp_order(("1.000", "0.950", False)), Decimal("0.01")) == {}
    assert reconcile._weight_residual(_erp_order(("3.000", "2.985", True)), Decimal("0.01")) == {}
    assert reconcile._weight_residual(_erp_order(("3.000", "3.200", False)), Decimal("0.01")) == {}
    many = _erp_order(("9.000", "8.500", False))
    assert reconcile._weight_residual(many, CENTS_ABSORBED)["by_design"]
    assert reconcile._weight_residual(many, CENTS_ABSORBED + Decimal("0.01")) == {}


def test_a_heavier_line_beside_an_unsplit_lighter_line_is_by_design_with_both_reasons(
    world: World, monkeypatch
) -> None:
    """Each alone was by design; together (a cut of meat picked light on a sold-out variant beside
    another picked heavy) the order was listed as real drift: the heavier line's charge plus the
    lighter line's cents, which neither rule explained alone."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    weighed = world.weighed()
    order = world.linked_order(
        [(weighed, 3), (world.plain(0), 1), (weighed, 1)], gateway="cartao", capture="manual"
    )
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    first, second = sorted(
        line.seq_item for line in client.get_order(order.nro).lines if line.id_sku == weighed
    )
    client.close()
    kg = _uneven_weight(world.chain.prices[weighed], 3)

    def no_stock(*_a, **_k):  # sold out at the location: the unit cannot go on a line of its own
        raise ShopifyUserErrors("OrderEditAddVariant", [UserError(("variantId",), "Out of stock.")])

    monkeypatch.setattr(order_edit_discounts, "add_unit", no_stock)
    world.erp.separate(order.nro, weights={str(first): float(kg), str(second): 1.2})
    world.poll()
    assert all(m.status == MessageStatus.DONE.value for m in world.messages("order_edits", order))
    _nfe_total, invoice = world.invoice(order)
    assert invoice.status == MessageStatus.DONE.value, invoice.error_text

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    [row] = [r for r in orders["totals_differ"] if r["order"] == order.gid]
    counts = (orders["totals_differ_count"], orders["totals_differ_by_design_count"])
    assert row.get("by_design") and counts == (0, 1), (counts, row)
    assert (
        row["why"].startswith(f"weighed item(s) picked heavier ({weighed} 1")
        and "; weighed item(s) picked lighter" in row["why"]
    ), row
    said = texts_in_locale(row, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["why"]
    assert said.startswith("item(ns) pesável(is) separado(s) com mais peso") and "com menos peso" in said, (
        said
    )


def test_a_heavier_lines_charge_and_lighter_lines_cents_make_the_gap_or_it_is_drift() -> None:
    order = _erp_order(("3.000", "2.985", False), ("1.000", "1.200", False))
    order.lines[1].total_ordered, order.lines[1].total_served = Decimal("45.90"), Decimal("55.08")
    more = Decimal("9.18")
    assert reconcile._heavier_and_residual(order, more + Decimal("0.02"))["by_design"]
    assert reconcile._heavier_and_residual(order, more + Decimal("0.03")) == {}
    assert reconcile._heavier_and_residual(order, more) == {}  # the heavier line alone: _heavier's
    assert reconcile._heavier_and_residual(_erp_order(("3.000", "2.985", False)), Decimal("0.02")) == {}
