"""The delivery or pickup slot a customer chose at checkout (jobs.order_slot): a delivery-date app
writes it as order attributes, the setting delivery_slot_attributes names them, and the ERP order's
obsPedido carries it right after the order's name, kept whole before the address and the note. A
delivery's slot changed in Shopify after the import is sent as an address change is
(jobs.order_edits.address): rewritten before separation, flagged for a person after; an
orders/updated that changes neither costs no ERP call."""

from __future__ import annotations

from decimal import Decimal

from jobs import order_map
from jobs.order_edits import address
from jobs.order_slot import SLOT_WIDTH, delivery_slot, slot_keys, webhook_attributes
from ledger import order_notes
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, Shop
from ledger.shop_settings import DEFAULTS, slot_key
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.admin_api.order_results import Order
from tests.orders_in.test_delivery_address import NEW, address_message, order_update, record_erp_calls
from tests.orders_in.test_edits_and_cancels import imported
from tests.orders_in.test_order_map import raw_order

KEYS = slot_keys(DEFAULTS["delivery_slot_attributes"])
ZAPIET = {"Delivery-Date": "2026-12-05", "Delivery-Time": "13:00 - 14:00"}
SLOT = "Delivery-Date: 05/12/2026; Delivery-Time: 13:00 - 14:00"
ZAPIET_07 = "Delivery-Date: 07/12/2026; Delivery-Time: 13:00 - 14:00"


