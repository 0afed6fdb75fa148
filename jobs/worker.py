"""The RQ worker for the named queues (`flask --app app worker`).

Two modes. The default worker forks a work horse per job: a crash or a leak dies with the
horse. `simple=True` runs jobs in the worker's own process (RQ's SimpleWorker): database
connections, SQLAlchemy's compiled-statement cache, the ERP login and the HTTP sessions of
jobs.order_clients all live across jobs, which is what keeps an order within a second of its
webhook (see docs/benchmarks.md, "Order latency (issue 7)"): the recommended mode for the
`orders` and `webhooks` queues; catalog loads may keep the forking worker.

Either way the worker warms up before its first job (`warm_up`): the handler and flow modules
are imported and the GraphQL documents parsed once in the parent, so a forked horse inherits
them instead of paying for them per job. After a fork the horse keeps the inherited engine
(its dialect and compile cache) and only forgets the parent's pooled connections with
`engine.dispose(close=False)`, the pattern SQLAlchemy documents for os.fork(); closing them
would shut sockets the parent still owns.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from sqlalchemy import text

from ledger import db, flows, kv, replay_outcome, run_outcome
from ledger.queues import QUEUE_NAMES, get_queue, keep_failure_words

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0  # seconds between the worker's own (un-pipelined) heartbeats


def warm_up() -> None:
    """Import every job module and parse the GraphQL documents; leave the engine initialised, idle.

    The parent connects once (so the dialect's first-connect initialisation is done and
    inherited) and then returns its connections, so forked horses inherit an empty pool.
    """
    from jobs.inbox import TOPIC_HANDLERS
    from shopify_app.admin_api import documents

    modules = {path.rpartition(".")[0] for path in TOPIC_HANDLERS.values()}
    modules.update(f"jobs.{flow.module}" for flow in flows.FLOWS)
    for name in sorted(modules):
        try:
            importlib.import_module(name)
        except Exception:
            # Warm-up only: the job that needs the module fails loudly (jobs.inbox records why).
            log.exception("worker: %s could not be imported ahead of its jobs", name)
    documents.operations()
    engine = db.get_engine()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()


class QuietHeartbeat:
    """Worker heartbeats batched and spaced (one pipelined beat a second at most), no repeated state.

    RQ beats the worker key three times per job (before and after dequeueing, after the job),
    three Redis commands each: 18 of the ~50 round trips an order's two jobs cost. The key
    lives `worker_ttl + 60` s (8 minutes by default) and the suspension check of every loop
    already beats it inside its own pipeline, so beats closer than HEARTBEAT_EVERY carry no
    news. Beats with an explicit timeout or pipeline (job monitoring, the horse) go as RQ sends
    them; job and execution heartbeats are untouched.
    """

    connection: Redis
    _state: str
    _last_beat = 0.0

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        # The simple worker sets IDLE after each job and again before dequeueing the next one.
        if pipeline is None and state == getattr(self, "_state", None):
            return
        super().set_state(state, pipeline)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        if timeout is not None or pipeline is not None:
            super().heartbeat(timeout, pipeline)
            return
        now = time.monotonic()
        if now - self._last_beat < HEARTBEAT_EVERY:
            return
        self._last_beat = now
        with self.connection.pipeline() as batch:
            super().heartbeat(pipeline=batch)
            batch.execute()


class PromptUnsubscribe:
    """The worker's pubsub thread (RQ's commands: shutdown, kill-horse, stop-job) told to stop before
    its channel is unsubscribed, not after.

    RQ's teardown unsubscribes, then stops the thread and joins it for up to a second. The answer
    to the UNSUBSCRIBE wakes the thread; when it wakes before it is stopped (a race a loaded
    machine loses often) it goes back to waiting (60 s, no channel left) and the join gives up
    after its full second: a worker's exit, a burst worker's included, paid up to 1 s. Stopped
    first, it ends on that answer.

    Stopped first, it may also wake before the UNSUBSCRIBE is sent (a message, the end of its wait)
    and close the pubsub's connection on its way out, under the UNSUBSCRIBE being written (CI saw
    "Bad file descriptor" once): the channel went with the connection, so what RQ's unsubscribe had
    left to do (join the thread, close the pubsub) is done and the exit goes on (register_death).
    """

    pubsub_thread: Any
    pubsub: Any

    def unsubscribe(self) -> None:
        if not self.pubsub_thread:
            super().unsubscribe()  # type: ignore[misc]
            return
        self.pubsub_thread.stop()
        try:
            super().unsubscribe()  # type: ignore[misc]
        except RedisConnectionError as exc:
            log.info("worker: the pubsub thread closed its connection before the unsubscribe (%s)", exc)
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()


class PromptMaintenance:
    """An idle worker's wait for a job (BLPOP) bounded by its maintenance interval.

    RQ waits `worker_ttl - 15` s (405 s) on an empty queue before it looks up again, and runs its
    maintenance only between two waits: the worker started in place of a killed one, which found
    the dead worker's scheduler lock and has no scheduler, tried for it again only after that wait
    on a quiet queue, not every MAINTENANCE_SECONDS. Meanwhile no RQ Retry ran and the messages
    stayed "retrying", their jobs scheduled and so alive to the orders' catch-up (a chaos run's
    last NF-e key waited past its 5 minutes in CI). A wait no longer than the interval costs one
    BLPOP every MAINTENANCE_SECONDS.
    """

    maintenance_interval: int

    @property
    def dequeue_timeout(self) -> int:
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))  # type: ignore[misc]


class LedgerWorker(PromptMaintenance, PromptUnsubscribe, QuietHeartbeat, Worker):
    """An RQ Worker whose forked horse keeps the engine but not the parent's connections."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        db.get_engine().dispose(close=False)
        kv.reset_clients()
        super().main_work_horse(job, queue)

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        """RQ fails (and retries) a job whose horse died without its failure callback: the run's
        outcome on its schedule row, and a replay's given up on its message, are written here
        instead (ledger.run_outcome, ledger.replay_outcome)."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        run_outcome.horse_killed(job, ret_val)
        replay_outcome.horse_killed(job, ret_val)


class LedgerSimpleWorker(PromptMaintenance, PromptUnsubscribe, QuietHeartbeat, SimpleWorker):
    """RQ's SimpleWorker (jobs in the worker's own process) with the spaced heartbeats."""


def build_worker(
    queue_names: Sequence[str] = QUEUE_NAMES, *, simple: bool = False, conn: Redis | None = None
) -> Worker | SimpleWorker:
    conn = conn or kv.worker_redis()  # not kv.get_redis(): RQ lengthens its socket timeout for BLPOP
    queues = [get_queue(name, conn) for name in (queue_names or QUEUE_NAMES)]
    worker_class = LedgerSimpleWorker if simple else LedgerWorker
    # a failure's words kept on its job, for the failed-jobs list (ledger.queues.keep_failure_words)
    return worker_class(
        queues,
        connection=conn,
        exception_handlers=[keep_failure_words],
        maintenance_interval=MAINTENANCE_SECONDS,
    )


# How often a worker runs RQ's maintenance, where a worker that found another's scheduler holding the
# queues' scheduler lock tries to take it again. RQ's 10 minutes: a worker killed with its scheduler
# (the OOM killer) left its lock for ~1-2 minutes, and the worker started in its place then had no
# scheduler for 10: every RQ Retry due meanwhile (an invoice after an ERP 5xx) waited, its message
# "retrying", which the orders' catch-up leaves to RQ (a chaos run: 196 of 200 NF-e keys at 10 min).
# RQ looks at the interval only between two BLPOPs of up to the interval each (PromptMaintenance), so
# a lock lapsed is taken up to two intervals later: at 120 s a chaos run's last NF-e key waited 170 s
# after Redis had dropped the lock. Half the lock's life: taken within a minute of its lapse, for a
# cleaning of the registries and a BLPOP every 30 s a worker.
MAINTENANCE_SECONDS = 30


def run_worker(
    queue_names: Sequence[str] = QUEUE_NAMES,
    *,
    burst: bool = False,
    simple: bool = False,
    with_scheduler: bool = True,
    conn: Redis | None = None,
) -> bool:
    """Work the queues until stopped (or until empty with `burst`). True if any job ran."""
    warm_up()
    worker = build_worker(queue_names, simple=simple, conn=conn)
    log.info(
        "worker: %s on %s%s",
        type(worker).__name__,
        ", ".join(worker.queue_names()),
        " (burst)" if burst else "",
    )
    return worker.work(burst=burst, with_scheduler=with_scheduler)
