"""Order settlement reads and writes the ERP -> Shopify order flows need beyond order_ops.

Why a separate module (not methods on AdminClient): invoicing and cancellation must check
Shopify's own state before every write (the NF-e metafields already there? a fulfillment
already made? money already captured?) so that the same invoice twice changes nothing; these
functions take any AdminClient and keep their documents in documents/*.graphql like the rest.

- `settlement(client, order_id)`: total now, capturable money per authorisation (with its captures
  still pending at the gateway or refused, whether it was voided, and its expiry), every capture
  transaction with its status (what one answered PENDING became), tips and gift cards sold (money beside
  the goods), tags, the `nfe` metafields, fulfillments (with tracking). Every transaction and
  fulfillment, past the first 50 too (settlement_lists).
- Tips are counted as the current value of the order's tip lines (`tip_value`), as gift cards sold
  and Shopify's current total are, not as totalTipReceivedSet: that is "the sum of all tip amounts"
  and, like totalReceivedSet ("before returns"), may still count a tip refunded since (the tip line
  then at 0, the current total without it), which made a paid order look short by its tip. When a
  tip line was refunded, the refunds are read too (OrderRefundedLines), for when it was given back:
  a tip refunded after the order's first NF-e was charged is owed beside the next one all the same
  (Settlement.owed_beside_goods), as kept_before leaves that refund in the money kept.
- A POS sale paid in cash with change (jobs.order_kinds sends a POS "Ship to customer" order to the
  ERP) is a SALE of the cash tendered and a CHANGE of what the till handed back ("the money returned
  to the customer when they've paid too much during a cash transaction"): `paid` is the difference,
  or the change would read as money taken above the NF-e, a refund owed a second time.
- `fulfillment_cancel(client, fulfillment_id)`: Shopify refuses to cancel a fulfilled order;
  an NF-e cancelled after invoicing first cancels the fulfillment made at invoicing.
- `fulfillment_tracking_update(client, fulfillment_id, tracking, notify_customer=)`: tracking the
  ERP gives after the NF-e was applied (a carrier's code comes after invoicing) onto the
  fulfillment made at it; the fulfillment as Shopify answers.
- `orders_with_totals_since(client, since_iso)`: reconciliation's listing with current totals
  and tips; `gift_cards_sold(client, order_id)`: the gift cards sold on an order's lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from shopify_app.admin_api import order_tips
from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.order_results import OrderLine
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import Money, gid, nodes, parse_money_bag, require, search_time
from shopify_app.admin_api.settlement_lists import every_listed

ZERO = Decimal("0")
CENT = Decimal("0.01")
IN_FLIGHT = ("PENDING", "AWAITING_RESPONSE", "UNKNOWN")  # OrderTransactionStatus not answered yet
REFUSED = ("FAILURE", "ERROR")
INACTIVE_FULFILLMENT = ("CANCELLED", "ERROR", "FAILURE")  # FulfillmentStatus of no shipment
LINES_PER_PAGE = 100
Refunds = tuple[tuple[str | None, Decimal], ...]  # (processedAt, amount) of each refund


class HasExecutor(Protocol):
    executor: Executor


@dataclass(frozen=True)
class Authorization:
    """A card authorisation and what can still be captured from it."""

    id: str
    amount: Decimal
    unsettled: Decimal
    capturable: bool
    captured: Decimal  # successful captures whose parent is this authorisation
    multi_capturable: bool = True  # False: the gateway allows one capture, which closes it
    # Captures of it the gateway has not answered yet (PENDING, AWAITING_RESPONSE, UNKNOWN: a
    # payments app resolves a capture session later): money that may still be taken, so never
    # asked again, and not taken yet.
    pending: Decimal = ZERO
    refused: tuple[tuple[Decimal, str], ...] = ()  # (amount, status or errorCode) of failed captures
    expires_at: str | None = None  # authorizationExpiresAt (given on Shopify Plus stores only)
    voided: bool = False  # a successful VOID of it: what it held was released, not lapsed
    manual: bool = False  # manualPaymentGateway: no card hold a network lets lapse

    @property
    def unclaimed(self) -> Decimal:
        """What it holds that was neither captured, nor is being captured, nor was released (voided,
        or closed by the one capture its gateway allows): what lapses with it."""
        if self.voided or (self.captured > ZERO and not self.multi_capturable):
            return ZERO
        return max(ZERO, self.amount - self.captured - self.pending)

    def lapsed(self, now: datetime, *, expired: bool = False) -> bool:
        """Nothing capturable, something `unclaimed`, and its expiry passed (`expired`: Shopify
        shows the order's authorisation EXPIRED): the authorisation expired uncaptured. One captured
        in full or released is not: nothing of it lapsed, whatever its expiry says.

        Shopify gives authorizationExpiresAt on Shopify Plus stores only, and shows EXPIRED only
        when nothing else was paid: beside a gift card the order reads PARTIALLY_PAID. So a card
        authorisation with no expiry given that Shopify no longer lets be captured, nothing of it
        ever captured nor being captured, none refused (`refused`: the gateway's answer says why)
        and not voided, lapsed too: nothing else closes one uncaptured. Not a manual method's."""
        untouched = self.captured == ZERO and self.pending == ZERO and not self.refused
        closed = self.expires_at is None and not self.manual and untouched
        passed = expired or closed or (self.expires_at is not None and _when(self.expires_at) <= now)
        return not self.capturable and self.unclaimed > ZERO and passed


@dataclass(frozen=True)
class CaptureInfo:
    """One CAPTURE transaction of an order: what a capture answered PENDING became since."""

    id: str
    parent: str | None  # the authorisation captured
    status: str  # SUCCESS, PENDING, AWAITING_RESPONSE, UNKNOWN, FAILURE, ERROR
    amount: Decimal
    error_code: str | None = None


@dataclass(frozen=True)
class FulfillmentInfo:
    id: str
    status: str
    tracking_number: str | None
    name: str | None = None  # "#1001-F1"
    tracking_company: str | None = None
    tracking_url: str | None = None  # Shopify's own when it knows the carrier and none was given
    created_at: str | None = None  # Shopify's DateTime (UTC, to the second)

    @property
    def active(self) -> bool:
        return self.status not in INACTIVE_FULFILLMENT


@dataclass(frozen=True)
class Settlement:
    """Where an order stands for invoicing / cancellation (None fields: Shopify gave no value)."""

    id: str
    name: str
    cancelled_at: str | None
    financial_status: str | None
    fulfillment_status: str | None
    tags: list[str]
    current_total: Decimal | None
    currency: str | None
    total_capturable: Decimal
    authorizations: list[Authorization]
    paid: Decimal  # successful SALE + CAPTURE money, less the CHANGE a cash sale gave back (no refund)
    nfe: dict[str, str]  # metafields of namespace "nfe", by key
    fulfillments: list[FulfillmentInfo] = field(default_factory=list)
    refunded: Decimal = ZERO  # successful REFUND money
    refunding: Decimal = ZERO  # REFUND money the gateway has not answered for yet (a Pix refund's)
    refunds: tuple[tuple[str | None, Decimal], ...] = ()  # (processedAt, amount) of each one
    tips: Decimal = ZERO  # tips owed now (tip_value): money owed beside the goods (no NF-e line)
    tip_refunds: Refunds = ()  # the refunds that gave a tip back, its share of each (tip_refunds)
    gift_cards: Decimal = ZERO  # gift cards sold, current value: money owed beside the goods too
    captures: tuple[CaptureInfo, ...] = ()  # every CAPTURE transaction, whatever its status
    gateway_names: tuple[str, ...] = ()  # paymentGatewayNames
    # (gateway, amount, manualPaymentGateway) of each PENDING sale: a manual method's (cash on
    # delivery) took nothing online; an online one's (a Pix not paid yet) is money still due online
    pending_sales: tuple[tuple[str | None, Decimal, bool | None], ...] = ()
    cancel_note: str | None = None  # the cancellation's staff note (None: not cancelled, or none given)
    presentment_currency: str | None = None  # the currency the customer paid in (presentmentCurrencyCode)

    @property
    def beside_goods(self) -> Decimal:
        """What the customer pays on the order that no NF-e line carries: tips and gift cards sold."""
        return self.tips + self.gift_cards

    def owed_beside_goods(self, since: datetime | None) -> Decimal:
        """`beside_goods`, plus the tips refunded after `since` (when the order's first NF-e was
        charged; None: nothing counted after). kept_before(since) leaves such a refund in the money
        kept (the merchant's decision, not money the next NF-e takes back); the tip it gave back was
        taken with that first NF-e, so it is owed beside the NF-e all the same, or the next NF-e would
        be captured short by it. A refund with no time given counts as made before, as there."""
        if since is None:
            return self.beside_goods
        cut = _cut(since)
        after = sum((amount for at, amount in self.tip_refunds if at is not None and _when(at) >= cut), ZERO)
        return self.beside_goods + after

    @property
    def kept(self) -> Decimal:
        """The money taken and not given back."""
        return self.paid - self.refunded

    @property
    def kept_net(self) -> Decimal:
        """The money taken and neither given back nor being given back: a refund the gateway has not
        answered for yet (a Pix refund is asynchronous) is on its way to the customer."""
        return self.kept - self.refunding

    def kept_before(self, since: datetime | None) -> Decimal:
        """The money taken, less only the refunds processed up to `since` (None: every refund). A
        refund made after the order's first NF-e was charged is the merchant's decision (a damaged
        item, a goodwill amount), not money the next NF-e takes back (jobs.invoices); a refund with
        no time given counts as made before."""
        if since is None:
            return self.kept
        cut = _cut(since)
        before = sum((amount for at, amount in self.refunds if at is None or _when(at) < cut), ZERO)
        return self.paid - before

    @property
    def pending_captures(self) -> Decimal:
        """Money being captured that the gateway has not answered for yet (Authorization.pending)."""
        return sum((a.pending for a in self.authorizations), ZERO)

    @property
    def active_fulfillments(self) -> list[FulfillmentInfo]:
        return [f for f in self.fulfillments if f.active]

    def capture(self, transaction_id: str) -> CaptureInfo | None:
        """The CAPTURE transaction of that id (None: not among the order's transactions read)."""
        return next((c for c in self.captures if c.id == transaction_id), None)

    def open_authorization(self) -> Authorization | None:
        """The authorisation money can still be captured from (None: nothing left / automatic capture)."""
        return next((a for a in self.authorizations if a.capturable and a.unsettled > ZERO), None)


def _when(text: str) -> datetime:
    found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)


def _cut(since: datetime) -> datetime:
    """`since` in UTC to the second: Shopify's times are whole seconds, so a refund of the charge's
    own second came after it."""
    return (since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)).replace(microsecond=0)


