"""Pure price mapping: an ERP price item (or what the ledger remembers of it) -> a variant's price.

Why pure: the promotion rules (dates decide, the ERP flag is a fallback), the "next date this
price changes by itself" and the KG unit are the whole logic of the prices flow; they are tested
here without any service. No I/O, no clock: `today` is always passed in.

Consinco keeps prices with 4 decimals, Shopify takes cents: whether there is a price, and whether
a promotion runs, is decided on the amounts Shopify gets (`cents`, after the KG unit factor), here
alone, for the store's variants and the markets' price lists alike. Decided on the 4-decimal
values, a price of 0.0040 was sold at R$ 0.00 and a promotion of 9.9960 on 10.0000 showed a
compare-at equal to its price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from erp.records import PriceItem
from erp.records import parse_sku as parse_sku  # the SKU convention, where the catalog flows read it
from ledger.digest import digest

CENT = Decimal("0.01")
ONE = Decimal("1")
POLICY_DENY = "DENY"
POLICY_CONTINUE = "CONTINUE"
# A price Shopify refused keeps, in its binding, the sale status Shopify last took as
# `sale_active` (the stock and products flows read it) and the ERP's under this key, sent again.
WANTED_SALE_ACTIVE = "wanted_sale_active"
# A refused price a person closed as handled (priced by hand in Shopify) keeps, in its binding,
# whether its promotion was running then (`settled_on`): what they settled is what the ERP meant.
SETTLED_BY_HAND = "settled_by_hand"
# Its variant replaced (catalog_ledger._reprice) since the refusal a person may be answering: no
# settlement by hand is taken for it until a price is sent or refused on the new variant.
VARIANT_REPLACED = "variant_replaced"


@dataclass(frozen=True)
class PriceState:
    """What the prices flow remembers of one SKU's price item (kept in the "price" binding's data).

    Remembering the promotion dates lets a run end (or start) a promotion on its date even when
    no ERP row changed: Consinco does not touch DTAALTERACAO when a promotion simply expires. One
    known by its running flag alone (no dates) is ended by the daily whole read (jobs.prices_full).
    `sale_active`: for sale in the store, statusVenda 'A' and a price (see `priced`). `unlisted`:
    no price because the store's company and segment have no price record for the SKU at all
    (jobs.price_unlisted), not a price of 0 in one.
    """

    id_sku: str
    seq_produto: int
    normal: Decimal
    promotional: Decimal | None
    promo_start: date | None
    promo_end: date | None
    promotion_flag: bool
    sale_active: bool
    unlisted: bool = False

    @classmethod
    def from_item(cls, item: PriceItem) -> PriceState:
        return cls(
            id_sku=item.id_sku,
            seq_produto=item.seq_produto,
            normal=item.normal,
            promotional=item.promotional,
            promo_start=item.promo_start,
            promo_end=item.promo_end,
            promotion_flag=item.promotion_running,
            sale_active=item.sale_active and is_price(item.normal),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "id_sku": self.id_sku,
            "seq_produto": self.seq_produto,
            "normal": str(self.normal),
            "promotional": None if self.promotional is None else str(self.promotional),
            "promo_start": None if self.promo_start is None else self.promo_start.isoformat(),
            "promo_end": None if self.promo_end is None else self.promo_end.isoformat(),
            "promotion_flag": self.promotion_flag,
            "sale_active": self.sale_active,
            **({"unlisted": True} if self.unlisted else {}),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PriceState:
        def day(value: str | None) -> date | None:
            return None if value is None else date.fromisoformat(value)

        return cls(
            id_sku=data["id_sku"],
            seq_produto=int(data["seq_produto"]),
            normal=Decimal(data["normal"]),
            promotional=None if data.get("promotional") is None else Decimal(data["promotional"]),
            promo_start=day(data.get("promo_start")),
            promo_end=day(data.get("promo_end")),
            promotion_flag=bool(data.get("promotion_flag")),
            sale_active=bool(data.get(WANTED_SALE_ACTIVE, data.get("sale_active", True)))
            and is_price(Decimal(data["normal"])),
            unlisted=bool(data.get("unlisted")),
        )

    @property
    def priced(self) -> bool:
        """Consinco stores "no price for this company and segment" as a normal price of 0; one
        under half a centavo is R$ 0.00 in Shopify, no price either (`is_price`)."""
        return is_price(self.normal)


@dataclass(frozen=True)
class VariantPrice:
    """What the variant should show: price, compare-at (None = no strike-through), for sale or not.

    `price` None: the ERP has no price, none is sent (never R$ 0.00) and the SKU is not for sale.
    """

    price: Decimal | None
    compare_at: Decimal | None
    for_sale: bool

    def digest(self) -> str:
        return digest(
            {"price": money(self.price), "compare_at": money(self.compare_at), "sale": self.for_sale}
        )


def money(value: Decimal | None) -> str | None:
    """Shopify's Money input: a decimal string with cents (None stays None: clears compareAtPrice)."""
    if value is None:
        return None
    return str(cents(value))


