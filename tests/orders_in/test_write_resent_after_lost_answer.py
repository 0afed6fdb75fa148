"""A write to the ERP order whose answer was lost (a read timeout) and that the transport sent again:
the ERP took the first attempt, and the resend is refused, by the ERP's own rule (the order went on
to picking meanwhile: 409 PEDIDO_EM_SEPARACAO) or an installation's wording of a repeat (a cancel
of an order cancelled already answered 400). erp.transport flags that refusal `maybe_taken`: it
speaks for the resend alone. The cancellation, the edit and the delivery address read the ERP order
back before believing it, so none fails as "the ERP refused, NOT applied / still live" while the
ERP holds the write; a refusal the read-back confirms (the first attempt never reached the ERP)
stays the refusal it was.

The lost answer is made at the HTTP level, under the real transport (its retries, its flag): the
sandbox takes the first request, its answer is dropped as a ReadTimeout, `meanwhile` moves the ERP
on, and the resend goes to the sandbox (or gets `resend`, an installation's answer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest
import requests

from jobs import order_clients
from jobs.order_edits import address
from ledger import order_notes
from ledger.models import MessageStatus
from sandbox.shopify.checkout import pay_balance
from tests.orders_in.test_delivery_address import NEW, address_message, order_update
from tests.orders_in.test_edits_and_cancels import (
    cancel_in_shopify,
    edit_in_shopify,
    edit_message,
    imported,
    line_changes,
)

REPEAT_REFUSED = (400, {"codigo": "ERRO", "mensagem": "ORA-20010: Pedido não permite cancelamento."})
EDIT_REFUSED = (422, {"codigo": "ERRO", "mensagem": "Pedido alterado por outro usuário."})


def _answer(status: int, body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response._content_consumed = True
    response.headers["Content-Type"] = "application/json"
    response.encoding = "utf-8"
    return response


def answer_lost_once(
    world,
    monkeypatch,
    method: str,
    path: str,
    *,
    taken: bool = True,
    meanwhile: Callable[[], None] | None = None,
    resend: tuple[int, dict] | None = None,
    lost: int = 1,
) -> list[str]:
    """The first `method` request to `path` (under the API) is taken by the ERP (`taken`; else it
    never arrives there) and its answer lost, and so are the `lost` - 1 after it (not taken: the
    ERP slow); `resend` answers the one after those. The URLs of those requests sent."""
    session = order_clients.erp_client(world.shop_id).transport.session
    real = session.request
    sent: list[str] = []

    def request(m, url, *args, **kwargs):
        if m != method or not url.endswith(path):
            return real(m, url, *args, **kwargs)
        sent.append(url)
        if len(sent) == 1:
            if taken:
                real(m, url, *args, **kwargs).close()
            if meanwhile is not None:
                meanwhile()
            raise requests.exceptions.ReadTimeout("read timed out (answer lost)")
        if len(sent) <= lost:
            raise requests.exceptions.ReadTimeout("read timed out (answer lost)")
        if len(sent) == lost + 1 and resend is not None:
            return _answer(*resend)
        return real(m, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", request)
    return sent


def cancel_message(world, gid: str):
    return world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")


def test_a_cancel_taken_whose_resend_is_refused_is_cancelled_not_refused(world, monkeypatch):
    """POST .../Cancelamento cancels the ERP order, its answer is lost, and the installation refuses
    the resend (its wording of "cancelled already", not 409 PEDIDO_CANCELADO). The ERP order is
    cancelled: read back, the cancellation is done, not failed as "the ERP refused to cancel; the
    ERP order is still live and would be picked and invoiced"."""
    gid, nro = imported(world)
    cancel = f"PedidoVenda/{nro}/Cancelamento"
    sent = answer_lost_once(world, monkeypatch, "POST", cancel, resend=REPEAT_REFUSED)
    cancel_in_shopify(world, gid)
    world.drain()
    assert len(sent) == 2
    assert world.chain.order(nro)["situacaoPed"] == "C"
    message = cancel_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    link = world.link(gid)
    assert link.erp_status == "C" and link.needs_attention is None


def test_a_cancel_taken_whose_answer_every_attempt_lost_is_cancelled_on_the_jobs_retry(world, monkeypatch):
    """The ERP cancels at the first attempt, and every attempt of the transport times out (the ERP
    slow): the job fails transient. Its retry sends the cancel afresh and the installation refuses
    the repeat: a clean refusal to the transport, yet the run before may have cancelled it. Read
    back, the ERP order is cancelled: done, not "the ERP refused to cancel; still live"."""
    from jobs import inbox
    from jobs.cancellations import to_erp
    from ledger.errors import Transient
    from tests.orders_in.test_edit_and_cancel_flags import inbox_ids

    gid, nro = imported(world)
    cancel = f"PedidoVenda/{nro}/Cancelamento"
    sent = answer_lost_once(world, monkeypatch, "POST", cancel, lost=3, resend=REPEAT_REFUSED)
    cancel_in_shopify(world, gid)
    world.delivered()
    [cancelled] = inbox_ids("orders/cancelled")
    with pytest.raises(Transient):
        inbox.process(cancelled)
    assert len(sent) == 3 and world.chain.order(nro)["situacaoPed"] == "C"
    assert to_erp.replay(cancel_message(world, gid).id) == "done"  # RQ's retry
    assert len(sent) == 4
    message = cancel_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.link(gid).erp_status == "C" and world.link(gid).needs_attention is None


