"""The pure mappings on their own: promotion rules, recheck dates, KG units, the stock formula."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from erp.records import SkuStock, Stock
from jobs.price_map import (
    PriceState,
    parse_sku,
    promotion_running,
    recheck_on,
    target_price,
    unit_factor,
    variant_input,
)
from jobs.stock_map import (
    MAX_LEVEL,
    SkuUnit,
    above_ceiling,
    level_target,
    pending_base_by_product,
    sellable_base,
    units_for,
)

D = Decimal
TODAY = date(2026, 11, 28)


def state(**kw):
    base = dict(
        id_sku="P919E1",
        seq_produto=919,
        normal=D("10.00"),
        promotional=None,
        promo_start=None,
        promo_end=None,
        promotion_flag=False,
        sale_active=True,
    )
    return PriceState(**{**base, **kw})


def test_promotion_by_dates_wins_over_the_flag():
    running = state(promotional=D("8"), promo_start=date(2026, 11, 20), promo_end=date(2026, 11, 30))
    assert promotion_running(running, TODAY)
    assert not promotion_running(running, date(2026, 12, 1))
    assert not promotion_running(running, date(2026, 11, 19))
    assert promotion_running(state(promotional=D("8"), promotion_flag=True), TODAY)  # no dates: the flag
    assert not promotion_running(state(promotional=None, promotion_flag=True), TODAY)


def test_a_promotion_with_half_its_dates_does_not_run_whatever_the_flag():
    """dtaInicioPromoc <= today <= dtaFimPromoc needs both dates; the flag decides only without any."""
    start_only = state(promotional=D("8"), promo_start=date(2026, 11, 20), promotion_flag=True)
    end_only = state(promotional=D("8"), promo_end=date(2026, 11, 30), promotion_flag=True)
    for half in (start_only, end_only):
        assert not promotion_running(half, TODAY)
        assert target_price(half, TODAY).price == D("10.00")
        assert recheck_on(half, date(2026, 11, 1)) is None  # it never starts by date either


def test_target_and_variant_input():
    promo = state(promotional=D("7.999"), promo_start=TODAY, promo_end=TODAY)
    target = target_price(promo, TODAY)
    assert variant_input("gid://v/1", target) == {
        "id": "gid://v/1",
        "price": "8.00",
        "compareAtPrice": "10.00",
    }
    ended = target_price(promo, date(2026, 11, 29))
    assert variant_input("gid://v/1", ended) == {"id": "gid://v/1", "price": "10.00", "compareAtPrice": None}
    inactive = variant_input("gid://v/1", target_price(state(sale_active=False), TODAY))
    assert inactive["inventoryPolicy"] == "DENY"
    assert target.digest() != ended.digest() and target.digest() == target_price(promo, TODAY).digest()


def test_a_promotion_not_below_the_normal_price_is_no_promotion():
    """A "promotional" price at or above the normal one (typed by mistake, a stale one kept) never
    raises the shop's price: the normal price alone, no strike-through, and nothing starts or ends
    by its dates (the store's price and every market's list price come from target_price)."""
    for promotional in (D("12.99"), D("10.00")):
        dated = state(promotional=promotional, promo_start=date(2026, 11, 1), promo_end=date(2026, 12, 31))
        flagged = state(promotional=promotional, promotion_flag=True)
        for s in (dated, flagged):
            assert not promotion_running(s, TODAY)
            target = target_price(s, TODAY)
            assert (target.price, target.compare_at) == (D("10.00"), None)
            weighed = target_price(s, TODAY, D("0.5"))
            assert (weighed.price, weighed.compare_at) == (D("5.000"), None)
        assert recheck_on(state(promotional=promotional, promo_start=date(2026, 12, 1),
                                promo_end=date(2026, 12, 5)), TODAY) is None  # fmt: skip
    lower = target_price(state(promotional=D("9.99"), promotion_flag=True), TODAY)
    assert (lower.price, lower.compare_at) == (D("9.99"), D("10.00"))


def test_no_price_in_the_erp_is_no_price_sent_and_not_for_sale():
    """A normal price of 0 is Consinco's "no price": nothing to send (not R$ 0.00), off sale."""
    target = target_price(state(normal=D("0"), promotional=D("5"), promotion_flag=True), TODAY)
    assert (target.price, target.compare_at, target.for_sale) == (None, None, False)
    sent = variant_input("gid://v/1", target)
    assert sent == {"id": "gid://v/1", "compareAtPrice": None, "inventoryPolicy": "DENY"}
    assert PriceState.from_data(state(normal=D("0")).to_data()).sale_active is False


def test_recheck_dates():
    future = state(promotional=D("8"), promo_start=date(2026, 12, 1), promo_end=date(2026, 12, 5))
    assert recheck_on(future, TODAY) == date(2026, 12, 1)
    assert recheck_on(future, date(2026, 12, 2)) == date(2026, 12, 6)
    assert recheck_on(future, date(2026, 12, 6)) is None
    assert recheck_on(state(), TODAY) is None


def test_state_round_trips_through_binding_data():
    s = state(promotional=D("8.5"), promo_start=TODAY, promo_end=None, sale_active=False)
    assert PriceState.from_data(s.to_data()) == s


