"""B2B orders of a company whose locations (its stores, its delivery points) share one CNPJ: the
ERP upserts GE_PESSOA by document, so the order of one location must not rewrite the company's
register with that location's address (nor its contact's phone or e-mail), which would move an earlier
order of another location, not invoiced yet, to the wrong store. Each ERP order names where it
goes in obsPedido instead (PedidoVenda has no delivery address of its own)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from erp.payloads import customer_payload
from jobs.order_customer import delivery_obs, map_customer
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.consinco.fiscal import make_cnpj
from sandbox.shopify import companies
from shopify_app.admin_api.order_results import Address

from .test_b2b_orders import COMPANY, b2b_order, erp_customer
from .test_customer_register import edit_order

# A CNPJ no other test registers: its register is this file's to set.
SHARED_CNPJ = make_cnpj("47960950", "0001")
REGISTER = {
    "cep": "01310100", "cidade": "São Paulo", "uf": "SP", "bairro": "Bela Vista", "logradouro": "Av Paulista",
    "nrologradouro": "1000", "foneddd1": "11", "fonenro1": "32221234",
    "email": "fiscal@atacadobompreco.com.br",
}  # fmt: skip


def _registered(world) -> None:
    """The company is a customer the ERP knows: its register, with the fiscal address its staff
    keep (as on the CNPJ card), set whatever an earlier test left."""
    body, digits = SHARED_CNPJ[:-2], SHARED_CNPJ[-2:]
    gp = t.ge_pessoa
    with world.chain.handle.erp.store.write() as (conn, now):
        same = (gp.c.nrocgccpf == body) & (gp.c.digcgccpf == digits)
        if conn.execute(select(gp.c.seqpessoa).where(same)).first():
            conn.execute(gp.update().where(same).values(dtaalteracao=now, **REGISTER))
            return
        seq = max(conn.execute(select(func.max(gp.c.seqpessoa))).scalar() or 0, 1000) + 1
        conn.execute(gp.insert().values(seqpessoa=seq, nomerazao=COMPANY.upper(), fisicajuridica="J",
                                        nrocgccpf=body, digcgccpf=digits, dtaalteracao=now,
                                        **REGISTER))  # fmt: skip


def _two_stores(world) -> dict[str, str]:
    """A company with two locations under one CNPJ, each at its own address (billing as shipping,
    Shopify's default for a new location)."""
    ids = companies.create_company(
        world.shopify.sandbox, world.name, COMPANY, "Loja Centro", SHARED_CNPJ, seed=5
    )
    ids["other"] = companies.add_location(
        world.shopify.sandbox, world.name, ids["company"], "Loja Norte", SHARED_CNPJ, seed=9
    )
    return ids


def _register_of(world, gid: str) -> dict:
    person = erp_customer(world, gid)
    return {key: person[key] for key in REGISTER}


def test_orders_of_two_locations_sharing_a_cnpj_leave_the_companys_register_as_the_erp_keeps_it(world):
    _registered(world)
    ids = _two_stores(world)
    a = world.place(company_location=ids["location"], shipping="PAC")
    world.drain()
    assert world.message(a).status == MessageStatus.DONE.value, world.message(a).error_text
    assert _register_of(world, a) == REGISTER
    b = world.place(company_location=ids["other"], shipping="PAC")
    world.drain()
    assert world.message(b).status == MessageStatus.DONE.value, world.message(b).error_text
    assert erp_customer(world, b)["seqpessoa"] == erp_customer(world, a)["seqpessoa"]  # one register
    # order B did not move order A's customer (not invoiced yet) to Loja Norte
    assert _register_of(world, a) == REGISTER


def test_each_order_of_a_location_names_where_it_goes(world):
    """The location's billing address is its shipping address (Shopify's default), so the order's
    shipping address equals it: still, obsPedido names the delivery, as the register does not."""
    _registered(world)
    ids = _two_stores(world)
    a = world.place(company_location=ids["location"], shipping="PAC")
    b = world.place(company_location=ids["other"], shipping="PAC")
    world.drain()
    for gid in (a, b):
        assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
        shipping = world.order_doc(gid)["shippingAddress"]
        [erp_order] = world.erp_orders_for(gid)
        obs = erp_order["obspedido"] or ""
        assert "Entrega: " in obs and shipping["address1"] in obs and shipping["city"] in obs, (gid, obs)
    assert (
        world.order_doc(a)["shippingAddress"]["address1"] != world.order_doc(b)["shippingAddress"]["address1"]
    )


def test_orders_of_two_contacts_leave_the_companys_email_as_the_erp_keeps_it(world):
    """The company's register holds its fiscal e-mail (where its NF-e XML goes): two contacts of the
    company (buyers João and Ana) each place an order, and neither rewrites it with their own."""
    _registered(world)
    ids = _two_stores(world)
    emails = []
    for buyer, seed in (("joao.compras@gmail.com", 11), ("ana.estagiaria@hotmail.com", 12)):
        gid = world.place(company_location=ids["location"], shipping="PAC", seed=seed)
        edit_order(world, gid, email=buyer)
        world.drain()
        assert world.message(gid).status == MessageStatus.DONE.value, world.message(gid).error_text
        emails.append(erp_customer(world, gid)["email"])
    assert emails == [REGISTER["email"]] * 2


# -- the mapping, pure --------------------------------------------------------------------------


def test_a_b2b_customer_carries_no_address_phone_nor_email_of_its_location_or_contact():
    """Left out of clienteDto, the register's address, phone and e-mails stay what the ERP keeps; the
    contact's phone and e-mail (the order's) are never sent as the company's."""
    order = dataclasses.replace(b2b_order(), phone="+5511988887777", email="compras@example.com.br")
    sent = customer_payload(map_customer(order))
    assert set(sent) == {"cpfCnpj", "nomeRazaoSocial", "nomeFantasia", "fisicaJuridica", "pais"}, sent


def test_a_b2b_order_shipping_to_its_locations_address_still_names_the_delivery():
    """At a B2B checkout Shopify copies the location's address into the order's billing and
    shipping addresses: they are equal, yet the delivery is named (the register is not where the
    goods go: it is the ERP's, maybe another store's)."""
    store = Address(first_name="Recebimento", last_name=None, company=COMPANY,
                    address1="Rua do Atacado, 250", address2="Galpão 3, Distrito Industrial", city="Campinas",
                    province="São Paulo", province_code="SP", zip="13050-000", country_code="BR",
                    phone="+551932221234")  # fmt: skip
    order = dataclasses.replace(b2b_order(), shipping_address=store, billing_address=store)
    assert delivery_obs(order) == (
        "Entrega: Recebimento, Rua do Atacado, 250, Galpão 3, Distrito Industrial, Campinas/SP, "
        "CEP 13050-000, +551932221234"
    )
