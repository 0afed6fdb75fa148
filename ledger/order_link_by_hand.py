"""An order entered in the ERP by hand, linked to its Shopify order by a person.

When the import refuses an order only a person can send (taxes added on top, a tax id or totals the
ERP will not take, a B2B location without CNPJ...), the merchant types it in the ERP. That ERP order
carries no channel id of the Shopify order (or another channel's, or the order's name typed in
NROPEDCLIENTE) and a NROPEDVENDA the app never learned, so its events (S picking, F invoice, C
cancellation) were skipped as "not linked to any Shopify order": no NF-e on the order, no capture
(an authorisation lapses in about 7 days), no fulfilment. Linking it (the Orders page, POST
/api/orders/<id>/erp-order; the ERP order is read first by the API) makes the order's link what
the import would have left, and more:

- `OrderLink.nro_pedvenda` (and its company and status), so the order is "in the ERP", Shopify's
  edits and cancellations go to that ERP order, and the reconciliation compares it;
- `OrderLink.hand_linked_erp`, the ERP generation now: `jobs.order_events.find_link` takes the
  order's events by NROPEDVENDA whatever channel id they carry, and the poller whatever sales
  channel, while the shop stays on that ERP (another ERP's same number is another order);
- its orders message closed as handled (`ledger.handled`, naming the ERP order), so the import
  never posts it again and "Needs attention" lets it go;
- the events of that number the poller already skipped as not linked (of the ERP used now; kept
  UNLINKED_EVENT_RETENTION_DAYS, jobs.retention) made pending again, all in this transaction
  before any is enqueued, so `wait_for_earlier` keeps their order (S before F before C) when their
  replays run; a replay lost to Redis is a pending event message the orders catch-up replays.

`refusal` says why a number cannot be linked: one linked to another Shopify order of the shop or
of any shop on the same ERP (same address: several stores of one chain share one Consinco, and
their ERP orders share one numbering; a number a link learned from an ERP the shop or that store
was connected to before is that ERP's order, not this one: `taken_by`), an ERP order cancelled
(its C event would cancel this order), or one whose channel order id names another Shopify order
(`gid://shopify/Order/<n>`, whatever sales channel: another store's import of its own order;
through this shop's channel, its number alone too). Once linked, the order's events are taken by
number whatever channel they carry, so another store's F event would write its NF-e on this
order, capture its payment and fulfil it: that is why the number is checked against the ledger
of every shop on the ERP.

`mismatch` compares the ERP order with the Shopify order before linking (a number typed wrong is
another customer's order): the buyer's CPF/CNPJ (the ERP customer's against the order's
TAX_CREDENTIAL_BR, SHIPPING_CREDENTIAL_BR or B2B company location's, as jobs.order_customer
reads them) must be one of them when both sides carry one (a numeric document padded to 11 or 14
digits: the ERP keeps it as a number and loses a leading zero), else a person confirms explicitly
(the ERP customer registered under another document); `total_gap` says when the totals differ by
more than `TOTAL_TOLERANCE` (picking cuts and weights move an ERP total a little, not a lot): a
person then confirms explicitly too.

The link is made holding the poller's flow lock (`ledger.locks.flow_lock(shop, "order_events")`):
a poll reading the link as it was (no number) while this transaction picks up the skipped events
would skip a new event as not linked after the pick-up ran, for good. `unlink_refusal` / `unlink`
undo a number linked wrong while none of its events has been applied to the order nor closed as
handled (final: neither unlink nor a later link's pick-up ever touches a handled message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import erp_place, handled, link_generation, order_notes, trace
from ledger.masking import mask_document, mask_text
from ledger.models import ErpConnection, Message, MessageStatus, OrderLink, utcnow
from ledger.words import Words

EVENT_FLOWS = ("order_edits", "invoices", "cancellations")  # jobs.order_events.FLOW_BY_KIND
INVOICES_FLOW = "invoices"  # jobs.invoices.FLOW: its note slot, which it clears once an NF-e is settled
INVOICED = "F"  # SITUACAOPED of an invoiced ERP order
INVOICE_NOT_HELD = (
    "ERP order {nro} is invoiced, but the app holds no invoice event of it: if the ERP invoiced it in "
    "the last minutes, the next poll applies it and this note goes; if the invoice is older than the "
    "{days} days the app keeps the events of orders not linked yet (UNLINKED_EVENT_RETENTION_DAYS), "
    "write its NF-e on the Shopify order and capture and fulfil it by hand, then mark this note handled"
)
# jobs.order_events.UNKNOWN_ORDER, as the reconciliation matches it too.
UNKNOWN_ORDER_LIKE = "ERP order % is not linked%"
RUNNING = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
DELIVERY = "delivery"  # request payload key of the orders message: what its obsPedido named (digests)
ADDRESS_FLOW, ADDRESS_UNIT = "order_edits", "address:{num}"  # jobs.order_edits.address: its unit
ADDRESS_TOPIC = order_notes.TOPICS["address"]  # its note's topic
# Enqueued by the API after the link's commit (by name: shopify_app does not import jobs).
ADDRESS_CHECK_JOB = "jobs.order_edits.address.after_hand_link"
POLLER_FLOW = "order_events"  # jobs.order_events.FLOW: the poller's flow lock, held while linking
SHOPIFY_ORDER_GID = re.compile(r"gid://shopify/Order/(\d+)")
# How far the ERP total may be from the Shopify order's before a person must confirm: a tenth of
# the order, at least R$ 5 (picking cuts, weighed goods, freight typed rounded).
TOTAL_TOLERANCE = Decimal("0.10")
TOTAL_TOLERANCE_MIN = Decimal("5.00")
CPF_DIGITS, CNPJ_DIGITS = 11, 14


@dataclass(frozen=True)
class ErpOrder:
    """What the link needs of the ERP order read (erp.records.Order)."""

    nro_pedvenda: int
    nro_empresa: int | None
    situacao: str
    seq_canal_venda: int | None
    channel_order_id: str | None
    cpf_cnpj: str | None = None  # the ERP customer's document
    total: Decimal | None = None


@dataclass(frozen=True)
class ShopifyOrder:
    """What the comparison needs of the Shopify order: the CPF/CNPJ it carries (the buyer's, the
    recipient's, a B2B company location's; compacted) and its total now (after edits). `delivery`:
    what the link records as the delivery the ERP order was typed from (DELIVERY), for
    jobs.order_edits.address to compare a later address change with; None records nothing."""

    documents: frozenset[str]
    total: Decimal | None
    delivery: dict[str, str] | None = None
    cancelled: bool = False  # Shopify says the order was cancelled (cancelledAt)


@dataclass(frozen=True)
class Linked:
    orders_message: int | None  # the orders message closed as handled
    events: list[int]  # the event messages made pending again, oldest event first


def generation(session: Session, shop_id: int) -> int:
    """The generation of the ERP the shop is connected to now (jobs.order_events.erp_generation)."""
    return session.scalar(select(ErpConnection.generation).where(ErpConnection.shop_id == shop_id)) or 0


def orders_message(session: Session, link: OrderLink) -> Message | None:
    """The order's import message (jobs.orders: unit "order:<numeric id>")."""
    num = link.shopify_order_id.rsplit("/", 1)[-1]
    return session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id, Message.flow == "orders", Message.unit_key == f"order:{num}"
        )
    ).one_or_none()


