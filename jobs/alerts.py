"""Alert e-mails: the shop's team hears of what needs a person without watching the app (setting
`alert_emails`, in the language of `alert_locale`).

Why: the dashboard tells whoever looks, and at six in the morning, when the first orders are
picked, nobody looks. An order parked for a payment method nobody mapped, an NF-e cancelled after
the goods left, a product Shopify refused: each waits for a person, and the person should not have
to find it.

What an alert names: each message that failed (refused by Shopify or the ERP, its retries run out,
a bug) or parked (a De:Para, a location or a setting missing: it resumes by itself once a person
adds it), each unit interrupted (left pending under a job RQ no longer holds: a worker killed, Redis
restarted; ledger.stuck, the test the dashboard counts them by: a person's Retry redoes it), each
note a flow left on an order for a person, each schedule whose runs stopped (a run failed with
no retry left, a cron the tick cannot read), and each Shopify webhook whose handling failed for good
(its inbox row failed: a bug, retries run out; an uninstall or a GDPR request among them, which no
message traces), that is new since the last alert:
its subject (the order's name, the product), why, in the team's language, and a link to it in the
app; then how many are open in all. An item stays told while it stays open: failing again after a
retry with the same words is not news; failing anew after it was done, or for another reason, is.
Nothing new, no e-mail: a digest every EVERY_MINUTES at most, never an e-mail per failure.

When: the scheduler's tick (jobs.scheduler) enqueues `run(shop_id)` for each active shop with
recipients, one job per shop and EVERY_MINUTES slot (two ticks of a slot enqueue it once). No
SMTP_URL configured: nothing is enqueued, and the Setup page says why.

Nothing lost, nothing repeated: what was told (ledger AlertState: the change time read up to and a
fingerprint per open item) is written only after the mail server took the e-mail. The server down or
refusing leaves it as it was, the outcome kept for the Setup page (its words, when), and the next
run tells the same and what came since. A run cut between the server's yes and the commit tells it
again (at least once). Each read starts OVERLAP before the last one's end: a change committed late
is still seen, and the fingerprints keep the overlap from telling anything twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jobs import order_catch_up
from ledger import drift, flows, order_notes, order_risk, queues, shop_settings, stuck
from ledger.alert_state import EVERY_MINUTES
from ledger.db import session_scope
from ledger.errors import Rejected, Transient
from ledger.kv import get_redis
from ledger.locks import LockBusy, is_locked, record_lock
from ledger.masking import mask_text, typed_tax_ids
from ledger.models import (
    AlertState,
    InboxStatus,
    Message,
    MessageStatus,
    OrderLink,
    Schedule,
    Shop,
    ShopStatus,
    WebhookInbox,
    utcnow,
)
from ledger.schedules import BAD_CRON, ENQUEUED, RUN_FAILED, RUN_RETRYING, is_overdue
from mail import client as mail
from settings import Settings, get_settings
from shopify_app import fail_words, note_words, skip_words
from shopify_app.fail_words import FAILURES
from shopify_app.frontend import load_catalogue
from shopify_app.message_subject import subject, subject_names
from shopify_app.run_words import last_error

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)  # each read starts this much before the last one ended
FIRST_LOOK = timedelta(hours=24)  # the first alert of a shop looks this far back
LISTED = 20  # items written out in one e-mail; the rest are counted
REASON_LENGTH = 400
TROUBLE = (MessageStatus.FAILED.value, MessageStatus.PARKED.value)
# a told message still open: in trouble, or tried again meanwhile (`still_open`)
TRIED_AGAIN = (*TROUBLE, MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
STOPPED_RUNS = (RUN_FAILED, BAD_CRON)  # a schedule's runs that wait for a person
OVERDUE_ALERT = timedelta(minutes=30)  # a schedule this late is told (`overdue`)
# ... one whose run waits for its RQ retry (its row says so, with the ERP's or Shopify's error): RQ's
# waits (10 s to 5 min) between slow attempts can pass 30 minutes with every worker up
OVERDUE_RETRYING = timedelta(hours=2)
FLOW_LOCKS = tuple(f.name for f in flows.FLOWS)
STUCK = "stuck"  # an interrupted unit's group and words (ledger.stuck)
RISK = "risk"  # an order held for its fraud risk: its group's words
# what a message is first read by (`collect`): its fingerprint, its time, its flow (its rank)
LIGHT = (
    Message.id,
    Message.status,
    Message.error_class,
    Message.error_text,
    Message.updated_at,
    Message.flow,
)
JOB = "jobs.alerts.run"
# Shops told: active ones, and those whose grant Shopify refused (every flow stopped: the moment the
# team most needs to know). Uninstalled and redacted ones are not.
TOLD_SHOPS = (ShopStatus.ACTIVE.value, ShopStatus.NEEDS_REAUTH.value)
ACCESS_KEY = "a"  # the item of a shop whose grant Shopify refused
LOCK_WAIT = 2.0  # seconds a run waits for another run of the shop to end before leaving it the work

WORDS: dict[str, dict[str, str]] = {
    "subject_one": {
        "pt-BR": "[Consinco-Shopify] {shop}: 1 item novo precisa de uma pessoa",
        "en": "[Consinco-Shopify] {shop}: 1 new item needs a person",
    },
    "subject_many": {
        "pt-BR": "[Consinco-Shopify] {shop}: {count} itens novos precisam de uma pessoa",
        "en": "[Consinco-Shopify] {shop}: {count} new items need a person",
    },
    "intro": {
        "pt-BR": "A integração Consinco ↔ Shopify da loja {shop} encontrou, desde {since}, o que precisa "
        "de uma pessoa:",
        "en": "The Consinco ↔ Shopify integration of {shop} found, since {since}, what needs a person:",
    },
    "failed": {"pt-BR": "falhou", "en": "failed"},
    "parked": {
        "pt-BR": "aguardando um De:Para ou uma configuração",
        "en": "waiting for a mapping or a setting",
    },
    "stuck": {"pt-BR": "interrompida", "en": "interrupted"},
    "risk": {
        "pt-BR": "retido pela análise de fraude, à espera de uma pessoa",
        "en": "held for its fraud risk, waiting for a person",
    },
    "stuck_why": {
        "pt-BR": "o processo parou antes de terminar; abra-a e clique em Tentar de novo",
        "en": "the worker stopped before finishing; open it and click Retry",
    },
    "order_notes": {"pt-BR": "Pedidos com aviso para uma pessoa", "en": "Orders flagged for a person"},
    "runs": {
        "pt-BR": "Execuções agendadas paradas (página Fluxos)",
        "en": "Scheduled runs stopped (Flows page)",
    },
    "webhooks": {  # the page's own words filled in (`_heading`): they can never drift apart
        "pt-BR": "Webhooks da Shopify que falharam (página Fluxos, {section}: {requeue}; "
        "um ilegível: {dismiss})",
        "en": "Shopify webhooks that failed (Flows page, {section}: {requeue}; an unreadable one: {dismiss})",
    },
    "webhook": {"pt-BR": "Webhook {topic} nº {id}", "en": "Webhook {topic} #{id}"},
    "bad_cron": {
        "pt-BR": "o horário agendado não pôde ser lido",
        "en": "the schedule's time could not be read",
    },
    "more": {
        "pt-BR": "... e mais {count} (todos nas páginas Mensagens, Pedidos e Fluxos do app).",
        "en": "... and {count} more (all of them on the app's Messages, Orders and Flows pages).",
    },
    "open": {
        "pt-BR": "Em aberto agora: com falha {failed}; aguardando um De:Para ou uma configuração {parked}; "
        "interrompidas {stuck}; pedidos retidos para análise de fraude {risk}; pedidos com aviso {orders}; "
        "execuções agendadas paradas {runs}; webhooks com falha {webhooks}.",
        "en": "Open now: failed {failed}; waiting for a mapping or a setting {parked}; "
        "interrupted {stuck}; orders held for a fraud review {risk}; orders flagged {orders}; "
        "scheduled runs stopped {runs}; webhooks failed {webhooks}.",
    },
    "home": {"pt-BR": "Abrir o app: {url}", "en": "Open the app: {url}"},
    "why": {
        "pt-BR": "Você recebe este e-mail porque seu endereço está em Configuração > Alertas por e-mail "
        "do app. Um item é avisado uma vez; volta a ser avisado se falhar de novo por outro motivo.",
        "en": "You get this e-mail because your address is in the app's Setup > Alert e-mails. "
        "An item is told once; it is told again if it fails anew for another reason.",
    },
    "access": {"pt-BR": "Acesso à Shopify", "en": "Access to Shopify"},
    "access_title": {
        "pt-BR": "A Shopify recusou o acesso do app: todos os fluxos estão parados",
        "en": "Shopify refused the app's access: every flow is stopped",
    },
    "access_why": {
        "pt-BR": "abra o app no admin da Shopify (Apps) e aprove as permissões de novo; os fluxos voltam "
        "sozinhos",
        "en": "open the app in the Shopify admin (Apps) and approve its permissions again; the flows "
        "resume by themselves",
    },
    "overdue_why": {
        "pt-BR": "as execuções agendadas pararam de sair (a última em {last}): um worker parado, ou o "
        "agendador; veja a página Fluxos e quem opera o app",
        "en": "its scheduled runs stopped coming (the last at {last}): a worker down, or the scheduler; "
        "see the Flows page and whoever runs the app",
    },
    "order": {"pt-BR": "Pedido {name}", "en": "Order {name}"},
    "erp_order": {"pt-BR": "Pedido ERP {erp}", "en": "ERP order {erp}"},
    "product": {"pt-BR": "Produto {erp}", "en": "Product {erp}"},
    "company": {"pt-BR": "Empresa {erp}", "en": "Company {erp}"},
    "report": {"pt-BR": "Relatório de {name}", "en": "Report of {name}"},
    "drift": {
        "pt-BR": "Pedidos fora de sintonia na reconciliação diária",
        "en": "Orders out of step in the daily reconciliation",
    },
    "drift_why": {
        "pt-BR": "{list}: webhooks da Shopify perdidos ou pedidos que o ERP não tem; abra o relatório",
        "en": "{list}: Shopify webhooks lost, or orders the ERP does not hold; open the report",
    },
}


def say(key: str, locale: str, **params: Any) -> str:
    return WORDS[key]["en" if locale == "en" else "pt-BR"].format(**params)


@dataclass(frozen=True)
class Item:
    """One thing to tell: a message in trouble or interrupted, one note on an order, a schedule
    stopped, or a webhook failed."""

    # "m<message id>" | "i<message id>" (interrupted) | "o<link id>:<note label>" | "s<schedule id>"
    # | "r<report message id>" (orders out of step: `_drift_items`)
    # | "w<webhook inbox id>"
    key: str
    fingerprint: str
    # listed under: "<flow>:failed" | "<flow>:parked" | "<flow>:stuck" | "orders" | "runs" | "webhooks"
    # | "drift"
    group: str
    title: str
    reason: str
    path: str  # in the app: /app/messages/<id> | /app/orders/<id> | /app/flows
    at: datetime
    rank: int | None = None  # its place in the list when not its group's (`_place`)


@dataclass(frozen=True)
class Collected:
    items: list[Item]  # the new items written out: LISTED at most, oldest first
    count: int  # every new item
    read_until: datetime
    told: dict[str, str]  # what stays told: the open items told before, and those of this run


def enqueue_due(now: datetime | None = None, settings: Settings | None = None) -> list[str]:
    """One run per active shop with recipients for this EVERY_MINUTES slot (the tick's part); the
    job ids enqueued; none without SMTP_URL. Redis errors propagate (the tick logs them)."""
    settings = settings or get_settings()
    if not mail.configured(settings):
        return []
    now = now or utcnow()
    now = now.astimezone(UTC)
    slot = now.replace(minute=now.minute - now.minute % EVERY_MINUTES, second=0, microsecond=0)
    with session_scope() as session:
        shops = session.execute(select(Shop.id, Shop.settings).where(Shop.status.in_(TOLD_SHOPS))).all()
    enqueued = []
    for shop_id, saved in shops:
        if not shop_settings.effective_of(saved)["alert_emails"]:
            continue
        job = queues.enqueue(
            JOB,
            shop_id,
            queue=queues.ORDERS,  # the low-latency worker's: an alert must not wait behind a catalog load
            job_id=queues.job_key("alerts", shop_id, slot.strftime("%Y%m%d%H%M")),
            retry=False,  # the next slot's run is the retry
            result_ttl=2 * EVERY_MINUTES * 60,  # the slot's id refuses a second run while it lasts
            description=f"alert e-mail of shop {shop_id}",
        )
        if job is not None:
            enqueued.append(job.id)
    return enqueued


def run(shop_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Tell the shop's team what needs a person since the last alert; what it did (for RQ's record)."""
    with ExitStack() as stack:  # one run of a shop at a time: two at once sent the same items twice
        try:
            stack.enter_context(record_lock(f"shop:{shop_id}:alerts", wait=LOCK_WAIT))
        except LockBusy:
            return {"skipped": "another alert run of this shop is under way"}
        except RedisError as exc:  # no lock to be had (nor an RQ to run a second one): tell all the same
            log.warning("alerts: the lock of shop %s could not be taken (%s)", shop_id, type(exc).__name__)
        return _run(shop_id, now)


def _run(shop_id: int, now: datetime | None) -> dict[str, Any]:
    settings = get_settings()
    now = now or utcnow()
    with session_scope() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.status not in TOLD_SHOPS:
            return {"skipped": "shop not active"}
        config = shop_settings.effective(shop)
        recipients, locale = list(config["alert_emails"]), str(config["alert_locale"])
        if not recipients or not mail.configured(settings):
            return {"skipped": "no recipients" if recipients else "SMTP_URL not configured"}
        state = session.get(AlertState, shop_id) or AlertState(shop_id=shop_id, told={}, last_to=[])
        since = state.read_until - OVERLAP if state.read_until else now - FIRST_LOOK
        told_until = state.read_until or since  # what the e-mail says it covers
        interrupted = _interrupted(session, shop_id, now)
        access = _access_item(shop, locale, now)
        domain, zone = shop.domain, shop.iana_timezone
        late = overdue(session, shop_id, now)  # read once: listed and counted alike
        told = dict(state.told or {})
        collected = collect(
            session, shop_id, since, now, told, locale, interrupted, access, late=late, zone=zone
        )
        counts = open_counts(session, shop_id, interrupted, late or ())
        unsent = state.last_error is not None
    if not collected.count:
        # What an e-mail the server did not take held is collected again while open: nothing to
        # tell, it is all settled. Its failure is said no more (the Flows banner, Setup's last one):
        # an attempt of no item, which went to nobody.
        _record(shop_id, collected, now, sent=None, items=0 if unsent else None)
        return {"items": 0}
    email = compose(settings, domain, zone, recipients, locale, collected, counts, told_until)
    try:
        took = mail.send(settings, email)
    except (Transient, Rejected) as exc:
        log.warning("alerts: the e-mail of %s was not sent: %s", domain, exc.message, extra={"shop": domain})
        # a first look's window held where it began (else, the server down past FIRST_LOOK, its first
        # hours slid out of every later read: failures never named)
        _record(shop_id, None, now, sent=None, error=exc.message, items=collected.count, to=recipients,
                hold_from=since + OVERLAP)  # fmt: skip
        return {"items": collected.count, "error": exc.message}
    _record(shop_id, collected, now, sent=now, items=collected.count, to=took)
    log.info("alerts: %s items told to %s for %s", collected.count, len(took), domain,
             extra={"shop": domain})  # fmt: skip
    return {"items": collected.count, "to": took}


def collect(
    session: Session,
    shop_id: int,
    since: datetime,
    now: datetime,
    told: dict[str, str],
    locale: str,
    interrupted: stuck.Stuck | None = None,
    access: Item | None = None,
    *,
    late: list[Schedule] | None = None,
    zone: str | None = None,
) -> Collected:
    """The items changed in (since, now] not told as they are, and the units `interrupted` now
    (however long ago they stopped: that is what makes them interrupted) not told yet; the LISTED
    first written out (the shop's access, then orders, then the rest, each oldest first: `_rank`), and
    what stays told: the earlier told items still open, plus every new one.
    The messages are first read light (id, status, error: what their fingerprint is made of), so a
    flood of thousands is counted whole and only the listed ones are read in full. `late`: the
    schedules `overdue` now (read here when not given); `zone`: the store's, its times are said in."""
    late_rows = overdue(session, shop_id, now) if late is None else late  # what is late now, told or not
    kept = still_open(session, shop_id, told, interrupted, late_rows, now=now)
    late_rows = late_rows or []
    rows = session.execute(
        select(*LIGHT)
        .where(
            Message.shop_id == shop_id,
            Message.status.in_(TROUBLE) | _risk_held(),
            Message.updated_at > since,
            Message.updated_at <= now,
        )
        .order_by(Message.updated_at, Message.id)
    ).all()
    fresh = {  # key: (when, message id, fingerprint, flow)
        f"m{row.id}": (row.updated_at, row.id, _digest(row.status, row.error_class, row.error_text), row.flow)
        for row in rows
    }
    if interrupted is not None:  # told again only when it stops anew (a Retry moves its change time)
        lost = session.execute(
            select(Message.id, Message.updated_at, Message.flow).where(*interrupted.where())
        )
        fresh.update(
            {f"i{row.id}": (row.updated_at, row.id, _digest(STUCK, row.updated_at), row.flow) for row in lost}
        )
    fresh = {key: seen for key, seen in fresh.items() if kept.get(key) != seen[2]}
    links = _changed(session, OrderLink, shop_id, since, now, OrderLink.needs_attention.is_not(None))
    runs = _changed(session, Schedule, shop_id, since, now, Schedule.last_status.in_(STOPPED_RUNS))
    late_items = _late_items(late_rows, locale, now, zone)
    hooks = _webhook_items(session, _domain(session, shop_id), since, now, locale)
    hooks += _drift_items(session, shop_id, since, now, locale)
    others = [  # the shop's grant refused, the orders' notes, the schedules stopped, the webhooks failed
        item
        for item in [
            *([access] if access else []),
            *_note_items(links, locale),
            *_run_items(runs, locale),
            *late_items,
            *hooks,
        ]
        if kept.get(item.key) != item.fingerprint
    ]
    # Listed first: the shop's access, then what concerns orders (money and customers), then the
    # rest, each oldest first; a night of catalog failures never pushes an order out of the list.
    first = sorted([(_rank(seen[3]), seen[0], key) for key, seen in fresh.items()]
                   + [(_place(n), n.at, n.key) for n in others])  # fmt: skip
    listed = {key for _rank_, _at, key in first[:LISTED]}
    full = sorted({fresh[key][1] for key in listed if key in fresh})
    messages = list(session.scalars(select(Message).where(Message.id.in_(full)))) if full else []
    stopped = {fresh[key][1] for key in listed if key.startswith("i")}
    # One retried or settled since the light read (a worker took it meanwhile) is not told as it
    # was, nor remembered as told: the next run tells it as it is then (its group had no heading).
    seen = {row.id: row.status for row in rows}
    moved = {m.id for m in messages if m.id not in stopped and m.status != seen.get(m.id)}
    messages = [m for m in messages if m.id not in moved]
    fresh = {key: value for key, value in fresh.items() if key.startswith("i") or value[1] not in moved}
    items = _message_items(session, shop_id, messages, locale, stopped) + [
        n for n in others if n.key in listed
    ]
    kept.update({key: seen[2] for key, seen in fresh.items()})
    kept.update({item.key: item.fingerprint for item in others})
    ordered = sorted(items, key=lambda item: (_place(item), item.at, item.key))
    return Collected(ordered, len(fresh) + len(others), now, kept)


def _risk_held() -> Any:
    """An order held for its fraud risk: pending on purpose until a person reviews it or its verdict
    clears (ledger.order_risk); the Orders page lists it as needing attention, so does the e-mail."""
    return (Message.status == MessageStatus.PENDING.value) & (
        Message.error_detail["waiting"].as_string() == order_risk.WAITING
    )


def _rank(group: str) -> int:
    """An item's place in the list: the shop's access, then orders, then the rest."""
    name = group.partition(":")[0]
    if name == "access":
        return 0
    flow = flows.BY_NAME.get(name)
    return 1 if name in ("orders", "drift") or (flow is not None and flow.queue == queues.ORDERS) else 2


# The deliveries whose failure nothing else tells of: an order's (no message until the
# reconciliation), a customer's data request or erasure and the shop's uninstall (none at all).
ORDER_TOPICS = frozenset(order_catch_up.ORDER_TOPICS)
PRIVACY_TOPICS = frozenset({"app/uninstalled", "shop/redact", "customers/redact", "customers/data_request"})


def _place(item: Item) -> int:
    """An item's place in the list: its own rank (a webhook about an order or a customer's data
    beside the orders: `_webhook_items`), else its group's."""
    return item.rank if item.rank is not None else _rank(item.group)


def _access_item(shop: Shop, locale: str, now: datetime) -> Item | None:
    """The shop's grant refused by Shopify (needs_reauth): every flow stopped until someone opens
    the app in the Shopify admin and approves it again. Told once per refusal."""
    if shop.status != ShopStatus.NEEDS_REAUTH.value:
        return None
    reason = shop.status_reason or ""
    return Item(
        key=ACCESS_KEY,
        fingerprint=_digest(shop.status, reason),
        group="access",
        title=say("access_title", locale),
        reason=_short(mask_text(say("access_why", locale) + (f" ({reason})" if reason else ""), False) or ""),
        path="/app",
        at=shop.updated_at or now,
    )


def _changed(session: Session, model: Any, shop_id: int, since: datetime, now: datetime, *where: Any) -> Any:
    """The shop's rows of `model` that `where` picks, changed in (since, now]."""
    window = (model.updated_at > since, model.updated_at <= now)
    return session.scalars(select(model).where(model.shop_id == shop_id, *where, *window))


def _message_items(
    session: Session, shop_id: int, messages: list[Message], locale: str, stopped: Collection[int] = ()
) -> list[Item]:
    """A message failed or parked (`m`), or one `collect` read as interrupted (`i`, `stopped`):
    pending, or retrying (a person's Retry whose job Redis lost: ledger.stuck), told as interrupted
    whatever its status (a group "retrying" has no heading, and its e-mail failed on it)."""
    names = subject_names(session, shop_id, messages) if messages else {}
    items = []
    for message in messages:
        risk = (message.error_detail or {}).get("waiting") == order_risk.WAITING
        if message.id in stopped or (message.status == MessageStatus.PENDING.value and not risk):
            key, fingerprint = f"i{message.id}", _digest(STUCK, message.updated_at)
            group, reason = f"{message.flow}:{STUCK}", say("stuck_why", locale)
        else:
            key = f"m{message.id}"
            fingerprint = _digest(message.status, message.error_class, message.error_text)
            group = f"{message.flow}:{RISK if risk and message.id not in stopped else message.status}"
            # held for its fraud risk: pending on purpose, said as the pages say it (skip_words)
            held = skip_words.reason(message, locale) if risk and message.id not in stopped else None
            reason = (
                held or fail_words.reason(message, locale) or message.error_text or message.error_class or ""
            )
        items.append(
            Item(
                key=key,
                fingerprint=fingerprint,
                group=group,
                title=_title(subject(message, names), locale),
                reason=_short(mask_text(reason, False, typed_tax_ids(message.error_detail)) or ""),
                path=f"/app/messages/{message.id}",
                at=message.updated_at,
            )
        )
    return items


def _note_items(links: Iterable[OrderLink], locale: str) -> list[Item]:
    items = []
    for link in links:
        said = order_notes.words_of(link)
        for note in order_notes.notes(link):
            words = note_words.note_text(note, said, locale)
            name = link.shopify_order_name or f"ERP {link.nro_pedvenda or '?'}"
            flow = note.flow and flows.BY_NAME.get(note.flow)
            label = flow.label_in(locale) if flow else ""
            items.append(
                Item(
                    key=f"o{link.id}:{note.label}",
                    fingerprint=_digest(note.text),
                    group="orders",
                    title=say("order", locale, name=name) + (f" ({label})" if label else ""),
                    reason=_short(mask_text(words, False, typed_tax_ids(link.attention_words)) or ""),
                    path=f"/app/orders/{link.id}",
                    at=link.updated_at,
                )
            )
    return items


def _run_items(schedules: Iterable[Schedule], locale: str) -> list[Item]:
    """A scheduled run that failed with no retry left, or a schedule whose cron the tick cannot read:
    its flows wait for a person (the Flows page shows it, and RQ's failed job)."""
    items = []
    for row in schedules:
        labels = [flow.label_in(locale) for flow in flows.FLOWS if flow.schedule == row.flow]
        reason = last_error(row, locale, FAILURES) or row.last_error or say(row.last_status, locale)
        items.append(
            Item(
                key=f"s{row.id}",
                fingerprint=_digest(row.last_status, row.last_error),
                group="runs",
                title=" / ".join(labels) or row.flow,
                reason=_short(mask_text(reason, False) or ""),
                path="/app/flows",
                at=row.updated_at,
            )
        )
    return items


def overdue(session: Session, shop_id: int, now: datetime) -> list[Schedule] | None:
    """The shop's schedules whose runs stopped coming: due OVERDUE_ALERT ago or more and not
    enqueued since (a worker down: the run sits queued and the tick enqueues no other; the
    scheduler stopped), none of their flows running or waiting for the catalog. The Flows page
    flags one after 3 minutes; the e-mail waits longer, past a busy hour's queue. None of a shop
    the tick starts nothing of (not active: its grant refused, the access item tells why; blamed on
    a worker, each schedule was a false alarm), and a run waiting for its retry only much later
    (OVERDUE_RETRYING). None: Redis cannot say which are running (none said late, and those told
    stay told: forgotten, the next run told them again)."""
    shop = session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.ACTIVE.value:
        return []
    rows = session.scalars(select(Schedule).where(Schedule.shop_id == shop_id, Schedule.enabled.is_(True)))
    late = [
        row
        for row in rows
        if is_overdue(
            row,
            now,
            OVERDUE_RETRYING if row.last_status == RUN_RETRYING else OVERDUE_ALERT,
            shop.installed_at,
        )
    ]
    if not late:
        return []
    try:
        conn = get_redis()
        busy = {name for name in {*FLOW_LOCKS, "catalog"} if is_locked(shop_id, name, conn)}
    except RedisError:
        return None  # which are running cannot be told
    if "catalog" in busy:
        busy |= {f.name for f in flows.FLOWS if f.queue == queues.CATALOG}
    return [row for row in late if not any(f.name in busy for f in flows.FLOWS if f.schedule == row.flow)]


def _late_items(schedules: Iterable[Schedule], locale: str, now: datetime, zone: str | None) -> list[Item]:
    """A schedule whose runs stopped coming, its last run in the store's time (`zone`), as the rest of
    the e-mail says its times."""
    items = []
    for row in schedules:
        labels = [flow.label_in(locale) for flow in flows.FLOWS if flow.schedule == row.flow]
        last = _when(row.last_run_at, zone) if row.last_run_at else "—"
        items.append(
            Item(
                key=f"d{row.id}",
                fingerprint=_digest("overdue", row.last_run_at),  # told once per stall
                group="runs",
                title=" / ".join(labels) or row.flow,
                reason=say("overdue_why", locale, last=last),
                path="/app/flows",
                at=now,
            )
        )
    return items


def _domain(session: Session, shop_id: int) -> str:
    return session.scalar(select(Shop.domain).where(Shop.id == shop_id)) or ""


def _failed_webhooks(domain: str) -> Any:
    """The shop's failed webhook inbox rows, and its rejected ones (a body that could not be read,
    listed until dismissed: shopify_app.api_jobs); ix_inbox_failed and ix_inbox_rejected, a few rows
    of its every delivery."""
    failed, rejected = InboxStatus.FAILED.value, InboxStatus.REJECTED.value  # OR: each arm its index
    status = WebhookInbox.status
    return WebhookInbox.shop_domain == domain, or_(status == failed, status == rejected)


def _webhook_items(session: Session, domain: str, since: datetime, now: datetime, locale: str) -> list[Item]:
    """A webhook delivery whose handling failed for good in (since, now]: nothing runs it again until
    a person requeues it (Flows page, Failed jobs), and an uninstall or a GDPR request has no message
    that would tell of it."""
    columns = (WebhookInbox.id, WebhookInbox.topic, WebhookInbox.status, WebhookInbox.reason)
    rows = session.execute(
        select(*columns, WebhookInbox.processed_at).where(
            *_failed_webhooks(domain), WebhookInbox.processed_at > since, WebhookInbox.processed_at <= now
        )
    ).all()
    return [
        Item(
            key=f"w{row.id}",
            fingerprint=_digest(row.reason),
            group="webhooks",
            title=say("webhook", locale, topic=row.topic, id=row.id),
            reason=_short(mask_text(_webhook_why(row.topic, row.status, row.reason, locale), False) or ""),
            path="/app/flows",
            at=row.processed_at,
            # a failed orders/create has no message until the reconciliation, a GDPR request none at
            # all: beside the orders, never cut from the list by a night of catalog failures
            rank=1 if row.topic in ORDER_TOPICS or row.topic in PRIVACY_TOPICS else 2,
        )
        for row in rows
    ]


# What a reconciliation report found about orders (ledger.drift.FINDINGS): orders the app never
# received (webhooks lost: a subscription gone, the app's address unreachable), or the ERP or Shopify
# lacks. The report ends done and imports them; told, the team learns its webhooks are broken the
# day it happens, not when a customer calls. Stock, catalog and price drift stay on the report.
ORDER_FINDINGS = (
    "orders_missing_in_ledger",
    "order_cancellations_enqueued",
    "orders_missing_in_erp",
    "orders_missing_in_shopify",
    "order_totals_differ",
    "order_status_differs",
)


def _drift_items(session: Session, shop_id: int, since: datetime, now: datetime, locale: str) -> list[Item]:
    """A reconciliation report ended in (since, now] that found orders out of step: told once. A
    report left incomplete by another section (the ERP refusing one company's stock read, every day
    the refusal lasts) ends failed or retrying, its orders compared all the same: what they found
    is told too, or the team reads "stock refused" and never learns its webhooks are lost."""
    ended = (MessageStatus.DONE.value, MessageStatus.FAILED.value, MessageStatus.RETRYING.value)
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == "reconcile",
            Message.status.in_(ended),
            Message.updated_at > since,
            Message.updated_at <= now,
        )
    ).all()
    items = []
    for message in rows:
        orders = (message.response_payload or {}).get("orders")
        if not isinstance(orders, dict) or "error" in orders:
            continue  # the orders not compared (the report failed before, or at, them)
        found = drift.findings(message.response_payload)
        found = {key: n for key, n in found.items() if key in ORDER_FINDINGS}
        if not found:
            continue
        words = load_catalogue("en" if locale == "en" else "pt-BR")
        said = ", ".join(f"{words.get(f'drift.{key}', key)} {n}" for key, n in found.items())
        items.append(
            Item(
                key=f"r{message.id}",
                fingerprint=_digest(*sorted(found.items())),
                group="drift",
                title=_title(subject(message), locale),
                reason=_short(say("drift_why", locale, list=said)),
                path=f"/app/messages/{message.id}",
                at=message.updated_at,
            )
        )
    return items


