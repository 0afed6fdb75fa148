"""Handing work to the jobs by dotted name: replays of messages, "run now", parked-unit resumes.

shopify_app never imports jobs (design.md): the job is named by `ledger.flows` (`run_job`,
`replay_job`) and put on the flow's queue through `ledger.queues.enqueue`, with a deterministic
job id so a double click (or two staff members at once) enqueues the work once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from ledger import flows, queues, trace
from ledger.models import Message

log = logging.getLogger(__name__)


TERMINAL = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def _clear_terminal(job_id: str, conn: Redis | None) -> None:
    """Forget a finished/failed job under this id, so its unique id only dedupes waiting work.

    RQ keeps a finished job ~500 s and a failed one much longer; without this, "run now" or a
    retry right after the previous one ended would be refused as a duplicate.
    """
    redis_conn = conn or queues.connection()
    try:
        job = Job.fetch(queues.job_key(job_id), connection=redis_conn)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) in TERMINAL:
        job.delete()


def replay_job_id(message: Message) -> str:
    """One replay per message attempt: a second click before the replay ran is refused by RQ."""
    return queues.job_key("replay", message.shop_id, message.id, message.attempts)


def enqueue_replay(message: Message, conn: Redis | None = None) -> tuple[str, bool]:
    """Enqueue the flow's replay job for one message; returns (job id, newly enqueued).

    Raises:
        KeyError: the message names a flow the catalog does not know.
        redis.exceptions.RedisError: Redis is unreachable.
    """
    flow = flows.get(message.flow)
    job_id = replay_job_id(message)
    _clear_terminal(job_id, conn)
    job = queues.enqueue(
        flow.replay_job,
        message.id,
        queue=flow.queue,
        job_id=job_id,
        description=f"replay {message.flow} message {message.id}",
        conn=conn,
    )
    return job_id, job is not None


def run_job_id(shop_id: int, flow_name: str) -> str:
    """One waiting "run now" per (shop, flow): clicking again while it waits changes nothing."""
    return queues.job_key("run-now", shop_id, flow_name)


def enqueue_run(shop_id: int, flow_name: str, conn: Redis | None = None) -> tuple[str, bool]:
    """Enqueue a flow's `run(shop_id)` now; returns (job id, newly enqueued)."""
    flow = flows.get(flow_name)
    job_id = run_job_id(shop_id, flow_name)
    _clear_terminal(job_id, conn)
    job = queues.enqueue(
        flow.run_job,
        shop_id,
        queue=flow.queue,
        job_id=job_id,
        description=f"{flow_name} run now for shop {shop_id}",
        conn=conn,
    )
    return job_id, job is not None


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
    seen: set[int] = set()
    for code in codes:
        for message in trace.parked_waiting_for(session, shop_id, kind, code, flow):
            if message.id in seen:
                continue
            seen.add(message.id)
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
