"""Orders in (flow `orders`, Shopify -> ERP): one Shopify order becomes one ERP PedidoVenda.

Source: orders/create, orders/paid and orders/updated webhooks (through the inbox), the
catch-up pass `run(shop_id)`, and `replay(message_id)`. Unit of work: one order,
unit_key "order:<numeric id>", searchable by order name, numeric id and NROPEDVENDA.

Exactly once, end to end: the inbox drops duplicate deliveries; a per-order Redis lock
serialises concurrent deliveries; an order whose OrderLink already holds a NROPEDVENDA is
done (no outside call); the ERP itself answers the first NROPEDVENDA again for a repeat of
(seqCanalVenda, idPedidoCanalVenda = the order gid). Out-of-order deliveries converge because
every delivery re-reads the order through GraphQL and acts on its current state, except one: an
order whose ERP answer was lost (its link has no NROPEDVENDA) is posted again as it was posted
(jobs.order_posted), whatever its state in Shopify now, so its number is learned.

Every failure is classified on the message: an unknown SKU, an unmapped payment gateway or a
missing setting parks the order (it resumes by itself: `run` re-drives parked orders whose
mapping now exists; the mappings page resumes payment gateways at once); an invalid CPF/CNPJ
is rejected naming the value and the rule (a B2B order's is its company location's CNPJ, read
apart: one missing is refused naming the location; Retry sends the order once it is filled in);
an order whose lines ship from the locations of several ERP companies fails as MULTI_COMPANY
naming each company and its lines (one PedidoVenda belongs to one company; the merchant moves
the fulfillment orders to one location and retries), holding each line's stock at its own
company meanwhile; the ERP or Shopify down is Transient (RQ retries with backoff, the message
shows `retrying`). An unpaid order waits visibly (message `pending`, "waiting for payment") until
orders/paid. An order whose orders message a person closed as handled outside the app
(`ledger.handled`: entered in the ERP by hand, say) is never imported again, whatever comes
(an orders/updated after the cause was fixed in Shopify, the reconciliation, a cancellation
learning its number): the ERP may hold it by hand, and a second ERP order would be picked and
invoiced twice. Linked to that ERP order (the Orders page), it is "already" in the ERP. Both facts
outlive shop/redact (`ledger.handled_before`: a domain, the order's id, when): after the store
installs the app again, the order's new message is closed as handled in the same way.

An orders/updated of an order already in the ERP may carry a new delivery address (staff changed
it: Shopify sends no orders/edited for that): jobs.order_edits.address sends it to the ERP order's
obsPedido, or flags it once the order is separated; the import records what its obsPedido named
(an orders/updated that runs the import is compared with that record after it).

An orders/updated of an order already in the ERP may say it will not be paid (a card authorisation
voided in Shopify admin, lapsed, all refunded): jobs.order_payment_lost notes the order link for a
person while its ERP order is open (free for an ordinary update: the link's state comes with the one
SELECT every delivery makes).

The message's response records which ERP the number is of (jobs.order_generation.KEY: the ERP
connection may move to another ERP later, whose same number is another order).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from redis.lock import Lock
from rq import get_current_job
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from erp.errors import ErpRejected, ErpTransient
from jobs import (
    card_payments,
    old_orders,
    order_clients,
    order_generation,
    order_map,
    order_posted,
    order_risk,
)
from jobs.inbox import HANDED, KEEP_OPEN, Ignored, not_installed
from jobs.locks import LockBusy, record_lock
from jobs.order_catch_up import run_catch_up
from jobs.order_edits import goodwill
from jobs.order_kinds import (
    not_for_erp,
    not_for_erp_words,
    placed_at,
    refuse_handled_in_shopify,
    refuse_ship_and_carry,
    terms_waiting,
    without_app,
)
from jobs.order_lookup import (
    Places,
    companies_shipping,
    company_for,
    ensure_link,
    find_link,
    line_companies,
    mark_unsent_cancelled,
    park_unmapped,
    payment_and_carrier_codes,
    refuse_several_companies,
    resolve_target,
    variants_for,
)
from jobs.order_slot import delivery_slot, slot_keys
from jobs.shop_served import served_only, skipped_dict
from ledger import handled, handled_before, install_periods, queues, shop_settings, trace
from ledger.db import read_scope, session_scope
from ledger.errors import IntegrationError, Rejected, Transient, as_transient
from ledger.flows import SHOPIFY_TO_ERP
from ledger.handled import unless_handled
from ledger.models import (
    ErpConnection,
    HandledOrder,
    InstallPeriod,
    Message,
    MessageStatus,
    OrderLink,
    Shop,
    UTCDateTime,
    utcnow,
)
from ledger.order_link_by_hand import DELIVERY
from ledger.words import stored
from shopify_app.admin_api.order_import_ops import (
    ErpOrderRead,
    read_order_company,
    read_order_for_erp,
    read_order_risk,
    read_payment_terms,
)
from shopify_app.admin_api.order_results import Order

log = logging.getLogger(__name__)

FLOW = "orders"
EDIT_JOB = "jobs.order_edits.to_erp.apply_edit"
EDIT_FLOW = "order_edits"
TOPICS = ("orders/create", "orders/paid", "orders/updated")
# A waiting order's error_detail key: when the app can no longer read it ("2026-03-01 12:00", UTC),
# set from WARN_BEFORE ahead (jobs.old_orders); the pages say it (skip_words, api_explain).
READABLE_UNTIL = "readable_until"
ORDER_LOCK_WAIT = 20.0  # a concurrent delivery of the same order waits this long, then retries
# The link's needs_attention, nfe_key, erp_status and cancelled_at, and whether the message of its
# payment lost is closed as handled, read with whether it is sent: all
# jobs.order_payment_lost.PaymentState needs (whether a payment lost is noted or was dealt with by a
# person, the ERP order done with).
LinkState = tuple[str | None, str | None, str | None, datetime | None, bool | None]


def unit_key(order_id: str | int) -> str:
    return f"order:{order_map.numeric_id(order_id)}"


@contextmanager
def order_lock(shop_id: int, order_id: str | int, *, kept: bool = False) -> Iterator[Lock]:
    """The per-order lock shared by import, edits and cancellations of one Shopify order.

    `kept`: the caller has recorded nothing of its work yet (no message), so its webhook delivery,
    the order busy through every retry, stays open for the orders catch-up (jobs.inbox.KEEP_OPEN;
    jobs.order_waits says who waits how).

    Raises:
        Transient: another worker holds it past the wait (RQ tries again later).
    """
    num = order_map.numeric_id(order_id)
    try:
        with record_lock(f"shop:{shop_id}:order:{num}", wait=ORDER_LOCK_WAIT) as held:
            yield held
    except LockBusy as exc:
        busy = Transient(
            f"order {num} is being handled by another worker", **({KEEP_OPEN: True} if kept else {})
        )
        raise busy.worded("order_busy", order=num) from exc


def still_held(lock: Lock | None) -> bool:
    """Whether the order's lock is still this job's, asked of Redis now (a Redis restart loses it
    at once; the heartbeat would notice only at its next beat). None: the caller's own lock."""
    if lock is None:
        return True
    try:
        return bool(lock.owned())
    except RedisError:
        return False


