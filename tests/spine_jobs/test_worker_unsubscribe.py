"""jobs.worker.PromptUnsubscribe: a worker's exit stops its pubsub thread before unsubscribing, so
the UNSUBSCRIBE's answer ends the thread instead of leaving RQ's join to time out."""

from __future__ import annotations

import pytest
import redis

from jobs.worker import LedgerSimpleWorker, LedgerWorker, build_worker


@pytest.mark.parametrize("simple", [True, False])
def test_the_pubsub_thread_is_stopped_before_its_channel_is_unsubscribed(rconn, simple):
    worker = build_worker(["webhooks"], simple=simple, conn=rconn)
    assert isinstance(worker, LedgerSimpleWorker if simple else LedgerWorker)
    worker.subscribe()
    thread, pubsub = worker.pubsub_thread, worker.pubsub
    assert thread.is_alive()
    running_when_unsubscribed: list[bool] = []
    unsubscribe = pubsub.unsubscribe

    def watched(*args, **kwargs):
        running_when_unsubscribed.append(thread._running.is_set())
        return unsubscribe(*args, **kwargs)

    pubsub.unsubscribe = watched
    worker.unsubscribe()
    assert running_when_unsubscribed == [False]  # told to stop first: the answer ends it
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.parametrize("simple", [True, False])
def test_a_connection_the_stopped_thread_closed_under_the_unsubscribe_ends_the_exit_cleanly(rconn, simple):
    """The thread, stopped first, woke and closed the pubsub's connection while the UNSUBSCRIBE was
    being written (CI once: "Error 9 while writing to socket. Bad file descriptor"): the exit goes on,
    the thread joined and the pubsub closed, instead of the error ending the worker's teardown."""
    worker = build_worker(["webhooks"], simple=simple, conn=rconn)
    worker.subscribe()
    thread, pubsub = worker.pubsub_thread, worker.pubsub

    def closed_under_it(*args, **kwargs):
        # told to stop, it wakes on a message (a command RQ does not know: nothing done) and ends,
        # closing the connection; then the UNSUBSCRIBE's write fails
        rconn.publish(worker.pubsub_channel_name, '{"command": "none"}')
        thread.join(timeout=5)
        assert not thread.is_alive()
        raise redis.exceptions.ConnectionError("Error 9 while writing to socket. Bad file descriptor.")

    pubsub.unsubscribe = closed_under_it
    worker.unsubscribe()  # not raised
    assert not thread.is_alive()
    assert pubsub.connection is None  # closed
