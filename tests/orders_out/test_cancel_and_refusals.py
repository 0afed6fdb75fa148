"""ERP -> Shopify: cancellations (before and after invoicing), substitutions, refusals surfaced
with their reasons (invalid NF-e key, an NF-e above the authorisation, unknown orders)."""

from __future__ import annotations

import copy
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from jobs import invoices
from jobs.cancellations import to_shopify as cancel_side
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus, Shop
from sandbox.shopify.state_dump import dump

from .conftest import World


def test_cancel_in_the_erp_before_invoicing_cancels_and_restocks_in_shopify(world: World) -> None:
    sku = world.plain(0)
    order = world.linked_order([(sku, 4)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    assert world.poll()["enqueued"] == 1

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    outcome = message.response_payload
    assert outcome["done"] is True and outcome["reason"] == "CUSTOMER" and outcome["restock"] is True
    doc = world.order_doc(order.gid)
    assert doc["cancelledAt"] and doc["cancelReason"] == "CUSTOMER"
    assert doc["displayFinancialStatus"] == "REFUNDED"  # cancel_refund defaults to true
    # As Shopify shows a cancelled order: its lines removed, nothing left to pay.
    assert [line["currentQuantity"] for line in doc["_lines"]] == [0]
    assert Decimal(doc["currentTotalPriceSet"]["shopMoney"]["amount"]) == 0
    level = world.stock(sku)
    assert level == {"available": 50, "committed": 0, "on_hand": 50}  # the 4 units went back
    link = world.link(order.gid)
    assert link.erp_status == "C" and link.cancelled_at is not None and link.needs_attention is None

    # A later replay re-reads Shopify, finds the order cancelled and sends nothing.
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    assert cancel_side.replay(message.id) == MessageStatus.DONE.value  # polls the stored job only
    assert world.order_doc(order.gid) == snapshot


def test_a_cancel_motive_longer_than_shopifys_staff_note_is_cut_and_the_order_still_cancelled(
    world: World,
) -> None:
    """An ERP whose MOTCANCELAMENTO holds more than fits Shopify's staff note (255 characters):
    the note is cut with an ellipsis, the order is cancelled, the message keeps the whole motive."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    motive = "Cliente desistiu da compra; " + "observação do atendimento " * 12
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.rewrite_event(order.nro, "C", lambda data: data.update(motivoCancelamento=motive))
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload["erp_reason"] == motive
    doc = world.order_doc(order.gid)
    assert doc["cancelledAt"]
    note = doc["cancellation"]["staffNote"]
    assert 250 < len(note) <= 255 and note.endswith("…")
    assert note.startswith(f"Cancelado no ERP (pedido {order.nro}): Cliente desistiu da compra; observação")


@pytest.mark.parametrize(
    ("restock", "refund"), [(True, True), (False, False)], ids=["restock-refund", "keep-stock-and-money"]
)
def test_nfe_cancelled_after_invoicing_cancels_the_order_flags_and_marks_it(
    world: World, restock: bool, refund: bool
) -> None:
    sku = world.plain(1)
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        assert shop is not None
        shop.settings = {**(shop.settings or {}), "cancel_restock": restock, "cancel_refund": refund}
    order = world.linked_order([(sku, 2)], gateway="pix")
    erp_order = world.erp.invoice(order.nro)
    key = erp_order["documentosFiscais"][0]["chaveAcesso"]
    world.poll()
    assert world.messages("invoices", order)[-1].status == MessageStatus.DONE.value
    [invoicing] = world.settlement(order.gid).active_fulfillments
    assert world.stock(sku) == {"available": 48, "committed": 0, "on_hand": 48}  # shipped at invoicing
    world.erp.cancel(order.nro, "NF-e cancelada: erro de digitação")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    outcome = message.response_payload
    assert outcome["done"] is True and outcome["nfe_cancelled"] is True
    assert outcome["fulfillments_cancelled"] == [invoicing.id]
    assert (outcome["restock"], outcome["refund"]) == (restock, refund)
    state = world.settlement(order.gid)
    assert state.cancelled_at and state.nfe["status"] == "cancelada" and "NF-e cancelada" in state.tags
    assert [f.status for f in state.fulfillments] == ["CANCELLED"] and not state.active_fulfillments
    doc = world.order_doc(order.gid)
    assert doc["cancelReason"] == "OTHER" and doc["displayFulfillmentStatus"] == "UNFULFILLED"
    assert doc["displayFinancialStatus"] == ("REFUNDED" if refund else "PAID")
    # The fulfillment's units came back, then the cancel restocked them or wrote them off.
    assert world.stock(sku) == (
        {"available": 50, "committed": 0, "on_hand": 50}
        if restock
        else {"available": 48, "committed": 0, "on_hand": 48}
    )
    link = world.link(order.gid)
    assert link.erp_status == "C" and link.cancelled_at is not None
    assert link.needs_attention and key in link.needs_attention
    assert "NF-e" in link.needs_attention and "cancelled in the ERP after invoicing" in link.needs_attention

    # A second poll finds nothing new: no message, no Shopify write, the flag unchanged.
    store = world.shopify.sandbox.store
    shop_state = dump(world.shopify.sandbox, world.name)
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    order_metafields = store.find(world.name, "mf.owner", order.gid)
    assert any(m["namespace"] == "nfe" and m["value"] == "cancelada" for m in order_metafields)
    world.poll()
    assert [(m.id, m.status, m.attempts) for m in world.messages("cancellations", order)] == [
        (message.id, message.status, message.attempts)
    ]
    assert world.order_doc(order.gid) == snapshot
    assert store.find(world.name, "mf.owner", order.gid) == order_metafields
    assert dump(world.shopify.sandbox, world.name) == shop_state
    assert world.link(order.gid).needs_attention == link.needs_attention


def test_substituted_item_is_added_to_the_shopify_order(world: World) -> None:
    original, substitute = world.plain(0), world.plain(2)
    order = world.linked_order([(original, 2), (world.plain(1), 1)], gateway="pix")
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == substitute)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": sub_ean, "qtd": 2}]
    )
    world.poll()

    [message] = world.messages("order_edits", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    lines = {line["sku"]: line["currentQuantity"] for line in world.order_doc(order.gid)["_lines"]}
    assert lines[original] == 0 and lines[substitute] == 2
    kinds = {(c.sku, c.kind, c.substitute_sku, c.applied) for c in world.line_changes(order.gid)}
    assert (original, "substitution", substitute, True) in kinds and (
        substitute,
        "substitution",
        substitute,
        True,
    ) in kinds


def test_two_lines_substituted_by_the_same_new_sku_add_it_once(world: World) -> None:
    """Two yoghurt flavours are out of stock; the picker replaces each with one natural yoghurt (the
    same SKU, not on the order): Shopify gets the substitute once, x2 (not x4), and a replay of
    the edit sends nothing."""
    from jobs.order_edits import to_shopify

    first, second, substitute = world.plain(0), world.plain(1), world.plain(2)
    order = world.linked_order([(first, 1), (second, 1)], gateway="pix")
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == substitute)
    world.erp.separate(
        order.nro,
        substitutions=[
            {"seqItem": order.lines[first], "codAcesso": sub_ean, "qtd": 1},
            {"seqItem": order.lines[second], "codAcesso": sub_ean, "qtd": 1},
        ],
    )
    world.poll()

    [message] = world.messages("order_edits", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    lines = [(line["sku"], line["currentQuantity"]) for line in world.order_doc(order.gid)["_lines"]]
    assert sorted(lines) == sorted([(first, 0), (second, 0), (substitute, 2)]), lines
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    assert to_shopify.replay(message.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid) == snapshot


def test_capture_above_the_authorisation_is_never_asked_all_authorised_is_taken_and_the_rest_surfaced(
    world: World,
) -> None:
    """An NF-e far above what the customer authorised (weighed three times the order): the app
    never asks Shopify for more than the authorisation; it captures all of it, the invoice is on
    the order, and the part not charged is named for a person on the order link."""
    weighed = world.weighed()
    order = world.linked_order([(weighed, 1)], gateway="cartao", capture="manual")
    authorised = world.settlement(order.gid).open_authorization()
    assert authorised is not None
    world.erp.separate(order.nro, weights={str(order.lines[weighed]): 3.0})  # weighed three times the order
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    assert state.paid == authorised.amount and state.open_authorization() is None
    assert state.nfe.get("chave")  # the invoice is on the order all the same
    link = world.link(order.gid)
    assert link.captured_amount == authorised.amount
    uncovered = nfe_total - authorised.amount
    assert uncovered > 0
    assert link.needs_attention == (
        f"invoices: the NF-e total {nfe_total} is {uncovered} above what the customer paid or "
        f"authorised ({authorised.amount} taken): {uncovered} was not charged; collect it or absorb it"
    )
    assert message.response_payload["needs_attention"] == link.needs_attention

    world.poll()  # the same invoice again changes nothing, and says the same
    assert world.settlement(order.gid).paid == authorised.amount
    assert world.link(order.gid).needs_attention == link.needs_attention


def test_invalid_nfe_key_is_refused_and_nothing_is_written(world: World) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    good = document["chaveAcesso"]
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)  # the ERP hands out a key with a wrong check digit
    world.erp_key(order.nro, bad)
    world.poll()

    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected"
    assert bad in (message.error_text or "") and "check digit" in (message.error_text or "")
    assert message.error_detail["value"] == bad
    state = world.settlement(order.gid)
    assert state.nfe == {} and not state.fulfillments and "NF-e emitida" not in state.tags


def test_a_retry_after_the_key_is_corrected_in_the_erp_applies_the_corrected_key(world: World) -> None:
    """As the refusal's explanation says: correct the key in the ERP, then Retry. The Retry replays
    the event as it was read (its key still wrong), so the document is read again from the ERP
    order, where the key is right now (it used to fail the same way for ever)."""
    from shopify_app.api_explain import explain

    order = world.linked_order([(world.plain(0), 1)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro)["documentosFiscais"]
    good = document["chaveAcesso"]
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    world.erp_key(order.nro, bad)
    world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value and "check digit" in (message.error_text or "")
    explained = explain(message, "en")
    assert explained is not None and "read again from the ERP order" in explained["what_to_do"], explained

    world.erp_key(order.nro, good, event=False)  # the merchant corrects it in the ERP
    assert invoices.replay(message.id) == MessageStatus.DONE.value
    [message] = world.messages("invoices", order)
    assert message.response_payload["key"] == good and bad in message.response_payload["key_from_erp_order"]
    state = world.settlement(order.gid)
    assert state.nfe["chave"] == good and state.paid == Decimal(str(document["vlrTotal"]))
    assert world.link(order.gid).nfe_key == good


def test_events_of_orders_the_app_does_not_know_are_skipped_with_the_reason(world: World) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    with session_scope() as session:  # as if the order had been typed in the ERP
        from ledger.models import OrderLink

        session.delete(
            session.scalars(select(OrderLink).where(OrderLink.shopify_order_id == order.gid)).one()
        )
    world.erp.cancel(order.nro, "Cancelado")
    counts = world.poll()
    assert counts["unknown"] >= 1 and counts["enqueued"] == 0
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.flow == "cancellations", Message.erp_id == str(order.nro))
        ).one()
        assert message.status == MessageStatus.SKIPPED.value
        assert f"ERP order {order.nro} is not linked" in (message.error_text or "")
    assert world.order_doc(order.gid)["cancelledAt"] is None


def test_an_order_already_cancelled_in_shopify_is_a_no_op(world: World) -> None:
    from shopify_app.admin_api import for_shop

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    client = for_shop(world.domain)
    job = client.order_cancel(order.gid, reason="CUSTOMER", restock=True)
    for _ in range(50):  # Shopify's cancel job finishes within a second on the sandbox
        if client.job(job.id).done:
            break
        time.sleep(0.1)
    snapshot = copy.deepcopy(world.order_doc(order.gid))
    world.erp.cancel(order.nro, "Falta de estoque")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.SKIPPED.value and "already cancelled" in (message.error_text or "")
    # its words for the pages (shopify_app.skip_words), given through order_events.Skipped
    name = world.order_doc(order.gid)["name"]
    assert message.error_detail["skip"] == {
        "key": "shopify_order_already_cancelled",
        "params": {"name": name},
    }
    assert world.order_doc(order.gid) == snapshot
    assert world.link(order.gid).erp_status == "C"


def test_an_authorisation_the_nfe_needs_nothing_from_is_released(world: World) -> None:
    """Cut at picking, and staff already took the NF-e's amount in the admin (not a final capture):
    nothing is left to capture, and what the card still holds is voided, not left authorised."""
    from shopify_app.admin_api import for_shop

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 3), (b, 1)], gateway="cartao", capture="manual")
    authorization = world.settlement(order.gid).open_authorization()
    assert authorization is not None
    picked = world.erp.separate(order.nro, cuts={str(order.lines[a]): 1})
    world.poll()
    nfe_total = Decimal(str(picked["vlrTotalAtendido"]))
    for_shop(world.domain).order_capture(order.gid, authorization.id, nfe_total, final_capture=False)
    total, message = world.invoice(order)
    assert total == nfe_total and message.status == MessageStatus.DONE.value, message.error_text
    after = world.settlement(order.gid)
    assert after.paid == nfe_total and after.open_authorization() is None
    assert "released" in message.response_payload["capture"]


def test_a_cancel_job_shopify_no_longer_knows_is_cancelled_again_not_a_bug(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel job's id was stored but Shopify does not know it (it expired, or the call that
    made it was lost): the order is not cancelled, so the retry cancels it again."""
    from shopify_app.admin_api.order_ops import OrderOperations
    from shopify_app.admin_api.results import Job

    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    with monkeypatch.context() as patched:  # a job id Shopify never made (the order untouched)
        patched.setattr(OrderOperations, "order_cancel", lambda *a, **k: Job("gid://shopify/Job/lost", False))
        world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value and "cancelled again" in (message.error_text or "")
    assert "cancel_job" not in (message.response_payload or {})
    assert cancel_side.replay(message.id) == MessageStatus.DONE.value
    assert world.order_doc(order.gid)["cancelledAt"]


def _lose_the_first_answer(monkeypatch: Any, operation: str) -> list[str]:
    """Shopify applies `operation` and its answer never comes back (a read timeout), once."""
    from shopify_app.admin_api.errors import ShopifyNetworkError
    from shopify_app.admin_api.transport import AdminTransport

    real_send, sent = AdminTransport.send, []

    def lossy(self: Any, op: Any, variables: Any, token: Any) -> Any:
        answer = real_send(self, op, variables, token)
        if op.name == operation:
            sent.append(op.name)
            if len(sent) == 1:
                raise ShopifyNetworkError("read timed out")
        return answer

    monkeypatch.setattr(AdminTransport, "send", lossy)
    return sent


@pytest.mark.parametrize("operation", ["OrderCancel", "OrderEditCommit", "OrderCapture"])
def test_a_mutation_whose_answer_was_lost_is_not_sent_again_blind_and_its_retry_converges(
    world: World, monkeypatch: Any, operation: str
) -> None:
    """orderCancel, orderEditCommit and orderCapture carry no idempotency key: sent again, the
    second call is refused as already done and the event failed for good. The lost answer is
    transient instead; the retry re-reads the order and does only what is left."""
    from jobs import cancellations, invoices, order_edits

    sku = world.plain(0)
    if operation == "OrderCapture":
        order = world.linked_order([(sku, 2)], gateway="cartao", capture="manual")
        world.erp.invoice(order.nro)
        flow, replay = "invoices", invoices.replay
    elif operation == "OrderEditCommit":
        order = world.linked_order([(sku, 3)], gateway="pix")
        world.erp.separate(order.nro, cuts={str(order.lines[sku]): 2})
        flow, replay = "order_edits", order_edits.replay
    else:
        order = world.linked_order([(sku, 2)], gateway="pix")
        world.erp.cancel(order.nro, "Cliente desistiu")
        flow, replay = "cancellations", cancellations.replay
    sent = _lose_the_first_answer(monkeypatch, operation)
    world.poll()
    [message] = world.messages(flow, order)
    assert sent == [operation] and message.status == MessageStatus.RETRYING.value, message.error_text
    for _ in range(20):  # what RQ's retries run (a cancellation already under way: until it is done)
        try:
            replay(message.id)
            break
        except Transient:
            time.sleep(0.25)
    [message] = world.messages(flow, order)
    # OrderCancel asked again while the first still runs: "already", checked again; the app's own
    assert message.status == MessageStatus.DONE.value, message.error_text
    if operation != "OrderCancel":
        assert sent == [operation]
    doc = world.order_doc(order.gid)
    if operation == "OrderCancel":
        assert doc["cancelledAt"]
    elif operation == "OrderEditCommit":
        assert doc["_lines"][0]["currentQuantity"] == 2
    else:
        state = world.settlement(order.gid)
        assert state.nfe and [f.status for f in state.fulfillments] == ["SUCCESS"]


def test_a_cancellation_that_failed_in_shopify_is_sent_again_on_retry(world: World) -> None:
    """Shopify's cancel job can end without cancelling (its cancellation FAILED: the refund to the
    original payment method declined). The message fails saying so and where to look, and forgets
    that finished job: once the cause is gone, Retry sends orderCancel again instead of polling
    the old job and failing the same way for ever."""
    from sandbox.shopify.resolvers.order_cancel import fail_next_cancel
    from shopify_app.api_explain import explain

    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    world.poll()

    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.FAILED.value, message.error_text
    assert message.error_detail["code"] == "CANCEL_NOT_APPLIED"
    name = world.link(order.gid).shopify_order_name
    text = message.error_text or ""
    assert f"The cancellation of Shopify order {name} failed in Shopify" in text
    assert "timeline" in text and "Retry sends the cancellation again" in text
    assert "timeline" in explain(message, "en")["what_to_do"]
    assert "cancel_job" not in (message.response_payload or {})
    assert world.order_doc(order.gid)["cancelledAt"] is None
    assert world.link(order.gid).needs_attention.startswith("cancellations")

    assert cancel_side.replay(message.id) == MessageStatus.DONE.value  # the cause is gone
    doc = world.order_doc(order.gid)
    assert doc["cancelledAt"] and doc["displayFinancialStatus"] == "REFUNDED"
    [message] = world.messages("cancellations", order)
    assert message.response_payload["done"] is True and message.response_payload["cancel_job"]


def test_a_person_cancelling_after_the_apps_cancel_job_failed_is_theirs_not_the_apps(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's cancel job was still running when its attempt ended (the job remembered), then
    ended without cancelling (the refund declined), and a person cancelled the order by hand with
    a note of their own, keeping the money: the retry finds it cancelled by them (skipped "already
    cancelled"), not done as the app asked (its refund was never made)."""
    from sandbox.shopify.resolvers.order_cancel import fail_next_cancel
    from tests.by_hand import cancel_in_shopify

    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    message = _poll_before_the_cancel_job_ends(world, order, monkeypatch)  # it ends without cancelling
    assert world.order_doc(order.gid)["cancelledAt"] is None
    cancel_in_shopify(world.domain, order.gid, refund=False, staff_note="Cancelado pelo SAC, sem estorno")

    assert cancel_side.replay(message.id) == MessageStatus.SKIPPED.value
    [message] = world.messages("cancellations", order)
    assert "already cancelled" in (message.error_text or "")
    assert not message.response_payload.get("done")
    assert world.order_doc(order.gid)["displayFinancialStatus"] != "REFUNDED"


@pytest.mark.parametrize("answer", ["answered", "answer-lost"])
def test_a_fulfillment_made_before_invoicing_is_cancelled_and_named_for_a_person(
    world: World, monkeypatch: Any, answer: str
) -> None:
    """Fulfilled in Shopify by the store or a delivery app (with tracking) before the ERP invoiced
    it, the order is cancelled in the ERP: the sale is off, so the fulfillment is cancelled with
    the order and the payment refunded, but the goods may have left. The order link says so,
    naming the fulfillment and its tracking number, also when orderCancel's answer was lost and
    the retry found the fulfillment already cancelled."""
    from ledger import order_notes
    from shopify_app.admin_api import for_shop

    order = world.linked_order([(world.plain(1), 2)], gateway="pix")
    client = for_shop(world.domain)
    fos = client.fulfillment_orders(order.gid)
    client.fulfillment_create(
        {fo.id: None for fo in fos if fo.status == "OPEN"}, tracking={"number": "BR123", "company": "Loggi"}
    )
    [fulfillment] = world.settlement(order.gid).active_fulfillments
    world.erp.cancel(order.nro, "Cancelado pela loja")
    if answer == "answer-lost":
        _lose_the_first_answer(monkeypatch, "OrderCancel")
    world.poll()
    [message] = world.messages("cancellations", order)
    for _ in range(20):  # what RQ's retries run
        if message.status not in (MessageStatus.RETRYING.value, MessageStatus.PENDING.value):
            break
        try:
            cancel_side.replay(message.id)
        except Transient:
            time.sleep(0.25)
        [message] = world.messages("cancellations", order)

    assert message.status == MessageStatus.DONE.value, message.error_text
    state = world.settlement(order.gid)
    assert state.cancelled_at and not state.active_fulfillments and state.refunded > 0
    note = world.link(order.gid).needs_attention
    assert note and note.startswith("cancellations: "), note
    assert f"{fulfillment.name} (tracking BR123)" in note and "before invoicing" in note
    assert "may have left the store" in note and "refunded" in note
    link = world.link(order.gid)
    order_notes.put(link, "invoices", "invoices: a later capture warning")  # noted beside it, not over it
    assert order_notes.note_of(link, "cancellations") == note and order_notes.notes(link)[0].text == note


def test_a_cancelled_order_knows_its_nfe_cancelled_whatever_mask_or_case_the_erp_lists_its_key_in(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invoice on a Shopify order cancelled meanwhile is skipped when the ERP lists its NF-e
    cancelled: the keys compare as everywhere else in the flow (jobs.nfe.normalise), so a key with
    an alphanumeric CNPJ the ERP lists in lower case, or masked with a slash, is the same NF-e."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from erp.records import Invoice, OrderEvent
    from jobs import order_clients, order_events
    from jobs.invoices import _cancelled_after

    key = "35261112ABC34501DE3555001000000123112345678" + "5"
    listed = "3526 1112.abc3/4501-de35 5500 1000 0001 2311 2345 6785"

    def document(key: str, status: str) -> Invoice:
        return Invoice(7, key, 123, "1", "55", status, datetime(2026, 11, 1, tzinfo=UTC), Decimal("10.00"),
                       None, None, None)  # fmt: skip

    erp = SimpleNamespace(get_order=lambda _nro: SimpleNamespace(invoices=[document(listed, "C")]))
    monkeypatch.setattr(order_clients, "erp_client", lambda _shop_id: erp)
    event = OrderEvent(9, "F", 880001, 7, "gid://shopify/Order/1", 1, "F", datetime(2026, 11, 2, tzinfo=UTC),
                       False, None, None, (), document(key, "V"), None, None, False)  # fmt: skip
    unit = order_events.EventUnit(
        world.shop_id, world.domain, 0, "invoices", event, 0, "gid://shopify/Order/1"
    )
    assert _cancelled_after(unit, event) == (
        f"the ERP lists its NF-e {key} cancelled",
        ("invoice_cancelled_nfe_gone", {"key": key}),
    )


def test_the_apps_own_cancel_with_its_refund_pending_at_the_gateway_is_its_own(
    world: World, monkeypatch
) -> None:
    """The first attempt ends while Shopify's cancel job still runs; the job cancels with the app's
    staff note, the Pix refund PENDING at the gateway (asynchronous). The rerun counted the money as
    kept (paid less successful refunds) and took the cancellation for someone else's: skipped
    "already cancelled", the restock the app asked for never read again."""
    from sandbox.shopify import order_store

    order = world.linked_order([(world.plain(0), 2)], gateway="pix")
    world.erp.cancel(order.nro, "Cliente desistiu da compra")
    real = order_store.new_transaction

    def gateway(ctx, kind, status, *args, **kwargs):  # the gateway answers refunds later (Pix)
        return real(ctx, kind, "PENDING" if kind == "REFUND" else status, *args, **kwargs)

    monkeypatch.setattr(order_store, "new_transaction", gateway)
    message = _poll_before_the_cancel_job_ends(world, order, monkeypatch)
    assert world.order_doc(order.gid)["cancelledAt"]
    for _ in range(5):
        try:
            status = cancel_side.replay(message.id)
            break
        except Transient:
            time.sleep(0.3)
    [message] = world.messages("cancellations", order)
    assert status == MessageStatus.DONE.value, message.error_text
    assert message.response_payload.get("done") is True


def test_the_rest_cancelled_after_a_partial_invoice_leaves_the_valid_nfe_and_asks_a_person(
    world: World,
) -> None:
    """Invoiced in part (NF-e 1 applied: captured, fulfilled, the goods with the customer), then the
    ERP cancels the rest saying its NF-e was not (nfeCancelada false, the document still valid).
    The link's key alone made it "invoiced and NF-e cancelled": "NF-e cancelada" written on a
    document valid at SEFAZ, the delivered goods' fulfillment cancelled, the whole capture refunded."""
    from sandbox.consinco import lifecycle
    from tests.orders_out.test_invoice_documents import _first_part_invoiced

    order, _items, _part_a, first = _first_part_invoiced(world)
    key = first.response_payload["key"]
    store = world.erp.store
    with store.write() as (conn, now):  # the ERP cancels what was not invoiced; NF-e 1 stays valid
        lifecycle._set_status(
            conn, now, order.nro, "C", dtacancelamento=now, motcancelamento="Desistiu do resto"
        )
        lifecycle.record_event(
            conn, now, order.nro, "C", store.quantity_unit, store.discount_per, nfe_cancelled=False
        )
    world.poll()
    [message] = world.messages("cancellations", order)
    assert (
        message.status == MessageStatus.FAILED.value
        and message.error_detail["code"] == "CANCEL_NFE_STILL_VALID"
    )
    assert key in message.error_text
    state = world.settlement(order.gid)
    assert state.cancelled_at is None and state.refunded == 0
    assert state.nfe.get("status") != "cancelada" and "NF-e cancelada" not in state.tags

    # A person cancels the whole order in Shopify instead: not "both sides cancelled" (that C event
    # left the NF-e valid), the valid NF-e named for a person on the cancellation and the link
    import by_hand

    from jobs.cancellations import to_erp
    from shopify_app.admin_api import for_shop
    from shopify_app.admin_api.order_settlement import fulfillment_cancel, settlement

    client = for_shop(world.domain)
    for fulfillment in settlement(client, order.gid).active_fulfillments:
        fulfillment_cancel(client, fulfillment.id)
    client.close()
    by_hand.cancel_in_shopify(world.domain, order.gid)
    assert to_erp.cancel_in_erp(world.shop_id, order.gid, "customer") == MessageStatus.FAILED.value
    [c_event] = [m for m in world.messages("cancellations", order) if m.unit_key.startswith("event:")]
    assert c_event.status == MessageStatus.FAILED.value, c_event.error_text
    assert key in (world.link(order.gid).needs_attention or "")


def _poll_before_the_cancel_job_ends(world: World, order: Any, monkeypatch) -> Message:
    """A poll whose cancellation attempt ends while Shopify's cancel job still runs (left retrying,
    the job's id kept), then Shopify's job waited for: the cancellation message."""
    from shopify_app.admin_api import for_shop

    with monkeypatch.context() as patched:
        patched.setattr(cancel_side, "_wait", lambda *a, **k: False)
        world.poll()
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.RETRYING.value and message.response_payload["cancel_job"]
    client = for_shop(world.domain)
    for _ in range(100):
        if client.job(message.response_payload["cancel_job"]).done:
            break
        time.sleep(0.05)
    client.close()
    return message
