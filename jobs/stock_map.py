"""Pure stock mapping: an ERP ProdutoEstoque row, pending orders and the SKU's packaging -> the
quantity Shopify should show at the company's location.

The formula (consinco.md, TOTVS iPaaS): estqloja + estqdeposito - qtdreservadavda
- qtdreservadareceb - qtdreservadafixa + estqterceiro, minus ESTQSEGURANCAECOMMERCE, minus what
was sold in Shopify but is not reserved in the ERP yet, clamped at zero; then whole packagings
(floor) per SKU, at most Shopify's ceiling (MAX_LEVEL). We compute it from the raw columns rather
than trusting the API's `qtdDisponivelEcommerce` convenience field, which is an assumption about
the customer's server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from erp.records import Stock
from jobs.price_map import POLICY_CONTINUE, POLICY_DENY, parse_sku
from ledger.digest import digest

# Variant binding data (jobs.catalog_ledger, at adoption; kept): the variant came with a live price,
# the earlier connector's, so until the prices flow prices it the stock flow counts it for sale
# (`for_sale`), never sold out at 0 as a new variant at R$ 0.00 is.
LIVE_PRICE = "adopted_with_price"

ZERO = Decimal("0")
ONE = Decimal("1")
# Shopify's ceiling on a level: inventorySetQuantities answers INVALID_QUANTITY_TOO_HIGH ("The
# total quantity can't be higher than 1,000,000,000") for that entry, and a figure above GraphQL's
# 32-bit Int (2,147,483,647) refuses the whole request. An ERP figure above it (a placeholder
# "unlimited" stock, a mis-keyed receipt) is sent at the ceiling, with a note (jobs.stock_writer).
MAX_LEVEL = 1_000_000_000


@dataclass(frozen=True)
class SkuUnit:
    """How one Shopify unit of a SKU maps to the ERP's base unit (UN, or kg for weighed items)."""

    id_sku: str
    seq_produto: int
    qtd_embalagem: Decimal
    weighed: bool = False
    unit_kg: Decimal = ONE

    @property
    def base_per_unit(self) -> Decimal:
        """Base units one Shopify unit takes: the packaging size, or `unit_kg` kg for a KG item."""
        return self.unit_kg if self.weighed else self.qtd_embalagem

    @classmethod
    def from_binding(cls, id_sku: str, data: dict[str, Any] | None) -> SkuUnit | None:
        """From the "variant" binding's data (products/SKUs flow), else from the SKU id convention."""
        data = data or {}
        parsed = parse_sku(id_sku)
        seq = data.get("seq_produto", parsed[0] if parsed else None)
        qtd = data.get("qtd_embalagem", parsed[1] if parsed else None)
        if seq is None or qtd is None:
            return None
        quantity = Decimal(str(qtd))
        if not quantity > 0:  # a binding from before the ERP client refused a packaging of 0 units:
            return None  # no unit figure divides by it
        return cls(
            id_sku=id_sku,
            seq_produto=int(seq),
            qtd_embalagem=quantity,
            weighed=bool(data.get("weighed")),
            unit_kg=Decimal(str(data.get("unit_kg") or ONE)),
        )


def sellable_base(stock: Stock) -> Decimal | None:
    """Base units the e-commerce may sell before pending orders (may be negative); None when the
    item has no stock control (INDCONTROLAESTOQUEECOMM = 'N': sold without limit)."""
    if not stock.controlled:
        return None
    available = (
        stock.store
        + stock.warehouse
        - stock.reserved_sale
        - stock.reserved_receiving
        - stock.reserved_fixed
        + stock.third_party
    )
    return available - stock.safety


def units_for(base: Decimal | None, pending_base: Decimal, unit: SkuUnit) -> int | None:
    """Whole Shopify units of `unit` left after pending orders, clamped at zero and at Shopify's
    ceiling (None: no control)."""
    if base is None:
        return None
    return min(MAX_LEVEL, _whole_units(max(ZERO, base - pending_base), unit))


def above_ceiling(base: Decimal | None, unit: SkuUnit) -> bool:
    """Whether the ERP figure gives more whole units than a Shopify level holds (MAX_LEVEL)."""
    return base is not None and _whole_units(base, unit) > MAX_LEVEL


def _whole_units(base: Decimal, unit: SkuUnit) -> int:
    return int((base / unit.base_per_unit).to_integral_value(rounding=ROUND_FLOOR))


