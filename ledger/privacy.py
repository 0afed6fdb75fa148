"""Customer and shop privacy: what the ledger holds on a customer, and how it is removed.

Pure scrubbing first (`scrub`, `scrub_text`, `mentions`): PII is replaced by "[redacted]" by
key (names, emails, phones, addresses, CPF/CNPJ and other document numbers, in Shopify's and
Consinco's spellings) and by value (e-mail addresses, any CPF/CNPJ-shaped token in any text,
and the customer's own known values), keeping the non-PII structure (ids, totals, SKUs) so the
trace still explains what happened. A customer's e-mail and phone name them only as whole values
(case-insensitive): ana@example.com is not a piece of joana@example.com, so one customer's
request never reaches another's data. Then the ledger operations the compliance webhooks run:
`export_customer`, `redact_customer`, `redact_shop`. A data request's audit record keeps the
export's counts and row ids (`exported_ids`), never the data: `export_recorded` rebuilds the
export from them for an admin to send the customer (GET /api/audit/<id>/export).

A message about many customers (the day's reconciliation report lists every held order with its
failure's text: another buyer's mistyped CPF, a staff note quoting an e-mail) is found by a mention
of the customer inside it, not by being one of her orders' messages: the export holds only its parts
about her (`message_parts`: the paths of the entries naming her, kept by the audit record beside the
ids), never the whole message, which would hand her other customers' data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from ledger import handled_before
from ledger.masking import NEW_DELIVERY, replace_documents, typed_tax_ids
from ledger.models import (
    AuditEvent,
    Base,
    Binding,
    HandledOrder,
    InstallPeriod,
    Message,
    OrderLineChange,
    OrderLink,
    Schedule,
    Shop,
    WebhookInbox,
    as_utc,
)

REDACTED = "[redacted]"
DATA_EXPORTED = "customer.data_exported"  # the audit action of a customers/data_request
CUSTOMER_REDACTED = "customer.redacted"  # ... of a customers/redact
SHOP_REDACTED = "shop.redacted"  # ... of a shop/redact (the one record it keeps)
EXPORT_TABLES = ("order_links", "messages", "webhooks", "audit_events", "bindings", "schedules")
# A message's columns that may hold a customer's data, searched for her parts (`message_parts`)
MESSAGE_PARTS = ("request_payload", "response_payload", "error_detail", "error_text", "search_text")

# fmt: off
# Keys whose values are personal wherever they appear (compared lower-case, letters and digits only):
# Shopify's REST/GraphQL spellings and Consinco's (clienteDto, GE_PESSOA).
PII_KEYS = frozenset({
    "firstname", "lastname", "displayname", "email", "contactemail", "customeremail", "emailnfe",
    "emailaddress", "phone", "phonenumber", "mobile", "fone", "fonenro1", "foneddd1", "fonenro2",
    "foneddd2", "fonenro3", "foneddd3", "celular", "address1", "address2",
    "street", "logradouro", "nrologradouro", "complementologradouro", "bairro", "zip", "cep", "postalcode",
    "company", "cpf", "cnpj", "cpfcnpj", "nrocgccpf", "digcgccpf", "document", "documentnumber",
    "documento", "taxid", "taxnumber", "inscestadualrg", "rg", "nomerazao", "nomerazaosocial",
    "nomefantasia", "fantasia", "birthday", "birthdate", "dateofbirth", "dtanascfund", "latitude",
    "longitude", "browserip", "clientip", "ip", "note", "sexo", "estadocivil",
    # a card's masked number and BIN (jobs.card_payments keeps them on the message it sent them with)
    "cardnumber", "nrocartao", "accountnumber", "bin", "codbin",
})
# Objects that describe a person or an address: inside them `name`, `city`... are personal too
# (a product's or a line item's `name` is not).
PERSON_CONTAINERS = frozenset({
    "customer", "billingaddress", "shippingaddress", "defaultaddress", "addresses", "address", "cliente",
    "clientedto", "pessoa", "destinatario", "contact", "buyer", "localizedfields",
})
CONTEXT_PII_KEYS = frozenset({"name", "city", "cidade", "province", "uf", "value", "nome"})
# Lists of what the buyer typed at checkout, as {name|key, value} pairs (an order's note attributes, a
# line's properties, GraphQL's customAttributes): each `value` is personal (a name, a phone, a CPF
# typed in a field the store added), its attribute's name is the store's.
ATTRIBUTE_LISTS = frozenset({"noteattributes", "properties", "customattributes", "attributes"})
# Keys whose values are the store's own, though CPF/CNPJ-shaped: the NF-e's issuer is the
# supermarket (an invoice event kept on its message is replayed from it: jobs.invoice_keys compares
# the key's CNPJ with it).
BUSINESS_KEYS = frozenset({"issuercnpj", "cnpjemitente"})
# fmt: on
# A stored body nested deeper than this is read as text (its JSON walked by recursive code).
MAX_BODY_DEPTH = 100

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A delivery address not taken by the ERP order (jobs.order_edits.address): its note and message end
# with the new delivery behind NEW_DELIVERY, scrubbed whole to the end of the line, whatever it holds.
_NEW_DELIVERY = re.compile(re.escape(NEW_DELIVERY) + r".*", re.IGNORECASE)
# Notes written before (rows kept): the new delivery and the ERP order's obsPedido quoted whole,
# between words of their own (a quote inside an address, a hand-typed obsPedido, scrubbed all).
_OLD_QUOTES = (
    re.compile(r'(?<=was changed in Shopify to ").*?(?=", but ERP order )', re.IGNORECASE),
    re.compile(r'(?<=its observation still says ").*?(?=" and the order would go to the old address)', re.I),
)
# A delivery as obsPedido names it ("Entrega: <name>, <address>, ...") in any other text (an ERP
# answer, a hand-typed "ENTREGA: ..."): the rest of its quote or line goes.
_DELIVERY = re.compile(r"Entrega: [^\"\n]*", re.IGNORECASE)


def _whole(value: str) -> re.Pattern[str]:
    """`value` as a whole token, case-insensitively: ana@example.com is not found inside
    joana@example.com or ana@example.com.br, +5511900000000 not inside a longer number."""
    if "@" in value:  # an e-mail ends where address characters do (a final "." ends a sentence)
        before, after = r"(?<![\w.%+\-])", r"(?![\w%+\-@]|\.\w)"
    else:
        before = r"(?<!\w)" if value[:1].isalnum() else ""
        after = r"(?!\w)" if value[-1:].isalnum() else ""
    return re.compile(before + re.escape(value) + after, re.IGNORECASE)


def _has(text: str, value: str | None) -> bool:
    return bool(value) and _whole(value).search(text) is not None


def normalise_key(key: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _is_id_key(norm: str) -> bool:
    return norm.endswith("id") or norm.endswith("ids") or norm in {"sku", "ean", "barcode", "nfekey"}


def scrub_text(text: str, known: Iterable[str] = ()) -> str:
    """Replace known values, e-mails, a delivery address (a note's new delivery to the end of its
    line, what an older note quoted, else "Entrega: ..." to the end of its quote or line) and every
    CPF/CNPJ-shaped token (masking.TEXT_DOCUMENT: bare or formatted, numeric or alphanumeric CNPJ,
    valid check digits or not; a gid's id stays)."""
    for value in sorted((k for k in known if k and len(k) >= 3), key=len, reverse=True):
        text = _whole(value).sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _NEW_DELIVERY.sub(f"{NEW_DELIVERY} {REDACTED}", text)
    for quoted in _OLD_QUOTES:
        text = quoted.sub(REDACTED, text)
    text = _DELIVERY.sub(f"Entrega: {REDACTED}", text)
    return replace_documents(text, lambda _document: REDACTED)


def scrub(obj: Any, known: Iterable[str] = (), *, _in_person: bool = False, _key: str = "") -> Any:
    """A copy of `obj` with PII replaced by "[redacted]" and every other value kept."""
    known = tuple(known)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            norm = normalise_key(key)
            if norm in BUSINESS_KEYS and not isinstance(value, dict | list):
                out[key] = value
                continue
            personal = (
                norm in PII_KEYS
                or (_in_person and norm in CONTEXT_PII_KEYS)
                or (_key in ATTRIBUTE_LISTS and norm == "value")
            )
            if personal and value not in (None, "", [], {}):
                out[key] = (
                    REDACTED
                    if not isinstance(value, dict | list)
                    else scrub(value, known, _in_person=True, _key=norm)
                )
            else:
                out[key] = scrub(value, known, _in_person=_in_person or norm in PERSON_CONTAINERS, _key=norm)
        return out
    if isinstance(obj, list):
        return [scrub(v, known, _in_person=_in_person, _key=_key) for v in obj]
    if isinstance(obj, str):
        if _in_person and _key in PII_KEYS | CONTEXT_PII_KEYS:
            return REDACTED
        if _is_id_key(_key) and not any(_has(obj, k) for k in known):
            return obj
        return scrub_text(obj, known)
    return obj


def scrub_words(words: dict[str, Any] | None, known: Iterable[str] = ()) -> dict[str, Any] | None:
    """An order's notes' words (ledger.order_notes) scrubbed as their text is: a delivery address
    param whole (as NEW_DELIVERY's text), a person's note whole, every other text by `scrub_text`."""
    if not words:
        return words
    return {label: _scrub_param(parts, tuple(known)) for label, parts in words.items()}


def _scrub_param(value: Any, known: tuple[str, ...], key: str = "") -> Any:
    if key in WORDS_REDACTED and value not in (None, ""):
        return REDACTED
    if isinstance(value, dict):
        return {k: _scrub_param(v, known, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_param(v, known) for v in value]
    return scrub_text(value, known) if isinstance(value, str) else value


# Params of a note's words scrubbed whole (ledger.order_notes.DELIVERY: a delivery address as
# written; a person's note closing a message as handled).
WORDS_REDACTED = frozenset({"delivery", "note"})


@dataclass(frozen=True)
class CustomerRef:
    """Who a compliance request is about, as Shopify names them."""

    customer_id: str | None
    email: str | None = None
    phone: str | None = None
    order_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_payload(cls, payload: dict[str, Any], orders_key: str) -> CustomerRef:
        customer = payload.get("customer") or {}
        orders: set[str] = set()
        for order_id in payload.get(orders_key) or []:
            orders |= {str(order_id), f"gid://shopify/Order/{order_id}"}
        cid = customer.get("id")
        return cls(
            customer_id=str(cid) if cid is not None else None,
            email=(customer.get("email") or None),
            phone=(customer.get("phone") or None),
            order_ids=frozenset(orders),
        )

    @property
    def order_gids(self) -> set[str]:
        return {o for o in self.order_ids if o.startswith("gid://")}

    @property
    def known_values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.email, self.phone) if v)

    @property
    def needles(self) -> list[str]:
        """Substrings that any row mentioning this customer must contain (a cheap SQL prefilter)."""
        values = [self.email, self.phone, self.customer_id, *self.order_ids]
        return [v for v in values if v]


