"""Handlers for app/uninstalled and the three mandatory compliance topics.

Each takes the inbox's WebhookEvent, works in one transaction, and leaves an audit record
that carries counts, never PII. The scrubbing itself lives in ledger.privacy (pure functions
plus the ledger queries), so it is tested on its own. Redis holds copies too: customers/redact
deletes the reconcile report kept there (it quotes order errors; the database copy is scrubbed
and served until the next report), shop/redact every key the app keeps for the shop
(`_shop_redis_keys`). RQ's failed jobs quote them as well (a handler's traceback, kept a year):
customers/redact deletes those of the customer's inbox rows and any naming them, shop/redact the
shop's. The keys and jobs go before the transaction commits: if Redis is down, the job fails whole
and runs again.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta
from typing import Any

from rq.job import Job
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from jobs import reconcile
from jobs.catalog_diff import result_key as catalog_diff_key
from jobs.inbox import Ignored, WebhookEvent, not_installed
from ledger import failed_job_shops, install_periods, kv, privacy, queues, run_outcome
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import AuditEvent, OfflineToken, Schedule, Shop, ShopStatus, WebhookInbox, as_utc, utcnow
from ledger.schedules import STOPPED_BY_UNINSTALL
from ledger.shop_row_lock import lock_domain
from shopify_app.admin_api.bulk import STARTED_PREFIX as BULK_STARTED_PREFIX
from shopify_app.admin_api.bulk import finished_key as bulk_finished_key
from shopify_app.admin_api.bulk import shop_keys as bulk_shop_keys
from shopify_app.admin_api.pacing import bucket_key, leases_key, queued_key

log = logging.getLogger(__name__)

ACTOR = "shopify"
REDACT_DELAY = timedelta(hours=48)  # shop/redact comes this long after app/uninstalled
# A shop/redact's uninstall is taken as the shop's last when within this of it (Shopify's delay is
# not to the second); a last uninstall later than that is another, whose own request comes later.
UNINSTALL_SLACK = timedelta(hours=1)


def _shop(session: Session, domain: str, *, for_update: bool = False) -> Shop | None:
    """The shop row (locked for update when asked, on PostgreSQL; SQLite has no row locks)."""
    query = select(Shop).where(Shop.domain == domain)
    return session.scalar(query.with_for_update() if for_update else query)


def _audit(
    session: Session,
    shop: Shop | None,
    domain: str,
    action: str,
    target: str | None,
    after: dict[str, Any] | None,
    before: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            shop_id=shop.id if shop else None,
            shop_domain=domain,
            actor=ACTOR,
            action=action,
            target=target,
            before=before,
            after=after,
        )
    )


# Where each topic's body names its shop (Shopify's shapes: the REST Shop of app/uninstalled).
BODY_SHOP = {
    "app/uninstalled": ("myshopify_domain", "domain"),
    "shop/redact": ("shop_domain",),
    "customers/redact": ("shop_domain",),
    "customers/data_request": ("shop_domain",),
}


def _same_shop(event: WebhookEvent) -> None:
    """Only the body is signed: the topic and shop headers of a replayed body may be anyone's. A
    body that does not name the header's shop (an orders/create body sent as shop/redact of
    another store) is refused, failing the delivery with the reason, before anything is erased."""
    named = next(
        (v for key in BODY_SHOP[event.topic] if isinstance(v := event.payload.get(key), str) and v), None
    )
    if named is None or named.strip().lower() != event.shop_domain.lower():
        raise Rejected(
            f"{event.topic} for {event.shop_domain}: its body names "
            f"{'no shop' if named is None else repr(named)} ({' or '.join(BODY_SHOP[event.topic])}), "
            "not this one; nothing done (a body resent with another shop's or topic's headers?)",
            system="shopify",
            code="WEBHOOK_SHOP_MISMATCH",
        )


def app_uninstalled(event: WebhookEvent) -> Ignored | None:
    """Revoke: drop the offline token, mark the shop uninstalled, stop its schedules. One of a shop
    the ledger does not know ends processed saying so (`not_installed`), as every other topic's."""
    _same_shop(event)
    with session_scope() as session:
        # Locked: a reinstall committing between the staleness check and the delete below would
        # otherwise lose its new token (and be marked uninstalled). It waits for this instead.
        shop = _shop(session, event.shop_domain, for_update=True)
        if shop is None:
            log.info("compliance: uninstall for unknown shop %s", event.shop_domain)
            return not_installed(event.shop_domain)
        if _older_than_install(shop, event):
            # A late delivery (a Shopify retry, the sweeper after Redis was down, a requeue) of an
            # uninstall the merchant has undone since: the new install's token must survive it. The
            # store was without the app from it to the reinstall all the same: an order placed then
            # is the store's own (ledger.install_periods), not one to post to the ERP.
            assert event.triggered_at is not None and shop.installed_at is not None
            install_periods.uninstalled_before(
                session, shop.domain, event.triggered_at, shop.installed_at, created_at=shop.created_at
            )
            times = {"triggered_at": str(event.triggered_at), "installed_at": str(shop.installed_at)}
            _audit(session, shop, shop.domain, "app.uninstalled.stale", shop.domain, times)
            log.info("compliance: uninstall of %s older than its reinstall; ignored", event.shop_domain)
            return
        before = {"status": shop.status}
        tokens = session.execute(delete(OfflineToken).where(OfflineToken.shop_id == shop.id)).rowcount
        schedules = session.execute(
            update(Schedule)
            .where(Schedule.shop_id == shop.id, Schedule.enabled.is_(True))
            .values(enabled=False, last_status=STOPPED_BY_UNINSTALL)  # a reinstall turns these back on
        ).rowcount
        shop.status = ShopStatus.UNINSTALLED.value
        shop.status_reason = "app uninstalled"
        shop.uninstalled_at = event.triggered_at or utcnow()
        # kept by shop/redact: an order placed before this is the app's, sent once paid after a reinstall
        install_periods.uninstalled(session, shop.domain, shop.uninstalled_at, created_at=shop.created_at)
        _audit(
            session,
            shop,
            shop.domain,
            "app.uninstalled",
            shop.domain,
            {"status": shop.status, "tokens_deleted": tokens, "schedules_disabled": schedules},
            before,
        )
    log.info("compliance: %s uninstalled (token revoked, %s schedules stopped)", event.shop_domain, schedules)