def test_units_and_sku_ids():
    assert unit_factor({"weighed": True, "unit_kg": "0.1"}) == D("0.1")
    assert unit_factor({"weighed": False, "unit_kg": "0.1"}) == D("1")
    assert parse_sku("P919E12") == (919, D("12")) and parse_sku("X1") is None
    unit = SkuUnit.from_binding(
        "P5E1", {"seq_produto": 5, "qtd_embalagem": "1", "weighed": True, "unit_kg": "0.5"}
    )
    assert unit is not None and unit.base_per_unit == D("0.5")
    assert SkuUnit.from_binding("P7E6", None) == SkuUnit("P7E6", 7, D("6"))


def stock(**kw):
    base = dict(
        nro_empresa=1,
        seq_produto=919,
        store=D("120"),
        warehouse=D("48"),
        third_party=D("0"),
        exchange=D("2"),
        reserved_sale=D("5"),
        reserved_receiving=D("0"),
        reserved_fixed=D("1"),
        available=D("162"),
        controlled=True,
        safety=D("10"),
        available_ecommerce=D("152"),
        skus=(SkuStock("P919E1", D("1"), D("152")),),
        changed_at=datetime.now(UTC),
        last_movement_at=None,
    )
    return Stock(**{**base, **kw})


def test_formula_safety_pending_and_packagings():
    base = sellable_base(stock())
    assert base == D("152")  # 120 + 48 - 5 - 0 - 1 + 0 - 10 (exchange stock is not sellable)
    box = SkuUnit("P919E12", 919, D("12"))
    assert units_for(base, D("0"), box) == 12
    assert units_for(base, D("9"), box) == 11  # 143 // 12
    assert units_for(D("-3"), D("0"), box) == 0  # clamped
    assert sellable_base(stock(controlled=False)) is None
    kg = SkuUnit("P5E1", 5, D("1"), weighed=True, unit_kg=D("0.1"))
    assert units_for(D("2.35"), D("0"), kg) == 23


def test_a_figure_above_shopifys_ceiling_is_held_at_it():
    """Shopify holds at most 1,000,000,000 a level (and GraphQL's Int stops at 2,147,483,647)."""
    one = SkuUnit("P7E1", 7, D("1"))
    box = SkuUnit("P7E6", 7, D("6"))
    assert MAX_LEVEL == 1_000_000_000
    assert units_for(D("5000000000"), D("0"), one) == MAX_LEVEL
    assert units_for(D("1000000000.9"), D("0"), one) == MAX_LEVEL
    assert not above_ceiling(D("1000000000.9"), one)
    assert units_for(D("1000000001"), D("2"), one) == 999_999_999
    assert above_ceiling(D("1000000001"), one) and not above_ceiling(D("5000000000"), box)
    assert units_for(D("7000000000"), D("0"), box) == MAX_LEVEL and above_ceiling(D("7000000000"), box)
    assert not above_ceiling(None, one)


def test_pending_orders_in_base_units_and_targets():
    units = {"P919E12": SkuUnit("P919E12", 919, D("12"))}
    payloads = [
        {"nro_empresa": 1, "lines": [{"sku": "P919E12", "quantity": 2}, {"sku": "P919E1", "quantity": 3}]},
        {"nro_empresa": 2, "lines": [{"sku": "P919E1", "quantity": 1}]},
        {"lines": [{"sku": "P919E1", "quantity": 9}]},  # no company: cannot be placed
    ]
    assert pending_base_by_product(payloads, units) == {(1, 919): D("27"), (2, 919): D("1")}
    unit = SkuUnit("P919E1", 919, D("1"))
    assert level_target(D("10"), D("3"), unit, for_sale=True).quantity == 7
    assert level_target(None, D("3"), unit, for_sale=True).policy == "CONTINUE"
    off = level_target(D("10"), D("0"), unit, for_sale=False)
    assert (off.quantity, off.policy) == (0, "DENY")


def test_today_is_the_erps_day_not_utcs():
    """A promotion's last day is a day in Brazil: at 22:30 there it is already tomorrow in UTC."""
    from datetime import UTC, date, datetime

    from jobs.price_map import erp_today

    late_evening = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 2026-11-30 22:30 in Sao Paulo
    assert erp_today("America/Sao_Paulo", late_evening) == date(2026, 11, 30)
    assert erp_today("UTC", late_evening) == date(2026, 12, 1)
    assert erp_today("America/Manaus", datetime(2026, 12, 1, 3, 30, tzinfo=UTC)) == date(2026, 11, 30)


def test_a_misspelt_erp_timezone_stops_the_start(monkeypatch):
    import pytest

    from settings import ConfigurationError, Settings

    monkeypatch.setenv("ERP_TIMEZONE", "America/Sao Paulo")
    with pytest.raises(ConfigurationError, match="ERP_TIMEZONE"):
        Settings.from_env()


def test_a_binding_of_a_packaging_of_no_units_is_no_unit_to_divide_by():
    """A binding written before the ERP client refused a packaging of 0 units: read as no unit (its
    SKU waits), and a pending order of it counts for no product, rather than dividing by zero."""
    assert SkuUnit.from_binding("P7E0", {"seq_produto": 7, "qtd_embalagem": "0"}) is None
    assert SkuUnit.from_binding("P7E6", {"seq_produto": 7, "qtd_embalagem": "6"}).qtd_embalagem == 6
    orders = [{"nro_empresa": 1, "lines": [{"sku": "P7E0", "quantity": 2}]}]
    assert pending_base_by_product(orders, {}) == {}
