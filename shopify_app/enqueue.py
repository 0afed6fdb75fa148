"""Handing work to the jobs by dotted name: replays of messages, "run now", parked-unit resumes,
and the retry of units a fixed ERP login frees.

shopify_app never imports jobs (design.md): the job is named by `ledger.flows` (`run_job`,
`replay_job`) and put on the flow's queue through `ledger.queues.enqueue`, with a deterministic
job id so a double click (or two staff members at once) enqueues the work once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from erp.errors import AUTH
from ledger import flows, order_link_by_hand, queues, replay_outcome, trace
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import Message, MessageStatus
from shopify_app.tokens import REAUTH

log = logging.getLogger(__name__)

ERP_PRICE_BACK_FLOW = "prices"  # its replay takes `erp_price_back` (a person's Replay)


def replay_job_id(message: Message) -> str:
    """One replay per message attempt: a second click before the replay ran is refused by RQ."""
    return queues.job_key("replay", message.shop_id, message.id, message.attempts)


def enqueue_replay(
    message: Message, conn: Redis | None = None, *, person_replay: bool = False
) -> tuple[str, bool]:
    """Enqueue the flow's replay job for one message; returns (job id, newly enqueued).

    `person_replay`: a person's Replay of the done message on the Messages page (not a Retry, a
    "Retry failed", a resume): the prices flow's replay then brings the ERP price back over one
    set by hand (`jobs.prices.replay(..., erp_price_back=True)`); said on the job, since the
    message's status when the job runs (a pass may have made a Retry's message done) cannot.

    Raises:
        KeyError: the message names a flow the catalog does not know.
        redis.exceptions.RedisError: Redis is unreachable.
    """
    flow = flows.get(message.flow)
    job_id = replay_job_id(message)
    job = queues.enqueue(
        flow.replay_job,
        message.id,
        queue=flow.queue,
        job_id=job_id,
        description=f"replay {message.flow} message {message.id}",
        conn=conn,
        replace_ended=True,  # "retry" right after the previous replay ended is not a duplicate
        kwargs={"erp_price_back": True} if person_replay and message.flow == ERP_PRICE_BACK_FLOW else None,
        # RQ's last retry failing leaves the message failed, not "retrying" for ever; an order flow's
        # catch-up replays its retrying messages itself (ledger.replay_outcome)
        on_failure=None if message.flow in flows.ORDER_FLOWS else replay_outcome.ON_FAILURE,
    )
    return job_id, job is not None


def enqueue_address_check(shop_id: int, order_gid: str, nro: int, conn: Redis | None = None) -> bool:
    """After a hand link's commit, enqueue the check of the order's delivery address under its lock
    (ledger.order_link_by_hand.ADDRESS_CHECK_JOB); one per (order, ERP order linked). Whether newly
    enqueued.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    job = queues.enqueue(
        order_link_by_hand.ADDRESS_CHECK_JOB,
        shop_id,
        order_gid,
        queue=flows.get(order_link_by_hand.ADDRESS_FLOW).queue,
        job_id=queues.job_key("address-after-link", shop_id, order_gid.rsplit("/", 1)[-1], nro),
        description=f"delivery address of {order_gid} after its link to ERP order {nro}",
        conn=conn,
        replace_ended=True,
    )
    return job is not None


def run_job_id(shop_id: int, flow_name: str) -> str:
    """One waiting "run now" per (shop, flow): clicking again while it waits changes nothing."""
    return queues.job_key("run-now", shop_id, flow_name)


def enqueue_run(shop_id: int, flow_name: str, conn: Redis | None = None) -> tuple[str, bool]:
    """Enqueue a flow's `run(shop_id)` now; returns (job id, newly enqueued).

    A flow whose run is its schedule's own (`jobs.<schedule>.run`) has its outcome written on
    the schedule's row like a due run's; the event-driven flows' runs only enqueue the
    EventoPedido poll, whose outcome is the one written (jobs.order_events.poll_now)."""
    flow = flows.get(flow_name)
    job_id = run_job_id(shop_id, flow_name)
    job = queues.enqueue(
        flow.run_job,
        shop_id,
        queue=flow.queue,
        job_id=job_id,
        description=f"{flow_name} run now for shop {shop_id}",
        conn=conn,
        replace_ended=True,  # "run now" right after the previous run ended is not a duplicate
        schedule=flow.schedule if flow.module == flow.schedule else None,
    )
    return job_id, job is not None