def _older_than_install(shop: Shop, event: WebhookEvent) -> bool:
    if shop.installed_at is None or event.triggered_at is None:
        return False
    installed = shop.installed_at if shop.installed_at.tzinfo else shop.installed_at.replace(tzinfo=UTC)
    triggered = event.triggered_at if event.triggered_at.tzinfo else event.triggered_at.replace(tzinfo=UTC)
    return triggered < installed


def _installed_since_uninstall(shop: Shop, event: WebhookEvent) -> str | None:
    """Why a shop/redact must not run (the shop was installed again after the uninstall it
    follows), or None. Shopify sends it REDACT_DELAY after the uninstall. A shop uninstalled now
    may have been installed again and uninstalled again since that one (a second uninstall less
    than REDACT_DELAY ago): the first uninstall's request would erase the second installation
    before its time; that one's own request comes REDACT_DELAY after it."""
    if shop.status == ShopStatus.UNINSTALLED.value:
        if event.triggered_at is None or shop.installed_at is None or shop.uninstalled_at is None:
            return None
        follows = as_utc(event.triggered_at) - REDACT_DELAY  # the uninstall this request follows
        installed, uninstalled = as_utc(shop.installed_at), as_utc(shop.uninstalled_at)
        if installed >= follows and uninstalled > follows + UNINSTALL_SLACK:
            return (
                f"the shop was installed again at {installed:%Y-%m-%d %H:%M} UTC, after the uninstall this "
                f"request follows, and uninstalled again at {uninstalled:%Y-%m-%d %H:%M} UTC: that "
                "uninstall's own request erases it"
            )
        return None
    if event.triggered_at is None or shop.installed_at is None:
        return f"the shop is {shop.status}, not uninstalled, and the request carries no time to compare"
    installed = shop.installed_at if shop.installed_at.tzinfo else shop.installed_at.replace(tzinfo=UTC)
    triggered = event.triggered_at if event.triggered_at.tzinfo else event.triggered_at.replace(tzinfo=UTC)
    if installed >= triggered - REDACT_DELAY:
        when = f"{installed:%Y-%m-%d %H:%M} UTC"
        return f"the shop is {shop.status}: installed again at {when}, after the uninstall"
    return None


