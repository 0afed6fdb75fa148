"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (the Makefile's `make web`).

Environment: PORT (default 8000), WEB_CONCURRENCY (worker processes, default cores + 1,
capped at 8), GUNICORN_THREADS (threads per worker, default 4), GUNICORN_TIMEOUT (seconds,
default 30). The app is loaded once in the master (`preload_app`), so a production
configuration error stops the start with its message instead of crash-looping every worker;
each forked worker then drops the database pools and Redis clients it inherited, because a
socket shared across processes corrupts both.
"""

from __future__ import annotations

import multiprocessing
import os

wsgi_app = "app:create_app()"

bind = f"0.0.0.0:{int(os.environ.get('PORT') or '8000')}"  # empty is unset, as for every variable here
# gthread: the handlers are short and wait mostly on PostgreSQL and Redis (the webhook receiver
# makes one round trip to each), so threads cover the waits and processes cover the cores.
# cores + 1 processes: more only add context switches and database connections on a small
# machine (measured on 2 cores: docs/benchmarks.md, "Webhook intake (issue 7)").
workers = int(os.environ.get("WEB_CONCURRENCY") or min(multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("GUNICORN_THREADS") or "4")
worker_class = "gthread"
# Webhooks must be answered within Shopify's 5 s; nothing legitimate takes 30.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or "30")
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows into an outage.
# (At webhook rates of hundreds per second a lower limit restarts a worker every few seconds.)
max_requests = 20000
max_requests_jitter = 2000
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Never write query strings (the OAuth callback carries `code` and `hmac`) to the access log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def pre_fork(server, worker) -> None:
    """Move everything the master loaded (the app, SQLAlchemy's models, the GraphQL documents:
    ~110,000 objects) out of the workers' garbage-collector passes before each fork (gc.freeze, as
    Python's documentation advises for pre-fork servers): a worker's full collection then scans
    only its own objects, and copy-on-write pages stay shared. Measured on 2 cores
    (docs/benchmarks.md): the bare endpoint's p99 ~100-120 ms -> 12-17 ms, ~10 % less CPU per
    request on both endpoints."""
    import gc

    gc.freeze()


def post_fork(server, worker) -> None:
    """Give each worker its own database connections and Redis clients."""
    from ledger.db import dispose_all
    from ledger.kv import reset_clients

    dispose_all()
    reset_clients()
