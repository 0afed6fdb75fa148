"""A delivery address changed in Shopify after the order reached the ERP (staff, the customer on
the phone: orderUpdate, which sends orders/updated, never orders/edited). The ERP order's obsPedido
is the only record of where it goes: before separation it is rewritten (obsPedido only); after, the
order is flagged for a person naming the new address; an orders/updated that changes no address
(tags, notes, fulfillments) costs no ERP call."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from erp.client import ErpClient
from jobs import order_edits
from jobs.order_edits import address
from ledger import order_notes
from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, edit_in_shopify, imported

NEW = {
    "firstName": "Ana",
    "lastName": "Souza",
    "address1": "Rua das Palmeiras, 742",
    "address2": "Bloco B",
    "city": "Campinas",
    "province": "São Paulo",
    "provinceCode": "SP",
    "zip": "13015-000",
    "countryCode": "BR",
    "phone": "+5519988887777",
}
UPDATE = """
mutation Update($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}"""


def order_update(world, gid: str, **changes: Any) -> None:
    """orderUpdate in the Shopify admin, as staff do it (the sandbox sends orders/updated)."""
    url = world.shopify.url
    token = requests.post(f"{url}/_sandbox/shops/{world.name}/access_token", json={}, timeout=10).json()
    answer = requests.post(
        f"{url}/admin/api/2026-10/graphql.json",
        json={"query": UPDATE, "variables": {"input": {"id": gid, **changes}}},
        headers={"Host": world.domain, "X-Shopify-Access-Token": token["access_token"]},
        timeout=30,
    ).json()
    assert answer["data"]["orderUpdate"]["userErrors"] == [], answer


@pytest.fixture
def erp_calls(monkeypatch) -> list[tuple[str, Any]]:
    return record_erp_calls(monkeypatch)


def record_erp_calls(monkeypatch) -> list[tuple[str, Any]]:
    """The ERP's order reads and edits (jobs run in this process: world.drain)."""
    calls: list[tuple[str, Any]] = []
    get, edit = ErpClient.get_order, ErpClient.edit_order

    def get_order(self, nro, *args, **kwargs):
        calls.append(("get", nro))
        return get(self, nro, *args, **kwargs)

    def edit_order(self, nro, *args, **kwargs):
        calls.append(("put", kwargs))
        return edit(self, nro, *args, **kwargs)

    monkeypatch.setattr(ErpClient, "get_order", get_order)
    monkeypatch.setattr(ErpClient, "edit_order", edit_order)
    return calls