def busy(message: Message | None) -> bool:
    """The import is running (a job holds it): linking now could race its POST."""
    return message is not None and message.status in RUNNING and not trace.is_waiting(message)


def shops_on_same_erp(session: Session, shop_id: int) -> list[int]:
    """The shops connected to the same ERP as `shop_id`, itself included: same place by the rule
    erp.factory.same_erp uses (ledger.erp_place: the scheme and a default port do not tell ERPs
    apart), compared here in Python over the shops' connections (a few per installation)."""
    mine = session.scalar(select(ErpConnection.base_url).where(ErpConnection.shop_id == shop_id))
    if mine is None:
        return [shop_id]
    here = erp_place.place(mine)
    rows = session.execute(select(ErpConnection.shop_id, ErpConnection.base_url)).all()
    return sorted({shop_id, *(shop for shop, url in rows if url and erp_place.place(url) == here)})


def taken_by(session: Session, link: OrderLink, nro: int, *, other_shops: bool = True) -> OrderLink | None:
    """Another order link holding that ERP number of the ERP this shop reads now: of the shop, and
    with `other_shops` of any shop on the same ERP. Other shops only once this shop's own
    credentials read the ERP order: "the same ERP" is told from the address typed in the shop's
    connection alone, so before that read any admin could point it at another store's ERP and learn
    which numbers that store linked. A number a link learned from another ERP (the shop's, or that
    store's, connection moved since: homologation -> production) is that ERP's order, not this one
    (`_of_this_erp`)."""
    shops = shops_on_same_erp(session, link.shop_id) if other_shops else [link.shop_id]
    found = session.scalars(
        select(OrderLink)
        .where(OrderLink.shop_id.in_(shops), OrderLink.nro_pedvenda == nro, OrderLink.id != link.id)
        .order_by(OrderLink.shop_id != link.shop_id, OrderLink.id)
    ).all()
    return next((other for other in found if _of_this_erp(session, link.shop_id, other)), None)


