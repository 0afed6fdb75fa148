"""jobs.worker: spaced heartbeats (one pipelined beat a second at most, explicit beats untouched), and
the maintenance that finds a dead worker's scheduler lock lapsed, every MAINTENANCE_SECONDS even when idle."""

from __future__ import annotations

import time

from rq import SimpleWorker, Worker

from jobs import worker as worker_module
from jobs.worker import LedgerSimpleWorker, LedgerWorker, build_worker


def test_both_modes_use_the_spaced_heartbeat(rconn):
    simple = build_worker(["webhooks"], simple=True, conn=rconn)
    forking = build_worker(["webhooks"], conn=rconn)
    assert isinstance(simple, LedgerSimpleWorker) and isinstance(simple, SimpleWorker)
    assert isinstance(forking, LedgerWorker) and isinstance(forking, Worker)


def test_default_beats_closer_than_a_second_are_dropped(rconn, monkeypatch):
    worker = build_worker(["webhooks"], simple=True, conn=rconn)
    clock = [100.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: clock[0])
    worker.heartbeat()
    first = worker.last_heartbeat
    assert rconn.hget(worker.key, "last_heartbeat") is not None
    assert 0 < rconn.ttl(worker.key) <= worker.worker_ttl + 60  # the key lives on

    clock[0] += 0.5
    worker.heartbeat()
    assert worker.last_heartbeat == first  # within the second: no round trip, nothing new

    clock[0] += 0.6
    worker.heartbeat()
    assert worker.last_heartbeat > first


def test_a_beat_with_its_own_timeout_always_goes(rconn, monkeypatch):
    worker = build_worker(["webhooks"], simple=True, conn=rconn)
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: 100.0)
    worker.heartbeat()
    worker.heartbeat(timeout=5)  # the job monitor's beat: sent at once, with its TTL
    assert 0 < rconn.ttl(worker.key) <= 5


def test_a_repeated_state_is_not_written_again(rconn):
    worker = build_worker(["webhooks"], simple=True, conn=rconn)
    worker.set_state("idle")
    assert rconn.hget(worker.key, "state") == b"idle"
    rconn.hdel(worker.key, "state")
    worker.set_state("idle")  # already idle: RQ's second IDLE after a job costs no round trip
    assert rconn.hget(worker.key, "state") is None
    worker.set_state("busy")
    assert rconn.hget(worker.key, "state") == b"busy"


def test_a_worker_tries_for_a_dead_workers_scheduler_lock_within_minutes(rconn) -> None:
    """A worker killed with its scheduler leaves the queues' scheduler lock for interval + 60 s; the
    worker started in its place tries for it again only at RQ's maintenance, every 10 minutes by
    default: that long no RQ Retry ran (a chaos run's last NF-e keys waited past its 10 minutes).
    The app's workers look every MAINTENANCE_SECONDS, which RQ checks between two waits of as long:
    at half the lock's life the lock is taken within its life after it lapsed (at 120 s a chaos run's
    last NF-e key waited 170 s after Redis had dropped the lock)."""
    from rq.scheduler import RQScheduler

    from jobs.worker import MAINTENANCE_SECONDS, build_worker

    worker = build_worker(("orders",), conn=rconn)
    lock_life = RQScheduler(worker.queues, connection=rconn).interval + 60
    assert worker.maintenance_interval == MAINTENANCE_SECONDS
    assert lock_life >= 2 * MAINTENANCE_SECONDS


def test_an_idle_worker_takes_a_dead_workers_scheduler_lock_at_its_maintenance(env, rconn) -> None:
    """On a quiet queue RQ waits 405 s for a job before it looks up and runs its maintenance: the
    worker started in place of a killed one, its scheduler lock held by the dead worker, promoted
    no RQ Retry for that long (CI: a chaos run's last NF-e key still "retrying" at 5 minutes). Its
    wait is bounded by the maintenance interval: a job scheduled meanwhile runs once the lock
    lapsed and the worker's next maintenance took it (3 s here, MAINTENANCE_SECONDS in use)."""
    import subprocess
    import sys
    from datetime import timedelta
    from pathlib import Path

    from rq.job import Job, JobStatus
    from rq.scheduler import RQScheduler

    from ledger.queues import get_queue

    for simple in (True, False):
        rconn.flushall()
        rconn.set(RQScheduler.get_locking_key("orders"), "a-killed-worker", ex=2)
        job = get_queue("orders", rconn).enqueue_in(timedelta(seconds=1), "time.time")
        code = (
            "from jobs.worker import build_worker\n"
            f"worker = build_worker(('orders',), simple={simple})\n"
            "worker.maintenance_interval = 3\n"
            "worker.work(with_scheduler=True)\n"
        )
        root = Path(__file__).resolve().parents[2]
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and job.get_status() is not JobStatus.FINISHED:
                assert proc.poll() is None, "the worker died"
                time.sleep(0.2)
            assert job.get_status() is JobStatus.FINISHED, f"simple={simple}: the scheduled job never ran"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        assert Job.fetch(job.id, connection=rconn).return_value() is not None