def ensure_held(lock: Lock | None, num: str) -> None:
    """Asked right before a job of the order writes to the ERP (the import, a line edit, a delivery
    address, a cancellation): its lock still its own (`still_held`), else `lock_lost`.

    Raises:
        Transient: the lock was lost (another job of the order may be writing it now).
    """
    if not still_held(lock):
        raise lock_lost(num)


def lock_lost(num: str, *, during: bool = False) -> Transient:
    """The failure of a job of the order whose lock (`still_held`) was lost before its ERP call:
    another job of the order may be writing it now, so this one sends nothing and is retried,
    reading the order again. `during`: lost while the call ran (jobs.order_edits.to_erp): a later
    job may have written newer lines before this one's landed, so it is retried all the same."""
    if during:
        lost = Transient(f"order {num}: the order's lock was lost (Redis restarted?) during the ERP call; "
                         "retried, reading the order again")  # fmt: skip
        return lost.worded("order_lock_lost_during", order=num)
    lost = Transient(f"order {num}: the order's lock was lost (Redis restarted?) before the ERP call; "
                     "retried, reading the order again")  # fmt: skip
    lost.worded("order_lock_lost", order=num)
    return lost


def current_job_id() -> str | None:
    job = get_current_job()
    return job.id if job is not None else None


# ---------------------------------------------------------------- entry points


def on_webhook(event: Any) -> str | Ignored:
    """orders/create | orders/paid | orders/updated: import the order (idempotent)."""
    payload = event.payload
    num, shop_id, sent, link = _delivery(event, "admin_graphql_api_id", "id")
    if shop_id is None:
        return not_installed(event.shop_domain)
    if sent:
        # The usual second delivery (orders/paid after orders/create sent it): settled without the
        # order lock or another transaction. Anything short of a closed trace takes the locked path.
        log.info(
            "orders: order %s already in the ERP (%s)",
            num,
            event.topic,
            extra={"shop_id": shop_id, "flow": FLOW, "order": num, "trigger": event.topic},
        )
        _edits_paid(shop_id, num, payload, link)
        if event.topic == "orders/updated":  # its delivery address may have changed (a staff edit)
            from jobs.order_edits import address

            _payment(shop_id, num, payload, link)
            return address.on_updated(shop_id, num, payload)
        return "already"
    try:
        result = import_order(shop_id, num, trigger=event.topic, name=payload.get("name"),
                              created_at=payload.get("created_at"))  # fmt: skip
    except Transient as exc:
        with contextlib.suppress(SQLAlchemyError):  # (the database down: failed, requeued by a person)
            opened = open_message(shop_id, num)
            if opened is not None:  # its own message, retrying, is what the catch-up runs and pages show
                exc.detail.setdefault(HANDED, opened)
        raise
    if result == "already":  # in the ERP (its message left open, closed now): see `sent` above
        _edits_paid(shop_id, num, payload, None)
    if event.topic == "orders/updated" and result in ("already", "done"):
        # In the ERP now (both answers mean its link holds the number), but the import may have
        # posted the delivery of before: the change came while it ran (it waited on the lock), or
        # the ERP's lost answer was learned by posting the kept input again (the ERP answers the
        # order it holds). Compared once the lock is let go; free when the import read this address.
        # So may its payment have been voided meanwhile (a void right after the checkout).
        from jobs import order_payment_lost
        from jobs.order_edits import address

        if order_payment_lost.unpaid(payload):
            with read_scope() as session:
                _, _, link = _shop_and_sent(session, event.shop_domain, num)
            _payment(shop_id, num, payload, link)
        sent = address.on_updated(shop_id, num, payload)
        return result if sent == "already" else sent
    return result


def open_message(shop_id: int, num: str) -> int | None:
    """The id of the order's import message left open (pending or retrying), else None."""
    with read_scope() as session:
        return session.scalar(
            select(Message.id).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.unit_key == unit_key(num),
                Message.status.in_((MessageStatus.PENDING.value, MessageStatus.RETRYING.value)),
            )
        )