def _of_this_erp(session: Session, shop_id: int, other: OrderLink) -> bool:
    """Whether `other`'s number was learned from the ERP `shop_id` reads now (link_generation.of_link):
    of the shop itself, its generation now; of another shop, the place its connection had at that
    generation (ErpConnection.places; its generation now: its address now) against this shop's
    place. A generation whose place is not known counts as this ERP (the safe side: refused)."""
    erp = link_generation.of_link(session, other)
    if other.shop_id == shop_id:
        return erp == generation(session, shop_id)
    connections = {
        c.shop_id: c
        for c in session.scalars(
            select(ErpConnection).where(ErpConnection.shop_id.in_((shop_id, other.shop_id)))
        )
    }
    mine, theirs = connections.get(shop_id), connections.get(other.shop_id)
    if mine is None or theirs is None or erp == (theirs.generation or 0):
        return True
    here = erp_place.place_key(mine.base_url)
    known = [key for key, value in (theirs.places or {}).items() if value == erp]
    return not known or here in known


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a number cannot be linked or unlinked (or needs a person's confirmation): the English
    `text` (API clients, logs) and its `words` (ledger.words: a key the page's catalogue knows,
    `error.reason.<key>`, and its params: numbers, ids, names), said in the page's language."""

    text: str
    words: Words

    def __str__(self) -> str:
        return self.text


def taken_text(link: OrderLink, nro: int, other: OrderLink) -> Refusal:
    """Why `nro` is taken: this shop's own order named; another store's neither named nor located
    (its orders and its domain are that store's business)."""
    if other.shop_id != link.shop_id:
        return Refusal(
            f"ERP order {nro} is already linked to an order of another store on the same ERP: "
            "check the number typed",
            ("taken_other_store", {"nro": nro}),
        )
    order = other.shopify_order_name or other.shopify_order_id
    return Refusal(
        f"ERP order {nro} is already linked to Shopify order {order}", ("taken", {"nro": nro, "order": order})
    )


def cancelled_in_shopify(link: OrderLink, nro: int, shopify: ShopifyOrder | None = None) -> Refusal | None:
    """Why an order cancelled in Shopify (its link says so, or Shopify's read: its webhook not
    handled yet) is not linked to ERP order `nro`, typed by hand after its import failed: its
    cancellation ended as never sent to the ERP, so the ERP order would stay live, picked and
    invoiced for a sale the customer cancelled, with nothing open to say so. None: not cancelled."""
    if link.cancelled_at is None and not (shopify is not None and shopify.cancelled):
        return None
    return Refusal(
        f"the Shopify order was cancelled: cancel ERP order {nro} in the ERP instead of linking it",
        ("shopify_order_cancelled", {"nro": nro}),
    )


def refusal(session: Session, link: OrderLink, order: ErpOrder, channel: int | None) -> Refusal | None:
    """Why `order` cannot be linked to `link` (`channel`: the shop's seqCanalVenda), else None."""
    nro = order.nro_pedvenda
    other = taken_by(session, link, nro)
    if other is not None:
        return taken_text(link, nro, other)
    if (cancelled := cancelled_in_shopify(link, nro)) is not None:  # its webhook handled meanwhile
        return cancelled
    if order.situacao == "C":
        return Refusal(
            f"ERP order {nro} is cancelled in the ERP: its cancellation would cancel this order",
            ("erp_order_cancelled", {"nro": nro}),
        )
    given = (order.channel_order_id or "").strip()
    own = link.shopify_order_id.rsplit("/", 1)[-1]
    gid = SHOPIFY_ORDER_GID.fullmatch(given)
    if gid is not None and gid.group(1) != own:  # whatever channel: another store's import too
        return Refusal(
            f"ERP order {nro} came from another Shopify order (channel order id "
            f"{order.channel_order_id}, sales channel {order.seq_canal_venda}): it is that order's, "
            "and its invoice would be applied to this one",
            (
                "another_shopify_order",
                {"nro": nro, "channel_order_id": order.channel_order_id, "channel": order.seq_canal_venda},
            ),
        )
    ours = channel is not None and order.seq_canal_venda == channel
    if ours and given.isdigit() and given != own:
        return Refusal(
            f"ERP order {nro} came from another Shopify order (channel order id "
            f"{order.channel_order_id}) through this store's sales channel",
            ("another_order_same_channel", {"nro": nro, "channel_order_id": order.channel_order_id}),
        )
    return None


def compact_document(value: str | None) -> str | None:
    """A CPF/CNPJ without its mask (jobs.order_customer.validate_tax_id's normal form), a numeric one
    padded to its length: 11 digits (CPF) when it has at most 11, else 14 (CNPJ). The ERP keeps
    NROCGCCPF as a number (GE_PESSOA), so a document with a leading zero comes back without it
    (029.982.247-25 as 2998224725)."""
    compact = re.sub(r"[\s./-]", "", value or "").upper()
    if compact.isdigit() and len(compact) < CNPJ_DIGITS:
        compact = compact.zfill(CPF_DIGITS if len(compact) <= CPF_DIGITS else CNPJ_DIGITS)
    return compact or None


def document_forms(value: str | None) -> frozenset[str]:
    """The documents `value` may be once compacted (`compact_document`): a number of 11 digits or
    fewer may also be a CNPJ that lost its leading zeros (00.012.345/0001-95 read as 12345000195)."""
    compact = compact_document(value)
    if compact is None:
        return frozenset()
    if compact.isdigit() and len(compact) == CPF_DIGITS:
        return frozenset({compact, compact.zfill(CNPJ_DIGITS)})
    return frozenset({compact})


def mismatch(order: ErpOrder, shopify: ShopifyOrder, *, reveal: bool = True) -> Refusal | None:
    """Why the ERP order may not be this Shopify order's buyer's, else None: its customer's CPF/CNPJ
    is none of those the Shopify order carries (compared in `document_forms`, so a leading zero the
    ERP's number lost does not count). Nothing to compare when either side has none. A person who
    checked it is the same buyer (the ERP customer registered under another document) confirms
    explicitly (`confirm_buyer`, audited). `reveal` False (a caller below admin): the documents
    masked (ledger.masking), as every page shows them to such a caller: an ERP order number typed
    at random must not tell whose CPF it carries."""
    erp_forms = document_forms(order.cpf_cnpj)
    carried = frozenset(d for document in shopify.documents if (d := compact_document(document)))
    if not erp_forms or not carried or erp_forms & carried:
        return None
    shown = (lambda document: document) if reveal else mask_document
    documents = ", ".join(shown(document) for document in sorted(carried))
    theirs = shown(compact_document(str(order.cpf_cnpj)) or str(order.cpf_cnpj))  # its leading zero back
    return Refusal(
        f"ERP order {order.nro_pedvenda} may be another customer's: its CPF/CNPJ {theirs} is not "
        f"the Shopify order's ({documents}): check it is the right order, then confirm",
        ("buyer_differs", {"nro": order.nro_pedvenda, "erp_document": theirs, "documents": documents}),
    )


def total_gap(order: ErpOrder, shopify: ShopifyOrder) -> Refusal | None:
    """The totals differ by more than the tolerance (`TOTAL_TOLERANCE`, at least
    `TOTAL_TOLERANCE_MIN`): what differs, for a person to confirm; else None."""
    if order.total is None or shopify.total is None:
        return None
    allowed = max(TOTAL_TOLERANCE_MIN, abs(shopify.total) * TOTAL_TOLERANCE)
    if abs(order.total - shopify.total) <= allowed:
        return None
    return Refusal(
        f"ERP order {order.nro_pedvenda} totals {order.total:.2f}, the Shopify order {shopify.total:.2f} "
        f"(more than {allowed:.2f} apart): check it is the right order, then confirm",
        ("total_gap", {"nro": order.nro_pedvenda, "allowed": f"{allowed:.2f}"}),
    )


def link(
    session: Session, link: OrderLink, order: ErpOrder, *, by: str, shopify: ShopifyOrder | None = None
) -> Linked:
    """Link `link` to the ERP order typed by hand, close its import as handled and make the ERP
    events already skipped for that number pending again (the caller enqueues their replays after
    the commit, oldest first, and audits). `shopify.delivery` is recorded as the delivery the ERP
    order was typed from (`_record_delivery`); a delivery address flagged about an ERP order linked
    before is let go (`_release_address`)."""
    now = utcnow()
    link.nro_pedvenda = order.nro_pedvenda
    link.nro_empresa = order.nro_empresa if order.nro_empresa is not None else link.nro_empresa
    link.erp_status = order.situacao
    current = generation(session, link.shop_id)
    link.hand_linked_erp = current
    link.updated_at = now
    imported = orders_message(session, link)
    closed = None
    if imported is not None and handled.can_mark(imported):
        note = f"entered in the ERP by hand: linked to ERP order {order.nro_pedvenda}"
        handled.mark(session, imported, by=by, note=note, extra={"erp_order": order.nro_pedvenda})
        closed = imported.id
    elif imported is not None and handled.info(imported) is not None:
        detail = dict(imported.error_detail or {})  # closed as handled before: it names the ERP order now
        detail[handled.KEY] = {**detail[handled.KEY], "erp_order": order.nro_pedvenda}
        imported.error_detail = detail
        closed = imported.id
    _release_address(session, link, f"the order is now linked to ERP order {order.nro_pedvenda}",
                     ("address_relinked", {"nro": order.nro_pedvenda}))  # fmt: skip
    if shopify is not None and shopify.delivery is not None:
        _record_delivery(session, link, imported, shopify.delivery)
    picked = _pick_up_skipped(session, link, order.nro_pedvenda, current, now)
    _note_invoice_not_held(session, link, order, current)
    return Linked(closed, picked)


def _note_invoice_not_held(session: Session, link: OrderLink, order: ErpOrder, current: int) -> None:
    """The ERP order is invoiced but the app holds no invoice event of it: the poller has not read
    it yet (it then applies it, and the invoices flow clears this note), or it was read before the
    link and aged out (jobs.retention: UNLINKED_EVENT_RETENTION_DAYS). A note on the order says so,
    so its NF-e, capture and fulfilment are not silently left undone."""
    if order.situacao != INVOICED:
        return
    if any(m.flow == INVOICES_FLOW for m in _event_messages(session, link, order.nro_pedvenda, current)):
        return
    from settings import get_settings  # ledger.kv, ledger.crypto read the settings so too

    params = {"nro": order.nro_pedvenda, "days": f"{get_settings().unlinked_event_retention_days:g}"}
    order_notes.put(
        link, INVOICES_FLOW, INVOICE_NOT_HELD.format(**params), words=("hand_link_invoice_not_held", params)
    )


def _record_delivery(
    session: Session, link: OrderLink, imported: Message | None, record: dict[str, str]
) -> None:
    """The person typed the ERP order from the Shopify order as it is now: its delivery is the
    baseline a later address change is compared with (jobs.order_edits.address), on the orders
    message and on the address unit's message when an earlier link left one (read first there)."""
    for message in (imported, _address_message(session, link)):
        if message is not None:
            message.request_payload = {**(message.request_payload or {}), DELIVERY: dict(record)}


def _address_message(session: Session, link: OrderLink) -> Message | None:
    """The order's delivery-address message (jobs.order_edits.address), if one was ever begun."""
    num = link.shopify_order_id.rsplit("/", 1)[-1]
    return session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id,
            Message.flow == ADDRESS_FLOW,
            Message.unit_key == ADDRESS_UNIT.format(num=num),
        )
    ).one_or_none()


