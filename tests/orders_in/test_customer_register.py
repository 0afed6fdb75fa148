"""What an imported person's order writes into the ERP's customer register (clienteDto -> GE_PESSOA),
which the ERP upserts by document: one CPF's orders to different addresses each name where they
go (PedidoVenda has no delivery address of its own), and a new address replaces the whole old one."""

from __future__ import annotations

from ledger.models import MessageStatus

from .test_b2b_orders import erp_customer

CPF = "529.982.247-25"

MOTHER = {"firstName": "Maria", "lastName": "Souza", "company": None, "address1": "Rua das Flores, 45",
          "address2": "Casa 2, Jardim América", "city": "Ribeirão Preto", "province": "São Paulo",
          "provinceCode": "SP", "zip": "14020-000", "phone": "+5516988887777"}  # fmt: skip
OFFICE = {"firstName": "Carlos", "lastName": "Souza", "company": None, "address1": "Av. Paulista, 1000",
          "address2": "Bela Vista", "city": "São Paulo", "province": "São Paulo",
          "provinceCode": "SP", "zip": "01310-100", "phone": "+5511999990000"}  # fmt: skip


def edit_order(world, gid: str, **fields) -> None:
    """Change the Shopify order before the import reads it (what the checkout would have given); an
    address given is laid over the order's (its country and the rest stay)."""
    store = world.shopify.sandbox.store
    with store.transaction():
        doc = store.get(world.name, gid)
        for key, value in fields.items():
            both = isinstance(value, dict) and isinstance(doc.get(key), dict)
            doc[key] = {**doc[key], **value} if both else value
        store.put(world.name, doc)


def _person_order(world, where: dict, seed: int) -> str:
    gid = world.place(tax_id=CPF, shipping="PAC", seed=seed)
    # Shopify's checkout: "use shipping address as billing address" is ticked by default.
    edit_order(world, gid, shippingAddress=dict(where), billingAddress=dict(where),
               billingAddressMatchesShippingAddress=True)  # fmt: skip
    return gid


def _imported(world, gid: str) -> None:
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text


def test_an_earlier_order_keeps_its_own_delivery_address_when_a_later_one_goes_elsewhere(world):
    """Carlos (one CPF) sends a gift to his mother, then, before it is picked, orders for his
    office: the register now holds the office, so the gift's obsPedido must name Ribeirão Preto
    though its shipping address was the billing address too (Shopify's default)."""
    gift = _person_order(world, MOTHER, seed=21)
    _imported(world, gift)
    # Both addresses name Maria (billing left equal to shipping): the register takes the billing
    # address's name, a known limit (the buyer should fill in the billing address).
    assert erp_customer(world, gift)["nomerazao"] == "MARIA SOUZA"
    office = _person_order(world, OFFICE, seed=22)
    _imported(world, office)
    [erp_gift] = world.erp_orders_for(gift)
    [erp_office] = world.erp_orders_for(office)
    assert "Entrega: Maria Souza, Rua das Flores, 45, Casa 2, Jardim América, Ribeirão Preto/SP" in (
        erp_gift["obspedido"] or ""
    ), erp_gift["obspedido"]
    office_obs = erp_office["obspedido"] or ""
    assert "Entrega: Carlos Souza, Av. Paulista, 1000" in office_obs, office_obs


def test_a_new_address_without_a_complement_does_not_keep_the_old_ones(world):
    """Registered at the mother's house ("Casa 2", Jardim América), the next order goes to an address
    with no complement: the register must not combine Av. Paulista, 1000 with "Casa 2"."""
    first = _person_order(world, MOTHER, seed=23)
    _imported(world, first)
    assert erp_customer(world, first)["cmpltologradouro"] == "Casa 2"
    second = _person_order(world, OFFICE, seed=24)
    _imported(world, second)
    register = erp_customer(world, second)
    fields = ("logradouro", "nrologradouro", "cmpltologradouro", "bairro", "cidade")
    got = {k: register[k] or None for k in fields}  # "" as sent, or NULL as Oracle stores it
    assert got == {"logradouro": "Av. Paulista", "nrologradouro": "1000", "cmpltologradouro": None,
                   "bairro": "Bela Vista", "cidade": "São Paulo"}, got  # fmt: skip


def test_odd_data_goes_in_cut_and_normalised(world):
    """Accents, very long name/complement/district/city, +55 phone with 9th digit, CEP with a dash."""
    long = {"firstName": "Maria Aparecida da Conceição Gonçalves de Albuquerque",
            "lastName": "Cavalcanti Pessoa de Mello Bandeira de Araújo Sobrinho Neta " * 2,
            "company": None, "address1": "Rua Professor Doutor José Maria Whitaker de Assumpção Filho, S/N",
            "address2": ("Condomínio Residencial Jardim das Acácias Bloco C Apartamento 1203 " * 2)
                        + ", Jardim Paulistano Vila Nova Conceição Alto de Pinheiros Sul",
            "city": "São José dos Campos", "province": "São Paulo", "provinceCode": "SP", "zip": "12245-000",
            "phone": "+55 (12) 98765-4321"}  # fmt: skip
    gid = _person_order(world, long, seed=25)
    _imported(world, gid)
    register = erp_customer(world, gid)
    assert register["nomerazao"].startswith("MARIA APARECIDA DA CONCEIÇÃO")
    assert (register["cep"], register["foneddd1"], register["fonenro1"], register["nrologradouro"]) == (
        "12245000",
        "12",
        "987654321",
        "S/N",
    )