def mentions(obj: Any, ref: CustomerRef, _key: str = "") -> bool:
    """Whether a payload is about this customer: their id, e-mail, phone or one of their orders."""
    customer_gid = f"gid://shopify/Customer/{ref.customer_id}" if ref.customer_id else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            norm = normalise_key(key)
            is_customer = norm in {"customer", "cliente"} and isinstance(value, dict)
            if is_customer and ref.customer_id and str(value.get("id")) in (ref.customer_id, customer_gid):
                return True
            if norm in {"customerid"} and ref.customer_id and str(value) in (ref.customer_id, customer_gid):
                return True
            is_order_key = norm in {"orderid", "admingraphqlapiid"} or (
                norm == "id" and _key in {"", "order"}
            )
            if is_order_key and not isinstance(value, dict | list) and str(value) in ref.order_ids:
                return True
            if mentions(value, ref, norm):
                return True
        return False
    if isinstance(obj, list):
        return any(mentions(v, ref, _key) for v in obj)
    if isinstance(obj, str):
        if _has(obj, ref.email) or _has(obj, ref.phone):
            return True
        return obj in ref.order_gids or (customer_gid is not None and obj == customer_gid)
    return False


def text_mentions(text: str | None, ref: CustomerRef) -> bool:
    """Whether a free text names the customer (their e-mail or phone, as a whole value)."""
    return bool(text) and (_has(text, ref.email) or _has(text, ref.phone))