def parse_settlement(raw: dict[str, Any]) -> Settlement:
    """Pure: the OrderSettlement selection as a Settlement."""
    transactions = raw.get("transactions") or []
    captured_by_parent: dict[str, Decimal] = {}
    pending_by_parent: dict[str, Decimal] = {}
    refused_by_parent: dict[str, list[tuple[Decimal, str]]] = {}
    voided: set[str] = set()
    paid = refunded = refunding = ZERO
    refunds: list[tuple[str | None, Decimal]] = []
    pending_sales = [
        (txn.get("gateway"), _amount(txn.get("amountSet")), txn.get("manualPaymentGateway"))
        for txn in transactions
        if txn.get("kind") == "SALE" and txn.get("status") == "PENDING"
    ]
    captures: list[CaptureInfo] = []
    for txn in transactions:
        parent = gid(txn.get("parentTransaction"))
        if txn.get("kind") == "CAPTURE" and txn.get("id"):
            amount, status = _amount(txn.get("amountSet")), txn.get("status") or ""
            captures.append(CaptureInfo(txn["id"], parent, status, amount, txn.get("errorCode")))
        if txn.get("kind") == "VOID" and parent and txn.get("status") == "SUCCESS":
            voided.add(parent)
        if txn.get("kind") == "CAPTURE" and parent and txn.get("status") in IN_FLIGHT:
            pending_by_parent[parent] = pending_by_parent.get(parent, ZERO) + _amount(txn.get("amountSet"))
        elif txn.get("kind") == "CAPTURE" and parent and txn.get("status") in REFUSED:
            why = txn.get("errorCode") or txn["status"]
            refused_by_parent.setdefault(parent, []).append((_amount(txn.get("amountSet")), why))
        if txn.get("kind") == "REFUND" and txn.get("status") in IN_FLIGHT:
            refunding += _amount(txn.get("amountSet"))
        if txn.get("status") != "SUCCESS":
            continue
        amount = _amount(txn.get("amountSet"))
        if txn.get("kind") in ("SALE", "CAPTURE"):
            paid += amount
        elif txn.get("kind") == "CHANGE":  # cash handed back at the till: the SALE was the cash tendered
            paid -= amount
        elif txn.get("kind") == "REFUND":
            refunded += amount
            refunds.append((txn.get("processedAt"), amount))
        if txn.get("kind") == "CAPTURE" and parent:
            captured_by_parent[parent] = captured_by_parent.get(parent, ZERO) + amount
    authorizations = [
        Authorization(
            id=txn["id"],
            amount=_amount(txn.get("amountSet")),
            unsettled=_amount(txn.get("totalUnsettledSet")),
            capturable=bool(txn.get("manuallyCapturable")),
            captured=captured_by_parent.get(txn["id"], ZERO),
            multi_capturable=txn.get("multiCapturable") is not False,
            pending=pending_by_parent.get(txn["id"], ZERO),
            refused=tuple(refused_by_parent.get(txn["id"], ())),
            expires_at=txn.get("authorizationExpiresAt"),
            voided=txn["id"] in voided,
            manual=txn.get("manualPaymentGateway") is True,
        )
        for txn in transactions
        if txn.get("kind") == "AUTHORIZATION" and txn.get("status") == "SUCCESS"
    ]
    total = parse_money_bag(raw.get("currentTotalPriceSet"))
    capturable = parse_money_bag(raw.get("totalCapturableSet"))
    tip_total = _amount(raw.get("totalTipReceivedSet"))
    return Settlement(
        id=require(raw, "id", "order"),
        name=raw.get("name", ""),
        cancelled_at=raw.get("cancelledAt"),
        financial_status=raw.get("displayFinancialStatus"),
        fulfillment_status=raw.get("displayFulfillmentStatus"),
        tags=list(raw.get("tags") or []),
        current_total=total.amount if total else None,
        currency=total.currency if total else None,
        total_capturable=capturable.amount if capturable else ZERO,
        authorizations=authorizations,
        paid=paid,
        refunded=refunded,
        refunding=refunding,
        refunds=tuple(refunds),
        tips=tip_value(_lines(raw), tip_total),
        gift_cards=gift_card_value(nodes(raw.get("lineItems"))),
        nfe={m["key"]: m.get("value") or "" for m in nodes(raw.get("nfe"))},
        captures=tuple(captures),
        fulfillments=[parse_fulfillment(f) for f in raw.get("fulfillments") or []],
        gateway_names=tuple(raw.get("paymentGatewayNames") or ()),
        pending_sales=tuple(pending_sales),
        cancel_note=(raw.get("cancellation") or {}).get("staffNote"),
        presentment_currency=raw.get("presentmentCurrencyCode"),
    )


