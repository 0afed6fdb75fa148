"""The customer's phone in clienteDto (foneDdd1 + foneNro1): the ERP upserts GE_PESSOA by document,
so a phone sent overwrites the register's. One read wrong (DDD "05" from "0055 11 ...", a 12-digit
number from "... ramal 25" or from two numbers typed in one field) replaces a good phone with one
that reaches no one; a phone that cannot be read as one Brazilian number is left out instead, and
the register keeps its own."""

from decimal import Decimal

import pytest

from erp.payloads import customer_payload
from jobs.order_customer import map_customer
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import raw_order


def _phone(address_phone: str | None, order_phone: str | None = None) -> tuple[str | None, str | None]:
    """(foneDdd1, foneNro1) sent for an order whose address carries `address_phone`."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"]["phone"] = address_phone
    raw["phone"] = order_phone
    body = customer_payload(map_customer(parse_erp_order(raw).order))
    return body.get("foneDdd1"), body.get("foneNro1")


@pytest.mark.parametrize(
    "typed",
    [
        "0055 11 99999-0000",
        "00 55 (11) 99999-0000",
        "+55 11 99999-0000",
        "(+55 11) 99999-0000",
        "5511999990000",
        "(011) 99999-0000",
        "Cel: +55 (11) 99999-0000",
    ],
)
def test_brazils_country_code_dialled_with_00_or_plus_keeps_the_ddd(typed):
    assert _phone(typed) == ("11", "999990000")


@pytest.mark.parametrize(
    "typed",
    [
        "(11) 3222-1234 ramal 25",
        "(11) 3222-1234 r. 25",
        "+55 11 3222-1234 ext. 25",
        "(11) 3222-1234 / 3222-5678",
        "(11) 3222-1234 / (11) 99999-0000",
        "(11) 3222-1234, 3222-5678",
        "11 3222-1234 ou 11 99999-0000",
        "0xx11 3222-1234",
    ],
)
def test_an_extension_or_a_second_number_is_not_read_into_the_first(typed):
    """Only the first number is the register's phone: the extension's or the second number's digits
    made a 12-digit number of "3222-1234 ramal 25"."""
    assert _phone(typed) == ("11", "32221234")


@pytest.mark.parametrize(
    "typed",
    [
        "(11) 3222-1234 3222-5678",  # two numbers with only a space between: which digits are which?
        "3222-1234",  # no DDD: sent alone, it would sit beside the register's DDD of another city
        "(05) 3222-1234",  # no DDD has a 0
        "(11) 8765-4321",  # 8 digits of a mobile that lost its ninth digit (no landline begins 6-9)
        "(11) 93222-123",  # 10 digits read as a mobile: one short
        "+55 3222-1234",  # Brazil's code, then no DDD (not DDD 55)
        "ramal 25",
    ],
)
def test_a_phone_that_is_not_one_brazilian_number_is_left_out(typed):
    assert _phone(typed) == (None, None)


def test_an_unreadable_address_phone_gives_way_to_the_orders_own():
    assert _phone("(11) 3222-1234 3222-5678", "+55 21 98888-7777") == ("21", "988887777")
