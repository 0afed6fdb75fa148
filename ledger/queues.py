"""The named RQ queues and the one way jobs get onto them.

Work is enqueued by dotted name ("jobs.inbox.process") with a deterministic job id derived
from the unit of work and `unique=True`, so enqueueing the same unit twice is refused by RQ
itself; `replace_ended=True` lets an id refuse only work still waiting or running (a replay,
"run now", reconciliation's re-import after the last one failed). Retryable work carries RQ's
Retry with backoff; the job decides what is retryable (see jobs.inbox: only
ledger.errors.Transient keeps its retries).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any

from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from ledger import run_outcome
from ledger.kv import get_redis
from ledger.words import stored

log = logging.getLogger(__name__)

WEBHOOKS = "webhooks"
CATALOG = "catalog"
ORDERS = "orders"
DEFAULT = "default"
# Listening order of a worker that serves every queue: webhooks and orders before bulk catalog work.
QUEUE_NAMES = (WEBHOOKS, ORDERS, CATALOG, DEFAULT)

RETRY_INTERVALS = [10, 30, 60, 120, 300]
# How long one job may run on each queue. RQ's own default (180 s) would kill a catalog pass
# mid-way, again on every retry: an initial load waits on its bulk operation for up to 6 hours
# (shopify_app.admin_api.bulk), a first stock sync of 500,000 levels takes minutes. A job past
# its timeout is a hung one: RQ kills it and its Retry runs it again.
JOB_TIMEOUTS = {WEBHOOKS: 10 * 60, ORDERS: 15 * 60, CATALOG: 7 * 3600, DEFAULT: 2 * 3600}
MAX_JOB_ID = 100
# How long RQ keeps a job that failed for good (its record and its line in the failed-job
# registry): 30 days, long enough to fix the cause and requeue it from the Failed jobs page.
# RQ's own default is a year, over which a shop's outage could grow the registry without end.
FAILURE_TTL = 30 * 24 * 3600
# A job in one of these states is over: its id no longer stands for work still to do.
ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
HELD = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)  # still to run
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


INBOX_JOB = "jobs.inbox.process"
# The receiver writes this prefix + the row id into webhook_inbox.job_id inside its INSERT.
INBOX_JOB_PREFIX = "inbox-"


def inbox_job_id(inbox_id: int) -> str:
    """The job a webhook inbox row becomes: the receiver and the sweeper use the same id."""
    return f"{INBOX_JOB_PREFIX}{inbox_id}"


def unreadable_words(topic: str) -> dict[str, Any]:
    """The words (as stored: ledger.words) of a webhook inbox row kept `rejected`, its body unreadable:
    the failed jobs page says them in its language (shopify_app.fail_words)."""
    return stored(("webhook_unreadable", {"topic": topic}))


# The reasons the app itself writes on a failed webhook inbox row (jobs.inbox), and their words: the
# failed jobs page and the alert e-mails say them in the team's language (shopify_app.fail_words).
INBOX_ENDED = (
    "its job {job} ended {status} in RQ without recording an outcome (a worker killed, or the database "
    "down through every retry): requeue it from the failed jobs"
)
INBOX_EXHAUSTED = "transient, retries exhausted: {message}"


def _reason_pattern(template: str) -> re.Pattern[str]:
    """A reason's template ("... {job} ...") as a pattern reading its params back."""
    escaped = re.escape(template)
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m[1]}>.+?)", escaped) + "$", re.S)


_ENDED, _EXHAUSTED = _reason_pattern(INBOX_ENDED), _reason_pattern(INBOX_EXHAUSTED)


def inbox_reason_words(reason: str | None) -> dict[str, Any] | None:
    """The words (as stored: ledger.words) of a reason the app wrote on a failed inbox row
    (INBOX_ENDED, INBOX_EXHAUSTED); None for any other (a handler's exception line: a bug's)."""
    if found := _ENDED.match(reason or ""):
        return stored(("webhook_job_ended", {"job": found["job"], "status": found["status"]}))
    if found := _EXHAUSTED.match(reason or ""):
        return stored(("webhook_retries_exhausted", {"message": found["message"]}))
    return None


# A webhook about an order that is not named orders/* (jobs.order_catch_up.ORDER_TOPICS lists them all).
OTHER_ORDER_TOPICS = frozenset({"refunds/create"})


def inbox_queue(topic: str) -> str:
    """Orders have their own queue so a burst of catalog/compliance work never delays them; a refund
    goes there too, in the order of its delivery beside the order's edits and cancellation (on the
    webhooks queue, served first, it ran ahead of an edit delivered before it, and behind a
    products/delete burst)."""
    return ORDERS if topic.startswith("orders/") or topic in OTHER_ORDER_TOPICS else WEBHOOKS