def parse_fulfillment(raw: dict[str, Any]) -> FulfillmentInfo:
    """Pure: a Fulfillment selection (id, name, status, createdAt, trackingInfo) as a FulfillmentInfo."""
    tracking = next(iter(raw.get("trackingInfo") or []), None) or {}
    return FulfillmentInfo(
        id=require(raw, "id", "fulfillment"),
        status=raw.get("status") or "",
        tracking_number=tracking.get("number"),
        name=raw.get("name"),
        tracking_company=tracking.get("company"),
        tracking_url=tracking.get("url"),
        created_at=raw.get("createdAt"),
    )


def gift_card_value(lines: list[dict[str, Any]]) -> Decimal:
    """Pure: the current value of the gift cards sold among `lines` (BesideGoodsLineFields)."""
    total = ZERO
    for line in lines:
        quantity = int(line.get("currentQuantity") or 0)
        if line.get("isGiftCard") and quantity > 0:
            total += _amount(line.get("discountedUnitPriceAfterAllDiscountsSet")) * quantity
    return total.quantize(CENT)


def tip_value(lines: list[OrderLine], tip_total: Decimal) -> Decimal:
    """Pure: the tip the order charges now: the current value of its tip lines (order_tips: the
    tip-shaped lines making up `tip_total`, Shopify's totalTipReceivedSet). The total only tells
    which lines are the tip: it may still count a tip refunded since, whose line is then at 0 (see
    the module). With no line shaped as a tip among `lines` (none read), the total as it is."""
    if not any(line.tip_shaped for line in lines):
        return tip_total
    found = order_tips.tip_lines(lines, tip_total)
    return sum((order_tips.line_value(line) for line in found), ZERO).quantize(CENT)