def on_risk_changed(event: Any) -> str | Ignored:
    """orders/risk_assessment_changed: Shopify's or a fraud app's new assessment of an order (its
    body carries the level, not the order's recommendation). One in the ERP already is noted for a
    person when the verdict now holds it (jobs.order_risk_late). An order held for its risk is imported
    again, and the import decides on the recommendation it reads (jobs.order_risk); so is one not
    seen yet (this delivery came first) or being imported (the import's lock makes this one wait
    for it, then read the order afresh). Shopify sends one for every order as its own analysis ends,
    so any other order is left to what it waits for: one waiting for its payment, parked, failed or
    retrying (its own trigger reads the risk when it runs)."""
    payload = event.payload
    num, shop_id, sent, link = _delivery(event, "admin_graphql_api_order_id", "order_id")
    if shop_id is None:
        return not_installed(event.shop_domain)
    if sent:
        from jobs import order_risk_late

        # a verdict after the order went: noted for a person while its ERP order is open
        if order_risk_late.wanted(payload.get("risk_level"), link[0] if link else None):
            return order_risk_late.look(shop_id, num)
        return "already"
    with read_scope() as session:
        row = session.execute(
            select(Message.status, Message.error_detail).where(
                Message.shop_id == shop_id, Message.flow == FLOW, Message.unit_key == unit_key(num)
            )
        ).first()
    waits_for = (row.error_detail or {}).get("waiting") if row is not None else None
    risk_may_hold = row is None or (
        row.status == MessageStatus.PENDING.value and waits_for in (None, order_risk.WAITING)
    )
    if not risk_may_hold:
        log.info("orders: order %s %s, its new risk assessment (%s) left to it", num, waits_for or row.status,
                 payload.get("risk_level"), extra={"shop_id": shop_id, "flow": FLOW, "order": num,
                                                   "trigger": event.topic})  # fmt: skip
        return "left"
    return import_order(shop_id, num, trigger=event.topic)


def _delivery(event: Any, *keys: str) -> tuple[str, int | None, bool, LinkState | None]:
    """An order delivery's order number (the first of `keys` its body holds), the shop's id (None:
    not installed, logged), whether the order is sent and its link's state (`_shop_and_sent`)."""
    order_id = next((event.payload[key] for key in keys if event.payload.get(key)), None)
    if not order_id:
        raise ValueError(f"{event.topic} payload has no order id")
    num = order_map.numeric_id(str(order_id))
    with read_scope() as session:
        shop_id, sent, link = _shop_and_sent(session, event.shop_domain, num)
    if shop_id is None:
        log.warning("orders: %s for unknown shop %s ignored", event.topic, event.shop_domain)
    return num, shop_id, sent, link


def _edits_paid(shop_id: int, num: str, payload: dict[str, Any], link: LinkState | None) -> None:
    """orders/paid | orders/updated of an order in the ERP: an edit held while the total it raised
    was unpaid (jobs.order_edits.held) is replayed once the body says the order may be paid. Such an
    edit always notes the link ("order_edits: ..."): with the link read (`link`, `_shop_and_sent`) and
    no such note, nothing waits and nothing more is read (the usual paid delivery costs no statement)."""
    from jobs.order_edits import held

    if link is not None and "order_edits" not in (link[0] or ""):
        return
    held.on_paid(shop_id, order_map.order_gid(num), payload)


def _payment(shop_id: int, num: str, payload: dict[str, Any], link: LinkState | None) -> str:
    """An orders/updated of an order in the ERP that may say it will not be paid (a card
    authorisation voided in Shopify admin, lapsed, all refunded): noted for a person while the ERP
    order is open (jobs.order_payment_lost; `link`: its state as `_shop_and_sent` read it). Free for
    an ordinary update."""
    from jobs import order_payment_lost

    state = None if link is None else order_payment_lost.PaymentState.read(*link)
    return order_payment_lost.on_updated(shop_id, num, payload, state)


def _shop_and_sent(session: Session, domain: str, num: str) -> tuple[int | None, bool, LinkState | None]:
    """The shop's id (None: not installed), whether the order is sent (its link holds its
    NROPEDVENDA and its message is closed), and what its link says of a payment lost once in the
    ERP (`LinkState`; None: no link). One SELECT.

    A NROPEDVENDA once stored is never taken back, so no lock is needed to trust it; a message
    left open by a crash after the ERP answered is closed by `_import_locked` under the lock.
    """
    closed = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)
    payment = aliased(Message)  # the message of a payment lost (jobs.order_payment_lost), closed by a person?
    payment_handled = (payment.status == MessageStatus.SKIPPED.value) & payment.error_detail[
        trace.HANDLED
    ].as_string().is_not(None)
    row = session.execute(
        select(
            Shop.id,
            OrderLink.id.label("link_id"),
            OrderLink.nro_pedvenda,
            Message.status,
            OrderLink.needs_attention,
            OrderLink.nfe_key,
            OrderLink.erp_status,
            OrderLink.cancelled_at,
            payment_handled.label("payment_handled"),
        )
        .select_from(Shop)
        .outerjoin(
            OrderLink,
            (OrderLink.shop_id == Shop.id) & (OrderLink.shopify_order_id == order_map.order_gid(num)),
        )
        .outerjoin(
            Message,
            (Message.shop_id == Shop.id) & (Message.flow == FLOW) & (Message.unit_key == unit_key(num)),
        )
        .outerjoin(
            payment,
            (payment.shop_id == Shop.id) & (payment.flow == FLOW) & (payment.unit_key == f"payment:{num}"),
        )
        .where(Shop.domain == domain)
    ).first()
    if row is None:
        return None, False, None
    link = (
        (row.needs_attention, row.nfe_key, row.erp_status, row.cancelled_at, row.payment_handled)
        if row.link_id
        else None
    )
    return row.id, row.nro_pedvenda is not None and row.status in (*closed, None), link


@unless_handled
def replay(message_id: int) -> str:
    """Redo one order from the trace (retry, replay, resume after a mapping), re-reading Shopify; the
    message of a payment lost once in the ERP ("payment:<id>") looks at its payment again."""
    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, key = message.shop_id, message.unit_key
    if key.startswith(card_payments.PREFIX):
        return card_payments.replay(message_id)
    if key.startswith("risk:"):
        from jobs import order_risk_late

        return order_risk_late.replay(message_id)
    if not key.startswith("order:"):
        from jobs import order_payment_lost

        return order_payment_lost.replay(message_id)
    return import_order(shop_id, key.split(":", 1)[1], trigger="replay")


@served_only(FLOW, skipped_dict)
def run(shop_id: int, stale_after_seconds: float | None = None) -> dict[str, int]:
    """The catch-up pass ("run now" / schedule): resume what lost its job or got its mapping."""
    return run_catch_up(shop_id, stale_after_seconds)


