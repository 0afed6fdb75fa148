"""The checkout simulator: places realistic Brazilian orders on the shop's own catalogue.

An order takes ACTIVE variants at their current price (only what is in stock when inventory
is tracked with DENY: available goes down, committed up, as on Shopify), a generated buyer
with a BR address and a valid CPF or CNPJ (in `localizedFields` only, never in the REST
body), a shipping line, sometimes a code discount spread over the lines to the cent, and a
payment by Pix (paid), card (sold, or only authorised with manual capture), boleto
(pending until `mark_paid`) or a manual payment method collected at delivery (`cod`: Shopify's
"Cash on Delivery (COD)" or a custom manual method's name; a PENDING sale marked
manualPaymentGateway, nothing taken online, the order PENDING until the merchant marks it paid:
`mark_paid`). Shopify's fraud analysis assesses it (`Order.risk`: LOW and ACCEPT unless `risk`
asks "medium", "high" or "pending": sandbox.shopify.order_risk). Then it sends orders/create (and
orders/paid when paid), and orders/risk_assessment_changed once Shopify's assessment is in (not
while it is pending) to the apps subscribed to it.

A sale at a Shopify POS register (`pos`): sourceName "pos", the retailLocation it was rung up at
(the first line's location). "register": every item handed over at the counter, as POS does with
"Mark as fulfilled" on: no shipping line nor shipping address, one fulfillment order of delivery
method RETAIL, fulfilled at once (its units leave: committed and on hand down). "ship": POS "Ship to
customer", the items shipped from the location (a shipping line and address, a fulfillment order of
SHIPPING or LOCAL left OPEN); a line asked with "carried_out" true is handed over at the counter all
the same (POS "ship and carry out" in one order: a RETAIL fulfillment order, fulfilled, beside the
shipped one). Paid in cash (gateway "cash", a POS sale's only), the cash handed over is a SALE and
the change the till gave back a CHANGE transaction (`cash_tendered`).

Python API for the demo and tests: `place_order`, `place_orders`, `mark_paid`;
`start_simulator` / `stop_simulator` for a background rate.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stdnum.br import cnpj

from sandbox.shopify import companies, order_risk, order_store
from sandbox.shopify.checkout_people import make_buyer
from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of
from sandbox.shopify.order_documents import (
    apply_code_discount,
    customer_doc,
    line_item_doc,
    localized_fields,
    mailing_address,
    shipping_line_doc,
    tip_line_doc,
)
from sandbox.shopify.order_payloads import emit_order
from sandbox.shopify.registry import Ctx
from sandbox.shopify.resolvers.fulfillments import fulfil

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

GATEWAYS = {"pix": "Pix", "cartao": "Cartão de crédito", "boleto": "Boleto bancário"}
# Card gateways that are payments apps allowing one capture per authorisation (Brazil's usual card
# gateway: SandboxOptions.gateway_multi_capture), never picked at random: a test or a person asks.
CARD_APPS = {"mercadopago": "Mercado Pago"}
CARDS = ("cartao", *CARD_APPS)
# A card payment's brand (CardPaymentDetails.company) -> its BIN and the digits of its number; the
# checkout pays by Visa unless asked (`card_brand`): never picked at random, so seeded runs stay put.
CARD_BRANDS = {
    "Visa": ("411111", 16),
    "Mastercard": ("555555", 16),
    "Elo": ("636368", 16),
    "Hipercard": ("606282", 16),
    "American Express": ("378282", 15),
}
# Manual payment methods (never picked at random): Shopify's own COD; `gateway_name` names a custom one.
MANUAL_GATEWAYS = {"cod": "Cash on Delivery (COD)"}
# Cash taken at a POS register (a `pos` sale only, never picked at random): a SALE of the cash the
# customer handed over (`cash_tendered`, the total unless given) and, when it was more than the
# total, a CHANGE of what the till gave back.
CASH = {"cash": "Cash"}
CAPTURES = ("automatic", "manual")
POS_SALES = ("register", "ship")  # place_order(pos=...): carried out at the counter, shipped to the customer
RETAIL = "RETAIL"  # deliveryMethod.methodType of what a POS register handed over at the counter
# (title, code, carrier, price, deliveryMethod.methodType). RETIRADA is Shopify's local pickup:
# its shipping line is titled (and coded) after the pickup location, as Shopify does, so only the
# fulfillment orders' methodType (PICK_UP) says it is a pickup; the order has no shipping address.
# EXPRESSA is the store's own local delivery (LOCAL).
SHIPPING_RATES = (
    ("Correios PAC", "PAC", "correios", "19.90", "SHIPPING"),
    ("Correios SEDEX", "SEDEX", "correios", "32.50", "SHIPPING"),
    ("Entrega expressa", "EXPRESSA", None, "14.90", "LOCAL"),
    ("Retirada na loja", "RETIRADA", None, "0.00", "PICK_UP"),
)
PICK_UP = "PICK_UP"
_SHIPPED = tuple(r[1] for r in SHIPPING_RATES if r[4] != PICK_UP)  # what a POS "ship" sale may use
DISCOUNT_CODES = (("BEMVINDO10", 10.0), ("VOLTEI5", 5.0), ("SUPER15", 15.0))
MAX_RANDOM_LINES = 4
SAMPLE_SIZE = 64


@dataclass(frozen=True)
class OrderRequest:
    """What the buyer chose at checkout besides the lines (see `place_order`)."""

    gateway: str = "pix"
    capture: str = "automatic"
    gateway_name: str | None = None  # a manual method's own name (gateway "cod")
    tax_id: str | None = None
    discount_code: str | None = None
    discount_percent: float | None = None
    discount_rate: float = 0.2
    shipping: str | None = None
    note: str | None = None
    tags: tuple[str, ...] = ()
    company_rate: float = 0.15
    company_location: str | None = None  # a B2B order: placed for this CompanyLocation
    tax_rate: str | None = None  # the store charges this tax (inside the prices) on taxable lines
    pos: str | None = None  # a POS sale (POS_SALES): "register" handed over, "ship" to the customer
    carried_out: tuple[bool, ...] = ()  # per line, a POS "ship" sale's: handed over at the counter
    card_brand: str = "Visa"  # a card payment's brand (CARD_BRANDS)
    risk: str = "low"  # the level of Shopify's own risk assessment (order_risk.CHECKOUT_RISKS)
    # cart attributes a storefront app set (a delivery-date app's "Delivery-Date"...): customAttributes
    attributes: tuple[tuple[str, str], ...] = ()
    # per line asked, its line item properties (a product page's "Corte": "fatiado fino")
    line_properties: tuple[tuple[tuple[str, str], ...], ...] = ()
    tip: Decimal | None = None  # the tip the buyer added at checkout (a "Tip" line: tip_line_doc)
    cash_tendered: Decimal | None = None  # gateway "cash": the cash handed over (None: the total)


class CheckoutError(ValueError):
    """The requested order cannot be placed (unknown variant, not active, out of stock...)."""


def context(sandbox: Sandbox, shop: str) -> Ctx:
    """A resolver context for `shop` outside an HTTP request (the simulator, control routes)."""
    sandbox.shops.ensure(shop)
    return Ctx(shop=shop, sandbox=sandbox, api_key=sandbox.options.api_key)


# -- choosing what is bought ---------------------------------------------------------------
def _sellable(ctx: Ctx, variant: dict[str, Any], quantity: int) -> str | None:
    product = ctx.store.get(ctx.shop, variant["productId"])
    if not product or product["status"] != "ACTIVE":
        return None
    return order_store.choose_location(ctx, variant, quantity)


def _explicit_lines(ctx: Ctx, lines: list[dict[str, Any]]) -> list[tuple[dict, int, str]]:
    chosen = []
    for index, wanted in enumerate(lines):
        quantity = int(wanted.get("quantity", 1))
        if wanted.get("variantId"):
            variant = ctx.store.get(ctx.shop, wanted["variantId"])
        else:
            variant = ctx.store.find_one(ctx.shop, "variant.sku", str(wanted.get("sku", "")))
        if not variant or variant.get("__typename") != "ProductVariant" or quantity < 1:
            raise CheckoutError(f"lines[{index}]: no such variant or bad quantity: {wanted}")
        location = _sellable(ctx, variant, quantity)
        if location is None:
            raise CheckoutError(
                f"lines[{index}]: {variant['id']} is not active or not in stock for {quantity}"
            )
        chosen.append((variant, quantity, location))
    return chosen


def _sample_variants(ctx: Ctx, rng: random.Random) -> list[dict[str, Any]]:
    """Up to SAMPLE_SIZE variants from a random point of the catalogue, shuffled: reading a
    window instead of the whole catalogue keeps a checkout fast on 50,000 variants."""
    newest = ctx.store.next_num()  # every id so far is below this one
    window = ctx.store.scan(ctx.shop, "ProductVariant", after_num=rng.randint(0, newest), limit=SAMPLE_SIZE)
    if len(window) < SAMPLE_SIZE:
        seen = {v["id"] for v in window}
        head = ctx.store.scan(ctx.shop, "ProductVariant", limit=SAMPLE_SIZE - len(window))
        window += [v for v in head if v["id"] not in seen]
    rng.shuffle(window)
    return window


def _random_lines(ctx: Ctx, rng: random.Random) -> list[tuple[dict, int, str]]:
    candidates = _sample_variants(ctx, rng)
    chosen: list[tuple[dict, int, str]] = []
    wanted = rng.randint(1, MAX_RANDOM_LINES)
    for variant in candidates:
        if len(chosen) == wanted:
            break
        quantity = rng.choice((1, 1, 1, 2, 2, 3))
        location = _sellable(ctx, variant, quantity)
        if location is None and quantity > 1:
            quantity, location = 1, _sellable(ctx, variant, 1)
        if location is not None:
            chosen.append((variant, quantity, location))
    if not chosen:
        raise CheckoutError(f"shop {ctx.shop} has no active variant in stock")
    return chosen


# -- payment -------------------------------------------------------------------------------
def gateway_name(gateway: str, name: str | None = None) -> str:
    """The Shopify gateway name of a checkout's `gateway` (a manual method's own `name` when given)."""
    if gateway in MANUAL_GATEWAYS:
        return name or MANUAL_GATEWAYS[gateway]
    if gateway in CASH:
        return CASH[gateway]
    return CARD_APPS[gateway] if gateway in CARD_APPS else GATEWAYS[gateway]


def _pay(
    ctx: Ctx,
    order: dict[str, Any],
    gateway: str,
    capture: str,
    name: str | None = None,
    brand: str = "Visa",
    tendered: Decimal | None = None,
) -> None:
    """The first transaction: Pix and automatic card are sales, manual card an authorisation,
    boleto a pending sale, a manual method (cash on delivery) a pending sale of a manual gateway.
    A card's carries its details (CardPaymentDetails of `brand`), its authorisation code and a
    receipt with the acquirer's NSU, as Brazilian card gateways attach it. Cash at a POS register
    is a sale of the cash `tendered` and, above the total, a CHANGE of the rest given back."""
    total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
    if gateway in CASH:
        handed = total if tendered is None else tendered
        if handed < total:
            raise CheckoutError(f"cash_tendered {handed} is below the order's total {total}")
        sale = _payment(ctx, "SALE", "SUCCESS", gateway, handed, brand)
        order["_transactions"].append(sale)
        if handed > total:
            back = handed - total
            change = order_store.new_transaction(
                ctx, "CHANGE", "SUCCESS", CASH[gateway], back, parent_id=sale["id"]
            )
            change["manualPaymentGateway"] = True
            order["_transactions"].append(change)
        return
    if gateway in ("boleto", *MANUAL_GATEWAYS):
        kind, status = "SALE", "PENDING"
    elif gateway in CARDS and capture == "manual":
        kind, status = "AUTHORIZATION", "SUCCESS"
    else:
        kind, status = "SALE", "SUCCESS"
    order["_transactions"].append(_payment(ctx, kind, status, gateway, total, brand, name))


def _payment(
    ctx: Ctx, kind: str, status: str, gateway: str, amount: Decimal, brand: str, name: str | None = None
) -> dict[str, Any]:
    """A new transaction of `gateway` (a manual method's own `name` when given); a card's carries its
    details (CardPaymentDetails of `brand`), authorisation code and receipt (`_card_details`)."""
    card = "•••• •••• •••• 4242" if gateway in CARDS else None
    txn = order_store.new_transaction(ctx, kind, status, gateway_name(gateway, name), amount, account=card)
    txn["manualPaymentGateway"] = gateway in MANUAL_GATEWAYS or gateway in CASH
    if card is not None:
        _card_details(ctx, txn, brand)
    return txn


def _card_details(ctx: Ctx, txn: dict[str, Any], brand: str) -> None:
    bin_, digits = CARD_BRANDS[brand]
    last4 = "0005" if digits == 15 else "4242"
    txn["accountNumber"] = f"•••• {last4}" if digits == 15 else f"•••• •••• •••• {last4}"
    txn["authorizationCode"] = txn["authorizationCode"] or f"{ctx.store.next_num('authorization_code'):06d}"
    nsu = f"{ctx.store.next_num('card_nsu'):09d}"
    txn["receiptJson"] = json.dumps(
        {"nsu": nsu, "authorization_code": txn["authorizationCode"], "tid": f"T{nsu}"}
    )
    txn["paymentDetails"] = {
        "__typename": "CardPaymentDetails",
        "bin": bin_,
        "company": brand,
        "number": txn["accountNumber"],
        "name": None,
        "expirationMonth": 12,
        "expirationYear": 2030,
        "avsResultCode": None,
        "cvvResultCode": "M",
        "wallet": None,
        "paymentMethodName": "credit_card",
    }


def place_order(
    sandbox: Sandbox,
    shop: str,
    lines: list[dict[str, Any]] | None = None,
    gateway: str = "pix",
    capture: str = "automatic",
    seed: int | None = None,
    rng: random.Random | None = None,
    tax_id: str | None = None,
    discount_code: str | None = None,
    discount_percent: float | None = None,
    discount_rate: float = 0.2,
    shipping: str | None = None,
    note: str | None = None,
    tags: list[str] | None = None,
    company_rate: float = 0.15,
    company_location: str | None = None,
    tax_rate: str | None = None,
    gateway_name: str | None = None,
    pos: str | None = None,
    card_brand: str | None = None,
    risk: str | None = None,
    attributes: dict[str, str] | None = None,
    tip: str | None = None,
    cash_tendered: str | None = None,
) -> str:
    """Place one order and send its webhooks; returns the order gid.

    `lines`: `[{"variantId"|"sku", "quantity"}]`, each with optional "properties" ({name: value}:
    the line item properties a product page asked, the line's customAttributes) (random in-stock
    variants when None; with `pos`
    "ship", a line's "carried_out": true is handed over at the counter);
    `gateway`: pix | cartao | mercadopago (a card payments app allowing one capture) | boleto | cod
    (a manual method collected at delivery, named `gateway_name`, else "Cash on Delivery (COD)") |
    cash (a `pos` sale only: `cash_tendered`, "100.00", the cash handed over, the total unless given;
    above it, the change given back is a CHANGE transaction);
    `capture`: automatic | manual (card only);
    `tax_id`: a CPF/CNPJ to use; `discount_code` + `discount_percent` force a discount,
    otherwise one comes with probability `discount_rate`; `shipping`: a SHIPPING_RATES code;
    `company_location`: a B2B order, placed by the company's main contact for that CompanyLocation
    (sandbox.shopify.companies): its addresses are the location's and it carries a CPF/CNPJ in
    `localizedFields` only when `tax_id` is given (the contact typed one; a B2B checkout does not
    ask for it); `tax_rate` ("0.1"): the store charges a tax on taxable lines, inside the prices
    (taxesIncluded: the totals stay, currentTotalTaxSet and taxLines carry it); `pos`: a sale at a
    POS register (POS_SALES, module docstring); `card_brand`: a card payment's brand (CARD_BRANDS,
    Visa unless given); `risk`: Shopify's own fraud assessment of the order, "low" (the default:
    recommendation ACCEPT), "medium" (INVESTIGATE), "high" (CANCEL) or "pending" (no recommendation
    yet); `attributes`: cart attributes a storefront app set (a delivery-date app's
    {"Delivery-Date": "2026-12-05", "Delivery-Time": "13:00 - 14:00"}), the order's customAttributes
    after the checkout's own; `tip` ("5.00"): a tip the buyer adds (Shopify's checkout tipping), its
    own line, paid with the order. Raises CheckoutError when the lines cannot be bought or the
    location does not exist.
    """
    if attributes is not None and not _names_to_texts(attributes):
        raise CheckoutError("attributes are cart attributes: names (non-empty text) to text values")
    known = [*GATEWAYS, *CARD_APPS, *MANUAL_GATEWAYS, *CASH]
    if gateway not in known:
        raise CheckoutError(f"gateway must be one of {sorted(known)}")
    if gateway in CASH and not pos:
        raise CheckoutError("gateway cash is a sale at a POS register (pos)")
    tendered = _cash_tendered(cash_tendered, gateway)
    if gateway_name is not None and (gateway not in MANUAL_GATEWAYS or not str(gateway_name).strip()):
        raise CheckoutError("gateway_name names a manual payment method (gateway cod): non-empty text")
    if capture not in CAPTURES:
        raise CheckoutError(f"capture must be one of {CAPTURES}")
    if card_brand is not None and (gateway not in CARDS or card_brand not in CARD_BRANDS):
        raise CheckoutError(f"card_brand is a card payment's brand, one of {sorted(CARD_BRANDS)}")
    if risk is not None and (not isinstance(risk, str) or risk not in order_risk.CHECKOUT_RISKS):
        raise CheckoutError(f"risk must be one of {', '.join(order_risk.CHECKOUT_RISKS)}")
    carried_out = _carried_out(lines, pos, shipping)
    tip_amount = _tip(tip)
    rng = rng or random.Random(seed)
    ctx = context(sandbox, shop)
    with ctx.store.transaction():
        chosen = _explicit_lines(ctx, lines) if lines else _random_lines(ctx, rng)
        request = OrderRequest(
            gateway,
            capture,
            gateway_name,
            tax_id,
            discount_code,
            discount_percent,
            discount_rate,
            shipping,
            note,
            tuple(tags or ()),
            company_rate,
            company_location,
            tax_rate,
            pos,
            carried_out,
            card_brand or "Visa",
            risk or "low",
            tuple((attributes or {}).items()),
            _line_properties(lines),
            tip_amount,
            tendered,
        )
        order = _build(ctx, rng, chosen, request)
        topics = ["orders/create"] + (["orders/paid"] if order["displayFinancialStatus"] == "PAID" else [])
        emit_order(ctx, order, *topics)
        shopify_assessment = order["risk"]["assessments"][0]
        if shopify_assessment["riskLevel"] != "PENDING":  # Shopify's analysis is in: a new assessment
            order_risk.announce(ctx, order, shopify_assessment)
    return order["id"]


def _tip(tip: Any) -> Decimal | None:
    """The tip asked, as money (None: none). CheckoutError unless a positive amount."""
    return None if tip is None else _positive(tip, "tip")


def _cash_tendered(given: Any, gateway: str) -> Decimal | None:
    """The cash handed over at the register, as money (None: not given). CheckoutError unless a
    positive amount of a cash payment (gateway "cash")."""
    if given is None:
        return None
    if gateway not in CASH:
        raise CheckoutError("cash_tendered is the cash of a POS cash payment (gateway cash)")
    return _positive(given, "cash_tendered")


def _positive(given: Any, what: str) -> Decimal:
    """`given` as money; CheckoutError naming `what` unless a positive amount."""
    try:
        amount = Decimal(str(given))
    except ArithmeticError:
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0:
        raise CheckoutError(f"{what} must be a positive amount, not {given!r}")
    return amount


def _line_properties(lines: list[dict[str, Any]] | None) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Per line asked, its "properties" ({name: value}: line item properties, customAttributes)."""
    found = []
    for index, line in enumerate(lines or []):
        given = line.get("properties") or {}
        if not _names_to_texts(given):
            raise CheckoutError(f"lines[{index}].properties: names (non-empty text) to text values")
        found.append(tuple(given.items()))
    return tuple(found)