def _decode_body(raw: bytes) -> tuple[Any, str]:
    """A stored body as JSON, and its text; None for a body that is not JSON, or one nested past
    MAX_BODY_DEPTH (the receiver keeps one too deep to parse as rejected): read as text, which the
    customer's lookup and scrub handle, so one such row cannot fail every privacy request."""
    text = bytes(raw).decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None, text
    return (payload, text) if _depth(payload) <= MAX_BODY_DEPTH else (None, text)


def _depth(payload: Any) -> int:
    """How deep a parsed JSON value nests (measured without recursion)."""
    deepest, stack = 0, [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_BODY_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


def _like_any(column: Any, needles: list[str]) -> Any:
    """The rows that may mention a needle: a case-insensitive prefilter (an ERP may echo an e-mail
    in capitals), narrowed by the whole-value match in Python."""
    return or_(*[cast(column, Text).icontains(n, autoescape=True) for n in needles])


def _candidate_messages(session: Session, shop: Shop, ref: CustomerRef) -> list[Message]:
    needles = ref.needles
    if not needles:
        return []
    query = select(Message).where(
        Message.shop_id == shop.id,
        or_(
            Message.shopify_id.in_(ref.order_gids or {""}),
            _like_any(Message.request_payload, needles),
            _like_any(Message.response_payload, needles),
            _like_any(Message.error_text, needles),
            _like_any(Message.search_text, needles),
        ),
    )
    rows = []
    for msg in session.scalars(query):
        if (
            msg.shopify_id in ref.order_gids
            or mentions(msg.request_payload, ref)
            or mentions(msg.response_payload, ref)
            or text_mentions(msg.error_text, ref)
            or text_mentions(msg.search_text, ref)
        ):
            rows.append(msg)
    return rows


def _candidate_inbox(session: Session, shop_domain: str, ref: CustomerRef) -> list[tuple[WebhookInbox, Any]]:
    """The shop's webhook rows about the customer. Prefiltered in SQL by the needles, as the other
    tables are: every body read and parsed in Python cost ~1.5 ms a row, so a shop's 30 days of
    orders/updated (hundreds of thousands of rows) outlasted the job's timeout on every retry.
    A needle that is not ASCII (the bodies' bytes are matched as ASCII text) reads them all."""
    needles = ref.needles
    if not needles:
        return []
    rows = []
    query = select(WebhookInbox).where(WebhookInbox.shop_domain == shop_domain)
    if all(n.isascii() for n in needles):
        body = (
            func.encode(WebhookInbox.raw_body, "escape")  # bytes >= 0x80 as \ooo, the rest as they are
            if session.get_bind().dialect.name == "postgresql"
            else cast(WebhookInbox.raw_body, Text)
        )
        query = query.where(or_(*[body.icontains(n, autoescape=True) for n in needles]))
    query = query.execution_options(yield_per=500)
    for row in session.scalars(query):
        payload, text = _decode_body(row.raw_body)
        if (payload is not None and mentions(payload, ref)) or (payload is None and text_mentions(text, ref)):
            rows.append((row, payload))
    return rows


def _of_shop(shop: Shop) -> Any:
    """A shop's audit events: by its id, or by its domain (an event written before the shop row)."""
    return or_(AuditEvent.shop_id == shop.id, AuditEvent.shop_domain == shop.domain)


def _candidate_audit(session: Session, shop: Shop, ref: CustomerRef, targets: set[str]) -> list[AuditEvent]:
    """The audit events naming the customer, and those about their orders' links and messages
    (`targets`: a Mark as handled written before its cleared notes were kept as labels quoted the
    delivery address of the note it cleared)."""
    needles = ref.needles  # the targets come from rows found by them
    if not needles:
        return []
    query = select(AuditEvent).where(
        _of_shop(shop),
        or_(
            AuditEvent.target.in_(targets or {""}),
            _like_any(AuditEvent.before, needles),
            _like_any(AuditEvent.after, needles),
            _like_any(AuditEvent.target, needles),
        ),
    )
    return [
        a
        for a in session.scalars(query)
        if a.target in targets
        or mentions(a.before, ref)
        or mentions(a.after, ref)
        or text_mentions(a.target, ref)
    ]


@dataclass
class CustomerRows:
    """The ledger rows about one customer: what redact_customer scrubs, export_customer returns."""

    messages: list[Message]
    webhooks: list[tuple[WebhookInbox, Any]]
    audit_events: list[AuditEvent]
    order_links: list[OrderLink]
    bindings: list[Binding]
    schedules: list[Schedule] = field(default_factory=list)  # their last error naming the customer
    # {message id: paths of its parts about the customer}: a message found by a mention inside it,
    # not one of her orders' own (`message_parts`, for an export); absent, a message is hers whole
    parts: dict[int, list[list[Any]]] = field(default_factory=dict)


def customer_rows(session: Session, shop: Shop, ref: CustomerRef) -> CustomerRows:
    """Every row that mentions the customer (their id, e-mail, phone or one of their orders), and the
    audit events about their orders' links and messages."""
    links = session.scalars(
        select(OrderLink).where(
            OrderLink.shop_id == shop.id, OrderLink.shopify_order_id.in_(ref.order_gids or {""})
        )
    ).all()
    bindings = []
    if ref.needles:
        query = select(Binding).where(Binding.shop_id == shop.id, _like_any(Binding.data, ref.needles))
        bindings = [b for b in session.scalars(query) if mentions(b.data, ref)]
    messages = _candidate_messages(session, shop, ref)
    targets = {f"message:{m.id}" for m in messages} | {f"order:{link.id}" for link in links}
    return CustomerRows(
        messages=messages,
        webhooks=_candidate_inbox(session, shop.domain, ref),
        audit_events=_candidate_audit(session, shop, ref, targets),
        order_links=list(links),
        bindings=bindings,
        schedules=_schedules_naming(session, shop, ref),
    )


def message_parts(message: Message, ref: CustomerRef) -> list[list[Any]]:
    """The paths ([column, key or index...]) of a message's parts about the customer: a JSON object
    naming her by a value of its own (her order's id, her customer id, her e-mail or phone) whole, a
    text naming her; [[column]] when a whole column is about her (a message of her order's, keyed
    otherwise)."""
    found: list[list[Any]] = []
    for column in MESSAGE_PARTS:
        found.extend(_parts(getattr(message, column), ref, "", [column]))
    return found


def _parts(obj: Any, ref: CustomerRef, key: str, path: list[Any]) -> list[list[Any]]:
    if isinstance(obj, dict):
        own = {
            k: v for k, v in obj.items() if not isinstance(v, dict | list) or normalise_key(k) in _PERSON_KEYS
        }
        if mentions(own, ref, key):
            return [path]
        return [p for k, v in obj.items() for p in _parts(v, ref, normalise_key(k), [*path, k])]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _parts(v, ref, key, [*path, i])]
    return [path] if isinstance(obj, str) and mentions(obj, ref, key) else []