def customers_data_request(event: WebhookEvent) -> None:
    """Find what the ledger holds on the customer; the audit event keeps its counts and row ids
    (no personal data: viewers read the audit trail), from which an admin or owner downloads the
    export to send the customer (privacy.export_recorded, GET /api/audit/<id>/export)."""
    _same_shop(event)
    ref = privacy.CustomerRef.from_payload(event.payload, "orders_requested")
    request_id = (event.payload.get("data_request") or {}).get("id")
    with session_scope() as session:
        shop = _shop(session, event.shop_domain)
        if shop is None:  # no shop row: its inbox alone may hold the customer (privacy.inbox_rows)
            export = privacy.export_inbox(session, event.shop_domain, ref)
        else:
            export = privacy.export_customer(session, shop, ref)
        _audit(
            session,
            shop,
            event.shop_domain,
            privacy.DATA_EXPORTED,
            f"customer:{ref.customer_id}",
            {
                "data_request_id": request_id,
                "customer_id": ref.customer_id,
                "counts": export["counts"],
                "exported": privacy.exported_ids(export),
            },
        )
    log.info("compliance: exported customer data for %s: %s", event.shop_domain, export["counts"])


def customers_redact(event: WebhookEvent) -> None:
    """Remove the customer's PII from every table; the audit record keeps only counts."""
    _same_shop(event)
    ref = privacy.CustomerRef.from_payload(event.payload, "orders_to_redact")
    with session_scope() as session:
        shop = _shop(session, event.shop_domain)
        if shop is None:  # no shop row: its inbox alone may hold the customer (privacy.inbox_rows)
            counts = privacy.redact_inbox(session, event.shop_domain, ref)
            _audit(session, None, event.shop_domain, privacy.CUSTOMER_REDACTED, f"customer:{ref.customer_id}",
                   {"counts": counts, "orders": len(ref.order_gids)})  # fmt: skip
            log.info("compliance: redacted customer data for %s (no shop row): %s", event.shop_domain, counts)
            return
        rows = privacy.customer_rows(session, shop, ref)
        counts = privacy.redact_customer(session, shop, ref, rows)
        conn = kv.get_redis()
        conn.delete(reconcile.redis_key(shop.id))
        counts["failed_jobs"] = _drop_customer_failed_jobs(session, shop, conn, rows, ref)
        _audit(
            session,
            shop,
            shop.domain,
            privacy.CUSTOMER_REDACTED,
            f"customer:{ref.customer_id}",
            {"counts": counts, "orders": len(ref.order_gids)},
        )
    log.info("compliance: redacted customer data for %s: %s", event.shop_domain, counts)


def shop_redact(event: WebhookEvent) -> None:
    """Delete everything held for the shop (48 h after uninstall), keeping one audit record."""
    _same_shop(event)
    with session_scope() as session:
        # A racing reinstall waits, of a store with no row too (shopify_app.oauth.install takes it)
        lock_domain(session, event.shop_domain)
        shop = _shop(session, event.shop_domain, for_update=True)
        if shop is not None and (reason := _installed_since_uninstall(shop, event)):
            # Shopify asks 48 h after an uninstall; a late or requeued delivery must not wipe a
            # shop that was installed again since. A shop merely not marked uninstalled (its
            # uninstall webhook missed, needs_reauth since Shopify revoked the token) is redacted.
            _audit(session, shop, shop.domain, "shop.redact.refused", shop.domain, {"reason": reason})
            log.warning("compliance: shop/redact for %s ignored: %s", event.shop_domain, reason)
            return
        redis_keys = _drop_shop_redis_keys(shop.id if shop else None, event.shop_domain)
        failed_jobs = _drop_shop_failed_jobs(session, shop.id if shop else None, event.shop_domain)
        counts = privacy.redact_shop(session, event.shop_domain)
        counts["redis_keys"] = redis_keys
        counts["failed_jobs"] = failed_jobs
        _audit(
            session, None, event.shop_domain, privacy.SHOP_REDACTED, event.shop_domain, {"deleted": counts}
        )
    log.info("compliance: redacted shop %s: %s", event.shop_domain, counts)


