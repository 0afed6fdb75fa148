"""Webhook validation: is this delivery from Shopify, and does it carry what we need?

Validation returns a result with a reason instead of raising, like Shopify's own app library;
the route maps reasons to status codes (bad or missing HMAC 401, missing headers 400). The
HMAC is computed over the raw bytes, compared in constant time, and never logged.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_HEADER = "X-Shopify-Shop-Domain"
API_VERSION_HEADER = "X-Shopify-API-Version"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"

REQUIRED_HEADERS = (TOPIC_HEADER, SHOP_HEADER, WEBHOOK_ID_HEADER)
# Headers kept with the inbox row (everything Shopify sends about the delivery, minus the signature).
KEPT_HEADERS = (
    TOPIC_HEADER,
    SHOP_HEADER,
    API_VERSION_HEADER,
    WEBHOOK_ID_HEADER,
    EVENT_ID_HEADER,
    TRIGGERED_AT_HEADER,
    "X-Shopify-Sub-Topic",
    "X-Shopify-Name",
    "Content-Type",
)


class Reason(enum.StrEnum):
    OK = "ok"
    MISSING_HMAC = "missing_hmac"
    INVALID_HMAC = "invalid_hmac"
    MISSING_HEADERS = "missing_headers"
    HEADERS_TOO_LONG = "headers_too_long"
    HEADERS_UNREADABLE = "headers_unreadable"


# How the route answers each reason.
STATUS_FOR_REASON = {
    Reason.OK: 200,
    Reason.MISSING_HMAC: 401,
    Reason.INVALID_HMAC: 401,
    Reason.MISSING_HEADERS: 400,
    Reason.HEADERS_TOO_LONG: 400,
    Reason.HEADERS_UNREADABLE: 400,
}

# The widest value each stored header may carry (the webhook_inbox columns): a longer one is a
# 400 naming it, not a database error (a 500) on the INSERT. Shopify's own are far shorter.
HEADER_WIDTHS = {TOPIC_HEADER: 100, SHOP_HEADER: 255, WEBHOOK_ID_HEADER: 100, EVENT_ID_HEADER: 100,
                 API_VERSION_HEADER: 20}  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """What the headers say about one verified delivery."""

    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str | None
    api_version: str | None
    triggered_at: datetime | None
    headers: dict[str, str]


@dataclass(frozen=True)
class VerifyResult:
    reason: Reason
    delivery: Delivery | None = None
    missing: tuple[str, ...] = ()  # the headers the reason is about (missing, or too long)

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK

    @property
    def status_code(self) -> int:
        return STATUS_FOR_REASON[self.reason]


def compute_hmac(raw_body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, as Shopify signs it (also used by tests and the sandbox)."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_valid_hmac(raw_body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(compute_hmac(raw_body, secret).encode(), signature.strip().encode())


# The X-Shopify-Triggered-At kept: none before the app's time, none later than a day from now
# (jobs.inbox clamps what is kept to the delivery's time). The header is not signed: a time far
# off (year 9999 in a zone west of UTC is year 10000 in UTC, which PostgreSQL stores and Python
# cannot read back) would make the row unreadable for good, and with it the shop's privacy
# requests, which read its inbox whole.
TRIGGERED_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
TRIGGERED_FUTURE = timedelta(days=1)


def _parse_time(value: str | None, now: datetime | None = None) -> datetime | None:
    """The header's time, in UTC; None when absent, unreadable or out of range (see above)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    now = now or datetime.now(UTC)
    return parsed if TRIGGERED_FLOOR <= parsed <= now + TRIGGERED_FUTURE else None


# The app's client secret signs Shopify's ID (session) tokens too (HS256): a token's signature is the
# HMAC of its "header.payload", so any staff member of any store holds a body signed as a webhook's
# would be. Such a body is refused as unsigned, and the unsigned headers must have a webhook's shape
# (a topic and a shop domain told in the merchant's pages and alerts: no text of a forger's).
TOKEN_SIGNING_INPUT = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
TOPIC_RE = re.compile(r"[a-z0-9_.]+(?:/[a-z0-9_.]+)*")  # orders/create, customer.tags_added
SHOP_RE = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


def _shaped(name: str, value: str | None) -> str:
    """The header as it is kept: a shop domain in lower case (Delivery.shop_domain), a topic as sent."""
    value = (value or "").strip()
    return value.lower() if name == SHOP_HEADER else value


def verify_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str | Sequence[str]) -> VerifyResult:
    """Authenticate a delivery first (401), then check it names topic, shop and webhook id (400).
    `secret` may be several (a rotation: the new secret and the old one Shopify may still use)."""
    signature = headers.get(HMAC_HEADER)
    if not signature:
        return VerifyResult(Reason.MISSING_HMAC)
    secrets = (secret,) if isinstance(secret, str) else secret
    if not any(is_valid_hmac(raw_body, one, signature) for one in secrets):
        return VerifyResult(Reason.INVALID_HMAC)
    if TOKEN_SIGNING_INPUT.fullmatch(raw_body.strip()):  # an ID token's signature, not Shopify's webhook
        return VerifyResult(Reason.INVALID_HMAC)
    missing = tuple(name for name in REQUIRED_HEADERS if not (headers.get(name) or "").strip())
    if missing:
        return VerifyResult(Reason.MISSING_HEADERS, missing=missing)
    too_long = tuple(
        name for name, width in HEADER_WIDTHS.items() if len((headers.get(name) or "").strip()) > width
    )
    if too_long:
        return VerifyResult(Reason.HEADERS_TOO_LONG, missing=too_long)
    # Only the body is signed: a replayed body may come with any headers. A NUL is no text
    # PostgreSQL stores (nor in JSON): a 400 naming the header, not a database error (a 500).
    unreadable = tuple(name for name in KEPT_HEADERS if "\x00" in (headers.get(name) or ""))
    unreadable += tuple(
        name
        for name, shape in ((TOPIC_HEADER, TOPIC_RE), (SHOP_HEADER, SHOP_RE))
        if name not in unreadable and not shape.fullmatch(_shaped(name, headers.get(name)))
    )
    if unreadable:
        return VerifyResult(Reason.HEADERS_UNREADABLE, missing=unreadable)
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    delivery = Delivery(
        topic=headers[TOPIC_HEADER].strip(),
        shop_domain=headers[SHOP_HEADER].strip().lower(),
        webhook_id=headers[WEBHOOK_ID_HEADER].strip(),
        event_id=(headers.get(EVENT_ID_HEADER) or "").strip() or None,
        api_version=headers.get(API_VERSION_HEADER) or None,
        triggered_at=_parse_time(headers.get(TRIGGERED_AT_HEADER)),
        headers=kept,
    )
    return VerifyResult(Reason.OK, delivery=delivery)
