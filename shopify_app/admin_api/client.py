"""The Admin API client flows use: `for_shop(shop)` gives one AdminClient per shop.

The client does not know whether it talks to Shopify or the sandbox: settings.admin_origin says
where to send and which Host header names the shop. Operations are grouped by area
(catalog_ops, inventory_ops, order_ops); the executor carries pacing, retries and errors; the
bulk runner carries bulk operations.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from shopify_app.admin_api.bulk import BulkRunner
from shopify_app.admin_api.catalog_ops import CatalogOperations
from shopify_app.admin_api.executor import Executor, RetryPolicy, TokenProvider
from shopify_app.admin_api.inventory_ops import InventoryOperations
from shopify_app.admin_api.order_ops import OrderOperations
from shopify_app.admin_api.pacing import (
    BACKGROUND,
    DEFAULT_BACKGROUND_FLOOR,
    FOREGROUND,
    LANES,
    BucketPacer,
    Lane,
)
from shopify_app.admin_api.transport import DEFAULT_TIMEOUT_SECONDS, AdminTransport, Timeout


class AdminClient(CatalogOperations, InventoryOperations, OrderOperations):
    """Every Admin API operation the flows use, for one shop."""

    def __init__(self, executor: Executor, *, bulk: BulkRunner | None = None) -> None:
        self.executor = executor
        self.shop = executor.shop
        self._bulk = bulk

    @property
    def bulk(self) -> BulkRunner:
        if self._bulk is None:
            raise RuntimeError("this AdminClient was built without Redis, so it has no bulk runner")
        return self._bulk

    def shop_timezone(self) -> str | None:
        """The shop's IANA time zone (`shop { ianaTimezone }`), e.g. "America/Sao_Paulo"."""
        zone = (self.executor.query("ShopTimezone").get("shop") or {}).get("ianaTimezone")
        return zone if isinstance(zone, str) else None

    def close(self) -> None:
        self.executor.transport.close()


def default_token_provider(shop_domain: str) -> TokenProvider:
    """Tokens from shopify_app.tokens (imported on first use: workers need no web code before)."""

    def provide(refused: str | None) -> str:
        from shopify_app.tokens import get_access_token

        return get_access_token(shop_domain, refused=refused)

    return provide


def build_client(
    shop_domain: str,
    *,
    base_url: str,
    api_version: str,
    token_provider: TokenProvider,
    extra_headers: dict[str, str] | None = None,
    redis_conn: redis.Redis | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    lane: Lane = FOREGROUND,
    background_floor: float = DEFAULT_BACKGROUND_FLOOR,
    timeout: Timeout = DEFAULT_TIMEOUT_SECONDS,
) -> AdminClient:
    """Wire a client from explicit parts (tests, the benchmark, the web app's interactive reads,
    which pass a short `timeout`); flows use `for_shop`.

    `lane`: BACKGROUND callers leave `background_floor` of the shared bucket to FOREGROUND ones
    (see pacing.py); the bulk runner shares the executor, so its polling is in the same lane."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}: one of {LANES}")
    transport = AdminTransport(base_url, api_version, extra_headers=extra_headers, timeout=timeout)
    timing: dict[str, Callable] = {}
    if sleep is not None:
        timing["sleep"] = sleep
    if clock is not None:
        timing["clock"] = clock
    floor = background_floor if lane == BACKGROUND else 0.0
    pacer = BucketPacer(redis_conn, shop_domain, floor=floor, **timing) if redis_conn is not None else None
    executor = Executor(
        shop_domain,
        transport,
        token_provider,
        pacer=pacer,
        retry=retry,
        **({"sleep": sleep} if sleep is not None else {}),
    )
    bulk = BulkRunner(executor, redis_conn, **timing) if redis_conn is not None else None
    return AdminClient(executor, bulk=bulk)


def for_shop(
    shop_domain: str,
    *,
    redis: redis.Redis | None = None,
    token_provider: TokenProvider | None = None,
    lane: Lane = FOREGROUND,
) -> AdminClient:
    """The client for `shop_domain`: settings' origin and API version, its tokens, shared Redis.

    Orders, edits, invoices and cancellations use the default FOREGROUND lane; the catalog flows
    (products, SKUs, prices, stock) and reconciliation pass `lane="background"`, which leaves
    SHOPIFY_BACKGROUND_FLOOR of the bucket to foreground callers."""
    from settings import get_settings

    settings = get_settings()
    base_url, headers = settings.admin_origin(shop_domain)
    if redis is None:
        from ledger.kv import get_redis

        redis = get_redis(settings.redis_url)
    return build_client(
        shop_domain,
        base_url=base_url,
        api_version=settings.api_version,
        extra_headers=headers,
        token_provider=token_provider or default_token_provider(shop_domain),
        redis_conn=redis,
        lane=lane,
        background_floor=settings.background_floor,
    )