_PERSON_KEYS = frozenset({"customer", "cliente"})  # (mentions: a customer object names her by its id)


def _picked(obj: Any, paths: list[list[Any]]) -> Any:
    """`obj` with only what lies at these paths (their ancestors as containers); None when none."""
    if not paths:
        return None
    if any(not p for p in paths):
        return obj
    heads: dict[Any, list[list[Any]]] = {}
    for p in paths:
        heads.setdefault(p[0], []).append(p[1:])
    if isinstance(obj, dict):
        return {k: _picked(obj[k], rest) for k, rest in heads.items() if isinstance(k, str) and k in obj}
    if isinstance(obj, list):
        return [
            _picked(obj[i], rest)
            for i, rest in sorted((i, r) for i, r in heads.items() if isinstance(i, int))
            if 0 <= i < len(obj)
        ]
    return None  # a path past a text: the message changed since (export_recorded leaves it out)


def _line_changes(session: Session, link: OrderLink) -> list[OrderLineChange]:
    return list(
        session.scalars(
            select(OrderLineChange)
            .where(OrderLineChange.order_link_id == link.id)
            .order_by(OrderLineChange.id)
        )
    )


def export_customer(session: Session, shop: Shop, ref: CustomerRef) -> dict[str, Any]:
    """Everything the ledger holds on a customer, as one JSON-ready document: every column
    redact_customer scrubs (payloads, error texts and details, an order's needs_attention and
    line-change reasons, audit events, bindings, an inbox row's failure text, a schedule's last
    error), of a message about many customers only its parts about her (module docstring). The
    compliance requests themselves (their webhooks, their audit records of counts and ids) are not
    the customer's data and are left out."""
    rows = customer_rows(session, shop, ref)
    rows.webhooks = [(r, p) for r, p in rows.webhooks if not r.topic.startswith(("customers/", "shop/"))]
    rows.audit_events = [a for a in rows.audit_events if not a.action.startswith("customer.")]
    rows.parts = {m.id: message_parts(m, ref) for m in rows.messages if m.shopify_id not in ref.order_gids}
    customer = {"id": ref.customer_id, "email": ref.email, "phone": ref.phone}
    return export_document(session, shop.domain, rows, customer)


