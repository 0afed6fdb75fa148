"""Which lines are the order's tip: the tip-shaped lines (no variant, ship nothing) whose values
add up EXACTLY to totalTipReceivedSet, lines titled as a tip and later lines preferred; a custom
item listed before the tip and cheaper than it is goods, never taken as the tip. When no set of
them makes up the tip, none is guessed: the order parks naming every candidate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs import order_map
from ledger.errors import MappingMissing
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import TARGET, money_bag, raw_order, variants_for


def _tip_shaped(num: int, name: str, amount: str) -> dict:
    return {
        "id": f"gid://shopify/LineItem/{num}", "sku": None, "name": name, "quantity": 1,
        "currentQuantity": 1, "variant": None, "requiresShipping": False, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(Decimal(amount)),
        "discountedUnitPriceAfterAllDiscountsSet": money_bag(Decimal(amount)),
        "totalDiscountSet": money_bag(Decimal(0)), "discountAllocations": [],
    }  # fmt: skip


def _order(extra: list[tuple[int, str, str]], custom_total: str, tip: str) -> dict:
    """50.00 of goods + 10.00 freight, the tip-shaped lines `extra`, `custom_total` of them goods."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    raw["lineItems"]["nodes"] += [_tip_shaped(*line) for line in extra]
    subtotal = Decimal("50.00") + Decimal(custom_total)  # tips are outside the subtotal
    raw["currentSubtotalPriceSet"] = money_bag(subtotal)
    raw["currentTotalPriceSet"] = money_bag(subtotal + Decimal("10.00") + Decimal(tip))
    raw["totalTipReceivedSet"] = money_bag(Decimal(tip))
    return raw


def test_a_cheaper_custom_item_listed_before_the_tip_is_not_the_tip() -> None:
    raw = _order([(90, "Sacola retornável", "2.00"), (91, "Tip", "3.00")], custom_total="2.00", tip="3.00")
    assert [line.name for line in parse_erp_order(raw).order.tip_lines()] == ["Tip"]


def test_the_order_parks_naming_the_custom_item_not_the_tip() -> None:
    raw = _order([(90, "Sacola retornável", "2.00"), (91, "Tip", "3.00")], custom_total="2.00", tip="3.00")
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert "'Sacola retornável'" in parked.value.message and "'Tip'" not in parked.value.message


def test_of_two_lines_of_the_tips_value_the_one_titled_as_a_tip_is_taken() -> None:
    raw = _order([(90, "Gorjeta", "3.00"), (91, "Sacola", "3.00")], custom_total="3.00", tip="3.00")
    assert [line.name for line in parse_erp_order(raw).order.tip_lines()] == ["Gorjeta"]


def test_of_two_untitled_lines_of_the_tips_value_the_later_one_is_taken() -> None:
    raw = _order([(90, "Sacola", "3.00"), (91, "Extra", "3.00")], custom_total="3.00", tip="3.00")
    assert [line.name for line in parse_erp_order(raw).order.tip_lines()] == ["Extra"]


def test_when_no_lines_make_up_the_tip_every_candidate_is_named_and_none_guessed() -> None:
    raw = _order([(90, "Sacola", "2.00"), (91, "Tip", "4.00")], custom_total="2.00", tip="3.00")
    read = parse_erp_order(raw)
    assert read.order.tip_lines() == []
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
    message = parked.value.message
    assert "'Sacola'" in message and "'Tip'" in message and "3.00" in message, message
