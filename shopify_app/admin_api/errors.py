"""Every failure the Admin API client raises, classified as the ledger's Rejected / Transient.

Why typed: flows decide by class, never by parsing messages. A Rejected error is Shopify saying
no (the same request gives the same answer), so it is never retried blindly; a Transient one is
retried inside the client a bounded number of times, then by RQ. Each error keeps Shopify's
X-Request-Id so support can trace the call; none carries a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.errors import IntegrationError, Rejected, Transient
from ledger.words import Words

SYSTEM = "shopify"
# The operation a refusal names, as a note's words say it (shopify_app.note_words: a fragment whose
# English is the operation's name, as the refusal's English text writes it); any other operation is
# said by its name (refused_operation).
REFUSED_WHAT = {
    "OrderCapture": "refused_capture",
    "TransactionVoid": "refused_void",
    "FulfillmentCreate": "refused_fulfillment",
    "FulfillmentCancel": "refused_fulfillment_cancel",
    "FulfillmentOrderOpen": "refused_fulfillment_order_open",
    "FulfillmentOrderPreparedForPickup": "refused_ready_for_pickup",
    "FulfillmentTrackingInfoUpdate": "refused_tracking",
    "OrderCancel": "refused_order_cancel",
    "OrderEditBegin": "refused_edit_begin",
    "OrderEditAddVariant": "refused_edit_add_variant",
    "OrderEditSetQuantity": "refused_edit_set_quantity",
    "OrderEditAddLineItemDiscount": "refused_edit_discount",
    "OrderEditCommit": "refused_edit_commit",
    "MetafieldsSet": "refused_metafields_set",
    "MetafieldsDelete": "refused_metafields_delete",
    "TagsAdd": "refused_tags_add",
}


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's userErrors: Shopify's field path, code and message, verbatim."""

    field: tuple[str, ...]
    message: str
    code: str | None = None
    element_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"field": list(self.field), "message": self.message, "code": self.code}


def refused_words(operation: str, said: str, key: str = "shopify_refused") -> Words:
    """The refusal "<operation> rejected: <said>" in the merchant's words (shopify_refused; `key`
    shopify_refused_request: "<operation>: <said>", a request refused as a whole): the operation as
    a fragment of its own, Shopify's words (`said`: field paths, messages, codes) as they came."""
    what = REFUSED_WHAT.get(operation)
    fragment: Words = (what, {}) if what else ("refused_operation", {"operation": operation})
    return key, {"what": fragment, "message": said}


class ShopifyUserErrors(Rejected):
    """A mutation answered with userErrors: the target refused the input. Its words say the
    sentence around Shopify's own message in the merchant's language (`refused_words`), for the
    note a failed event leaves on its order."""

    def __init__(self, operation: str, errors: list[UserError], *, request_id: str | None = None) -> None:
        first = errors[0]
        text = "; ".join(
            f"{'.'.join(e.field) or '-'}: {e.message}" + (f" ({e.code})" if e.code else "") for e in errors
        )
        super().__init__(
            f"{operation} rejected: {text}",
            system=SYSTEM,
            code=first.code,
            field=list(first.field),
            detail={
                "operation": operation,
                "user_errors": [e.as_dict() for e in errors],
                "request_id": request_id,
            },
            words=refused_words(operation, text),
        )
        self.operation = operation
        self.errors = errors
        self.request_id = request_id

    @property
    def codes(self) -> set[str]:
        return {e.code for e in self.errors if e.code}


class ShopifyGraphQLError(Rejected):
    """HTTP 200 with top-level `errors` that are not throttling: a bad query, access denied, ..."""

    def __init__(
        self, operation: str, errors: list[dict[str, Any]], *, request_id: str | None = None
    ) -> None:
        codes = [((e.get("extensions") or {}).get("code")) for e in errors]
        message = "; ".join(str(e.get("message", e)) for e in errors)
        super().__init__(
            f"{operation}: {message}",
            system=SYSTEM,
            code=next((c for c in codes if c), None),
            detail={"operation": operation, "errors": errors, "request_id": request_id},
            words=refused_words(operation, message, "shopify_refused_request"),
        )
        self.operation = operation
        self.errors = errors
        self.request_id = request_id


class MaxCostExceeded(ShopifyGraphQLError):
    """The query asked for more than 1,000 points: the same request never succeeds; page smaller."""


class ShopifyHTTPError(Rejected):
    """A 4xx other than 401/429: the request itself is wrong (or access was removed)."""

    def __init__(self, status: int, body: str, *, request_id: str | None = None) -> None:
        super().__init__(
            f"Shopify answered HTTP {status}: {body[:300]}",
            system=SYSTEM,
            code=f"HTTP_{status}",
            detail={"status": status, "request_id": request_id},
            words=("shopify_answered_http", {"status": status, "body": body[:300]}),
        )
        self.status = status
        self.request_id = request_id


