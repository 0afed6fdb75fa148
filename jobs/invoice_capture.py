"""The money of an invoice (flow `invoices`, step 5): what the order's NF-e still ask for, captured
from its open card authorisations — and what Shopify answered.

What is due and from which authorisation: `capture_plan` (pure; see jobs.invoices for the rules:
partial invoicing, tips and gift cards, refunds, never above what was authorised), and never above
what Shopify's order total still asks for (`within_total`: the part of the NF-e above it is named
for a person, not captured).

Why the answer's status matters: every Brazilian card gateway on Shopify is a payments app, and a
payments app does not answer a capture at once. Shopify sends it a capture session and the app
resolves or rejects it later (captureSessionResolve / captureSessionReject, AUTHORIZATION_EXPIRED
or PROCESSING_ERROR), after which Shopify updates the capture transaction's status. So orderCapture
may answer:
- SUCCESS: the money was taken;
- PENDING / AWAITING_RESPONSE (or UNKNOWN): not taken yet. It is not counted as taken, nor asked
  again (the settlement counts it as money in flight: Settlement.pending_captures, which the
  next NF-e of a partial invoicing leaves alone); the invoice is written and fulfilled, and the
  message is checked again (`Capture.pending`: jobs.invoices raises Transient, RQ retries, then
  the orders catch-up) until Shopify shows the capture SUCCESS or FAILURE. What was asked is kept
  on the message (`Asked`, before the Transient): the re-check (`recheck`) reads what those very
  captures became and plans nothing — worked out again, what is due would count a refund the
  merchant made meanwhile as money owed and capture it back — and the time it was asked is when
  the NF-e was charged (jobs.invoice_documents). It is kept whatever the answer (SUCCESS and a
  refusal too), at once after the captures: a run that fails after them (a fulfillment refused, a
  network error, a crash) is rerun by the same re-check, for the same reason;
- FAILURE / ERROR: the gateway refused it: nothing was taken. It is named for a person with the
  amount and the authorisation, and that authorisation is not captured again by the app (the
  gateway's answer; a person may capture it from the order in Shopify, or charge apart).
While a capture is refused or pending, the order's other open authorisations are not released as
not needed: they were unneeded only if that capture takes the money. They are named (and, refused,
left to a person); a re-check that sees every capture taken releases them.
An authorisation that lapsed before the invoice (card networks hold one about 7 days: a supermarket
order scheduled for next week) is named as expired, not as an NF-e above what was authorised; one
captured in full or released is not (Authorization.lapsed: also on a store not on Shopify Plus, which
is given no expiry, beside a gift card, where Shopify shows PARTIALLY_PAID rather than EXPIRED).
A capture that is not final (more NF-e expected) names on the order link what stays authorised
for the next NF-e (`_waiting`): if none comes, a person captures what is owed or voids the rest
before the authorisation lapses. On a gateway allowing one capture per authorisation (multiCapturable
false: Brazil's card payments apps, most of them) that capture closes it and its gateway releases the
rest, named for a person at once; the next NF-e then has nothing to capture from, is not asked of
Shopify (a second capture is refused) and ends done, its amount named as not charged because the one
capture was taken (`closed_by_one_capture`), to be charged to the customer another way (Shopify shows
it outstanding on the order) or absorbed.
An order paid at delivery (a manual method the shop lists in its setting pay_on_delivery_gateways:
`delivery_method`) has nothing to capture for what online money does not cover: the driver collects
it. That part is said on the message ("collected at delivery"), not flagged for a person, and the
order is not marked paid in Shopify (the store collects the money and marks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.mappings import gateway_key
from ledger.order_notes import Words, joined, money
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_settlement import IN_FLIGHT, Authorization, Settlement

FLOW = "invoices"
ZERO = Decimal("0")
ASKED = "capture_asked"  # the message response's key of what an NF-e's money asked for (Asked.record)
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Pure: money to the cent, half up (as jobs.price_map): an ERP total may carry a third decimal
    (R$ 10.005), and orderCapture is asked for whole cents, as Shopify's money is kept."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Capture:
    captured: Decimal | None  # money captured from authorisations in all (None: none was ever open)
    note: str  # what happened, for the message's response
    attention: str | None = None  # for a person: money the NF-e asks for and nobody paid, or a refund owed
    # Captures the gateway has not answered yet ("<amount> from authorisation <id>"): check again later.
    pending: tuple[str, ...] = field(default=())
    # What this NF-e's money asked for (`Asked.record`), when a capture was asked (whatever the
    # answer): kept on the message, so a rerun follows those captures (`recheck`), never plans anew.
    asked: dict[str, Any] | None = None
    # The money the order was paid after it (successful SALE and CAPTURE less a cash sale's change,
    # refunds not taken off, as Shopify's "Paid"; None: the Settlement read before it says), and the order's
    # displayFinancialStatus orderCapture answered with (None: none asked): the Orders page shows both.
    paid: Decimal | None = None
    financial_status: str | None = None
    # `attention` in the merchant's words (ledger.order_notes), one part per "; "-joined part of it;
    # none when a part has no words (the note then reads as its text).
    words: tuple[Words, ...] = ()


@dataclass(frozen=True)
class AskedCapture:
    """One orderCapture asked for an NF-e's money."""

    authorization: str
    amount: Decimal
    unsettled: Decimal  # what the authorisation held when asked
    closes: bool  # finalCapture (or a gateway allowing one capture only)
    one_capture: bool  # the authorisation's multiCapturable was false
    transaction: str | None  # the CAPTURE transaction Shopify made


