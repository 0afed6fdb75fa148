"""Card payment data (Shopify -> ERP): each card payment of an order the ERP holds, recorded through
the ERP's card call (erp.client.ErpClient.record_card_payment), so the supermarket's finance team
reconciles its card receivables with the acquirer's statement (by NSU, authorisation code, brand,
BIN and the card's last digits) instead of typing them from the gateway's panel.

Unit of work: one order, its message in the orders flow under unit_key "card:<numeric id>" (beside
the import's "order:<id>", as a lost payment's "payment:<id>": jobs.orders.replay hands it here), its
erp_id the order's NROPEDVENDA. The import leaves it pending in the transaction that records the ERP
number, naming the ERP payment forms (idPagtoCanalVenda: the numeric id of the Shopify transaction
that brought the money in) whose transaction has a masked account number (`card_payment_ids`), then
enqueues it; a lost enqueue is replayed by the orders catch-up (a pending message with no job). Only
when the shop's setting `card_payment_data` is on (the default; off for an ERP without the call).

What it sends, per form: the ERP's codBandeira for the card's brand (De:Para `card_brand`, by the
brand's name as Shopify's CardPaymentDetails.company gives it) and codRede for the gateway (De:Para
`card_network`, by the gateway's name); codBin (the BIN); nroCartao masked (the BIN, asterisks,
the last four: never more than Shopify shows); the acquirer's NSU and authorisation code
(nroAutorizacao) from the gateway's receipt (receiptJson, which Shopify calls gateway-specific and
not a stable contract; no current typed field carries either: OrderTransaction.authorizationCode is
deprecated in 2026-10): the keys in NSU_KEYS and AUTHORIZATION_KEYS are looked for at its top level
and one level down; a payment whose receipt names neither is recorded without it, and its message
says so. A form named whose payment Shopify gives no card details for (a payments app's, with no
CardPaymentDetails) is not sent: the message says which (`cards_missing`, with why) beside the
cards it sent, or, none having details, is skipped.

Failures: a brand or gateway with no De:Para line parks the message (every one missing named; the
line resumes it by itself); the ERP refusing the call fails it with the ERP's words (Retry sends it
again); the ERP or Shopify down is Transient (RQ retries, then the catch-up). An order cancelled in
the ERP, or no longer in it, is skipped: there is no receivable left to reconcile. The ERP keeps one
record per (order, idPagtoCanalVenda), so a repeat changes nothing.

A card payment added later (an edit raised the total and the buyer paid the rest by card): its form
reaches the ERP with the edit's PUT (jobs.order_edits.to_erp), which then hands the forms it sent to
`follow`: the card forms the message does not name yet are added to it and it runs again (the ERP's
repeat of the forms already recorded changes nothing); an order whose import had no card payment gets
its card message then, under the sales channel and order id its import posted (one linked by hand,
which the ERP knows under no channel order id, none).

Not covered: a card payment of an order linked to an ERP order by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from erp.errors import ErpRejected
from erp.records import CardPaymentInput, OrderInput, PaymentInput
from jobs import order_clients, order_generation, order_map
from jobs.order_lookup import find_link
from ledger import mappings, queues, shop_settings, trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message, Shop
from shopify_app.admin_api.order_results import Order, Transaction, parse_transaction

log = logging.getLogger(__name__)

FLOW = "orders"
PREFIX = "card:"
JOB = "jobs.card_payments.replay"
SETTING = "card_payment_data"
CARD_BRAND, CARD_NETWORK = "card_brand", "card_network"  # ledger.mappings.MappingKind
# Where Brazilian gateways put the acquirer's NSU in their receipt (compared case-insensitively):
# "nsu" (Cielo's, Rede's, Getnet's, Mercado Pago's), "proof_of_sale" (Cielo's ProofOfSale), ...
NSU_KEYS = ("nsu", "nsu_host", "acquirer_nsu", "proof_of_sale", "proofofsale", "nsu_sitef")
AUTHORIZATION_KEYS = ("authorization_code", "authorizationcode", "auth_code", "codigo_autorizacao",
                      "nro_autorizacao", "authcode")  # fmt: skip
CANCELLED = "C"  # SITUACAOPED
ERP_CANCELLED = "PEDIDO_CANCELADO"  # the card call's refusal of a cancelled order


def unit_key(order_id: str | int) -> str:
    return f"{PREFIX}{order_map.numeric_id(order_id)}"


def job_id(shop_id: int, num: str, attempt: int | None = None) -> str:
    """The card message's job id; `follow`'s jobs carry the attempt they were begun for."""
    return queues.job_key("card-payments", shop_id, num, *([] if attempt is None else [attempt]))


def card_payment_ids(order: Order, payments: Iterable[PaymentInput]) -> list[str]:
    """The ERP payment forms (idPagtoCanalVenda) of `payments` whose Shopify transaction was made with a
    masked account number, a card's: what the card call records. A form with no id is none of them."""
    carded = {
        order_map.numeric_id(txn.id) for txn in order.transactions if txn.account_number and not txn.manual
    }
    return [p.channel_payment_id for p in payments if p.channel_payment_id in carded]