def inbox_rows(session: Session, shop_domain: str, ref: CustomerRef) -> CustomerRows:
    """The customer's rows of a store the ledger has no shop row for (the app not opened there yet
    while Shopify's managed install already delivers its webhooks, or erased by shop/redact): only
    the inbox, kept by domain, holds them (webhooks stored whole, answered "not installed")."""
    webhooks = _candidate_inbox(session, shop_domain, ref)
    return CustomerRows(messages=[], webhooks=webhooks, audit_events=[], order_links=[], bindings=[])


def export_inbox(session: Session, shop_domain: str, ref: CustomerRef) -> dict[str, Any]:
    """`export_customer` for a store with no shop row (`inbox_rows`)."""
    rows = inbox_rows(session, shop_domain, ref)
    rows.webhooks = [(r, p) for r, p in rows.webhooks if not r.topic.startswith(("customers/", "shop/"))]
    customer = {"id": ref.customer_id, "email": ref.email, "phone": ref.phone}
    return export_document(session, shop_domain, rows, customer)


def redact_inbox(session: Session, shop_domain: str, ref: CustomerRef) -> dict[str, int]:
    """`redact_customer` for a store with no shop row (`inbox_rows`): its inbox rows scrubbed."""
    rows = inbox_rows(session, shop_domain, ref)
    _scrub_webhooks(rows.webhooks, ref.known_values)
    session.flush()
    return {"webhook_inbox": len(rows.webhooks)}