def lines(world, nro: int) -> list[tuple[str, Any]]:
    return [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"]]


def address_message(world, gid: str):
    return world.message(gid, "order_edits", address.unit_key(gid))


def test_an_address_changed_before_separation_is_the_erp_orders_new_observation(world, erp_calls):
    gid, nro = imported(world)
    before = world.chain.order(nro)
    assert "Rua das Palmeiras" not in before["obsPedido"]
    order_update(world, gid, shippingAddress=NEW)
    world.drain()

    after = world.chain.order(nro)
    obs = after["obsPedido"]
    assert obs.startswith(f"Shopify {world.link(gid).shopify_order_name} - Entrega: Ana Souza, ")
    assert "Rua das Palmeiras, 742, Bloco B, Campinas/SP, CEP 13015-000" in obs, obs
    assert lines(world, nro) == [(i["idSku"], i["qtdPedida"]) for i in before["itens"]]  # lines untouched
    assert after["vlrTotFrete"] == before["vlrTotFrete"]
    [put] = [c for c in erp_calls if c[0] == "put"]
    assert set(put[1]) == {"obs"}  # obsPedido only
    assert address_message(world, gid).status == MessageStatus.DONE.value
    assert world.link(gid).needs_attention is None

    erp_calls.clear()  # the same address again (another orders/updated): nothing sent
    order_update(world, gid, tags=["ligou"])
    world.drain()
    assert erp_calls == []


def test_orders_updated_that_change_no_address_make_no_erp_call(world, erp_calls):
    gid, nro = imported(world)
    obs = world.chain.order(nro)["obsPedido"]
    erp_calls.clear()
    order_update(world, gid, tags=["conferido"])
    order_update(world, gid, note="cliente pediu sacola extra", tags=["conferido", "vip"])
    world.drain()
    assert erp_calls == []
    assert world.chain.order(nro)["obsPedido"] == obs
    assert address_message(world, gid) is None


def test_an_address_changed_after_separation_is_flagged_naming_both_and_nothing_is_lost(world, erp_calls):
    gid, nro = imported(world)
    old = world.chain.order(nro)["obsPedido"]
    world.chain.handle.erp.separate(nro, weights={})
    edit_in_shopify(world, gid, world.sku(1), 2)  # a line edit, flagged too: its own note stays
    order_update(world, gid, shippingAddress=NEW)
    world.drain()

    assert world.chain.order(nro)["obsPedido"] == old  # not sent: the ERP refuses it now
    assert not [c for c in erp_calls if c[0] == "put" and "obs" in c[1]]
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == "DELIVERY_ADDRESS_NOT_SENT"
    assert message.error_detail["erp_code"] == "PEDIDO_EM_SEPARACAO"
    link = world.link(gid)
    note = order_notes.note_of(link, "order_edits", topic="delivery address")
    assert note.startswith("order_edits (delivery address): The delivery address or time of order "), note
    assert "Rua das Palmeiras, 742" in note and "still names the old delivery address" in note, note
    assert old.split(" - ")[1] not in note  # the ERP order's observation is the ERP's: not quoted
    assert "NOT changed in the ERP" in note and "picking and delivery team" in note
    edit_note = order_notes.note_of(link, "order_edits")
    assert edit_note and "was edited in Shopify" in edit_note, link.needs_attention  # both kept

    erp_calls.clear()  # told once: the next orders/updated without an address change is quiet
    order_update(world, gid, tags=["urgente"])
    world.drain()
    assert erp_calls == []
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") == note


def test_retry_of_a_flag_clears_it_once_the_erp_order_names_the_new_address(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert address.replay(message.id) == MessageStatus.FAILED.value  # still separated: flagged again
    assert len(order_notes.notes(world.link(gid))) == 1

    # a person copies the new address from the note into the ERP order's observation, then Retry
    from sandbox.consinco import tables as t

    new = message.error_text.split("New delivery text: ", 1)[1]
    assert new.startswith("Entrega: Ana Souza, Rua das Palmeiras, 742"), new
    with world.chain.handle.erp.store.write() as (conn, _now):
        table = t.mad_pedvenda
        conn.execute(table.update().where(table.c.nropedvenda == nro).values(obspedido=f"Shopify - {new}"))
    order_edits.replay(message.id)  # the Messages page's Retry
    assert address_message(world, gid).status == MessageStatus.SKIPPED.value
    assert world.link(gid).needs_attention is None


def test_a_flag_no_longer_matters_once_the_order_is_cancelled(world):
    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] == "C"
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None
    message = address_message(world, gid)
    assert message.status == MessageStatus.SKIPPED.value, message.error_text  # closed with the note
    assert address.replay(message.id) == "already"  # its Retry: nothing left to deliver
    assert address_message(world, gid).status == MessageStatus.SKIPPED.value


def test_an_erp_down_during_the_change_is_retried_and_sent(world):
    from ledger.errors import Transient

    gid, nro = imported(world)
    order_update(world, gid, shippingAddress=NEW)
    world.delivered()
    world.chain.handle.erp.faults.set(down_for=120)
    num = gid.rsplit("/", 1)[-1]
    with pytest.raises(Transient):
        address.check(world.shop_id, num)
    assert address_message(world, gid).status == MessageStatus.RETRYING.value
    world.chain.handle.erp.faults.clear()
    assert address.replay(address_message(world, gid).id) == "done"
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]


def test_a_pickup_orders_address_is_not_sent(world, erp_calls):
    gid, nro = imported(world, shipping="RETIRADA")
    obs = world.chain.order(nro)["obsPedido"]
    erp_calls.clear()
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert erp_calls == []
    assert world.chain.order(nro)["obsPedido"] == obs and "Entrega" not in obs
    assert address_message(world, gid) is None


def test_the_orders_page_shows_the_flag_once(world):
    """The failed address message left its note: the Orders page does not show its reason again."""
    from shopify_app.api_orders import Held, attention_notes

    gid, nro = imported(world)
    world.chain.handle.erp.separate(nro, weights={})
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    message = address_message(world, gid)
    held = Held("order_edits", None, message.error_text, 0, order_notes.topic_of(message.unit_key))
    shown = attention_notes(world.link(gid), [held])
    assert [(n.flow, n.topic) for n in shown] == [("order_edits", "delivery address")]


