"""`flask --app app cron` loads this: one tick a minute, on the webhooks queue. (Not the bare
`rq cron jobs.cron_config`: that reads RQ_REDIS_URL / --url, not REDIS_URL, and skips the
settings' validation, so in production it would drive another Redis without a word.)

The per-shop timing lives in the ledger's Schedule rows, editable from the app; RQ's cron
scheduler only has to wake the tick, which decides what is due.

Why the webhooks queue: the tick only reads the schedules and enqueues (each flow on its own
queue, inbox rows on theirs), so it belongs with the short jobs, served by the low-latency
`-q webhooks -q orders` worker. On `default` it would wait behind whatever the catalog worker
(`-q catalog -q default`) runs, one job at a time for hours during a first load: no EventoPedido
poll (NF-e, capture, cancellations), no orders catch-up, no inbox sweep meanwhile.
"""

from __future__ import annotations

from rq import cron

from jobs.scheduler import tick
from ledger.queues import FAILURE_TTL, WEBHOOKS

TICK_JOB_TIMEOUT = 50  # a tick must finish before the next one

cron.register(
    tick, WEBHOOKS, cron="* * * * *", job_timeout=TICK_JOB_TIMEOUT, result_ttl=300, failure_ttl=FAILURE_TTL
)