def import_order(
    shop_id: int,
    order_id: str | int,
    *,
    trigger: str = "replay",
    name: str | None = None,
    created_at: str | None = None,
) -> str:
    """Send one Shopify order to the ERP once; returns done | already | waiting | skipped | parked |
    failed | handled (closed by a person as handled outside the app: nothing sent). `name`: the
    order's name (#1001) when the caller knows it (a webhook's payload), for a failure that names it;
    `created_at`: when Shopify created it (a webhook's payload), telling an order Shopify no longer
    lets the app read (older than 60 days) from one deleted when it reads null.

    Raises:
        Transient: Shopify or the ERP unreachable / throttled, or the order locked (RQ retries).
    """
    num = order_map.numeric_id(order_id)
    try:
        with order_lock(shop_id, num, kept=True) as held:  # no message yet: its delivery stays open
            return _import_locked(shop_id, num, trigger, held, name=name, created_at=created_at)
    except RedisError as exc:  # the lock or the Admin client's pacer: Redis is restarting
        raise redis_down(exc) from exc


def redis_down(exc: RedisError) -> Transient:
    """Redis unreachable mid-job is worth a retry, never a failed order."""
    transient = outage_of(exc)
    assert transient is not None
    return transient


def outage_of(exc: BaseException) -> Transient | None:
    """Redis or the database failing mid-job (ledger.errors.outage) as the Transient it is: the
    order waits for it (RQ's Retry, then the orders catch-up), never a failed order."""
    return as_transient(exc, "the order waits for it")


def run_classified(session: Session, message: Message, work: Callable[[], str]) -> str:
    """Run one unit's outside calls and classify a failure on its message (ledger.trace.fail).

    Transient failures (Redis or the database down included: `outage_of`) are recorded and
    re-raised for RQ's Retry; a rejection or a missing mapping ends the unit with its status; a
    bug is recorded and re-raised loudly (`record_bug`: always, even when the database refused one
    of the work's statements). The message row must already be committed.
    """
    try:
        return work()
    except Transient as exc:
        trace.fail(session, message, exc)
        session.commit()
        raise
    except IntegrationError as exc:
        return trace.fail(session, message, exc).value
    except Exception as exc:
        transient = outage_of(exc)
        if transient is None:
            record_bug(session, message, exc)
            raise
        if not isinstance(exc, RedisError):  # the database's: its transaction is broken, undone
            session.rollback()
        trace.fail(session, message, transient)
        session.commit()
        raise transient from exc


def record_bug(session: Session, message: Message, exc: Exception) -> None:
    """Record a bug on the message (failed, its traceback kept) and commit it, whatever state the
    work left the transaction in. A statement the database refused (an IntegrityError, a
    CardinalityViolation: not an outage) breaks the transaction: PostgreSQL takes nothing more
    until it is rolled back (InFailedSqlTransaction), so recording on it would fail too and leave
    the unit pending, its failure told to nobody: it is rolled back first (the work's writes go
    with it; the message row was committed before the work ran). Any other bug whose recording the
    database refuses (the work caught such a refusal and raised another error, or left a row that
    cannot be flushed) is recorded again the same way, on a clean transaction."""
    if isinstance(exc, SQLAlchemyError):
        session.rollback()
    try:
        trace.fail(session, message, exc)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        trace.fail(session, message, exc)
        session.commit()


def import_locked(shop_id: int, num: str, trigger: str) -> str:
    """import_order for a caller that already holds the order's lock (a cancellation learning
    the ERP number of an order whose answer was lost: it cancels the order itself after)."""
    return _import_locked(shop_id, num, trigger, None, follow_cancellation=False)