def _names_to_texts(given: Any) -> bool:
    """Whether `given` is attributes as Shopify takes them: a dict of names (non-empty text) to text."""
    pairs = given.items() if isinstance(given, dict) else None
    return pairs is not None and all(isinstance(k, str) and k and isinstance(v, str) for k, v in pairs)


def _carried_out(
    lines: list[dict[str, Any]] | None, pos: str | None, shipping: str | None
) -> tuple[bool, ...]:
    """Per line asked, whether a POS "ship" sale hands it over at the counter all the same."""
    if pos is not None and pos not in POS_SALES:
        raise CheckoutError(f"pos must be one of {POS_SALES}")
    asked = [bool(line.get("carried_out")) for line in lines or []]
    if any(asked) and pos != "ship":
        raise CheckoutError('"carried_out" is a line of a POS sale shipped to the customer (pos "ship")')
    if pos == "ship" and shipping is not None and shipping not in _SHIPPED:
        raise CheckoutError(f"a POS sale ships to the customer by one of {_SHIPPED}")
    return tuple(asked)


def _build(
    ctx: Ctx, rng: random.Random, chosen: list[tuple[dict, int, str]], request: OrderRequest
) -> dict[str, Any]:
    now = iso(ctx.now())
    if request.company_location:
        bought = _company_buyer(ctx, request)
    else:
        buyer = make_buyer(rng, request.company_rate, request.tax_id)
        address = mailing_address(ctx, buyer)
        bought = _Bought(customer_doc(ctx, buyer, address, now), address, address, buyer.tax_id, None)
    customer, address = bought.customer, bought.billing
    number = order_store.next_order_number(ctx)
    order_id = order_store.new_id(ctx, "Order")
    line_docs = [line_item_doc(ctx, variant, quantity) for variant, quantity, _ in chosen]
    for line_doc, asked in zip(line_docs, request.line_properties, strict=False):
        line_doc["customAttributes"] = [{"key": key, "value": value} for key, value in asked]
    applications: list[dict[str, Any]] = []
    discount_code, discount_percent = request.discount_code, request.discount_percent
    if discount_code is None and rng.random() < request.discount_rate:
        discount_code, discount_percent = rng.choice(DISCOUNT_CODES)
    if discount_code:
        applications = apply_code_discount(line_docs, discount_code, discount_percent or 10.0)
    rates = [r for r in SHIPPING_RATES if request.pos != "ship" or r[1] in _SHIPPED]
    rate = next((r for r in rates if r[1] == request.shipping), None) or rng.choice(rates)
    method = rate[4]
    if method == PICK_UP:  # Shopify titles a local pickup after its location, and asks no address
        where = (ctx.store.get(ctx.shop, chosen[0][2]) or {}).get("name") or "Loja"
        rate, address_shipped = (where, where, None, rate[3], method), None
    else:
        address_shipped = bought.shipping
    if request.pos == "register":  # handed over at the counter: nothing to ship, no shipping line
        rate, method, address_shipped = ("Retail", None, None, "0.00", RETAIL), RETAIL, None
    shipping_lines = [] if method == RETAIL else [shipping_line_doc(ctx, rate[:4])]
    register = _register(chosen, request, number)
    token = f"{rng.getrandbits(128):032x}"  # seeded: the same seed places the same orders
    order: dict[str, Any] = {
        "__typename": "Order",
        "id": order_id,
        "legacyResourceId": str(num_of(order_id)),
        "name": f"#{number}",
        "number": number,
        "confirmationNumber": f"{rng.getrandbits(36):09X}"[:9],
        "createdAt": now,
        "updatedAt": now,
        "processedAt": now,
        "closedAt": None,
        "cancelledAt": None,
        "cancelReason": None,
        "cancellation": None,
        "closed": False,
        "confirmed": True,
        "test": False,
        "edited": False,
        "email": customer["email"],
        "phone": customer["phone"],
        "currencyCode": "BRL",
        "presentmentCurrencyCode": "BRL",
        "customerId": customer["id"],
        "customerLocale": "pt-BR",
        "customerAcceptsMarketing": False,
        "shippingAddress": address_shipped,
        "billingAddress": address,
        "displayAddress": address,
        "billingAddressMatchesShippingAddress": address_shipped is not None
        and _same_place(address, address_shipped),
        "note": request.note,
        "tags": list(request.tags),
        "customAttributes": ([] if request.pos else [{"key": "origem", "value": "loja online"}])
        + [{"key": key, "value": value} for key, value in request.attributes],
        "discountCode": discount_code or None,
        "discountCodes": [discount_code] if discount_code else [],
        "paymentGatewayNames": [gateway_name(request.gateway, request.gateway_name)],
        "sourceName": "pos" if request.pos else "web",
        "sourceIdentifier": register.get("sourceIdentifier"),
        "taxesIncluded": True,
        "taxExempt": False,
        "estimatedTaxes": False,
        "dutiesIncluded": False,
        "checkoutToken": token,
        "cartToken": None,
        "clientIp": None,
        "poNumber": None,
        "registeredSourceUrl": None,
        "statusPageUrl": f"https://{ctx.shop}.myshopify.com/{num_of(order_id)}/orders/{token}/authenticate",
        "canNotifyCustomer": True,
        "hasTimelineComment": False,
        "productNetwork": False,
        "returnStatus": "NO_RETURN",
        "alerts": [],
        "additionalFees": [],
        "disputes": [],
        "paymentTerms": None,
        "retailLocation": None,
        "staffMember": None,
        "app": None,
        "risk": order_risk.at_checkout(order_risk.CHECKOUT_RISKS[request.risk], now),
        "_checkoutId": ctx.store.next_num(),
        "_lines": line_docs,
        "_shippingLines": shipping_lines,
        "_deliveryMethod": {"methodType": method, "presentedName": rate[0], "serviceCode": rate[1]},
        "_discountApplications": applications,
        "_transactions": [],
        "_fulfillmentOrders": [],
        "_fulfillments": [],
        # The CPF/CNPJ typed at checkout, masked or not as the buyer typed it.
        "_localizedFields": localized_fields(bought.tax_id, masked=rng.random() < 0.5)
        if bought.tax_id
        else [],
        "_purchasingCompany": bought.purchasing_company,
        "_taxRate": request.tax_rate,
        "_retailLocationId": register.get("_retailLocationId"),
    }
    carried = [
        request.pos == "register" or counter for counter in request.carried_out or [False] * len(chosen)
    ]
    handed: dict[str, dict[str, Any]] = {}  # the RETAIL fulfillment orders, by id
    for line_doc, (variant, quantity, location), counter in zip(line_docs, chosen, carried, strict=True):
        kind = RETAIL if counter else method  # a POS sale's items handed over and shipped: two groups
        fo = order_store.add_to_fulfillment_order(ctx, order, line_doc, location, kind)
        order_store.commit_stock(ctx, variant["id"], location, quantity)
        if counter:
            handed[fo["id"]] = fo
    if request.tip is not None:  # no goods: on no fulfillment order, no stock
        order["_lines"].append(tip_line_doc(ctx, request.tip))
    order_store.save(ctx, order)
    if handed:  # POS "Mark as fulfilled": what the customer took leaves at once
        fulfil(
            ctx,
            order,
            [(fo, [(i, i["remainingQuantity"]) for i in fo["_lineItems"]]) for fo in handed.values()],
        )
        order_store.save(ctx, order)
    _pay(ctx, order, request.gateway, request.capture, request.gateway_name, request.card_brand,
         request.cash_tendered)  # fmt: skip
    return order_store.save(ctx, order)


