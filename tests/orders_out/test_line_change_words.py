"""A picking's per-line changes keep their English reason and, beside it, its words, which the
order's page says in the merchant's language (shopify_app.line_words): a cut and a lighter weight
applied read in Portuguese, not as the job's English."""

from __future__ import annotations

from shopify_app import line_words

from .conftest import World


def test_a_cut_and_a_weight_applied_at_picking_are_said_in_portuguese(world: World) -> None:
    cut_sku, weighed_sku = world.plain(0), world.weighed()
    order = world.linked_order([(cut_sku, 3), (weighed_sku, 2)], gateway="cartao", capture="manual")
    world.erp.separate(
        order.nro, cuts={str(order.lines[cut_sku]): 1}, weights={str(order.lines[weighed_sku]): 1.5}
    )
    assert world.poll()["enqueued"] == 1
    changes = {c.sku: c for c in world.line_changes(order.gid)}
    cut, weight = changes[cut_sku], changes[weighed_sku]
    assert cut.applied and cut.reason == "cut at picking: 1.0 of 3.0 served"  # logs, search
    assert cut.reason_words == [{"key": "line_cut", "params": {"served": "1", "ordered": "3"}}]
    assert line_words.reason(cut, "pt-BR") == "Corte na separação: 1 de 3 atendido(s)"
    assert line_words.reason(cut, "en") == "Cut at picking: 1 of 3 served"
    said = line_words.reason(weight, "pt-BR") or ""
    assert said.startswith("Pesado com 1,5 kg em vez de 2 kg: desconto de R$ "), said
    assert "'Ajuste de peso: 2,000 kg → 1,500 kg'" in said and "weighed" not in said