def refunded_tip_lines(lines: list[OrderLine]) -> set[str]:
    """Pure: the ids of the tip-shaped lines with units taken off since the order was placed (a tip
    refunded; or a custom item removed by an edit, which no refund lists)."""
    return {line.id for line in lines if line.tip_shaped and line.quantity > line.current_quantity}


def _lines(raw: dict[str, Any]) -> list[OrderLine]:
    """The order's lines as read (BesideGoodsLineFields), for order_tips."""
    return [
        OrderLine(
            id=line.get("id") or "",
            sku=None,
            name=line.get("name") or "",
            quantity=int(line.get("quantity") or line.get("currentQuantity") or 0),
            current_quantity=int(line.get("currentQuantity") or 0),
            variant_id=gid(line.get("variant")),
            original_unit_price=parse_money_bag(line.get("originalUnitPriceSet")),
            discounted_unit_price=parse_money_bag(line.get("discountedUnitPriceAfterAllDiscountsSet")),
            total_discount=None,
            gift_card=bool(line.get("isGiftCard")),
            requires_shipping=line.get("requiresShipping") is not False,
        )
        for line in nodes(raw.get("lineItems"))
    ]


def settlement(client: HasExecutor, order_id: str) -> Settlement | None:
    """The order's settlement state (None: no such order); gift cards sold and tips on every page of
    lines, every transaction and fulfillment (settlement_lists: Rejected when Shopify will not give
    them all); when a tip line was refunded, when each refund gave it back (`tip_refunds`)."""
    raw = client.executor.query("OrderSettlement", {"id": order_id}).get("order")
    if raw:
        raw = every_listed(client.executor, order_id, raw)
    if not raw:
        return None
    info = (raw.get("lineItems") or {}).get("pageInfo") or {}
    if info.get("hasNextPage") and info.get("endCursor"):
        more = _line_pages(client, order_id, after=info["endCursor"])
        raw = {**raw, "lineItems": {"nodes": [*nodes(raw.get("lineItems")), *more]}}
    state = parse_settlement(raw)
    if refunded := refunded_tip_lines(_lines(raw)):
        state = replace(state, tip_refunds=tip_refunds(client, order_id, refunded))
    return state


