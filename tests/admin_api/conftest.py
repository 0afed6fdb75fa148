"""Fixtures for the Admin API client: a client wired to requests-mock, real Redis, a fake clock."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
import redis
import requests_mock as requests_mock_module

from shopify_app.admin_api.client import AdminClient, build_client
from shopify_app.admin_api.executor import RetryPolicy, TokenProvider

SHOP = "loja-teste.myshopify.com"
BASE = "http://sandbox.test"
URL = f"{BASE}/admin/api/2026-10/graphql.json"


class FakeClock:
    """Time that only moves when the code under test sleeps (or the test advances it)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Tokens:
    """A token provider recording how it was called (the token Shopify refused, or None)."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    def __call__(self, refused: str | None) -> str:
        self.calls.append(refused)
        return f"shpat_token_{len(self.calls)}"


def cost_ext(
    requested: float = 10,
    actual: float = 10,
    available: float = 1990,
    maximum: float = 2000,
    rate: float = 100,
) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def gql_body(data: dict[str, Any] | None = None, *, errors: Any = None, **cost: float) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": cost_ext(**cost)}
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return body


THROTTLED = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}


def sent(mocker: requests_mock_module.Mocker) -> list[dict[str, Any]]:
    """The JSON bodies posted to the GraphQL endpoint, in order."""
    return [json.loads(r.body) for r in mocker.request_history if r.url == URL]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def http() -> requests_mock_module.Mocker:
    with requests_mock_module.Mocker() as mocker:
        yield mocker


@pytest.fixture
def make_client(redis_conn: redis.Redis, clock: FakeClock, tokens: Tokens) -> Callable[..., AdminClient]:
    def make(
        *, token_provider: TokenProvider | None = None, use_redis: bool = True, attempts: int = 4
    ) -> AdminClient:
        return build_client(
            SHOP,
            base_url=BASE,
            api_version="2026-10",
            extra_headers={"Host": SHOP},
            token_provider=token_provider or tokens,
            redis_conn=redis_conn if use_redis else None,
            retry=RetryPolicy(max_attempts=attempts, base_seconds=0.5, rng=random.Random(7)),
            sleep=clock.sleep,
            clock=clock,
        )

    return make


@pytest.fixture
def client(make_client: Callable[..., AdminClient]) -> AdminClient:
    return make_client()