def enqueue_catch_up(redis_url: str | None, shop_id: int, shop: str, *, after: str) -> None:
    """Orders placed while the shop was uninstalled sent the app no webhook, and those delivered
    while it was parked were refused: the reconciliation, which lists Shopify's orders back to
    its last report and imports what the ledger lacks, runs now instead of at its next due time
    (up to a day later), and the units refused meanwhile are replayed (`retry_reauth_failed`:
    the reconciliation counts a failed order as held in the app, not as missing). `after` says
    what made the shop usable again (for the log). Best effort: if Redis refuses, the schedule
    runs the reconciliation when due and the refused units wait for their Retry. Call it after
    the commit."""
    conn = get_redis(redis_url)
    try:
        with session_scope() as session:
            retry_reauth_failed(session, shop_id, conn)
    except SQLAlchemyError as exc:  # the install is committed: the refused units wait for their Retry
        log.warning("catch-up: refused units of %s after %s not retried (%s)", shop, after, exc)
    try:
        enqueue_run(shop_id, "reconcile", conn=conn)
    except RedisError as exc:
        log.warning("catch-up: reconciliation for %s after %s not enqueued (%s)", shop, after, exc)
    else:
        log.info("catch-up: %s usable again after %s: reconciliation enqueued", shop, after)


def resume_parked(
    session: Session,
    shop_id: int,
    kind: str,
    codes: Iterable[str],
    conn: Redis | None = None,
    flow: str | None = None,
) -> int:
    """Enqueue the replay of every unit (of `flow`, else any) parked waiting for (kind, code);
    returns how many.

    Called right after the mapping (or link, or connection) was written. A unit whose replay
    cannot be enqueued (Redis down, unknown flow) stays parked and is logged; the change that
    freed it is not undone, and the merchant can retry it from the Messages page.
    """
    resumed = 0
    found: dict[int, tuple[Message, str]] = {}
    for code in codes:
        for message in trace.parked_waiting_for(session, shop_id, kind, code, flow):
            found.setdefault(message.id, (message, code))
    _commit_first(session, found)
    for message, code in found.values():
        try:
            enqueue_replay(message, conn)  # already waiting counts too: it will run
        except (RedisError, KeyError) as exc:
            log.warning(
                "enqueue: could not resume message %s (%s/%s): %s",
                message.id,
                kind,
                code,
                exc,
                extra={"shop_id": shop_id, "flow": message.flow},
            )
            continue
        resumed += 1
    if resumed:
        log.info(
            "enqueue: resumed %s parked unit(s) waiting for %s", resumed, kind, extra={"shop_id": shop_id}
        )
    return resumed


def resume_waiting(session: Session, shop_id: int, flow: str, waiting: str, conn: Redis | None = None) -> int:
    """Enqueue the replay of every unit of `flow` pending on purpose for `waiting` (ledger.trace.
    is_waiting: orders waiting for their "payment"), whose wait a setting just changed; how many.
    A unit whose replay cannot be enqueued is left to its flow's catch-up, logged."""
    resumed = 0
    found = list(
        session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == flow,
                Message.status == MessageStatus.PENDING.value,
                Message.error_detail["waiting"].as_string() == waiting,
            )
        )
    )
    _commit_first(session, {m.id: (m, waiting) for m in found})
    for message in found:
        try:
            enqueue_replay(message, conn)
        except (RedisError, KeyError) as exc:
            log.warning("enqueue: could not resume message %s waiting for %s: %s", message.id, waiting, exc,
                        extra={"shop_id": shop_id, "flow": flow})  # fmt: skip
            continue
        resumed += 1
    return resumed


