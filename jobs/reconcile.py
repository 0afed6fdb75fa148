"""Daily reconciliation (flow `reconcile`): what webhooks and polls missed, and where the sides drift.

Sources: Shopify orders updated in the last `window` (2 days by default: the overlap Shopify
itself advises, since webhooks can be lost), the ledger's OrderLinks and trace, the ERP's
orders (GET PedidoVenda/{nro}), stock per mapped company and SKUs. Unit of work: one report per
shop and day (message `report:<YYYY-MM-DD>`, the store's day: `report_key`; the report in
response_payload; a second run the same day replaces it), also kept in Redis
(`reconcile:<shop_id>:latest`) for the CLI and page.

Sections:
- orders: Shopify orders without an OrderLink (webhook missed), or linked with no ERP number
  whose orders message closed holding nothing (skipped as unpaid, paid since: orders/paid
  missed) -> `jobs.orders.import_order` enqueued by dotted name; linked orders never sent to
  the ERP; ERP orders that do not exist; totals that differ (Shopify current total less tips,
  as the tip lines charge them now, and gift cards sold vs the ERP's vlrTotalAtendido, else
  vlrTotalPedido; listed apart as by design: a weighed item picked heavier, a lighter one's
  discount cents rounded up per unit, `_heavier`, `_weight_residual`);
  cancelled on one side only; ERP events about orders the app does not know; cancelled in Shopify
  while the app holds them live and no cancellation reached it (webhooks missed) ->
  jobs.cancellations.to_erp.cancel_in_erp enqueued (jobs.reconcile_cancels); in flight, not
  compared: changed within IN_FLIGHT, or a cancellation, edit or invoice still being processed (its
  message pending or retrying: jobs.reconcile_cancels); linked to
  the ERP the shop was connected to before (jobs.order_generation): counted, never looked up;
  Shopify answers null for an order older than 60 days unless the app holds read_all_orders (it
  does not ask for it): an order the app first saw longer ago than that (its link or its orders
  message) which reads null while the shop's grant lacks the scope is listed apart
  (`not_readable_in_shopify`, not compared, no drift), not as missing in Shopify; an order the
  ERP will not show (GET PedidoVenda/{nro} refused for that order, or answered unreadably) is
  listed as not checked (`not_checked`, the refusal in words), the others still compared (so is
  one Shopify will not give whole, its transactions or fulfillments past its largest page:
  NOT_READ_WHOLE), and the next report looks it up again (`not_checked_orders`), whether or not
  Shopify lists it then, and each report after until one compares it (in flight then, it is
  carried on; past CHECK_AGAIN_MAX the oldest carried are dropped, `not_checked_orders_dropped`
  says how many);
  orders the app holds open in the ERP (sent, no NF-e key, cancelled on neither side as it knows)
  that the window does not list are read from Shopify one by one and compared too, OPEN_SAMPLE a
  report in a daily turn (`open_in_erp_read` of `open_in_erp_count`): the ERP invoicing or
  cancelling an order days after the sale, its event missed, changes nothing in Shopify;
- stock: per mapped location, what the stock flow would set now (the ERP's figure less orders not
  in the ERP yet, taken before and after the ERP read: an order reaching the ERP meanwhile is in
  step counted either way, never twice nor in neither; whole Shopify units, 0 when not for sale)
  vs Shopify `available` for the bound SKUs: `stock_sample` of them per company, read 250 a call,
  a window that moves on by that many each day, so a catalog larger than the sample is covered
  whole every ceil(SKUs / sample) days; a SKU not for sale whose item Shopify no longer has (its
  product deleted by a person once the ERP stopped selling it: jobs.catalog_deleted keeps the
  binding) has no level to set and is left out;
  A mapped company the ERP lists inactive (a store closed) is not compared: the stock flow sets
  its levels to 0 on purpose (jobs.stock_closed); its row says so and points to that message;
- catalog: active ERP SKUs without a variant binding (those whose product waits for Shopify's daily
  limit on new variants, jobs.variant_quota, listed apart as `waiting_variant_quota`: their
  messages say so and send them again by themselves; no drift); bindings out of step with the ERP (the SKU
  gone, or the binding's `active` not what the catalog rule makes of the ERP's SKU: a SKU taken
  off the e-commerce keeps its variant with `active: false` by design, which is in step); and for
  the day's sample of bindings (the stock sample's size and turn), Shopify's own state: a variant
  deleted, or a product whose status does not sell what the ERP sells (ARCHIVED or DRAFT while the
  ERP sells it, ACTIVE while it does not; jobs.catalog_map.product_status), or fields the ERP owns
  (title, status, vendor, product type, description, a variant's SKU or barcode) that Shopify holds
  otherwise than the app sends them while the app would not send them again (edited by hand:
  jobs.catalog_drift; the row's `fields` names them): the ERP owns the catalog, so the run has
  them sent again by the next products pass (jobs.catalog_ledger.forget_sent; the row says so,
  `sent_again` lists the products); or a variant's price or compare-at price not the one the
  prices flow set from the ERP (edited by hand, a write lost: jobs.reconcile_prices; the row
  names the prices message whose Replay sends them again); or a market's price list holding for a
  bound variant another fixed price than the prices flow set there, or none, or the list deleted
  in Shopify (jobs.reconcile_price_lists, the same sample's turn: the price is sent again by the
  next prices pass, the list made again); and bound SKUs the ERP sells that the
  store's (company, segment) has no price record for (never priced: held at 0, not for sale; the
  prices flow says so only after a whole read of the pair, jobs.price_never_listed): when one has
  no price binding, the pair's prices are read whole (`never_priced`, `_never_priced`).
One record of the ERP the client cannot read (a stock record, a SKU record) is set aside as the
flows set it aside (jobs.stock_records, jobs.catalog_malformed): its SKUs are not compared and
the section says how many (`unreadable_note`, `skus_unread_note`); it fails no section. A read the
client cannot prove whole (`unsure`: jobs.absence) proves no absence: no binding is reported "not
in the ERP" (`orphan_bindings_note`), no SKU "never priced" (`never_priced_note`) from it.
A section the ERP or Shopify cannot answer carries its error; the others still report. Such a
report is incomplete: it is stored (message and Redis) so it stays visible, but the run does not
end done: it raises a Transient naming the sections (RQ retries it; the schedule shows retrying,
then failed) or, when no section's failure is worth retrying, fails with the sections' errors.
The next report's orders window reaches back to the last report whose orders section was checked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select

import erp
from erp.client import ErpClient
from jobs import (
    catalog_drift,
    catalog_ledger,
    catalog_malformed,
    nfe,
    old_orders,
    order_events,
    order_generation,
    order_risk,
    price_never_listed,
    price_records,
    price_unpriced,
    reconcile_cancels,
    reconcile_price_lists,
    stock_closed,
)
from jobs.catalog_map import ACTIVE, not_kg, product_status
from jobs.invoice_capture import CENTS_ABSORBED
from jobs.locks import DeadRunHoldsLock, LockBusy, flow_lock
from jobs.order_map import FINANCIAL_STATUS_WORDS, WILL_NOT_BE_PAID, erp_total_expected
from jobs.price_map import erp_today
from jobs.reconcile_prices import Expected, expected_prices, price_differs
from jobs.shop_served import served_only, skipped_dict
from ledger import (
    drift,
    handled,
    handled_before,
    install_periods,
    kv,
    queues,
    shop_settings,
    trace,
    variant_quota,
    watermarks,
)
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import BOTH
from ledger.handled import unless_handled
from ledger.models import (
    Binding,
    LocationMapping,
    Message,
    MessageStatus,
    OrderLink,
    Shop,
    StoreLink,
    utcnow,
)
from ledger.schedules import HOME_ZONE
from ledger.words import SUFFIX, Words, beside, stored
from settings import get_settings
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.order_settlement import (
    OrderTotal,
    gift_cards_sold,
    orders_with_totals_since,
    settlement,
)
from shopify_app.admin_api.stock_ops import MAX_ITEMS_PER_CALL, item_levels_at
from shopify_app.admin_api.variant_products import MAX_VARIANTS_PER_CALL, variant_products
from shopify_app.scopes import reads_all_orders

log = logging.getLogger(__name__)

FLOW = "reconcile"
WINDOW = timedelta(days=2)
STOCK_SAMPLE = 1000  # SKUs per company and day: 4 reads of 250
LISTED = 50  # rows listed per finding (counts are always complete)
TOLERANCE = Decimal("0.01")  # a cent or more differs: totals are equal to the cent by design
CENT = Decimal("0.01")  # a lighter weighed pick's discount is rounded up to it on each unit
IMPORT_JOB = "jobs.orders.import_order"
NOT_SENT_AFTER = timedelta(hours=1)
OVERLAP = timedelta(hours=1)  # a report window reaches this far back before the last report ran
MAX_CATCH_UP = timedelta(days=30)
IN_FLIGHT = timedelta(minutes=10)  # an order changed this recently may still be on its way in
# An ERP order whose status changed at or after the events poll's cursor (the ERP's own clock, as
# the poll reads: jobs.order_events) less this, when the report began, has an event the app had not
# read then: its invoice or cancellation is on its way, not missed (the poll runs every minute; a
# report run by hand during the day reads each ERP order minutes after its start).
EVENT_MARGIN = timedelta(minutes=2)
# ...but a cursor this far behind the report's start is a poll not keeping up (failing, its schedule
# stopped): an event after it is not on its way, and its order is reported as drift.
EVENTS_STALE = timedelta(minutes=30)
IN_CHUNK = 5000  # ids per IN (...) list: PostgreSQL takes at most 65,535 bind parameters a statement
SENT_AGAIN = "the ERP's values are sent again by the next products pass"
# A row's texts a person reads keep their words beside them (ledger.words.beside: `why_words`...),
# which the report's page says in the merchant's language (shopify_app.reconcile_words); the
# English is what the CLI prints. (English, words) of the fixed ones:
OF_ERP_BEFORE = (
    "of the ERP connected before (the ERP connection moved since): not compared",
    ("recon_of_erp_before", {}),
)
NEVER_SENT = ("never sent to the ERP (see the orders flow)", ("recon_never_sent", {}))
NOT_IN_ERP = ("not in the ERP", ("recon_not_in_erp", {}))
STILL_FOR_SALE = (
    "inactive in the ERP (or not for sale at the store), still for sale in Shopify",
    ("recon_still_for_sale", {}),
)
HELD_NOT_KG = (
    "a weighed product's packaging other than its 1 kg one: held out of the sale (its products message says "
    "what to change in the ERP)",
    ("recon_held_not_kg", {}),
)
NOT_YET_FOR_SALE = ("for sale in the ERP, not for sale in Shopify", ("recon_not_yet_for_sale", {}))
VARIANT_DELETED = ("variant deleted in Shopify while the ERP sells it", ("recon_variant_deleted", {}))
NOT_FOR_SALE_IN_SHOPIFY = (
    "not for sale in Shopify while the ERP sells it",
    ("recon_not_for_sale_in_shopify", {}),
)
FOR_SALE_IN_SHOPIFY = (
    "for sale in Shopify while the ERP does not sell it",
    ("recon_for_sale_in_shopify", {}),
)
ALL_MISSING = 3  # this many ERP orders looked up, every one a 404: the ERP address is wrong, not the orders
# Orders the ERP would not show that the next report looks up again (read from Shopify one by one):
# more than this many refused is the connection's matter, not an order's, and they stay counted.
CHECK_AGAIN_MAX = 250
_NOT_READ_THEN = "not compared today, the next report reads it again"
# Shopify's refusals to give one order whole (shopify_app.admin_api.settlement_lists): that order's,
# not the shop's, so it is listed as not checked and the others are still compared. (English, words):
NOT_READ_WHOLE = {
    "ORDER_TRANSACTIONS_NOT_READ": (
        "Shopify will not give the order's transactions whole (250 at most, and it has more: declined "
        f"payment tries, captures, refunds), so what was paid cannot be counted: {_NOT_READ_THEN}",
        ("recon_order_transactions_unread", {}),
    ),
    "ORDER_FULFILLMENTS_NOT_READ": (
        "Shopify will not give the order's fulfillments whole (250 at most, and it has more, cancelled "
        f"ones included), so its settlement cannot be read: {_NOT_READ_THEN}",
        ("recon_order_fulfillments_unread", {}),
    ),
}
# Orders still open in the ERP (sent, neither cancelled nor invoiced as the app knows it) older than
# the window, read from Shopify one by one and compared every report, at most this many a report in
# a daily turn (the stock sample's rule): an invoice or a cancellation made in the ERP days after the
# sale, its event missed, changes nothing in Shopify, so the window alone never reaches it.
OPEN_SAMPLE = 500


class ReportIncomplete(Transient):
    """A section could not be checked and retrying may help (Shopify or the ERP down): the partial
    report is stored, and RQ runs the report again. `report` is the partial report."""

    def __init__(self, message: str, report: dict[str, Any], words: Words | None = None) -> None:
        super().__init__(message)
        self.report = report
        self.words = words


class ReportRefused(Rejected):
    """A section could not be checked and retrying the same will not help (a refusal): the partial
    report is stored; the run fails with the sections' errors. `report` is the partial report."""

    def __init__(self, message: str, report: dict[str, Any], words: Words | None = None) -> None:
        super().__init__(message, system="app", code="SECTIONS_FAILED")
        self.report = report
        self.words = words