def test_a_pickup_with_a_partial_billing_address_keeps_the_registers_address(world):
    """A repeat buyer's next order is a pickup paid with a wallet whose billing address is a name
    and a country: no address, so the register keeps the one it has rather than have it wiped."""
    first = _person_order(world, OFFICE, seed=31)
    _imported(world, first)
    pickup = world.place(tax_id=CPF, shipping="RETIRADA", seed=32)
    partial = {"firstName": "Carlos", "lastName": "Souza", "company": None, "address1": None,
               "address2": None, "city": None, "province": None, "provinceCode": None, "zip": None,
               "phone": None}  # fmt: skip
    edit_order(world, pickup, billingAddress=partial, shippingAddress=None)
    _imported(world, pickup)
    register = erp_customer(world, pickup)
    assert register["seqpessoa"] == erp_customer(world, first)["seqpessoa"]
    fields = ("logradouro", "nrologradouro", "bairro", "cidade", "uf", "cep")
    got = {k: register[k] or None for k in fields}
    assert got == {"logradouro": "Av. Paulista", "nrologradouro": "1000", "bairro": "Bela Vista",
                   "cidade": "São Paulo", "uf": "SP", "cep": "01310100"}, got  # fmt: skip


# ---------------------------------------------------------------- a name not known is not sent


def _sent(**shipping):
    """clienteDto of a one-line order (CPF, shipping address = billing) with `shipping` laid over
    its address; `tax_id` replaces its TAX_CREDENTIAL_BR."""
    from decimal import Decimal

    from erp.payloads import customer_payload
    from jobs.order_customer import map_customer
    from shopify_app.admin_api.order_import_ops import parse_erp_order
    from tests.orders_in.test_order_map import raw_order

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    tax_id = shipping.pop("tax_id", None)
    if tax_id:
        raw["localizedFields"]["nodes"][0]["value"] = tax_id
    raw["shippingAddress"].update(shipping)
    return customer_payload(map_customer(parse_erp_order(raw).order))


def test_a_cpf_buyer_with_no_name_sends_no_name_so_the_register_keeps_its_own():
    """The ERP upserts GE_PESSOA by document and keeps a field left out; "CONSUMIDOR" sent for a
    buyer the order names no one renamed a register's real name, and the NF-e printed it. A CPF's
    company field is no person's name either."""
    sent = _sent(firstName=None, lastName=None, company="Padaria Pão Quente")
    assert "nomeRazaoSocial" not in sent and "nomeFantasia" not in sent, sent
    assert sent["cpfCnpj"] == "52998224725" and sent["fisicaJuridica"] == "F"
    assert sent["logradouro"] == "Av. Paulista"  # the rest of what the order knows still goes


def test_a_cnpj_buyer_with_no_company_name_is_not_registered_under_the_persons_name():
    """A CNPJ whose addresses carry no company: the person (who receives the goods) is not the
    company's razão social, nor its nome fantasia (the company's trade name; clienteDto has no
    contact field), so neither is sent and the register keeps the company's."""
    sent = _sent(tax_id="11.222.333/0001-81")
    assert sent["fisicaJuridica"] == "J"
    assert "nomeRazaoSocial" not in sent and "nomeFantasia" not in sent, sent


def test_a_cep_that_lost_its_leading_zero_is_padded_and_any_other_length_is_not_registered():
    """An API or marketplace order's "1310-100" is 01310-100 with its leading zero lost (a CEP
    written as a number). Any other length is no CEP: sent as "" like a missing one (the address
    goes whole: the register must not keep the old address's CEP beside the new street), never cut
    to 8 digits into another CEP."""
    assert _sent(zip="1310-100")["cep"] == "01310100"
    assert _sent(zip="01310-100")["cep"] == "01310100"
    for wrong in ("013101000", "01310-1000", "131010", "0131O-100", "ABC"):
        sent = _sent(zip=wrong)
        assert sent["cep"] == "" and sent["logradouro"] == "Av. Paulista", (wrong, sent)


def test_a_nameless_order_keeps_the_registers_name_and_a_new_document_gets_the_erps_default(world):
    """Against the ERP sandbox: Carlos is on the register; his next order names no one (an API
    order, a marketplace's): his register and the NF-e keep CARLOS SOUZA. A CPF the ERP does not
    know yet, named by no one, is registered under the ERP's own default."""
    first = _person_order(world, OFFICE, seed=41)
    _imported(world, first)
    assert erp_customer(world, first)["nomerazao"] == "CARLOS SOUZA"
    nameless = {**OFFICE, "firstName": None, "lastName": None}
    second = _person_order(world, nameless, seed=42)
    edit_order(world, second, customerId=None)  # a guest: no account name to fall back on
    _imported(world, second)
    register = erp_customer(world, second)
    assert register["seqpessoa"] == erp_customer(world, first)["seqpessoa"]
    assert register["nomerazao"] == "CARLOS SOUZA"
    new = world.place(tax_id="390.533.447-05", shipping="PAC", seed=43)
    edit_order(world, new, shippingAddress=dict(nameless), billingAddress=dict(nameless), customerId=None)
    _imported(world, new)
    assert erp_customer(world, new)["nomerazao"] == "CONSUMIDOR"