def retry_auth_failed(session: Session, shop_id: int, conn: Redis | None = None) -> int:
    """Enqueue the replay of every unit that failed because the ERP refused the integration's
    login (erp.errors.AUTH in its detail), whatever its flow; returns how many.

    Called right after the ERP connection was saved: every order of the hours the password was
    wrong failed so, and each would otherwise wait for its own Retry. The connection is committed
    first (a replay that read the old password would fail again); job ids are the replay's own
    (one per message attempt), so saving twice enqueues each once. A unit only its own Retry may
    redo (trace.retried_alone) is left to it; one that cannot be enqueued stays failed, logged.
    """
    found = {
        m.id: (m, AUTH) for m in trace.failed_flagged(session, shop_id, AUTH) if not trace.retried_alone(m)
    }
    return _replay_found(session, shop_id, found, conn, why="ERP login",
                         done="unit(s) refused by the ERP login")  # fmt: skip


def retry_reauth_failed(session: Session, shop_id: int, conn: Redis | None = None) -> int:
    """Enqueue the replay of every unit of the order flows (ledger.flows.ORDER_FLOWS: imports,
    edits, invoices, cancellations) that failed because the shop could not be used (REAUTH in its
    detail: ShopNeedsReauth), oldest first; returns how many.

    Called once the shop is usable again (an install, a grant made whole): the orders refused
    meanwhile are sent then, not left for a person's Retry. The catalog flows' units are not:
    their next run sends the whole catalog's state. Job ids are the replay's own (one per message
    attempt), so a second install enqueues each once; a unit only its own Retry may redo is left
    to it; one that cannot be enqueued stays failed, logged.
    """
    found = {
        m.id: (m, REAUTH)
        for m in trace.failed_flagged(session, shop_id, REAUTH)
        if m.flow in flows.ORDER_FLOWS and not trace.retried_alone(m)
    }
    return _replay_found(session, shop_id, found, conn, why="shop re-authorized",
                         done="order unit(s) refused while the shop needed re-authorization")  # fmt: skip


def resume_open(session: Session, shop_id: int, flow: str, like: str, conn: Redis | None = None) -> int:
    """Enqueue the replay of every unit of `flow` whose key matches `like` (SQL LIKE) left parked,
    failed or pending, that a setting just made moot (card data no longer sent: "card:%"); how many.
    Its replay ends it, saying why. One that cannot be enqueued stays as it is, logged."""
    open_now = (MessageStatus.PARKED.value, MessageStatus.FAILED.value, MessageStatus.PENDING.value)
    found = {m.id: (m, like) for m in trace.open_units(session, shop_id, flow, like) if m.status in open_now}
    return _replay_found(session, shop_id, found, conn, why="setting changed",
                         done=f"{flow} unit(s) a setting made moot")  # fmt: skip


def _replay_found(
    session: Session, shop_id: int, found: dict[int, tuple[Message, str]], conn: Redis | None, *, why: str,
    done: str,
) -> int:  # fmt: skip
    """Commit, then enqueue the replay of each unit found (retry_auth_failed, retry_reauth_failed);
    one that cannot be enqueued stays failed, logged. Returns how many were enqueued."""
    _commit_first(session, found)
    retried = 0
    for message, _ in found.values():
        try:
            enqueue_replay(message, conn)
        except (RedisError, KeyError) as exc:
            log.warning("enqueue: could not retry message %s (%s): %s", message.id, why, exc,
                        extra={"shop_id": shop_id, "flow": message.flow})  # fmt: skip
            continue
        retried += 1
    if retried:
        log.info("enqueue: retried %s %s", retried, done, extra={"shop_id": shop_id})
    return retried


def _commit_first(session: Session, messages: dict[int, tuple[Message, str]]) -> None:
    """Commit the caller's change (the mapping, link, connection or setting that frees these
    units) before their replays are enqueued: an idle worker takes a job within milliseconds,
    and a replay that still read the old state would park or wait again until the next
    catch-up. (The messages stay attached: their attributes reload on use.)"""
    if messages:
        session.commit()
