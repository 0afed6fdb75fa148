"""B2B orders (Shopify B2B: a company buying through a company location, an "atacarejo" buyer with a
CNPJ): the ERP customer is the company, its CNPJ from the company location's tax settings, never
the contact who placed the order; a location with no CNPJ is refused naming it, and Retry sends the
order once the merchant fills it in. A D2C order is read and mapped as before, at the same cost."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs import orders
from jobs.order_customer import CompanyTaxIdMissing, delivery_obs, map_customer
from ledger.errors import Rejected
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.shopify import companies, executor
from shopify_app.admin_api import documents
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.admin_api.order_results import parse_company_buyer

from .test_order_map import raw_order

COMPANY = "Atacado Bom Preço Ltda"
CNPJ = "11.222.333/0001-81"
CONTACT_CPF = "529.982.247-25"


def company(world, tax_registration_id: str | None = CNPJ) -> dict[str, str]:
    """A company with one location ("Loja Centro") and its main contact, in the shop's Shopify."""
    return companies.create_company(
        world.shopify.sandbox, world.name, COMPANY, "Loja Centro", tax_registration_id, seed=5
    )


def erp_customer(world, gid: str) -> dict:
    """The GE_PESSOA row the ERP order of `gid` was registered under."""
    [erp_order] = world.erp_orders_for(gid)
    with world.chain.handle.erp.store.read() as conn:
        row = conn.execute(select(t.ge_pessoa).where(t.ge_pessoa.c.seqpessoa == erp_order["seqpessoa"]))
        return dict(row.mappings().one())


def shipping_of(world, location_id: str) -> dict:
    return world.shopify.sandbox.store.get(world.name, location_id)["shippingAddress"]


def test_a_b2b_order_goes_to_the_erp_as_its_company(world):
    """The checkout asked no CPF/CNPJ: the order goes under the location's CNPJ, person J and the
    company's name (not refused as carrying no document); the register's address is the ERP's
    (tests/orders_in/test_b2b_locations.py), and the ERP order names where it goes."""
    ids = company(world)
    gid = world.place(company_location=ids["location"], shipping="PAC")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    person = erp_customer(world, gid)
    shipping = shipping_of(world, ids["location"])
    assert (person["nrocgccpf"] + person["digcgccpf"], person["fisicajuridica"]) == ("11222333000181", "J")
    assert (person["nomerazao"], person["fantasia"]) == (COMPANY.upper(), COMPANY)
    [erp_order] = world.erp_orders_for(gid)
    assert f"Entrega: {shipping['firstName']} {shipping['lastName']}, {shipping['address1']}" in (
        erp_order["obspedido"] or ""
    )


def test_the_contacts_cpf_typed_at_checkout_does_not_replace_the_company(world):
    """The contact typed their own CPF at checkout: the ERP customer (and the NF-e's taxpayer) is
    still the company, not the person who placed the order."""
    ids = company(world)
    gid = world.place(company_location=ids["location"], tax_id=CONTACT_CPF, shipping="PAC")
    assert world.order_doc(gid)["_localizedFields"]  # the CPF is on the order
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    person = erp_customer(world, gid)
    assert (person["nrocgccpf"] + person["digcgccpf"], person["fisicajuridica"]) == ("11222333000181", "J")
    assert person["nomerazao"] == COMPANY.upper()


def test_a_location_without_a_cnpj_is_refused_and_retry_sends_it_once_filled_in(world):
    """No tax registration ID on the location and only the contact's CPF at checkout: refused
    (nothing sent), naming the company location and where to fill in its CNPJ; the merchant fills
    it in (an alphanumeric CNPJ) and Retry sends the order under it."""
    ids = company(world, tax_registration_id=None)
    gid = world.place(company_location=ids["location"], tax_id=CONTACT_CPF, shipping="PAC")
    world.drain()
    message = world.message(gid)
    assert (message.status, message.error_class) == (MessageStatus.FAILED.value, "rejected")
    assert message.error_detail["code"] == "COMPANY_TAX_ID_MISSING"
    assert "'Loja Centro'" in message.error_text and COMPANY in message.error_text
    assert "Customers > Companies" in message.error_text and "Tax settings" in message.error_text
    assert "is a CPF" in message.error_text and "Retry" in message.error_text
    assert world.erp_orders_for(gid) == []
    assert world.link(gid) is not None and world.link(gid).nro_pedvenda is None  # listed as not in the ERP

    companies.set_tax_registration(world.shopify.sandbox, world.name, ids["location"], "12.ABC.345/01DE-35")
    assert orders.replay(message.id) == "done"
    person = erp_customer(world, gid)
    assert (person["nrocgccpf"] + person["digcgccpf"], person["fisicajuridica"]) == ("12ABC34501DE35", "J")
    assert len(world.erp_orders_for(gid)) == 1


def test_a_cnpj_typed_at_checkout_stands_in_for_a_location_without_one(world):
    ids = company(world, tax_registration_id=None)
    gid = world.place(company_location=ids["location"], tax_id=CNPJ, shipping="PAC")
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    person = erp_customer(world, gid)
    assert (person["nrocgccpf"] + person["digcgccpf"], person["nomerazao"]) == (
        "11222333000181",
        COMPANY.upper(),
    )


def _read_cost(world, operation: str, gid: str) -> tuple[int, int]:
    """(requested, actual) points of one read of `gid`, as the sandbox charges like Shopify."""
    text = documents.operation(operation).text
    answer = executor.run(world.shopify.sandbox, world.name, "cost-probe", text, {"id": gid})
    assert "errors" not in answer, answer["errors"]
    cost = answer["extensions"]["cost"]
    return cost["requestedQueryCost"], cost["actualQueryCost"]