@dataclass(frozen=True)
class Asked:
    """What one run asked for an NF-e's money: its captures, and what no authorisation could give.
    Kept on the message (`record`) whenever a capture was asked: what is due is never worked out
    again for that NF-e (a refund the merchant makes before the gateway answers, or before the rerun
    of a run that failed after its capture, would count as money still owed and be captured again),
    and the time it was asked is when the NF-e was charged (jobs.invoice_documents: a refund made
    after it is the merchant's)."""

    at: datetime
    invoiced: Decimal  # the order's NF-e total then
    count: int  # how many NF-e
    final: bool
    kept: Decimal  # money taken and kept before these captures
    uncovered: Decimal  # due after the plan: more than the authorisations held
    captures: tuple[AskedCapture, ...]
    held_back: Decimal = ZERO  # due, and authorised, but above Shopify's order total (`within_total`)

    def record(self) -> dict[str, Any]:
        captures = [
            {"authorization": c.authorization, "amount": str(c.amount), "unsettled": str(c.unsettled),
             "closes": c.closes, "one_capture": c.one_capture, "transaction": c.transaction}
            for c in self.captures
        ]  # fmt: skip
        return {"at": self.at.isoformat(), "invoiced": str(self.invoiced), "count": self.count,
                "final": self.final, "kept": str(self.kept), "uncovered": str(self.uncovered),
                "captures": captures, "held_back": str(self.held_back)}  # fmt: skip

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Asked:
        at = datetime.fromisoformat(data["at"])
        captures = [
            AskedCapture(
                c["authorization"], Decimal(c["amount"]), Decimal(c["unsettled"]), bool(c["closes"]),
                bool(c["one_capture"]), c.get("transaction"),
            )
            for c in data.get("captures") or []
        ]  # fmt: skip
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        return cls(at, Decimal(data["invoiced"]), int(data["count"]), bool(data["final"]),
                   Decimal(data["kept"]), Decimal(data["uncovered"]), tuple(captures),
                   Decimal(data.get("held_back") or ZERO))  # fmt: skip


def delivery_method(state: Settlement, on_delivery: frozenset[str]) -> str | None:
    """The manual method the order's rest is collected by at delivery (`on_delivery`: the setting
    pay_on_delivery_gateways as jobs.order_map.gateway_keys gives it), as jobs.order_map's
    delivery_gateway tells it: a PENDING sale of it, else, no sale pending, a listed payment gateway."""
    if not on_delivery:
        return None
    for gateway, _amount, manual in state.pending_sales:
        if gateway and gateway_key(gateway) in on_delivery and manual is not False:
            return gateway
    if state.pending_sales:
        return None
    return next((name for name in state.gateway_names if gateway_key(name) in on_delivery), None)


def applied_already(key: str, applied_by: int, message_id: int, state: Settlement) -> Capture:
    """An NF-e applied before is charged nothing more (jobs.invoice_documents): its money was taken
    then, and a refund made since is the merchant's, not money still due — capturing the order's sum
    again from an authorisation kept for the next NF-e would undo it."""
    by = "by this message before" if applied_by == message_id else f"by message #{applied_by}"
    return Capture(_captured(state), f"NF-e {key} was applied already ({by}): nothing more captured for it")


def settled_outside(key: str, seq: int, by: str, note: str, state: Settlement) -> Capture:
    """An earlier event of NF-e `key` was closed as handled (ledger.handled): a person settled its
    money outside the app, so nothing is captured for it — the open authorisation stays for that
    person (void it in Shopify if the customer paid another way). Said on the message and, as
    attention, on the order link, with who closed it and their note."""
    said = f"capture of NF-e {key} not asked: event #{seq} was handled outside the app by {by}: {note}"
    words = ("capture_settled_outside", {"key": key, "seq": seq, "by": by, "note": note})
    return Capture(_captured(state), said, attention=said, words=(words,))


