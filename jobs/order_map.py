"""Pure mapping: a Shopify order (as read for the ERP) -> the ERP's OrderInput. No I/O.

Why pure: the money path is arithmetic, and arithmetic is tested best without a network.

- Customer (clienteDto): jobs/order_customer.py (validated CPF/CNPJ with its own person's name
  and address; a B2B order's company with its location's CNPJ); every delivery's shipping
  address is named in obsPedido (the customer's register is rewritten by the next order).
- Lines: each line's variant binding gives seqProduto / qtdEmbalagem / EAN; weighed items
  sell in units of the binding's `unit_kg` kg (jobs/catalog_map.py: 1 kg), so the ERP quantity
  is kg.
  Lines removed by an edit (current quantity 0) are left out.
- Money: the ERP total must equal Shopify's current total to the cent, less what no ERP line
  carries: tips and gift cards sold, each at its lines' current value (tips_now). Each line goes at its
  Shopify unit price; the difference between the gross and Shopify's current subtotal (line
  and order discounts) is split per line by jobs.order_discounts: each line ends at Shopify's
  own current value for it (priceAfterAllDiscountsBeforeTaxesSet), so the sum is exact and no
  line's discount is above its value; a store charging a tax inside its prices has that value
  without the tax, so the discount then goes by the unit prices after all discounts
  (jobs.order_discounts.taxes_set_aside). Freight = the shipping lines' discounted prices.
- Intermediary (indIntermediador, NF-e layout 4.00): 1 when the order's sourceName is one of the
  shop's `marketplace_sources` (sold on a third party's marketplace), else 0 (the store's own).
- Payments: every gateway maps to an ERP payment form (De:Para kind payment_method); gateway
  names compare case-folded, whitespace collapsed (ledger.mappings.gateway_key). An order with
  something to pay that no gateway paid (created as paid by another app, no transaction) maps by
  the code "(no payment)" (ledger.mappings.NO_PAYMENT): never posted without a payment form.
- Pay on delivery ("pagamento na entrega": cash or the driver's card machine): a Shopify manual
  payment method the shop lists in its setting `pay_on_delivery_gateways` leaves the order PENDING
  with a PENDING sale and no money taken online. Such an order goes when that is all it waits for
  (pays_on_delivery); the rest of its total goes under that method's ERP payment form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from erp.nfe_text import nfe_text
from erp.records import (
    OWN_PLATFORM,
    THIRD_PARTY_PLATFORM,
    OrderInput,
    OrderLineInput,
    PaymentInput,
    parse_sku,
)
from erp.text_width import whole_parts
from jobs.order_customer import InvalidTaxId, TaxId, delivery_obs, map_customer, validate_tax_id
from jobs.order_discounts import (
    CENT,
    ZERO,
    LineMoney,
    cents,
    discount_shares,
    distribute_cents,
    line_money,
    taxes_set_aside,
)
from jobs.order_line_note import line_note
from jobs.order_slot import delivery_slot
from ledger.bindings import VARIANT_KIND
from ledger.errors import MappingMissing, Rejected
from ledger.mappings import NO_PAYMENT, gateway_key
from ledger.words import Words
from shopify_app.admin_api.order_import_ops import ENDED, ErpOrderRead
from shopify_app.admin_api.order_results import PICK_UP, FulfillmentOrder, Order, OrderLine, Transaction
from shopify_app.admin_api.order_settlement import tip_value

__all__ = [
    "CENT",
    "ZERO",
    "InvalidTaxId",
    "LineMoney",
    "TaxId",
    "cents",
    "discount_shares",
    "distribute_cents",
    "map_customer",
    "map_order",
    "validate_tax_id",
]

PAYMENT_METHOD = "payment_method"
CARRIER = "carrier"
VARIANT = VARIANT_KIND
# displayFinancialStatus values that let an order go to the ERP, per shop setting payment_confirmation.
READY_STATUSES: dict[str, frozenset[str]] = {
    "paid": frozenset({"PAID", "PARTIALLY_REFUNDED"}),
    "authorized": frozenset({"PAID", "PARTIALLY_REFUNDED", "AUTHORIZED", "PARTIALLY_PAID"}),
}
# displayFinancialStatus values of an order nothing will pay as it stands (an authorisation that
# lapsed or was voided, all money given back): not waited for (jobs.orders skips it).
WILL_NOT_BE_PAID = frozenset({"EXPIRED", "VOIDED", "REFUNDED"})
# displayFinancialStatus values of an order whose rest may be collected at delivery (pays_on_delivery):
# nothing paid online (PENDING), a gift card or a capture took part (PARTIALLY_PAID, PARTIALLY_REFUNDED
# when part of that was given back), a card authorised part (AUTHORIZED).
ON_DELIVERY_STATUSES = frozenset({"PENDING", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "AUTHORIZED"})
PICKUP_WORDS = ("retirada", "retirar", "pickup", "pick up", "pick-up")
# The refusal codes of an order (or an edit: jobs.order_edits.held) that would leave the ERP order
# totalling other than what Shopify charges (check_total; map_lines' goods subtotal too)
TAXES_ADDED, TOTALS_MISMATCH = "TAXES_ADDED", "TOTALS_MISMATCH"


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class VariantInfo:
    """What a "variant" binding says about the ERP SKU behind a Shopify variant."""

    id_sku: str
    seq_produto: int
    qtd_embalagem: Decimal
    ean: str | None = None
    weighed: bool = False
    sale_unit_kg: Decimal = Decimal("1")

    @classmethod
    def from_binding(cls, erp_id: str, data: Mapping[str, Any]) -> VariantInfo:
        return cls(
            id_sku=erp_id,
            seq_produto=int(data["seq_produto"]),
            qtd_embalagem=Decimal(str(data.get("qtd_embalagem") or 1)),
            ean=data.get("ean") or None,
            weighed=bool(data.get("weighed")),
            # "unit_kg" is the key the catalog writes (jobs/catalog_ledger.py); "sale_unit_kg" an older one.
            sale_unit_kg=Decimal(str(data.get("unit_kg") or data.get("sale_unit_kg") or 1)),
        )


class BoundVariants(dict[str, VariantInfo]):
    """Line id -> the ERP SKU its variant is bound to (jobs.order_lookup.variants_for), and `copies`:
    the lines whose live variant carries a bound SKU but is not the variant bound to it (a copy of
    the app's product made in Shopify), which no binding will ever map."""

    copies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OrderTarget:
    """Where and how the order lands in the ERP (store link, settings, company)."""

    seq_canal_venda: int
    cod_geral_oper: int
    nro_empresa: int
    nro_segmento: int | None
    # settings nro_representante / nro_tab_venda: the header's nroRepresentante / nroTabVenda (None: unset)
    representative: int | None = None
    price_table: int | None = None
    # setting marketplace_sources as source_key gives them: orders sold on a third party's platform
    marketplace_sources: frozenset[str] = frozenset()
    # setting pay_on_delivery_gateways as gateway_keys gives them: payment collected at delivery
    pay_on_delivery: frozenset[str] = frozenset()
    # setting delivery_slot_attributes as jobs.order_slot.slot_keys gives them: the slot in obsPedido
    slot_keys: tuple[str, ...] = ()


def source_key(name: str) -> str:
    """A Shopify sourceName as the setting marketplace_sources compares it: trimmed, case-folded."""
    return name.strip().casefold()


def _setting_keys(value: Any, key_of: Callable[[str], str]) -> frozenset[str]:
    """A list-of-names setting as the keys `key_of` compares them by (what is not a non-empty string
    is left out)."""
    names = value if isinstance(value, list) else []
    return frozenset(key for name in names if isinstance(name, str) and (key := key_of(name)))


def marketplace_sources(value: Any) -> frozenset[str]:
    """The setting marketplace_sources as keys (source_key)."""
    return _setting_keys(value, source_key)


def intermediary(read: ErpOrderRead, sources: frozenset[str]) -> int:
    """indIntermediador: a third party's platform (1) when the order's sourceName is a marketplace
    the merchant listed, else the store's own site or platform (0: the Online Store, an app's)."""
    listed = read.source_name is not None and source_key(read.source_name) in sources
    return THIRD_PARTY_PLATFORM if listed else OWN_PLATFORM


@dataclass(frozen=True)
class MappedLine:
    line: OrderLineInput
    id_sku: str
    shopify_quantity: int
    net: Decimal  # what this line costs after its share of the discounts


@dataclass(frozen=True)
class MappedOrder:
    order_input: OrderInput
    lines: list[MappedLine]
    goods_total: Decimal
    freight: Decimal
    shopify_total: Decimal | None
    payments: list[PaymentInput] = field(default_factory=list)

    @property
    def erp_total(self) -> Decimal:
        return self.goods_total + self.freight


def channel_order_id(order_id: str) -> str:
    """idPedidoCanalVenda: the order gid, always (the ERP's idempotency key)."""
    return order_id


def numeric_id(order_id: str | int) -> str:
    """`gid://shopify/Order/123` or 123 -> "123"."""
    return str(order_id).rsplit("/", 1)[-1]


def order_gid(order_id: str | int) -> str:
    return f"gid://shopify/Order/{numeric_id(order_id)}"


def is_ready(order: Order, payment_confirmation: str, on_delivery: frozenset[str] = frozenset()) -> bool:
    """Whether payment is confirmed enough to send (paid; or authorized for manual capture), or
    all the order waits for is collected at delivery (`on_delivery`: pays_on_delivery)."""
    if pays_on_delivery(order, payment_confirmation, on_delivery):
        return True
    ready = READY_STATUSES.get(payment_confirmation, READY_STATUSES["paid"])
    status = (order.financial_status or "").upper()
    if status not in ready:
        return False
    if status == "PAID":
        return True
    if status == "PARTIALLY_REFUNDED":
        # Paid in full once, then partly given back (the merchant's doing): it goes. Partly paid
        # and then partly given back also reads PARTIALLY_REFUNDED: that one waits for the rest.
        return unpaid_balance(order, counting_refunds=False) == 0
    # Partly paid or authorised while a payment is still PENDING (a gift card taken, the Pix not
    # yet paid): nothing covers the rest yet, so it waits like an unpaid order.
    if any(
        t.kind in ("SALE", "AUTHORIZATION") and (t.status or "").upper() == "PENDING"
        for t in order.transactions
    ):
        return False
    # Nor when the other payment FAILED (the Pix expired): the ERP would book the whole total as
    # paid by the forms that took part of it. Money kept plus open authorisations must cover it.
    return unpaid_balance(order) == 0


def unpaid_balance(order: Order, counting_refunds: bool = True) -> Decimal:
    """What the order's current total is short of the money its payments kept plus the
    authorisations still open (money_kept; with `counting_refunds` False, what they took before
    any was given back); 0 when covered or the total was not read."""
    if order.current_total is None:
        return ZERO
    return max(ZERO, cents(order.current_total.amount - money_kept(order, refunds=counting_refunds)))


def manual_pending(order: Order) -> list[str]:
    """The manual payment methods (manualPaymentGateway: cash on delivery, a custom one) whose sale
    is still PENDING on the order: nothing was taken online for them."""
    names: list[str] = []
    for txn in order.transactions:
        pending = txn.kind == "SALE" and (txn.status or "").upper() == "PENDING"
        if pending and txn.manual and txn.gateway and not _same_gateway_in(txn.gateway, names):
            names.append(txn.gateway)
    return names


def delivery_waiting(order: Order, on_delivery: frozenset[str]) -> str:
    """Why an order waiting for payment may be one paid at delivery (for its waiting message): its
    manual payment method the setting pay_on_delivery_gateways does not list, or, listed, the
    other payment it waits for. "" when neither."""
    cod = delivery_gateway(order, on_delivery)
    if cod is not None:
        return (
            f"; {cod!r} is collected at delivery (setting pay_on_delivery_gateways), but another of its "
            "payments is still pending, not captured (payment_confirmation paid), failed or voided"
        )
    manual = manual_pending(order)
    if not manual:
        return ""
    names = ", ".join(repr(name) for name in manual)
    return (
        f"; its payment by {names} is a manual payment method, nothing taken online: if it is collected "
        "at delivery (cash or the driver's card machine), list it under the setting "
        "pay_on_delivery_gateways and the order goes to the ERP"
    )


def gateway_keys(value: Any) -> frozenset[str]:
    """The setting pay_on_delivery_gateways as gateway_key gives them (as the payment De:Para
    compares gateways: trimmed, case-folded); what is not a non-empty string is left out."""
    return _setting_keys(value, gateway_key)


def _on_delivery(txn: Transaction, on_delivery: frozenset[str]) -> bool:
    """A transaction of a listed method that Shopify does not call online: a sale of an online
    gateway that happens to share a listed name (a Pix QR not paid yet) is money still due online."""
    return bool(txn.gateway) and gateway_key(txn.gateway or "") in on_delivery and txn.manual is not False


def delivery_gateway(order: Order, on_delivery: frozenset[str]) -> str | None:
    """The pay-on-delivery method the order's rest is collected by: the gateway of a PENDING sale
    the setting names (Shopify's pending transaction of a manual payment method), else, when no
    payment is pending, a listed paymentGatewayNames the setting names. None: none."""
    if not on_delivery:
        return None
    pending = [t for t in order.transactions if t.kind == "SALE" and (t.status or "").upper() == "PENDING"]
    for txn in pending:
        if _on_delivery(txn, on_delivery):
            return txn.gateway
    if pending:
        return None
    return next((name for name in order.payment_gateway_names if gateway_key(name) in on_delivery), None)


def pays_on_delivery(order: Order, payment_confirmation: str, on_delivery: frozenset[str]) -> bool:
    """Whether all the order waits for is money collected at delivery by a method the shop lists
    (setting pay_on_delivery_gateways): not cancelled, no other payment pending online (a Pix not
    paid yet waits as ever), no online payment failed, voided or lapsed (that money was to be paid
    online: the order waits, as any order short of it does). A card authorisation beside it counts
    as it does alone: with payment_confirmation "paid" the order waits until it is captured."""
    status = (order.financial_status or "").upper()
    if order.cancelled_at or status not in ON_DELIVERY_STATUSES:
        return False
    if delivery_gateway(order, on_delivery) is None:
        return False
    at_door = [t for t in order.transactions if _on_delivery(t, on_delivery) and t.kind == "SALE"]
    door_money = sum(
        (t.amount.amount for t in at_door if t.amount and (t.status or "").upper() == "PENDING"), ZERO
    )
    for txn in order.transactions:
        if _on_delivery(txn, on_delivery) or txn.kind not in ("SALE", "AUTHORIZATION"):
            continue
        state = (txn.status or "").upper()
        if state == "PENDING":
            return False
        if state in FAILED_TRANSACTION:
            # A declined attempt took nothing; the buyer may then have chosen to pay at the door for
            # the whole rest. It goes only when the door's pending sale covers what is unpaid.
            if door_money <= ZERO or unpaid_balance(order) > door_money:
                return False
            continue
        if txn.kind == "AUTHORIZATION" and state == "SUCCESS":
            if took_nothing(txn, order.transactions):
                return False  # voided or lapsed uncaptured
            if open_authorisation(txn, order.transactions) > 0 and payment_confirmation != "authorized":
                return False  # not paid yet, as the shop counts it
    return True


def stock_lines(
    order: Order, companies: Mapping[str, list[tuple[int | None, int]]] | None = None
) -> list[dict[str, Any]]:
    """{"sku", "quantity"} per current line: what the stock flow subtracts until the ERP has it.
    `companies` (line id -> [(NROEMPRESA, units shipped there)], an order shipping from several
    companies; jobs.order_lookup.line_companies) gives one entry per company a line ships from,
    naming it ("nro_empresa"; else the payload's counts) with its units: a line split across two
    stores holds each store's units there; units at a location mapped to no company in a store
    linked to none name None, held at no company (the order waits for that mapping). Units no
    company is named for stay with the line's first company."""
    found: list[dict[str, Any]] = []
    for line in goods_lines(order):
        shares = (companies or {}).get(line.id)
        if not shares:
            found.append({"sku": line.sku, "quantity": line.current_quantity})
            continue
        left, split = line.current_quantity, []
        for company, units in shares:
            taken = min(units, left)
            left -= taken
            split.append([company, taken])
        split[0][1] += left
        found += [{"sku": line.sku, "quantity": q, "nro_empresa": c} for c, q in split if q > 0]
    return found


def goods_lines(order: Order) -> list[OrderLine]:
    """The current lines the ERP sells: not a gift card sold, not a tip (Order.tip_lines). A custom
    item (no variant) is goods: it has no SKU, so the order parks naming it (map_lines)."""
    tips = {line.id for line in order.tip_lines()}
    return [
        line
        for line in order.lines
        if line.current_quantity > 0 and not line.gift_card and line.id not in tips
    ]


def missing_variants(order: Order, variants: Mapping[str, VariantInfo]) -> list[OrderLine]:
    """Current goods lines with no variant binding (`variants` is keyed by line id)."""
    return [line for line in goods_lines(order) if line.id not in variants]


def _sold_value(line: OrderLine) -> Decimal:
    """A line's value after all its discounts at its current quantity."""
    unit = line.discounted_unit_price or line.original_unit_price
    return cents(unit.amount * line.current_quantity) if unit else ZERO


def map_lines(read: ErpOrderRead, variants: Mapping[str, VariantInfo]) -> list[MappedLine]:
    """ERP lines whose sum equals Shopify's current subtotal to the cent.

    Raises:
        MappingMissing("variant", sku): a current line has no binding (every missing SKU named).
        Rejected: the order has no line left.
    """
    order = read.order
    missing = missing_variants(order, variants)
    if missing:
        first = missing[0]
        copies = copied_lines(missing, variants)
        raise MappingMissing(
            VARIANT,  # a copy waits for its own variant, which no binding will name: an order edit
            (first.variant_id if first in copies else first.sku) or first.variant_id or first.id,
            f"order {order.name}: {_missing_text(missing, copies)}{_unmatched_tip(order, missing)}",
            words=("order_lines_held", {"order": order.name, "why": _missing_words(order, missing, copies)}),
            lines=[
                {
                    "sku": line.sku,
                    "name": line.name,
                    "variant_id": line.variant_id,
                    **({"copy": True} if line in copies else {}),
                }
                for line in missing
            ],
        )
    current = goods_lines(order)
    if not current:
        raise Rejected(f"order {order.name} has no line left to send", system="app", code="NO_LINES",
                       words=("order_no_lines", {"order": order.name}))  # fmt: skip
    figures = [line_money(line) for line in current]
    gross_total = sum((f.gross for f in figures), ZERO)
    if read.current_subtotal is not None:
        # The subtotal counts gift cards sold (lines) but not tips (Shopify: "before shipping,
        # duties, taxes, and tips"); neither is goods the ERP invoices.
        goods = read.current_subtotal.amount - gift_cards_sold(order)
    else:
        goods = sum(
            ((line.discounted_unit_price or line.original_unit_price).amount * line.current_quantity)  # type: ignore[union-attr]
            for line in current
        )
    discount_total = cents(gross_total - cents(goods))
    if discount_total < 0 or goods < 0:
        raise Rejected(
            f"order {order.name}: the goods subtotal {goods} is not between 0 and the lines' gross "
            f"{gross_total}",
            system="app",
            code=TOTALS_MISMATCH,
        )
    figures = taxes_set_aside(figures, discount_total, read.taxes_in_prices)
    shares = discount_shares(discount_total, figures)
    mapped: list[MappedLine] = []
    for line, figure, share in zip(current, figures, shares, strict=True):
        net = cents(figure.gross) - share
        mapped.append(_erp_line(line, variants[line.id], figure.gross, net))
    return mapped


def copied_lines(missing: list[OrderLine], variants: Mapping[str, VariantInfo]) -> list[OrderLine]:
    """The missing lines that are copies made in Shopify of a bound variant (BoundVariants.copies)."""
    copies = variants.copies if isinstance(variants, BoundVariants) else frozenset()
    return [line for line in missing if line.id in copies]


def _missing_kinds(
    missing: list[OrderLine], copies: list[OrderLine]
) -> tuple[list[OrderLine], list[OrderLine], list[OrderLine], list[OrderLine]]:
    """The missing lines as (unbound ERP SKUs, copies, made in Shopify, custom items)."""
    unbound = [line for line in missing if line.sku and parse_sku(line.sku) and line not in copies]
    custom = [line for line in missing if not (line.variant_id or line.sku)]
    own = [line for line in missing if line not in unbound and line not in custom and line not in copies]
    return unbound, copies, own, custom


def _missing_text(missing: list[OrderLine], copies: list[OrderLine] | None = None) -> str:
    """Why lines hold the order: ERP SKUs not bound yet (their SKU is an idSku, P{seq}E{qtd}: the
    catalog sync binds them once it publishes them), copies made in Shopify of a product the app
    publishes (the SKU bound to another variant: nothing will ever bind the copy), products made in
    Shopify (bag, gift wrap: any other SKU, or none; nothing will ever bind them, and the app maps
    no variant by hand) and custom items (no variant, no SKU)."""
    unbound, copied, own, custom = _missing_kinds(missing, copies or [])
    parts = []
    if unbound:
        names = ", ".join(f"{line.sku} ({line.name})" for line in unbound)
        parts.append(
            f"no ERP SKU bound to {names} yet; it resumes once the catalog sync binds it (if the ERP "
            "has no such product active for e-commerce, replace or remove the line by an order edit)"
        )
    if copied:
        names = ", ".join(f"{line.name!r} (SKU {line.sku})" for line in copied)
        parts.append(
            f"{names} is a copy made in Shopify of the product the app publishes for that ERP SKU (its "
            "variant is another), so the ERP cannot tell what it sells (a kit, another size) and no "
            "catalog sync will bind it; replace it with the catalog product (or remove it) by an order "
            "edit and the order resumes"
        )
    if own:
        names = ", ".join(f"{line.name!r} (SKU {line.sku or 'none'})" for line in own)
        was = "was" if len(own) == 1 else "were"
        parts.append(
            f"{names} {was} made in Shopify, not published from the ERP (no ERP idSku P{{seq}}E{{qtd}}), "
            "so no catalog sync will bind it and the ERP cannot sell it; replace it with a catalog "
            "product (or remove it) by an order edit and the order resumes"
        )
    if custom:
        names = ", ".join(repr(line.name) for line in custom)
        parts.append(
            f"custom item {names} has no SKU and no product variant, so the ERP cannot sell it; "
            "replace it with a catalog product (or remove it) by an order edit and the order resumes"
        )
    return "; ".join(parts)


def _missing_words(
    order: Order, missing: list[OrderLine], copies: list[OrderLine] | None = None
) -> dict[str, Any]:
    """`_missing_text` and `_unmatched_tip` in the merchant's words (shopify_app.fail_words): its
    parts, "; " between them."""
    unbound, copied, own, custom = _missing_kinds(missing, copies or [])
    parts: list[Words] = []
    if unbound:
        parts.append(("lines_unbound", {"lines": [f"{line.sku} ({line.name})" for line in unbound]}))
    if copied:
        parts.append(("lines_copied", {"lines": [f"{line.name!r} (SKU {line.sku})" for line in copied]}))
    if own:
        lines = [
            f"{line.name!r} (SKU {line.sku})"  # names and ids only
            if line.sku
            else ("line_without_sku", {"name": repr(line.name)})
            for line in own
        ]
        parts.append(
            ("lines_made_in_shopify", {"lines": lines, "was": ("was" if len(own) == 1 else "were", {})})
        )
    if custom:
        parts.append(("lines_custom", {"lines": [repr(line.name) for line in custom]}))
    if _unmatched_tip(order, missing) and order.tips:
        parts.append(("lines_tip_unmatched", {"tip": {"money": str(order.tips.amount)}}))
    return {"join": "semicolon", "parts": parts}


def _unmatched_tip(order: Order, missing: list[OrderLine]) -> str:
    """When the order has a tip but no set of its tip-shaped lines makes it up, say so: which
    line is the tip is not guessed (Order.tip_lines), so every candidate is named above."""
    if not order.tips or order.tips.amount <= 0 or order.tip_lines():
        return ""
    shaped = [line for line in missing if line.tip_shaped]
    if not shaped:
        return ""
    return (
        f"; the order's tip of {order.tips.amount} is made up by no set of its lines without a "
        "variant, so none of them is taken as the tip"
    )


def _erp_line(line: OrderLine, info: VariantInfo, gross: Decimal, net: Decimal) -> MappedLine:
    """One itemDto: quantity in packagings (kg for weighed), price per packaging, line discount."""
    price = line.original_unit_price.amount if line.original_unit_price else ZERO
    if info.weighed:
        qty = Decimal(line.current_quantity) * info.sale_unit_kg
        unit = cents(price / info.sale_unit_kg) if info.sale_unit_kg else price
    else:
        qty, unit = Decimal(line.current_quantity), price
    if qty and cents(qty * unit) < net:
        # The price per kg rounded down, or a line valued above its unit price x quantity (converted
        # amounts, a bundle's component): the unit price goes up to the cent, the excess a discount.
        unit = (net / qty).quantize(CENT, rounding=ROUND_CEILING)
    discount = cents(qty * unit) - net
    return MappedLine(
        line=OrderLineInput(
            qty=qty,
            ean=None,
            seq_produto=info.seq_produto,
            qtd_embalagem=info.qtd_embalagem,
            unit_price=unit,
            discount=discount,
            note=line_note(line.properties),  # what the customer asked of the line (jobs.order_line_note)
        ),
        id_sku=info.id_sku,
        shopify_quantity=line.current_quantity,
        net=net,
    )


def freight_of(order: Order) -> Decimal:
    total = ZERO
    for shipping in order.shipping_lines:
        if shipping.removed:
            continue
        # What the customer pays for it now: after discounts and any shipping refund before the import.
        money = shipping.current_price or shipping.discounted_price or shipping.original_price
        total += money.amount if money else ZERO
    return cents(total)


FAILED_TRANSACTION = ("FAILURE", "ERROR")  # an attempt that took no money (the buyer may retry)


def _amount(txn: Transaction) -> Decimal:
    return txn.amount.amount if txn.amount else ZERO


def _children(txn: Transaction, transactions: list[Transaction]) -> list[Transaction]:
    """The successful transactions made on `txn` (captures and voids of an authorisation)."""
    return [t for t in transactions if t.parent_id == txn.id and t.status == "SUCCESS"]


def open_authorisation(txn: Transaction, transactions: list[Transaction]) -> Decimal:
    """What a successful authorisation still holds for the store: its amount less what was
    captured from it (the captures count as taken themselves), while it can still be captured.
    A voided one (a successful VOID on it) or one Shopify no longer lets be captured
    (manuallyCapturable false: voided, captured in full, or lapsed uncaptured) holds nothing: a
    card authorised and then voided or left to expire paid nothing, whatever paid the order.
    (manuallyCapturable is a free scalar; totalUnsettledSet would add points to every order read.)"""
    if txn.kind != "AUTHORIZATION" or txn.status != "SUCCESS" or txn.manually_capturable is False:
        return ZERO
    children = _children(txn, transactions)
    if any(t.kind == "VOID" for t in children):
        return ZERO
    captured = sum((_amount(t) for t in children if t.kind == "CAPTURE"), ZERO)
    return max(ZERO, _amount(txn) - captured)


def took_nothing(txn: Transaction, transactions: list[Transaction]) -> bool:
    """A successful authorisation that took nothing in the end: voided, or lapsed, uncaptured."""
    return (
        txn.kind == "AUTHORIZATION"
        and txn.status == "SUCCESS"
        and open_authorisation(txn, transactions) == 0
        and not any(t.kind == "CAPTURE" for t in _children(txn, transactions))
    )


def money_kept(order: Order, gateway: str | None = None, refunds: bool = True) -> Decimal:
    """What the order's payments (of one gateway, when named) took and kept: successful SALE and
    CAPTURE, plus authorisations still open, less the CHANGE a cash sale handed back at the till
    (its SALE is the cash tendered; no refund: taken off with `refunds` False too), less successful
    REFUND (money given back before the import; not with `refunds` False). A PENDING, FAILED, voided
    or lapsed payment took nothing."""
    key = gateway_key(gateway) if gateway is not None else None
    kept = ZERO
    for txn in order.transactions:
        if key is not None and not (txn.gateway and gateway_key(txn.gateway) == key):
            continue
        if txn.kind == "AUTHORIZATION":
            kept += open_authorisation(txn, order.transactions)
        elif txn.status == "SUCCESS" and txn.kind in ("SALE", "CAPTURE"):
            kept += _amount(txn)
        elif txn.status == "SUCCESS" and (txn.kind == "CHANGE" or (txn.kind == "REFUND" and refunds)):
            kept -= _amount(txn)
    return cents(kept)


def gateways_of(order: Order) -> list[str]:
    """The gateways that kept money (money_kept), in the order they took it. A payment still
    PENDING took nothing: a Pix left pending while the merchant marked the order paid by hand is
    paid by the manual gateway, not by the Pix; nor did a card authorisation later voided or
    lapsed, nor a form that gave all its money back. Such a gateway is no ERP payment, so it
    need not be mapped. When none kept anything, the gateways of the attempts that did not fail,
    else (no transaction read) the names Shopify lists."""
    seen: list[str] = []
    for txn in order.transactions:
        if txn.gateway and not _same_gateway_in(txn.gateway, seen) and money_kept(order, txn.gateway) > 0:
            seen.append(txn.gateway)
    if seen:
        return seen
    for txn in order.transactions:
        took = txn.kind in ("SALE", "AUTHORIZATION", "CAPTURE") and txn.status not in FAILED_TRANSACTION
        if took and txn.gateway and not _same_gateway_in(txn.gateway, seen):
            seen.append(txn.gateway)
    for name in order.payment_gateway_names:
        if not _same_gateway_in(name, seen) and not order.transactions:
            seen.append(name)
    return seen


def payment_names(order: Order, on_delivery: frozenset[str] = frozenset()) -> list[str]:
    """The names the order's ERP payment forms are looked up by (De:Para payment_method): its
    gateways (gateways_of) and its pay-on-delivery method (delivery_gateway), else NO_PAYMENT
    (Shopify recorded no payment: map_payments)."""
    return _with_delivery(gateways_of(order), order, on_delivery) or [NO_PAYMENT]


def _with_delivery(gateways: list[str], order: Order, on_delivery: frozenset[str]) -> list[str]:
    """`gateways`, the pay-on-delivery method last when the order has one (delivery_gateway)."""
    cod = delivery_gateway(order, on_delivery)
    if cod is None:
        return gateways
    return [*(g for g in gateways if gateway_key(g) != gateway_key(cod)), cod]


def _same_gateway_in(name: str, names: list[str]) -> bool:
    return gateway_key(name) in {gateway_key(n) for n in names}


def _paying(txn: Transaction, transactions: list[Transaction]) -> bool:
    """A transaction that brought the money in: a successful SALE, or an authorisation still
    open or captured (not one voided or lapsed)."""
    if txn.status != "SUCCESS":
        return False
    if txn.kind == "SALE":
        return True
    return txn.kind == "AUTHORIZATION" and (
        open_authorisation(txn, transactions) > 0
        or any(t.kind == "CAPTURE" for t in _children(txn, transactions))
    )


def payment_records(payments: Iterable[PaymentInput]) -> list[dict[str, str | int]]:
    """The ERP payment forms sent, as a message's request payload keeps them."""
    return [{"nro_forma_pagto": p.nro_forma_pagto, "amount": str(p.amount)} for p in payments]


def map_payments(
    order: Order, total: Decimal, codes: Mapping[str, int], on_delivery: frozenset[str] = frozenset()
) -> list[PaymentInput]:
    """One ERP payment per gateway that kept money, of what it kept, in turn until `total`; what
    they kept short of `total` goes to the last one that kept money (the last listed when none
    did). A form left with 0 (it gave everything back, or the earlier ones already cover the
    total) is no ERP payment, wherever it is listed.

    An order paid at delivery (`on_delivery`, the setting pay_on_delivery_gateways: delivery_gateway)
    has what the others kept short of `total` under its pay-on-delivery method's form: the money
    the driver collects. A gift card or a Pix that paid part goes under its own form as ever.

    An order no gateway paid (Shopify shows it paid with no payment recorded: created as paid by
    another app, a marketplace connector, an import) is paid by the ERP form mapped for NO_PAYMENT,
    never posted without one; with nothing to pay (R$ 0), it has no ERP payment.

    Raises:
        MappingMissing("payment_method", gateway): a gateway (or NO_PAYMENT) has no De:Para entry;
            the first such, every one named (message, detail "gateways").
    """
    gateways = _with_delivery(gateways_of(order), order, on_delivery)
    cod = delivery_gateway(order, on_delivery)
    if not gateways:
        if total <= 0:
            return []
        gateways = [NO_PAYMENT]
    by_key = {gateway_key(name): code for name, code in codes.items()}
    unmapped = [gateway for gateway in gateways if gateway_key(gateway) not in by_key]
    if unmapped:
        # Parked on the first (its De:Para line resumes the order, which parks on the next if it is
        # still missing); every one named, so the merchant maps them all at once.
        raise MappingMissing(
            PAYMENT_METHOD,
            unmapped[0],
            _unmapped_payment(order, unmapped, total),
            words=_unmapped_payment_words(order, unmapped, total),
            gateways=unmapped,
        )
    amounts: list[Decimal] = []
    left = total
    for gateway in gateways:
        amount = min(max(money_kept(order, gateway), ZERO), max(left, ZERO))
        amounts.append(amount)
        left -= amount
    if left > 0 and cod is not None:
        amounts[-1] += left  # collected at delivery (_with_delivery lists it last)
    elif left > 0:
        kept = [index for index, amount in enumerate(amounts) if amount > 0]
        amounts[kept[-1] if kept else -1] += left
    payments: list[PaymentInput] = []
    for gateway, amount in zip(gateways, amounts, strict=True):
        if amount <= 0:
            continue  # kept nothing the order needs: no payment of this form in the ERP
        key = gateway_key(gateway)
        txns = [
            t
            for t in order.transactions
            if t.gateway and gateway_key(t.gateway) == key and _paying(t, order.transactions)
        ]
        payments.append(
            PaymentInput(
                nro_forma_pagto=int(by_key[key]),
                amount=amount,
                installments=1,
                channel_payment_id=numeric_id(txns[0].id) if txns else None,
            )
        )
    return payments


# Shopify's financial status (OrderDisplayFinancialStatus) as `_unmapped_payment` says it, and its
# words (shopify_app.note_words, which shopify_app.fail_words.FAILURES holds): the English reads as
# Shopify's admin says it ("partially paid").
FINANCIAL_STATUS_WORDS: dict[str, Words] = {
    "AUTHORIZED": ("financial_authorized", {}),
    "EXPIRED": ("financial_expired", {}),
    "PAID": ("financial_paid", {}),
    "PARTIALLY_PAID": ("financial_partially_paid", {}),
    "PARTIALLY_REFUNDED": ("financial_partially_refunded", {}),
    "PENDING": ("financial_pending", {}),
    "REFUNDED": ("financial_refunded", {}),
    "VOIDED": ("financial_voided", {}),
}


def _financial_status(order: Order) -> str:
    """The order's financial status in English words ("partially paid"); none read: "paid" (the
    order went as paid); a status Shopify added since: its code as it came."""
    status = order.financial_status or "PAID"
    return status.lower().replace("_", " ") if status.upper() in FINANCIAL_STATUS_WORDS else status


def _financial_status_words(order: Order) -> Words | str:
    """`_financial_status` as a part of the words; an unknown status: its code as it came."""
    status = order.financial_status or "PAID"
    return FINANCIAL_STATUS_WORDS.get(status.upper(), status)


def _unmapped_payment(order: Order, unmapped: list[str], total: Decimal) -> str:
    if unmapped == [NO_PAYMENT]:
        return (
            f"order {order.name}: Shopify shows it {_financial_status(order)} but recorded no "
            f"payment for its {total} (created as paid by another app, a marketplace connector or an "
            f"import), so no gateway names its ERP payment form; map {NO_PAYMENT!r} under De:Para > "
            "payment methods to the form such orders are booked under and the order resumes by itself"
        )
    if len(unmapped) == 1:
        return (
            f"order {order.name}: payment gateway {unmapped[0]!r} has no ERP payment form; map it under "
            "De:Para > payment methods and the order resumes by itself"
        )
    return (
        f"order {order.name}: payment gateways {', '.join(map(repr, unmapped))} have no ERP payment "
        "form; map each under De:Para > payment methods and the order resumes by itself once they all are"
    )


def _unmapped_payment_words(order: Order, unmapped: list[str], total: Decimal) -> Words:
    """`_unmapped_payment` in the merchant's words (shopify_app.fail_words)."""
    if unmapped == [NO_PAYMENT]:
        status, amount = _financial_status_words(order), {"money": str(total)}
        return "payment_unmapped_none", {
            "order": order.name,
            "status": status,
            "total": amount,
            "none": NO_PAYMENT,
        }
    if len(unmapped) == 1:
        return "payment_unmapped_one", {"order": order.name, "gateway": unmapped[0]}
    return "payment_unmapped_many", {"order": order.name, "gateways": [repr(g) for g in unmapped]}


def delivery_type(order: Order) -> str:
    """'R' (pickup) or 'E' (delivery): what the order's fulfillment orders say, else its words.

    Shopify's own answer is each fulfillment order's deliveryMethod.methodType: a local pickup
    (PICK_UP) is titled after its location ("Loja Centro"), not "Retirada", and may carry a
    shipping address all the same (the billing copied, an app's), so neither words nor the address
    can tell it. The live fulfillment orders decide when they say PICK_UP, LOCAL or PICKUP_POINT:
    'R' when every one with goods is collected at the store, else 'E' (something is delivered).
    SHIPPING, NONE or no method read fall back to the words: a store that offers pickup as a rate
    of its own ("Retirada na loja", methodType SHIPPING) or a delivery app's names it in the
    shipping line; with no such word, 'E' when there is a shipping address, else 'R'."""
    methods = {fo.method_type for fo in _live(order) if fo.method_type not in (None, "NONE", "RETAIL")}
    if methods and methods != {"SHIPPING"}:
        return "R" if methods == {PICK_UP} else "E"
    if any(names_pickup(shipping.title, shipping.code) for shipping in order.shipping_lines):
        return "R"
    return "E" if order.shipping_address else "R"


def names_pickup(title: str | None, code: str | None) -> bool:
    """Whether a shipping line's title or code names a pickup (PICKUP_WORDS: "Retirada na loja")."""
    text = f"{title or ''} {code or ''}".lower()
    return any(word in text for word in PICKUP_WORDS)


def _live(order: Order) -> list[FulfillmentOrder]:
    """The fulfillment orders not CLOSED or CANCELLED; all of them when none is live."""
    live = [fo for fo in order.fulfillment_orders if (fo.status or "").upper() not in ENDED]
    return live or list(order.fulfillment_orders)


def shipping_method(order: Order) -> str | None:
    """What the carrier De:Para knows the order's shipping method by: its first shipping line's
    code (the shipping rate's), else its title; None when nothing ships."""
    for shipping in order.shipping_lines:
        if not shipping.removed and (name := (shipping.code or shipping.title or "").strip()):
            return name
    return None


def map_carrier(order: Order, carrier_codes: Mapping[str, int]) -> int | None:
    """seqTransportador for the order's shipping method (names compare as gateways do).

    A store that maps no shipping method leaves the carrier to the ERP (its default); one that maps
    any has chosen to send carriers, so a method it did not map parks the order rather than send it
    without one. A pickup order has no carrier.

    Raises:
        MappingMissing("carrier", method): the store maps carriers and not this shipping method.
    """
    method = shipping_method(order)
    if not carrier_codes or method is None or delivery_type(order) == "R":
        return None
    by_key = {gateway_key(name): code for name, code in carrier_codes.items()}
    code = by_key.get(gateway_key(method))
    if code is None:
        raise MappingMissing(
            CARRIER,
            method,
            f"order {order.name}: shipping method {method!r} has no ERP carrier; the store maps carriers, "
            "so map it under De:Para > carriers and the order resumes by itself",
            words=("carrier_unmapped", {"order": order.name, "method": method}),
        )
    return code


def _ordered_at(order: Order) -> datetime:
    if order.created_at:
        return datetime.fromisoformat(order.created_at.replace("Z", "+00:00")).astimezone(UTC)
    return datetime.now(UTC)


OBS_WIDTH = 200  # obsPedido's characters in the ERP
OBS_NOTE_KEPT = 40  # the note's start a delivery's kept parts never push out
OBS_WHERE_KEPT = 100  # a delivery's parts that begin within these are kept: who, street, number


def observation(order: Order, slot_keys: Sequence[str] = ()) -> str:
    """obsPedido: the order's name, the delivery or pickup slot the customer chose (the order
    attributes `slot_keys` names: jobs.order_slot, at most 64 characters, kept whole), where it
    goes (every delivery; never a pickup, which goes nowhere whatever address it carries) and the
    buyer's note, within the ERP's 200 characters. When they do not fit, the delivery gives way
    first (`_squeezed`: whole parts from its end, down to those that begin within its first 100
    characters while they leave the note its first 40), then the note is cut at its end. Each part
    within the NF-e's characters (erp.nfe_text: the ERP may print the observation on the invoice),
    measured after."""
    slot = delivery_slot(order.custom_attributes, slot_keys)
    parts = (nfe_text(_head(order)), slot, _where(order, slot), _note(order))
    return " - ".join(p for p in parts if p)[:OBS_WIDTH]


def observation_delivery(order: Order, slot_keys: Sequence[str] = ()) -> str | None:
    """When and where the order is delivered as its obsPedido names them: the slot, then the
    delivery ("Entrega: ..."; a pickup's slot alone), as `observation` writes them; None when
    neither (a delivery address or slot change: jobs.order_edits.address)."""
    slot = delivery_slot(order.custom_attributes, slot_keys)
    return " - ".join(p for p in (slot, _where(order, slot)) if p) or None


def _note(order: Order) -> str | None:
    return nfe_text(order.note) if order.note else None


def observation_where(order: Order, slot_keys: Sequence[str] = ()) -> str | None:
    """The delivery part of the order's obsPedido ("Entrega: ...", `_squeezed` to leave the buyer's
    note its room), as `observation` writes it, on one line (an address typed with a line break or
    runs of spaces has them as one space: a flag's note ends with this part, which ledger.privacy
    scrubs to the end of its line) and within the NF-e's characters (erp.nfe_text); None when
    nothing is delivered."""
    return _where(order, delivery_slot(order.custom_attributes, slot_keys))


def _where(order: Order, slot: str | None) -> str | None:
    """`observation_where` after the slot obsPedido names (kept whole before it)."""
    where = delivery_obs(order) if delivery_type(order) == "E" else None
    if not where:
        return None
    where = nfe_text(where)
    most = OBS_WIDTH - len(nfe_text(_head(order))) - len(" - ")
    if slot:  # kept whole before it
        most -= len(slot) + len(" - ")
    typed = _note(order)
    note = len(typed) + len(" - ") if typed else 0
    # the note's start kept: OBS_NOTE_KEPT of its characters, and the " - " before it
    return _squeezed(where, most - note, most - min(note, OBS_NOTE_KEPT + len(" - ")))


def _head(order: Order) -> str:
    return f"Shopify {order.name}"


def _squeezed(where: str, room: int, most: int) -> str:
    """The delivery's words in `room` characters, cut only between its ", " parts (a number is never
    cut in two: "..., 1234" never reads "..., 12"; erp.text_width.whole_parts): trailing parts (phone,
    CEP, city, complement) are dropped while it is longer than `room`, except those that begin within
    its first OBS_WHERE_KEPT characters, which stay whole while it fits `most` (the whole obsPedido
    after its head)."""

    def fits(text: str, last: str) -> bool:
        return len(text) <= room or (len(text) - len(last) < OBS_WHERE_KEPT and len(text) <= most)

    return whole_parts(where, fits)


def map_order(
    read: ErpOrderRead,
    target: OrderTarget,
    variants: Mapping[str, VariantInfo],
    payment_codes: Mapping[str, int],
    carrier_codes: Mapping[str, int] | None = None,
) -> MappedOrder:
    """The whole PedidoVenda for a Shopify order.

    Raises:
        InvalidTaxId (Rejected): the CPF/CNPJ is missing or invalid.
        MappingMissing: a line's SKU, a payment gateway or (when the store maps carriers) the
            shipping method is not mapped.
    """
    order = read.order
    customer = map_customer(order)
    lines = map_lines(read, variants)
    goods = sum((m.net for m in lines), ZERO)
    freight = freight_of(order)
    payments = map_payments(order, goods + freight, payment_codes, target.pay_on_delivery)
    carrier = map_carrier(order, carrier_codes or {})
    order_input = OrderInput(
        seq_canal_venda=target.seq_canal_venda,
        channel_order_id=channel_order_id(order.id),
        ordered_at=_ordered_at(order),
        nro_empresa=target.nro_empresa,
        cod_geral_oper=target.cod_geral_oper,
        customer=customer,
        lines=tuple(m.line for m in lines),
        payments=tuple(payments),
        nro_segmento=target.nro_segmento,
        delivery_type=delivery_type(order),
        freight=freight,
        obs=observation(order, target.slot_keys),
        carrier=carrier,
        intermediary=intermediary(read, target.marketplace_sources),
        representative=target.representative,
        price_table=target.price_table,
    )
    shopify_total = read.current_total.amount if read.current_total else None
    check_total(read, goods, freight)
    return MappedOrder(order_input, lines, goods, freight, shopify_total, payments)


def erp_total_expected(current_total: Decimal, tips: Decimal, gift_cards: Decimal) -> Decimal:
    """What the ERP order totals when it matches Shopify: Shopify's current total less what no
    ERP line carries (tips and gift cards sold). The import checks it; reconciliation compares it."""
    return current_total - tips - gift_cards


def gift_cards_sold(order: Order) -> Decimal:
    """The current value of the gift cards sold on the order (lines; no goods)."""
    cards = [line for line in order.lines if line.gift_card and line.current_quantity > 0]
    return sum((_sold_value(line) for line in cards), ZERO)


def tips_now(order: Order) -> Decimal:
    """The tip the order charges now: its tip lines' current value (order_settlement.tip_value), on
    the same basis as the gift cards sold and Shopify's current total. Not totalTipReceivedSet: that
    may still count a tip refunded since (its line at 0, the current total without it), and an order
    whose tip was refunded read as short by it: not posted, and an edit or refund after it held."""
    return tip_value(order.lines, order.tips.amount if order.tips else ZERO)


def check_total(read: ErpOrderRead, goods_total: Decimal, freight: Decimal) -> None:
    """The ERP order must total what Shopify charges for goods and freight: never sent short. The
    import checks the order it posts, an edit (jobs.order_edits.to_erp) the lines it would send.

    Raises:
        Rejected (TAXES_ADDED): the store adds tax on top of the prices (taxesIncluded false);
            Brazilian prices include their taxes, so no ERP line carries it.
        Rejected (TOTALS_MISMATCH): any other difference (duties, fees...): named, not sent.
    """
    if read.current_total is None:
        return
    shopify_total, erp_total = read.current_total.amount, goods_total + freight
    order = read.order
    tips = tips_now(order)
    cards = gift_cards_sold(order)
    expected = erp_total_expected(shopify_total, tips, cards)
    if erp_total == expected:
        return
    beside = "".join(
        f" less {label} {value}" for label, value in (("tips", tips), ("gift cards sold", cards)) if value
    )
    figures = (
        f"the ERP order would total {erp_total} (goods {goods_total} + freight "
        f"{freight}) but Shopify charges {expected} (current total {shopify_total}{beside})"
    )
    less = [
        part
        for part, value in (
            (("less_tips", {"value": {"money": str(tips)}}), tips),
            (("less_gift_cards", {"value": {"money": str(cards)}}), cards),
        )
        if value
    ]
    said: Words = ("totals_figures", {
        "erp_total": {"money": str(erp_total)},
        "goods": {"money": str(goods_total)},
        "freight": {"money": str(freight)},
        "expected": {"money": str(expected)},
        "shopify_total": {"money": str(shopify_total)},
        "less": {"join": "none", "parts": less},
    })  # fmt: skip
    tax = read.current_tax.amount if read.current_tax else ZERO
    if read.taxes_included is False and tax:
        raise Rejected(
            f"order {order.name}: {figures}: the store adds {tax} of tax on top of the prices (taxes "
            "included: no). Brazilian prices include their taxes and the ERP computes them on the NF-e, "
            "so the order is not sent short. This order keeps the tax it was charged: enter it in the ERP "
            "by hand, or cancel it; and set the store's prices to include tax so later orders come in",
            system="app",
            code=TAXES_ADDED,
            detail={"erp_total": str(erp_total), "shopify_total": str(expected), "tax": str(tax)},
            words=("taxes_added", {"order": order.name, "figures": said, "tax": {"money": str(tax)}}),
        )
    raise Rejected(
        f"order {order.name}: {figures}; it is not sent short",
        system="app",
        code=TOTALS_MISMATCH,
        detail={"erp_total": str(erp_total), "shopify_total": str(expected), "tax": str(tax)},
        words=("totals_mismatch", {"order": order.name, "figures": said}),
    )