def retry_policy() -> Retry:
    """Five tries spaced 10 s .. 5 min: enough to ride out a throttle or a short ERP outage."""
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def connection() -> Redis:
    return get_redis()


def get_queue(name: str, conn: Redis | None = None) -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUE_NAMES)}")
    return Queue(name, connection=conn or connection())


def job_key(*parts: object) -> str:
    """A deterministic RQ job id from the unit of work: only [A-Za-z0-9_-], hashed when long or unsafe."""
    raw = "-".join(str(p) for p in parts)
    if _SAFE_ID.match(raw) and len(raw) <= MAX_JOB_ID:
        return raw
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", raw)[:40].strip("_-") or "job"
    digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
    return f"{cleaned}-{digest}"


def enqueue(
    func_path: str,
    *args: Any,
    queue: str = DEFAULT,
    job_id: str | None = None,
    retry: bool = True,
    unique: bool = True,
    job_timeout: int | None = None,
    description: str | None = None,
    conn: Redis | None = None,
    result_ttl: int | None = None,
    replace_ended: bool = False,
    schedule: str | None = None,
    kwargs: dict[str, Any] | None = None,
    on_failure: str | None = None,
) -> Job | None:
    """Enqueue `func_path(*args, **kwargs)`; None when a job with this id already exists (refused duplicate).

    Args:
        func_path: the job's dotted name ("jobs.products.run").
        queue: one of QUEUE_NAMES.
        job_id: deterministic id of the unit of work; sanitised through job_key.
        retry: attach RQ Retry with backoff (the job still decides what is retryable).
        unique: refuse a second enqueue of the same job id while the first exists in Redis.
        job_timeout: seconds the job may run; the queue's JOB_TIMEOUTS when None.
        result_ttl: seconds RQ keeps the finished job's record (RQ's default when None).
        replace_ended: a job under this id that has ended (`ENDED`) is deleted first, so the id
            only refuses work still waiting or running (RQ keeps a finished job ~500 s and a
            failed one FAILURE_TTL: without this the same unit could not be enqueued again).
        schedule: the job is a run of this Schedule.flow (`func_path(shop_id)`): its outcome
            (ok, retrying, failed) is written on the shop's schedule row (ledger.run_outcome).
        kwargs: the job's keyword arguments (RQ keeps them apart from its own options).
        on_failure: the dotted name of RQ's failure callback for the job (not with `schedule`,
            which brings its own): a replay's (ledger.replay_outcome).
    Raises:
        redis.exceptions.RedisError: Redis is unreachable (callers decide whether to swallow it).
    """
    if job_id is not None:
        job_id = job_key(job_id)
        if replace_ended:
            _clear_ended(job_id, conn or connection())
    try:
        return get_queue(queue, conn).enqueue(
            func_path,
            args=args,
            kwargs=kwargs or {},
            job_id=job_id,
            unique=unique and job_id is not None,
            retry=retry_policy() if retry else None,
            job_timeout=job_timeout or JOB_TIMEOUTS[queue],
            description=description,
            failure_ttl=FAILURE_TTL,
            **({} if result_ttl is None else {"result_ttl": result_ttl}),
            **({} if schedule is None else _outcome_callbacks(schedule)),
            **({} if on_failure is None else {"on_failure": Callback(on_failure)}),
        )
    except DuplicateJobError:
        log.info("queues: %s already enqueued as %s", func_path, job_id)
        return None


def enqueue_at(
    when: datetime,
    func_path: str,
    *args: Any,
    queue: str = DEFAULT,
    job_id: str,
    description: str | None = None,
    conn: Redis | None = None,
) -> Job:
    """Schedule `func_path(*args)` to be enqueued at `when` (RQ's scheduler, which the workers run:
    jobs.worker). One job per id: scheduling it again moves the same job to the new time.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    return get_queue(queue, conn).enqueue_at(
        when,
        func_path,
        *args,
        job_id=job_key(job_id),
        retry=retry_policy(),
        job_timeout=JOB_TIMEOUTS[queue],
        description=description,
        failure_ttl=FAILURE_TTL,
    )


def _outcome_callbacks(schedule: str) -> dict[str, Any]:
    return {
        "on_success": Callback(run_outcome.ON_SUCCESS),
        "on_failure": Callback(run_outcome.ON_FAILURE),
        "meta": {run_outcome.META_KEY: schedule},
    }


def held(job_id: str | None, conn: Redis) -> bool:
    """Whether RQ still holds this job queued, running or waiting to run (False when it holds
    no such job, or Redis cannot say)."""
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=conn).get_status() in HELD
    except NoSuchJobError:
        return False
    except Exception:  # Redis unreachable: the caller's own next call will say so
        return False


def held_ids(job_ids: Iterable[str | None], conn: Redis) -> set[str]:
    """Those of `job_ids` RQ still holds (as `held`, one round trip for them all: the status field
    of each job's hash); none when Redis cannot say."""
    ids = sorted({job_id for job_id in job_ids if job_id})
    if not ids:
        return set()
    try:
        pipe = conn.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "status")
        statuses = pipe.execute()
    except Exception:  # Redis unreachable: the caller's own next call will say so
        return set()
    still = {status.value for status in HELD}
    shown = [status.decode() if isinstance(status, bytes) else status for status in statuses]
    return {job_id for job_id, status in zip(ids, shown, strict=True) if status in still}