def foreign_currency(state: Settlement) -> Capture | None:
    """An order the customer paid in another currency than the shop's (Shopify Markets): orderCapture
    must then ask in that currency, and every amount the app reads and the NF-e carry is the shop's
    (BRL, the currency the ERP books in). Converting at a rate of the app's choosing could capture
    more or less than the NF-e, so nothing is asked: the capture is named for a person, who captures
    the NF-e's amount from the order in Shopify admin (Shopify converts it there). None: the
    customer paid in the shop's currency (or Shopify said neither)."""
    paid_in, books_in = state.presentment_currency, state.currency
    if not paid_in or not books_in or paid_in == books_in:
        return None
    said = (
        f"nothing captured: the customer paid in {paid_in} and the app captures in the shop's currency "
        f"({books_in}) only; capture the NF-e's amount from the order in Shopify admin"
    )
    words = ("capture_foreign_currency", {"paid_in": paid_in, "books_in": books_in})
    return Capture(_captured(state), said, attention=said, words=(words,))


def not_asked(invoiced: Decimal, own: Decimal, state: Settlement, since: datetime | None = None) -> Decimal:
    """Pure: what a capture of the order's NF-e (totalling `invoiced`) would have asked now, up to
    this NF-e's `own` total: the money of it left to a person who settled it outside the app. Nothing
    when Shopify holds it already (an earlier capture of it succeeded before its event failed)."""
    plan, uncovered = capture_plan(invoiced, state, since)
    return max(ZERO, min(own, sum((amount for _, amount in plan), ZERO) + uncovered))


def capturable(authorization: Authorization) -> Decimal:
    """What the app may still capture from one authorisation: its unsettled amount, less captures
    still pending at the gateway; nothing from one whose capture the gateway refused."""
    if not authorization.capturable or authorization.refused:
        return ZERO
    held = authorization.amount - authorization.captured - authorization.pending
    return max(ZERO, min(authorization.unsettled, held))


def capture_plan(
    invoiced: Decimal, state: Settlement, since: datetime | None = None
) -> tuple[list[tuple[Authorization, Decimal]], Decimal]:
    """Pure: (authorisation, amount) to capture, in order, and what stays due after them.

    Due = the NF-e total plus the tips and gift cards sold (money the customer gave beside the
    goods, on no NF-e line: Shopify issues the gift card anyway; a tip as its line charges now, and
    one refunded after `since` too: Settlement.owed_beside_goods) minus the money already taken and
    kept (successful SALE and CAPTURE transactions, whatever the gateway, less refunds; `since`:
    when the order's first NF-e was charged, and a refund made after it is the merchant's, not
    money the next NF-e takes back) and minus the captures still pending at the gateway (asked
    once: never asked again). Each open authorisation gives at most what it still holds. All to the
    cent (`cents`): so is every amount it plans."""
    due = cents(invoiced) + state.owed_beside_goods(since) - state.kept_before(since) - state.pending_captures
    plan: list[tuple[Authorization, Decimal]] = []
    for authorization in state.authorizations:
        if due <= ZERO:
            break
        if (available := capturable(authorization)) > ZERO:
            amount = min(due, available)
            plan.append((authorization, amount))
            due -= amount
    return plan, due


def within_total(
    plan: list[tuple[Authorization, Decimal]], state: Settlement
) -> tuple[list[tuple[Authorization, Decimal]], Decimal]:
    """Pure: `plan` cut down to what Shopify says the order still owes (its current total less the
    money kept and the captures pending), and what it left out. What the customer sees they owe is
    the most ever taken: an NF-e above it (a weighed item picked heavier than ordered, which the
    picking's order edit never charges, beside a cut that left room in the authorisation; a freight
    the ERP charges above Shopify's) would otherwise be captured and show in Shopify as paid above
    the order's total, a refund owed. Not read (None): the plan as it is."""
    if state.current_total is None:
        return plan, ZERO
    room = max(ZERO, state.current_total - state.kept - state.pending_captures)
    kept: list[tuple[Authorization, Decimal]] = []
    for authorization, amount in plan:
        if (taken := min(amount, room)) > ZERO:
            kept.append((authorization, taken))
        room -= taken
    return kept, sum((amount for _, amount in plan), ZERO) - sum((amount for _, amount in kept), ZERO)


