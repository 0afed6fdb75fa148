"""Runs one named operation against one shop: pacing, classification, bounded retries, token refresh.

Why here and only here: every flow gets the same answers to the hard questions. THROTTLED, 5xx
and network errors are retried with exponential backoff and jitter a bounded number of times
(then surface as Transient for RQ); anything Shopify refused (userErrors, bad query, 4xx) is
raised at once as Rejected, never retried blindly; a 401 hands the refused token back to the
token provider exactly once, which replaces it unless another worker already did; `ShopNeedsReauth`
from the token provider passes through before any HTTP call.

Two userErrors of the `@idempotent` mutations are no refusal but Shopify's answer to this
executor's own retries, so they are handled here, once for every caller (`mutate`):
- IDEMPOTENCY_CONCURRENT_REQUEST ("This request is currently in progress, please try again"): the
  resend after a timeout reached Shopify while it still ran the first request under that key.
  The call waits (the retry policy's backoff) and is sent again with the SAME key: the first
  request may yet apply, and the same key then answers its result instead of applying a second
  one. Still in progress after the policy's attempts, it is transient (IdempotencyInProgress) and
  the caller's unit is retried by RQ. The first request may still apply then, so the retry must
  not send a new request for the same things beside it: a write with no compare (a stock level of
  an item not stocked at the location yet, changeFromQuantity null) would be overwritten by the
  first one landing late, with the caller's record saying its own figure was sent. The caller
  keeps the key and its exact input and sends them again first (the stock writer:
  jobs/stock_in_flight.py), which is answered the first request's result or "in progress" again,
  never applied twice; the same key with recomputed input would be
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH, raised here as the userErrors it is.
- IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED ("Retry with a new idempotency key"): the request failed on
  Shopify's side (the 5xx this executor retried under the same key); nothing was applied under that
  key. The call is sent again at once under `idempotency.renewed_key(key, n)`, deterministic, so the
  same call made again walks the same keys and never applies a renewal twice.
The executor knows an operation's key from its document (`Operation.key_variable`). Every
`@idempotent` document that selects `userErrors.code` is covered (InventorySetAvailable,
InventorySetQuantities); InventoryActivate's payload has plain UserErrors without a code, so its
answers cannot be told apart (no flow sends it).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger import fence
from shopify_app.admin_api import documents
from shopify_app.admin_api.errors import (
    VARIANT_THROTTLE,
    IdempotencyInProgress,
    IdempotencyKeyFailed,
    MaxCostExceeded,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyNetworkError,
    ShopifyServerError,
    ShopifyTransient,
    ShopifyUnauthorized,
    ShopifyUserErrors,
    ShopUnavailable,
    Throttled,
    UnexpectedResponse,
    UserError,
    VariantThrottled,
)
from shopify_app.admin_api.idempotency import renewed_key
from shopify_app.admin_api.pacing import BucketPacer, QueryCost, new_lease, parse_cost
from shopify_app.admin_api.results import parse_user_errors
from shopify_app.admin_api.transport import AdminTransport, RawResponse

log = logging.getLogger(__name__)

# The shop's access token; given the token Shopify just refused (401), a replacement for it.
TokenProvider = Callable[[str | None], str]
# Called with every HTTP answer (operation name, raw response): metrics, the benchmark.
AnswerObserver = Callable[[str, RawResponse], None]
TRANSIENT_GRAPHQL_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
SHOP_INACTIVE = "SHOP_INACTIVE"  # top-level: "The shop is not active" (errors.ShopUnavailable)
# The userErrors of an @idempotent mutation that answer the key, not the input (see the docstring).
KEY_IN_PROGRESS = "IDEMPOTENCY_CONCURRENT_REQUEST"
KEY_FAILED_BEFORE = "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with "equal jitter": attempt n waits in [d/2, d], d = base*2^n."""

    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after > 0:
            return min(self.cap_seconds, retry_after)
        ceiling = min(self.cap_seconds, self.base_seconds * (2**attempt))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class GraphQLResult:
    """The `data` of a successful answer, with Shopify's request id and what the call cost."""

    data: dict[str, Any]
    request_id: str | None
    cost: QueryCost | None