def _import_locked(
    shop_id: int,
    num: str,
    trigger: str,
    held: Lock | None,
    *,
    follow_cancellation: bool = True,
    name: str | None = None,
    created_at: str | None = None,
) -> str:
    gid = order_map.order_gid(num)
    extra = {"shop_id": shop_id, "flow": FLOW, "order": num, "trigger": trigger}
    with session_scope() as session:
        known = _known(session, shop_id, gid, num)
        if known.nro_pedvenda is not None:
            link = find_link(session, shop_id, gid)
            assert link is not None
            _close_if_open(session, shop_id, num, link)
            log.info(
                "orders: order %s already ERP order %s (%s)", num, link.nro_pedvenda, trigger, extra=extra
            )
            return "already"
        closed = handled.info_of(known.status, known.error_detail)
        if closed is not None:
            log.info("orders: order %s was handled outside the app (%s); not imported (%s)", num,
                     closed.get("note"), trigger, extra=extra)  # fmt: skip
            return "handled"
        try:  # a person's hand link (ledger.order_link_by_hand) may have closed it since `_known`
            message = trace.begin(
                session,
                shop_id,
                FLOW,
                unit_key(num),
                SHOPIFY_TO_ERP,
                shopify_id=gid,
                search=[num],
                job_id=current_job_id(),
                keep_handled=True,
            )
        except trace.ClosedMeanwhile:
            log.info("orders: order %s was closed as handled (linked by hand) as its import began; not "
                     "imported (%s)", num, trigger, extra=extra)  # fmt: skip
            return "handled"
        if known.handled_before is not None:  # closed by hand in an installation whose data was erased
            message.search_text = trace.search_text(message.search_text.split(), [name])
            handled_before.close(session, message, known.handled_before)
            log.info("orders: order %s was handled outside the app in an earlier installation; not imported "
                     "(%s)", num, trigger, extra=extra)  # fmt: skip
            return "handled"
        message_id = message.id
        domain, settings, installed_since = (
            known.domain,
            shop_settings.effective_of(known.settings),
            known.installed_since,
        )
        generation = known.generation or 0  # the ERP the number will be of (order_generation.current)
        named = name or known.shopify_order_name or known.order_name or num  # as the merchant knows it
        # When Shopify made the order (a webhook's payload) and when the app first saw it (its message,
        # if it was there before this attempt): a null read of an order older than Shopify lets the app
        # read is no order gone (jobs.old_orders).
        seen = (known.message_created_at, created_at)
        scopes = known.scopes
    earlier: bool | None = None  # once the POST is under way: whether an earlier one may be in the ERP
    try:
        client = order_clients.admin_client(domain)
        read = read_order_for_erp(client, gid, where_lines_ship=True)
        if read is None:
            if old_orders.past_window(scopes, *seen):
                raise old_orders.import_refusal(named)
            raise Rejected(f"Shopify has no order {named}", system="shopify", code="NOT_FOUND",
                           words=("shopify_order_not_found", {"order": named}))  # fmt: skip
        if _will_wait(read, settings):
            read = dataclasses.replace(read, payment_terms=read_payment_terms(client, gid))
        elif not read.order.cancelled_at and order_risk.needs_detail(read, settings[order_risk.SETTING]):
            read = dataclasses.replace(read, risk=read_order_risk(client, gid))
        if read.order.bought_by_company:  # B2B: the ERP customer is the company (jobs.order_customer)
            company = read_order_company(client, gid)
            read = dataclasses.replace(read, order=dataclasses.replace(read.order, company=company))
        prepared = _prepare(shop_id, message_id, read, settings, (domain, installed_since), scopes)
        if isinstance(prepared, str):
            return prepared
        erp = order_clients.erp_client(shop_id)
        ensure_held(held, num)  # a cancellation or an edit may have run meanwhile: read it all again
        earlier = _mark_posting(message_id)
        result = erp.insert_order(prepared.order_input)
    except IntegrationError as exc:
        status = _record_failure(message_id, exc, earlier)
        if isinstance(exc, Transient):
            raise
        return status
    except Exception as exc:
        transient = outage_of(exc)  # Redis or the database failing mid-import
        if transient is None:
            _record_failure(message_id, exc, earlier)
            raise
        _record_failure(message_id, transient, earlier)
        raise transient from exc
    with session_scope() as session:
        linked = session.execute(
            update(OrderLink)
            .where(OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == gid)
            .values(
                nro_pedvenda=result.nro_pedvenda,
                erp_status=result.situacao,
                total=prepared.erp_total,
                updated_at=utcnow(),
                # paid at checkout (Pix, boleto): the Orders page's "Paid" (jobs.invoices keeps it after)
                **({"captured_amount": read.order.paid} if read.order.paid > 0 else {}),
            )
            .execution_options(synchronize_session=False)
        )
        assert linked.rowcount == 1, f"order {num} lost its link"  # _prepare wrote it
        # The lines the ERP holds are rechecked against Shopify's when they may differ: the ERP had
        # the order already, the kept input was posted again, or the lock was lost during the POST
        # (an edit that ran meanwhile saw no ERP number and skipped).
        recheck = result.duplicated or isinstance(prepared, order_posted.Replayed) or not still_held(held)
        if recheck:
            _leave_recheck(session, shop_id, gid, num)
        # money given back before the import with nothing taken back: the ERP order counts it paid
        if (given := goodwill.given_before_import(read.order)) > 0:
            link_row = find_link(session, shop_id, gid)
            assert link_row is not None
            goodwill.before_import(session, shop_id, link_row, read.order, read.order.name, given)
        cancellation = _open_cancellation(session, shop_id, num) if follow_cancellation else None
        # each card payment's data, for the ERP's card receivables: its own message, sent after
        card_message = card_payments.leave(
            session, shop_id, read.order, result.nro_pedvenda, prepared.order_input, settings
        )
        message = session.get(Message, message_id)
        assert message is not None
        response = {
            "nro_pedvenda": result.nro_pedvenda,
            "duplicated": result.duplicated,
            "situacao": result.situacao,
            "erp_total": str(result.total) if result.total is not None else None,
            order_generation.KEY: generation,
        }
        trace.succeed(
            session, message, response=response, erp_id=str(result.nro_pedvenda), search=[result.nro_pedvenda]
        )
    log.info(
        "orders: %s -> ERP order %s%s",
        read.order.name,
        result.nro_pedvenda,
        " (ERP already had it)" if result.duplicated else "",
        extra=extra,
    )
    if recheck:
        _recheck_lines(shop_id, gid, num)
    if card_message is not None:
        card_payments.enqueue(shop_id, num, card_message)
    if cancellation is not None:
        _follow_cancellation(shop_id, num, cancellation)
    return "done"


def _open_cancellation(session: Session, shop_id: int, num: str) -> int | None:
    """The cancellation of this order that did not reach the ERP (closed as never sent while the
    import's lock was lost, or failed not knowing the ERP number), now that the number is known:
    left pending in this transaction (the orders catch-up runs it if the enqueue below fails). One
    a person closed as handled stays so (ledger.handled): they settled it in the ERP themselves
    (cancelled it there, or kept it on purpose)."""
    from jobs.cancellations import to_erp as cancellations

    message = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == cancellations.FLOW,
            Message.unit_key == cancellations.unit_key(num),
            Message.status != MessageStatus.DONE.value,
            ~trace.closed_as_handled(),
        )
    ).first()
    if message is None:
        return None
    message.status = MessageStatus.PENDING.value
    message.error_text = "the order reached the ERP after its cancellation: it is cancelled there next"
    message.updated_at = utcnow()
    return message.id


def _follow_cancellation(shop_id: int, num: str, message_id: int) -> None:
    """The order is cancelled in Shopify and its ERP order was just learned or taken: the
    cancellation runs again (after this job lets go of the lock), so the ERP order is cancelled
    instead of being picked and invoiced."""
    log.warning("orders: order %s reached the ERP after its cancellation; cancelling it there", num)
    try:
        job_id = queues.job_key("cancel-after-import", shop_id, num)
        queues.enqueue("jobs.cancellations.replay", message_id, queue=queues.ORDERS, job_id=job_id,
                       replace_ended=True)  # fmt: skip
    except RedisError as exc:  # the cancellation message stays open: the orders catch-up replays it
        log.warning("orders: order %s: the cancellation was not enqueued (%s)", num, type(exc).__name__)


def _recheck_job_id(shop_id: int, num: str) -> str:
    return queues.job_key("import-recheck", shop_id, num)


