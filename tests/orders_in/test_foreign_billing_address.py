"""A CPF buyer whose billing address is abroad (a relative abroad buying groceries delivered in
Brazil, paying with a foreign card): clienteDto never carries a foreign address as a Brazilian one
(city "New York", UF "NY", country BRASIL, DDD "12" from +1 212), which would overwrite the
register's real address and put a UF that is none on the NF-e, refused by SEFAZ at invoicing."""

from decimal import Decimal

from erp.payloads import customer_payload
from jobs.order_customer import map_customer
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import raw_order

NEW_YORK = {
    "firstName": "John", "lastName": "Smith", "company": None, "address1": "350 Fifth Avenue",
    "address2": "Suite 100", "city": "New York", "province": "New York", "provinceCode": "NY",
    "zip": "10118", "countryCodeV2": "US", "phone": "+1 212 555 0100",
}  # fmt: skip
ADDRESS_FIELDS = {"cep", "logradouro", "nroLogradouro", "complementoLogradouro", "bairro", "cidade", "uf"}


def _body(raw):
    return customer_payload(map_customer(parse_erp_order(raw).order))


def test_a_foreign_billing_address_gives_way_to_the_brazilian_shipping_address():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])  # ships to Av. Paulista, São Paulo/SP
    raw["billingAddress"] = NEW_YORK
    body = _body(raw)
    assert (body["cidade"], body["uf"], body["pais"]) == ("São Paulo", "SP", "BRASIL"), body
    assert body["nomeRazaoSocial"] == "JOHN SMITH"  # the document's person, still
    # +1 212 is no Brazilian phone (it read as DDD 12): none is sent, the register keeps its own
    assert "foneDdd1" not in body and "foneNro1" not in body, body


def test_with_no_brazilian_address_none_is_sent_and_the_register_keeps_its_own():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["billingAddress"] = NEW_YORK
    raw["shippingAddress"] = {**NEW_YORK, "address1": "1 Main Street", "city": "Boston", "provinceCode": "MA"}
    body = _body(raw)
    assert ADDRESS_FIELDS.isdisjoint(body), body
    assert body["cpfCnpj"] == "52998224725" and body["nomeRazaoSocial"] == "JOHN SMITH"


def test_a_brazilian_number_on_a_foreign_address_is_kept():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["billingAddress"] = {**NEW_YORK, "phone": "+55 (11) 98888-7777"}
    body = _body(raw)
    assert "11" in body.values() and "988887777" in body.values(), body


def test_an_address_with_no_country_is_taken_as_brazilian():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["billingAddress"] = {**raw["shippingAddress"], "countryCodeV2": None, "city": "Campinas"}
    assert _body(raw)["cidade"] == "Campinas"