def _register(chosen: list[tuple[dict, int, str]], request: OrderRequest, number: int) -> dict[str, Any]:
    """A POS sale's register: the location it was rung up at (the first line's) and its
    sourceIdentifier ("<location>-<register>-<sale>"); nothing for an online order."""
    if not request.pos:
        return {}
    location = chosen[0][2]
    return {"_retailLocationId": location, "sourceIdentifier": f"{num_of(location)}-1-{number}"}


@dataclass(frozen=True)
class _Bought:
    """Who buys: the customer document, the order's addresses, the CPF/CNPJ typed at checkout (none:
    a B2B checkout that did not ask) and, for a B2B order, the PurchasingCompany's ids (companyId,
    locationId, contactId)."""

    customer: dict[str, Any]
    billing: dict[str, Any]
    shipping: dict[str, Any] | None
    tax_id: str | None
    purchasing_company: dict[str, str] | None


def _company_buyer(ctx: Ctx, request: OrderRequest) -> _Bought:
    """A B2B checkout: the company's main contact buys for the location, whose billing and shipping
    addresses the order takes; a CPF/CNPJ only when the contact typed one (`tax_id`)."""
    try:
        company, location, contact = companies.buyer_of(ctx, request.company_location or "")
    except companies.CompanyError as error:
        raise CheckoutError(str(error)) from None
    customer = ctx.store.get(ctx.shop, contact["_customerId"]) or {}
    billing = companies.mailing_from(ctx, location["billingAddress"])
    if billing is None:
        raise CheckoutError(f"company location {location['id']} has no billing address")
    shipping = companies.mailing_from(ctx, location["shippingAddress"]) or billing
    typed = cnpj.compact(request.tax_id) if request.tax_id else None
    ids = {"companyId": company["id"], "locationId": location["id"], "contactId": contact["id"]}
    return _Bought(customer, billing, shipping, typed, ids)