def export_document(
    session: Session, shop_domain: str, rows: CustomerRows, customer: dict[str, Any]
) -> dict[str, Any]:
    """The export of `rows`, JSON-ready, with a count per table."""
    return {
        "shop": shop_domain,
        "customer": customer,
        "order_links": [
            {
                "id": link.id,
                "shopify_order_id": link.shopify_order_id,
                "shopify_order_name": link.shopify_order_name,
                "erp_order": link.nro_pedvenda,
                "shopify_status": link.shopify_status,
                "erp_status": link.erp_status,
                "total": str(link.total) if link.total is not None else None,
                "nfe_key": link.nfe_key,
                "needs_attention": link.needs_attention,
                "attention_words": link.attention_words,
                "line_changes": [
                    {"kind": c.kind, "sku": c.sku, "reason": c.reason, "created_at": c.created_at.isoformat()}
                    for c in _line_changes(session, link)
                ],
                "created_at": link.created_at.isoformat(),
            }
            for link in rows.order_links
        ],
        "messages": [_message_json(m, rows.parts.get(m.id)) for m in rows.messages],
        "webhooks": [
            {
                "id": row.id,
                "topic": row.topic,
                "received_at": row.received_at.isoformat(),
                "payload": payload,
                "reason": row.reason,
            }
            for row, payload in rows.webhooks
        ],
        "audit_events": [
            {
                "id": a.id,
                "actor": a.actor,
                "action": a.action,
                "target": a.target,
                "before": a.before,
                "after": a.after,
                "created_at": a.created_at.isoformat(),
            }
            for a in rows.audit_events
        ],
        "bindings": [
            {"id": b.id, "kind": b.kind, "erp_id": b.erp_id, "shopify_id": b.shopify_id, "data": b.data}
            for b in rows.bindings
        ],
        "schedules": [
            {"id": s.id, "flow": s.flow, "last_error": s.last_error, "last_error_words": s.last_error_words}
            for s in rows.schedules
        ],
        "counts": {
            "order_links": len(rows.order_links),
            "messages": len(rows.messages),
            "webhooks": len(rows.webhooks),
            "audit_events": len(rows.audit_events),
            "bindings": len(rows.bindings),
            "schedules": len(rows.schedules),
        },
    }


def _message_json(m: Message, parts: list[list[Any]] | None) -> dict[str, Any]:
    """A message as exported: whole, or (`parts`: a message about many customers) only its parts
    about the customer, their paths beside them (`parts`: what the audit record keeps)."""
    columns = {column: getattr(m, column) for column in MESSAGE_PARTS}
    if parts is not None:
        columns = {
            column: _picked(value, [p[1:] for p in parts if p[0] == column])
            for column, value in columns.items()
        }
    return {
        "id": m.id,
        "flow": m.flow,
        "direction": m.direction,
        "unit_key": m.unit_key,
        "shopify_id": m.shopify_id,
        "erp_id": m.erp_id,
        "status": m.status,
        "created_at": m.created_at.isoformat(),
        **columns,
        **({"parts": parts} if parts is not None else {}),
    }


def exported_ids(export: dict[str, Any]) -> dict[str, Any]:
    """What an export holds, as row ids per table, and the paths of the parts of each message about
    many customers it holds: all its audit record keeps (no personal data)."""
    ids: dict[str, Any] = {table: [row["id"] for row in export[table]] for table in EXPORT_TABLES}
    parts = {str(m["id"]): m["parts"] for m in export["messages"] if "parts" in m}
    return {**ids, "message_parts": parts} if parts else ids


