"""How the demo stops: Ctrl-C, SIGTERM (`kill`, a CI job's timeout) and SIGHUP (the terminal
closed) all end it the same way, by stopping everything it started (worker, rq cron, the app,
both sandboxes, the embedded Redis) before it exits.

Why handlers of its own: Python's default SIGTERM ends the process at once, skipping the stop, so
the worker, rq cron and the embedded redis-server (a daemon of its own) were left running; and a
shell starts a background job (`make demo &`) with SIGINT ignored, which Python then keeps, so
`pkill -INT` did nothing. Each signal becomes `DemoStopped` (a KeyboardInterrupt, which no
`except Exception` of a step swallows) in the main thread, once: a second one while the demo is
stopping its children is ignored, so the stop (up to RQ's warm shutdown, 15 s) is never cut short.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class DemoStopped(KeyboardInterrupt):
    """A signal asked the demo to stop."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


_state = {"stopping": False, "installed": False}


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _state["stopping"]:
        log.info("demo: %s while stopping: ignored, the stop goes on", signal.Signals(signum).name)
        return
    _state["stopping"] = True
    raise DemoStopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT / SIGTERM / SIGHUP raise DemoStopped once (main thread only:
    elsewhere, as in a test calling the demo from a thread, nothing is installed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handle) for sig in STOP_SIGNALS}
    _state.update(stopping=False, installed=True)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.update(stopping=False, installed=False)


@contextmanager
def shielded() -> Iterator[None]:
    """A block no stop signal interrupts (the stop itself): one arriving now is ignored."""
    was = _state["stopping"]
    _state["stopping"] = True
    try:
        yield
    finally:
        _state["stopping"] = was