def _same_place(billing: dict[str, Any], shipping: dict[str, Any]) -> bool:
    keys = ("firstName", "lastName", "company", "address1", "address2", "city", "provinceCode", "zip")
    return all(billing.get(k) == shipping.get(k) for k in keys)


def place_orders(
    sandbox: Sandbox, shop: str, count: int, seed: int | None = None, **options: Any
) -> list[str]:
    """`count` orders from one seeded generator (gateway / capture random unless given)."""
    rng = random.Random(seed)
    placed = []
    for _ in range(count):
        chosen = dict(options)
        chosen.setdefault("gateway", rng.choice(tuple(GATEWAYS)))
        if chosen["gateway"] == "cartao":
            chosen.setdefault("capture", rng.choice(CAPTURES))
        placed.append(place_order(sandbox, shop, rng=rng, **chosen))
    return placed


@contextmanager
def _order_change(sandbox: Sandbox, shop: str, order_id: str, *topics: str) -> Iterator[tuple[Ctx, dict]]:
    """One change to a placed order, as its buyer's payment brings it: the order (CheckoutError when
    the shop has none such) in a transaction, saved and its webhooks sent afterwards."""
    ctx = context(sandbox, shop)
    with ctx.store.transaction():
        order = order_store.get(ctx, order_id)
        if order is None:
            raise CheckoutError(f"no order {order_id} in {shop}")
        yield ctx, order
        order_store.save(ctx, order)
        emit_order(ctx, order, *topics)