def _webhook_why(topic: str, status: str, reason: str | None, locale: str) -> str:
    """Why a webhook delivery is told: an unreadable one (`rejected`) in the team's language, what
    the body failed on after it; a failed one as its handling failed (an error's own text)."""
    if status != InboxStatus.REJECTED.value:  # the app's own reason in words, a handler's as it is
        return fail_words.said(queues.inbox_reason_words(reason), locale) or reason or ""
    said = fail_words.said(queues.unreadable_words(topic), locale) or ""
    return f"{said} ({reason})" if reason else said


def still_open(
    session: Session,
    shop_id: int,
    told: dict[str, str],
    interrupted: stuck.Stuck | None = None,
    late: Iterable[Schedule] | None = (),
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """The told items still open (a message still failed or parked, or tried again meanwhile: pending
    or retrying; an interrupted unit still pending, a note its order still holds, a schedule still
    stopped or its next run under way: enqueued or retrying; a webhook not requeued): one that closed
    (done, skipped, its runs ok) is forgotten, so failing again later is told again. One only being
    tried again stays told: failing again with the same words is no news (an ERP down for an hour
    fails, retries and fails again every cycle, and the team is told once)."""
    message_ids = [int(key[1:]) for key in told if key.startswith("m") and key[1:].isdigit()]
    pending_ids = [int(key[1:]) for key in told if key.startswith("i") and key[1:].isdigit()]
    link_ids = {int(key[1:].split(":", 1)[0]) for key in told if key.startswith("o") and key[1:2].isdigit()}
    open_keys: set[str] = set()
    for chunk in _chunks(message_ids):
        failing = select(Message.id).where(
            Message.shop_id == shop_id, Message.id.in_(chunk), Message.status.in_(TRIED_AGAIN)
        )
        open_keys |= {f"m{message_id}" for message_id in session.scalars(failing)}
    for chunk in _chunks(pending_ids):  # still interrupted, as `collect` reads it (or still pending)
        still = (
            interrupted.where()
            if interrupted is not None
            else (Message.status == MessageStatus.PENDING.value,)
        )
        waiting = select(Message.id).where(Message.shop_id == shop_id, Message.id.in_(chunk), *still)
        open_keys |= {f"i{message_id}" for message_id in session.scalars(waiting)}
    for chunk in _chunks(sorted(link_ids)):
        for link in session.scalars(
            select(OrderLink).where(
                OrderLink.shop_id == shop_id, OrderLink.id.in_(chunk), OrderLink.needs_attention.is_not(None)
            )
        ):
            open_keys |= {f"o{link.id}:{note.label}" for note in order_notes.notes(link)}
    schedule_ids = [int(key[1:]) for key in told if key.startswith("s") and key[1:].isdigit()]
    if schedule_ids:
        stopped = select(Schedule.id).where(
            Schedule.shop_id == shop_id,
            Schedule.id.in_(schedule_ids),
            Schedule.last_status.in_((*STOPPED_RUNS, RUN_RETRYING, ENQUEUED)),
        )
        open_keys |= {f"s{row_id}" for row_id in session.scalars(stopped)}
    if late is None:  # Redis could not say which run: those told stay told
        open_keys |= {key for key in told if key.startswith("d")}
    else:
        open_keys |= {f"d{row.id}" for row in late}  # a schedule still late (`overdue`, read by the caller)
    report_ids = [int(key[1:]) for key in told if key.startswith("r") and key[1:].isdigit()]
    if report_ids:  # a report told stays told while a run's read (its overlap, a first look) can reach it
        recent = (now or utcnow()) - FIRST_LOOK - OVERLAP
        reports = select(Message.id).where(
            Message.shop_id == shop_id, Message.id.in_(report_ids), Message.updated_at > recent
        )
        open_keys |= {f"r{row_id}" for row_id in session.scalars(reports)}
    if ACCESS_KEY in told:  # the grant still refused
        status = session.scalar(select(Shop.status).where(Shop.id == shop_id))
        if status == ShopStatus.NEEDS_REAUTH.value:
            open_keys.add(ACCESS_KEY)
    inbox_ids = [int(key[1:]) for key in told if key.startswith("w") and key[1:].isdigit()]
    domain = _domain(session, shop_id) if inbox_ids else ""
    for chunk in _chunks(inbox_ids):
        failed = select(WebhookInbox.id).where(*_failed_webhooks(domain), WebhookInbox.id.in_(chunk))
        open_keys |= {f"w{row_id}" for row_id in session.scalars(failed)}
    return {key: value for key, value in told.items() if key in open_keys}


def open_counts(
    session: Session, shop_id: int, interrupted: stuck.Stuck | None = None, late: Iterable[Schedule] = ()
) -> dict[str, int]:
    """The shop's open items in all: failed, parked and interrupted messages, orders flagged for a
    person, schedules whose runs stopped (a run failed, a bad cron, or `late`: `overdue`, listed under
    the same heading; each schedule once), webhooks failed."""
    by_status = dict(
        session.execute(
            select(Message.status, func.count())
            .where(Message.shop_id == shop_id, Message.status.in_(TROUBLE))
            .group_by(Message.status)
        ).all()
    )
    orders = session.scalar(
        select(func.count()).where(OrderLink.shop_id == shop_id, OrderLink.needs_attention.is_not(None))
    )
    runs = set(
        session.scalars(
            select(Schedule.id).where(Schedule.shop_id == shop_id, Schedule.last_status.in_(STOPPED_RUNS))
        )
    ) | {row.id for row in late}
    webhooks = session.scalar(select(func.count()).where(*_failed_webhooks(_domain(session, shop_id))))
    risk = session.scalar(select(func.count()).where(Message.shop_id == shop_id, _risk_held()))
    return {
        "runs": len(runs),
        "webhooks": int(webhooks or 0),
        "failed": int(by_status.get(MessageStatus.FAILED.value, 0)),
        "parked": int(by_status.get(MessageStatus.PARKED.value, 0)),
        "stuck": sum(interrupted.counts().values()) if interrupted is not None else 0,
        "orders": int(orders or 0),
        "risk": int(risk or 0),  # orders held for a fraud review (listed as items, waiting for a person)
    }


def _interrupted(session: Session, shop_id: int, now: datetime) -> stuck.Stuck | None:
    """The shop's units whose job was lost (ledger.stuck); None when Redis cannot say which jobs it
    holds: a unit of a catalog load hours into its bulk operation is not to be called interrupted."""
    conn = get_redis()
    try:
        conn.ping()
    except RedisError as exc:
        log.warning("alerts: Redis did not answer, interrupted units left for the next run: %s", exc)
        return None
    return stuck.read(session, shop_id, conn, now)


def compose(
    settings: Settings,
    domain: str,
    zone: str | None,
    recipients: list[str],
    locale: str,
    collected: Collected,
    counts: dict[str, int],
    since: datetime,
) -> EmailMessage:
    """The digest: the new items by flow and kind (LISTED at most, each with its link), the open counts."""
    count = collected.count
    key = "subject_one" if count == 1 else "subject_many"
    lines = [say("intro", locale, shop=domain, since=_when(since, zone)), ""]
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in collected.items:
        groups[item.group].append(item)
    for group, listed in groups.items():
        lines.append(_heading(group, locale))
        for item in listed:
            lines += [f"  - {item.title}: {item.reason}", f"    {app_link(settings, domain, item.path)}"]
        lines.append("")
    if count > len(collected.items):
        lines += [say("more", locale, count=count - len(collected.items)), ""]
    lines += [
        say("open", locale, **counts),
        say("home", locale, url=app_link(settings, domain, "/app")),
        "",
        "-- ",
        say("why", locale),
    ]
    subject = say(key, locale, shop=domain, count=count)
    return mail.email(settings, subject, recipients, "\n".join(lines))


def app_link(settings: Settings, domain: str, path: str) -> str:
    """`path` of the app as the team opens it: inside the shop's admin (Shopify loads the app's page
    at that path); on the sandbox, which has no admin to frame it, the app's own address."""
    if settings.shopify_base_url:
        return f"{settings.app_url}{path}?{urlencode({'shop': domain})}"
    return f"https://{domain}/admin/apps/{settings.api_key}{path}"


def _heading(group: str, locale: str) -> str:
    if group == "orders":
        return say("order_notes", locale)
    if group == "access":
        return say("access", locale)
    if group == "webhooks":
        page = load_catalogue("en" if locale == "en" else "pt-BR")
        labels = {"section": "failed_jobs_heading", "requeue": "requeue", "dismiss": "dismiss"}
        return say(group, locale, **{name: page.get(f"flows.{key}", key) for name, key in labels.items()})
    if group in ("runs", "drift"):
        return say(group, locale)
    name, _, status = group.partition(":")
    flow = flows.BY_NAME.get(name)
    label = flow.label_in(locale) if flow else name
    return f"{label} — {say(status, locale)}"


def _title(about: dict[str, Any], locale: str) -> str:
    kind = about.get("kind")
    if kind == "order":
        if about.get("name"):
            return say("order", locale, name=about["name"])
        if about.get("erp"):
            return say("erp_order", locale, erp=about["erp"])
        return say("order", locale, name=f"#{about.get('shopify_number') or '?'}")
    if kind == "product":
        title = f" {about['title']}" if about.get("title") else ""
        return say("product", locale, erp=about.get("erp") or about.get("sku") or "?") + title
    if kind == "company":
        return say("company", locale, erp=about["erp"])
    if kind == "report":
        return say("report", locale, name=about["name"])
    return str(about.get("name") or "")


def _record(
    shop_id: int,
    collected: Collected | None,
    now: datetime,
    *,
    sent: datetime | None,
    error: str | None = None,
    items: int | None = None,
    to: list[str] | None = None,
    hold_from: datetime | None = None,
) -> None:
    """Keep what was told (`collected`: None leaves it as it was) and, for an attempt, its outcome.
    `hold_from`: where the next read ends its overlap when none was kept yet (a first e-mail unsent)."""
    with session_scope() as session:
        state = session.get(AlertState, shop_id, with_for_update=True)
        if state is None:
            state = AlertState(shop_id=shop_id, told={}, last_to=[], last_items=0)
            session.add(state)
        if collected is not None:
            state.read_until = collected.read_until
            state.told = collected.told
        elif hold_from is not None and state.read_until is None:
            state.read_until = hold_from
        if items is not None:
            state.last_at, state.last_error = now, error
            state.last_items, state.last_to = items, list(to or [])
        if sent is not None:
            state.sent_at = sent


def _when(moment: datetime, zone: str | None) -> str:
    try:
        local = moment.astimezone(ZoneInfo(zone)) if zone else moment.astimezone(UTC)
    except (KeyError, ValueError):
        local = moment.astimezone(UTC)
    return local.strftime("%d/%m/%Y %H:%M") + ("" if zone else " UTC")


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:16]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
