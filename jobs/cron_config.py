"""`rq cron jobs.cron_config` (or `flask --app app cron`): one tick a minute, on the default queue.

The per-shop timing lives in the ledger's Schedule rows, editable from the app; RQ's cron
scheduler only has to wake the tick, which decides what is due.
"""

from __future__ import annotations

from rq import cron

from jobs.scheduler import tick
from ledger.queues import DEFAULT

TICK_JOB_TIMEOUT = 50  # a tick must finish before the next one

cron.register(tick, DEFAULT, cron="* * * * *", job_timeout=TICK_JOB_TIMEOUT, result_ttl=300)