def leave(
    session: Session, shop_id: int, order: Order, nro: int, posted: OrderInput, settings: Mapping[str, Any]
) -> int | None:
    """The card message left pending in the caller's transaction (the one recording the ERP number),
    when the shop sends card data and some form posted was paid by card: its id (for `enqueue` after
    the commit), else None.
    Its request keeps the forms and the sales channel they were posted under (the ERP finds the
    order by seqCanalVenda + idPedidoCanalVenda: a setting changed since must not lose it)."""
    ids = card_payment_ids(order, posted.payments)
    if not ids or not settings.get(SETTING, True):
        return None
    header = {"seq_canal_venda": posted.seq_canal_venda, "channel_order_id": posted.channel_order_id}
    job = job_id(shop_id, order_map.numeric_id(order.id))
    return _begin(session, shop_id, order, nro, ids, header, job).id


def follow(
    session: Session,
    shop_id: int,
    order: Order,
    nro: int,
    payments: Iterable[PaymentInput],
    settings: Mapping[str, Any],
) -> tuple[int, str] | None:
    """After an edit's PUT sent `payments` to ERP order `nro`: the card message (re)opened in the
    caller's transaction when some card form among them is not named by it yet, naming those it
    named and the new ones: its id and its job's (for `enqueue` after the commit), else None.

    The sales channel and order id are those the card message was left with, else those the order's
    import posted (its kept input: jobs.order_posted); an order the import did not post (linked by
    hand) gets none."""
    ids = card_payment_ids(order, payments)
    if not ids or not settings.get(SETTING, True):
        return None
    num = order_map.numeric_id(order.id)
    key = unit_key(num)
    found = next(trace.unit_messages(session, shop_id, FLOW, [key]), None)
    before = dict(found.request_payload or {}) if found is not None else {}
    named = [str(i) for i in before.get("payments") or []]
    added = [i for i in ids if i not in named]
    if not added:
        return None
    header = before or _posted_header(session, shop_id, num)
    if header is None:  # not posted by the import (linked by hand): the ERP finds no such channel order
        return None
    message = _begin(session, shop_id, order, nro, named + added, header)
    # A job of its own: the message's earlier job may still be running on the forms it read before
    # (it may then close the message done), so this one must run after it whatever it does.
    message.job_id = job_id(shop_id, num, message.attempts)
    return message.id, message.job_id


def _begin(
    session: Session,
    shop_id: int,
    order: Order,
    nro: int,
    ids: list[str],
    header: Mapping[str, Any],
    job: str | None = None,
) -> Message:
    """The card message of `order` begun (pending) naming the forms `ids` and the sales channel and
    channel order id (`header`) the ERP knows the order by; `job`: its job's id (None: this job's)."""
    num = order_map.numeric_id(order.id)
    request = {
        "payments": ids,
        "seq_canal_venda": header["seq_canal_venda"],
        "channel_order_id": header["channel_order_id"],
    }
    return trace.begin(session, shop_id, FLOW, unit_key(num), SHOPIFY_TO_ERP, shopify_id=order.id,
                       erp_id=str(nro), search=[num, order.name, nro], request=request,
                       job_id=job)  # fmt: skip


def _posted_header(session: Session, shop_id: int, num: str) -> dict[str, Any] | None:
    """The sales channel and channel order id the order's import posted it under (its kept input:
    jobs.order_posted); None when the import kept none."""
    from jobs import order_posted, orders

    imported = next(trace.unit_messages(session, shop_id, orders.FLOW, [orders.unit_key(num)]), None)
    posted = order_posted.stored(imported.request_payload if imported is not None else None) or {}
    if posted.get("seq_canal_venda") is None or not posted.get("channel_order_id"):
        return None
    return {"seq_canal_venda": posted["seq_canal_venda"], "channel_order_id": posted["channel_order_id"]}


def enqueue(shop_id: int, num: str, message_id: int, job: str | None = None) -> None:
    """Enqueue the card message `leave` (or `follow`: `job`, its job id) left; Redis failing only
    delays it (the catch-up replays it)."""
    try:
        job = job or job_id(shop_id, num)
        queues.enqueue(JOB, message_id, queue=queues.ORDERS, job_id=job, replace_ended=True)
    except RedisError as exc:
        log.warning("orders: order %s: its card data was not enqueued (%s); the catch-up sends it",
                    num, type(exc).__name__)  # fmt: skip