def capture(
    client: AdminClient,
    order_id: str,
    invoiced: Decimal,
    state: Settlement,
    *,
    final: bool = True,
    count: int = 1,
    since: datetime | None = None,
    now: datetime | None = None,
    on_delivery: str | None = None,
    at: datetime | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> Capture:
    """Capture what the order's `count` valid NF-e (totalling `invoiced`) still ask for, never above
    what was authorised (see jobs.invoices). Not `final` (more NF-e expected: partial invoicing), an
    authorisation keeps what it still holds for the next NF-e, and money taken above the NF-e so far
    pays the ones to come rather than being a refund owed. Only a SUCCESS answer is money taken (see
    the module). `on_delivery`: the manual method the rest is collected by (`delivery_method`): what
    the authorisations do not cover is left to it, not flagged. `at`: when the NF-e's capture began
    (an earlier run cut short while asking: jobs.invoice_record.CAPTURING_AT), the record's time
    (default `now`). `progress`: given the record of the captures answered so far after each
    orderCapture answer (jobs.invoice_record.ASKED_SO_FAR), so a run cut short before the next one
    leaves on its message what it asked."""
    now = now or datetime.now(UTC)
    at = at or now
    invoiced = cents(invoiced)  # what the NF-e ask for, as captured: no half cent named as a refund owed
    plan, uncovered = capture_plan(invoiced, state, since)
    # Only a capture to ask is named for a person: an order paid in full (Pix, a sale) has none,
    # and "capture the NF-e's amount" there would have a person charge the customer twice.
    if plan and (foreign := foreign_currency(state)) is not None:
        return foreign
    plan, held_back = within_total(plan, state)
    asked, answers, answered = [], [], None
    for authorization, amount in plan:
        # A gateway without multi-capture closes the authorisation on its one capture whatever
        # finalCapture says: say so (final), and name what it released for the NF-e still to come.
        closes = final or not authorization.multi_capturable
        amount = cents(amount)  # the plan's is (Shopify's money is in cents): never a fraction of one sent
        transaction = client.order_capture(
            order_id, authorization.id, amount, currency=state.currency, final_capture=closes
        )
        taken = transaction.amount.amount if transaction.amount else amount
        asked.append(AskedCapture(authorization.id, taken, authorization.unsettled, closes,
                                  not authorization.multi_capturable, transaction.id))  # fmt: skip
        answers.append((transaction.status, transaction.error_code or transaction.status))
        answered = transaction.order_financial_status or answered
        if progress is not None:
            progress(_asked(at, invoiced, count, final, state, uncovered, asked, held_back).record())
    run = _asked(at, invoiced, count, final, state, uncovered, asked, held_back)
    outcome = _outcome(client, state, run, answers, history=_refusals(state), now=now,
                       on_delivery=on_delivery)  # fmt: skip
    if not plan:
        notes = [outcome.note] if outcome.note else []
        if state.pending_captures > ZERO:
            notes.insert(0, f"{state.pending_captures} being captured, pending at the gateway")
        elif closed_by_one_capture(state) and uncovered > ZERO:
            notes.insert(
                0, "nothing left to capture: the authorisation allowing one capture was captured already"
            )
        elif state.open_authorization() is None and _captured(state):
            notes.insert(0, "already captured")
        else:
            status = state.financial_status
            notes.insert(0, f"nothing to capture (paid {state.kept}, financial status {status})")
        outcome = replace(outcome, note="; ".join(notes))
    return replace(outcome, financial_status=answered)


def _asked(
    at: datetime, invoiced: Decimal, count: int, final: bool, state: Settlement, uncovered: Decimal,
    asked: list[AskedCapture], held_back: Decimal,
) -> Asked:  # fmt: skip
    """What a run asked for the NF-e's money: its captures so far (`asked`), the money kept before them."""
    return Asked(at, invoiced, count, final, state.kept, uncovered, tuple(asked), held_back)


def recheck(
    client: AdminClient,
    state: Settlement,
    asked: Asked,
    now: datetime | None = None,
    on_delivery: str | None = None,
) -> Capture:
    """The NF-e's money was asked for before (`asked`, kept on its message) by a run that did not end
    (a capture answered PENDING, or a failure after the captures): nothing is planned anew — a refund
    the merchant made since is theirs, not money still due — only what those captures became is read
    and reported (still pending: checked again)."""
    answers = []
    for asked_capture in asked.captures:
        found = state.capture(asked_capture.transaction) if asked_capture.transaction else None
        status = found.status if found else "UNKNOWN"  # not among the transactions read: not seen answered
        answers.append((status, (found.error_code if found else None) or status))
    ours = {c.authorization for c in asked.captures}
    history = [r for r in _refusals(state) if r[0].id not in ours]  # this NF-e's own are in `answers`
    outcome = _outcome(client, state, asked, answers, history=history, now=now or datetime.now(UTC),
                       on_delivery=on_delivery)  # fmt: skip
    when = asked.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    note = f"the capture asked at {when} checked again (nothing asked anew): {outcome.note}"
    # The record stays on the message: when the NF-e was charged (jobs.invoice_documents).
    return replace(outcome, captured=_captured(state), note=note, asked=asked.record(), paid=state.paid)


def _outcome(
    client: AdminClient,
    state: Settlement,
    asked: Asked,
    answers: list[tuple[str, str]],
    *,
    history: list[tuple[Authorization, Decimal, str]],
    now: datetime,
    on_delivery: str | None = None,
) -> Capture:
    """What the captures `asked` for the NF-e came to, by Shopify's `answers` ((status, errorCode or
    status) each): money taken, pending at the gateway, refused; what stays due and who must see it;
    the authorisations the NF-e did not need released (final), unless a capture was refused or is
    pending — another authorisation was unneeded only if that capture takes the money."""
    final, invoiced = asked.final, asked.invoiced
    due, taken, notes, closed = asked.uncovered, ZERO, [], []
    closed_words: list[Words] = []
    refused, pending = list(history), []
    pending += [f"{a.pending} from authorisation {a.id}" for a in state.authorizations if a.pending > ZERO
                and a.id not in {c.authorization for c in asked.captures}]  # fmt: skip
    by_id = {a.id: a for a in state.authorizations}
    uncertain = bool(pending)  # a capture refused or pending: what the NF-e needs from the others is open
    for asked_capture, (status, why) in zip(asked.captures, answers, strict=True):
        amount, held = asked_capture.amount, asked_capture.unsettled
        if status != "SUCCESS" and status not in IN_FLIGHT:
            authorization = by_id.get(asked_capture.authorization) or _named(asked_capture)
            refused.append((authorization, amount, why))
            due += amount
            notes.append(f"the gateway refused the capture of {amount} ({why}): nothing taken")
            uncertain = True
            continue
        rest = held - amount
        if status == "SUCCESS":
            taken += amount
            after = "released" if asked_capture.closes else "left authorised for the next NF-e"
            tail = f"; {rest} {after}" if rest > 0 else ""
            notes.append(f"captured {amount} of {held} authorised{tail}")
        else:  # asked, not answered: not taken yet, never asked again (see the module)
            pending.append(f"{amount} from authorisation {asked_capture.authorization}")
            notes.append(f"capture of {amount} of {held} authorised pending at the gateway "
                         f"({status}): not taken yet")  # fmt: skip
            uncertain = True
        if not final and rest > 0 and asked_capture.one_capture:
            closed.append(f"{FLOW}: authorisation {asked_capture.authorization} allows one capture only "
                          f"(its gateway has no partial captures): {amount} was captured for the NF-e so far "
                          f"and the other {rest} released; charge the NF-e still to come apart")  # fmt: skip
            one = {"authorization": asked_capture.authorization, "amount": money(amount), "rest": money(rest)}
            closed_words.append(("capture_one_only", one))
    drawn = {c.authorization for c in asked.captures}
    left_open = []
    if final and uncertain:  # not released: they may still have to pay the NF-e (a person decides)
        left_open = _unneeded(state, drawn)
        if left_open:
            notes.append("not released while a capture is refused or pending: "
                         + ", ".join(f"{a.unsettled} authorised by {a.id}" for a in left_open))  # fmt: skip
    elif final:
        notes += _release_unneeded(client, state, drawn)
    paid = asked.kept + taken
    nfe = "the NF-e" if asked.count == 1 else f"the {asked.count} NF-e"
    nfe_words: Words = ("the_nfe", {}) if asked.count == 1 else ("the_nfes", {"count": asked.count})
    if not final:
        notes.append(f"not a final capture: {nfe} of this order total {invoiced}, less than the ERP "
                     "served; more NF-e are expected")  # fmt: skip
    attention, said = None, []
    if due > ZERO and on_delivery is not None and not refused:
        notes.append(f"{due} of {nfe} is collected at delivery ({on_delivery}, setting "
                     "pay_on_delivery_gateways): nothing captured for it; the store marks the order paid "
                     "in Shopify once collected")  # fmt: skip
    elif due > ZERO:
        attention, words = _not_charged(state, (nfe, nfe_words), invoiced, due, paid, refused, now)
        said.append(words)
        if refused and left_open:
            held = ", ".join(f"authorisation {a.id} still holds {a.unsettled}" for a in left_open)
            attention += f"; {held}, left open: capture from it or void it from the order in Shopify"
            holds = [("authorization_holds", {"authorization": a.id, "amount": money(a.unsettled)})
                     for a in left_open]  # fmt: skip
            said.append(("capture_left_open", {"holds": joined(holds)}))
    elif not final and paid > invoiced + state.beside_goods:
        notes.append(f"{paid - invoiced - state.beside_goods} taken ahead pays the NF-e still to come")
    elif paid > invoiced + state.beside_goods:
        owed = paid - invoiced - state.beside_goods
        beside = [f"{state.tips} of tips"] if state.tips else []
        beside += [f"{state.gift_cards} of gift cards sold"] if state.gift_cards else []
        tips = f" and {' and '.join(beside)}" if beside else ""
        of = "an NF-e" if asked.count == 1 else f"{asked.count} NF-e"
        attention = f"{FLOW}: {paid} was taken for {of} of {invoiced}{tips}: refund {owed} to the customer"
        items = [("tips", {"amount": money(state.tips)})] if state.tips else []
        items += [("gift_cards_sold", {"amount": money(state.gift_cards)})] if state.gift_cards else []
        of_words: Words = ("an_nfe", {}) if asked.count == 1 else ("nfes", {"count": asked.count})
        beside: Words | str = ("beside_goods", {"items": joined(items, "and")}) if items else ""
        owes = {"paid": money(paid), "of": of_words, "invoiced": money(invoiced), "owed": money(owed)}
        said.append(("capture_refund_owed", {**owes, "beside": beside}))
    # The note's pieces, each "invoices: ..." with its words (the first piece's may be two parts).
    told: list[tuple[str, list[Words]]] = [(attention, said)] if attention else []
    if ZERO < asked.held_back <= CENTS_ABSORBED:  # a weight's discount split to the cent: no person's work
        notes.append(_above_total(state, nfe, invoiced, asked.held_back, "absorbed"))
    elif asked.held_back > ZERO:
        above = f"{FLOW}: " + _above_total(state, nfe, invoiced, asked.held_back, "collect it or absorb it")
        above_words = {"nfe": nfe_words, "invoiced": money(invoiced), "held_back": money(asked.held_back),
                       "total": money(state.current_total or ZERO)}  # fmt: skip
        told.append((above, [("capture_above_total", above_words)]))
    told += [(text, [words]) for text, words in zip(closed, closed_words, strict=True)]
    if final and not told and (below := _shopify_above(state, invoiced)) is not None:
        told.append(below)
    if (waiting := _waiting(state, asked, answers, nfe) if not final else None) is not None:
        told.append((waiting[0], [waiting[1]]))
    attention = "; ".join(text for text, _ in told) or None
    said = again(told)
    if attention:
        notes.append(attention.removeprefix(f"{FLOW}: "))
    captured = (_captured(state) or ZERO) + taken if state.authorizations else None
    record = asked.record() if asked.captures else None  # kept on the message whatever the answer
    return Capture(captured, "; ".join(notes), attention, tuple(pending), record, paid=state.paid + taken,
                   words=tuple(said) if attention else ())  # fmt: skip


def again(pieces: list[tuple[str, list[Words]]]) -> list[Words]:
    """The words of a note joined from `pieces` ("invoices: ..." each, with its words): a piece after
    the first names the flow again as its text does ("...; invoices: ..."), so its first part is
    said inside `invoices_again` (shopify_app.note_words); a part its piece goes on with is not."""
    return [("invoices_again", {"part": w}) if i and not j else w
            for i, (_, words) in enumerate(pieces) for j, w in enumerate(words)]  # fmt: skip


def _waiting(
    state: Settlement, asked: Asked, answers: list[tuple[str, str]], nfe: str
) -> tuple[str, Words] | None:
    """For a person, when a capture is not final: what stays authorised on the customer's card for
    a further NF-e (what the captures asked left open, and the authorisations they drew nothing
    from), so nobody lets it lapse unseen when no further NF-e comes (None: nothing stays). What a
    capture left open is no more than its authorisation still gives now (`state`): read by a
    re-check (`recheck`) after the order's next NF-e captured it, it is gone, not waiting."""
    left, drawn = ZERO, {c.authorization for c in asked.captures}
    now = {a.id: a for a in state.authorizations}
    for asked_capture, (status, _why) in zip(asked.captures, answers, strict=True):
        if (status == "SUCCESS" or status in IN_FLIGHT) and not asked_capture.closes:
            rest = max(ZERO, asked_capture.unsettled - asked_capture.amount)
            authorization = now.get(asked_capture.authorization)
            left += rest if authorization is None else min(rest, capturable(authorization))
    left += sum((capturable(a) for a in state.authorizations if a.id not in drawn), ZERO)
    if left <= ZERO:
        return None
    nfe_words = ("the_nfe", {}) if asked.count == 1 else ("the_nfes", {"count": asked.count})
    left_words = {"left": money(left), "nfe": nfe_words, "invoiced": money(asked.invoiced)}
    words = ("capture_left_authorised", left_words)
    return (f"{FLOW}: {left} is left authorised on the customer's card, waiting for a further NF-e of this "
            f"order ({nfe} so far total {asked.invoiced}, less than the ERP served). If no further NF-e is "
            "coming, capture what is still owed and void the rest from the order in Shopify before the "
            "authorisation lapses"), words  # fmt: skip


# What an NF-e may come to above Shopify's total without a person told: the cents a weighed item's
# discount leaves when split over its units (jobs.order_edits.to_shopify rounds each unit's up).
CENTS_ABSORBED = Decimal("0.05")


def _above_total(state: Settlement, nfe: str, invoiced: Decimal, held_back: Decimal, then: str) -> str:
    """The part of the NF-e the authorisation held but Shopify's order total does not ask for
    (`within_total`): not charged, as a weighed item picked heavier than ordered never is; `then`:
    what becomes of it (for a person: collect it or absorb it; cents: absorbed)."""
    return (
        f"{nfe} total {invoiced} is {held_back} above the Shopify order's total "
        f"{state.current_total} (what the customer sees they owe: a weighed item picked heavier than "
        f"ordered, or a freight above Shopify's, is not charged there): {held_back} was not charged; "
        f"{then}"
    )


def _shopify_above(state: Settlement, invoiced: Decimal) -> tuple[str, list[Words]] | None:
    """The last NF-e charged, Shopify's order total still above what the NF-e invoiced (less what no
    ERP line carries: tips, gift cards sold) by more than a split discount's cents: Shopify shows the
    customer owing what the NF-e does not charge (a discount given at invoicing; a freight billed
    apart; a picking's price the edit could not give the line: a substitute landing on a line of the
    order's at its checkout price when the ERP's price fell since), the order left partly paid
    there. None when it matches."""
    if state.current_total is None:
        return None
    gap = state.current_total - state.beside_goods - invoiced
    if gap <= CENTS_ABSORBED:
        return None
    text = (f"{FLOW}: the Shopify order's total {state.current_total} is {gap} above what the NF-e invoiced "
            f"({invoiced}): Shopify shows the customer owing {gap} the NF-e does not charge (its "
            "authorisation released); collect it another way, or take it off the order in Shopify (an "
            "edit's discount) so it reads paid")  # fmt: skip
    said = {"total": money(state.current_total), "gap": money(gap), "invoiced": money(invoiced)}
    return text, [("capture_shopify_above_nfe", said)]


def _captured(state: Settlement) -> Decimal | None:
    """Money captured from the order's authorisations so far (None: it has none)."""
    return sum((a.captured for a in state.authorizations), ZERO) if state.authorizations else None


def _refusals(state: Settlement) -> list[tuple[Authorization, Decimal, str]]:
    """Captures the gateway refused before, as (authorisation, amount, why)."""
    return [(a, amount, why) for a in state.authorizations for amount, why in a.refused]


def _named(asked: AskedCapture) -> Authorization:
    """An authorisation no longer among the order's (to name it only)."""
    return Authorization(asked.authorization, asked.amount, ZERO, False, ZERO)


def closed_by_one_capture(state: Settlement) -> list[tuple[Authorization, Decimal]]:
    """Pure: the authorisations whose gateway allows one capture (multiCapturable false) that one
    capture closed, each with what its gateway released on it (neither captured nor being captured,
    and not voided by a person): money the customer authorised that no later NF-e can take from it."""
    closed = []
    for a in state.authorizations:
        released = a.amount - a.captured - a.pending
        if not a.multi_capturable and a.captured > ZERO and not a.voided and released > ZERO:
            closed.append((a, released))
    return closed


def _unneeded(state: Settlement, drawn: set[str]) -> list[Authorization]:
    """The open authorisations the NF-e drew nothing from — not one being captured (a capture
    pending at the gateway: checked again first) nor one whose capture the gateway refused (a person
    decides)."""
    return [
        a for a in state.authorizations
        if a.id not in drawn and not a.pending and not a.refused and a.capturable and a.unsettled > ZERO
    ]  # fmt: skip


def _release_unneeded(client: AdminClient, state: Settlement, drawn: set[str]) -> list[str]:
    """ "A lower total captures less and releases the rest": an authorisation the NF-e needed
    nothing from (already covered by a gift card, an earlier capture, another card) still holds
    money on the customer's card, so it is voided (`_unneeded`)."""
    notes = []
    for authorization in _unneeded(state, drawn):
        try:
            client.transaction_void(authorization.id)
            notes.append(f"{authorization.unsettled} authorised and not needed: released")
        except ShopifyUserErrors as exc:  # e.g. AUTH_NOT_VOIDABLE: it lapses by itself
            notes.append(f"{authorization.unsettled} authorised and not needed could not be voided ({exc})")
    return notes


def _not_charged(
    state: Settlement,
    nfes: tuple[str, Words],
    invoiced: Decimal,
    due: Decimal,
    paid: Decimal,
    refused: list[tuple[Authorization, Decimal, str]],
    now: datetime,
) -> tuple[str, Words]:
    """For a person: why `due` of the NF-e was not charged — a capture the gateway refused, an
    authorisation that expired uncaptured, every authorisation voided (by a person in Shopify admin,
    say: jobs.order_payment_lost noted it while the ERP order was open), an authorisation allowing
    one capture that an earlier capture closed (an order invoiced in several NF-e on a payments app
    without partial captures: the customer is charged the rest another way), or an NF-e above what
    the customer paid or authorised — and its words (`nfes`: "the NF-e" and its words)."""
    nfe, nfe_words = nfes
    said = {"nfe": nfe_words, "invoiced": money(invoiced), "due": money(due), "paid": money(paid)}
    if refused:
        named = "; ".join(f"the gateway refused the capture of {amount} from card authorisation "
                          f"{a.id} ({why})" for a, amount, why in refused)  # fmt: skip
        refusals = [("capture_refusal", {"amount": money(amount), "authorization": a.id, "why": why})
                    for a, amount, why in refused]  # fmt: skip
        return (f"{FLOW}: {nfe} total {invoiced}: {named}: {due} was not charged ({paid} taken); capture it "
                "again from the order in Shopify if its authorisation still allows, else charge the customer "
                "again or absorb it"), (
            "capture_refused", {**said, "refusals": joined(refusals, "semicolon")})  # fmt: skip
    expired = state.financial_status == "EXPIRED"
    lapsed = [a for a in state.authorizations if a.lapsed(now, expired=expired)]
    if lapsed and not any(capturable(a) for a in state.authorizations):
        amount = sum((a.unclaimed for a in lapsed), ZERO)
        return (f"{FLOW}: {nfe} total {invoiced}: the card authorisation of {amount} expired uncaptured "
                f"({paid} taken): {due} was not charged; charge the customer again or absorb it"), (
            "capture_expired", {**said, "amount": money(amount)})  # fmt: skip
    voided = [a for a in state.authorizations if a.voided]
    if voided and len(voided) == len(state.authorizations) and not any(capturable(a) for a in voided):
        amount = sum((max(ZERO, a.amount - a.captured - a.pending) for a in voided), ZERO)
        return (f"{FLOW}: {nfe} total {invoiced}: the card authorisation of {amount} was voided in Shopify "
                f"({paid} taken): {due} was not charged; charge the customer another way or absorb it"), (
            "capture_voided", {**said, "amount": money(amount)})  # fmt: skip
    closed = closed_by_one_capture(state)
    if closed and sum((released for _, released in closed), ZERO) >= due:
        named = "; ".join(f"card authorisation {a.id} allowed one capture only, taken already "
                          f"({a.captured} captured, the other {released} released by its gateway)"
                          for a, released in closed)  # fmt: skip
        parts = [("capture_one_taken", {"authorization": a.id, "captured": money(a.captured),
                                        "released": money(released)}) for a, released in closed]  # fmt: skip
        return (f"{FLOW}: {nfe} total {invoiced}: {named}: {due} was not charged ({paid} taken); charge "
                f"the customer {due} another way (Shopify shows it outstanding on the order: send them an "
                "invoice for it from there) or absorb it"), (
            "capture_closed_by_one", {**said, "closed": joined(parts, "semicolon")})  # fmt: skip
    return (
        f"{FLOW}: {nfe} total {invoiced} is {due} above what the customer paid or authorised "
        f"({paid} taken): {due} was not charged; collect it or absorb it"
    ), ("capture_above_authorised", said)
