"""Typed orders (Order.graphql / OrderFields fragment) and order-edit results, parsed purely.

The order is what the ERP import needs: lines with SKU, variant and current quantity, prices
in the shop currency, discounts, shipping, transactions (for capture and the payment form),
addresses, and the Brazilian tax id (CPF/CNPJ) that only `localizedFields` carries. A B2B order
(`purchasingEntity` a PurchasingCompany) says so; its company (CompanyBuyer: name, the company
location and its tax registration ID) is read apart (OrderCompany) and attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from ledger.digest import digest
from shopify_app.admin_api import order_tips
from shopify_app.admin_api.results import Money, gid, nodes, parse_money_bag, require

TAX_CREDENTIAL_BR = "TAX_CREDENTIAL_BR"
SHIPPING_CREDENTIAL_BR = "SHIPPING_CREDENTIAL_BR"
PICK_UP = "PICK_UP"  # DeliveryMethodType of a local pickup (the customer collects the order)
PURCHASING_COMPANY = "PurchasingCompany"  # Order.purchasingEntity of a B2B order


@dataclass(frozen=True)
class OrderLine:
    id: str
    sku: str | None
    name: str
    quantity: int
    current_quantity: int
    variant_id: str | None
    original_unit_price: Money | None
    discounted_unit_price: Money | None
    total_discount: Money | None
    gift_card: bool = False  # the sale of a gift card: money, not goods the ERP invoices
    requires_shipping: bool = True
    # Sum of discountAllocations: every discount on the line, order-level codes included, in exact
    # cents, for the ORIGINAL quantity (removed units included). None: not read.
    allocated_discount: Decimal | None = None
    # priceAfterAllDiscountsBeforeTaxesSet: the line's value after every discount, removed units
    # left out (Shopify's own current figure, exact cents). None: not read.
    current_total: Money | None = None
    unfulfilled_quantity: int | None = None  # units not yet fulfilled (None: not read)
    # line item properties (customAttributes), in the order given; {} when none or not read
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def tip_shaped(self) -> bool:
        """Shaped like the line Shopify lists a tip as: no product variant, ships nothing. A custom
        item added by an order edit (orderEditAddCustomItem: requiresShipping false by default) has
        the same shape; Order.tip_lines tells them apart by the order's tip total."""
        return not self.gift_card and self.variant_id is None and not self.requires_shipping


@dataclass(frozen=True)
class Transaction:
    id: str
    gateway: str | None
    kind: str
    status: str
    amount: Money | None
    parent_id: str | None
    # manuallyCapturable: an authorisation Shopify still lets be captured (False once voided,
    # captured in full or lapsed). None: not read.
    manually_capturable: bool | None = None
    error_code: str | None = None  # why it failed (OrderTransactionErrorCode), when read
    manual: bool | None = None  # manualPaymentGateway: a manual payment method's (None: not read)
    # The order's displayFinancialStatus read with it (orderCapture's answer; None: not read).
    order_financial_status: str | None = None
    # accountNumber: the masked account (a card's number) the payment was made with; None: none or
    # not read. A paying transaction with one is a card payment (jobs.card_payments).
    account_number: str | None = None


@dataclass(frozen=True)
class Address:
    first_name: str | None
    last_name: str | None
    company: str | None
    address1: str | None
    address2: str | None
    city: str | None
    province: str | None
    province_code: str | None
    zip: str | None
    country_code: str | None
    phone: str | None


def address_digest(address: Address | None) -> str:
    """A shipping address as a digest (no personal data kept): what jobs.order_edits.address
    records and compares, and the hand link (shopify_app.api_orders) records as its baseline."""
    return digest([getattr(address, f.name) or None for f in fields(Address)] if address else None)


@dataclass(frozen=True)
class LocalizedField:
    key: str
    value: str
    purpose: str | None
    country_code: str | None