def test_an_order_imported_before_the_record_costs_no_erp_call_then_nothing(world, erp_calls):
    """No record on its import (imported before it was kept): the first orders/updated records
    Shopify's delivery as the baseline without reading the ERP order; the next costs nothing; a
    later change of address is sent."""
    from ledger.db import session_scope
    from ledger.models import Message

    gid, nro = imported(world)
    with session_scope() as session:
        imported_message = session.get(Message, world.message(gid).id)
        payload = dict(imported_message.request_payload)
        assert payload.pop(address.RECORD)
        imported_message.request_payload = payload
    erp_calls.clear()
    order_update(world, gid, tags=["antigo"])
    world.drain()
    assert erp_calls == [] and address_message(world, gid) is None
    order_update(world, gid, tags=["antigo", "de novo"])
    world.drain()
    assert erp_calls == []
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]


def test_an_address_change_that_lost_the_orders_lock_while_reading_sends_nothing(
    world, erp_calls, monkeypatch
):
    """Review case (as an edit's, tests/orders_in/test_edit_guards.py): the job's lock lapsed while it
    read the order and another job of the order took it. The address is not PUT beside that job: the
    message is retrying, the ERP untouched, and the retry (holding the lock) sends it."""
    from ledger.errors import Transient

    from .test_edit_guards import another_job_takes_the_lock

    gid, nro = imported(world)
    order_update(world, gid, tags=["baseline"])  # the first orders/updated records the address as is
    world.drain()
    order_update(world, gid, shippingAddress=NEW)
    world.delivered()
    erp_calls.clear()
    give_back = another_job_takes_the_lock(world, gid, monkeypatch, address, "read_order_for_erp")
    with pytest.raises(Transient, match="lock was lost"):
        address.check(world.shop_id, gid, again=True)
    assert not [c for c in erp_calls if c[0] == "put"]
    assert "Rua das Palmeiras" not in world.chain.order(nro)["obsPedido"]
    assert address_message(world, gid).status == MessageStatus.RETRYING.value
    give_back()  # the other job done
    assert address.check(world.shop_id, gid, again=True) == "done"
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]


def test_a_delivery_turned_pickup_after_its_import_is_told_once_and_cleared_when_a_delivery_again(world):
    """Imported as a delivery (tipoEntrega E, obsPedido "Entrega: <address>"). The customer will
    collect it: staff change the shipping line to the store's pickup rate ("Retirada na loja",
    read as a pickup). The ERP's API changes no delivery type: the order is flagged for a person,
    once (a later orders/updated is quiet); made a delivery again, the flag clears. Before, the
    change was settled quietly and the driver went to the house while the customer waited."""
    from jobs.order_map import delivery_type
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.order_import_ops import read_order_for_erp
    from tests.orders_in.test_not_for_erp import change_order

    gid, nro = imported(world, shipping="PAC")
    titles: dict[str, str] = {}

    def to_pickup(order):
        for line in order["_shippingLines"]:
            titles[line["id"]] = line["title"]
            line.update(title="Retirada na loja")  # orderEditUpdateShippingLine: the title

    change_order(world, gid, to_pickup)
    assert delivery_type(read_order_for_erp(for_shop(world.domain), gid).order) == "R"
    order_update(world, gid, note="cliente vai retirar na loja")  # orders/updated
    world.drain()
    message = address_message(world, gid)
    assert (message.status, message.error_detail["code"]) == (
        MessageStatus.FAILED.value,
        "DELIVERY_NOW_PICKUP",
    )
    note = world.link(gid).needs_attention or ""
    assert "is a pickup at the store now" in note and f"ERP order {nro} still delivers it" in note
    assert world.chain.order(nro)["tipoEntrega"] == "E"  # the ERP order as it was: a person changes it
    attempts = message.attempts
    order_update(world, gid, note="retira amanhã")  # told once
    world.drain()
    assert address_message(world, gid).attempts == attempts

    change_order(
        world, gid, lambda order: [line.update(title=titles[line["id"]]) for line in order["_shippingLines"]]
    )
    order_update(world, gid, note="vai entregar afinal")
    world.drain()
    assert address_message(world, gid).status == MessageStatus.SKIPPED.value
    assert "pickup" not in (world.link(gid).needs_attention or "")
