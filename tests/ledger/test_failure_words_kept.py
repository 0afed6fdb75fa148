"""The workers' exception handler keeps a classified failure's words on its RQ job
(ledger.queues.keep_failure_words), and a later try that failed without words drops them: the
failed-jobs list never says an older try's reason."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

from ledger import queues
from ledger.errors import Transient


def test_a_failures_words_are_kept_on_its_job_and_dropped_by_a_try_without_them(redis_server):
    conn = redis.Redis.from_url(redis_server.url)
    job = Queue("catalog", connection=conn).enqueue("jobs.failing_probe.run", 1, job_id="kept-words")
    down = Transient("Consinco unreachable").worded("erp_unreachable", endpoint="/x", error="t")
    assert queues.keep_failure_words(job, Transient, down, None) is True
    stored = Job.fetch("kept-words", connection=conn).meta[queues.FAILURE_WORDS]
    assert stored == {"key": "erp_unreachable", "params": {"endpoint": "/x", "error": "t"}}
    assert queues.keep_failure_words(job, RuntimeError, RuntimeError("boom"), None) is True
    assert queues.FAILURE_WORDS not in Job.fetch("kept-words", connection=conn).meta
