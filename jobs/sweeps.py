"""What the daily whole-read sweeps share (jobs.catalog_full, jobs.prices_full, jobs.stock_full).

A sweep holds its own lock (flow_lock(shop, its flow): the Flows page shows it running by it) for
the whole read; a second sweep of the same shop is skipped, logged (the first is doing the work).
The flow it sweeps holds its own locks inside: busy there means a pass of that flow is running,
and the sweep raises the worded Transient its module gives (RQ runs it again shortly; after the
last retry the schedule shows it failed, and the next day's sweep tries again), never a silent
skip. A sweep writes no message of its own (its units' are the swept flow's), so a replay of one
of them is the shop's sweep run again (`shop_of`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar

from jobs.locks import LockBusy, flow_lock
from ledger import trace
from ledger.db import session_scope
from ledger.errors import Transient

log = logging.getLogger(__name__)

R = TypeVar("R")


def run_alone(shop_id: int, flow: str, sweep: Callable[[], R], busy: Transient) -> R | None:
    """`sweep()` under the sweep's own lock; None when a sweep of the shop already runs. `busy` is
    raised (from the LockBusy) when the swept flow's own lock is held by a pass of it."""
    with ExitStack() as held:
        try:
            held.enter_context(flow_lock(shop_id, flow))
        except LockBusy:
            log.info("%s: sweep for shop %s skipped, it is already running", flow, shop_id)
            return None
        try:
            return sweep()
        except LockBusy as exc:
            raise busy from exc


def shop_of(message_id: int) -> int:
    """The shop of a swept flow's message, whose replay is that shop's sweep run again."""
    with session_scope() as session:
        return trace.get_message(session, message_id).shop_id
