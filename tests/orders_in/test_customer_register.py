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