def export_recorded(
    session: Session, shop: Shop, exported: dict[str, Any], customer_id: Any, at: datetime | None = None
) -> dict[str, Any]:
    """An export rebuilt from the row ids its audit record kept (`exported_ids`), as the rows are
    now: what a later customers/redact scrubbed or shop/redact deleted is not given out again. Of a
    message about many customers only the parts recorded; none when it changed after the export
    (`at`: a report run again lists other orders at those places)."""

    def ids(table: str) -> list[int]:
        return [int(i) for i in exported.get(table) or []] or [0]

    def rows(model: Any, table: str, *where: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.id.in_(ids(table)), *where).order_by(model.id)))

    inbox = rows(WebhookInbox, "webhooks", WebhookInbox.shop_domain == shop.domain)
    messages = rows(Message, "messages", Message.shop_id == shop.id)
    recorded = {int(i): paths for i, paths in (exported.get("message_parts") or {}).items()}
    parts = {
        m.id: [] if at is not None and as_utc(m.updated_at) > as_utc(at) else recorded[m.id]
        for m in messages
        if m.id in recorded
    }
    found = CustomerRows(
        messages=messages,
        webhooks=[(row, _decode_body(row.raw_body)[0]) for row in inbox],
        audit_events=rows(AuditEvent, "audit_events", _of_shop(shop)),
        order_links=rows(OrderLink, "order_links", OrderLink.shop_id == shop.id),
        bindings=rows(Binding, "bindings", Binding.shop_id == shop.id),
        schedules=rows(Schedule, "schedules", Schedule.shop_id == shop.id),
        parts=parts,
    )
    return export_document(session, shop.domain, found, {"id": customer_id})


def redact_customer(
    session: Session, shop: Shop, ref: CustomerRef, rows: CustomerRows | None = None
) -> dict[str, int]:
    """Remove the customer's PII from every table of the ledger; returns counts per table.

    `rows` are the customer's rows when the caller found them already (`customer_rows`: the
    compliance job also drops RQ's failed jobs of their inbox rows). An inbox row's failure text
    (`reason`, the handler's exception) is scrubbed with its body, and so is a schedule's last
    error naming the customer (a run's exception line may quote an order's e-mail)."""
    rows = rows if rows is not None else customer_rows(session, shop, ref)
    # and the CPF/CNPJ the customer typed that no rule took (any length: not CPF/CNPJ-shaped), as
    # their failures and notes quote it (masking.typed_tax_ids)
    typed = typed_tax_ids(
        *(msg.error_detail for msg in rows.messages), *(link.attention_words for link in rows.order_links)
    )
    # and her name as her rows hold it (her orders' bodies, the ERP order's client): an ERP refusal
    # quoting her register ("cliente MARIA SOUZA bloqueado") kept it, its CPF beside it scrubbed
    names = person_names(
        [payload for _row, payload in rows.webhooks] + [msg.request_payload for msg in rows.messages]
    )
    known = (*ref.known_values, *sorted(typed), *sorted(names))
    for msg in rows.messages:
        msg.request_payload = scrub(msg.request_payload, known)
        msg.response_payload = scrub(msg.response_payload, known)
        msg.error_detail = scrub(msg.error_detail, known)
        msg.error_text = scrub_text(msg.error_text, known) if msg.error_text else msg.error_text
        msg.search_text = scrub_text(msg.search_text, known) if msg.search_text else msg.search_text
    _scrub_webhooks(rows.webhooks, known)
    for event in rows.audit_events:
        event.before = scrub(event.before, known)
        event.after = scrub(event.after, known)
        event.target = scrub_text(event.target, known) if event.target else event.target
    for link in rows.order_links:
        link.needs_attention = scrub_text(link.needs_attention, known) if link.needs_attention else None
        link.attention_words = scrub_words(link.attention_words, known)
        for change in _line_changes(session, link):
            change.reason = scrub_text(change.reason, known) if change.reason else change.reason
            change.reason_words = _scrub_param(change.reason_words, known)  # the same said in words
    for binding in rows.bindings:
        binding.data = scrub(binding.data, known)
    schedules = rows.schedules
    for schedule in schedules:
        schedule.last_error = scrub_text(schedule.last_error, known) if schedule.last_error else None
        schedule.last_error_words = _scrub_param(schedule.last_error_words, known)
    session.flush()
    return {
        "messages": len(rows.messages),
        "webhook_inbox": len(rows.webhooks),
        "audit_events": len(rows.audit_events),
        "order_links": len(rows.order_links),
        "bindings": len(rows.bindings),
        "schedules": len(schedules),
    }