def classify(operation: str, raw: RawResponse) -> GraphQLResult:
    """The answer's data, or the typed error it means (pure: no retry decisions here)."""
    rid = raw.request_id
    if raw.status == 401:
        raise ShopifyUnauthorized(raw.status, raw.text, request_id=rid)
    if raw.status == 429:
        raise Throttled("Shopify answered 429", status=429, request_id=rid, retry_after=raw.retry_after)
    if raw.status >= 500:
        raise ShopifyServerError(f"Shopify answered HTTP {raw.status}", status=raw.status, request_id=rid)
    if raw.status in ShopUnavailable.KINDS:  # the shop frozen (402) or locked (423): it passes
        raise ShopUnavailable(f"Shopify answered HTTP {raw.status}: {raw.text[:200]}", status=raw.status,
                              request_id=rid)  # fmt: skip
    if raw.status >= 400:
        raise ShopifyHTTPError(raw.status, raw.text, request_id=rid)
    if raw.errors:
        errors = raw.errors if isinstance(raw.errors, list) else [{"message": str(raw.errors)}]
        codes = {((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
        if "THROTTLED" in codes:
            raise Throttled(f"{operation} throttled", status=raw.status, request_id=rid)
        if SHOP_INACTIVE in codes:
            raise ShopUnavailable(f"{operation}: the shop is not active ({SHOP_INACTIVE})", request_id=rid)
        if codes & TRANSIENT_GRAPHQL_CODES:
            raise ShopifyServerError(f"{operation}: {sorted(c for c in codes if c)}", request_id=rid)
        if VARIANT_THROTTLE in codes:
            raise VariantThrottled(operation, errors, request_id=rid)
        if "MAX_COST_EXCEEDED" in codes:
            raise MaxCostExceeded(operation, errors, request_id=rid)
        raise ShopifyGraphQLError(operation, errors, request_id=rid)
    if raw.data is None:
        raise UnexpectedResponse(f"{operation}: HTTP {raw.status} without data")
    return GraphQLResult(raw.data, rid, parse_cost(raw.extensions))


def cost_key(operation: str, variables: dict[str, Any] | None) -> str:
    """Costs depend on the page size, so an operation's estimate is kept per `first`."""
    first = (variables or {}).get("first")
    return f"{operation}:first={first}" if first is not None else operation


# Mutations never sent a second time after an answer that may hide their success (a network
# error, a 5xx): Shopify has no idempotency key for them (no `@idempotent` in their 2026-10 schema
# description), and the second call either repeats the work (a bulk operation runs every line of its
# file twice, a fulfillment fulfils the same units twice while the fulfillment order has that many
# left, an order edit stages a second line of the variant, a second catalog or price list) or is
# refused as already done ("has already been cancelled", "already committed", "nothing left to
# capture", a fulfillment order no longer SCHEDULED, an authorisation already voided), which reads
# as a refusal. The error goes up as transient instead, after one attempt: the caller's retry looks
# before it sends again. The bulk runner looks for the operation it started; the ERP event
# appliers re-read the order and do what is left (the invoice plans its fulfillments from the
# fulfillment orders' remaining quantities, jobs/invoice_lines.py; a cancellation cancels only the
# fulfillments still active; a void only what is still authorised); an order edit's retry begins a
# new edit (the one left uncommitted changes nothing); a price list's retry finds the list on its
# market (a catalog made whose answer was lost is made again: nothing names it back yet).
# Every other mutation the app sends is resent: `@idempotent` ones under the same key
# (InventorySetAvailable, InventorySetQuantities, InventoryActivate) and those whose second call does
# what the first did: they set or delete named values (ProductSet by identifier,
# ProductVariantsBulkUpdate, MetafieldsSet, MetafieldsDelete, PriceListFixedPrices{Add,Update,Delete},
# FulfillmentTrackingInfoUpdate, OrderEditSetQuantity), add to a set (TagsAdd, PublishablePublish),
# make nothing lasting (OrderEditBegin: an edit never committed; StagedUploadsCreate: upload targets),
# or answer "done already" with a code the caller reads (MetafieldDefinitionCreate: TAKEN;
# FulfillmentOrderPreparedForPickup: NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER).
# tests/admin_api/test_not_resent.py holds every mutation document to one of these answers.
NOT_RESENT = frozenset({
    "BulkOperationRunMutation", "OrderCancel", "OrderEditCommit", "OrderCapture",
    "FulfillmentCreate", "FulfillmentCancel", "FulfillmentOrderOpen", "TransactionVoid",
    "OrderEditAddVariant", "OrderEditAddLineItemDiscount", "OrderEditRemoveDiscount", "CatalogCreate",
    "PriceListCreate",
})  # fmt: skip


class Executor:
    """Sends named operations for one shop through its transport, pacer and token provider."""

    def __init__(
        self,
        shop: str,
        transport: AdminTransport,
        token_provider: TokenProvider,
        *,
        pacer: BucketPacer | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        observer: AnswerObserver | None = None,
    ) -> None:
        self.shop = shop
        self.transport = transport
        self.token_provider = token_provider
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.observer = observer

    def execute(
        self, name: str, variables: dict[str, Any] | None = None, *, resend: bool = True
    ) -> GraphQLResult:
        """Run operation `name`; retries transient failures, raises typed errors otherwise.
        `resend=False`: this call is not sent again after an answer that may hide its success, as
        for NOT_RESENT (a productSet that creates a product: jobs/catalog_adopt.py)."""
        op = documents.operation(name)
        key = cost_key(name, variables)
        attempt = 0
        refreshed = False
        refused: str | None = None
        while True:
            if op.is_mutation:
                # a flow run that lost its lock (Redis restarted, its heartbeat stalled) writes nothing
                # more: another run may hold it and have sent newer figures (ledger.fence)
                fence.check(fence.FLOW_LOCKS)
            token = self.token_provider(refused)
            refused = None
            reserved, lease = self._reserve(key)
            try:
                raw = self.transport.send(op, variables, token)
                cost = parse_cost(raw.extensions)
            except ShopifyTransient as exc:
                self._settle(key, reserved, None, lease)
                held = name in NOT_RESENT or not resend
                if held and isinstance(exc, (ShopifyNetworkError, ShopifyServerError)):
                    raise  # it may have run: the caller finds out before anything is sent again
                attempt = self._retry_or_raise(name, attempt, exc, exc.retry_after)
                continue
            except BaseException:  # RQ's job timeout on the wire, anything else: the points go back
                self._settle(key, reserved, None, lease)
                raise
            self._settle(key, reserved, cost, lease)
            if self.observer is not None:
                self.observer(name, raw)
            try:
                return classify(name, raw)
            except ShopUnavailable:
                raise  # (the next call finds the shop as it is now: RQ tries the unit again later)
            except ShopifyUnauthorized:
                if refreshed:
                    raise
                log.info("shopify: 401 for shop=%s op=%s, refreshing the token once", self.shop, name)
                refreshed = True
                refused = token  # refreshed only while it is still the shop's stored token
            except Throttled as exc:
                # With Shopify's throttleStatus the pacer already knows how long to wait.
                paced = self.pacer is not None and cost is not None and cost.has_status
                attempt = self._retry_or_raise(name, attempt, exc, exc.retry_after, pause=not paced)
            except ShopifyTransient as exc:
                if (name in NOT_RESENT or not resend) and isinstance(exc, ShopifyServerError):
                    raise
                attempt = self._retry_or_raise(name, attempt, exc, exc.retry_after)

    def mutate(
        self,
        name: str,
        variables: dict[str, Any],
        root: str,
        *,
        errors_key: str = "userErrors",
        resend: bool = True,
    ) -> dict[str, Any]:
        """Run a mutation; its payload, or ShopifyUserErrors carrying field path, code and message.
        An idempotency key's answers (in progress, failed before) are waited out or answered with a
        new key here, never raised as a refusal (module docstring)."""
        key_variable = documents.operation(name).key_variable
        sent, waits, renewals = variables, 0, 0
        while True:
            result = self.execute(name, sent, resend=resend)
            payload = result.data.get(root)
            if not isinstance(payload, dict):
                raise UnexpectedResponse(f"{name}: answer has no {root} payload")
            user_errors = parse_user_errors(payload.get(errors_key))
            if not user_errors:
                return payload
            codes = {e.code for e in user_errors}
            if key_variable is None or not codes & {KEY_IN_PROGRESS, KEY_FAILED_BEFORE}:
                raise ShopifyUserErrors(name, user_errors, request_id=result.request_id)
            words = _words(user_errors)
            if KEY_IN_PROGRESS in codes:  # the same key again, after a pause
                busy = IdempotencyInProgress(f"{name}: {words}", request_id=result.request_id)
                waits = self._retry_or_raise(name, waits, busy, None)
                continue
            renewals += 1
            if renewals >= self.retry.max_attempts:
                raise IdempotencyKeyFailed(
                    f"{name}: {words} ({renewals} keys tried)", request_id=result.request_id
                )
            log.info("shopify: %s for shop=%s op=%s, sending a new key (%s)", KEY_FAILED_BEFORE,
                     self.shop, name, renewals)  # fmt: skip
            sent = {**variables, key_variable: renewed_key(variables[key_variable], renewals)}

    def query(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query; its data."""
        return self.execute(name, variables).data

    def _reserve(self, key: str) -> tuple[float, str | None]:
        """The points reserved for the call and their lease (a wait cut short gives them back)."""
        if self.pacer is None:
            return 0.0, None
        reserved = self.pacer.estimate(key)
        lease = new_lease(reserved)
        self.pacer.acquire(reserved, lease)
        return reserved, lease

    def _settle(self, key: str, reserved: float, cost: QueryCost | None, lease: str | None) -> None:
        if self.pacer is None:
            return
        self.pacer.reconcile(reserved, cost, lease)
        if cost is not None:
            self.pacer.remember(key, cost)

    def _retry_or_raise(
        self,
        name: str,
        attempt: int,
        exc: ShopifyTransient,
        retry_after: float | None,
        *,
        pause: bool = True,
    ) -> int:
        if attempt + 1 >= self.retry.max_attempts:
            log.warning(
                "shopify: giving up shop=%s op=%s after %s attempts: %s",
                self.shop,
                name,
                attempt + 1,
                type(exc).__name__,
                extra={"shop": self.shop, "operation": name, "request_id": exc.request_id},
            )
            raise exc
        # Paced (Shopify's throttleStatus told the pacer how long): no pause of its own, but for a
        # Retry-After Shopify gave (a 429 of another limit than the cost bucket, which shows room).
        delay = self.retry.delay(attempt, retry_after) if pause else (retry_after or 0.0)
        log.info(
            "shopify: retrying shop=%s op=%s after %s (attempt %s, %.2fs)",
            self.shop,
            name,
            type(exc).__name__,
            attempt + 1,
            delay,
            extra={"shop": self.shop, "operation": name, "request_id": exc.request_id},
        )
        if delay > 0:
            self.sleep(delay)
        return attempt + 1


def _words(errors: list[UserError]) -> str:
    return "; ".join(f"{e.message} ({e.code})" for e in errors)
