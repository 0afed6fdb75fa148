"""Fixtures for the ERP client tests: a client on a fake base URL with a retry policy that
records its waits instead of sleeping."""

from __future__ import annotations

import pytest
from erp_test_urls import BASE

from erp.client import ErpClient
from erp.retry import RetryPolicy


class Sleeps(list):
    """The waits a RetryPolicy asked for (tests never sleep)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps) -> ErpClient:
    policy = RetryPolicy(attempts=3, base=0.5, cap=4.0, sleep=sleeps, jitter=lambda: 1.0)
    return ErpClient(BASE, "ecommerce", "consinco", retry=policy, page_size=2)
