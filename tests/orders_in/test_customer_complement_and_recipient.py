"""clienteDto data that landed wrong in the ERP's customer register (GE_PESSOA, upserted by
document): an apartment line alone in address2 taken for the district, and a recipient's register
given the buyer's e-mail and phone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erp.payloads import customer_payload
from jobs.order_customer import map_customer
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import raw_order


def _body(raw) -> dict:
    return customer_payload(map_customer(parse_erp_order(raw).order))


# Shopify's address2 is "the number of the apartment, suite, or unit" (MailingAddress.address2, 2026-10);
# these are the sandbox checkout's own COMPLEMENTS (sandbox/shopify/checkout_people.py), typed alone.
@pytest.mark.parametrize("typed", ["Apto 52", "Casa 2", "Sala 1203", "Bloco B", "Fundos"])
def test_a_complement_alone_in_address2_is_not_sent_as_the_bairro(typed):
    """Sent as the bairro, it overwrote the customer's real district in the ERP's register (updated
    by CPF) and lost the apartment; a district alone ("Bela Vista") is still the district."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address1="Av. Paulista, 1000", address2=typed)
    body = _body(raw)
    assert (body["complementoLogradouro"], body["bairro"]) == (typed, ""), body


def test_a_recipients_document_does_not_take_the_buyers_email_and_phone():
    """Only SHIPPING_CREDENTIAL_BR (the recipient's CPF, per jobs.order_customer.holder): the register
    of Maria took Maria's name and address, but the buyer's e-mail (email and emailNfe) and phone:
    her NF-e XML sent to him. Now none of his: the register keeps hers."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["email"] = "carlos.comprador@example.com"
    raw["phone"] = "+5521988887777"
    raw["shippingAddress"].update(firstName="Maria", lastName="Presenteada", phone=None)
    raw["billingAddress"] = {
        **raw["shippingAddress"],
        "firstName": "Carlos",
        "lastName": "Comprador",
        "address1": "Rua Augusta, 1508",
        "phone": "+5521988887777",
    }
    raw["localizedFields"] = {"nodes": [{"key": "SHIPPING_CREDENTIAL_BR", "value": "390.533.447-05"}]}
    body = _body(raw)
    assert (body["cpfCnpj"], body["nomeRazaoSocial"]) == ("39053344705", "MARIA PRESENTEADA")
    assert body.get("email") != "carlos.comprador@example.com", body
    assert body.get("emailNfe") != "carlos.comprador@example.com", body
    assert (body.get("foneDdd1"), body.get("foneNro1")) != ("21", "988887777"), body


def test_a_returning_customers_apartment_line_is_their_complement_not_their_district(world):
    """Registered at Av. Paulista 1000, Bela Vista; the next order to the same street with address2
    "Apto 52" (Shopify's apartment line): GE_PESSOA.BAIRRO read "Apto 52", the complement blank."""
    from tests.orders_in.test_b2b_orders import erp_customer
    from tests.orders_in.test_customer_register import OFFICE, _imported, _person_order

    first = _person_order(world, OFFICE, seed=31)
    _imported(world, first)
    assert erp_customer(world, first)["bairro"] == "Bela Vista"
    second = _person_order(world, {**OFFICE, "address2": "Apto 52"}, seed=32)
    _imported(world, second)
    register = erp_customer(world, second)
    got = {k: register[k] or None for k in ("cmpltologradouro", "bairro")}
    assert got == {"cmpltologradouro": "Apto 52", "bairro": None}, got


@pytest.mark.parametrize(
    "district",
    ["Bela Vista", "Parque 10 de Novembro", "Conjunto 31 de Março", "Vila 1º de Maio", "Jardim 13 De Maio"],
)
def test_a_district_alone_in_address2_is_still_the_bairro(district):
    """Named after a date too: its digits made it the complement, and the bairro went blank (the ERP's
    register wiped by the upsert, the NF-e without its district)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address1="Av. Paulista, 1000", address2=district)
    body = _body(raw)
    assert (body["complementoLogradouro"], body["bairro"]) == ("", district), body


@pytest.mark.parametrize("typed", ["Apto 12 de frente", "Casa 2 do fundo", "Bloco 7 de Setembro"])
def test_a_unit_whose_words_read_like_a_date_is_still_the_complement(typed):
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address1="Av. Paulista, 1000", address2=typed)
    body = _body(raw)
    assert (body["complementoLogradouro"], body["bairro"]) == (typed, ""), body