@dataclass(frozen=True)
class CardRead:
    """One transaction of OrderCardPayments: the import's fields plus the card's."""

    txn: Transaction
    receipt: str | None
    brand: str | None  # CardPaymentDetails.company; None: not a card payment
    bin: str | None
    number: str | None


def read_cards(client: Any, gid: str) -> dict[str, CardRead] | None:
    """The order's transactions by numeric id (OrderCardPayments); None when Shopify has no such order."""
    raw = client.executor.query("OrderCardPayments", {"id": gid}).get("order")
    if not raw:
        return None
    found: dict[str, CardRead] = {}
    for item in raw.get("transactions") or []:
        details = item.get("paymentDetails") or {}
        card = details.get("__typename") == "CardPaymentDetails"
        found[order_map.numeric_id(item["id"])] = CardRead(
            txn=parse_transaction(item),
            receipt=item.get("receiptJson") or None,
            brand=(details.get("company") or None) if card else None,
            bin=(details.get("bin") or None) if card else None,
            number=(details.get("number") or None) if card else None,
        )
    return found


def nsu_of(receipt: str | None) -> str | None:
    """The acquirer's NSU in a gateway's receipt (NSU_KEYS)."""
    return receipt_value(receipt, NSU_KEYS)


def authorization_of(receipt: str | None) -> str | None:
    """The acquirer's authorisation code in a gateway's receipt (AUTHORIZATION_KEYS)."""
    return receipt_value(receipt, AUTHORIZATION_KEYS)


def receipt_value(receipt: str | None, keys: tuple[str, ...]) -> str | None:
    """The first of `keys` (compared case-insensitively) a gateway's receipt gives a text or a number,
    at its top level, then one level down; None when none does, or the receipt is no JSON object."""
    try:
        data = json.loads(receipt) if receipt else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    levels = [data, *(value for value in data.values() if isinstance(value, dict))]
    for level in levels:
        keyed = {str(key).casefold(): value for key, value in level.items()}
        for key in keys:
            value = keyed.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
    return None


