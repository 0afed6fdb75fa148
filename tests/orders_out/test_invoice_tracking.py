"""ERP -> Shopify: tracking the ERP gives after the NF-e was applied (a carrier's code comes after
invoicing, on a later F event of the same NF-e) reaches the fulfillment(s) made at that NF-e with
fulfillmentTrackingInfoUpdate — once, only that NF-e's, the customer notified per the shop's
setting, and a refusal shown as a failure."""

from __future__ import annotations

from typing import Any

import pytest

from jobs import invoice_tracking, invoices
from ledger.db import session_scope
from ledger.models import MessageStatus, Shop

from .conftest import LinkedOrder, World
from .test_invoice_documents import _another_nfe, _first_part_invoiced


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fulfillment ids every fulfillmentTrackingInfoUpdate the app sends names (it still goes to
    the sandbox)."""
    sent: list[str] = []
    monkeypatch.setattr(invoice_tracking, "fulfillment_tracking_update", _counting(sent))
    return sent


def _counting(sent: list[str]) -> Any:
    real = invoice_tracking.fulfillment_tracking_update

    def counted(client: Any, fulfillment_id: str, tracking: dict[str, Any], **kwargs: Any) -> Any:
        sent.append(fulfillment_id)
        return real(client, fulfillment_id, tracking, **kwargs)

    return counted


def _notify_customer(world: World) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        assert shop is not None
        shop.settings = {**(shop.settings or {}), "fulfillment_notify_customer": True}


def _notices(world: World, gid: str, kind: str) -> list[dict[str, Any]]:
    return [n for n in world.order_doc(gid).get("_notifications") or [] if n["kind"] == kind]


def _tracking(world: World, gid: str) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Fulfillment id -> (company, number, url) as Shopify shows it."""
    return {
        f.id: (f.tracking_company, f.tracking_number, f.tracking_url)
        for f in world.settlement(gid).fulfillments
    }