def cents(value: Decimal) -> Decimal:
    """An amount as Shopify gets it: rounded half up to the cent (the ERP keeps 4 decimals)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_price(normal: Decimal, unit_factor: Decimal = ONE) -> bool:
    """A normal price there is something to sell at: at least R$ 0.01 once rounded, per unit sold
    (`unit_factor`). A 0 is Consinco's "no price"; 0.0040 (a slip for 4.00, a token price) would be
    sent as "0.00", for sale, so it is no price either, said and kept off sale the same way."""
    return cents(normal * unit_factor) > 0


def promotion_running(state: PriceState, today: date, unit_factor: Decimal = ONE) -> bool:
    """Running when there is a promotional price below the normal one and start <= today <= end
    (consinco-api.md).

    Dates decide when the ERP gives them (the server-side flag is a convenience of one read and
    goes stale by the next day); without dates the ERP's flag is all there is, and it turns off at
    the ERP's midnight with no row changed: only a whole read sees that (the daily sweep,
    jobs.prices_full; `recheck_on` has no date to go by). Only one of the two
    dates is no period at all: the ERP does not run such a promotion, and neither do we. A
    "promotional" price at or above the normal one (typed by mistake, a stale one kept) is no
    promotion: it would raise the shop's price, a market's list price with it. Nor is one at 0 or
    below (a typing error: Shopify refuses a negative price, NEGATIVE_PRICE_VALUE, on every pass).
    Both compared as Shopify gets them (`_lowers`, per unit sold: `unit_factor`).
    """
    if not _lowers(state, unit_factor):
        return False
    if state.promo_start is None and state.promo_end is None:
        return state.promotion_flag
    if state.promo_start is None or state.promo_end is None:
        return False
    return state.promo_start <= today <= state.promo_end


def _lowers(state: PriceState, unit_factor: Decimal = ONE) -> bool:
    """A promotional price above R$ 0.00 and below the normal price, both rounded to the cent per
    unit sold (a normal price of 0 is none: `is_price`; a promotional one rounding to 0 or below is
    no price to sell at, the normal price stands; one rounding to the normal price would show a
    compare-at equal to the price)."""
    if state.promotional is None:
        return False
    return 0 < cents(state.promotional * unit_factor) < cents(state.normal * unit_factor)


def _may_lower(state: PriceState) -> bool:
    """`_lowers` for some unit: a promotional price above 0 and below the normal one as the ERP
    keeps them (whatever rounds away at one unit factor may not at another)."""
    return state.promotional is not None and 0 < state.promotional < state.normal


def settled_on(data: dict[str, Any], state: PriceState, day: date) -> dict[str, Any]:
    """A refused price's binding data once a person settled it by hand on `day` (the ERP's day of
    the mark): whether its promotion was running then is kept with it (`still_settled`)."""
    return {**data, SETTLED_BY_HAND: promotion_running(state, day)}


def still_settled(data: dict[str, Any], state: PriceState, today: date) -> bool:
    """A price settled by hand (`settled_on`) whose ERP record is still `state` and whose promotion
    runs today as it did then: the person's price stands. A promotion ending (or starting) on its
    date changes what the ERP means although no ERP row changed (Consinco leaves DTAALTERACAO)."""
    return (
        SETTLED_BY_HAND in data
        and PriceState.from_data(data) == state
        and data[SETTLED_BY_HAND] == promotion_running(state, today)
    )


def target_price(state: PriceState, today: date, unit_factor: Decimal = ONE) -> VariantPrice:
    """Promotion: price = promotional, compareAtPrice = normal; otherwise the normal price alone.

    `unit_factor` converts the ERP's price unit to the variant's (a KG item priced per kg sold in
    steps of `unit_kg`); 1 for everything else. The amounts are Shopify's, rounded to the cent,
    and decide: a "promotion" not below the normal price once rounded is none
    (`promotion_running`): the normal price, no strike-through, never a higher price. No price in
    the ERP (0, or R$ 0.00 per unit sold once rounded: `is_price`): no price at all, not for sale,
    whatever the promotion.
    """
    if not is_price(state.normal, unit_factor):
        return VariantPrice(None, None, False)
    normal = cents(state.normal * unit_factor)
    if promotion_running(state, today, unit_factor):
        assert state.promotional is not None
        return VariantPrice(cents(state.promotional * unit_factor), normal, state.sale_active)
    return VariantPrice(normal, None, state.sale_active)


def erp_today(timezone: str, now: datetime | None = None) -> date:
    """Today at the ERP (its promotion dates are days where the stores are): at 22:00 in Sao Paulo
    it is already tomorrow in UTC, and a promotion ending today must not end 3 hours early."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def recheck_on(state: PriceState, today: date) -> date | None:
    """The next date the price changes without any ERP row changing (a promotion starting/ending).
    Any promotion the ERP holds below its normal price counts, even one that rounds away at one
    unit: the variant's unit factor is not known here, and a date looked at for nothing costs no
    call (the digest is unchanged)."""
    if not _may_lower(state) or state.promo_start is None or state.promo_end is None:
        return None  # no promotion, or no period: nothing starts or ends by date
    if today < state.promo_start:
        return state.promo_start
    if today <= state.promo_end:  # running (its period decides: `promotion_running`)
        # An open-ended promotion: the ERP's "no end" date (9999-12-31, Oracle's habit) has no
        # day after it, and nothing ends by date.
        return None if state.promo_end >= date.max else state.promo_end + timedelta(days=1)
    return None


def variant_input(variant_id: str, target: VariantPrice) -> dict[str, Any]:
    """A ProductVariantsBulkInput. A SKU not for sale also gets inventoryPolicy DENY (overselling
    off); its quantity is zeroed by the stock flow, its product status stays the products flow's.
    Without a price, none is sent: Shopify keeps the last one, off sale, but its compareAtPrice is
    cleared, so a promotion's strike-through does not outlive it (as a price list's fixed price,
    compare-at with it, is removed then: jobs.price_lists)."""
    data: dict[str, Any] = {"id": variant_id}
    if target.price is None:
        data["compareAtPrice"] = None
    else:
        data.update(price=money(target.price), compareAtPrice=money(target.compare_at))
    if not target.for_sale:
        data["inventoryPolicy"] = POLICY_DENY
    return data


def unit_factor(variant_data: dict[str, Any] | None) -> Decimal:
    """Price multiplier of a variant: a weighed (KG) variant sells `unit_kg` kg per unit (default 1)."""
    data = variant_data or {}
    if not data.get("weighed"):
        return ONE
    return Decimal(str(data.get("unit_kg") or ONE))
