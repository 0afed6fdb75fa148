"""The Orders page: Shopify order <-> ERP order, both statuses, NF-e, amounts, and the edit ledger.

Reads OrderLink rows (written by the order flows) and, for one order, its OrderLineChange
ledger (cuts, substitutions, weights) and the trace messages about it. An order the ERP has no
order for whose orders message is parked or failed (a payment gateway not mapped, a setting
missing, a refusal) needs attention for that message's reason: read from the message, so the
flag goes when the message is settled however it is (sent, retried, cancelled in Shopify). An
order shows every flow's note (`ledger.order_notes`), one per flow, never only the latest, each
said in the request's locale from the words its flow kept (shopify_app.note_words), else as written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, Select, and_, literal, or_, select
from sqlalchemy.orm import Session

import erp
from erp.errors import ErpRejected
from ledger import flows, handled, order_link_by_hand, order_notes, order_risk, shop_settings, trace
from ledger.kv import get_redis
from ledger.locks import LockBusy, flow_lock
from ledger.masking import mask_text, typed_tax_ids
from ledger.models import Message, MessageStatus, OrderLineChange, OrderLink, Role, Shop, as_utc, utcnow
from ledger.words import stored as stored_words
from shopify_app import fail_words, note_words
from shopify_app.admin_api.order_import_ops import read_order_company
from shopify_app.admin_api.order_results import SHIPPING_CREDENTIAL_BR, TAX_CREDENTIAL_BR, address_digest
from shopify_app.api_common import (
    MAX_ID,
    MAX_INT,
    SEARCH_MIN,
    ApiError,
    app_settings,
    as_int,
    db,
    decimal_text,
    invalid,
    iso,
    json_body,
    locale,
    not_found,
    page_cursor,
    query_choice,
    query_int,
    query_text,
    reject_unknown,
    write_audit,
)
from shopify_app.api_messages import stuck_ids, summary
from shopify_app.api_upstream import ERP, call, erp_client, shopify_read
from shopify_app.enqueue import enqueue_address_check, enqueue_replay
from shopify_app.line_words import reason as line_reason
from shopify_app.roles import require_role
from shopify_app.scopes import ORDERS_READABLE, reads_all_orders

bp = Blueprint("orders", __name__, url_prefix="/orders")

ORDER_FLOWS = flows.ORDER_FLOWS  # every flow whose messages are about one order
HELD = (MessageStatus.PARKED.value, MessageStatus.FAILED.value)


def _held() -> ColumnElement[bool]:
    """A message that needs a person: parked or failed, or an order held for its fraud risk (pending
    on purpose until a person reviews it or its verdict clears: ledger.order_risk)."""
    risk = (Message.status == MessageStatus.PENDING.value) & (
        Message.error_detail["waiting"].as_string() == order_risk.WAITING
    )
    return Message.status.in_(HELD) | risk


@dataclass(frozen=True)
class Held:
    """A message of the order parked or failed: its flow, its ERP event (an event's unit) and that
    event's ERP (generation), why."""

    flow: str
    event: int | None
    text: str
    generation: int = 0
    topic: str = ""  # the note it leaves is on a topic of its flow's (ledger.order_notes.topic_of)
    words: Any = None  # its failure's words (ledger.trace.FAIL), said in the page's language
    message_id: int | None = None  # the message: Mark as handled there closes it and its note

    @property
    def slot(self) -> tuple[str, int | None, int, str]:
        """The note it is shown as (ledger.order_notes.Note.slot)."""
        return self.flow, self.event, self.generation, self.topic

    @property
    def label(self) -> str:
        """What its note is named ("orders", "invoices (ERP event #12)"): its slot's label."""
        if self.event is not None:
            of = f", erp{self.generation}" if self.generation else ""
            return f"{self.flow} (ERP event #{self.event}{of})"
        return f"{self.flow} ({self.topic})" if self.topic else self.flow


def _held_orders(shop_id: int) -> Select[tuple[str | None]]:
    """The orders (gids) a message of an order flow about them is parked or failed for. An IN of
    this, not a correlated EXISTS: the messages held are read once through ix_messages_open and
    hashed, whatever the number of links (an EXISTS was costed per link, and PostgreSQL spent
    ~200 ms JIT-compiling it on every page load at a chain's size)."""
    return select(Message.shopify_id).where(
        Message.shop_id == shop_id,
        Message.flow.in_(ORDER_FLOWS),
        _held(),
    )


def held_messages(session: Session, shop_id: int, order_ids: list[str]) -> dict[str, list[Held]]:
    """The parked or failed messages of these orders (gids), oldest first, per order."""
    found: dict[str, list[Held]] = {}
    if not order_ids:
        return found
    rows = session.execute(
        select(
            Message.shopify_id,
            Message.flow,
            Message.unit_key,
            Message.error_text,
            Message.error_detail[trace.FAIL],
            Message.id,
        )
        .where(
            Message.shop_id == shop_id,
            Message.flow.in_(ORDER_FLOWS),
            _held(),
            Message.shopify_id.in_(order_ids),
        )
        .order_by(Message.id)
    )
    for gid, flow, key, text, words, message_id in rows:
        event = order_notes.event_of(key)
        held = Held(flow, event[0] if event else None, text or "no reason recorded", event[1] if event else 0,
                    order_notes.topic_of(key), words, message_id)  # fmt: skip
        found.setdefault(gid, []).append(held)
    return found


ERP_CANCELLED = "C"  # SITUACAOPED of an order cancelled in the ERP (its NF-e with it, if it had one)
# NF-e key: cUF(2) AAMM(4) CNPJ(14) mod(2) ...: the model's two digits, the 21st and 22nd of 44.
KEY_MODEL = slice(20, 22)
NFE_MODELS = ("55", "65")  # NF-e, NFC-e (the consumer receipt)


def _live() -> ColumnElement[bool]:
    """Cancelled on neither side: not marked cancelled, nor cancelled in the ERP (an ERP
    cancellation after invoicing cancels the NF-e too, jobs.cancellations.to_shopify; the key stays
    on the link)."""
    return OrderLink.cancelled_at.is_(None) & OrderLink.erp_status.is_distinct_from(ERP_CANCELLED)


FILTERS: dict[str, Any] = {  # each of the shop's id
    "needs_attention": lambda shop_id: (
        OrderLink.needs_attention.is_not(None) | OrderLink.shopify_order_id.in_(_held_orders(shop_id))
    ),
    "not_in_erp": lambda _: OrderLink.nro_pedvenda.is_(None) & OrderLink.cancelled_at.is_(None),
    "in_erp": lambda _: OrderLink.nro_pedvenda.is_not(None) & _live() & OrderLink.nfe_key.is_(None),
    "invoiced": lambda _: OrderLink.nfe_key.is_not(None) & _live(),
    "cancelled": lambda _: OrderLink.cancelled_at.is_not(None) | (OrderLink.erp_status == ERP_CANCELLED),
}
MAX_BIGINT = 2**63 - 1
RELATED_MESSAGES = 100


def attention_notes(link: OrderLink, held: list[Held] | tuple[Held, ...] = ()) -> list[order_notes.Note]:
    """Every note for a person on the order: each flow's (`ledger.order_notes`, a cancellation's
    first) and, for each of its messages parked or failed (`held`) that left none of its own,
    that message's reason as its flow's note: an ERP event's beside the note of that event (the
    one a refusal leaves), any other's beside its flow's own note (its import's, its edits' ...)."""
    shown = order_notes.notes(link)
    for message in held:
        if any(n.slot == message.slot for n in shown):
            continue
        shown.append(order_notes.Note(message.flow, message.event, f"{message.label}: {message.text}",
                                      message.generation, message.topic))  # fmt: skip
    return shown


def _note_json(
    note: order_notes.Note,
    reveal: bool,
    said: dict[str, list[Any]],
    where: str,
    failed: dict[str, Any],
    closes: dict[tuple[str, int | None, int, str], int] | None = None,
) -> dict[str, Any]:
    """One note: `note` as written ("invoices (ERP event #12): ..."); its slot apart (`flow`,
    `event`, `generation`, `topic`) and `text` its words without that prefix, for the page to name
    the flow in its own language: said in `where` (the request's locale) from the words the flow
    kept (`said`, ledger.order_notes.words_of), or for a held message's note the words its failure
    kept (`failed`, by label: shopify_app.fail_words), else, a row written before them or a key
    unknown, as written. `message_id`: the held message of its slot (`closes`), whose Mark as handled
    closes the note too (ledger.handled); None when none does, and a person closes the note itself
    by its `label` (POST .../notes/handled)."""
    words = note_words.note_text(note, said, where)
    if note.label in failed:
        words = fail_words.said(failed[note.label], where) or words
    return {
        "flow": note.flow or None,
        "event": note.event,
        "generation": note.generation,
        "topic": note.topic or None,
        "text": mask_text(words, reveal, typed := typed_tax_ids(said, failed.get(note.label))),
        "note": mask_text(note.text, reveal, typed),
        "label": note.label or None,
        "message_id": (closes or {}).get(note.slot),
    }


def order_json(
    link: OrderLink, reveal: bool = False, held: list[Held] | tuple[Held, ...] = (), *, where: str = "pt-BR"
) -> dict[str, Any]:
    """One order link for the admin; `reveal` (admins and owners): the notes' text unmasked (they
    may quote the ERP's or Shopify's words about the customer: a CPF, an e-mail), as on Messages.
    `held`: its messages parked or failed (`held_messages`), each shown as its flow's note when it
    left none. `attention_notes` lists the notes one per flow, each `text` in `where` (the request's
    locale); `needs_attention` is all of them as stored (English), one a line."""
    said = order_notes.words_of(link)
    shown = attention_notes(link, held)
    # a held message's note (one its flow left no note of its own for): its failure's words
    own, failed = {n.slot for n in order_notes.notes(link)}, {}
    for message in held:  # the first of a slot is its note (attention_notes)
        if message.slot not in own:
            own.add(message.slot)
            if message.words:
                failed[message.label] = message.words
    closes: dict[tuple[str, int | None, int, str], int] = {}
    for message in held:  # the first held message of a slot is the one shown closing its note
        if message.message_id is not None:
            closes.setdefault(message.slot, message.message_id)
    notes = [_note_json(n, reveal, said, where, failed, closes) for n in shown]
    return {
        "id": link.id,
        "shopify_order_id": link.shopify_order_id,
        "shopify_order_name": link.shopify_order_name,
        "nro_pedvenda": link.nro_pedvenda,
        "nro_empresa": link.nro_empresa,
        "shopify_status": link.shopify_status,
        "erp_status": link.erp_status,
        "total": decimal_text(link.total),
        "authorized_amount": decimal_text(link.authorized_amount),
        "captured_amount": decimal_text(link.captured_amount),
        "currency": link.currency,
        "nfe_key": link.nfe_key,
        "nfe_number": link.nfe_number,
        "nfe_series": link.nfe_series,
        "nfe_model": nfe_model(link),
        "nfe_cancelled": nfe_cancelled(link),
        "delivery_slot": link.delivery_slot,
        "slot_day": link.slot_day.isoformat() if link.slot_day else None,
        "slot_time": link.slot_time,
        "cancelled_at": iso(link.cancelled_at),
        "needs_attention": "\n".join(n["note"] for n in notes) or None,
        "attention_notes": notes,
        "erp_linked_by_hand": link.hand_linked_erp is not None,
        "created_at": iso(link.created_at),
        "updated_at": iso(link.updated_at),
    }


def nfe_model(link: OrderLink) -> str | None:
    """The fiscal document's model: "55" an NF-e, "65" an NFC-e; as the invoice recorded it, else
    read from its key (a link invoiced before the model was kept); None without a key."""
    if link.nfe_model:
        return link.nfe_model
    key = link.nfe_key or ""
    model = key[KEY_MODEL] if len(key) == 44 and key.isdigit() else None
    return model if model in NFE_MODELS else None


def nfe_cancelled(link: OrderLink) -> bool:
    """The link's NF-e was cancelled: the ERP cancelled the invoiced order (its NF-e with it:
    jobs.cancellations.to_shopify marks the order "NF-e cancelada" and the link's ERP status C,
    keeping the key). An order cancelled in Shopify only keeps a valid NF-e (the ERP refuses to
    cancel an invoiced order: a person must cancel the NF-e there)."""
    return bool(link.nfe_key) and link.erp_status == ERP_CANCELLED


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(text: str) -> ColumnElement[bool]:
    """The order name, Shopify id, NF-e key or delivery slot contain `text`; or the NROPEDVENDA
    equals it. The slot keeps a date as the team reads it (jobs.order_slot: "05/12/2026"), so an
    ISO date searched ("2026-12-05") is looked for that way too: a day's orders by their slot."""
    digits = text.lstrip("#")
    number = int(digits) if digits.isascii() and digits.isdigit() and int(digits) <= MAX_BIGINT else None
    if len(text) < SEARCH_MIN and number is not None:  # too short a substring for an index: exactly
        return or_(OrderLink.nro_pedvenda == number, OrderLink.shopify_order_name == f"#{number}")
    needle = f"%{_escape(text.lower())}%"
    clauses: list[ColumnElement[bool]] = [
        OrderLink.shopify_order_name.ilike(needle, escape="\\"),
        OrderLink.shopify_order_id.ilike(needle, escape="\\"),
        OrderLink.nfe_key.ilike(needle, escape="\\"),
        OrderLink.delivery_slot.ilike(needle, escape="\\"),
    ]
    day = _ISO_DAY.fullmatch(text.strip())
    if day:
        clauses.append(OrderLink.delivery_slot.ilike(f"%{day[3]}/{day[2]}/{day[1]}%"))
        # the slot's day as parsed (slot_day: "5/12/2026", "05.12.26" too), not only as spelt;
        # 2026-02-30 is no day: its text alone
        with contextlib.suppress(ValueError):
            clauses.append(OrderLink.slot_day == date(int(day[1]), int(day[2]), int(day[3])))
    if number is not None:
        clauses.append(OrderLink.nro_pedvenda == number)
    return or_(*clauses)


_SLOT_CURSOR = re.compile(r"((?:[01]\d|2[0-3]):[0-5]\d)?\|(\d{1,10})")


def _slot_day() -> date | None:
    """The `slot_day` query parameter: an ISO day (2026-12-05); 400 naming it otherwise."""
    raw = request.args.get("slot_day")
    if not raw:
        return None
    day = _ISO_DAY.fullmatch(raw)
    try:
        if day:
            return date(int(day[1]), int(day[2]), int(day[3]))
    except ValueError:
        pass
    raise invalid({"slot_day": "must be a day, e.g. 2026-12-05"})


def _slot_after() -> tuple[str | None, int] | None:
    """The `after` cursor of a day's list: "<start>|<id>" ("13:00|42"; "|42" past the timed ones)."""
    raw = request.args.get("after")
    if not raw:
        return None
    found = _SLOT_CURSOR.fullmatch(raw)
    if not found:
        raise invalid({"after": "must be a cursor the previous page gave (next_after)"})
    return found[1], min(int(found[2]), MAX_INT)  # ids are int4: past the largest, none follows


def _by_slot(stmt: Select[tuple[OrderLink]], day: date, limit: int) -> Select[tuple[OrderLink]]:
    """A day's orders in the order they are picked: by the slot's start, those with no start last,
    then as they came; from the `after` cursor on (ix_order_links_slot_day)."""
    stmt = stmt.where(OrderLink.slot_day == day)
    after = _slot_after()
    if after is not None:
        start, last_id = after
        if start is None:
            stmt = stmt.where(OrderLink.slot_time.is_(None), OrderLink.id > last_id)
        else:
            stmt = stmt.where(
                or_(
                    OrderLink.slot_time > start,
                    and_(OrderLink.slot_time == start, OrderLink.id > last_id),
                    OrderLink.slot_time.is_(None),
                )
            )
    return stmt.order_by(OrderLink.slot_time.asc().nulls_last(), OrderLink.id).limit(limit)


def _slot_cursor(rows: list[OrderLink]) -> str:
    return f"{rows[-1].slot_time or ''}|{rows[-1].id}"


@bp.get("")
@require_role(Role.VIEWER)
def list_orders() -> ResponseReturnValue:
    """The shop's orders, newest first, `before_id` paging on; or, with `slot_day`, that day's
    delivery and pickup slots in the order they are picked, `after` paging on (`next_after`)."""
    text = query_text("q")
    if text and len(text) < SEARCH_MIN and not text.lstrip("#").isdigit():
        # (a shorter number is an ERP order number, searched exactly: `_matches`)
        raise invalid({"q": f"must be at least {SEARCH_MIN} characters"})
    status = query_choice("status", tuple(FILTERS))
    before_id = query_int("before_id", None, 1, MAX_ID)
    limit = query_int("limit", 50, 1, 200) or 50
    day = _slot_day()
    stmt = select(OrderLink).where(OrderLink.shop_id == g.shop.id)
    if text:
        stmt = stmt.where(_matches(text))
    if status:
        stmt = stmt.where(FILTERS[status](g.shop.id))
    if day is not None:
        stmt = _by_slot(stmt, day, limit)
    else:
        if before_id is not None and before_id <= MAX_INT:  # ids are int4: a larger cursor filters nothing
            stmt = stmt.where(OrderLink.id < before_id)
        stmt = stmt.order_by(OrderLink.id.desc()).limit(limit)
    with db() as session:
        rows = list(session.scalars(stmt))
        held = held_messages(session, g.shop.id, [r.shopify_order_id for r in rows])
        reveal, where = g.role.at_least(Role.ADMIN), locale()
        return jsonify(
            {
                "orders": [
                    order_json(r, reveal, held.get(r.shopify_order_id, ()), where=where) for r in rows
                ],
                "next_before_id": None if day else page_cursor([r.id for r in rows], limit),
                "next_after": _slot_cursor(rows) if day and len(rows) == limit else None,
            }
        )


@bp.get("/<int:order_id>")
@require_role(Role.VIEWER)
def get_order(order_id: int) -> ResponseReturnValue:
    with db() as session:
        link = session.get(OrderLink, order_id) if order_id <= MAX_INT else None
        if link is None or link.shop_id != g.shop.id:
            raise not_found("order")
        held = held_messages(session, g.shop.id, [link.shopify_order_id]).get(link.shopify_order_id, ())
        reveal = g.role.at_least(Role.ADMIN)
        changes = session.scalars(
            select(OrderLineChange)
            .where(OrderLineChange.order_link_id == link.id)
            .order_by(OrderLineChange.id)
        )
        related: list[ColumnElement[bool]] = [Message.shopify_id == link.shopify_order_id]
        if link.nro_pedvenda is not None:  # an order flow's only: "3" is also SEQPRODUTO 3, company 3
            related.append((Message.erp_id == str(link.nro_pedvenda)) & Message.flow.in_(ORDER_FLOWS))
        if link.shopify_order_name:  # a whole search token: "#100" is not "#1001"
            name = _escape(link.shopify_order_name.lower())
            related.append(
                Message.search_text.like(f"%{name}%", escape="\\")  # what the trigram index serves
                & (literal(" ") + Message.search_text + literal(" ")).like(f"% {name} %", escape="\\")
            )
        names = {link.shopify_order_id: link.shopify_order_name} if link.shopify_order_name else {}
        where = locale()
        messages = list(
            session.scalars(
                select(Message)
                .where(Message.shop_id == g.shop.id, or_(*related))
                .order_by(Message.id.desc())
                .limit(RELATED_MESSAGES)
            )
        )
        stuck = stuck_ids(messages)
        return jsonify(
            {
                **order_json(link, reveal, held, where=where),
                "changes": [
                    {
                        "id": c.id,
                        "direction": c.direction,
                        "kind": c.kind,
                        "sku": c.sku,
                        "qty_before": decimal_text(c.qty_before),
                        "qty_after": decimal_text(c.qty_after),
                        "substitute_sku": c.substitute_sku,
                        "reason": mask_text(line_reason(c, where), reveal),
                        "applied": c.applied,
                        "created_at": iso(c.created_at),
                    }
                    for c in changes
                ],
                "messages": [summary(m, reveal, m.id in stuck, names=names, where=where) for m in messages],
            }
        )


def _own_link(session: Session, order_id: int) -> OrderLink:
    link = session.get(OrderLink, order_id) if order_id <= MAX_INT else None
    if link is None or link.shop_id != g.shop.id:
        raise not_found("order")
    return link


def _read_erp_order(nro: int) -> order_link_by_hand.ErpOrder | None:
    """The ERP order as the jobs read it (erp.ErpClient.get_order), one try; None when the ERP has
    none of that number."""
    client: erp.ErpClient = erp_client(g.shop.id, app_settings())

    def read() -> order_link_by_hand.ErpOrder | None:
        try:
            found = client.get_order(nro)
        except ErpRejected as exc:
            if exc.status == 404:
                return None
            raise
        finally:
            client.close()
        return order_link_by_hand.ErpOrder(
            found.nro_pedvenda,
            found.nro_empresa,
            found.situacao,
            found.seq_canal_venda,
            found.channel_order_id,
            found.cpf_cnpj,
            found.total,
        )

    return call(ERP, read)


def _read_shopify_order(gid: str) -> order_link_by_hand.ShopifyOrder | None:
    """The Shopify order's CPF/CNPJ (the buyer's and the recipient's from localizedFields, a B2B
    order's company location's, as jobs.order_customer reads them) and its total now; one try with
    short timeouts. None when Shopify has no such order any more."""

    def read(client: Any) -> order_link_by_hand.ShopifyOrder | None:
        order = client.order(gid)
        if order is None:
            return None
        found = [order.localized(TAX_CREDENTIAL_BR), order.localized(SHIPPING_CREDENTIAL_BR)]
        if order.bought_by_company:
            company = read_order_company(client, gid)
            found.append(company.tax_registration_id if company is not None else None)
        documents = frozenset(d for d in map(order_link_by_hand.compact_document, found) if d)
        total = order.current_total or order.total
        # What the person typed the ERP order from: a later address change is compared with it
        # (completed with its delivery text by the check enqueued after the link's commit).
        delivery = {"address": address_digest(order.shipping_address)}
        amount = total.amount if total is not None else None
        cancelled = bool(order.cancelled_at)
        return order_link_by_hand.ShopifyOrder(documents, amount, delivery, cancelled=cancelled)

    return shopify_read(g.shop.domain, app_settings(), read)


def _past_read_window(session: Session, link: OrderLink) -> bool:
    """Whether Shopify's null for the order says only that the app may not read it (as
    jobs.old_orders.past_window tells it): the shop's grant lacks read_all_orders and the app first
    saw the order (its link, or its orders message) longer ago than Shopify lets it read."""
    shop = session.get(Shop, link.shop_id)
    if shop is None or reads_all_orders(shop.scopes or ""):
        return False
    imported = order_link_by_hand.orders_message(session, link)
    cutoff = utcnow() - ORDERS_READABLE
    seen = (link.created_at, imported.created_at if imported is not None else None)
    return any(at is not None and as_utc(at) < cutoff for at in seen)


@contextmanager
def _poller_held() -> Iterator[None]:
    """Hold the EventoPedido poller's flow lock of the shop (`ledger.order_link_by_hand`): a poll
    running now would read the link as it was and skip a new event of the ERP order for good.
    409 `events_polling` while a poll runs (the page tries again), 503 when Redis is down."""
    try:
        with flow_lock(g.shop.id, order_link_by_hand.POLLER_FLOW, conn=get_redis(app_settings().redis_url)):
            yield
    except LockBusy as exc:
        raise ApiError(
            409, "events_polling", "the ERP order events are being read right now: try again in a moment"
        ) from exc
    except RedisError as exc:
        raise ApiError(
            503, "redis_unavailable", "the job queue (Redis) could not be reached: try again", system="queue"
        ) from exc


@bp.post("/<int:order_id>/erp-order")
@require_role(Role.OPERATOR)
def link_erp_order(order_id: int) -> ResponseReturnValue:
    """Link an order whose import failed, waits for its payment or was handled outside the app to
    the ERP order the merchant entered by hand (`ledger.order_link_by_hand`), then replay the events
    of that ERP order the poller skipped as not linked, oldest first. The ERP order must be this order's: not
    another Shopify order's (by the ledgers of every store on the ERP, or by its channel order id),
    the same buyer's CPF/CNPJ (else `confirm_buyer: true`), and about the same total (else
    `confirm_total: true`); a confirmation is audited."""
    body = json_body()
    reject_unknown(body, {"nro_pedvenda", "confirm_total", "confirm_buyer"})
    nro = as_int(body.get("nro_pedvenda"))
    if nro is None or not 1 <= nro <= MAX_BIGINT:
        raise invalid({"nro_pedvenda": f"must be an integer between 1 and {MAX_BIGINT}"})
    confirm_total = body.get("confirm_total", False)
    if not isinstance(confirm_total, bool):
        raise invalid({"confirm_total": "must be true or false"})
    confirm_buyer = body.get("confirm_buyer", False)
    if not isinstance(confirm_buyer, bool):
        raise invalid({"confirm_buyer": "must be true or false"})
    with db() as session:  # checked before the ERP is asked: this shop's own links only
        link = _own_link(session, order_id)
        _refuse_unlinkable(session, link)
        gid = link.shopify_order_id
        _refuse_taken(session, link, nro, other_shops=False)
    found = _read_erp_order(nro)
    if found is None:
        raise invalid({"nro_pedvenda": f"the ERP has no order {nro}"}, f"the ERP has no order {nro}")
    with db() as session:  # the shop's own credentials read the order: it is on that ERP indeed
        _refuse_taken(session, _own_link(session, order_id), nro, other_shops=True)
    shopify = _read_shopify_order(gid)
    if shopify is None:
        with db() as session:
            too_old = _past_read_window(session, _own_link(session, order_id))
        if too_old:  # it exists: the app may not read it, so it cannot be linked (its message says so)
            raise ApiError(
                409,
                "shopify_order_too_old",
                "Shopify no longer lets the app read this order (older than 60 days, without the "
                "read_all_orders access), so it cannot be linked: enter it in the ERP by hand and mark "
                "its message on the Messages page as handled, naming the ERP order's number",
            )
        raise ApiError(409, "shopify_order_gone", f"Shopify has no order {gid} any more")
    with db() as session:  # said before any total or buyer to confirm: no confirmation links it
        cancelled = order_link_by_hand.cancelled_in_shopify(_own_link(session, order_id), nro, shopify)
    if cancelled is not None:
        raise _refused(409, "erp_order_refused", cancelled)
    differs = order_link_by_hand.mismatch(found, shopify)  # (audited in full: the audit masks per reader)
    if differs is not None and not confirm_buyer:
        shown = order_link_by_hand.mismatch(found, shopify, reveal=g.role.at_least(Role.ADMIN))
        raise _refused(409, "erp_order_mismatch", shown or differs, differs=["cpf_cnpj"])
    gap = order_link_by_hand.total_gap(found, shopify)
    if gap is not None and not confirm_total:
        raise _refused(
            409,
            "erp_total_differs",
            gap,
            differs=["total"],
            erp_total=decimal_text(found.total),
            shopify_total=decimal_text(shopify.total),
        )
    with _poller_held(), db() as session:  # the lock outlives the commit
        link = _own_link(session, order_id)
        _refuse_unlinkable(session, link)
        shop = session.get(Shop, g.shop.id)
        channel = shop_settings.get(shop, "seq_canal_venda") if shop is not None else None
        why = order_link_by_hand.refusal(session, link, found, int(channel) if channel is not None else None)
        if why is not None:
            raise _refused(409, "erp_order_refused", why)
        try:
            linked = order_link_by_hand.link(session, link, found, by=str(g.user_id), shopify=shopify)
        except handled.Changed as exc:  # the order's import began again since it was read
            raise ApiError(409, "message_changed", f"the order's import changed meanwhile: {exc}") from exc
        write_audit(
            session,
            "order.erp_linked",
            f"order:{link.id}",
            {"nro_pedvenda": None},
            {
                "nro_pedvenda": nro,
                "erp_status": found.situacao,
                "shopify_order": link.shopify_order_name or link.shopify_order_id,
                "orders_message": linked.orders_message,
                "events_replayed": linked.events,
                "erp_total": decimal_text(found.total),
                "shopify_total": decimal_text(shopify.total),
                "total_confirmed": gap is not None,
                "buyer_confirmed": differs is not None,
                **({"buyer_differs": differs.text} if differs is not None else {}),
            },
        )
        held = held_messages(session, g.shop.id, [link.shopify_order_id]).get(link.shopify_order_id, ())
        answer = {**order_json(link, g.role.at_least(Role.ADMIN), held, where=locale()),
                  "events_replayed": linked.events}  # fmt: skip
        replays = list(session.scalars(select(Message).where(Message.id.in_(linked.events))))
    # After the commit, so each job finds its message pending; oldest first. Redis failing leaves
    # them pending: the orders catch-up replays them. Then the delivery address, read again under
    # the order's lock (the link read it before its commit: a change handled meanwhile found the
    # order not in the ERP); Redis failing leaves the address recorded at the link the baseline.
    by_id = {m.id: m for m in replays}
    try:
        conn = get_redis(app_settings().redis_url)
        for message_id in linked.events:
            enqueue_replay(by_id[message_id], conn)
        enqueue_address_check(g.shop.id, gid, nro, conn)
    except RedisError:
        answer["events_enqueued"] = False
    else:
        answer["events_enqueued"] = True
    return jsonify(answer)


@bp.delete("/<int:order_id>/erp-order")
@require_role(Role.OPERATOR)
def unlink_erp_order(order_id: int) -> ResponseReturnValue:
    """Undo a number linked by hand by mistake, while none of that ERP order's events has been
    applied to the Shopify order (`order_link_by_hand.unlink_refusal`); audited. The order can then
    be linked to the right ERP order."""
    with _poller_held(), db() as session:
        link = _own_link(session, order_id)
        if link.nro_pedvenda is None:
            raise ApiError(409, "not_linked", "the order is linked to no ERP order")
        why = order_link_by_hand.unlink_refusal(session, link, reveal=g.role.at_least(Role.ADMIN))
        if why is not None:
            raise _refused(409, "erp_order_applied", why, nro_pedvenda=link.nro_pedvenda)
        before = order_link_by_hand.unlink(session, link)
        released = before.pop("events_released")
        write_audit(
            session,
            "order.erp_unlinked",
            f"order:{link.id}",
            before,
            {
                "nro_pedvenda": None,
                "shopify_order": link.shopify_order_name or link.shopify_order_id,
                "events_released": released,
            },
        )
        held = held_messages(session, g.shop.id, [link.shopify_order_id]).get(link.shopify_order_id, ())
        answer = {**order_json(link, g.role.at_least(Role.ADMIN), held, where=locale()),
                  "events_released": released}  # fmt: skip
        return jsonify(answer)


def _refuse_taken(session: Session, link: OrderLink, nro: int, *, other_shops: bool) -> None:
    other = order_link_by_hand.taken_by(session, link, nro, other_shops=other_shops)
    if other is not None:
        raise _refused(409, "erp_order_taken", order_link_by_hand.taken_text(link, nro, other))


def _refused(status: int, code: str, why: order_link_by_hand.Refusal, **extra: Any) -> ApiError:
    """A refusal of a hand link (or unlink): the English `message` for API clients, and `words`
    ({"key", "params"}: ledger.words.stored) the page says in its language (`error.reason.<key>`)."""
    return ApiError(status, code, why.text, words=stored_words(why.words), **extra)


def _refuse_unlinkable(session: Session, link: OrderLink) -> None:
    if link.nro_pedvenda is not None:
        raise ApiError(409, "already_linked", f"the order is already ERP order {link.nro_pedvenda}")
    if order_link_by_hand.busy(order_link_by_hand.orders_message(session, link)):
        raise ApiError(
            409, "import_running", "the order's import is running: wait for it to end, then link it"
        )