def _invoiced_without_tracking(world: World) -> tuple[LinkedOrder, str]:
    """A delivery the ERP invoiced before the carrier gave its code, applied: (order, its fulfillment)."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    [fulfillment] = message.response_payload["fulfillments"]
    assert _tracking(world, order.gid) == {fulfillment: (None, None, None)}
    return order, fulfillment


def test_tracking_on_a_later_event_updates_the_nfes_fulfillment_and_notifies_the_customer(
    world: World, updates: list[str]
) -> None:
    """The NF-e is applied with no tracking (the fulfillment made then, the customer sent the
    shipping confirmation: the shop asks Shopify to e-mail its customers); the carrier's code comes
    on a later F event of the same NF-e: that fulfillment gets it, and the customer the update."""
    _notify_customer(world)
    order, fulfillment = _invoiced_without_tracking(world)
    assert [n["fulfillmentId"] for n in _notices(world, order.gid, "SHIPPING_CONFIRMATION")] == [fulfillment]

    world.erp.track(order.nro, "LG123456", carrier="Loggi", url="https://rastreio.example/LG123456")
    assert world.poll()["enqueued"] == 1
    first, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert later.response_payload["key"] == first.response_payload["key"]
    assert _tracking(world, order.gid) == {
        fulfillment: ("Loggi", "LG123456", "https://rastreio.example/LG123456")
    }
    assert updates == [fulfillment] and later.response_payload["tracking_sent"] == [fulfillment]
    name = world.settlement(order.gid).fulfillments[0].name
    assert later.response_payload["tracking"] == (
        f"tracking LG123456 (Loggi) sent to fulfillment {name} (customer notified)"
    )
    assert [n["fulfillmentId"] for n in _notices(world, order.gid, "SHIPPING_UPDATE")] == [fulfillment]
    assert later.response_payload["fulfillments"] == []  # nothing left to fulfil: no second fulfillment
    assert len(world.settlement(order.gid).fulfillments) == 1
    link = world.link(order.gid)
    assert link.needs_attention is None and link.nfe_key == first.response_payload["key"]

    # The carrier changes the code, its link not an http(s) address: the code changes, the link is
    # left out as on create (Shopify refuses a malformed url).
    world.erp.track(order.nro, "LG999", carrier="Loggi", url="rastreio.example/LG999")
    world.poll()
    *_, changed = world.messages("invoices", order)
    assert changed.status == MessageStatus.DONE.value, changed.error_text
    assert _tracking(world, order.gid)[fulfillment][:2] == ("Loggi", "LG999")
    assert updates == [fulfillment, fulfillment]


def test_the_same_tracking_event_twice_sends_one_update(world: World, updates: list[str]) -> None:
    """A replay of the tracking event (and a poll that reads it again) finds the fulfillment showing
    its tracking already: nothing is sent, the customer is not notified twice."""
    _notify_customer(world)
    order, fulfillment = _invoiced_without_tracking(world)
    world.erp.track(order.nro, "BR000000001BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert updates == [fulfillment]

    assert invoices.replay(later.id) == MessageStatus.DONE.value
    assert world.poll()["enqueued"] == 0
    _, again = world.messages("invoices", order)
    assert updates == [fulfillment], "the same event sent the tracking a second time"
    assert "shows it already" in again.response_payload["tracking"]
    assert len(_notices(world, order.gid, "SHIPPING_UPDATE")) == 1

    invoices.replay(world.messages("invoices", order)[0].id)  # the NF-e's first event (no tracking)
    assert updates == [fulfillment] and _tracking(world, order.gid)[fulfillment][1] == "BR000000001BR"


def test_two_nfe_each_get_their_own_tracking_on_their_own_fulfillments(
    world: World, updates: list[str]
) -> None:
    """An order invoiced in two NF-e (item a, then item b), each fulfilled with the carrier's code
    of its event. A later event of NF-e B with another code updates B's fulfillment only, one of
    NF-e A only A's; the order keeps showing the latest NF-e (B), and a replay of A's first event
    does not put its older code back."""
    order, items, _part_a, first = _first_part_invoiced(world)
    b = world.plain(1)
    key_a = first.response_payload["key"]
    [fulfillment_a] = first.response_payload["fulfillments"]
    key_b = _another_nfe(world, order.nro, _part_b(items, b), items=[items[b]["seqItem"]])
    world.poll()
    _, second = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    [fulfillment_b] = second.response_payload["fulfillments"]
    code = f"SB{order.nro:09d}BR"  # the sandbox carrier's, on both NF-e's events
    assert {f: t[1] for f, t in _tracking(world, order.gid).items()} == {
        fulfillment_a: code,
        fulfillment_b: code,
    }

    world.erp.track(order.nro, "B-2", carrier="Loggi", key=key_b)
    world.poll()
    assert updates == [fulfillment_b]
    assert {f: t[1] for f, t in _tracking(world, order.gid).items()} == {
        fulfillment_a: code,
        fulfillment_b: "B-2",
    }

    world.erp.track(order.nro, "A-2", carrier="Loggi", key=key_a)
    world.poll()
    *_, later_a = world.messages("invoices", order)
    assert later_a.status == MessageStatus.DONE.value, later_a.error_text
    assert later_a.response_payload["key"] == key_a
    assert updates == [fulfillment_b, fulfillment_a]
    assert {f: t[1] for f, t in _tracking(world, order.gid).items()} == {
        fulfillment_a: "A-2",
        fulfillment_b: "B-2",
    }
    assert world.settlement(order.gid).nfe["chave"] == key_b == world.link(order.gid).nfe_key

    assert invoices.replay(first.id) == MessageStatus.DONE.value  # A's first event, with the old code
    assert updates == [fulfillment_b, fulfillment_a]
    assert _tracking(world, order.gid)[fulfillment_a][1] == "A-2"
    assert "a later ERP event" in world.messages("invoices", order)[0].response_payload["tracking"]


def _part_b(items: dict[str, Any], b: str) -> Any:
    from decimal import Decimal

    return Decimal(str(items[b]["vlrTotalAtendido"]))


def test_a_tracking_update_shopify_refuses_fails_the_message_for_a_person(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fulfillment is cancelled in Shopify between the invoice's read and the update: Shopify
    answers a userError, and the message fails with Shopify's words (the order link flagged); the
    NF-e itself stays applied."""
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.order_settlement import fulfillment_cancel

    order, fulfillment = _invoiced_without_tracking(world)
    real = invoices._settlement

    def then_cancelled(client: Any, order_id: str) -> Any:
        state = real(client, order_id)
        fulfillment_cancel(for_shop(world.domain), fulfillment)  # a person, at that moment
        return state

    monkeypatch.setattr(invoices, "_settlement", then_cancelled)
    world.erp.track(order.nro, "BR000000002BR", carrier="Correios")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status == MessageStatus.FAILED.value
    assert later.error_class == "rejected" and (later.error_detail or {}).get("code") == "TRACKING_REFUSED"
    assert "Shopify refused the ERP's tracking BR000000002BR (Correios)" in (later.error_text or "")
    assert "cancelled fulfillment" in (later.error_text or "")
    link = world.link(order.gid)
    assert link.needs_attention and "tracking BR000000002BR" in link.needs_attention
    assert world.settlement(order.gid).nfe["chave"] == later.request_payload["invoice"]["key"]


def test_a_retry_after_the_fulfillment_was_made_still_knows_it_as_the_nfes(
    world: World, updates: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run fails after its fulfillmentCreate (Shopify down at the tag): the fulfillment is on
    the message already, and the retry, which finds nothing left to fulfil, keeps it as the NF-e's —
    so tracking given later still reaches it."""
    from ledger.errors import Transient
    from shopify_app.admin_api.client import AdminClient

    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise Transient("Shopify answered 503")

    working = AdminClient.tags_add
    monkeypatch.setattr(AdminClient, "tags_add", down)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.RETRYING.value
    [fulfillment] = message.response_payload["fulfillments"]
    monkeypatch.setattr(AdminClient, "tags_add", working)  # Shopify is back

    assert invoices.replay(message.id) == MessageStatus.DONE.value
    [message] = world.messages("invoices", order)
    assert message.response_payload["fulfillments"] == [fulfillment]
    assert len(world.settlement(order.gid).fulfillments) == 1

    world.erp.track(order.nro, "BR000000003BR", carrier="Correios")
    world.poll()
    assert updates == [fulfillment]
    assert _tracking(world, order.gid)[fulfillment][1] == "BR000000003BR"