def _leave_recheck(session: Session, shop_id: int, gid: str, num: str) -> None:
    """The recheck's order_edits message, pending, in the transaction that records the ERP number:
    it outlives a lost enqueue (the orders catch-up replays a pending message with no job)."""
    trace.begin(session, shop_id, EDIT_FLOW, f"edit:import-{num}", SHOPIFY_TO_ERP, shopify_id=gid,
                search=[num], job_id=_recheck_job_id(shop_id, num))  # fmt: skip


def _recheck_lines(shop_id: int, gid: str, num: str) -> None:
    """The ERP holds the order with the lines of an earlier POST (its answer was lost, or its
    kept input was posted again): an edit made in Shopify meanwhile was skipped as "not in the
    ERP yet", so the Shopify -> ERP edit runs once now, after this job lets go of the order's
    lock; it changes nothing when the lines match, and skips an order cancelled since. Redis
    failing here only delays it: its message is pending already (`_leave_recheck`)."""
    try:
        queues.enqueue(EDIT_JOB, shop_id, gid, f"import-{num}", queue=queues.ORDERS,
                       job_id=_recheck_job_id(shop_id, num))  # fmt: skip
    except RedisError as exc:
        log.warning("orders: order %s: the lines' recheck was not enqueued (%s); the catch-up runs it",
                    num, type(exc).__name__)  # fmt: skip


def _mark_posting(message_id: int) -> bool:
    """Mark the order as maybe taken by the ERP, committed before the POST (a POST cut off leaves the
    mark: jobs.order_posted); returns whether an earlier POST may have been taken."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        earlier = order_posted.maybe_taken(message.request_payload)
        message.request_payload = order_posted.posting(message.request_payload or {})
    return earlier


def _record_failure(message_id: int, exc: BaseException, earlier: bool | None = None) -> str:
    """Classify the failure on the message. The ERP refusing the POST (`earlier` is not None once
    it is under way), or the POST never reaching it (the connection never made, the login before it
    failing: ErpTransient.maybe_taken False), holds nothing from it: the order is maybe taken as the
    earlier POSTs left it, and with none of them maybe taken the kept input is dropped, so the next
    attempt maps the order as it is then (an order cancelled or edited in Shopify while the ERP was
    unreachable is not created there as it was). Any other failure of the POST leaves it maybe taken,
    and so does a refusal of an attempt the transport sent again after one that may have been taken
    (ErpRejected.maybe_taken)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        taken = exc.maybe_taken if isinstance(exc, (ErpRejected, ErpTransient)) else True
        if earlier is not None and (isinstance(exc, ErpRejected) or not taken):
            message.request_payload = order_posted.refused(message.request_payload, earlier or taken)
        return trace.fail(session, message, exc).value


def _known(session: Session, shop_id: int, gid: str, num: str) -> Any:
    """What the import reads before it begins, in one SELECT: the shop (domain, settings, scopes, and
    when its current installation began: ledger.install_periods, else its row's created_at), the
    generation of its ERP connection (None without one), the order link's NROPEDVENDA and name (#1001),
    the order message's status, error_detail, creation and the order's name it recorded (None
    when there is no link / message yet), and when a person closed the order by hand in an earlier
    installation whose data shop/redact erased (ledger.handled_before; None: never so)."""
    periods = select(func.max(InstallPeriod.installed_at)).where(InstallPeriod.domain == Shop.domain)
    current = periods.scalar_subquery()
    row = session.execute(
        select(
            Shop.domain,
            Shop.settings,
            func.coalesce(current, Shop.created_at, type_=UTCDateTime()).label("installed_since"),
            Shop.scopes,
            ErpConnection.generation,
            OrderLink.nro_pedvenda,
            OrderLink.shopify_order_name,
            Message.status,
            Message.error_detail,
            Message.created_at.label("message_created_at"),
            Message.request_payload["order_name"].as_string().label("order_name"),
            HandledOrder.handled_at.label("handled_before"),
        )
        .select_from(Shop)
        .outerjoin(ErpConnection, ErpConnection.shop_id == Shop.id)
        .outerjoin(OrderLink, (OrderLink.shop_id == Shop.id) & (OrderLink.shopify_order_id == gid))
        .outerjoin(HandledOrder, (HandledOrder.domain == Shop.domain) & (HandledOrder.order_id == num))
        .outerjoin(
            Message,
            (Message.shop_id == Shop.id) & (Message.flow == FLOW) & (Message.unit_key == unit_key(num)),
        )
        .where(Shop.id == shop_id)
    ).one()
    return row


def _close_if_open(session: Session, shop_id: int, num: str, link: OrderLink) -> None:
    """A message left open by a crash after the ERP answered: the link proves it is done."""
    message = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id, Message.flow == FLOW, Message.unit_key == unit_key(num)
        )
    ).one_or_none()
    if message is not None and message.status not in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value):
        trace.succeed(session, message, erp_id=str(link.nro_pedvenda), search=[link.nro_pedvenda])


# ---------------------------------------------------------------- preparing the ERP order