def _release_address(session: Session, link: OrderLink, now: str, words: trace.Words) -> None:
    """A delivery address flagged (or left open) about the ERP order the link named before is no
    longer this order's: its note goes and its message ends skipped saying `now` (`words`: its
    words for the pages, the ERP order it was about added; one closed as handled stays so: a person
    settled it)."""
    order_notes.clear(link, ADDRESS_FLOW, topic=ADDRESS_TOPIC)
    message = _address_message(session, link)
    done = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)
    if message is None or message.status in done or handled.info(message) is not None:
        return
    was = (message.request_payload or {}).get("nro_pedvenda")
    key, params = words
    trace.skip(session, message, f"{now}: the delivery address about ERP order {was} no longer applies",
               words=(key, {**params, "was": was}))  # fmt: skip
    message.error_class = None


def _pick_up_skipped(session: Session, link: OrderLink, nro: int, current: int, now: Any) -> list[int]:
    """The events of ERP order `nro` (of the ERP used now) the poller skipped as not linked: pending
    again, about this order (its gid and name, for the Orders page and the search)."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id,
            Message.flow.in_(EVENT_FLOWS),
            Message.erp_id == str(nro),
            Message.status == MessageStatus.SKIPPED.value,
            Message.unit_key.like("event:%"),
            Message.error_text.like(UNKNOWN_ORDER_LIKE),
        )
    ).all()
    # One closed as handled is final (ledger.handled): a person settled it, never reopened here.
    picked = [m for m in rows if order_notes.generation_of(m.unit_key) == current and handled.info(m) is None]
    for message in picked:
        message.status = MessageStatus.PENDING.value
        message.error_text = (
            f"ERP order {nro} was linked by hand to Shopify order "
            f"{link.shopify_order_name or link.shopify_order_id}: applied now"
        )
        message.shopify_id = link.shopify_order_id
        message.search_text = trace.search_text(message.search_text.split(), [link.shopify_order_name])
        message.finished_at = None
        message.updated_at = now
    session.flush()
    return [m.id for m in sorted(picked, key=_event_order)]


def _event_messages(session: Session, link: OrderLink, nro: int, erp: int) -> list[Message]:
    """The event messages of ERP order `nro` of the ERP generation `erp`, oldest event first."""
    rows = session.scalars(
        select(Message).where(
            Message.shop_id == link.shop_id,
            Message.flow.in_(EVENT_FLOWS),
            Message.erp_id == str(nro),
            Message.unit_key.like("event:%"),
        )
    ).all()
    mine = [m for m in rows if order_notes.generation_of(m.unit_key) == erp]
    return sorted(mine, key=_event_order)


def _event_order(message: Message) -> tuple[int, int]:
    """Oldest ERP event first (order_notes.event_of: (seq, generation))."""
    return order_notes.event_of(message.unit_key) or (0, 0)


def unlink_refusal(session: Session, link: OrderLink, *, reveal: bool = True) -> Refusal | None:
    """Why the order's ERP number cannot be unlinked, else None: only a number linked by hand, and
    only while none of that ERP order's events has been applied to the Shopify order (an NF-e
    written, an edit, a capture or fulfilment begun, a cancellation): those changed the order, and
    unlinking would not undo them. A run's response kept on the message says it began (an invoices
    event records the NF-e as written before its capture: jobs.order_events.half_done reads it) —
    whatever the status, a skipped one included (its capture refused, then closed as handled); any
    kept response counts, as ledger cannot import jobs. And none may be closed as handled: a person
    settled it for this Shopify order (the NF-e's money, by Pix), and unlinking would leave that
    decision on no order — or, linked again elsewhere, let it apply there. `reveal` False (a caller
    below admin): the handled note masked, as the Messages page shows it to such a caller."""
    nro = link.nro_pedvenda
    if nro is None:
        return Refusal("the order is linked to no ERP order", ("not_linked", {}))
    if link.hand_linked_erp is None:
        return Refusal(
            f"ERP order {nro} was sent by the app's import, not linked by hand: it is the order's own "
            "and cannot be unlinked",
            ("sent_by_import", {"nro": nro}),
        )
    if link.nfe_key:
        return Refusal(
            f"ERP order {nro}'s NF-e {link.nfe_key} was already written on the Shopify order (its invoice "
            "event applied): the order was changed by it, unlinking would not undo that",
            ("nfe_written", {"nro": nro, "key": link.nfe_key}),
        )
    for message in _event_messages(session, link, nro, link.hand_linked_erp):
        seq = message.unit_key.split(":")[1]
        event = {"nro": nro, "seq": seq, "flow": message.flow}
        if message.status == MessageStatus.DONE.value:
            return Refusal(
                f"ERP event #{seq} ({message.flow}) of ERP order {nro} was already applied to the Shopify "
                "order: the order was changed by it, unlinking would not undo that",
                ("event_applied", event),
            )
        if message.status in RUNNING:
            return Refusal(
                f"ERP event #{seq} ({message.flow}) of ERP order {nro} is being applied now: try again",
                ("event_running", event),
            )
        if (closed := handled.info(message)) is not None:
            by, note = closed.get("by") or "?", mask_text(closed.get("note"), reveal) or ""
            return Refusal(
                f"ERP event #{seq} ({message.flow}) of ERP order {nro} was closed as handled by "
                f"{by} ({note}): it was settled for this Shopify order, unlinking would not undo that",
                ("event_handled", {**event, "by": by, "note": note}),
            )
        if message.response_payload:
            return Refusal(
                f"ERP event #{seq} ({message.flow}) of ERP order {nro} was partly applied to the Shopify "
                f"order before it {message.status}: the order was changed by it, unlinking would not "
                "undo that",
                ("event_partly_applied", {**event, "status": message.status}),
            )
    return None


def unlink(session: Session, link: OrderLink) -> dict[str, Any]:
    """Undo a hand link `unlink_refusal` allows: the order is in no ERP order again, its import
    stays closed as handled (the order was typed in the ERP by hand) but names no ERP order, and
    that ERP order's events held or skipped for it are skipped as not linked again (linked to the
    right Shopify order later, they are picked up there), and a delivery address flagged about it is
    let go (`_release_address`). Returns what the link was, to audit."""
    nro, erp = link.nro_pedvenda, link.hand_linked_erp
    assert nro is not None and erp is not None
    before = {"nro_pedvenda": nro, "nro_empresa": link.nro_empresa, "erp_status": link.erp_status}
    now = utcnow()
    link.nro_pedvenda = None
    link.nro_empresa = None
    link.erp_status = None
    link.hand_linked_erp = None
    link.updated_at = now
    imported = orders_message(session, link)
    if imported is not None and handled.info(imported) is not None:
        detail = dict(imported.error_detail or {})
        detail[handled.KEY] = {**detail[handled.KEY], "erp_order": None, "unlinked_erp_order": nro}
        imported.error_detail = detail
    _release_address(
        session,
        link,
        f"ERP order {nro} was unlinked from the order by hand",
        ("address_unlinked", {"nro": nro}),
    )
    released = []
    for message in _event_messages(session, link, nro, erp):
        if handled.info(message) is not None:  # final (unlink_refusal refuses while one is)
            continue
        if message.status == MessageStatus.SKIPPED.value and (message.error_text or "").startswith(
            f"ERP order {nro} is not linked"
        ):
            continue
        trace.skip(
            session,
            message,
            f"ERP order {nro} is not linked to any Shopify order of this shop (unlinked by hand from "
            f"{link.shopify_order_name or link.shopify_order_id}): nothing to change in Shopify",
            words=(
                "event_unlinked_by_hand",
                {"nro": nro, "order": link.shopify_order_name or link.shopify_order_id},
            ),
        )
        message.error_class = None
        event = order_notes.event_of(message.unit_key)
        if event is not None:  # its own note, of the ERP it was linked on
            order_notes.clear(link, message.flow, event=event[0], generation=event[1])
        released.append(message.id)
    session.flush()
    return {**before, "events_released": released}