def redis_key(shop_id: int) -> str:
    return f"reconcile:{shop_id}:latest"


@served_only(FLOW, skipped_dict, needs_erp=True)
def run(shop_id: int, *, window: timedelta = WINDOW, stock_sample: int = STOCK_SAMPLE) -> dict[str, Any]:
    """Build, store and return today's report for one shop ({"busy": True} if one is running); as
    an RQ job, its summary alone (`_as_result`).

    Raises:
        DeadRunHoldsLock: an earlier try of this job died mid-report holding the lock (Transient:
            RQ runs it again once the lock lapsed); the report it left pending says it is waiting.
    """
    return _as_result(_locked_run(shop_id, window, stock_sample))


def _locked_run(shop_id: int, window: timedelta, stock_sample: int) -> dict[str, Any]:
    """`run`'s report whole, under the flow's lock."""
    try:
        with flow_lock(shop_id, FLOW):
            return _run(shop_id, window, stock_sample)
    except LockBusy:
        log.info("reconcile: shop %s already running", shop_id)
        return {"busy": True}
    except DeadRunHoldsLock as exc:
        with session_scope() as session:
            for left in trace.open_units(session, shop_id, FLOW, "report:%"):
                if left.status == MessageStatus.PENDING.value:  # begun by the dead try, never ended
                    trace.fail(session, left, exc)
        raise


def report_key(at: datetime, zone: str | None = None) -> str:
    """The unit of one day's report: the store's day `at` (in `zone`, Shopify's ianaTimezone, the
    zone its daily schedules run in: ledger.schedules), not UTC's. Brasília's 21:00 is already the
    next day in UTC: a report run by hand that evening would be named by the next day and replaced
    by the next morning's scheduled run, the evening's lost."""
    return f"report:{at.astimezone(store_zone(zone)):%Y-%m-%d}"


def store_zone(zone: str | None) -> ZoneInfo:
    """The store's zone; Brasília (HOME_ZONE, as the schedules say) when not known or not valid."""
    try:
        return ZoneInfo(zone or HOME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(HOME_ZONE)


@unless_handled
def replay(message_id: int) -> dict[str, Any]:
    """Run the report of the message's shop again (current state: a report is never replayed stale).

    The new report is today's message; a replayed message of an earlier day (parked on the ERP
    connection, resumed once it was saved) is done too, pointing to it, or it would stay parked."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.flow != FLOW:
            raise LookupError(f"message {message_id} is not a reconciliation report")
        shop_id, unit_key = message.shop_id, message.unit_key
    report = _locked_run(shop_id, WINDOW, STOCK_SAMPLE)
    if report.get("busy"):  # another report is running: this one is tried again after it (RQ's Retry)
        # Returned quietly, a replay of an earlier day's message (resumed once the ERP connection was
        # saved) left it parked for ever: nothing resumes it again, and today's report closes today's.
        raise Transient(
            f"a reconciliation report of shop {shop_id} is running; this one is tried again later"
        )
    if "summary" not in report:
        return _as_result(report)
    with session_scope() as session:  # the day the run keyed its report by (the store's)
        shop = session.get(Shop, shop_id)
        zone = shop.iana_timezone if shop is not None else None
    today = report_key(datetime.fromisoformat(report["generated_at"]), zone)
    if unit_key != today:
        with session_scope() as session:
            replayed = session.get(Message, message_id)
            if replayed is not None and replayed.status != MessageStatus.DONE.value:
                pointer = {"replaced_by": today, "summary": report["summary"]}
                trace.succeed(session, replayed, response=pointer)
    return _as_result(report)


def _as_result(report: dict[str, Any]) -> dict[str, Any]:
    """What a run returns: the whole report to a caller in the process (the CLI, a replay), only its
    summary to RQ, which keeps a job's return value in Redis (a scheduled run's until the next one):
    the report lists orders with their failures' words, which may name a customer, and that copy is
    out of customers/redact's reach (it deletes `redis_key`, the report kept for the page)."""
    from rq import get_current_job

    if get_current_job() is None:
        return report
    return {key: report[key] for key in ("busy", "shop", "generated_at", "summary") if key in report}


def latest(shop_id: int) -> dict[str, Any] | None:
    """The last stored report (Redis, else the newest report message; a replayed earlier day's
    message only points to the report its replay made)."""
    raw = kv.get_redis().get(redis_key(shop_id))
    if raw:
        return json.loads(raw)
    with session_scope() as session:
        messages = session.scalars(
            select(Message)
            .where(Message.shop_id == shop_id, Message.flow == FLOW, Message.response_payload.is_not(None))
            .order_by(Message.updated_at.desc())
        )
        for message in messages:  # an incomplete report (retrying, failed) is the latest too
            payload = message.response_payload
            if isinstance(payload, dict) and payload and "replaced_by" not in payload:
                return dict(payload)
        return None


def _since(session: Any, shop_id: int, started: datetime, window: timedelta) -> datetime:
    """The window, stretched back to the last report whose orders section was checked (less an
    overlap) when runs were missed or could not check the orders (Shopify or the ERP down), so
    such days leave no gap; at most MAX_CATCH_UP back. No report at all yet: the window alone."""
    since = started - window
    rows = _recent_reports(session, shop_id, started)
    any_report = (
        bool(rows)
        or session.scalars(
            select(Message.id).where(Message.shop_id == shop_id, Message.flow == FLOW).limit(1)
        ).first()
        is not None
    )
    if not any_report:
        return since
    last = next((created for created, payload in rows if _orders_checked(payload)), None)
    reach = started - MAX_CATCH_UP if last is None else max(_utc(last) - OVERLAP, started - MAX_CATCH_UP)
    return min(since, reach)


def _check_again(session: Any, shop_id: int, started: datetime) -> list[str]:
    """The orders the last report whose orders section was checked could not check (the ERP would not
    show them: `not_checked_orders`): looked up again whether or not the window reaches them, or
    one Shopify left unchanged since would never be compared again."""
    for _created, payload in _recent_reports(session, shop_id, started):
        if _orders_checked(payload):
            again = payload["orders"].get("not_checked_orders")
            return [str(gid) for gid in again] if isinstance(again, list) else []
    return []


def _recent_reports(session: Any, shop_id: int, started: datetime) -> list[Any]:
    """(created_at, report) of the reports within MAX_CATCH_UP of `started`, newest first."""
    return list(
        session.execute(
            select(Message.created_at, Message.response_payload)
            .where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.created_at >= started - MAX_CATCH_UP - OVERLAP,
            )
            .order_by(Message.created_at.desc())
        ).all()
    )


def _orders_checked(payload: Any) -> bool:
    """Whether a stored report compared the orders (its orders section has no error)."""
    orders = payload.get("orders") if isinstance(payload, dict) else None
    return isinstance(orders, dict) and "error" not in orders


def _run(shop_id: int, window: timedelta, stock_sample: int) -> dict[str, Any]:
    started = utcnow()
    with session_scope() as session:
        since = _since(session, shop_id, started, window)
        again = _check_again(session, shop_id, started)
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} does not exist")
        domain, zone = shop.domain, shop.iana_timezone
        message = trace.begin(session, shop_id, FLOW, report_key(started, zone), BOTH,
                              request={"since": since.isoformat(), "stock_sample": stock_sample})  # fmt: skip
        message_id = message.id
    try:
        client, erp_client = for_shop(domain, lane="background"), erp.for_shop(shop_id)
        report: dict[str, Any] = {
            "shop": domain,
            "generated_at": started.isoformat(),
            "since": since.isoformat(),
        }
        day = started.astimezone(store_zone(zone)).date()  # the sample's turn: the report's day
        report["orders"] = _section(lambda: _orders(shop_id, client, erp_client, since, again))
        report["stock"] = _section(lambda: _stock(shop_id, client, erp_client, stock_sample, day))
        report["catalog"] = _section(lambda: _catalog(shop_id, client, erp_client, stock_sample, day))
        report["summary"] = summary(report)
    except Exception as exc:
        with session_scope() as session:
            failed = session.get(Message, message_id)
            assert failed is not None
            trace.fail(session, failed, exc)
        raise
    incomplete = _incomplete(report)
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        if incomplete is None:
            trace.succeed(session, message, response=report)
            message.error_text = drift.line(drift.findings(report))  # done, and what it found
        else:  # kept visible, but not done: the schedule shows it retrying or failed
            message.response_payload = report
            trace.fail(session, message, incomplete)
    kv.get_redis().set(redis_key(shop_id), json.dumps(report), ex=timedelta(days=3))  # LGPD: not for ever
    log.info("reconcile: shop %s %s", shop_id, report["summary"], extra={"shop_id": shop_id, "flow": FLOW})
    if incomplete is not None:
        if not incomplete.retryable:
            _no_retry()
        raise incomplete
    return report


