"""Fixtures: both sandboxes in threads (a small chain: 4 companies, 2 segments) and the env."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sandbox.consinco.runner import serve_in_thread as consinco_in_thread
from sandbox.shopify.runner import serve_in_thread as shopify_in_thread

from .chain import Chain, ShopifyCalls, counting

LOCATIONS = tuple((f"Loja {n}", f"Rua {n}, {n}", "São Paulo", "SP") for n in range(1, 5))


@pytest.fixture
def chain(env, tmp_path) -> Iterator[Chain]:
    consinco = consinco_in_thread(
        port=0, db=str(tmp_path / "erp.db"), skus=16, companies=4, segments=2, seed=7
    )
    shopify = shopify_in_thread(port=0, seed_locations=LOCATIONS)
    env.setenv("SHOPIFY_BASE_URL", shopify.url)
    try:
        yield Chain(consinco, shopify)
    finally:
        shopify.stop()
        consinco.stop()


@pytest.fixture
def calls(chain) -> Iterator[ShopifyCalls]:
    with counting() as recorded:
        yield recorded


@pytest.fixture(autouse=True)
def quiet_servers() -> None:
    """The sandboxes' request lines would bury a failure's own output."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