def _order(attributes: dict[str, str], *, note: str | None = None, pickup: bool = False, **where) -> Order:
    """Order #1001 (tests.orders_in.test_order_map.raw_order: to Maria Silva, Av. Paulista, 1000)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["customAttributes"] = [{"key": key, "value": value} for key, value in attributes.items()]
    raw["note"] = note
    raw["shippingAddress"] = None if pickup else {**raw["shippingAddress"], **where}
    return parse_erp_order(raw).order


def test_the_slot_names_the_listed_attributes_in_the_settings_order_dates_as_the_team_reads_them():
    attributes = {"origem": "loja online", "Delivery-Time": "13:00 - 14:00", "Delivery-Date": "2026-12-05"}
    assert delivery_slot(attributes, KEYS) == SLOT  # the setting's order, not the cart's
    brazilian = {"data_de_entrega": "05/12", "HORARIO DE ENTREGA": " 08h às 12h ", "_ZapietId": "M=D&L=1"}
    assert delivery_slot(brazilian, KEYS) == "data_de_entrega: 05/12; HORARIO DE ENTREGA: 08h às 12h"
    assert delivery_slot({"Delivery-Date": "", "origem": "loja online"}, KEYS) is None  # nothing chosen
    assert delivery_slot(ZAPIET, ()) is None  # the setting emptied: no slot written
    # an ISO time with its offset in the ERP's time zone, where the store hands it over
    assert delivery_slot({"Pickup-Date": "2026-12-05T10:00:00Z"}, KEYS) == "Pickup-Date: 05/12/2026 07:00"
    assert delivery_slot({"Pickup-Date": "2026-12-05T01:00:00Z"}, KEYS) == "Pickup-Date: 04/12/2026 22:00"


def test_a_long_slot_keeps_its_first_attributes_whole_within_its_width():
    long = {
        "Delivery-Date": "2026-12-05",
        "Delivery-Time": "entre 13:00 e 14:00, portão lateral, interfone 12",
    }
    # the values alone when they fit: the window kept, the names given up
    assert delivery_slot(long, KEYS) == "05/12/2026; entre 13:00 e 14:00, portão lateral, interfone 12"
    portuguese = slot_keys(["Data de retirada", "Horário de retirada", "Data de entrega"])
    pickup = {"Data de retirada": "05/12/2026", "Horário de retirada": "14:00 às 16:00"}
    assert delivery_slot(pickup, portuguese) == "05/12/2026; 14:00 às 16:00"
    longer = {"Data de entrega": "Sábado, 05/12/2026 - período da tarde, das 14h às 18h e um pouco mais"}
    cut = delivery_slot(longer, portuguese)
    assert cut is not None and len(cut) <= SLOT_WIDTH and not cut.endswith(" 1")  # cut between words
    longest = delivery_slot(
        {"Data de entrega": "Sábado, 05/12/2026 - período da tarde, 14h às 18h"}, portuguese
    )
    assert longest == "Sábado, 05/12/2026 - período da tarde, 14h às 18h"
    alone = delivery_slot({"Delivery-Time": "x" * 100}, KEYS)
    assert alone is not None and len(alone) == SLOT_WIDTH and alone.startswith("Delivery-Time: xxx")
    emoji = delivery_slot({"Delivery-Time": "manhã 🚚"}, KEYS)
    assert emoji == "Delivery-Time: manhã"  # within the NF-e's characters


def test_the_setting_compares_names_as_people_type_them():
    assert slot_key("Horário-de_Entrega ") == slot_key("horario de entrega") == "horario de entrega"
    assert slot_keys(["Delivery-Date", "delivery date", 7, "", "Data"]) == ("delivery date", "data")
    raw = [{"name": "Delivery-Date", "value": "2026-12-05"}, {"name": "x", "value": None}, "junk"]
    assert webhook_attributes({"note_attributes": raw}) == {"Delivery-Date": "2026-12-05", "x": ""}
    assert webhook_attributes({"note_attributes": None}) == {}


def test_obs_pedido_keeps_the_slot_whole_before_the_address_and_the_note():
    order = _order(ZAPIET, note="tocar o interfone 12")
    obs = order_map.observation(order, KEYS)
    assert obs.startswith(f"Shopify #1001 - {SLOT} - Entrega: Maria Silva, Av. Paulista, 1000, ")
    assert obs.endswith(" - tocar o interfone 12")
    assert order_map.observation_delivery(order, KEYS) == f"{SLOT} - " + order_map.observation_where(
        order, KEYS
    )
    long = _order(ZAPIET, note="n" * 150, address2="Apartamento 1502, Torre Norte, Condomínio Jardim Europa")
    squeezed = order_map.observation(long, KEYS)
    assert len(squeezed) == order_map.OBS_WIDTH
    assert squeezed.startswith(f"Shopify #1001 - {SLOT} - Entrega: Maria Silva, Av. Paulista, 1000")
    assert "n" * 40 in squeezed  # the note keeps its first 40 characters
    pickup = _order({"Pickup-Date": "2026-12-05", "Pickup-Time": "10:00"}, pickup=True)
    assert (
        order_map.observation(pickup, KEYS) == "Shopify #1001 - Pickup-Date: 05/12/2026; Pickup-Time: 10:00"
    )
    assert order_map.observation_delivery(pickup, KEYS) == "Pickup-Date: 05/12/2026; Pickup-Time: 10:00"
    assert order_map.observation_delivery(_order({}, pickup=True), KEYS) is None  # nothing to name
    assert order_map.observation(_order(ZAPIET), ()) == order_map.observation(_order({}), KEYS)


def _slot(world, gid: str, attributes: dict[str, str]) -> None:
    """The delivery-date app (or staff) changes the order's attributes: orderUpdate, orders/updated."""
    keep = [{"key": "origem", "value": "loja online"}]
    order_update(world, gid, customAttributes=keep + [{"key": k, "value": v} for k, v in attributes.items()])


def test_an_order_and_a_pickup_reach_the_erp_naming_their_slot(world):
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET, note="sem cebola")
    name = world.link(gid).shopify_order_name
    obs = world.chain.order(nro)["obsPedido"]
    assert obs.startswith(f"Shopify {name} - {SLOT} - Entrega: "), obs
    assert obs.endswith(" - sem cebola")
    assert world.link(gid).delivery_slot == SLOT  # the Orders page shows it
    pickup, number = imported(
        world, shipping="RETIRADA", attributes={"Pickup-Date": "2026-12-06", "Pickup-Time": "10h"}
    )
    assert world.chain.order(number)["obsPedido"] == (
        f"Shopify {world.link(pickup).shopify_order_name} - Pickup-Date: 06/12/2026; Pickup-Time: 10h"
    )