def _prepare(
    shop_id: int,
    message_id: int,
    read: ErpOrderRead,
    settings: dict[str, Any],
    installed: tuple[str, datetime] | None = None,
    scopes: str | None = None,
) -> order_map.MappedOrder | order_posted.Replayed | str:
    """Map the order and write its link, or record why it cannot go yet (returned as a status;
    one waiting for its payment, parked or refused here is linked too, one skipped is not).
    `installed`: the shop's domain and when its current installation began (an order older than
    that reads the store's every installation: ledger.install_periods.for_time).
    `scopes`: the shop's grant (one waiting for its payment says when the app can no longer read it).

    No autoflush: the message's request is rewritten as the mapping learns more, and is written
    once, at the commit, instead of before each lookup."""
    order = read.order
    with session_scope() as session, session.no_autoflush:
        message = session.get(Message, message_id)
        assert message is not None
        message.search_text = trace.search_text(message.search_text.split(), [order.name])
        accepted = order_risk.accepted_of(message.request_payload)  # a person's, kept across reads
        slots = slot_keys(settings.get("delivery_slot_attributes"))  # the slot the link shows
        link = find_link(session, shop_id, order.id)
        linked = link is not None
        maybe_in_erp = linked and order_posted.maybe_taken(message.request_payload)
        posted = order_posted.stored(message.request_payload) if maybe_in_erp else None
        if posted is not None:
            # An earlier POST may be in the ERP (its answer lost, or the POST cut off; the link has
            # no NROPEDVENDA): the ERP may hold it, whatever Shopify shows now (cancelled, refunded,
            # voided, its lines zeroed or edited). The same input is posted again (idempotent on
            # idPedidoCanalVenda: the ERP answers the order it holds) so its number is learned
            # (jobs.order_posted says why the kept input and not a new mapping).
            try:
                return order_posted.replayed(posted, order, slots)
            except IntegrationError as exc:
                return trace.fail(session, message, exc).value
        places = Places(session, shop_id)  # location mappings and store link, read once
        shipping = companies_shipping(session, shop_id, read, places)
        request: dict[str, Any] = {
            "order_name": order.name,
            "financial_status": order.financial_status,
            # Known before the settings are checked: an order parked for one still holds its stock,
            # each line at its own company when the order ships from several (refused below).
            "nro_empresa": company_for(session, shop_id, read.location_ids, places),
            "lines": order_map.stock_lines(order, line_companies(shipping) if len(shipping) > 1 else None),
            # When its sale lowered Shopify's levels (jobs.stock_pending.sold_since), not when its
            # message appeared: a webhook late by minutes is still a sale of then.
            "sold_at": order.created_at,
            **({order_risk.ACCEPTED: accepted} if accepted else {}),
        }
        message.request_payload = request
        # Cancelled in Shopify: skipped. Mapped here, no earlier POST may be in the ERP (the one
        # that may is posted again above), so there is nothing for the cancellation to cancel.
        if order.cancelled_at:
            trace.skip(session, message, "cancelled in Shopify before it reached the ERP",
                       words=("cancelled_before_erp", {}))  # fmt: skip
            mark_unsent_cancelled(link, order.financial_status)
            return MessageStatus.SKIPPED.value
        installs = install_periods.for_time(session, *installed, placed_at(read)) if installed else None
        not_ours = not_for_erp(read, installs)
        if not_ours is not None:
            message.error_detail = {"not_for_erp": True}  # for good: reconciliation counts it held
            if without_app(read, installs):  # its sale is older than its message: explains
                message.error_detail.update(before_install=True)  # no drop now (jobs.stock_pending)
            trace.skip(session, message, not_ours, words=not_for_erp_words(read, installs))
            return MessageStatus.SKIPPED.value
        try:
            refuse_ship_and_carry(read)  # a POS sale handed over in part: a person sends the rest
            refuse_handled_in_shopify(read)  # goods fulfilled in Shopify first: a second sale
            target = resolve_target(session, shop_id, settings, read.location_ids, places)
            park_unmapped(shipping)  # a line from a location no company is mapped to waits for it
            request = {**request, "nro_empresa": target.nro_empresa}
            message.request_payload = request
            if not order_map.is_ready(order, settings["payment_confirmation"], target.pay_on_delivery):
                if (order.financial_status or "").upper() in order_map.WILL_NOT_BE_PAID:
                    # Re-read on every catch-up for ever, and holding its stock, otherwise.
                    why = (f"Shopify says {order.financial_status}: this order will not be paid as it "
                           "stands; a payment later (orders/paid) brings it back")  # fmt: skip
                    words = ("order_will_not_be_paid", {"status": order.financial_status})
                    trace.skip(session, message, why, words=words)
                    return MessageStatus.SKIPPED.value
                _mark_waiting(message, order.financial_status, settings["payment_confirmation"], order, read,
                              target.pay_on_delivery, scopes=scopes)  # fmt: skip
                # Linked too (no NROPEDVENDA): the Orders page lists it as not in the ERP, and a person
                # who enters it in the ERP by hand (its words say so) links it there; then the import
                # finds the number and never posts it (jobs.orders._import_locked: "already").
                _link_unsent(session, shop_id, read, request["nro_empresa"], slots)
                return "waiting"
            app_wait = int(settings.get("risk_app_wait_minutes") or 0)
            held = order_risk.hold(read, settings[order_risk.SETTING], accepted, app_wait)
            if held is not None:  # a fraud review first (jobs.order_risk): waits as one unpaid does
                # its words: the Orders page's note (shopify_app.api_orders lists it as needing a person)
                message.error_text = order_risk.why(held)
                message.error_detail = {**held, trace.FAIL: stored(order_risk.words(held))}
                message.updated_at = utcnow()
                _link_unsent(session, shop_id, read, request["nro_empresa"], slots)
                if awaited := order_risk.awaiting_app(held):
                    _read_again_at(message, datetime.fromisoformat(awaited["until"]))
                return "waiting"
            # One ERP order, one company. An order mapped here is not in the ERP (one that may be
            # is posted again as it was, above), so the rule holds whether a link exists or not.
            refuse_several_companies(order, shipping)
            variants = variants_for(session, shop_id, order.lines)
            gateways = order_map.payment_names(order, target.pay_on_delivery)
            codes, carriers = payment_and_carrier_codes(session, shop_id, gateways)  # one SELECT
            mapped = order_map.map_order(read, target, variants, codes, carriers)
        except IntegrationError as exc:
            # Parked or refused before it could be mapped: linked all the same (no NROPEDVENDA), so
            # the Orders page finds it by name and lists it as not in the ERP and, from this
            # message, as needing attention (shopify_app.api_orders).
            _link_unsent(session, shop_id, read, request["nro_empresa"], slots)
            return trace.fail(session, message, exc).value
        message.request_payload = {
            **request,
            "lines": [
                {
                    "sku": m.id_sku,
                    "quantity": m.shopify_quantity,
                    "erp_qty": str(m.line.qty),
                    "net": str(m.net),
                }
                for m in mapped.lines
            ],
            "goods_total": str(mapped.goods_total),
            "freight": str(mapped.freight),
            "erp_total": str(mapped.erp_total),
            "shopify_total": str(mapped.shopify_total) if mapped.shopify_total is not None else None,
            "payments": order_map.payment_records(mapped.payments),
            order_posted.KEY: order_posted.kept(mapped),  # posted again if the ERP's answer is lost
            DELIVERY: delivery_record(order, target.slot_keys),  # what obsPedido names (order_edits.address)
            order_posted.TAKEN: False,  # not posted yet
        }
        ensure_link(
            session,
            shop_id,
            order.id,
            order.name,
            target.nro_empresa,
            mapped.shopify_total,
            order.financial_status,
            order.currency,
            delivery_slot(order.custom_attributes, target.slot_keys),
        )
    return mapped