def _section(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One section; an outside system's classified failure is reported in it, not raised."""
    try:
        return build()
    except IntegrationError as exc:
        return _failed(exc)


def _failed(exc: IntegrationError) -> dict[str, Any]:
    """A section's (or a stock location's) failure as the report keeps it: its text, its words and
    whether it is worth retrying."""
    retryable = isinstance(exc, Transient)
    # its words: the failure's own (the ERP unreachable, its login refused), else its message as it came
    said = exc.words if exc.words is not None else exc.message
    part = ("recon_section_retried" if retryable else "recon_section_failed", {"said": said})
    return {**beside("error", f"{type(exc).__name__}: {exc.message}", part), "retryable": retryable}


SECTIONS = ("orders", "stock", "catalog")


def _incomplete(report: dict[str, Any]) -> ReportIncomplete | ReportRefused | None:
    """The failure a report with sections that could not be checked ends in (None: every one was):
    retried when any section's failure is worth retrying, else failed."""
    failed = [name for name in SECTIONS if "error" in report.get(name, {})]
    if not failed:
        return None
    text = "reconciliation incomplete: " + "; ".join(f"{name}: {report[name]['error']}" for name in failed)
    sections = {"join": "semicolon", "parts": [_section_said(name, report[name]) for name in failed]}
    words = ("reconcile_incomplete", {"sections": sections})
    if any(report[name].get("retryable") for name in failed):
        return ReportIncomplete(text, report, words)
    return ReportRefused(text, report, words)


def _section_said(name: str, section: dict[str, Any]) -> Words:
    """A failed section in the failure's words: its name, and its error's words as `_section` kept
    them (the failure's own, else its message as it came); a section stored without them: its text."""
    kept = section.get("error" + SUFFIX)  # as `beside` keeps them: a list of one part
    kept = kept[0] if isinstance(kept, list) and len(kept) == 1 else kept
    params = kept.get("params") if isinstance(kept, dict) else None
    said = params["said"] if isinstance(params, dict) and "said" in params else section["error"]
    parts: dict[str, Words] = {
        "orders": ("reconcile_incomplete_orders", {"said": said}),
        "stock": ("reconcile_incomplete_stock", {"said": said}),
        "catalog": ("reconcile_incomplete_catalog", {"said": said}),
    }
    return parts[name]


def _no_retry() -> None:
    """RQ's retries would give the same answer: the run fails now (as jobs.inbox does)."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.retries_left = 0


# ---------------------------------------------------------------------------- orders


def _orders(
    shop_id: int, client: AdminClient, erp_client: ErpClient, since: datetime, again: list[str] | None = None
) -> dict[str, Any]:
    """The orders section; `again`: orders the last report could not check, looked up again (those
    Shopify does not list in the window are read one by one)."""
    listed: dict[str, OrderTotal] = {o.id: o for o in orders_with_totals_since(client, since.isoformat())}
    with session_scope() as session:
        still_open, open_count = _open_in_erp(session, shop_id, set(listed), utcnow())
    unread: dict[str, Rejected] = {}  # Shopify would not give the order whole: not compared today
    for gid in dict.fromkeys([*(again or ()), *still_open]):
        if gid in listed:
            continue
        try:
            total = _order_total(client, gid)
        except Rejected as exc:
            if exc.code not in NOT_READ_WHOLE:
                raise
            unread[gid] = exc
            continue
        if total is not None:
            listed[gid] = total
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        # when the app was installed on the store, kept by domain (an earlier installation's orders,
        # whose links shop/redact erased, are the app's: imported as any missed order)
        installs = None if shop is None else install_periods.of_store(session, shop.domain, shop.created_at)
        asked = list(dict.fromkeys([*listed, *(again or ()), *still_open]))
        links, of_erp_before = _links(session, shop_id, asked, since)
        unknown = _unknown_erp_orders(session, shop_id, since)
        all_orders = shop is not None and reads_all_orders(shop.scopes or "")
        unlisted = [link for link in links if link.shopify_order_id not in listed]
        too_old = frozenset() if all_orders else old_orders.seen_before(session, shop_id, unlisted)
    linked = {link.shopify_order_id for link in links}
    recent = (utcnow() - IN_FLIGHT).isoformat()
    with session_scope() as session:  # where the ERP's events were read up to as the report begins
        events_read_to = watermarks.read(session, shop_id, "order_events").last_changed_at
    if events_read_to is not None and utcnow() - events_read_to > EVENTS_STALE:
        events_read_to = None  # the poll is not keeping up: nothing is excused as on its way
    cancel_reached, working = reconcile_cancels.messages_of(shop_id, list(linked | set(listed)))
    # Cancelled in Shopify, its webhooks missed: the cancellation the app never ran is enqueued.
    cancelling, cancels_enqueued, in_flight = _missed_cancels(shop_id, listed, links, cancel_reached,
                                                              working, recent)  # fmt: skip
    unlinked = [o for o in listed.values() if o.id not in linked and not o.cancelled_at]
    # Placed while the app was not installed (before its first install, or between an uninstall and
    # the install after it): the store handled it without the app (jobs.orders never sends it to the
    # ERP), so it is counted, not imported.
    before_install = [o for o in unlinked if installs is not None and _without_app(installs, o.created_at)]
    counted = {o.id for o in before_install}
    unlinked = [o for o in unlinked if o.id not in counted]
    # Linked with no ERP number (jobs.orders links an order it parks or refuses): its message
    # says why as well, so it is held as an unlinked one is, not "never sent to the ERP".
    # Its order need not be listed (changed within the window): a parked order replayed today
    # is linked today though Shopify last changed it days ago; the link stands in for it then.
    unsent = [listed.get(link.shopify_order_id) or _stand_in(link) for link in links
              if link.nro_pedvenda is None and link.cancelled_at is None]  # fmt: skip
    held, closed = _held_in_app(shop_id, unlinked + [o for o in unsent if not o.cancelled_at])
    missing_in_ledger, enqueued = [], []
    for order in unlinked:
        if order.id in held:
            continue  # the app has it: waiting for payment, parked on a mapping, refused (its message says)
        if _iso_utc(order.updated_at) >= recent:
            in_flight.append(order.id)  # its webhook may still be in the inbox: the next report sees it
            continue
        missing_in_ledger.append({"order": order.id, "name": order.name, "total": _text(order.current_total)})
        if _enqueue_import(shop_id, order.id):
            enqueued.append(order.id)
    # Linked with no ERP number, its message closed and holding nothing (skipped as unpaid, paid
    # since: the orders/paid was missed): imported again, as an unlinked one is, not reported
    # "never sent" every day. Only an order the listing brought: its state in Shopify is known.
    reimport = set()
    for order in unsent:
        if order.id not in closed or order.id not in listed or order.cancelled_at:
            continue
        reimport.add(order.id)
        if _iso_utc(order.updated_at) >= recent:
            in_flight.append(order.id)
        elif _enqueue_import(shop_id, order.id):
            enqueued.append(order.id)
    findings: dict[str, list[dict[str, Any]]] = {
        "missing_in_erp": [], "missing_in_shopify": [], "not_readable_in_shopify": [], "totals_differ": [],
        "status_differs": [], "not_checked": [],
    }  # fmt: skip
    before: list[dict[str, Any]] = []
    looked_up = _Lookups()
    compared: set[str] = set()
    for link in links:
        gid, order = link.shopify_order_id, listed.get(link.shopify_order_id)
        if gid in held or gid in reimport or gid in cancelling:
            continue
        if link.id in of_erp_before:
            # Its number is of the ERP the shop was connected to before (jobs.order_generation): in
            # the ERP used now the same number is another order. Not looked up, not compared.
            before.append({"order": gid, "name": link.shopify_order_name, "nro_pedvenda": link.nro_pedvenda,
                           **beside("why", *OF_ERP_BEFORE)})  # fmt: skip
            continue
        if gid in working or (order is not None and _iso_utc(order.updated_at) >= recent):
            in_flight.append(gid)  # a cancellation, edit, invoice (or a webhook) on its way: judged next time
            continue
        if gid in unread:
            findings["not_checked"].append({**_order_row(link), **_not_read_whole(unread[gid])})
            continue
        if _compare(link, order, client, erp_client, findings, looked_up, too_old=too_old,
                    events_read_to=events_read_to):  # fmt: skip
            in_flight.append(gid)  # its ERP event not read yet when the report began: judged next time
            continue
        compared.add(gid)
    looked_up.check()
    carried, dropped = _carry_over(findings["not_checked"], again or (), links, compared, of_erp_before)
    for row in _invoice_messages(shop_id, findings["status_differs"]):
        # its NF-e settled outside the app by a person (the capture refused, paid at the counter):
        # held in the app with their note, not drift counted every day the ERP order is read again
        findings["status_differs"].remove(row)
        held.setdefault(
            row["order"], {"order": row["order"], "name": row.get("name"), **row["invoices_message"]}
        )
    return {
        "checked": len(listed),
        # open in the ERP, older than the window: read one by one (OPEN_SAMPLE of them a report)
        "open_in_erp_read": len(still_open),
        "open_in_erp_count": open_count,
        "missing_in_ledger": missing_in_ledger[:LISTED],
        "missing_in_ledger_count": len(missing_in_ledger),
        # cut as every list is (a webhook outage: thousands, the stored report megabytes)
        "imports_enqueued": enqueued[:LISTED],
        "imports_enqueued_count": len(enqueued),
        "held_in_app": list(held.values())[:LISTED],
        "held_in_app_count": len(held),
        "placed_before_install_count": len(before_install),
        "in_flight_count": len(in_flight),
        "cancellations_enqueued": cancels_enqueued[:LISTED],
        "cancellations_enqueued_count": len(cancels_enqueued),
        "of_erp_before": before[:LISTED],
        "of_erp_before_count": len(before),
        **{k: v[:LISTED] for k, v in findings.items()},
        **{f"{k}_count": len(v) for k, v in findings.items()},
        # the real ones and those by design each listed up to LISTED: cut together, a day's heavier
        # weighed picks (the first found) left a real drift counted and no row of it listed
        "totals_differ": [r for r in findings["totals_differ"] if not r.get("by_design")][:LISTED]
        + [r for r in findings["totals_differ"] if r.get("by_design")][:LISTED],
        # Listed with the totals that differ, not counted as drift: a heavier weighed pick keeps
        # Shopify's price by design, a lighter one unsplit leaves its discount's cents (its row's
        # `why`), every day, in every supermarket.
        "totals_differ_count": sum(1 for row in findings["totals_differ"] if not row.get("by_design")),
        "totals_differ_by_design_count": sum(1 for row in findings["totals_differ"] if row.get("by_design")),
        "unknown_in_erp": unknown[:LISTED],
        "unknown_in_erp_count": len(unknown),
        # looked up again by the next report (_check_again), the window reaching them or not
        "not_checked_orders": carried,
        "not_checked_orders_dropped": dropped,
    }


def _open_in_erp(session: Any, shop_id: int, listed: set[str], now: datetime) -> tuple[list[str], int]:
    """The orders the app sent to the ERP within MAX_CATCH_UP that it holds open there (no NF-e key,
    not cancelled on either side as far as it knows) which the listing did not bring: OPEN_SAMPLE of
    them in the day's turn, and how many there are. Shopify changed nothing of them within the
    window, yet the ERP may have invoiced or cancelled one since with its event missed."""
    ids = session.scalars(
        select(OrderLink.shopify_order_id)
        .where(
            OrderLink.shop_id == shop_id,
            OrderLink.nro_pedvenda.is_not(None),
            OrderLink.nfe_key.is_(None),
            OrderLink.cancelled_at.is_(None),
            or_(OrderLink.erp_status.is_(None), OrderLink.erp_status != "C"),
            OrderLink.created_at >= now - MAX_CATCH_UP,
        )
        .order_by(OrderLink.shopify_order_id)
    ).all()
    unlisted = [gid for gid in ids if gid not in listed]
    if unlisted and order_generation.ever_moved(session, shop_id):  # not those of the ERP before
        mine = OrderLink.shop_id == shop_id
        links = [
            link
            for chunk in _chunks(unlisted)
            for link in session.scalars(select(OrderLink).where(mine, OrderLink.shopify_order_id.in_(chunk)))
        ]
        before = order_generation.before_current(session, shop_id, links)
        unlisted = sorted(link.shopify_order_id for link in links if link.id not in before)
    chosen, _start = _window(unlisted, OPEN_SAMPLE, now.date())
    return chosen, len(unlisted)


def _carry_over(
    not_checked: list[dict[str, Any]],
    again: Any,
    links: list[OrderLink],
    compared: set[str],
    before: set[int],
) -> tuple[list[str], int]:
    """The orders the next report looks up again, and how many CHECK_AGAIN_MAX left out: this report's
    not checked, then those carried to it that it did not compare (in flight, a cancellation or edit
    working, held): left out, one whose window moved past it would never be looked at again. One
    compared (drift or none) is carried no more, nor one of the ERP before (never compared) or
    without a link (nothing to compare). Newest first, so capped the newest stay: this report's,
    then the carried ones in the order they came (newest first too)."""
    fresh = [row["order"] for row in not_checked]
    linked = {link.shopify_order_id for link in links if link.id not in before}
    still = [gid for gid in again if gid in linked and gid not in compared]
    carry = list(dict.fromkeys([*fresh, *still]))
    return carry[:CHECK_AGAIN_MAX], max(0, len(carry) - CHECK_AGAIN_MAX)


def _order_total(client: AdminClient, gid: str) -> OrderTotal | None:
    """One order as the listing reads it, from its settlement (None: Shopify answers null for it).
    Its change time is not read: the order is not taken as in flight.

    Raises:
        Rejected (NOT_READ_WHOLE): Shopify will not give the order's transactions or fulfillments
            whole (settlement_lists); the caller lists that one order as not checked.
    """
    found = settlement(client, gid)
    if found is None:
        return None
    return OrderTotal(id=found.id, name=found.name, created_at=None, updated_at="",
                      cancelled_at=found.cancelled_at, financial_status=found.financial_status,
                      current_total=found.current_total, tips=found.tips)  # fmt: skip


def _enqueue_import(shop_id: int, order_id: str) -> bool:
    """jobs.orders.import_order for one order (False: its job is still waiting, not enqueued twice)."""
    num = order_id.rsplit("/", 1)[-1]
    job = queues.enqueue(IMPORT_JOB, shop_id, order_id, queue=queues.ORDERS, replace_ended=True,
                         job_id=queues.job_key("reconcile-import", shop_id, num))  # fmt: skip
    return job is not None


def _links(
    session: Any, shop_id: int, order_ids: list[str], since: datetime
) -> tuple[list[OrderLink], set[int]]:
    """The links of the listed orders and those written within the window, detached; the ids go
    IN_CHUNK a statement (a catch-up window of a large shop lists more than PostgreSQL binds).
    Also the ids of those linked to an order of the ERP the shop was connected to before
    (jobs.order_generation): the ERP used now is not asked about them (the same number there is
    another customer's order), nor do they count among the orders looked up (_Lookups)."""
    found: dict[int, OrderLink] = {}
    mine = OrderLink.shop_id == shop_id
    for link in session.scalars(select(OrderLink).where(mine, OrderLink.created_at >= since)):
        found[link.id] = link
    for chunk in _chunks(order_ids):
        for link in session.scalars(select(OrderLink).where(mine, OrderLink.shopify_order_id.in_(chunk))):
            found[link.id] = link
    links = [found[key] for key in sorted(found)]
    before = order_generation.before_current(session, shop_id, links)
    for link in links:
        session.expunge(link)
    return links, before


def _missed_cancels(
    shop_id: int,
    listed: dict[str, OrderTotal],
    links: list[OrderLink],
    reached: set[str],
    working: set[str],
    recent: str,
) -> tuple[set[str], list[str], list[str]]:
    """Orders Shopify lists cancelled that the app still holds as live (a link not marked cancelled
    nor cancelled in the ERP, or an open orders message) and whose cancellation never reached the
    app (no cancellations message: `reached`): their webhooks were missed (jobs.reconcile_cancels).
    Returns them all (not compared: their cancellation settles them), those whose cancellation
    was enqueued, and those in flight (changed a moment ago, its cancellation being processed, or
    its job still waiting)."""
    by_order = {link.shopify_order_id: link for link in links}
    cancelled = [o for o in listed.values() if o.cancelled_at and o.id not in reached]
    live = {o.id for o in cancelled if (link := by_order.get(o.id)) is not None
            and link.cancelled_at is None and link.erp_status != "C"}  # fmt: skip
    unlinked = [o for o in cancelled if o.id not in by_order]
    held, _closed = _held_in_app(shop_id, unlinked)
    live |= {gid for gid, row in held.items() if row["status"] in OPEN_MESSAGE}
    enqueued, in_flight = [], []
    for order in cancelled:
        if order.id not in live:
            continue
        if order.id in working or _iso_utc(order.updated_at) >= recent:
            in_flight.append(order.id)
        elif reconcile_cancels.enqueue_cancel(shop_id, order):
            enqueued.append(order.id)
        else:
            in_flight.append(order.id)  # enqueued by an earlier report, its job still waiting
    return live, enqueued, in_flight


NOT_READABLE = ("not readable: older than 60 days without read_all_orders", ("recon_not_readable", {}))


def _chunks(items: list[Any], size: int = IN_CHUNK) -> list[list[Any]]:
    return [items[at : at + size] for at in range(0, len(items), size)]


class _Lookups:
    """ERP orders looked up by number and how many answered 404. Every one of several missing says
    the ERP address is wrong (another base URL answers 404 for any order), not that the ERP lost
    every order the app sent it: the section fails with that instead of listing them all."""

    def __init__(self) -> None:
        self.asked = self.missing = 0

    def check(self) -> None:
        if self.asked >= ALL_MISSING and self.missing == self.asked:
            raise erp.ErpRejected(
                f"the ERP answered 404 (not found) for all {self.asked} orders looked up: check the ERP "
                "connection's address (base URL) before taking the orders as missing in the ERP",
                codigo="ALL_ORDERS_NOT_FOUND",
            )


def _missed_invoices(link: Any, erp_order: Any) -> list[str]:
    """The numbers of the ERP order's valid NF-e the app never heard of, beside the one its link
    holds: an order invoiced in parts whose later NF-e's event was missed (its goods not fulfilled,
    its money not captured, the totals alike on both sides: nothing else tells it). Known: a key
    an invoices message of the ERP order applied (its response) or received (its event). Asked of
    the ledger only for an order with a valid NF-e other than the link's."""
    have = nfe.normalise(link.nfe_key or "")
    valid = {nfe.normalise(i.key): i for i in getattr(erp_order, "invoices", ()) if i.key and i.valid}
    unseen = set(valid) - {have}
    if not unseen:
        return []
    with session_scope() as session:
        rows = session.execute(
            select(Message.request_payload, Message.response_payload).where(
                Message.shop_id == link.shop_id,
                Message.flow == "invoices",
                Message.erp_id == str(link.nro_pedvenda),
            )
        ).all()
    for request, response in rows:
        event_invoice = (request or {}).get("invoice") if isinstance(request, dict) else None
        for key in ((response or {}).get("key") if isinstance(response, dict) else None,
                    event_invoice.get("key") if isinstance(event_invoice, dict) else None):  # fmt: skip
            unseen.discard(nfe.normalise(key or ""))
    return [str(valid[key].number) for key in sorted(unseen, key=lambda k: valid[k].number)]


def _invoice_messages(shop_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of orders invoiced in the ERP but not in Shopify carry their invoices message's status
    and reason when the app received the invoice event (none: the event never reached the app).
    Returns those whose latest invoices message a person closed as handled (`ledger.handled`)."""
    invoiced = {str(row["nro_pedvenda"]): row for row in rows if row.get("erp") == "F"}
    if not invoiced:
        return []
    with session_scope() as session:
        messages = session.execute(
            select(Message.erp_id, Message.status, Message.error_text, Message.error_detail)
            .where(Message.shop_id == shop_id, Message.flow == "invoices", Message.erp_id.in_(list(invoiced)))
            .order_by(Message.id)
        ).all()
    settled: dict[str, bool] = {}
    for erp_id, status, why, detail in messages:  # the latest event's message last: it wins
        invoiced[erp_id]["invoices_message"] = {"status": status, **_message_why(status, why, detail)}
        settled[erp_id] = handled.info_of(status, detail) is not None
    return [invoiced[erp_id] for erp_id, by_hand in settled.items() if by_hand]


OPEN_MESSAGE = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value, MessageStatus.PARKED.value,
                MessageStatus.FAILED.value)  # fmt: skip


def _stand_in(link: OrderLink) -> OrderTotal:
    """What _held_in_app needs of an order the listing did not bring, from its link."""
    return OrderTotal(
        id=link.shopify_order_id,
        name=link.shopify_order_name or "",
        created_at=None,
        updated_at="",
        cancelled_at=None,
        financial_status=link.shopify_status,
        current_total=None,
    )


def _held_in_app(shop_id: int, orders: list[OrderTotal]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Orders not in the ERP (no link, or a link with no ERP number) whose webhook did arrive: their
    orders message (waiting for payment, parked, refused, a test order never sent...) says why;
    not a missed webhook, nor one "never sent". A closed message
    holds nothing: one skipped as unpaid (EXPIRED, VOIDED) whose order Shopify now shows paid, or
    one done whose link was lost, is not held (the missed orders/paid: imported again). One a
    person closed as handled outside the app (`ledger.handled`) is held, its note the reason: it
    may be in the ERP by hand, and is never imported again. Also returned: the orders whose
    message is closed and holds nothing (to import again)."""
    if not orders:
        return {}, set()
    keys = {f"order:{o.id.rsplit('/', 1)[-1]}": o for o in orders}
    rows = []
    with session_scope() as session:
        for chunk in _chunks(list(keys)):
            rows += session.execute(
                select(Message.unit_key, Message.status, Message.error_text, Message.error_detail).where(
                    Message.shop_id == shop_id, Message.flow == "orders", Message.unit_key.in_(chunk)
                )
            ).all()
    held, closed = {}, set()
    for key, status, why, detail in rows:
        order = keys[key]
        unpaid = (order.financial_status or "").upper() in WILL_NOT_BE_PAID
        never = bool((detail or {}).get("not_for_erp"))  # a test order (jobs.orders.not_for_erp)
        by_hand = isinstance(detail, dict) and isinstance(detail.get(handled.KEY), dict)
        if status in OPEN_MESSAGE or (status == MessageStatus.SKIPPED.value and (unpaid or never or by_hand)):
            held[order.id] = _held_row(order, status, why, detail)
        elif status in (MessageStatus.DONE.value, MessageStatus.SKIPPED.value) and not never:
            closed.add(order.id)
    return held, closed


def _held_row(order: OrderTotal, status: str, why: str | None, detail: Any) -> dict[str, Any]:
    """A held order's row: its orders message's status and text (`why`)."""
    return {"order": order.id, "name": order.name, "status": status, **_message_why(status, why, detail)}


def _message_why(status: str, why: str | None, detail: Any) -> dict[str, Any]:
    """A message's text quoted as a row's `why`, with words where the message has them: a person's
    note closing it as handled, a skip's own words, the payment it waits for. A failure's text (the
    ERP's or Shopify's own words, a mapping missing) is quoted as it is: its message explains it."""
    words = _message_words(status, detail if isinstance(detail, dict) else {})
    return {"why": why} if words is None or why is None else beside("why", why, words)


def _message_words(status: str, detail: dict[str, Any]) -> Words | None:
    closed = handled.info_of(status, detail)
    if closed is not None and not handled_before.by_app(closed):  # else its skip's words, below
        return ("recon_handled", {"note": closed.get("note") or ""})
    skipped = detail.get(trace.SKIP)
    if status == MessageStatus.SKIPPED.value and isinstance(skipped, dict) and skipped.get("key"):
        params = dict(skipped["params"]) if isinstance(skipped.get("params"), dict) else {}
        if skipped["key"] == "order_will_not_be_paid" and isinstance(params.get("status"), str):
            status = params["status"]  # in words (order_map's), as the waiting row's: a new status as it came
            params["status"] = FINANCIAL_STATUS_WORDS.get(status.upper(), status)
        return str(skipped["key"]), params
    if status == MessageStatus.PENDING.value and detail.get("waiting") == order_risk.WAITING:
        if order_risk.awaiting_app(detail):
            return ("recon_risk_awaiting_app", {})
        if detail.get("pending"):
            return ("recon_risk_pending", {})
        return (
            "recon_risk_investigate"
            if detail.get("recommendation") == "INVESTIGATE"
            else "recon_risk_cancel",
            {},
        )
    if status == MessageStatus.PENDING.value and detail.get("waiting") == "payment":
        status = detail.get("financial_status") or "?"  # in words (order_map's): a new status as it came
        return ("recon_waiting_payment", {"status": FINANCIAL_STATUS_WORDS.get(str(status).upper(), status)})
    return None


def _without_app(installs: install_periods.Installs, created_at: str | None) -> bool:
    """Whether an order Shopify made at `created_at` was placed while the app was not installed."""
    return bool(created_at) and installs.gap_at(datetime.fromisoformat(_iso_utc(created_at))) is not None


def _iso_utc(text: str | None) -> str:
    """Shopify's ISO time as a comparable UTC ISO string ("" when absent)."""
    if not text:
        return ""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _compare(
    link: OrderLink,
    shopify: OrderTotal | None,
    client: AdminClient,
    erp_client: ErpClient,
    findings: dict[str, list[dict[str, Any]]],
    looked_up: _Lookups | None = None,
    *,
    too_old: frozenset[str] = frozenset(),
    events_read_to: datetime | None = None,
) -> bool:
    """One linked order against both sides; True when it is in flight instead: its status differs
    (invoiced or cancelled in the ERP, not in Shopify) but its ERP status changed after the events
    poll's cursor `events_read_to` (less EVENT_MARGIN) when the report began, so the event saying it
    was not read then (`_event_unread`). An order Shopify answers null for is "missing in Shopify", but
    for one in `too_old` (older than Shopify lets the app read: jobs.old_orders.seen_before), which is
    not readable, not compared. A link without an ERP order is "missing in the ERP" unless Shopify shows
    the order cancelled: the ERP refused it (or it was never sent) and the store cancelled it since, so
    there is nothing the ERP should hold. An order the ERP invoiced (F) whose invoice the app never
    applied (no NF-e key on the link) differs in status: Shopify shows it unfulfilled, its payment not
    captured, no NF-e. A row of an order the app already flagged for a person carries the reasons
    (`attention`: every flow's note, one a line, as `ledger.order_notes` keeps them)."""
    row = _order_row(link)
    current = shopify if shopify is not None else client.order(link.shopify_order_id)
    if current is None:
        if link.shopify_order_id in too_old:
            findings["not_readable_in_shopify"].append({**row, **beside("why", *NOT_READABLE)})
        else:
            findings["missing_in_shopify"].append(row)
        return False
    if link.nro_pedvenda is None:
        if current.cancelled_at is not None:
            return False  # cancelled in Shopify before it reached the ERP: not missing there
        if link.created_at and utcnow() - _utc(link.created_at) > NOT_SENT_AFTER:
            findings["missing_in_erp"].append({**row, **beside("why", *NEVER_SENT)})
        return False
    if looked_up is not None:
        looked_up.asked += 1
    try:
        erp_order = erp_client.get_order(link.nro_pedvenda)
    except erp.ErpRejected as exc:
        if exc.status == 404:
            if looked_up is not None:
                looked_up.missing += 1
            findings["missing_in_erp"].append({**row, "why": exc.mensagem})
            return False
        if type(exc) is not erp.ErpRejected:  # the login or the address refused: every order's, the section's
            raise
        findings["not_checked"].append({**row, **_not_shown(link.nro_pedvenda, exc)})
        return False
    except erp.ErpUnexpectedShape as exc:
        findings["not_checked"].append({**row, **_not_shown(link.nro_pedvenda, exc)})
        return False
    if shopify is None:
        return False
    erp_cancelled, shop_cancelled = erp_order.situacao == "C", shopify.cancelled_at is not None
    invoiced_not_applied = erp_order.situacao == "F" and not getattr(link, "nfe_key", None)
    # the ERP's change on its way to Shopify (its event unread); not a cancellation made in Shopify
    erp_ahead = not shop_cancelled and (erp_cancelled or invoiced_not_applied)
    if erp_ahead and _event_unread(link, erp_order, events_read_to):
        return True
    if erp_cancelled != shop_cancelled:
        findings["status_differs"].append(
            {**row, "erp": erp_order.situacao, "shopify_cancelled": shop_cancelled}
        )
        return False
    if erp_cancelled:
        return False
    if invoiced_not_applied:
        numbers = ", ".join(str(i.number) for i in erp_order.invoices if i.valid)
        why = (f"invoiced in the ERP{f' (NF-e {numbers})' if numbers else ''}, invoice not applied in "
               "Shopify: no NF-e on the order, not fulfilled, payment not captured (the ERP's invoice "
               "event was missed or failed; see the order's invoices message)")  # fmt: skip
        words = (
            "recon_invoiced_not_applied_nfe" if numbers else "recon_invoiced_not_applied",
            {"numbers": numbers},
        )
        findings["status_differs"].append(
            {**row, "erp": "F", "shopify_cancelled": False, **beside("why", why, words)}
        )
    elif erp_order.situacao == "F" and (missed := _missed_invoices(link, erp_order)):
        numbers = ", ".join(missed)
        why = (
            f"NF-e {numbers} issued in the ERP after the one applied and not applied in Shopify: its goods "
            "not fulfilled, its payment not captured (the ERP's invoice event was missed)"
        )
        findings["status_differs"].append(
            {**row, "erp": "F", "shopify_cancelled": False,
             **beside("why", why, ("recon_invoice_missed", {"numbers": numbers}))}
        )  # fmt: skip
    erp_total = erp_order.total_served if erp_order.total_served is not None else erp_order.total
    if shopify.current_total is None:
        return False
    # The ERP order carries goods and freight: Shopify's total less tips and gift cards sold (no
    # ERP line carries them). The gift cards are read only for an order the tips do not explain.
    cards, tips = Decimal(0), shopify.tips
    expected = erp_total_expected(shopify.current_total, tips, cards)
    try:
        if expected - erp_total >= TOLERANCE:
            cards = gift_cards_sold(client, link.shopify_order_id)
            expected = erp_total_expected(shopify.current_total, tips, cards)
        # The listing's tip total may still count a tip refunded since (its line at 0, the current
        # total without it): the ERP then reads as above Shopify by it. What the tip lines charge now
        # decides (order_settlement.tip_value).
        tip_in_doubt = tips and erp_total - expected >= TOLERANCE
        found = settlement(client, link.shopify_order_id) if tip_in_doubt else None
    except Rejected as exc:  # Shopify would not give this order whole: the others are still compared
        if exc.code not in NOT_READ_WHOLE:
            raise
        findings["not_checked"].append({**row, **_not_read_whole(exc)})
        return False
    if found is not None:
        tips, cards = found.tips, found.gift_cards
        expected = erp_total_expected(shopify.current_total, tips, cards)
    if abs(expected - erp_total) >= TOLERANCE:
        basis = "vlrTotalAtendido" if erp_order.total_served is not None else "vlrTotalPedido"
        shop = {"shopify": _text(shopify.current_total)}
        shop |= {"tips": _text(tips)} if tips else {}
        shop |= {"gift_cards": _text(cards)} if cards else {}
        differ = {**row, **shop, "erp": _text(erp_total), "erp_basis": basis}
        gap = erp_total - expected
        findings["totals_differ"].append(
            differ
            | (
                _heavier(erp_order, gap)
                or _weight_residual(erp_order, gap)
                or _heavier_and_residual(erp_order, gap)
            )
        )
    return False


def _event_unread(link: OrderLink, erp_order: Any, events_read_to: datetime | None) -> bool:
    """Whether the ERP order's invoice or cancellation event was not read yet when the report began:
    its status changed at or after the events cursor less EVENT_MARGIN (both the ERP's clock), and
    the app traced no event of its flow for the order (an event read and failed, or closed by a
    person, is judged as ever). False when either time is unknown."""
    changed = getattr(erp_order, "status_changed_at", None)
    if changed is None or events_read_to is None or _utc(changed) < _utc(events_read_to) - EVENT_MARGIN:
        return False
    flow = "cancellations" if erp_order.situacao == "C" else "invoices"
    with session_scope() as session:
        traced = session.scalar(
            select(Message.id)
            .where(
                Message.shop_id == link.shop_id,
                Message.erp_id == str(erp_order.nro_pedvenda),
                Message.flow == flow,
                Message.unit_key.like("event:%"),
            )
            .limit(1)
        )
    return traced is None


def _order_row(link: OrderLink) -> dict[str, Any]:
    """A linked order's row: its ids, and the app's notes for a person when it already flagged it."""
    row = {"order": link.shopify_order_id, "name": link.shopify_order_name, "nro_pedvenda": link.nro_pedvenda}
    attention = getattr(link, "needs_attention", None)
    if attention:
        row["attention"] = attention
    return row


def _not_read_whole(exc: Rejected) -> dict[str, Any]:
    """The `why` of an order Shopify will not give whole (more transactions or fulfillments than its
    largest page: many declined Pix or card tries, shipments made and cancelled again and again). The
    read invoicing uses refuses it rather than count its money on part of it; so does the report,
    for that order alone: not compared today (the others are), the next report reads it again."""
    return beside("why", *NOT_READ_WHOLE[str(exc.code)])


def _not_shown(nro: int, exc: erp.ErpRejected | erp.ErpUnexpectedShape) -> dict[str, Any]:
    """The `why` of an order the ERP would not show: refused for this order alone (another user's or
    company's, say), or answered in a shape the client cannot read. The order is not compared today
    (the others are), and the next report looks it up again."""
    then = "not compared today, the next report looks it up again"
    if isinstance(exc, erp.ErpUnexpectedShape):  # the field, not the value (it may be anything)
        where = f"field {exc.field} at {exc.endpoint}"
        why = f"the ERP's answer for order {nro} could not be read ({where}): {then}"
        return beside("why", why, ("recon_order_unreadable", {"nro": nro, "field": exc.field,
                                                              "endpoint": exc.endpoint}))  # fmt: skip
    said = exc.words if exc.words is not None else exc.mensagem  # its own words, else the ERP's as it came
    why = f"the ERP refused to show order {nro}: {exc.mensagem}; {then}"
    return beside("why", why, ("recon_order_refused", {"nro": nro, "said": said}))


def _heavier_lines(erp_order: Any) -> tuple[list[Any], Decimal]:
    """The order's weighed lines picked heavier, and what they charge more than ordered."""
    heavier = [line for line in getattr(erp_order, "lines", ()) if line.weighed and not line.is_substitute
               and line.qty_served is not None and line.qty_served > line.qty_ordered]  # fmt: skip
    return heavier, sum((_charged_more(line) for line in heavier), Decimal(0))


def _heavier(erp_order: Any, gap: Decimal) -> dict[str, Any]:
    """The `why` of a total the ERP holds above Shopify's by what its weighed lines picked heavier
    charge (jobs.order_edits.to_shopify: a heavier pick is not charged above what was authorised,
    the Shopify line keeps its price by design); nothing when they do not explain the gap."""
    heavier, more = _heavier_lines(erp_order)
    if not heavier or gap <= 0 or abs(more - gap) >= TOLERANCE:
        return {}
    picks, parts = _picks(heavier)
    why = (
        f"weighed item(s) picked heavier ({picks}): the ERP charges {more} more; by design "
        "Shopify keeps its price, not charged above what was authorised"
    )
    return {**beside("why", why, ("recon_heavier", {"picks": parts, "more": {"money": str(more)}})),
            "by_design": True}  # fmt: skip


def _picks(lines: list[Any]) -> tuple[str, list[Any]]:
    """Weighed lines as picked ("P1E1 1.000 kg -> 1.040 kg"), in English and as stored words each."""
    text = ", ".join(f"{line.id_sku or line.seq_produto} {line.qty_ordered} kg -> {line.qty_served} kg"
                     for line in lines)  # fmt: skip
    parts = [
        stored(("recon_heavier_pick", {"sku": str(line.id_sku or line.seq_produto),
                                       "ordered": str(line.qty_ordered), "served": str(line.qty_served)}))
        for line in lines
    ]  # fmt: skip
    return text, parts


def _heavier_and_residual(erp_order: Any, gap: Decimal) -> dict[str, Any]:
    """The `why` of a gap that is both at once on one order: a weighed line picked heavier (not
    charged, `_heavier`) and another picked lighter whose discount Shopify could not split
    (`_weight_residual`): each alone was by design, the two together were listed as real drift
    (a sold-out cut of meat picked light beside another picked heavy). Nothing when the heavier
    lines' charge and the lighter lines' cents do not make the gap."""
    heavier, more = _heavier_lines(erp_order)
    residual = _weight_residual(erp_order, gap - more) if heavier else {}
    if not residual:
        return {}
    heavy, words = _heavier(erp_order, more), "why" + SUFFIX
    # both said one after the other, as `beside` keeps several parts ("; ": ledger.words.joined)
    return {
        "why": f"{heavy['why']}; {residual['why']}",
        words: heavy[words] + residual[words],
        "by_design": True,
    }


def _weight_residual(erp_order: Any, gap: Decimal) -> dict[str, Any]:
    """The `why` of a total the ERP holds a few cents above Shopify's by a lighter weighed pick's
    discount, rounded up to the cent on each of its units: Shopify discounts each unit alike, and
    where the line could not be split (no stock for the unit on a line of its own, the variant's
    price fell, units fulfilled: jobs.order_edits) it ends up to a cent a unit but one below the
    NF-e line; the invoice flow absorbs that, no person told (invoice_capture.CENTS_ABSORBED).
    Nothing when the gap is larger than those lines' cents (or than what the capture absorbs)."""
    lighter = [line for line in getattr(erp_order, "lines", ()) if line.weighed and not line.is_substitute
               and line.qty_served is not None and 0 < line.qty_served < line.qty_ordered]  # fmt: skip
    units = [int(line.qty_ordered.to_integral_value(rounding=ROUND_CEILING)) for line in lighter]
    cents = min(sum((CENT * (n - 1) for n in units if n > 1), Decimal(0)), CENTS_ABSORBED)
    if not 0 < gap <= cents:
        return {}
    picks, parts = _picks(lighter)
    why = (
        f"weighed item(s) picked lighter ({picks}): Shopify discounts each unit alike, so the weight's "
        f"discount rounded up to the cent per unit leaves Shopify {gap} below the ERP; by design, the "
        "capture follows the NF-e"
    )
    words = ("recon_weight_residual", {"picks": parts, "less": {"money": str(gap)}})
    return {**beside("why", why, words), "by_design": True}


def _charged_more(line: Any) -> Decimal:
    """What the ERP charges for a heavier pick above the ordered weight."""
    if line.total_ordered is not None and line.total_served is not None:
        return (line.total_served - line.total_ordered).quantize(TOLERANCE)
    return ((line.qty_served - line.qty_ordered) * line.unit_price).quantize(TOLERANCE)


def _unknown_erp_orders(session: Any, shop_id: int, since: datetime) -> list[dict[str, Any]]:
    """ERP orders the poller saw events of but no Shopify order matches (skipped as unknown)."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.SKIPPED.value,
            Message.unit_key.like("event:%"),
            Message.updated_at >= since,
            Message.error_text.like("ERP order % is not linked%"),
        )
    )
    seen: dict[str, dict[str, Any]] = {}
    for message in rows:
        detail = message.error_detail if isinstance(message.error_detail, dict) else {}
        said = detail.get(trace.SKIP)
        if isinstance(said, dict) and said.get("key") == order_events.SIBLING_KEY:
            continue  # another store's order on the same ERP: not this store's to match
        seen.setdefault(message.erp_id or "", {"nro_pedvenda": message.erp_id, "events": 0})["events"] += 1
    return list(seen.values())


# ---------------------------------------------------------------------------- stock and catalog


def _stock(
    shop_id: int, client: AdminClient, erp_client: ErpClient, sample: int, day: date | None = None
) -> dict[str, Any]:
    """Shopify's `available` against what the stock flow would set now (jobs.stock's own rule:
    the ERP's figure less the orders not in the ERP yet, in whole Shopify units, 0 for a SKU not
    for sale), so a weighed item, a pending order or an unpriced variant is not drift. `sample`
    SKUs per company, from where `day` puts the window (the whole catalog when it is larger).

    An order reaching the ERP while its rows are read (the orders job's POST: the ERP reserves it,
    its message closes) may be in the ERP's figure or not. The orders pending are taken before the
    read and again after it, with those come into the ERP since the first (taken, or their lines
    written, after it and reserved after their row was read: in neither snapshot), as the stock
    flow counts them, so such an order is never missed (Shopify one sale lower than the target).
    But a level counting it both as reserved and as pending is no target either (the stock flow
    accepts that for one pass, the safe direction; a report would call it drift): for a product
    with an order settled during the read, Shopify's level is in step with the order subtracted or
    without it (a differing row names both, `erp_if_reserved` the latter).

    A stock record the client cannot read is set aside, as the stock flow does (jobs.stock_records:
    it fails a message of its own there): its SKUs are not compared, the location says how many
    records could not be read (`unreadable_note`), and every other SKU is."""
    from jobs.stock_map import SkuUnit

    with session_scope() as session:
        locations = [
            (m.nro_empresa, m.location_id)
            for m in session.scalars(
                select(LocationMapping)
                .where(LocationMapping.shop_id == shop_id)
                .order_by(LocationMapping.nro_empresa)
            )
        ]
        variant_rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "variant")
        )
        variants, variant_ids = {}, {}
        for b in variant_rows:
            variants[b.erp_id], variant_ids[b.erp_id] = b.data or {}, b.shopify_id
        prices = {b.erp_id: (b.shopify_id, b.data or {}) for b in session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "price"))}  # fmt: skip
    units = {sku: u for sku, data in variants.items() if (u := SkuUnit.from_binding(sku, data))}
    by_product: dict[int, list[str]] = {}
    for sku, unit in units.items():
        by_product.setdefault(unit.seq_produto, []).append(sku)
    companies = erp_client.companies()
    listed = {company.nro_empresa: company.active for company in companies}
    # (a company whose record is unreadable is not taken for closed: its levels are compared)
    closed = stock_closed.closed_at(listed, {c: loc for c, loc in locations if c not in companies.unreadable})
    result: list[dict[str, Any]] = []
    failed: dict[str, Any] | None = None  # the first company's failure: the section's (retried, say)
    for nro_empresa, location_id in locations:
        if nro_empresa in closed:
            result.append(_closed_store(nro_empresa, location_id))
            continue
        bound = (units, by_product, variants, variant_ids, prices)
        try:
            result.append(
                _location_stock(shop_id, client, erp_client, nro_empresa, location_id, bound, sample, day)
            )
        except IntegrationError as exc:  # this company's read refused, or Shopify's: the others are compared
            failed = failed or _failed(exc)
            result.append({"nro_empresa": nro_empresa, "location_id": location_id, **_failed(exc)})
    section: dict[str, Any] = {"locations": result, "sample": sample}
    if failed is not None:  # the report is incomplete (retried or failed as the first failure says)
        section.update(failed)
    return section


def _location_stock(
    shop_id: int,
    client: AdminClient,
    erp_client: ErpClient,
    nro_empresa: int,
    location_id: str,
    bound: tuple[Any, ...],
    sample: int,
    day: date | None,
) -> dict[str, Any]:
    """One mapped company's comparison (`_stock`): `bound` is the shop's variants and prices as read."""
    from jobs.stock_map import (
        SkuUnit,
        for_sale,
        level_target,
        pending_base_by_product,
        sellable_base,
        sku_ids,
    )
    from jobs.stock_pending import pending_orders, pending_since

    units, by_product, variants, variant_ids, prices = bound
    # The orders pending before the ERP rows are read and after (the docstring says why).
    taken_at = utcnow()
    before = pending_orders(shop_id)
    bases: dict[str, tuple[Decimal | None, SkuUnit, bool]] = {}
    read = erp_client.stock(None, nro_empresa)
    read.keep_malformed = True  # an unreadable record's SKUs are left out, not the section
    for stock in read:
        base = sellable_base(stock)
        for id_sku in sku_ids(stock, lambda: by_product):
            unit, data = units.get(id_sku), variants.get(id_sku, {})
            if unit is None or not data.get("inventory_item_id"):
                continue
            priced_variant, price = prices.get(id_sku, (None, None))
            selling = for_sale(data, price, variant_id=variant_ids.get(id_sku), priced_variant=priced_variant)
            bases[id_sku] = (base, unit, selling)
    after = pending_orders(shop_id)
    # and, as the stock flow counts them (stock_pending.pending_since), the orders and Shopify edits
    # come into the ERP since `taken_at`: one taken (or whose import wrote its lines) after the first
    # snapshot and reserved after its row was read is in neither snapshot
    with_settled = pending_base_by_product(pending_since(before, shop_id, taken_at=taken_at), units)
    without_settled = pending_base_by_product(after.values(), units)
    expected: dict[str, int] = {}
    also: dict[str, int] = {}  # the level in step too, had the ERP reserved the orders settled meanwhile
    for id_sku, (base, unit, selling) in bases.items():
        key = (nro_empresa, unit.seq_produto)
        target = level_target(base, with_settled.get(key, Decimal(0)), unit, for_sale=selling)
        if target.quantity is None:  # no stock control: sold without limit, no level
            continue
        expected[id_sku] = target.quantity
        other = level_target(base, without_settled.get(key, Decimal(0)), unit, for_sale=selling)
        if other.quantity is not None and other.quantity != target.quantity:
            also[id_sku] = other.quantity
    chosen, start = _window(sorted(expected), sample, day or utcnow().date())
    differ = []
    for at in range(0, len(chosen), MAX_ITEMS_PER_CALL):
        batch = chosen[at : at + MAX_ITEMS_PER_CALL]
        seen = item_levels_at(client, [variants[s]["inventory_item_id"] for s in batch], location_id)
        for id_sku in batch:
            item = seen.get(variants[id_sku]["inventory_item_id"])
            if item is None and not bases[id_sku][2]:
                # Shopify no longer has the item (its product deleted by a person after the ERP
                # stopped selling it: jobs.catalog_deleted keeps the binding) and there is nothing
                # to sell: no level to set, no drift. One the ERP sells is the catalog check's.
                continue
            shopify = None if item is None else item.available  # None: not stocked there
            if shopify not in (expected[id_sku], also.get(id_sku, expected[id_sku])):
                row = {"sku": id_sku, "erp": str(expected[id_sku]), "shopify": shopify}
                if id_sku in also:
                    row["erp_if_reserved"] = str(also[id_sku])
                differ.append(row)
    return {"nro_empresa": nro_empresa, "location_id": location_id, "checked": len(chosen),
            "from_sku": chosen[0] if chosen and start else None,
            "bound_with_stock": len(expected), "differ": differ[:LISTED],
            "differ_count": len(differ),
            **_stock_unread(nro_empresa, len(read.malformed))}  # fmt: skip


def _stock_unread(nro_empresa: int, count: int) -> dict[str, Any]:
    """How many of the company's stock records could not be read (their SKUs not compared)."""
    if not count:
        return {}
    note = (
        f"{count} stock record(s) of company {nro_empresa} could not be read: their SKUs are not compared "
        "today (the stock flow fails a message for each, naming the record and the field)"
    )
    words = ("recon_stock_unreadable", {"company": nro_empresa, "count": count})
    return {"unreadable": count, **beside("unreadable_note", note, words)}


def _closed_store(nro_empresa: int, location_id: str) -> dict[str, Any]:
    """A mapped company the ERP lists inactive (or no longer lists): a store closed. The stock flow
    sets its levels at the location to 0 on purpose (jobs.stock_closed), so the ERP's figures are
    no target to compare with; its stock message says what to do."""
    note = (
        f"company {nro_empresa} is inactive in the ERP: the stock flow sets its levels at this "
        f"location to 0 on purpose (see the stock message stock:{nro_empresa}:inactive); not compared"
    )
    return {"nro_empresa": nro_empresa, "location_id": location_id, "checked": 0, "from_sku": None,
            "bound_with_stock": 0, "differ": [], "differ_count": 0, "closed": True,
            **beside("note", note, ("recon_store_closed", {"company": nro_empresa}))}  # fmt: skip


def _window(skus: list[str], sample: int, day: date) -> tuple[list[str], int]:
    """`sample` of the sorted SKUs, starting where the day's turn puts it and wrapping around:
    consecutive days check consecutive windows, so every SKU is checked within
    ceil(len / sample) days (all of them each day when the catalog is no larger)."""
    if len(skus) <= sample:
        return skus, 0
    start = (day.toordinal() * sample) % len(skus)
    return (skus[start:] + skus[:start])[:sample], start


def _catalog(
    shop_id: int,
    client: AdminClient,
    erp_client: ErpClient,
    sample: int = STOCK_SAMPLE,
    day: date | None = None,
) -> dict[str, Any]:
    """Bindings against the ERP (every one), then Shopify's own state for `sample` of them (the
    stock sample's turn): a variant deleted, a product whose status does not sell what the ERP
    sells. The catalog rule (jobs.catalog_map) decides what is in step: a SKU is sold when the ERP
    has it active and the prices flow found it for sale (not `off_sale`); a binding says so in
    `active`; a product is ACTIVE when one of its SKUs is sold, else the shop's inactive status.

    A SKU record the client cannot read is set aside (the catalog flow fails a message of its own
    for it, jobs.catalog_malformed), not the section failed: its binding is not reported "not in
    the ERP", nor its product's status judged from its other packagings (`skus_unread_note`). Nor
    does a read the client cannot prove whole (`unsure`: jobs.absence) prove a SKU gone: bindings
    whose SKU it did not list are counted in `orphan_bindings_note`, not listed."""
    read = erp_client.skus()
    read.keep_malformed = True
    skus = {sku.id_sku: sku for sku in read}
    unread = catalog_malformed.unread_skus(read, erp_client.names)
    unread_products = catalog_malformed.unread_products(read, erp_client.names)
    # absence proves nothing from a read not proven whole, or when an unreadable record may be any SKU
    doubt = read.unsure or ("a SKU record whose idSku cannot be read" if None in unread else None)
    with session_scope() as session:
        variants = {b.erp_id: (b.shopify_id, b.data or {}) for b in session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "variant"))}  # fmt: skip
        off = catalog_ledger.off_sale(session, shop_id)
        prices = expected_prices(session, shop_id, variants)
        shop = session.get(Shop, shop_id)
        inactive_status = str(shop_settings.get(shop, "inactive_sku_status")).upper() if shop else "DRAFT"
        quota = variant_quota.waiting_products(session, shop_id)
    active = {id_sku for id_sku, sku in skus.items() if sku.active}
    # a weighed product's packagings but its 1 kg one, held out of the sale by the catalog rule (no
    # variant made, one made kept off sale; its products message says what to change in the ERP)
    held = {id_sku for id_sku in active if not_kg(skus[id_sku].weighed, skus[id_sku].qtd_embalagem)}
    sold = {id_sku for id_sku in active if id_sku not in off and id_sku not in held}
    unbound = sorted(active - set(variants))
    missing = [id_sku for id_sku in unbound if skus[id_sku].seq_produto not in quota and id_sku not in held]
    held_rows = [{"sku": id_sku, **beside("why", *HELD_NOT_KG)} for id_sku in unbound if id_sku in held]
    waiting = [_quota_row(id_sku, *quota[skus[id_sku].seq_produto]) for id_sku in unbound
               if skus[id_sku].seq_produto in quota]  # fmt: skip
    out_of_step, unproven = [], 0
    for id_sku in sorted(variants):
        binding_active = bool(variants[id_sku][1].get("active", True))
        if id_sku not in skus:
            if id_sku in unread:  # its record came, unreadable: in the ERP, its state unknown
                continue
            if doubt:
                unproven += 1
                continue
            out_of_step.append({"sku": id_sku, **beside("why", *NOT_IN_ERP)})
        elif binding_active != (id_sku in sold):
            out_of_step.append({"sku": id_sku, **beside("why", *(STILL_FOR_SALE if binding_active
                                                                 else NOT_YET_FOR_SALE))})  # fmt: skip
    shopify = _shopify_catalog(client, skus, sold, variants, inactive_status, sample, day or utcnow().date(),
                               prices, shop_id=shop_id, unread_products=unread_products)  # fmt: skip
    again = shopify.pop("edited", [])
    if again:  # the ERP owns the catalog: its values go back with the next products pass
        with session_scope() as session:
            catalog_ledger.forget_sent(session, shop_id, [str(seq) for seq in again])
    never = _never_priced(shop_id, erp_client, active, variants)
    on_day = day or utcnow().date()
    lists = reconcile_price_lists.check(shop_id, client, variants, lambda s: _window(s, sample, on_day)[0],
                                        erp_today(get_settings().erp_timezone), LISTED)  # fmt: skip
    return {
        "erp_active": len(active),
        "bound": len(variants),
        "missing_in_shopify": missing[:LISTED],
        "missing_in_shopify_count": len(missing),
        "waiting_variant_quota": waiting[:LISTED],
        "waiting_variant_quota_count": len(waiting),
        "held_not_kg": held_rows[:LISTED],
        "held_not_kg_count": len(held_rows),
        "orphan_bindings": out_of_step[:LISTED],
        "orphan_bindings_count": len(out_of_step),
        **_unproven_note(unproven, doubt),
        **_unread_note(len(read.malformed)),
        **shopify,
        "sent_again": again[:LISTED],
        "sent_again_count": len(again),
        **never,
        **lists,
    }