@dataclass(frozen=True)
class ShippingLine:
    id: str | None
    title: str
    code: str | None
    source: str | None
    original_price: Money | None
    discounted_price: Money | None
    current_price: Money | None = None  # after refunds and discounts (None: not read)
    removed: bool = False


@dataclass(frozen=True)
class DiscountApplication:
    allocation_method: str | None
    target_type: str | None
    amount: Money | None
    percentage: Decimal | None


@dataclass(frozen=True)
class FulfillmentOrderLine:
    id: str
    line_item_id: str | None
    remaining_quantity: int
    total_quantity: int


@dataclass(frozen=True)
class FulfillmentOrder:
    id: str
    status: str
    location_id: str | None
    lines: list[FulfillmentOrderLine] = field(default_factory=list)
    # deliveryMethod.methodType: PICK_UP (the customer collects it at the location), LOCAL (the
    # store's own delivery), SHIPPING, PICKUP_POINT (a carrier's collection point), NONE, RETAIL;
    # None when not read or Shopify gave none.
    method_type: str | None = None
    # requestStatus: UNSUBMITTED unless a fulfillment service was asked to fulfil it (SUBMITTED,
    # ACCEPTED, CANCELLATION_REQUESTED...); None when not read.
    request_status: str | None = None
    location_name: str | None = None  # assignedLocation.name (a fulfillment service's: its name)

    @property
    def pickup(self) -> bool:
        """Collected by the customer at the fulfillment order's location (Shopify local pickup)."""
        return self.method_type == PICK_UP


@dataclass(frozen=True)
class Customer:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None


@dataclass(frozen=True)
class CompanyBuyer:
    """The company a B2B order was placed for (purchasingEntity PurchasingCompany): the company's
    name and the company location it bought through, with the location's tax registration ID (in
    Brazil its CNPJ, as the merchant typed it). Not its addresses: the company's ERP register keeps
    its own (jobs.order_customer)."""

    company_id: str
    name: str
    location_id: str
    location_name: str
    tax_registration_id: str | None


@dataclass(frozen=True)
class Order:
    id: str
    name: str
    created_at: str | None
    updated_at: str | None
    cancelled_at: str | None
    financial_status: str | None
    fulfillment_status: str | None
    note: str | None
    email: str | None
    phone: str | None
    tags: list[str]
    payment_gateway_names: list[str]
    currency: str | None
    custom_attributes: dict[str, str]
    customer: Customer | None
    shipping_address: Address | None
    billing_address: Address | None
    localized_fields: list[LocalizedField]
    subtotal: Money | None
    total: Money | None
    total_discounts: Money | None
    total_shipping: Money | None
    lines: list[OrderLine]
    discounts: list[DiscountApplication]
    shipping_lines: list[ShippingLine]
    transactions: list[Transaction]
    metafields: dict[str, str]
    fulfillment_orders: list[FulfillmentOrder]
    tips: Money | None = None  # totalTipReceivedSet (None: not read)
    current_total: Money | None = None  # currentTotalPriceSet, after edits and refunds (None: not read)
    # purchasingEntity's __typename: "PurchasingCompany" (B2B), "Customer", None (none, or not read)
    purchasing_entity: str | None = None
    company: CompanyBuyer | None = None  # a B2B order's company, read apart (OrderCompany)

    @property
    def bought_by_company(self) -> bool:
        """Placed for a company location (Shopify B2B): the ERP customer is the company."""
        return self.purchasing_entity == PURCHASING_COMPANY

    def tip_lines(self) -> list[OrderLine]:
        """The current lines that are the order's tip: the tip-shaped lines whose values add up
        exactly to totalTipReceivedSet (order_tips: titled as a tip and later lines preferred);
        none when no set does. Any other tip-shaped line is a custom item."""
        return order_tips.tip_lines(self.lines, self.tips.amount if self.tips else Decimal(0))

    def localized(self, key: str) -> str | None:
        return next((f.value for f in self.localized_fields if f.key == key and f.value), None)

    @property
    def paid(self) -> Decimal:
        """What the order was paid on the transactions read, as Shopify's "Paid": successful SALE and
        CAPTURE, less the CHANGE handed back at a till for cash tendered over the total (no refund:
        the customer never paid it); refunds not taken off; an authorisation not captured is not paid."""
        sign = {"SALE": 1, "CAPTURE": 1, "CHANGE": -1}
        return sum(
            (sign[t.kind] * t.amount.amount for t in self.transactions
             if t.status == "SUCCESS" and t.kind in sign and t.amount is not None),
            Decimal(0),
        )  # fmt: skip

    @property
    def tax_id(self) -> str | None:
        """The buyer's CPF/CNPJ as typed at checkout (TAX_CREDENTIAL_BR), else the shipping one."""
        return self.localized(TAX_CREDENTIAL_BR) or self.localized(SHIPPING_CREDENTIAL_BR)