# The keys naming a person (compared as normalise_key writes them): anywhere, and inside a person's
# object (PERSON_CONTAINERS) a plain name too.
NAME_KEYS = frozenset(
    {"firstname", "lastname", "displayname", "nomerazao", "nomerazaosocial", "nomefantasia"}
)
PLAIN_NAME_KEYS = frozenset({"name", "nome"})


def person_names(payloads: Iterable[Any]) -> set[str]:
    """The names of people these JSON values hold (a customer's first and last name and both
    together, an address's or the ERP client's name), of 3 characters or more: what a free text
    quoting them is scrubbed of."""
    found: set[str] = set()

    def walk(value: Any, in_person: bool) -> None:
        if isinstance(value, dict):
            first = last = None
            for key, item in value.items():
                norm = normalise_key(key)
                if isinstance(item, str) and (norm in NAME_KEYS or (in_person and norm in PLAIN_NAME_KEYS)):
                    found.add(item.strip())
                    first = item.strip() if norm == "firstname" else first
                    last = item.strip() if norm == "lastname" else last
                else:
                    walk(item, in_person or norm in PERSON_CONTAINERS)
            if first and last:
                found.add(f"{first} {last}")
        elif isinstance(value, list):
            for item in value:
                walk(item, in_person)

    for payload in payloads:
        walk(payload, False)
    return {name for name in found if len(name) >= 3}


def _scrub_webhooks(webhooks: list[tuple[WebhookInbox, Any]], known: Iterable[str]) -> None:
    """Inbox rows scrubbed: their body (as JSON when it reads so, else as text) and failure text."""
    for row, payload in webhooks:
        cleaned = (
            scrub(payload, known)
            if payload is not None
            else scrub_text(bytes(row.raw_body).decode("utf-8", errors="replace"), known)
        )
        row.raw_body = (json.dumps(cleaned) if payload is not None else cleaned).encode()
        row.reason = scrub_text(row.reason, known) if row.reason else row.reason


def _schedules_naming(session: Session, shop: Shop, ref: CustomerRef) -> list[Schedule]:
    """The shop's schedules whose last error names the customer (their e-mail or phone)."""
    if not ref.known_values:
        return []
    query = select(Schedule).where(
        Schedule.shop_id == shop.id, _like_any(Schedule.last_error, list(ref.known_values))
    )
    return [
        schedule
        for schedule in session.scalars(query)
        if text_mentions(schedule.last_error, ref) or mentions(schedule.last_error_words, ref)
    ]


def redact_shop(session: Session, shop_domain: str) -> dict[str, int]:
    """Delete everything the ledger holds for a shop; returns rows deleted per table.

    Walks every table (children first) so tables other modules add with a shop_id column
    are covered too. Audit events are deleted last; the caller writes the one that remains.
    The store's install periods stay (a domain and two times, no personal data): after a new
    install they tell an order of an earlier installation from one of the store's time without
    the app (ledger.install_periods). So do the orders a person settled outside the app (a domain,
    an order id and a time), kept here from the rows deleted below: after a new install the order is
    not posted to the ERP again (ledger.handled_before).
    """
    shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
    counts: dict[str, int] = {}
    if shop is not None and (kept := handled_before.keep(session, shop)):
        counts["handled_orders_kept"] = kept
    kept_tables = (Shop, AuditEvent, InstallPeriod, HandledOrder)
    skip = {model.__tablename__ for model in kept_tables}
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in skip:
            continue
        condition = None
        if "shop_id" in table.c and shop is not None:
            condition = table.c.shop_id == shop.id
        elif "shop_domain" in table.c:
            condition = table.c.shop_domain == shop_domain
        if condition is not None:
            deleted = session.execute(delete(table).where(condition)).rowcount
            if deleted:
                counts[table.name] = deleted
    audit_condition = AuditEvent.shop_domain == shop_domain
    if shop is not None:
        audit_condition = or_(audit_condition, AuditEvent.shop_id == shop.id)
    counts["audit_events"] = session.execute(delete(AuditEvent).where(audit_condition)).rowcount
    if shop is not None:
        session.execute(delete(Shop).where(Shop.id == shop.id))
        counts["shops"] = 1
    session.flush()
    return counts
