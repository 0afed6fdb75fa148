"""The money of an invoice (flow `invoices`, step 5): what the order's NF-e still ask for, captured
from its open card authorisations — and what Shopify answered.

What is due and from which authorisation: `capture_plan` (pure; see jobs.invoices for the rules:
partial invoicing, tips and gift cards, refunds, never above what was authorised).

Why the answer's status matters: every Brazilian card gateway on Shopify is a payments app, and a
payments app does not answer a capture at once. Shopify sends it a capture session and the app
resolves or rejects it later (captureSessionResolve / captureSessionReject, AUTHORIZATION_EXPIRED
or PROCESSING_ERROR), after which Shopify updates the capture transaction's status. So orderCapture
may answer:
- SUCCESS: the money was taken;
- PENDING / AWAITING_RESPONSE (or UNKNOWN): not taken yet. It is not counted as taken, nor asked
  again (the settlement counts it as money in flight: Settlement.pending_captures, which the
  next run and the next NF-e of a partial invoicing leave alone); the invoice is written and
  fulfilled, and the message is checked again (`Capture.pending`: jobs.invoices raises Transient,
  RQ retries, then the orders catch-up) until Shopify shows the capture SUCCESS or FAILURE;
- FAILURE / ERROR: the gateway refused it: nothing was taken. It is named for a person with the
  amount and the authorisation, and that authorisation is not captured again by the app (the
  gateway's answer; a person may capture it from the order in Shopify, or charge apart).
An authorisation that lapsed before the invoice (card networks hold one about 7 days: a supermarket
order scheduled for next week) is named as expired, not as an NF-e above what was authorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.order_settlement import IN_FLIGHT, Authorization, Settlement

FLOW = "invoices"
ZERO = Decimal("0")


@dataclass(frozen=True)
class Capture:
    captured: Decimal | None  # money captured from authorisations in all (None: none was ever open)
    note: str  # what happened, for the message's response
    attention: str | None = None  # for a person: money the NF-e asks for and nobody paid, or a refund owed
    # Captures the gateway has not answered yet ("<amount> from authorisation <id>"): check again later.
    pending: tuple[str, ...] = field(default=())


def applied_already(key: str, applied_by: int, message_id: int, state: Settlement) -> Capture:
    """An NF-e applied before is charged nothing more (jobs.invoice_documents): its money was taken
    then, and a refund made since is the merchant's, not money still due — capturing the order's sum
    again from an authorisation kept for the next NF-e would undo it."""
    by = "by this message before" if applied_by == message_id else f"by message #{applied_by}"
    captured = sum((a.captured for a in state.authorizations), ZERO) if state.authorizations else None
    return Capture(captured, f"NF-e {key} was applied already ({by}): nothing more captured for it")


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
    goods, on no NF-e line: Shopify issues the gift card anyway) minus the money already taken and
    kept (successful SALE and CAPTURE transactions, whatever the gateway, less refunds; `since`:
    when the order's first NF-e was charged, and a refund made after it is the merchant's, not
    money the next NF-e takes back) and minus the captures still pending at the gateway (asked
    once: never asked again). Each open authorisation gives at most what it still holds."""
    due = invoiced + state.beside_goods - state.kept_before(since) - state.pending_captures
    plan: list[tuple[Authorization, Decimal]] = []
    for authorization in state.authorizations:
        if due <= ZERO:
            break
        if (available := capturable(authorization)) > ZERO:
            amount = min(due, available)
            plan.append((authorization, amount))
            due -= amount
    return plan, due


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
) -> Capture:
    """Capture what the order's `count` valid NF-e (totalling `invoiced`) still ask for, never above
    what was authorised (see jobs.invoices). Not `final` (more NF-e expected: partial invoicing), an
    authorisation keeps what it still holds for the next NF-e, and money taken above the NF-e so far
    pays the ones to come rather than being a refund owed. Only a SUCCESS answer is money taken (see
    the module)."""
    plan, due = capture_plan(invoiced, state, since)
    before = sum((a.captured for a in state.authorizations), ZERO)
    captured, notes, closed = before, [], []
    refused = [(a, amount, why) for a in state.authorizations for amount, why in a.refused]
    pending = [f"{a.pending} from authorisation {a.id}" for a in state.authorizations if a.pending > ZERO]
    for authorization, amount in plan:
        # A gateway without multi-capture closes the authorisation on its one capture whatever
        # finalCapture says: say so (final), and name what it released for the NF-e still to come.
        closes = final or not authorization.multi_capturable
        transaction = client.order_capture(
            order_id, authorization.id, amount, currency=state.currency, final_capture=closes
        )
        if transaction.status != "SUCCESS" and transaction.status not in IN_FLIGHT:
            refused.append((authorization, amount, transaction.error_code or transaction.status))
            due += amount
            notes.append(f"the gateway refused the capture of {amount} ({refused[-1][2]}): nothing taken")
            continue
        taken = transaction.amount.amount if transaction.amount else amount
        rest = authorization.unsettled - taken
        if transaction.status == "SUCCESS":
            captured += taken
            notes.append(f"captured {taken} of {authorization.unsettled} authorised"
                         + (f"; {rest} {'released' if closes else 'left authorised for the next NF-e'}"
                            if rest > 0 else ""))  # fmt: skip
        else:  # asked, not answered: not taken yet, never asked again (see the module)
            pending.append(f"{taken} from authorisation {authorization.id}")
            notes.append(f"capture of {taken} of {authorization.unsettled} authorised pending at the gateway "
                         f"({transaction.status}): not taken yet")  # fmt: skip
        if not final and rest > 0 and not authorization.multi_capturable:
            closed.append(f"{FLOW}: authorisation {authorization.id} allows one capture only (its gateway "
                          f"has no partial captures): {taken} was captured for the NF-e so far and the other "
                          f"{rest} released; charge the NF-e still to come apart")  # fmt: skip
    if final:
        notes += _release_unneeded(client, state, {authorization.id for authorization, _ in plan})
    if not plan:
        if state.pending_captures > ZERO:
            notes.append(f"{state.pending_captures} being captured, pending at the gateway")
        elif state.open_authorization() is None and before:
            notes.append("already captured")
        else:
            notes.append(f"nothing to capture (paid {state.kept}, financial status {state.financial_status})")
    paid = state.kept + (captured - before)
    nfe = "the NF-e" if count == 1 else f"the {count} NF-e"
    if not final:
        notes.append(f"not a final capture: {nfe} of this order total {invoiced}, less than the ERP "
                     "served; more NF-e are expected")  # fmt: skip
    attention = None
    if due > ZERO:
        attention = _not_charged(state, nfe, invoiced, due, paid, refused, now or datetime.now(UTC))
    elif not final and paid > invoiced + state.beside_goods:
        notes.append(f"{paid - invoiced - state.beside_goods} taken ahead pays the NF-e still to come")
    elif paid > invoiced + state.beside_goods:
        owed = paid - invoiced - state.beside_goods
        beside = [f"{state.tips} of tips"] if state.tips else []
        beside += [f"{state.gift_cards} of gift cards sold"] if state.gift_cards else []
        tips = f" and {' and '.join(beside)}" if beside else ""
        of = "an NF-e" if count == 1 else f"{count} NF-e"
        attention = f"{FLOW}: {paid} was taken for {of} of {invoiced}{tips}: refund {owed} to the customer"
    attention = "; ".join([*([attention] if attention else []), *closed]) or None
    if attention:
        notes.append(attention.removeprefix(f"{FLOW}: "))
    return Capture(captured if state.authorizations else None, "; ".join(notes), attention, tuple(pending))