def _quota_row(id_sku: str, unit: str, until: str | None) -> dict[str, Any]:
    """An active ERP SKU not in Shopify because its product waits for Shopify's daily limit on new
    variants (jobs.variant_quota): its products message says so and sends it again by itself;
    not drift (the count is apart from `missing_in_shopify`, as the orders the app holds)."""
    try:
        at = datetime.fromisoformat(until).strftime("%Y-%m-%d %H:%M UTC") if until else None
    except ValueError:
        at = None
    if at is None:
        why = ("waiting for Shopify's daily limit on new variants: the products flow sends it again by "
               "itself once the hold is over")  # fmt: skip
        return {"sku": id_sku, "message": unit, **beside("why", why, ("recon_variant_quota_soon", {}))}
    why = (f"waiting for Shopify's daily limit on new variants: the products flow sends it again by itself "
           f"after {at}")  # fmt: skip
    return {"sku": id_sku, "message": unit, **beside("why", why, ("recon_variant_quota", {"until": at}))}


def _unproven_note(count: int, doubt: str | None) -> dict[str, Any]:
    """Why `count` bindings whose SKU the read did not list are not reported "not in the ERP"."""
    if not count:
        return {}
    note = (f"{count} binding(s) whose SKU the ERP's SKU read did not list are not reported as not in the "
            f"ERP: the read does not prove them gone ({doubt})")  # fmt: skip
    return beside("orphan_bindings_note", note, ("recon_orphans_unproven", {"count": count}))