def tip_refunds(client: HasExecutor, order_id: str, tip_lines: set[str]) -> Refunds:
    """(processedAt, amount) of each of the order's refunds that gave back some of `tip_lines` (line
    ids), the amount being those lines' share of it. OrderRefundedLines reads the first 20 refunds
    and 40 lines of each: a tip refund past them is not counted, as a refund made before."""
    raw = client.executor.query("OrderRefundedLines", {"id": order_id}).get("order") or {}
    found: list[tuple[str | None, Decimal]] = []
    for refund in raw.get("refunds") or []:
        items = nodes(refund.get("refundLineItems"))
        given = [_amount(i.get("subtotalSet")) for i in items if gid(i.get("lineItem")) in tip_lines]
        amount = sum(given, ZERO)
        if amount > ZERO:
            found.append((refund.get("processedAt") or refund.get("createdAt"), amount))
    return tuple(found)


def _line_pages(client: HasExecutor, order_id: str, *, after: str | None = None) -> list[dict[str, Any]]:
    """An order's lines (BesideGoodsLineFields) from `after`, a line cursor (every page after it)."""
    lines = paginate(client.executor, "OrderGiftCardLines", ("order", "lineItems"), {"id": order_id},
                     first=LINES_PER_PAGE, after=after)  # fmt: skip
    return list(lines)