def _release_unneeded(client: AdminClient, state: Settlement, drawn: set[str]) -> list[str]:
    """ "A lower total captures less and releases the rest": an authorisation the NF-e needed
    nothing from (already covered by a gift card, an earlier capture, another card) still holds
    money on the customer's card, so it is voided — not one being captured (a capture pending at
    the gateway: checked again first) nor one whose capture the gateway refused (a person decides)."""
    notes = []
    for authorization in state.authorizations:
        if authorization.id in drawn or authorization.pending or authorization.refused:
            continue
        if not authorization.capturable or authorization.unsettled <= ZERO:
            continue
        try:
            client.transaction_void(authorization.id)
            notes.append(f"{authorization.unsettled} authorised and not needed: released")
        except ShopifyUserErrors as exc:  # e.g. AUTH_NOT_VOIDABLE: it lapses by itself
            notes.append(f"{authorization.unsettled} authorised and not needed could not be voided ({exc})")
    return notes


def _not_charged(
    state: Settlement,
    nfe: str,
    invoiced: Decimal,
    due: Decimal,
    paid: Decimal,
    refused: list[tuple[Authorization, Decimal, str]],
    now: datetime,
) -> str:
    """For a person: why `due` of the NF-e was not charged — a capture the gateway refused, an
    authorisation that expired uncaptured, or an NF-e above what the customer paid or authorised."""
    if refused:
        named = "; ".join(f"the gateway refused the capture of {amount} from card authorisation "
                          f"{a.id} ({why})" for a, amount, why in refused)  # fmt: skip
        return (f"{FLOW}: {nfe} total {invoiced}: {named}: {due} was not charged ({paid} taken); capture it "
                "again from the order in Shopify if its authorisation still allows, else charge the customer "
                "again or absorb it")  # fmt: skip
    expired = state.financial_status == "EXPIRED"
    lapsed = [a for a in state.authorizations if a.lapsed(now) or (expired and not a.capturable)]
    if lapsed and not any(capturable(a) for a in state.authorizations):
        amount = sum((a.amount - a.captured for a in lapsed), ZERO)
        return (f"{FLOW}: {nfe} total {invoiced}: the card authorisation of {amount} expired uncaptured "
                f"({paid} taken): {due} was not charged; charge the customer again or absorb it")  # fmt: skip
    return (
        f"{FLOW}: {nfe} total {invoiced} is {due} above what the customer paid or authorised "
        f"({paid} taken): {due} was not charged; collect it or absorb it"
    )
