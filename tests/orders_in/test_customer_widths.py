"""clienteDto's address within GE_PESSOA's columns (erp.payloads.CUSTOMER_WIDTHS): Shopify allows 255
characters an address line, the complement column 60. Cut by characters, "Condominio ..., Torre B,
Apto 1203, ..." ended "..., Apto 1": the NF-e's address named apartment 1, not 1203. Street,
complement and district give way by whole ", " parts from their end (as obsPedido's delivery does),
and a part alone too long is cut between words, never inside a number."""

from decimal import Decimal

from erp.payloads import CUSTOMER_WIDTHS, customer_payload
from jobs.order_customer import map_customer
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import raw_order


def _body(**address) -> dict:
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address)
    return customer_payload(map_customer(parse_erp_order(raw).order))


def test_a_long_complement_drops_whole_parts_never_cuts_an_apartment_number():
    body = _body(address2="Condominio Residencial Parque Jardim Europa, Torre B, Apto 1203, Pinheiros")
    assert body["bairro"] == "Pinheiros"
    # "..., Torre B, Apto 1203" is 64 characters: never "..., Apto 1", and what a delivery needs (the
    # tower and the apartment: short, numbered) kept over the condominium's long name
    assert body["complementoLogradouro"] == "Torre B, Apto 1203"
    body = _body(address2="Bloco C, Apartamento 1203, entrada pela rua lateral ao lado da padaria, Centro")
    assert body["complementoLogradouro"] == "Bloco C, Apartamento 1203"
    body = _body(address2="Condominio Residencial Parque Jardim Europa das Flores, Casa 12, Pinheiros")
    assert body["complementoLogradouro"] == "Casa 12"
    body = _body(address2="Apartamento 1203 Bloco C Torre Sul Condominio Parque das Flores, Rua de tras 1234")
    assert body["complementoLogradouro"] == "Apartamento 1203 Bloco C Torre Sul Condominio Parque das"


def test_one_part_too_long_is_cut_between_words_never_inside_a_number():
    body = _body(address2="Condominio Residencial Parque Jardim Europa Torre B Apartamento 1203, Pinheiros")
    assert body["complementoLogradouro"] == "Condominio Residencial Parque Jardim Europa Torre B"
    street = "Estrada Municipal Professor Doutor José Maria Whitaker de Assumpção Filho Antigo Caminho do Mar"
    body = _body(address1=f"{street} 12500 Norte, 10")  # 100 characters end inside "12500"
    assert (body["logradouro"], body["nroLogradouro"]) == (street, "10")
    district = "Jardim Paulistano Vila Nova Conceição Alto de Pinheiros Q 1234"  # 60 end in "1234"
    body = _body(address2=f"Casa 2, {district}")
    assert body["bairro"] == "Jardim Paulistano Vila Nova Conceição Alto de Pinheiros Q"


def test_what_fits_is_sent_as_typed_and_every_field_within_its_column():
    body = _body(address2="Torre B, Apto 1203, Pinheiros")
    assert (body["complementoLogradouro"], body["bairro"]) == ("Torre B, Apto 1203", "Pinheiros")
    body = _body(
        address1="Avenida " + "Longa " * 30 + ", 1000",
        address2="X" * 80 + ", " + "Y" * 80,  # one word alone too long: cut by characters
    )
    assert body["complementoLogradouro"] == "X" * 60
    fields = {"logradouro": "street", "complementoLogradouro": "complement", "bairro": "district"}
    assert all(len(body[field]) <= CUSTOMER_WIDTHS[key] for field, key in fields.items()), body


def test_an_email_wider_than_its_column_is_left_out_never_cut_into_another_address():
    long = (  # 111 characters: cut at 100 it ends "@departamento-compras.supermercadosexe"
        "maria.fernanda.albuquerque.cavalcanti.de.souza.oliveira.santos"
        "@departamento-compras.supermercadosexemplo.com.br"
    )
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["email"] = long
    body = customer_payload(map_customer(parse_erp_order(raw).order))
    assert "email" not in body and "emailNfe" not in body, body
    raw["email"] = "maria@exemplo.com.br"
    body = customer_payload(map_customer(parse_erp_order(raw).order))
    assert body["email"] == body["emailNfe"] == "maria@exemplo.com.br"


def test_a_blank_or_commas_only_complement_sends_neither_complement_nor_district():
    for blank in (" ", ", ", ",", " , , "):
        body = _body(address2=blank)
        assert "complementoLogradouro" not in body or not body["complementoLogradouro"], (blank, body)
        assert "bairro" not in body or not body["bairro"], (blank, body)