def test_a_cancel_refused_after_an_attempt_that_never_arrived_stays_refused(world, monkeypatch):
    """The first attempt's answer lost, but it never reached the ERP; the resend is refused. Read
    back, the ERP order is live: the refusal is true and is said as before."""
    gid, nro = imported(world)
    answer_lost_once(world, monkeypatch, "POST", f"PedidoVenda/{nro}/Cancelamento", taken=False,
                     resend=REPEAT_REFUSED)  # fmt: skip
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.chain.order(nro)["situacaoPed"] != "C"
    message = cancel_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert "ORA-20010" in message.error_text
    assert (world.link(gid).needs_attention or "").startswith("cancellations: the ERP refused to cancel.")


def test_an_edit_taken_before_the_erp_started_picking_is_applied_not_flagged(world, monkeypatch):
    """PUT PedidoVenda/{nro} replaces the lines (2 -> 3), its answer is lost, and the ERP starts
    separating before the resend, which it refuses (409 PEDIDO_EM_SEPARACAO). The ERP order holds
    the edit, and is picked from it: the edit is done and its change recorded applied, not flagged
    "NOT applied in the ERP" for a person to change the picking or undo the edit."""
    gid, nro = imported(world)
    sent = answer_lost_once(world, monkeypatch, "PUT", f"PedidoVenda/{nro}",
                            meanwhile=lambda: world.chain.handle.erp.separate(nro, weights={}))  # fmt: skip
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    assert len(sent) == 2
    quantities = {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}
    assert quantities[world.sku(0)] == 3  # once: a PUT replaces the lines, the resend adds nothing
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert order_notes.note_of(world.link(gid), "order_edits") is None
    [change] = line_changes()
    assert (change.kind, change.qty_before, change.qty_after, change.applied) == ("qty", 2, 3, True)
    erp_total = Decimal(str(world.chain.order(nro)["vlrTotalPedido"]))
    assert world.link(gid).total == erp_total


def test_an_edit_taken_whose_resend_the_erp_refuses_for_its_own_reason_is_applied(world, monkeypatch):
    """The PUT taken, its answer lost, the resend refused (422, the ERP's own words): the ERP holds
    the edit, so the merchant is not told "The edit was NOT applied in the ERP; fix the cause and
    Retry, or undo the edit in Shopify"."""
    gid, nro = imported(world)
    answer_lost_once(world, monkeypatch, "PUT", f"PedidoVenda/{nro}", resend=EDIT_REFUSED)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.link(gid).needs_attention is None
    [change] = line_changes()
    assert change.applied is True


def test_an_edit_refused_after_an_attempt_that_never_arrived_stays_refused(world, monkeypatch):
    """The first attempt never reached the ERP; the resend is refused. Read back, the ERP order does
    not hold the edit: it fails as the ERP refused it, NOT applied, as before."""
    gid, nro = imported(world)
    answer_lost_once(world, monkeypatch, "PUT", f"PedidoVenda/{nro}", taken=False, resend=EDIT_REFUSED)
    edit_in_shopify(world, gid, world.sku(0), 3)
    pay_balance(world.shopify.sandbox, world.name, gid)  # the rest paid: the raised total may go to the ERP
    world.drain()
    quantities = {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}
    assert quantities[world.sku(0)] == 2
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value
    assert "Pedido alterado por outro usuário" in message.error_text
    assert "NOT applied" in (order_notes.note_of(world.link(gid), "order_edits") or "")


def test_a_delivery_address_taken_before_the_erp_started_picking_is_not_flagged(world, monkeypatch):
    """PUT obsPedido taken, its answer lost, the ERP separates before the resend (409): the ERP
    order names the new delivery, so the change is not flagged "NOT changed in the ERP"."""
    gid, nro = imported(world)
    answer_lost_once(world, monkeypatch, "PUT", f"PedidoVenda/{nro}",
                     meanwhile=lambda: world.chain.handle.erp.separate(nro, weights={}))  # fmt: skip
    order_update(world, gid, shippingAddress=NEW)
    world.drain()
    assert "Rua das Palmeiras, 742" in world.chain.order(nro)["obsPedido"]
    message = address_message(world, gid)
    assert message.status in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value), message.error_text
    assert order_notes.note_of(world.link(gid), "order_edits", topic=address.TOPIC) is None