def _read_again_at(message: Message, when: datetime) -> None:
    """The order read again once its wait for a fraud app ends (setting risk_app_wait_minutes): its
    replay scheduled then (RQ's scheduler, one job id per message and time: scheduled again, it is
    the same job). Not scheduled (Redis down), the orders catch-up reads it again later."""
    key = queues.job_key("risk-wait", message.shop_id, message.id, int(when.timestamp()))
    try:
        queues.enqueue_at(when + timedelta(seconds=1), "jobs.orders.replay", message.id, queue=queues.ORDERS,
                          job_id=key, description=f"orders: message {message.id} read again after its "
                          "fraud app wait")  # fmt: skip
    except RedisError as exc:
        log.warning("orders: could not schedule message %s after its fraud app wait (%s): the catch-up reads "
                    "it again", message.id, type(exc).__name__)  # fmt: skip


def _link_unsent(
    session: Session, shop_id: int, read: ErpOrderRead, nro_empresa: int | None, keys: Sequence[str] = ()
) -> None:
    """The link of an order not sent (waiting for its payment, parked or refused before it was
    mapped): no NROPEDVENDA, its company, total, financial status, currency and delivery slot (`keys`:
    the setting delivery_slot_attributes, jobs.order_slot), for the Orders page."""
    order = read.order
    total = read.current_total.amount if read.current_total else None
    ensure_link(session, shop_id, order.id, order.name, nro_empresa, total, order.financial_status,
                order.currency, delivery_slot(order.custom_attributes, keys))  # fmt: skip


def delivery_record(order: Order, keys: tuple[str, ...] = ()) -> dict[str, str]:
    from jobs.order_edits import address

    return address.record_of(order, keys)


def _will_wait(read: ErpOrderRead, settings: dict[str, Any]) -> bool:
    """Whether the order will wait for payment (_prepare): its payment terms are read for its
    waiting message then only (an extra call, and a scope some shops have not granted)."""
    order = read.order
    status = (order.financial_status or "").upper()
    if order.cancelled_at or status in order_map.WILL_NOT_BE_PAID:
        return False
    on_delivery = order_map.gateway_keys(settings.get("pay_on_delivery_gateways"))
    return not order_map.is_ready(order, settings["payment_confirmation"], on_delivery)


def _mark_waiting(
    message: Message,
    financial_status: str | None,
    confirmation: str,
    order: Order | None = None,
    read: ErpOrderRead | None = None,
    on_delivery: frozenset[str] = frozenset(),
    *,
    scopes: str | None = None,
) -> None:
    """Waiting for payment, saying what Shopify says; when that status would do but the `order`'s
    payments do not cover it (a gift card took part, the Pix for the rest failed), how much is
    missing, as the status alone does not say so; when the order has payment terms (`read`), that
    no payment was taken at checkout and what to do (api_explain tells the merchant what to do); when
    its payment is a manual method, that the setting pay_on_delivery_gateways sends it if collected
    at delivery (order_map.delivery_waiting). Given the shop's grant (`scopes`), an order nearing the
    end of the 60 days Shopify lets the app read it (jobs.old_orders.ends_soon) says when they end:
    unpaid by then, it cannot go to the ERP by itself (its read answers null)."""
    message.error_text = (
        f"Waiting for payment: Shopify says {financial_status or 'unknown'}; orders go to the ERP "
        f"once {'paid' if confirmation == 'paid' else 'authorized or paid'} (setting payment_confirmation)"
    )
    message.error_detail = {"waiting": "payment", "financial_status": financial_status}
    short = order_map.unpaid_balance(order) if order is not None else order_map.ZERO
    ready = order_map.READY_STATUSES.get(confirmation, order_map.READY_STATUSES["paid"])
    if short and order and order.current_total and (financial_status or "").upper() in ready:
        total = order.current_total.amount
        message.error_text += (
            f", but its payments cover only {total - short} of its current total {total}: {short} is "
            "not paid (a payment failed or is still pending); it goes once the rest is paid"
        )
        message.error_detail.update(unpaid=str(short), total=str(total))
    elif order is not None and (hint := order_map.delivery_waiting(order, on_delivery)):
        message.error_text += hint
        cod = order_map.delivery_gateway(order, on_delivery)
        message.error_detail.update(
            {"pay_on_delivery": cod} if cod else {"manual_payment": order_map.manual_pending(order)}
        )
    elif read is not None and read.payment_terms is not None:
        terms = read.payment_terms
        message.error_text += terms_waiting(terms)
        message.error_detail.update(payment_terms=terms.type, due_in_days=terms.due_in_days)
    until = None if order is None or scopes is None else old_orders.readable_until(scopes, order.created_at)
    if old_orders.ends_soon(until):
        assert until is not None
        shown = f"{until:%Y-%m-%d %H:%M}"
        message.error_text += (
            f"; the app can no longer read this order after {shown} UTC (Shopify lets an app without "
            "read_all_orders read the last 60 days of orders): unless it is paid by then it cannot go to "
            "the ERP by itself; before then, mark it paid in Shopify or enter it in the ERP by hand, or "
            "ask Shopify for read_all_orders"
        )
        message.error_detail[READABLE_UNTIL] = shown
    message.updated_at = utcnow()