def test_a_d2c_order_is_unchanged_and_its_read_still_costs_55_points(world):
    """docs/benchmarks.md "the order read at 50 points": a two-line web order's OrderForErp costs
    526 points requested, 55 actual (50 before the risk recommendation's point, session 32, the
    assessments' levels' point, session 35, and the order attributes' point, session 36, the
    delivery slot; the assessments' provider, session 36, is requested and costs nothing while only
    Shopify's own assessment, whose provider is null, is there; each line's properties, session 36,
    a point a line, 50 requested for the page of 50: 20 orders/s spend 100 points/s of Plus's
    20,000-point bucket over its 1,000 points/s). The B2B discriminator (purchasingEntity's
    __typename) took the point of the customer's phone, which no import read uses; the company is
    read apart (OrderCompany), for a B2B order only (whose read costs 2 points less here: its
    checkout gave no CPF/CNPJ, so localizedFields is empty)."""
    gid = world.place(tax_id=CONTACT_CPF, shipping="PAC")
    assert _read_cost(world, "OrderForErp", gid) == (526, 55)
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    person = erp_customer(world, gid)
    assert (person["nrocgccpf"] + person["digcgccpf"], person["fisicajuridica"]) == ("52998224725", "F")
    ids = company(world)
    b2b = world.place(company_location=ids["location"], shipping="PAC")
    assert _read_cost(world, "OrderForErp", b2b) == (526, 53)
    assert _read_cost(world, "OrderCompany", b2b) == (5, 5)  # no location addresses: nothing sends them


# -- the mapping, pure --------------------------------------------------------------------------


def company_entity(tax_registration_id: str | None = CNPJ) -> dict:
    """An OrderCompany purchasingEntity."""
    return {
        "__typename": "PurchasingCompany",
        "company": {"id": "gid://shopify/Company/1", "name": COMPANY},
        "location": {
            "id": "gid://shopify/CompanyLocation/2",
            "name": "Loja Centro",
            "taxSettings": {"taxRegistrationId": tax_registration_id},
        },
    }


def b2b_order(entity: dict | None = None, typed: str | None = None):
    """A parsed B2B order (the contact Maria's addresses on the order itself) with its company."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["purchasingEntity"] = {"__typename": "PurchasingCompany"}
    raw["localizedFields"] = {"nodes": [{"key": "TAX_CREDENTIAL_BR", "value": typed}] if typed else []}
    order = parse_erp_order(raw).order
    assert order.bought_by_company
    return dataclasses.replace(order, company=parse_company_buyer(entity or company_entity()))


def test_a_b2b_order_maps_to_its_company_not_its_contact():
    customer = map_customer(b2b_order(typed=CONTACT_CPF))
    assert (customer.cpf_cnpj, customer.person_type, customer.name) == (
        "11222333000181",
        "J",
        COMPANY.upper(),
    )
    # no address nor phone (the location's or the contact's): the ERP keeps its register's
    assert (customer.street, customer.cep, customer.city, customer.uf, customer.phone_number) == (None,) * 5
    assert customer.icms_contributor is None  # a company may be one: the ERP keeps its register's
    # The goods go to the order's shipping address (the contact Maria's here): named for the delivery.
    assert delivery_obs(b2b_order()).startswith("Entrega: Maria Silva, Av. Paulista, 1000")


@pytest.mark.parametrize(
    ("registered", "typed", "expected"),
    [
        ("11222333000181", None, "11222333000181"),  # unmasked
        ("12.ABC.345/01DE-35", CONTACT_CPF, "12ABC34501DE35"),  # alphanumeric
        (None, "11.222.333/0001-81", "11222333000181"),  # a CNPJ typed at checkout stands in
        ("11.222.333/0001-80", "11.222.333/0001-81", "11222333000181"),  # the location's is invalid
        (CONTACT_CPF, "11.222.333/0001-81", "11222333000181"),  # the location's is a CPF
    ],
)
def test_the_company_cnpj_comes_from_the_location_else_a_cnpj_typed_at_checkout(registered, typed, expected):
    assert map_customer(b2b_order(company_entity(registered), typed)).cpf_cnpj == expected


@pytest.mark.parametrize(
    ("registered", "typed", "words"),
    [
        (
            None,
            None,
            "the location has no tax registration ID (its CNPJ) in Shopify, and the checkout gave no",
        ),
        ("  ", CONTACT_CPF, "is a CPF (the contact's"),
        ("11.222.333/0001-80", None, "'11.222.333/0001-80' is not a valid CNPJ (CNPJ check digits"),
        (CONTACT_CPF, None, f"{CONTACT_CPF!r} is a CPF, not a CNPJ"),
        (None, "11.222.333/0001-80", "typed at checkout '11.222.333/0001-80' is invalid"),
    ],
)
def test_no_valid_cnpj_is_refused_naming_the_location_and_the_fix(registered, typed, words):
    with pytest.raises(CompanyTaxIdMissing) as refused:
        map_customer(b2b_order(company_entity(registered), typed))
    error = refused.value
    assert words in error.message
    assert "'Loja Centro'" in error.message
    assert f"Customers > Companies > {COMPANY} > Loja Centro > Tax settings" in error.message
    assert (error.code, error.detail["company_location_id"]) == (
        "COMPANY_TAX_ID_MISSING",
        "gid://shopify/CompanyLocation/2",
    )


def test_a_b2b_order_whose_company_was_not_read_is_refused_not_sent_as_its_contact():
    order = b2b_order(typed=CONTACT_CPF)
    with pytest.raises(Rejected, match="placed for a company"):
        map_customer(dataclasses.replace(order, company=None))