def _unread_note(count: int) -> dict[str, Any]:
    """How many SKU records the client could not read (their SKUs are not compared)."""
    if not count:
        return {}
    note = (f"{count} SKU record(s) of the ERP could not be read: their SKUs are not compared today (the "
            "catalog flow fails a message for each, naming the record and the field)")  # fmt: skip
    return {
        "skus_unread": count,
        **beside("skus_unread_note", note, ("recon_skus_unreadable", {"count": count})),
    }


def _never_priced(
    shop_id: int, erp_client: ErpClient, active: set[str], variants: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Bound SKUs the ERP sells (`active`) that the store's (company, segment) has no price record
    for: their variants, created at R$ 0.00, were never priced, and the stock flow holds them at 0
    (jobs.stock_map.for_sale). The prices flow says so only after a whole read of the pair
    (jobs.price_never_listed), which is rare. Read here whole when a bound SKU has no price binding
    at all (none: no read); one the read lists got its record since (the next prices pass prices
    it). A read the client cannot prove whole, or a record whose SKU cannot be told, lists none:
    the row would be a guess (`never_priced_note` says so). Rows point to the SKU's open prices
    message (NO_PRICE_RECORD), when the prices flow wrote one."""
    with session_scope() as session:
        link = session.scalars(select(StoreLink).where(StoreLink.shop_id == shop_id)).first()
        unpriced, _bound = price_never_listed.candidates(session, shop_id, (), set())
    unpriced = {sku: seq for sku, seq in unpriced.items() if sku in active}
    none: dict[str, Any] = {"never_priced": [], "never_priced_count": 0}
    if not unpriced or link is None:  # no store link: the prices flow parks, its message says so
        return none
    company, segment = link.nro_empresa, link.nro_segmento
    pair = f"company {company} segment {segment}"
    try:
        read = erp_client.price_items(None, company, segment)
        read.keep_malformed = True
        listed = {item.id_sku for item in read}
        unread = price_records.unread_skus(read, erp_client.names)
    except IntegrationError as exc:  # the ERP down or refusing: the rest of the section stands
        note = (f"the ERP's price list of {pair} could not be read ({exc.message}): SKUs never priced "
                "are not listed today")  # fmt: skip
        failed = ("recon_never_priced_failed", {"company": company, "segment": segment})  # the error: English
        return {**none, **beside("never_priced_note", note, failed)}
    if not read.complete or None in unread:
        why = "could not be read whole" if not read.complete else "has a record whose SKU cannot be read"
        note = f"the ERP's price list of {pair} {why}: SKUs never priced are not listed today"
        key = "recon_never_priced_unread" if not read.complete else "recon_never_priced_unreadable"
        return {**none, **beside("never_priced_note", note, (key, {"company": company, "segment": segment}))}
    if read.unsure:  # whole as far as it went, but no proof of a record's absence (jobs.absence)
        note = (f"the ERP's answer does not prove the price list of {pair} read whole ({read.unsure}): SKUs "
                "never priced are not listed today")  # fmt: skip
        unsure = ("recon_never_priced_unsure", {"company": company, "segment": segment})  # the doubt: English
        return {**none, **beside("never_priced_note", note, unsure)}
    units = {
        price_unpriced.store_unit(seq, sku): sku
        for sku, seq in sorted(unpriced.items())
        if sku not in listed and sku not in unread
    }
    with session_scope() as session:
        said = set(
            session.scalars(
                select(Message.unit_key).where(
                    Message.shop_id == shop_id,
                    Message.flow == "prices",
                    Message.unit_key.in_(sorted(units)),
                    Message.status == MessageStatus.FAILED.value,
                )
            )
        )
    why = (
        f"no price record (TabelaPrecoItem) in the ERP for {pair}: its variant was never priced "
        "(R$ 0.00) and is held at 0, not for sale, until the ERP has one"
    )
    never = ("recon_never_priced", {"company": company, "segment": segment})
    rows = [
        {"sku": sku, "variant": variants[sku][0], **beside("why", why, never)}
        | ({"message": unit} if unit in said else {})
        for unit, sku in units.items()
    ]
    return {"never_priced": rows[:LISTED], "never_priced_count": len(rows)}


def _shopify_catalog(
    client: AdminClient,
    skus: dict[str, Any],
    sold: set[str],
    variants: dict[str, tuple[str, dict[str, Any]]],
    inactive_status: str,
    sample: int,
    day: date,
    prices: dict[str, Expected] | None = None,
    *,
    shop_id: int | None = None,
    unread_products: set[int | None] | None = None,
) -> dict[str, Any]:
    """The sample's variants as Shopify has them (250 a call): deleted while the ERP sells them,
    their product's status selling what the ERP does not (or not selling what it does), fields the
    ERP owns edited in Shopify (with `shop_id`: against what the catalog flows would send; their
    products listed in `edited`, the caller's to send again), or their price or compare-at price
    not the one the prices flow set (`prices`: jobs.reconcile_prices). A product with a packaging
    whose record could not be read (`unread_products`; None in it: any product may have one) has
    its status not judged: what the ERP sells of it is not known."""
    prices = prices or {}
    unread_products = unread_products or set()
    by_product: dict[int, list[dict[str, Any]]] = {}
    for id_sku, sku in skus.items():
        by_product.setdefault(sku.seq_produto, []).append({"active": id_sku in sold})
    # Bindings of SKUs still in the ERP; one with no variant id yet has nothing to read.
    chosen, start = _window(sorted(s for s in variants if s in skus and variants[s][0]), sample, day)
    as_sent = _as_sent(shop_id, {skus[s].seq_produto for s in chosen}) if shop_id is not None else {}
    differ: list[dict[str, Any]] = []
    rows: dict[int, dict[str, Any]] = {}  # seqProduto: its product's row in `differ`
    edited: dict[int, list[str]] = {}  # seqProduto: the fields the ERP owns edited in Shopify
    gone: set[int] = set()  # seqProduto: a packaging the ERP sells deleted in Shopify
    priced: list[dict[str, Any]] = []
    products_seen: set[str] = set()
    for at in range(0, len(chosen), MAX_VARIANTS_PER_CALL):
        batch = chosen[at : at + MAX_VARIANTS_PER_CALL]
        seen = variant_products(client, [variants[s][0] for s in batch])
        for id_sku in batch:
            variant_id, found = variants[id_sku][0], seen.get(variants[id_sku][0])
            if found is None:
                if id_sku in sold:  # a person deleted it (or its product, the webhook missed): the ERP
                    # still sells it, and no pass would send it again before the ERP edits the product
                    seq = skus[id_sku].seq_produto
                    gone.add(seq)
                    differ.append({"sku": id_sku, "variant": variant_id, "seq_produto": seq,
                                   **beside("why", *VARIANT_DELETED),
                                   **beside("sent_again", SENT_AGAIN, ("recon_sent_again", {}))})  # fmt: skip
                continue
            price_row = price_differs(id_sku, variant_id, prices.get(id_sku), found.price, found.compare_at)
            if price_row is not None:
                priced.append(price_row)
            seq = skus[id_sku].seq_produto
            sent_input = as_sent.get(seq)
            fields = [] if sent_input is None else catalog_drift.variant_differs(
                sent_input, id_sku, found.sku, found.barcode)  # fmt: skip
            if found.product_id not in products_seen:
                products_seen.add(found.product_id)
                if sent_input is not None:
                    fields = catalog_drift.product_differs(sent_input, found.owned) + fields
                erp_status = product_status({}, by_product[seq], inactive_status)
                judged = seq not in unread_products and None not in unread_products
                if judged and (found.status == ACTIVE) != (erp_status == ACTIVE):
                    why = NOT_FOR_SALE_IN_SHOPIFY if erp_status == ACTIVE else FOR_SALE_IN_SHOPIFY
                    rows[seq] = {"sku": id_sku, "product": found.product_id, "shopify": found.status,
                                 "erp": erp_status, **beside("why", *why)}  # fmt: skip
                    differ.append(rows[seq])
            if fields:
                edited.setdefault(seq, []).extend(fields)
                if seq not in rows:
                    rows[seq] = {"sku": id_sku, "product": found.product_id}
                    differ.append(rows[seq])
    for seq, fields in edited.items():
        _edited_row(rows[seq], seq, fields)
    return {
        "shopify_checked": len(chosen),
        "shopify_from_sku": chosen[0] if chosen and start else None,
        "shopify_differs": differ[:LISTED],
        "shopify_differs_count": len(differ),
        "prices_differ": priced[:LISTED],
        "prices_differ_count": len(priced),
        "edited": sorted(set(edited) | gone),  # the caller has them sent again
    }


def _edited_row(row: dict[str, Any], seq: int, fields: list[str]) -> None:
    """A product's row of `shopify_differs` names the fields the ERP owns edited in Shopify, and
    says they go back (the caller has the product sent again)."""
    edited = f"edited in Shopify: {', '.join(fields)}"
    words = [stored(catalog_drift.field_words(name)) for name in fields]
    said = beside("why", edited, ("recon_edited_in_shopify", {"fields": words}))
    if "why" in row:  # said after the row's own reason, its words after that reason's (when it has them)
        before = row.get("why_words")
        said = {"why": f"{row['why']}; {edited}"}
        if isinstance(before, list):
            said["why_words"] = [*before, stored(("recon_edited_in_shopify", {"fields": words}))]
        else:
            row.pop("why_words", None)
    row.update(
        said, seq_produto=seq, fields=fields, **beside("sent_again", SENT_AGAIN, ("recon_sent_again", {}))
    )


def _as_sent(shop_id: int, seqs: set[int]) -> dict[int, dict[str, Any]]:
    """{seqProduto: the input the catalog flows would send} for those of these products they would
    not send again (digest unchanged: what Shopify should hold as it is). One the ERP changed since
    its last send, or not in the catalog cache, is left out: the flows send it (or wait for it)."""
    with session_scope() as session:
        ctx = catalog_ledger.load_context(session, shop_id)
        planned = catalog_ledger.plan(session, ctx, sorted(seqs))
    return {
        p.seq_produto: p.mapped.input for p in planned if p.verdict == "unchanged" and p.mapped is not None
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Pure: the counts a person reads first (None where a section failed)."""
    orders, stock, catalog = report.get("orders", {}), report.get("stock", {}), report.get("catalog", {})
    return {
        "orders_missing_in_ledger": orders.get("missing_in_ledger_count"),
        "orders_held_in_app": orders.get("held_in_app_count"),
        "order_cancellations_enqueued": orders.get("cancellations_enqueued_count"),
        "orders_of_erp_before": orders.get("of_erp_before_count"),
        "orders_missing_in_erp": orders.get("missing_in_erp_count"),
        "orders_missing_in_shopify": orders.get("missing_in_shopify_count"),
        "orders_not_readable_in_shopify": orders.get("not_readable_in_shopify_count"),
        "order_totals_differ": orders.get("totals_differ_count"),
        # (named when heavier picks were the only by-design gap: the lighter picks' cents too)
        "order_totals_heavier_by_design": orders.get("totals_differ_by_design_count"),
        "order_status_differs": orders.get("status_differs_count"),
        "orders_not_checked": orders.get("not_checked_count"),
        # the companies compared (one whose read failed counts nothing; none compared: not known)
        "stock_differs": None
        if "error" in stock and not any("differ_count" in loc for loc in stock.get("locations", []))
        else sum(loc.get("differ_count", 0) for loc in stock.get("locations", [])),
        "skus_missing_in_shopify": catalog.get("missing_in_shopify_count"),
        "skus_waiting_variant_quota": catalog.get("waiting_variant_quota_count"),
        "skus_held_not_kg": catalog.get("held_not_kg_count"),
        "orphan_bindings": catalog.get("orphan_bindings_count"),
        "catalog_differs_in_shopify": catalog.get("shopify_differs_count"),
        "prices_differ_in_shopify": catalog.get("prices_differ_count"),
        "list_prices_differ_in_shopify": catalog.get("list_prices_differ_count"),
        "skus_never_priced": catalog.get("never_priced_count"),
        "errors": [name for name in SECTIONS if "error" in report.get(name, {})],
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every time in the ledger is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
