"""A worker killed (a deploy, out of memory, RQ's job timeout) while it waits on its bulk operation:
Shopify finishes the operation, and the pass never reads its results (no outcome recorded at all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shopify_app.admin_api.bulk import BulkRunner


class WorkerKilled(BaseException):
    """The worker gone: no `except Exception` of the pass records anything."""


def killed_once_the_bulk_finished(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any]) -> None:
    """`run` (a pass that goes bulk), its worker killed once Shopify finished the operation."""
    real_wait = BulkRunner.wait

    def dies_once_finished(self: BulkRunner, *args: Any, **kwargs: Any) -> Any:
        real_wait(self, *args, **kwargs)  # Shopify finished the operation...
        raise WorkerKilled()  # ...and the worker is gone before it reads the results

    with monkeypatch.context() as patched:
        patched.setattr(BulkRunner, "wait", dies_once_finished)
        with pytest.raises(WorkerKilled):
            run()