def _glob(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _drop_shop_redis_keys(shop_id: int | None, domain: str) -> int:
    """Delete the Redis keys the app keeps for one shop; returns how many there were.

    The reconcile report (jobs.reconcile), catalog diff results (jobs.catalog_diff), the Shopify
    pacer's bucket and its leases (admin_api.pacing) and the bulk-operation records
    (admin_api.bulk). Locks (jobs.locks, the token lock) are left to expire: deleting one a worker
    still holds would let a second run start beside it, and they hold no data.
    """
    conn = kv.get_redis()
    keys = [bucket_key(domain), leases_key(domain), queued_key(domain), *bulk_shop_keys(domain)]
    patterns = [f"{BULK_STARTED_PREFIX}{_glob(domain)}:*", bulk_finished_key(_glob(domain), "*")]
    if shop_id is not None:
        keys.append(reconcile.redis_key(shop_id))
        patterns.append(catalog_diff_key(shop_id, "*"))
    for pattern in patterns:
        keys.extend(conn.scan_iter(match=pattern, count=500))
    return int(conn.delete(*keys))


def _drop_customer_failed_jobs(
    session: Session, shop: Shop, conn: Any, rows: privacy.CustomerRows, ref: privacy.CustomerRef
) -> int:
    """Delete the shop's RQ failed jobs about the customer: those of their inbox rows (the handler's
    traceback may quote the payload: RQ keeps it and GET /api/jobs/failed shows it) and any other
    failed job of the shop (ledger.failed_job_shops) whose exception text names them, or that is about
    them: a job whose arguments name one of their orders, a replay of one of their messages. Another
    shop's failed job naming the same e-mail stays: the same person buying in two shops of the
    installation is redacted by each shop's own request, and that shop can still requeue its job.
    A job still queued, running or waiting for a retry stays (the customers/redact job itself is one
    of their inbox rows); its row's body is scrubbed, so what it says next no longer names them.
    The inbox rows stay in the ledger, their failure text scrubbed: a failed one is still listed on
    the Failed jobs page from its row, and its Retry enqueues it anew."""
    inbox = [row.job_id or queues.inbox_job_id(row.id) for row, _payload in rows.webhooks]
    her_messages = {str(message.id) for message in rows.messages}

    def of_shop_naming(job: Job, exc: str) -> bool:
        # a job about her order (an import, a cancel: its id among the arguments) or a replay of one
        # of her messages: its traceback may quote what the ERP answered about her (her CPF, her
        # name: no e-mail or phone to find it by)
        args = {str(arg) for arg in job.args or ()}
        replay = str(job.func_name or "").endswith(".replay") and bool(args & her_messages)
        if not (privacy.text_mentions(exc, ref) or args & ref.order_ids or replay):
            return False
        return bool(
            failed_job_shops.shops_jobs(session, [failed_job_shops.job_row(job)], shop.id, shop.domain)
        )

    naming = queues.failed_job_ids(of_shop_naming, conn=conn)
    return queues.delete_failed_jobs([*inbox, *naming], conn=conn)


def _drop_shop_failed_jobs(session: Session, shop_id: int | None, domain: str) -> int:
    """Delete RQ's failed jobs of the shop (their tracebacks quote its orders and customers): those
    of its webhook inbox rows, its scheduled runs (`func(shop_id)`, marked by ledger.run_outcome),
    any job ledger.failed_job_shops attributes to it (a `jobs.*` job whose first argument is its
    id, such as a reconcile order import; a replay of one of its messages), and any other failed
    job whose arguments or exception text name the shop's domain. Called before
    privacy.redact_shop deletes the inbox rows and messages that attribution reads."""
    inbox_ids = session.execute(
        select(WebhookInbox.id, WebhookInbox.job_id).where(WebhookInbox.shop_domain == domain)
    ).all()
    inbox = [job_id or queues.inbox_job_id(row_id) for row_id, job_id in inbox_ids]
    domain_text = re.compile(rf"(?<![\w.-]){re.escape(domain)}(?![\w-])", re.IGNORECASE)

    def of_shop(job: Job, exc: str) -> bool:
        scheduled = run_outcome.META_KEY in (job.meta or {}) and shop_id is not None
        if scheduled and list(job.args[:1]) == [shop_id]:
            return True
        row = failed_job_shops.job_row(job)
        if shop_id is not None and failed_job_shops.shops_jobs(session, [row], shop_id, domain):
            return True
        return any(domain_text.search(text) for text in (exc, *(repr(a) for a in job.args)))

    return queues.delete_failed_jobs([*inbox, *queues.failed_job_ids(of_shop)])
