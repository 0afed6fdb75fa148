"""The invoices flow's note for a person reads in the merchant's language also when it names goods
the NF-e did not fulfil (a fulfillment order on hold, an item not on the NF-e, goods waiting for the
last NF-e) or tracking not sent: before, any such part made the whole note fall back to English."""

from __future__ import annotations

from typing import Any

from ledger import order_notes
from ledger.models import MessageStatus
from shopify_app.admin_api import for_shop
from shopify_app.note_words import say_note

from .conftest import World, attention_notes


def test_an_item_not_on_the_nfe_is_named_in_portuguese(world: World, orders_api: Any) -> None:
    sku, extra = world.plain(0), world.plain(2)
    order = world.linked_order([(sku, 3)], gateway="cartao", capture="manual")
    world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
    world.poll()
    client = for_shop(world.domain)
    edit = client.order_edit_begin(order.gid)
    client.order_edit_add_variant(
        edit.calculated_order_id, world.variants[extra], 1, location_id=world.location_id
    )
    client.order_edit_commit(edit.calculated_order_id)
    world.erp.invoice(order.nro)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text

    link = world.link(order.gid)
    [note] = [n for n in order_notes.notes(link) if n.flow == "invoices"]
    assert say_note(order_notes.words_of(link)[note.label], "en") == note.text.removeprefix("invoices: ")
    [pt] = attention_notes(orders_api, link.id, "pt-BR")
    assert pt["note"] == note.text and f"fora da NF-e: 1 x {extra} ficaram sem processar" in pt["text"], pt
    assert "not on the NF-e" not in pt["text"]
    [en] = attention_notes(orders_api, link.id, "en")
    assert en["text"] == note.text.removeprefix("invoices: ")