def _clear_ended(job_id: str, conn: Redis) -> None:
    """Delete the job under this id if it has ended (queued, started, scheduled or deferred: kept)."""
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) in ENDED:
        job.delete()


def enqueue_inbox(inbox_id: int, topic: str, *, conn: Redis, unique: bool = False) -> str | None:
    """Put one webhook inbox row on its queue; the job id, or None when it already exists.

    The receiver's hot path (`unique=False`: its INSERT already proved the row new): RQ's writes
    (queue registration, job hash, status, push) go out in ONE pipeline, one round trip. The
    sweeper passes `unique=True` (RQ's atomic check-and-enqueue) since the job may exist.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    job_id = inbox_job_id(inbox_id)
    queue = get_queue(inbox_queue(topic), conn)
    options: dict[str, Any] = {
        "job_id": job_id,
        "job_timeout": JOB_TIMEOUTS[queue.name],
        "retry": retry_policy(),
        "description": f"webhook {topic} inbox {inbox_id}",
        "failure_ttl": FAILURE_TTL,
    }
    if unique:
        try:
            queue.enqueue(INBOX_JOB, inbox_id, unique=True, **options)
        except DuplicateJobError:
            return None
        return job_id
    with conn.pipeline() as pipe:
        queue.enqueue(INBOX_JOB, inbox_id, pipeline=pipe, **options)
        pipe.execute()
    return job_id


def requeue_inbox(inbox_id: int, topic: str, *, conn: Redis) -> str | None:
    """Run a webhook inbox row again (a person's retry of a failed one): its job id, or None while
    RQ still holds its job queued, running or waiting for a retry (nothing to requeue).

    An ended job under the row's id (failed in RQ's registry, or finished) is deleted first; whether
    RQ holds any record of it or not (Redis restarted without persistence) the row is enqueued anew,
    with a fresh Retry.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    _clear_ended(inbox_job_id(inbox_id), conn)
    return enqueue_inbox(inbox_id, topic, conn=conn, unique=True)


def missing_jobs(job_ids: list[str], conn: Redis) -> list[str]:
    """The ids among `job_ids` that RQ holds no job record for (one pipelined EXISTS each)."""
    with conn.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.exists(Job.key_for(job_id))
        found = pipe.execute()
    return [job_id for job_id, exists in zip(job_ids, found, strict=True) if not exists]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# job.meta[FAILURE_WORDS]: the words of the failure that ended the job's last try (ledger.words, as
# stored), when it was one of ours given words; the failed-jobs list says them in the page's language.
FAILURE_WORDS = "failure_words"


def keep_failure_words(
    job: Job,
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    tb: TracebackType | None,
) -> bool:
    """The workers' RQ exception handler: keep a classified failure's words on its job
    (FAILURE_WORDS), or a dead worker's (RQ's maintenance passes the handlers an AbandonedJobError
    for a job whose SimpleWorker was killed under it: ledger.run_outcome.failure_words); a try that
    failed without words drops an earlier try's. Never raises (RQ would take it for the job's own
    error): a failure to keep them only loses the words."""
    words = run_outcome.failure_words(exc_type, exc_value)
    try:
        if words is not None:
            job.meta[FAILURE_WORDS] = stored(words)
        elif job.meta.pop(FAILURE_WORDS, None) is None:
            return True
        job.save_meta()
    except Exception:
        log.exception("queues: could not keep the failure's words on job %s", job.id)
    return True


def failed_jobs(queue_name: str, limit: int = 100, conn: Redis | None = None) -> list[dict[str, Any]]:
    """What the dashboard shows of the failed-job registry, newest first: id, func, exception
    text, ended_at, and the failure's words when the worker kept them (FAILURE_WORDS)."""
    rows, _more = failed_jobs_where(queue_name, lambda found: found, limit=limit, scan=limit, conn=conn)
    return rows


FailedFilter = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
FAILED_CHUNK = 200  # registry entries read (one pipelined fetch) per step of a scan


