"""How the demo stops: Ctrl-C, SIGTERM (`kill`, a CI job's timeout) and SIGHUP (the terminal
closed) all end it the same way, by stopping everything it started (worker, rq cron, the app,
both sandboxes, the embedded Redis) before it exits.

Why handlers of its own: Python's default SIGTERM ends the process at once, skipping the stop, so
the worker, rq cron and the embedded redis-server (a daemon of its own) were left running; and a
shell starts a background job (`make demo &`) with SIGINT ignored, which Python then keeps, so
`pkill -INT` did nothing. Each signal becomes `DemoStopped` (a KeyboardInterrupt, which no
`except Exception` of a step swallows) in the main thread, once: a second one while the demo is
stopping its children is ignored, so the stop (up to RQ's warm shutdown, 15 s) is never cut short,
and so is one within UNWIND_SECONDS of the first (the demo unwinding towards its stop).

A signal whose handler runs inside a finalizer (a __del__, a weakref callback a GC pass runs at any
bytecode) raises where Python discards the exception ("Exception ignored in ..."): the demo went on,
and every later signal was ignored as if it were stopping (only kill -9 ended it, leaving its worker,
rq cron and redis-server). A later signal that finds no stop under way raises again.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class DemoStopped(KeyboardInterrupt):
    """A signal asked the demo to stop."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


UNWIND_SECONDS = 2.0  # from a DemoStopped raised to its stop (shielded) under way, at most
_state: dict[str, Any] = {"shielded": False, "raised_at": None, "installed": False}


def _handle(signum: int, _frame: FrameType | None) -> None:
    raised = _state["raised_at"]
    if _state["shielded"] or (raised is not None and time.monotonic() - raised < UNWIND_SECONDS):
        log.info("demo: %s while stopping: ignored, the stop goes on", signal.Signals(signum).name)
        return
    _state["raised_at"] = time.monotonic()
    raise DemoStopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT / SIGTERM / SIGHUP raise DemoStopped once (main thread only:
    elsewhere, as in a test calling the demo from a thread, nothing is installed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handle) for sig in STOP_SIGNALS}
    _state.update(shielded=False, raised_at=None, installed=True)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.update(shielded=False, raised_at=None, installed=False)


@contextmanager
def shielded() -> Iterator[None]:
    """A block no stop signal interrupts (the stop itself): one arriving now is ignored."""
    was = _state["shielded"]
    _state["shielded"] = True
    try:
        yield
    finally:
        _state["shielded"] = was