def mark_paid(sandbox: Sandbox, shop: str, order_id: str) -> dict[str, Any]:
    """The buyer paid: a pending boleto sale succeeds, an open authorisation is captured in full
    (final). Sends orders/paid and orders/updated. Returns the order document."""
    with _order_change(sandbox, shop, order_id, "orders/paid", "orders/updated") as (ctx, order):
        for txn in order["_transactions"]:
            if txn["kind"] == "SALE" and txn["status"] == "PENDING":
                txn["status"], txn["processedAt"] = "SUCCESS", iso(ctx.now())
        for txn in list(order["_transactions"]):
            if txn["kind"] == "AUTHORIZATION" and txn["manuallyCapturable"]:
                remaining = Decimal(txn["totalUnsettledSet"]["shopMoney"]["amount"])
                order["_transactions"].append(
                    order_store.new_transaction(
                        ctx,
                        "CAPTURE",
                        "SUCCESS",
                        txn["gateway"],
                        remaining,
                        parent_id=txn["id"],
                        account=txn["accountNumber"],
                    )
                )
                txn["_closed"] = True
    return order


def pay_balance(
    sandbox: Sandbox, shop: str, order_id: str, gateway: str = "pix", card_brand: str = "Visa"
) -> dict[str, Any]:
    """The buyer paid what the order still owes (totalOutstandingSet: an edit raised its total) by a
    sale of `gateway`; a card's carries its details (`card_brand`, CARD_BRANDS), authorisation code and
    receipt, as the checkout's. Sends orders/paid and orders/updated. Returns the order document."""
    if gateway in CARDS and card_brand not in CARD_BRANDS:
        raise CheckoutError(f"card_brand is a card payment's brand, one of {sorted(CARD_BRANDS)}")
    with _order_change(sandbox, shop, order_id, "orders/paid", "orders/updated") as (ctx, order):
        owed = Decimal(order["totalOutstandingSet"]["shopMoney"]["amount"])
        if owed > 0:
            order["_transactions"].append(_payment(ctx, "SALE", "SUCCESS", gateway, owed, card_brand))
    return order


def expire_authorizations(sandbox: Sandbox, shop: str, order_id: str) -> dict[str, Any]:
    """The manual-capture authorisations of an order lapsed uncaptured (card networks hold them
    about 7 days): nothing is capturable any more, their authorizationExpiresAt has passed, and
    Shopify shows EXPIRED. Sends orders/updated. Returns the order document."""
    with _order_change(sandbox, shop, order_id, "orders/updated") as (ctx, order):
        for txn in order["_transactions"]:
            if txn["kind"] == "AUTHORIZATION" and not txn["_closed"]:
                txn["_closed"] = True
                txn["authorizationExpiresAt"] = iso(ctx.now())
    return order