def test_a_slot_changed_before_separation_is_the_erp_orders_new_observation(world, monkeypatch):
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET)
    calls = record_erp_calls(monkeypatch)
    _slot(world, gid, {**ZAPIET, "Delivery-Time": "18:00 - 19:00"})
    world.drain()
    obs = world.chain.order(nro)["obsPedido"]
    assert "Delivery-Date: 05/12/2026; Delivery-Time: 18:00 - 19:00 - Entrega: " in obs, obs
    assert [c[1] for c in calls if c[0] == "put"] == [{"obs": obs}]
    assert address_message(world, gid).status == MessageStatus.DONE.value
    assert world.link(gid).delivery_slot == "Delivery-Date: 05/12/2026; Delivery-Time: 18:00 - 19:00"

    calls.clear()  # another attribute, a tag: neither address nor slot changed, no ERP call
    _slot(world, gid, {**ZAPIET, "Delivery-Time": "18:00 - 19:00", "Embalagem": "presente"})
    order_update(world, gid, tags=["conferido"])
    world.drain()
    assert calls == []
    assert world.chain.order(nro)["obsPedido"] == obs


def test_a_slot_changed_after_separation_is_flagged_naming_the_new_slot(world, monkeypatch):
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET)
    old = world.chain.order(nro)["obsPedido"]
    world.chain.handle.erp.separate(nro, weights={})
    _slot(world, gid, {"Delivery-Date": "2026-12-06", "Delivery-Time": "08:00 - 09:00"})
    world.drain()
    assert world.chain.order(nro)["obsPedido"] == old
    message = address_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert message.error_detail["code"] == "DELIVERY_ADDRESS_NOT_SENT"
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert "The delivery address or time of order" in note and "NOT changed in the ERP" in note, note
    assert "New delivery text: Delivery-Date: 06/12/2026; Delivery-Time: 08:00 - 09:00 - Entrega: " in note

    # the slot changed back to the one the ERP order names: the flag clears, nothing sent
    calls = record_erp_calls(monkeypatch)
    _slot(world, gid, ZAPIET)
    world.drain()
    assert [c for c in calls if c[0] == "put"] == []
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None
    assert address_message(world, gid).status == MessageStatus.SKIPPED.value


def test_an_address_and_slot_change_goes_as_one(world):
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET)
    order_update(world, gid, shippingAddress=NEW)
    _slot(world, gid, {**ZAPIET, "Delivery-Date": "2026-12-07"})
    world.drain()
    obs = world.chain.order(nro)["obsPedido"]
    assert f"{ZAPIET_07} - Entrega: Ana Souza, Rua das Palmeiras" in obs, obs


def _set_slot_attributes(world, names: list[str]) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "delivery_slot_attributes": names}


def test_the_setting_changed_after_the_import_is_no_change_of_the_slot(world, monkeypatch):
    """The merchant lists another app's attributes: the ERP order named the slot the old setting
    read, which is no record of a change; the next orders/updated records the slot as now read
    (no ERP call, no flag, even in separation), and a later real change is sent."""
    gid, nro = imported(world, shipping="SEDEX", attributes={**ZAPIET, "Janela": "tarde"})
    world.chain.handle.erp.separate(nro, weights={})
    _set_slot_attributes(world, ["Janela"])
    calls = record_erp_calls(monkeypatch)
    order_update(world, gid, tags=["conferido"])
    world.drain()
    assert calls == [] and address_message(world, gid) is None
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None
    _slot(world, gid, {**ZAPIET, "Janela": "noite"})
    world.drain()
    assert address_message(world, gid).status == MessageStatus.FAILED.value  # in separation: flagged
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert "New delivery text: Janela: noite - Entrega: " in note, note


def test_an_order_imported_before_the_slot_was_recorded_takes_it_as_its_baseline(world, monkeypatch):
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET)
    with session_scope() as session:  # the record as an older version kept it: no slot in it
        message = session.get(Message, world.message(gid).id)
        record = {
            k: v for k, v in message.request_payload[address.RECORD].items() if k in ("address", "where")
        }
        message.request_payload = {**message.request_payload, address.RECORD: record}
    calls = record_erp_calls(monkeypatch)
    _slot(world, gid, {**ZAPIET, "Delivery-Time": "20:00 - 21:00"})  # changed: not comparable, recorded
    world.drain()
    assert calls == [] and address_message(world, gid) is None
    _slot(world, gid, {**ZAPIET, "Delivery-Time": "07:00 - 08:00"})  # compared from now on: sent
    world.drain()
    assert "Delivery-Time: 07:00 - 08:00 - Entrega: " in world.chain.order(nro)["obsPedido"]


