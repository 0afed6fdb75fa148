"""The demo runs in-process on free ports, with the test session's real Redis and a SQLite file.

One full run per module (it is the expensive part); the tests read its outcome, and the re-run
test runs the demo again on the same files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from jobs.demo import DemoResult, run_demo
from jobs.demo_stack import DemoOptions
from ledger import db, kv

SKUS = 60


@dataclass
class DemoRun:
    result: DemoResult
    lines: list[str]
    folder: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.folder / 'demo.db'}"


def demo_options(folder: Path, **overrides: Any) -> DemoOptions:
    values: dict[str, Any] = {
        "skus": SKUS,
        "companies": 3,
        "app_port": 0,
        "shopify_port": 0,
        "erp_port": 0,
        "database_path": folder / "demo.db",
        "log_path": folder / "demo.log",
        "burst": 30,
        "wait": False,
    }
    values.update(overrides)
    return DemoOptions(**values)


def run_in(
    folder: Path,
    *,
    on_line: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    **overrides: Any,
) -> DemoRun:
    """Run the demo; `on_line` sees every printed line as it is printed (while the demo runs)."""
    lines: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(line)

    result = run_demo(demo_options(folder, **overrides), echo, stop_event=stop)
    return DemoRun(result, lines, folder)


@pytest.fixture(scope="module")
def demo_environment(redis_server) -> Iterator[pytest.MonkeyPatch]:
    """APP_ENV=test, REDIS_URL = the session's Redis (flushed), no ledger/sandbox URLs set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_ENV", "test")
        patch.setenv("REDIS_URL", redis_server.url)
        for name in ("DATABASE_URL", "SHOPIFY_BASE_URL", "SHOPIFY_APP_URL", "CONSINCO_BASE_URL", "SMTP_URL"):
            patch.delenv(name, raising=False)
        redis.Redis.from_url(redis_server.url).flushall()
        kv.reset_clients()
        yield patch
        kv.reset_clients()
        db.dispose_all()


@pytest.fixture(scope="module")
def demo(demo_environment, tmp_path_factory) -> DemoRun:
    """The demo with orders, on a 60-SKU chain."""
    return run_in(tmp_path_factory.mktemp("demo"))