def pending_base_by_product(
    payloads: Iterable[dict[str, Any]], units: dict[str, SkuUnit]
) -> dict[tuple[int, int], Decimal]:
    """Base units sold in Shopify but not in the ERP yet, per (nro_empresa, seq_produto).

    `payloads` are request payloads of "orders" messages not done yet ({"nro_empresa", "lines":
    [{"sku", "quantity"}]}; a line of an order shipping from several companies names its own
    "nro_empresa", one entry per company a split line ships from); a line's SKU unit comes from
    `units` or the SKU id convention.
    A 5 kg line of a KG item and 2 boxes of 12 both count in base units, so every packaging of
    the product sees the reduction.
    """
    pending: dict[tuple[int, int], Decimal] = {}
    for payload in payloads:
        for line in payload.get("lines") or []:
            sku = line.get("sku")
            quantity = line.get("quantity")
            company = line.get("nro_empresa", payload.get("nro_empresa"))
            if not sku or quantity is None or company is None:
                continue
            unit = units.get(sku) or SkuUnit.from_binding(sku, None)
            if unit is None:
                continue
            key = (int(company), unit.seq_produto)
            pending[key] = pending.get(key, ZERO) + Decimal(str(quantity)) * unit.base_per_unit
    return pending


@dataclass(frozen=True)
class LevelTarget:
    """What one SKU should look like at one company's location."""

    quantity: int | None  # None: not stock-controlled, the level is left as it is
    policy: str  # DENY | CONTINUE (the variant's inventoryPolicy)

    def digest(self) -> str:
        return digest({"q": self.quantity, "p": self.policy})


def for_sale(
    variant: Mapping[str, Any],
    price: Mapping[str, Any] | None,
    *,
    variant_id: str | None,
    priced_variant: str | None,
) -> bool:
    """Whether a SKU is for sale in the store, from its "variant" and "price" binding data: not when
    its packaging is inactive in the ERP (products flow), when it has no price for the linked
    company/segment yet (productSet leaves the price out: Shopify holds it at R$ 0.00), or when
    its sale status there is 'I' or the ERP's price there is 0, "no price" (prices flow).

    `variant_id`, `priced_variant`: the Shopify ids of its "variant" and "price" bindings. A price
    sent to another variant than the SKU's (the products flow replaced it, the new one at R$ 0.00)
    prices nothing: not for sale until the prices flow prices the new one, whatever the flags say
    (a prices pass running across the replacement could write the old variant's flags back).

    A variant adopted from what the store held before the app (jobs.catalog_adopt) and not priced
    by the prices flow yet (no price binding) is live at the earlier connector's price: for sale
    when active, so the first stock pass after the switch does not sell the catalog out at 0."""
    if price is None and variant.get(LIVE_PRICE):
        return bool(variant.get("active", True))
    return (
        bool(variant.get("active", True))
        and price is not None
        and priced_variant is not None
        and priced_variant == variant_id
        and not price.get("awaiting_price")  # its variant is new (or replaced) and not priced yet
        and bool(price.get("sale_active", True))
    )


def level_target(
    base: Decimal | None, pending_base: Decimal, unit: SkuUnit, *, for_sale: bool
) -> LevelTarget:
    """The level and policy of one SKU: no control -> CONTINUE (sell without limit, the item still
    tracked as the catalog flow sends it) and the level untouched; not for sale in this store
    (statusVenda 'I') -> 0 and DENY whatever the ERP holds."""
    if not for_sale:
        return LevelTarget(0, POLICY_DENY)
    if base is None:
        return LevelTarget(None, POLICY_CONTINUE)
    return LevelTarget(units_for(base, pending_base, unit), POLICY_DENY)


def sku_ids(stock: Any, by_product: Callable[[], Mapping[int, Sequence[str]]]) -> list[str]:
    """The SKUs one ProdutoEstoque record's stock is for: the record's own `skus` list, else (that
    list is an [assumed] convenience of the API) the packagings the shop sells of that product,
    from `by_product()` (seqProduto -> idSku, the variant bindings; called only when needed).
    Without it, a real ERP that lists no SKUs would have had no level written, silently."""
    own = [sku.id_sku for sku in stock.skus]
    return own if own else list(by_product().get(stock.seq_produto, ()))
