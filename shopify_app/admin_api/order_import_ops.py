"""The order as the ERP import reads it (documents/OrderForErp.graphql), parsed purely.

Why a read of its own beside `OrderOperations.order`: the import needs, in one round trip, the
line's allocated discount (`totalDiscountSet`) and current quantity, the current totals after
edits (the ERP total must equal Shopify's to the cent) and the location each fulfillment order
ships from (the ERP company). The general `OrderFields` read stays as it is for the other flows.
Read apart, only for the orders that need them: the payment terms of an order waiting for payment
(OrderPaymentTerms), the company of a B2B order (OrderCompany) and the payment status of an order in
the ERP that an orders/updated says will not be paid (OrderPaymentStatus).

    from shopify_app.admin_api.order_import_ops import read_order_for_erp
    order = read_order_for_erp(client, "gid://shopify/Order/1")  # None when Shopify has no such order
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from shopify_app.admin_api.errors import ShopifyGraphQLError
from shopify_app.admin_api.order_results import (
    CompanyBuyer,
    FulfillmentOrder,
    Order,
    allocated_discount,
    parse_company_buyer,
    parse_fulfillment_order,
    parse_order,
    parse_order_line,
    parse_transaction,
)
from shopify_app.admin_api.order_shipping_lines import with_every_shipping_line
from shopify_app.admin_api.pagination import QueryRunner, paginate
from shopify_app.admin_api.results import Money, parse_money_bag

LINES_PER_PAGE = 50
FULFILLMENT_ORDERS_PER_PAGE = 50  # past OrderForErp's first 5 (an order moved again and again)
TRANSACTIONS_FIRST = 20  # what OrderForErp reads (its cost); an order with as many is read whole
TRANSACTIONS_ALL = 250
ENDED = ("CLOSED", "CANCELLED")  # fulfillment orders moved away, merged, removed (or done)
# deliveryMethod.methodType of goods the customer does not take at a POS register's counter: shipped,
# the store's own delivery, a carrier's pickup point, collected later at a location.
DELIVERED = frozenset({"SHIPPING", "LOCAL", "PICKUP_POINT", "PICK_UP"})
RETAIL = "RETAIL"  # deliveryMethod.methodType of goods handed over at a POS register's counter


@dataclass(frozen=True)
class PaymentTerms:
    """The order's payment terms (B2B, a draft order's): Shopify takes no payment at checkout; the
    payment falls due on receipt, on fulfilment, after `due_in_days` (NET) or on a date (FIXED)."""

    type: str  # PaymentTermsType: RECEIPT, FULFILLMENT, NET, FIXED, UNKNOWN
    due_in_days: int | None = None


@dataclass(frozen=True)
class ErpOrderRead:
    """The typed order plus the current (after edits) totals the import balances against."""

    order: Order
    current_subtotal: Money | None
    current_total: Money | None
    taxes_included: bool | None = None  # None: not read
    current_tax: Money | None = None
    test: bool = False  # a test order (a payment provider in test mode, the Bogus gateway)
    processed_at: str | None = None  # when the sale happened (an imported order's own date)
    source_name: str | None = None  # "pos": sold at a register (Shopify POS); "web", an app's id...
    retail_location: str | None = None  # the register's location name (a POS order)
    payment_terms: PaymentTerms | None = None  # read apart, for an order waiting for payment only
    # risk.recommendation: ACCEPT | INVESTIGATE | CANCEL | NONE (none yet, or an analysis under way)
    risk_recommendation: str | None = None
    # each assessment's level (HIGH | MEDIUM | LOW | NONE | PENDING): a fraud app's analysis still
    # PENDING beside Shopify's verdict, which the recommendation does not show
    risk_levels: tuple[str, ...] = ()
    risk_apps: tuple[str, ...] = ()  # the fraud apps that assessed it (their titles; Shopify's is none)
    risk: OrderRisk | None = None  # the assessments in full, read apart for an order its risk may hold only

    @property
    def taxes_in_prices(self) -> bool:
        """The store charges a tax inside its prices (taxesIncluded, a non-zero current tax)."""
        return bool(self.taxes_included) and self.current_tax is not None and self.current_tax.amount != 0

    @property
    def sold_at_pos(self) -> bool:
        """Rung up at a Shopify POS register: "pos" is a source name only Shopify's POS can set
        (other API clients cannot assign it). A retail location alone does not tell it: Shopify names
        the location where a retail order is created OR completed, so a web order collected and
        completed at the counter carries one too, and it is an e-commerce sale."""
        return (self.source_name or "").strip().lower() == "pos"

    @property
    def left_to_deliver(self) -> list[FulfillmentOrder]:
        """The live fulfillment orders (not CLOSED or CANCELLED) of goods the customer did not take
        at a counter: delivery method SHIPPING, LOCAL, PICKUP_POINT or PICK_UP (POS "Ship to
        customer": the store picks and ships them), or none given while the order has a shipping
        line. What a POS register handed over is RETAIL, fulfilled at once (or left open when the
        register does not mark its sales fulfilled: still handed over)."""
        return [f for f in self._delivered() if (f.status or "").upper() not in ENDED]

    def _delivered(self) -> list[FulfillmentOrder]:
        """The fulfillment orders, whatever their status, of goods to ship or deliver: delivery
        method SHIPPING, LOCAL, PICKUP_POINT or PICK_UP, or none given while the order has a
        shipping line (`left_to_deliver`'s test)."""
        shipped = any(not line.removed for line in self.order.shipping_lines)
        return [
            f
            for f in self.order.fulfillment_orders
            if f.method_type in DELIVERED or (f.method_type is None and shipped)
        ]

    @property
    def at_register(self) -> bool:
        """A register sale: sold at a Shopify POS register (`sold_at_pos`) with nothing to ship or
        deliver: paid and handed over at the counter, its NFC-e issued there. A POS sale shipped to
        the customer is not, whether or not it is still to ship: nobody handed it over at the
        counter, so no NFC-e was issued for it there. One the store shipped from Shopify before its
        import ran (its webhooks lost) read as handed over and was skipped as a till sale: goods
        gone with no fiscal document and nobody told; it is refused for a person now, as a web order
        handled in Shopify is (jobs.order_kinds.refuse_handled_in_shopify)."""
        to_deliver = [f for f in self._delivered() if (f.status or "").upper() != "CANCELLED"]
        return self.sold_at_pos and not to_deliver

    @property
    def handed_over_at_register(self) -> list[FulfillmentOrder]:
        """The fulfillment orders of goods a POS register handed over at the counter (RETAIL, not
        cancelled): beside `left_to_deliver`, a POS sale that ships part and hands over the rest."""
        if not self.sold_at_pos:
            return []
        return [
            f
            for f in self.order.fulfillment_orders
            if f.method_type == RETAIL and (f.status or "").upper() != "CANCELLED"
        ]

    @property
    def location_ids(self) -> list[str]:
        """Locations of the order's live fulfillment orders, first one first (no duplicates); those
        CLOSED or CANCELLED (moved away, merged, removed) only when nothing else is left
        (`live_fulfillment_orders`). Listed after the live ones, a location the order was moved
        away from gave the order its company when the one it ships from now had none mapped:
        picked, reserved and invoiced at the store it left, not the store link's company."""
        seen: list[str] = []
        for fulfillment_order in self.live_fulfillment_orders:
            if fulfillment_order.location_id and fulfillment_order.location_id not in seen:
                seen.append(fulfillment_order.location_id)
        return seen

    @property
    def live_fulfillment_orders(self) -> list[FulfillmentOrder]:
        """The fulfillment orders not CLOSED or CANCELLED; all of them when none is live."""
        live = [f for f in self.order.fulfillment_orders if (f.status or "").upper() not in ENDED]
        return live or list(self.order.fulfillment_orders)

    @property
    def ships_from_several_locations(self) -> bool:
        return len({f.location_id for f in self.live_fulfillment_orders if f.location_id}) > 1


def parse_erp_order(raw: dict[str, Any]) -> ErpOrderRead:
    """An ErpOrderRead from the OrderForErp selection (the first page of lines)."""
    return ErpOrderRead(
        order=parse_order(raw),
        current_subtotal=parse_money_bag(raw.get("currentSubtotalPriceSet")),
        current_total=parse_money_bag(raw.get("currentTotalPriceSet")),
        taxes_included=raw.get("taxesIncluded"),
        current_tax=parse_money_bag(raw.get("currentTotalTaxSet")),
        test=bool(raw.get("test")),
        processed_at=raw.get("processedAt"),
        source_name=raw.get("sourceName"),
        retail_location=_retail_location(raw.get("retailLocation")),
        risk_recommendation=(raw.get("risk") or {}).get("recommendation"),
        risk_levels=tuple(str(a.get("riskLevel") or "NONE").upper() for a in _assessments(raw)),
        risk_apps=_apps(raw),
    )


def _apps(raw: dict[str, Any]) -> tuple[str, ...]:
    """The titles of the fraud apps that assessed the order (an assessment with a provider)."""
    return tuple(str(a["provider"].get("title") or "?") for a in _assessments(raw) if a.get("provider"))


def _assessments(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return (raw.get("risk") or {}).get("assessments") or []


def _retail_location(raw: dict[str, Any] | None) -> str | None:
    return (raw.get("name") or "") if raw else None


def parse_payment_terms(raw: dict[str, Any] | None) -> PaymentTerms | None:
    if not raw:
        return None
    return PaymentTerms(type=str(raw.get("paymentTermsType") or "UNKNOWN"), due_in_days=raw.get("dueInDays"))


def read_order_for_erp(client: Any, order_id: str, *, where_lines_ship: bool = False) -> ErpOrderRead | None:
    """Read `order_id` for the ERP import with every line and shipping line; None when the order
    does not exist.
    `where_lines_ship`: an order shipping from several locations gets its fulfillment orders with
    their lines (`AdminClient.fulfillment_orders`), which line ships from where.

    `client` is an AdminClient (anything with `.executor.query`); errors are the client's
    classified ones (Transient for throttling / 5xx, Rejected otherwise).
    """
    runner: QueryRunner = client.executor
    raw = runner.query("OrderForErp", {"id": order_id}).get("order")
    if not raw:
        return None
    read = parse_erp_order(raw)
    more = _past_first_page(runner, order_id, raw, "lineItems", "OrderForErpLines", LINES_PER_PAGE)
    if more:
        lines = read.order.lines + [parse_order_line(line) for line in more]
        read = dataclasses.replace(read, order=dataclasses.replace(read.order, lines=lines))
    read = _with_discount_allocations(runner, order_id, read)
    read = _all_fulfillment_orders(runner, order_id, raw, read)
    order = with_every_shipping_line(runner, "OrderForErpShippingLines", order_id, raw, read.order)
    read = dataclasses.replace(read, order=order)
    if len(read.order.transactions) >= TRANSACTIONS_FIRST:
        # The first 20 may leave out the payment that went through after declined tries (a Pix or
        # card tried again and again): what each gateway kept needs every transaction.
        answer = runner.query("OrderForErpTransactions", {"id": order_id, "first": TRANSACTIONS_ALL})
        found = (answer.get("order") or {}).get("transactions") or []
        order = dataclasses.replace(read.order, transactions=[parse_transaction(t) for t in found])
        read = dataclasses.replace(read, order=order)
    if where_lines_ship and read.ships_from_several_locations:
        # Read only for an order shipping from several locations: the usual order pays no points.
        fulfillment_orders = client.fulfillment_orders(order_id)
        order = dataclasses.replace(read.order, fulfillment_orders=fulfillment_orders)
        read = dataclasses.replace(read, order=order)
    return read


def _with_discount_allocations(runner: QueryRunner, order_id: str, read: ErpOrderRead) -> ErpOrderRead:
    """`read` with each line's share of every discount (OrderLineDiscounts, the order edits' read of
    the same allocations) when its prices include a tax and some line is discounted: Shopify's
    current line values then leave the tax out (jobs.order_discounts.taxes_set_aside), and a split by
    the per-unit prices after all discounts, rounded per unit, put an order-level code's cents on the
    wrong lines (a line cut at picking took them with it: the NF-e off Shopify's total). OrderForErp
    leaves the allocations out: every other order pays no points for them."""
    discounted = any(
        line.discounted_unit_price is not None
        and line.original_unit_price is not None
        and line.discounted_unit_price.amount < line.original_unit_price.amount
        for line in read.order.lines
    )
    if not (read.taxes_in_prices and discounted):
        return read
    lines_path = ("order", "lineItems")
    nodes = paginate(runner, "OrderLineDiscounts", lines_path, {"id": order_id}, first=LINES_PER_PAGE)
    allocated = {node["id"]: allocated_discount(node.get("discountAllocations")) for node in nodes}
    lines = [
        dataclasses.replace(line, allocated_discount=allocated[line.id]) if line.id in allocated else line
        for line in read.order.lines
    ]
    return dataclasses.replace(read, order=dataclasses.replace(read.order, lines=lines))


def _all_fulfillment_orders(
    runner: QueryRunner, order_id: str, raw: dict[str, Any], read: ErpOrderRead
) -> ErpOrderRead:
    """`read` with the fulfillment orders past OrderForErp's first page (OrderForErpFulfillmentOrders):
    Shopify lists them oldest first, and every move that closes one opens another after it, so the
    open one (the company, a local pickup) can be past the fifth."""
    more = _past_first_page(
        runner,
        order_id,
        raw,
        "fulfillmentOrders",
        "OrderForErpFulfillmentOrders",
        FULFILLMENT_ORDERS_PER_PAGE,
    )
    if not more:
        return read
    found = read.order.fulfillment_orders + [parse_fulfillment_order(fo) for fo in more]
    return dataclasses.replace(read, order=dataclasses.replace(read.order, fulfillment_orders=found))


def _past_first_page(
    runner: QueryRunner, order_id: str, raw: dict[str, Any], field: str, document: str, per_page: int
) -> list[dict[str, Any]]:
    """The nodes of the order's connection `field` past the page OrderForErp read (`document` pages
    the rest, `per_page` at a time); none when that page was the last."""
    info = (raw.get(field) or {}).get("pageInfo") or {}
    if not (info.get("hasNextPage") and info.get("endCursor")):
        return []
    return list(
        paginate(
            runner, document, ("order", field), {"id": order_id}, first=per_page, after=info["endCursor"]
        )
    )


def read_payment_terms(client: Any, order_id: str) -> PaymentTerms | None:
    """The order's payment terms (OrderPaymentTerms), None when it has none or they cannot be read:
    the read needs the read_payment_terms scope, which a shop that installed the app before it
    asked for it has not granted (ACCESS_DENIED). Read only for an order waiting for payment."""
    try:
        raw = client.executor.query("OrderPaymentTerms", {"id": order_id}).get("order")
    except ShopifyGraphQLError as exc:
        if exc.code == "ACCESS_DENIED":
            return None
        raise
    return parse_payment_terms((raw or {}).get("paymentTerms"))


@dataclass(frozen=True)
class RiskAssessment:
    """One fraud analysis of an order: Shopify's own (`provider` None) or a fraud app's."""

    level: str  # HIGH | MEDIUM | LOW | NONE | PENDING (the analysis not finished)
    provider: str | None  # the app's title; None: Shopify
    facts: tuple[str, ...]  # what it found, as the provider words it


@dataclass(frozen=True)
class OrderRisk:
    """The order's risk summary (OrderRisk): the recommendation, the worst of its assessments."""

    recommendation: str | None
    assessments: tuple[RiskAssessment, ...]

    @property
    def pending(self) -> list[RiskAssessment]:
        return [a for a in self.assessments if a.level.upper() == "PENDING"]


def parse_order_risk(raw: dict[str, Any] | None) -> OrderRisk:
    raw = raw or {}
    assessments = tuple(
        RiskAssessment(
            level=str(a.get("riskLevel") or "NONE"),
            provider=(a.get("provider") or {}).get("title") or None,
            facts=tuple(str(f.get("description")) for f in a.get("facts") or [] if f.get("description")),
        )
        for a in raw.get("assessments") or []
    )
    return OrderRisk(raw.get("recommendation"), assessments)


def read_order_risk(client: Any, order_id: str) -> OrderRisk:
    """The order's risk assessments in full (OrderRisk): read only for an order its risk holds (a
    recommendation the setting holds, or an assessment still PENDING: its message says who found
    what, or whose analysis runs) and for a verdict after the import (jobs.order_risk_late)."""
    raw = client.executor.query("OrderRisk", {"id": order_id}).get("order")
    return parse_order_risk((raw or {}).get("risk"))


@dataclass(frozen=True)
class PaymentStatus:
    """What Shopify says of an order's payment now (OrderPaymentStatus)."""

    financial_status: str | None  # displayFinancialStatus
    cancelled_at: str | None


def read_payment_status(client: Any, order_id: str) -> PaymentStatus | None:
    """The order's financial status and cancellation now (OrderPaymentStatus, one point); None when
    Shopify has no such order. Read only for an order in the ERP an orders/updated says will not be
    paid, or paid again (jobs.order_payment_lost)."""
    raw = client.executor.query("OrderPaymentStatus", {"id": order_id}).get("order")
    if not raw:
        return None
    return PaymentStatus(raw.get("displayFinancialStatus"), raw.get("cancelledAt"))


def read_order_company(client: Any, order_id: str) -> CompanyBuyer | None:
    """The company a B2B order was placed for (OrderCompany): its name and the company location's
    tax registration ID; None when the order is gone or was not placed for a company.
    Read only for an order whose OrderForErp read says a company bought it (`bought_by_company`),
    so a D2C order pays no point for it."""
    raw = client.executor.query("OrderCompany", {"id": order_id}).get("order")
    return parse_company_buyer((raw or {}).get("purchasingEntity"))