def gift_cards_sold(client: HasExecutor, order_id: str, *, after: str | None = None) -> Decimal:
    """The current value of the gift cards sold on an order's lines (from `after`, a line cursor)."""
    return gift_card_value(_line_pages(client, order_id, after=after))


def fulfillment_cancel(client: HasExecutor, fulfillment_id: str) -> str:
    """Cancel one fulfillment; its status as Shopify answers (CANCELLED)."""
    payload = client.executor.mutate("FulfillmentCancel", {"id": fulfillment_id}, "fulfillmentCancel")
    return require(payload.get("fulfillment"), "status", "fulfillmentCancel.fulfillment")


def fulfillment_tracking_update(
    client: HasExecutor, fulfillment_id: str, tracking: dict[str, Any], *, notify_customer: bool = False
) -> FulfillmentInfo:
    """Give a fulfillment its tracking (FulfillmentTrackingInput: company, number, url), replacing
    the one it shows; `notify_customer`: Shopify e-mails the customer the shipping update. The
    fulfillment as Shopify answers; ShopifyUserErrors when refused (an unknown or cancelled one)."""
    payload = client.executor.mutate(
        "FulfillmentTrackingInfoUpdate",
        {"fulfillmentId": fulfillment_id, "trackingInfoInput": tracking, "notifyCustomer": notify_customer},
        "fulfillmentTrackingInfoUpdate",
    )
    return parse_fulfillment(require(payload, "fulfillment", "fulfillmentTrackingInfoUpdate"))


@dataclass(frozen=True)
class OrderTotal:
    """One row of reconciliation's order listing."""

    id: str
    name: str
    created_at: str | None
    updated_at: str
    cancelled_at: str | None
    financial_status: str | None
    current_total: Decimal | None
    # totalTipReceivedSet when listed: it may still count a tip refunded since (jobs.reconcile then
    # reads the order's tip lines); the Settlement's tips when read from there
    tips: Decimal = ZERO


def orders_with_totals_since(
    client: HasExecutor, since_iso: str, *, first: int = 100
) -> Iterator[OrderTotal]:
    """Orders updated at or after `since_iso` (>=: the boundary is re-read; dedupe downstream)."""
    query = f"updated_at:>='{search_time(since_iso)}'"
    for raw in paginate(client.executor, "OrdersTotalsSince", ("orders",), {"query": query}, first=first):
        total = parse_money_bag(raw.get("currentTotalPriceSet"))
        yield OrderTotal(
            id=require(raw, "id", "order"),
            name=raw.get("name", ""),
            created_at=raw.get("createdAt"),
            updated_at=require(raw, "updatedAt", "order"),
            cancelled_at=raw.get("cancelledAt"),
            financial_status=raw.get("displayFinancialStatus"),
            current_total=total.amount if total else None,
            tips=_amount(raw.get("totalTipReceivedSet")),
        )


def _amount(bag: dict[str, Any] | None) -> Decimal:
    money: Money | None = parse_money_bag(bag)
    return money.amount if money else ZERO
