"""The RQ worker for the named queues (`flask --app app worker`).

The default worker forks a work horse per job; the horse drops the pooled database and Redis
connections it inherited (sharing a socket with the parent corrupts both). `simple=True` runs
jobs in the worker's own process (RQ's SimpleWorker) for the embedded demo and for platforms
without fork. Every worker also runs RQ's scheduler so retries with backoff come due.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from ledger import db, kv
from ledger.queues import QUEUE_NAMES, get_queue

log = logging.getLogger(__name__)


class LedgerWorker(Worker):
    """An RQ Worker whose forked horse starts with fresh database and Redis connections."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        db.dispose_all()
        kv.reset_clients()
        super().main_work_horse(job, queue)


def build_worker(
    queue_names: Sequence[str] = QUEUE_NAMES, *, simple: bool = False, conn: Redis | None = None
) -> Worker | SimpleWorker:
    conn = conn or kv.get_redis()
    queues = [get_queue(name, conn) for name in (queue_names or QUEUE_NAMES)]
    worker_class = SimpleWorker if simple else LedgerWorker
    return worker_class(queues, connection=conn)


def run_worker(
    queue_names: Sequence[str] = QUEUE_NAMES,
    *,
    burst: bool = False,
    simple: bool = False,
    with_scheduler: bool = True,
    conn: Redis | None = None,
) -> bool:
    """Work the queues until stopped (or until empty with `burst`). True if any job ran."""
    worker = build_worker(queue_names, simple=simple, conn=conn)
    log.info(
        "worker: %s on %s%s",
        type(worker).__name__,
        ", ".join(worker.queue_names()),
        " (burst)" if burst else "",
    )
    return worker.work(burst=burst, with_scheduler=with_scheduler)