class ShopifyUnauthorized(ShopifyHTTPError):
    """401 even after one forced token refresh: the token is not accepted."""


class ShopifyTransient(Transient):
    """Worth retrying: network error, 5xx, throttled. Raised once the client's own retries are spent.
    Each kind is said in the merchant's words (`said_as`, shopify_app.note_words), whatever page
    shows it (a message's reason, a reconciliation's section, a flow's last run)."""

    said_as = "shopify_unavailable"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, retry_after=retry_after, status=status, request_id=request_id, system=SYSTEM
        )
        self.status = status
        self.request_id = request_id
        self.words = (self.said_as, {})


class BulkStillRunning(ShopifyTransient):
    """A bulk operation still running when its waiter's time was up: it goes on in Shopify (a bulk
    mutation may run up to 24 h); whoever waited tries again later."""

    said_as = "shopify_bulk_running"

    def __init__(self, message: str, *, bulk_id: str, status: str, object_count: int = 0) -> None:
        super().__init__(message)
        self.bulk_id = bulk_id
        self.status = status
        self.object_count = object_count
        self.detail.update(bulk_id=bulk_id, bulk_status=status, object_count=object_count)


class IdempotencyInProgress(ShopifyTransient):
    """IDEMPOTENCY_CONCURRENT_REQUEST: Shopify is still running an earlier request under the same
    idempotency key ("This request is currently in progress, please try again"), answered to the
    client's own resend after a timeout. Nothing was refused: the first request may yet apply."""

    said_as = "shopify_request_in_progress"


class IdempotencyKeyFailed(ShopifyTransient):
    """IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED answered to every new key the client's retries tried:
    Shopify keeps failing the request on its side. Nothing was refused; RQ runs it again later."""

    said_as = "shopify_request_failing"


class Throttled(ShopifyTransient):
    """THROTTLED in the body (HTTP 200) or HTTP 429: the shop's bucket is empty."""

    said_as = "shopify_throttled"


class ShopifyServerError(ShopifyTransient):
    """HTTP 5xx from Shopify."""

    said_as = "shopify_server_error"


class ShopUnavailable(ShopifyTransient):
    """The shop itself cannot be served now, whatever the request: frozen over an unpaid bill (HTTP
    402), locked (HTTP 423), or not active (the top-level code SHOP_INACTIVE). A state of the shop
    that passes, not a refusal of the request: refused as one, every unit of work of those days
    would wait for a person's Retry, one by one. Retried later as any outage is (not by the client:
    the next call minutes later finds the same), the message saying why."""

    KINDS = {402: "shopify_shop_frozen", 423: "shopify_shop_locked"}

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.words = (self.KINDS.get(status or 0, "shopify_shop_inactive"), {})


class ShopifyNetworkError(ShopifyTransient):
    """The request did not get an HTTP answer (connection refused, reset, timeout): `error`, the
    network error's name (ConnectTimeout), when there was one; none, the answer was lost."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.words = ("shopify_unreachable", {"error": error}) if error else ("shopify_answer_lost", {})


VARIANT_THROTTLE = "VARIANT_THROTTLE_EXCEEDED"  # Shopify's top-level error code of the daily variant limit


class VariantThrottled(Transient):
    """VARIANT_THROTTLE_EXCEEDED: the store holds 50,000 variants or more and, not on Shopify Plus,
    has created its 1,000 new variants of the day ("Daily variant creation limit reached"). Not a
    refusal of the product, and not a passing failure either: the client does not retry it (it is
    no ShopifyTransient) and the catalog holds new variants for a while (jobs.variant_quota)."""

    def __init__(
        self, operation: str, errors: list[dict[str, Any]], *, request_id: str | None = None
    ) -> None:
        message = "; ".join(str(e.get("message", e)) for e in errors)
        super().__init__(
            f"{operation}: {message}", system=SYSTEM, code=VARIANT_THROTTLE, request_id=request_id
        )
        self.operation = operation
        self.request_id = request_id


class BulkOperationFailed(Rejected):
    """A bulk operation ended FAILED / CANCELED / EXPIRED, or Shopify refused to start it."""

    def __init__(self, bulk_id: str | None, status: str, error_code: str | None = None) -> None:
        super().__init__(
            f"bulk operation {bulk_id} ended {status}" + (f" ({error_code})" if error_code else ""),
            system=SYSTEM,
            code=error_code or status,
            detail={"bulk_id": bulk_id, "status": status},
        )
        self.bulk_id = bulk_id
        self.status = status
        self.error_code = error_code


class UnexpectedResponse(IntegrationError):
    """The answer lacks a field the document asked for: a bug on one side, surfaced loudly."""
