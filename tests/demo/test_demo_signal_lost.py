"""jobs.demo_signals: a stop signal whose DemoStopped Python discarded (its handler ran inside a
finalizer: "Exception ignored in ...") left the demo deaf to every later signal; the demo went on
and only kill -9 ended it, leaving its worker, rq cron and redis-server behind."""

from __future__ import annotations

import signal
import time

import pytest

from jobs import demo_signals
from jobs.demo_signals import DemoStopped, shielded, stop_on_signals


class _SignalledInFinalizer:
    def __del__(self) -> None:
        signal.raise_signal(signal.SIGTERM)  # the handler runs here: its DemoStopped is discarded


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost one, as said
def test_a_signal_lost_in_a_finalizer_does_not_deafen_the_demo(monkeypatch) -> None:
    monkeypatch.setattr(demo_signals, "UNWIND_SECONDS", 0.2)
    with pytest.raises(DemoStopped) as stopped, stop_on_signals():
        _SignalledInFinalizer()  # the first SIGTERM, lost
        time.sleep(0.3)  # no stop under way since
        signal.raise_signal(signal.SIGINT)  # Ctrl-C stops it
        time.sleep(1)
    assert stopped.value.name == "SIGINT"


def test_a_second_signal_while_unwinding_or_stopping_is_ignored() -> None:
    with pytest.raises(DemoStopped) as stopped, stop_on_signals():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            signal.raise_signal(signal.SIGINT)  # on its way to the stop: ignored
            with shielded():
                signal.raise_signal(signal.SIGHUP)  # the stop itself: ignored
    assert stopped.value.name == "SIGTERM"