def parse_address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    return Address(
        first_name=raw.get("firstName"),
        last_name=raw.get("lastName"),
        company=raw.get("company"),
        address1=raw.get("address1"),
        address2=raw.get("address2"),
        city=raw.get("city"),
        province=raw.get("province"),
        province_code=raw.get("provinceCode"),
        zip=raw.get("zip"),
        country_code=raw.get("countryCodeV2"),
        phone=raw.get("phone"),
    )


def parse_transaction(raw: dict[str, Any]) -> Transaction:
    return Transaction(
        id=require(raw, "id", "transaction"),
        gateway=raw.get("gateway"),
        kind=raw.get("kind", ""),
        status=raw.get("status", ""),
        amount=parse_money_bag(raw.get("amountSet")),
        parent_id=gid(raw.get("parentTransaction")),
        manually_capturable=raw.get("manuallyCapturable"),
        error_code=raw.get("errorCode"),
        manual=raw.get("manualPaymentGateway"),
        order_financial_status=(raw.get("order") or {}).get("displayFinancialStatus"),
        account_number=raw.get("accountNumber") or None,
    )


def parse_order_line(raw: dict[str, Any]) -> OrderLine:
    return OrderLine(
        id=require(raw, "id", "lineItem"),
        sku=raw.get("sku") or None,
        name=raw.get("name", ""),
        quantity=int(raw.get("quantity") or 0),
        current_quantity=int(raw.get("currentQuantity") or 0),
        variant_id=gid(raw.get("variant")),
        original_unit_price=parse_money_bag(raw.get("originalUnitPriceSet")),
        discounted_unit_price=parse_money_bag(raw.get("discountedUnitPriceAfterAllDiscountsSet")),
        total_discount=parse_money_bag(raw.get("totalDiscountSet")),
        gift_card=bool(raw.get("isGiftCard")),
        requires_shipping=raw.get("requiresShipping") is not False,
        allocated_discount=allocated_discount(raw.get("discountAllocations")),
        current_total=parse_money_bag(raw.get("priceAfterAllDiscountsBeforeTaxesSet")),
        unfulfilled_quantity=_int_or_none(raw.get("unfulfilledQuantity")),
        properties={a["key"]: a.get("value") or "" for a in raw.get("customAttributes") or []},
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def allocated_discount(allocations: list[dict[str, Any]] | None) -> Decimal | None:
    """The sum of a line's discountAllocations (None: not read)."""
    if allocations is None:
        return None
    amounts = (parse_money_bag(a.get("allocatedAmountSet")) for a in allocations)
    return sum((m.amount for m in amounts if m is not None), Decimal(0))


def parse_discount(raw: dict[str, Any]) -> DiscountApplication:
    value = raw.get("value") or {}
    amount = Money(Decimal(str(value["amount"])), value["currencyCode"]) if "amount" in value else None
    percentage = Decimal(str(value["percentage"])) if "percentage" in value else None
    return DiscountApplication(raw.get("allocationMethod"), raw.get("targetType"), amount, percentage)


def parse_fulfillment_order(raw: dict[str, Any]) -> FulfillmentOrder:
    return FulfillmentOrder(
        id=require(raw, "id", "fulfillmentOrder"),
        status=raw.get("status", ""),
        location_id=gid((raw.get("assignedLocation") or {}).get("location")),
        method_type=(raw.get("deliveryMethod") or {}).get("methodType"),
        request_status=raw.get("requestStatus"),
        location_name=(raw.get("assignedLocation") or {}).get("name"),
        lines=[
            FulfillmentOrderLine(
                id=line["id"],
                line_item_id=gid(line.get("lineItem")),
                remaining_quantity=int(line.get("remainingQuantity") or 0),
                total_quantity=int(line.get("totalQuantity") or 0),
            )
            for line in nodes(raw.get("lineItems"))
        ],
    )


def parse_customer(raw: dict[str, Any] | None) -> Customer | None:
    if not raw:
        return None
    return Customer(
        id=raw["id"],
        first_name=raw.get("firstName"),
        last_name=raw.get("lastName"),
        email=(raw.get("defaultEmailAddress") or {}).get("emailAddress"),
    )


def parse_company_buyer(raw: dict[str, Any] | None) -> CompanyBuyer | None:
    """The CompanyBuyer of an OrderCompany `purchasingEntity`; None unless a PurchasingCompany."""
    if not raw or raw.get("__typename") != PURCHASING_COMPANY:
        return None
    company = require(raw, "company", "purchasingEntity")
    location = require(raw, "location", "purchasingEntity")
    return CompanyBuyer(
        company_id=require(company, "id", "company"),
        name=company.get("name") or "",
        location_id=require(location, "id", "company location"),
        location_name=location.get("name") or "",
        tax_registration_id=(location.get("taxSettings") or {}).get("taxRegistrationId") or None,
    )


def parse_order(raw: dict[str, Any]) -> Order:
    """An Order from the OrderFields selection."""
    return Order(
        id=require(raw, "id", "order"),
        name=raw.get("name", ""),
        created_at=raw.get("createdAt"),
        updated_at=raw.get("updatedAt"),
        cancelled_at=raw.get("cancelledAt"),
        financial_status=raw.get("displayFinancialStatus"),
        fulfillment_status=raw.get("displayFulfillmentStatus"),
        note=raw.get("note"),
        email=raw.get("email"),
        phone=raw.get("phone"),
        tags=list(raw.get("tags") or []),
        payment_gateway_names=list(raw.get("paymentGatewayNames") or []),
        currency=raw.get("currencyCode"),
        custom_attributes={a["key"]: a.get("value") or "" for a in raw.get("customAttributes") or []},
        customer=parse_customer(raw.get("customer")),
        shipping_address=parse_address(raw.get("shippingAddress")),
        billing_address=parse_address(raw.get("billingAddress")),
        localized_fields=[
            LocalizedField(f["key"], f.get("value") or "", f.get("purpose"), f.get("countryCode"))
            for f in nodes(raw.get("localizedFields"))
        ],
        subtotal=parse_money_bag(raw.get("subtotalPriceSet")),
        total=parse_money_bag(raw.get("totalPriceSet")),
        total_discounts=parse_money_bag(raw.get("totalDiscountsSet")),
        total_shipping=parse_money_bag(raw.get("totalShippingPriceSet")),
        lines=[parse_order_line(line) for line in nodes(raw.get("lineItems"))],
        discounts=[parse_discount(d) for d in nodes(raw.get("discountApplications"))],
        shipping_lines=[parse_shipping_line(s) for s in nodes(raw.get("shippingLines"))],
        transactions=[parse_transaction(t) for t in raw.get("transactions") or []],
        metafields={f"{m['namespace']}.{m['key']}": m.get("value", "") for m in nodes(raw.get("metafields"))},
        fulfillment_orders=[parse_fulfillment_order(f) for f in nodes(raw.get("fulfillmentOrders"))],
        tips=parse_money_bag(raw.get("totalTipReceivedSet")),
        current_total=parse_money_bag(raw.get("currentTotalPriceSet")),
        purchasing_entity=(raw.get("purchasingEntity") or {}).get("__typename"),
    )


def parse_shipping_line(raw: dict[str, Any]) -> ShippingLine:
    """A ShippingLine from OrderShippingLineFields or ErpShippingLineFields."""
    return ShippingLine(
        id=raw.get("id"),
        title=raw.get("title", ""),
        code=raw.get("code"),
        source=raw.get("source"),
        original_price=parse_money_bag(raw.get("originalPriceSet")),
        discounted_price=parse_money_bag(raw.get("discountedPriceSet")),
        current_price=parse_money_bag(raw.get("currentDiscountedPriceSet")),
        removed=bool(raw.get("isRemoved")),
    )


@dataclass(frozen=True)
class OrderSummary:
    """One row of the reconciliation listing (orders updated since a moment)."""

    id: str
    name: str
    updated_at: str
    cancelled_at: str | None
    financial_status: str | None
    fulfillment_status: str | None


def parse_order_summary(raw: dict[str, Any]) -> OrderSummary:
    return OrderSummary(
        id=require(raw, "id", "order"),
        name=raw.get("name", ""),
        updated_at=require(raw, "updatedAt", "order"),
        cancelled_at=raw.get("cancelledAt"),
        financial_status=raw.get("displayFinancialStatus"),
        fulfillment_status=raw.get("displayFulfillmentStatus"),
    )


@dataclass(frozen=True)
class CalculatedLine:
    id: str
    sku: str | None
    quantity: int
    variant_id: str | None


@dataclass(frozen=True)
class CommittedEdit:
    """orderEditCommit's answer: the order and its current total after the edit (None: not given)."""

    order_id: str
    current_total: Money | None


def parse_committed_edit(payload: dict[str, Any]) -> CommittedEdit:
    order = payload.get("order")
    return CommittedEdit(
        require(order, "id", "orderEditCommit.order"),
        parse_money_bag((order or {}).get("currentTotalPriceSet")),
    )


@dataclass(frozen=True)
class OrderEdit:
    """An open order edit (orderEditBegin): the calculated order's id and its lines."""

    calculated_order_id: str
    lines: list[CalculatedLine]

    def line_for_variant(self, variant_id: str) -> CalculatedLine | None:
        return next((line for line in self.lines if line.variant_id == variant_id), None)

    def lines_for_variant(self, variant_id: str) -> list[CalculatedLine]:
        return [line for line in self.lines if line.variant_id == variant_id]

    def line_for_item(self, line_item_id: str) -> CalculatedLine | None:
        """The calculated line of one of the order's lines. CalculatedLineItem has no field naming
        its LineItem (2026-10 schema); Shopify gives it the LineItem's number instead
        (gid://shopify/LineItem/N is gid://shopify/CalculatedLineItem/N in the edit)."""
        number = line_item_id.rsplit("/", 1)[-1]
        return next((line for line in self.lines if line.id.rsplit("/", 1)[-1] == number), None)


def parse_calculated_line(line: dict[str, Any]) -> CalculatedLine:
    return CalculatedLine(
        id=line["id"],
        sku=line.get("sku") or None,
        quantity=int(line.get("quantity") or 0),
        variant_id=gid(line.get("variant")),
    )


def parse_order_edit(payload: dict[str, Any]) -> OrderEdit:
    """The open edit with the lines orderEditBegin carried (its first page: order_edit_lines reads
    the rest)."""
    calculated = require(payload, "calculatedOrder", "orderEditBegin")
    return OrderEdit(
        calculated_order_id=require(calculated, "id", "calculatedOrder"),
        lines=[parse_calculated_line(line) for line in nodes(calculated.get("lineItems"))],
    )
