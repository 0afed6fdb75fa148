"""Handlers the inbox tests route topics to (RQ imports them by dotted name, like real ones)."""

from __future__ import annotations

from ledger.errors import Transient

CALLS: list[str] = []


def record(event) -> None:
    CALLS.append(event.topic)


def always_transient(event) -> None:
    raise Transient("ERP unreachable")


def crashes(event) -> None:
    raise ValueError("handler bug")


ERP = {"down": True}


def run_against_the_erp(shop_id: int) -> str:
    """A flow's run(shop_id) that reads the ERP: Transient while ERP["down"]."""
    if ERP["down"]:
        raise Transient("ERP unreachable: connection refused")
    return "ok"


def horse_killed(shop_id: int) -> None:
    """A run whose forked work horse the kernel kills (the OOM killer during a big catalog load)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def hangs(event) -> None:
    """A handler stuck on an outside call (an ERP socket that never answers): RQ's job timeout ends it."""
    import time

    time.sleep(5)