def masked(bin_: str | None, number: str | None) -> str | None:
    """The card's number as the ERP stores it: the BIN, asterisks, the last four (an American Express
    has 15 digits, every other brand here 16); None without the last four."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if len(digits) < 4:
        return None
    head = "".join(ch for ch in bin_ or "" if ch.isdigit())
    size = 15 if head[:2] in ("34", "37") else 16
    return f"{head}{'*' * max(size - len(head) - 4, 0)}{digits[-4:]}"


def replay(message_id: int) -> str:
    """Send (again) the card data of the message's order, re-reading Shopify (jobs.orders.replay hands
    "card:" messages here); returns done | skipped | parked | failed.

    Raises:
        Transient: Shopify or the ERP unreachable (RQ retries; the catch-up after).
    """
    from jobs.orders import run_classified

    with session_scope() as session:
        message = trace.get_message(session, message_id)
        shop_id, num = message.shop_id, message.unit_key.removeprefix(PREFIX)
        request = dict(message.request_payload or {})
        message = trace.begin(session, shop_id, FLOW, message.unit_key, SHOPIFY_TO_ERP)
        session.commit()
        return run_classified(session, message, lambda: _send(session, message, shop_id, num, request))


def _send(session: Session, message: Message, shop_id: int, num: str, request: dict[str, Any]) -> str:
    ids = [str(i) for i in request.get("payments") or []]
    gid = order_map.order_gid(num)
    link = find_link(session, shop_id, gid)
    if link is None or link.nro_pedvenda is None:
        trace.skip(session, message, "the order is not in the ERP: no card payment to record there",
                   words=("card_not_in_erp", {}))  # fmt: skip
        return "skipped"
    nro = link.nro_pedvenda
    # A number of the ERP the shop was connected to before: another customer's order, maybe, in this one
    if (other := order_generation.refusal(session, link, "the card payment data")) is not None:
        return trace.fail(session, message, other).value
    if (link.erp_status or "") == CANCELLED:
        return _cancelled(session, message, nro)
    shop = session.get(Shop, shop_id)
    assert shop is not None
    if not shop_settings.get(shop, SETTING):  # turned off since it was left: an ERP without the card call
        text = (f"ERP order {nro}: the store no longer sends card data to the ERP (setting "
                "card_payment_data off): nothing recorded")  # fmt: skip
        trace.skip(session, message, text, words=("card_setting_off", {"nro": nro}))
        return "skipped"
    read = read_cards(order_clients.admin_client(shop.domain), gid)
    cards = [read[i] for i in ids if read and i in read and read[i].brand is not None]
    missing = [i for i in ids if not (read and i in read and read[i].brand is not None)]
    if not cards:
        text = (
            f"ERP order {nro}: Shopify shows no card details (brand, BIN) for its payments: nothing to record"
        )
        trace.skip(session, message, text, words=("card_none", {"nro": nro}))
        return "skipped"
    inputs = _inputs(session, shop_id, request, nro, cards)
    erp = order_clients.erp_client(shop_id)
    try:
        for card in inputs:
            erp.record_card_payment(card)
    except ErpRejected as exc:
        if exc.codigo != ERP_CANCELLED:
            raise
        return _cancelled(session, message, nro)  # cancelled in the ERP after the link last heard of it
    sent = [_recorded(card, read_card) for card, read_card in zip(inputs, cards, strict=True)]
    response: dict[str, Any] = {"nro_pedvenda": nro, "cards": sent, **_not_sent(missing)}
    trace.succeed(session, message, response=response, erp_id=str(nro))
    log.info("orders: ERP order %s: %d card payment(s) recorded", nro, len(sent),
             extra={"shop_id": shop_id, "flow": FLOW, "order": num})  # fmt: skip
    return "done"


def _not_sent(missing: list[str]) -> dict[str, Any]:
    """What the message says of the card forms it names that Shopify gives no card details for (a
    payments app's payment without CardPaymentDetails, beside a card that has them): their ids and
    why, as a receipt without NSU is said (`_recorded`), so finance knows whose card data to get
    from the gateway's panel. Nothing when every form named was sent."""
    if not missing:
        return {}
    ids = ", ".join(missing)
    why = (f"Shopify shows no card details (brand, BIN) for the payment form(s) {ids}: their card data "
           "(NSU, authorisation code) was not sent to the ERP")  # fmt: skip
    return {"cards_missing": missing, "cards_missing_why": why}


def _cancelled(session: Session, message: Message, nro: int) -> str:
    trace.skip(session, message, f"ERP order {nro} is cancelled: no card receivable to reconcile",
               words=("card_erp_cancelled", {"nro": nro}))  # fmt: skip
    return "skipped"


def _inputs(
    session: Session, shop_id: int, request: Mapping[str, Any], nro: int, cards: list[CardRead]
) -> list[CardPaymentInput]:
    """One input per card payment; every brand and gateway with no De:Para line named at once.

    Raises:
        MappingMissing: a card brand (card_brand) or a gateway (card_network) is not mapped.
    """
    brands: dict[str, None] = {}  # missing, in order (a dict: each named once)
    networks: dict[str, None] = {}
    inputs = []
    for card in cards:
        brand = mappings.find_mapping(session, shop_id, CARD_BRAND, card.brand or "")
        network = mappings.find_mapping(session, shop_id, CARD_NETWORK, card.txn.gateway or "")
        if brand is None:
            brands[card.brand or ""] = None
        if network is None:
            networks[card.txn.gateway or ""] = None
        if brand is None or network is None:
            continue
        inputs.append(
            CardPaymentInput(
                seq_canal_venda=int(request["seq_canal_venda"]),  # as the order was posted (`leave`)
                channel_order_id=request["channel_order_id"],
                channel_payment_id=order_map.numeric_id(card.txn.id),
                nsu=nsu_of(card.receipt),
                card_number=masked(card.bin, card.number),
                network=int(network.erp_code),
                brand=int(brand.erp_code),
                bin=card.bin,
                authorization=authorization_of(card.receipt),
            )
        )
    if brands or networks:
        named = [f"card brand {b!r}" for b in brands] + [f"card network of gateway {g!r}" for g in networks]
        text = f"ERP order {nro}: no De:Para line for the {', '.join(named)}: its card data waits for it"
        detail = {"brands": list(brands), "gateways": list(networks)}
        if brands:  # parked on the first missing line; its line resumes it, which parks on the next
            words = ("card_brand_unmapped", {"nro": nro, "brands": ", ".join(brands)})
            raise MappingMissing(CARD_BRAND, next(iter(brands)), text, words=words, **detail)
        words = ("card_network_unmapped", {"nro": nro, "gateways": ", ".join(networks)})
        raise MappingMissing(CARD_NETWORK, next(iter(networks)), text, words=words, **detail)
    return inputs


def _recorded(card: CardPaymentInput, read: CardRead) -> dict[str, Any]:
    """What the message keeps of a card payment sent: never more of the card than Shopify shows."""
    return {
        "id_pagto": card.channel_payment_id,
        "gateway": read.txn.gateway,
        "brand": read.brand,
        "cod_bandeira": card.brand,
        "cod_rede": card.network,
        "bin": card.bin,
        "card_number": card.card_number,  # both erased by a customer's redaction (ledger.privacy)
        "authorization": card.authorization,
        "nsu": card.nsu,
        **({} if card.nsu else {"nsu_missing": "the gateway's receipt names no NSU"}),
        **(
            {}
            if card.authorization
            else {"authorization_missing": "the gateway's receipt names no authorisation code"}
        ),
    }
