"""What the customer asked of a line (its line item properties: a deli's "Corte: fatiado fino",
"Aceita substituto: Não") reaches the ERP item's observacaoItem (jobs.order_line_note): the picking
team reads it at the shelf or the counter. An app's hidden properties ("_..." ) never go."""

from __future__ import annotations

from decimal import Decimal

from jobs.order_line_note import ITEM_NOTE_WIDTH, line_note
from jobs.order_map import map_order
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import TARGET, raw_order, variants_for


def test_a_lines_properties_as_the_erp_item_reads_them():
    asked = {"Corte": "fatiado fino", "_option_set": "17", "Aceita substituto": "Não", "Vazio": " "}
    assert line_note(asked) == "Corte: fatiado fino; Aceita substituto: Não"
    assert line_note({}) is None and line_note({"_ZapietId": "M=D"}) is None
    long = line_note({"Corte": "em cubos", "Observação": "x" * 300})
    assert long == "Corte: em cubos"  # whole properties dropped from the end first
    alone = line_note({"Observação": "peça pequena " * 30})
    assert alone is not None and len(alone) <= ITEM_NOTE_WIDTH and alone.startswith("Observação: peça")
    assert line_note({"Ponto": "bem passado 🥩"}) == "Ponto: bem passado"  # within the NF-e's characters


def test_the_mapped_item_carries_the_note():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0)), (Decimal("5.00"), 2, 2, Decimal(0))])
    raw["lineItems"]["nodes"][0]["customAttributes"] = [{"key": "Corte", "value": "fatiado fino"}]
    mapped = map_order(parse_erp_order(raw), TARGET, variants_for(2), {"Pix": 2})
    assert [line.line.note for line in mapped.lines] == ["Corte: fatiado fino", None]


def test_the_erp_order_items_carry_what_the_customer_asked(world):
    asked = {"Corte": "fatiado fino", "Aceita substituto": "Não", "_app": "hidden"}
    lines = [{"sku": world.sku(0), "quantity": 2, "properties": asked}, {"sku": world.sku(1), "quantity": 1}]
    _, nro = _placed(world, lines)
    items = {item["idSku"]: item["observacaoItem"] for item in world.chain.order(nro)["itens"]}
    assert items == {world.sku(0): "Corte: fatiado fino; Aceita substituto: Não", world.sku(1): None}


def _placed(world, lines):
    from sandbox.shopify.checkout import place_order

    gid = place_order(world.shopify.sandbox, world.name, lines=lines, gateway="pix", discount_rate=0.0,
                      shipping="SEDEX")  # fmt: skip
    world.drain()
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda, world.message(gid).error_text
    return gid, link.nro_pedvenda