def test_the_settings_page_saves_the_names_once_each():
    from shopify_app.api_settings import SETTINGS, _clean, validate_settings

    names = ["Delivery-Date", "delivery date", " Data de Entrega "]
    rule = SETTINGS["delivery_slot_attributes"]
    assert validate_settings({"delivery_slot_attributes": names}) == {}
    assert _clean(rule, names) == ["Delivery-Date", "Data de Entrega"]
    assert validate_settings({"delivery_slot_attributes": [" "]}) == {
        "delivery_slot_attributes": "must be order attribute names (text of 1 to 100 characters)"
    }
    assert (
        "at most 20"
        in validate_settings({"delivery_slot_attributes": ["a"] * 21})["delivery_slot_attributes"]
    )


def test_a_pickups_slot_changed_is_sent_and_its_address_never(world, monkeypatch):
    chosen = {"Pickup-Date": "2026-12-06", "Pickup-Time": "10h"}
    gid, nro = imported(world, shipping="RETIRADA", attributes=chosen)
    name = world.link(gid).shopify_order_name
    calls = record_erp_calls(monkeypatch)
    order_update(world, gid, shippingAddress=NEW)  # a pickup's address: nothing to send
    world.drain()
    assert calls == [] and address_message(world, gid) is None
    _slot(world, gid, {**chosen, "Pickup-Time": "16h"})
    world.drain()
    assert (
        world.chain.order(nro)["obsPedido"] == f"Shopify {name} - Pickup-Date: 06/12/2026; Pickup-Time: 16h"
    )
    assert address_message(world, gid).status == MessageStatus.DONE.value
    world.chain.handle.erp.separate(nro, weights={})
    _slot(world, gid, {**chosen, "Pickup-Date": "2026-12-07"})
    world.drain()
    note = order_notes.note_of(world.link(gid), "order_edits", topic="delivery address")
    assert "New delivery text: Pickup-Date: 07/12/2026; Pickup-Time: 10h" in note, note
    _slot(world, gid, {})  # the slot removed: nothing to name, nothing sent; the flag no longer matters
    world.drain()
    assert order_notes.note_of(world.link(gid), "order_edits", topic="delivery address") is None
    assert world.chain.order(nro)["obsPedido"].endswith("Pickup-Time: 16h")


def test_only_a_pickup_recorded_as_one_with_a_slot_sends_its_slot():
    """Imported as a delivery (tipoEntrega 'E'), an order Shopify now shows as a pickup still
    delivers in the ERP: its observation is left as it is, a new slot included; so is one recorded
    before slots were, and a slot removed."""
    pickup = _order({"Pickup-Date": "2026-12-06"}, pickup=True)
    as_pickup = address.record_of(pickup, KEYS)
    assert address._pickup_slot(as_pickup, pickup, KEYS)
    assert not address._pickup_slot(address.record_of(_order(ZAPIET), KEYS), pickup, KEYS)  # was a delivery
    assert not address._pickup_slot({k: as_pickup[k] for k in ("address", "where")}, pickup, KEYS)
    assert not address._pickup_slot(None, pickup, KEYS)
    assert not address._pickup_slot(as_pickup, _order({}, pickup=True), KEYS)  # no slot left to name


def test_a_delivery_shopify_now_shows_as_a_pickup_keeps_its_address_through_later_slot_changes(world):
    """Imported as a delivery (tipoEntrega E), its shipping line since a pickup's in Shopify: a slot
    changed is not sent (its ERP order still delivers), and the record keeps that delivery, so a
    second change is not sent as a pickup's obsPedido with the address left out."""
    gid, nro = imported(world, shipping="SEDEX", attributes=ZAPIET)
    first = world.chain.order(nro)["obsPedido"]
    assert "Entrega: " in first
    doc = world.order_doc(gid)
    for line in doc["_shippingLines"]:
        line["title"] = line["code"] = "Retirada na loja"
    world.shopify.sandbox.store.put(world.name, doc)
    for time in ("15:00 - 16:00", "18:00 - 19:00"):
        _slot(world, gid, {**ZAPIET, "Delivery-Time": time})
        world.drain()
        assert world.chain.order(nro)["obsPedido"] == first, time