NOT_STARTED = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def cancel_waiting(job_id: str, conn: Redis | None = None) -> bool:
    """Cancel the job when it has not started (queued, waiting for a retry, deferred): whether it
    was. A job that started runs to its end.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    conn = conn or connection()
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return False
    if job.get_status(refresh=False) not in NOT_STARTED:
        return False
    job.cancel()
    return True


def failed_total(conn: Redis | None = None) -> int:
    """How many jobs RQ's failed registries hold, all queues and shops together (one round trip:
    each registry's size): what the Flows page compares to know its list of failed jobs is stale.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    conn = conn or connection()
    pipe = conn.pipeline(transaction=False)
    for name in QUEUE_NAMES:
        pipe.zcard(FailedJobRegistry(name, connection=conn).key)
    return sum(int(n) for n in pipe.execute())


def failed_jobs_where(
    queue_name: str,
    keep: FailedFilter,
    *,
    limit: int,
    scan: int,
    conn: Redis | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The failed jobs `keep` keeps (one shop's), newest first, up to `limit`, and whether more may
    exist past those read.

    The registry's newest `scan` ids are read at once (one snapshot: read by rank chunk after
    chunk, another shop's job failing or leaving meanwhile shifted the ranks, and a job at a
    chunk's edge was listed twice or not at all), then their jobs in chunks until `limit` are
    kept: another shop's outage (hundreds of failures since) neither hides a shop's own failures
    behind a fixed window nor makes one request read a registry of any size. `keep` sees each
    chunk's rows as id, queue, func and args (repr'd), and returns those to show; only those have
    their result (the exception text) read.
    """
    queue = get_queue(queue_name, conn)
    registry = FailedJobRegistry(queue=queue)
    rows: list[dict[str, Any]] = []
    snapshot = registry.get_job_ids(0, scan - 1, desc=True, cleanup=True) if scan > 0 else []
    start = 0
    while start < len(snapshot):
        ids = snapshot[start : start + FAILED_CHUNK]
        start += len(ids)
        jobs = {job.id: job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None}
        found = [
            {"id": job.id, "queue": queue_name, "func": job.func_name, "args": [repr(a) for a in job.args]}
            for job in jobs.values()
        ]
        kept, room = keep(found), limit - len(rows)
        rows.extend(_failed_row(jobs[row["id"]], row) for row in kept[:room])
        if len(kept) > room:
            return rows, True  # the page is full before this chunk's end
        if len(rows) == limit:
            break
    if len(snapshot) < scan and start == len(snapshot):
        return rows, False  # the registry's end
    return rows, registry.get_job_count(cleanup=False) > start


def _failed_row(job: Job, row: dict[str, Any]) -> dict[str, Any]:
    result = job.latest_result()
    return {
        **row,
        "exc": (result.exc_string if result else None) or "",
        "words": (job.meta or {}).get(FAILURE_WORDS),
        "ended_at": _when(job.ended_at),
        "enqueued_at": _when(job.enqueued_at),
    }


def requeue_failed(job_id: str, conn: Redis | None = None) -> Job:
    """Put a failed job back on its own queue (the dashboard's retry button).

    Raises:
        rq.exceptions.NoSuchJobError: the job expired or never existed.
        rq.exceptions.InvalidJobOperation: the job is not in the failed registry.
    """
    redis_conn = conn or connection()
    job = Job.fetch(job_id, connection=redis_conn)
    if job.retry_intervals:  # a person's requeue is a new start: RQ's own keeps the spent retries,
        job.retries_left = len(RETRY_INTERVALS)  # and a job on its last try gives up at once
        redis_conn.hset(job.key, "retries_left", job.retries_left)
    registry = FailedJobRegistry(job.origin, connection=redis_conn)
    return registry.requeue(job)


def delete_failed_jobs(job_ids: Iterable[str | None], conn: Redis | None = None) -> int:
    """Delete those of `job_ids` RQ holds as failed: the job's record, its results (the exception
    text: RQ keeps a failed job for a year) and its place in the failed-job registry. A job still
    queued, running or waiting for a retry is left alone, and so is a finished one. Returns how
    many were deleted (what a compliance redaction drops: the traceback may quote the person)."""
    redis_conn = conn or connection()
    deleted = 0
    for job_id in sorted({job_id for job_id in job_ids if job_id}):
        try:
            job = Job.fetch(job_id, connection=redis_conn)
        except NoSuchJobError:
            continue
        if job.get_status(refresh=False) == JobStatus.FAILED:
            job.delete()
            deleted += 1
    return deleted


def failed_job_ids(where: Callable[[Job, str], bool], conn: Redis | None = None) -> list[str]:
    """The ids of the jobs in every queue's failed-job registry for which `where(job, exc)` holds,
    `exc` being the exception text of its last try ("" when RQ kept none)."""
    redis_conn = conn or connection()
    found: list[str] = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=get_queue(name, redis_conn))
        ids = registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=redis_conn):
            if job is None:
                continue
            result = job.latest_result()
            if where(job, (result.exc_string if result else None) or ""):
                found.append(job.id)
    return found
