"""ledger.privacy pure functions: PII out, structure and ids kept."""

from __future__ import annotations

from ledger.privacy import REDACTED, CustomerRef, mentions, scrub, scrub_text

CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"


def test_scrub_replaces_pii_keys_and_keeps_structure():
    order = {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "email": "maria@example.com",
        "total_price": "199.90",
        "note": "entregar para Maria, CPF 52998224725",
        "customer": {
            "id": 115310627314723954,
            "first_name": "Maria",
            "last_name": "Souza",
            "phone": "+5511987654321",
            "tags": "vip",
        },
        "billing_address": {
            "name": "Maria Souza",
            "address1": "Rua A, 10",
            "city": "Campinas",
            "zip": "13000-000",
            "country_code": "BR",
        },
        "line_items": [{"id": 1, "sku": "7891000100103", "name": "Arroz 5kg", "quantity": 2}],
        "localizedFields": [{"key": "TAX_CREDENTIAL_BR", "value": "52998224725"}],
    }
    clean = scrub(order)
    assert clean["id"] == order["id"] and clean["total_price"] == "199.90"
    assert clean["admin_graphql_api_id"] == order["admin_graphql_api_id"]
    assert clean["email"] == clean["note"] == REDACTED
    assert clean["customer"] == {
        "id": 115310627314723954,
        "first_name": REDACTED,
        "last_name": REDACTED,
        "phone": REDACTED,
        "tags": "vip",
    }
    assert clean["billing_address"]["name"] == clean["billing_address"]["city"] == REDACTED
    assert clean["billing_address"]["country_code"] == "BR"
    assert clean["line_items"] == order["line_items"]  # a product's name is not PII
    assert clean["localizedFields"] == [{"key": "TAX_CREDENTIAL_BR", "value": REDACTED}]
    assert order["email"] == "maria@example.com"  # pure: the input is untouched


def test_scrub_consinco_spelling_and_free_text():
    cliente = {
        "clienteDto": {
            "cpfCnpj": "52998224725",
            "nomeRazaoSocial": "Maria Souza",
            "foneNro1": "987654321",
            "cidade": "Campinas",
            "uf": "SP",
        },
        "nroPedVenda": 123,
    }
    clean = scrub(cliente)
    assert clean["nroPedVenda"] == 123
    assert set(clean["clienteDto"].values()) == {REDACTED}
    text = f"cliente {CPF} empresa {CNPJ} mail a.b@x.com.br pedido 123"
    assert scrub_text(text) == "cliente [redacted] empresa [redacted] mail [redacted] pedido 123"
    assert scrub_text("52998224725") == REDACTED  # valid CPF check digits
    assert scrub_text("12345678901") == REDACTED  # CPF-shaped: redacted whatever its check digits
    assert scrub_text("fale com Maria", known=["maria"]) == "fale com [redacted]"


def test_mentions_finds_the_customer_and_their_orders():
    ref = CustomerRef.from_payload(
        {
            "customer": {"id": 42, "email": "Ana@Example.com", "phone": "+5511900000000"},
            "orders_to_redact": [1001],
        },
        "orders_to_redact",
    )
    assert ref.order_ids == {"1001", "gid://shopify/Order/1001"}
    assert mentions({"customer": {"id": 42}}, ref)
    assert mentions({"contact": "ana@example.com"}, ref)
    assert mentions({"id": 1001, "line_items": []}, ref)
    assert mentions({"order": {"id": "gid://shopify/Order/1001"}}, ref)
    assert not mentions({"id": 1002, "line_items": [{"id": 1001}]}, ref)
    assert not mentions({"customer": {"id": 43}, "email": "bob@example.com"}, ref)


def test_an_email_matches_only_as_a_whole_address():
    """ana@example.com is not joana@example.com: a customer's e-mail (and phone) names them
    only as a whole value, case-insensitively, never as a piece of a longer address or number;
    otherwise one customer's redact or data request reaches another customer's data."""
    ana = CustomerRef.from_payload(
        {"customer": {"id": 802, "email": "ana@example.com", "phone": "+5511900000000"}}, "orders_to_redact"
    )
    assert not mentions({"email": "joana@example.com"}, ana)
    assert not mentions({"email": "ana@example.com.br"}, ana)
    assert not mentions({"note": "mail maria.ana@example.com"}, ana)
    assert not mentions({"phone": "+55119000000001"}, ana)
    assert mentions({"email": "Ana@Example.COM"}, ana)
    assert mentions({"note": "fale com <ana@example.com>."}, ana)
    assert mentions({"phone": "tel +5511900000000"}, ana)
    assert scrub_text("joana@example.com e ana@example.com", known=ana.known_values) == (
        "[redacted] e [redacted]"
    )


def test_scrub_text_redacts_every_cpf_or_cnpj_shaped_token_inside_text():
    """A CPF/CNPJ the buyer typed is quoted in error texts (InvalidTaxId, an ERP refusal): every
    11-digit token, 14-character CNPJ token (numeric or alphanumeric, [0-9A-Z]{12} then 2
    digits) and formatted CPF/CNPJ is redacted, valid check digits or not (a mistyped CPF is
    still the buyer's). An EAN (13) and an NF-e key (44 digits) are not documents and stay."""
    texts = {
        "CPF/CNPJ '52998224726' is invalid: CPF check digits (modulo 11) do not match": "52998224726",
        "CPF/CNPJ inválido: 52998224725.": "52998224725",
        "CPF/CNPJ '12.ABC.345/01DE-36' is invalid": "12.ABC.345/01DE-36",
        "CPF/CNPJ inválido: 12ABC34501DE35.": "12ABC34501DE35",
        "cnpj 11222333000181 recusado": "11222333000181",
        "cpf 529.982.247-26": "529.982.247-26",
    }
    for text, document in texts.items():
        assert document not in scrub_text(text), text
    kept = "EAN 7891000100103 chave 35261111222333000181550010000001231000001234"
    assert scrub_text(kept) == kept


def test_scrub_text_redacts_a_delivery_address_named_in_a_note():
    """A delivery address the ERP did not take is named in its note and message (a note written
    before quoted the old and the new, jobs.order_edits.address): erased with the customer, the rest
    of the words kept."""
    note = (
        "order_edits (delivery address): The delivery address of order #1001 was changed in Shopify to "
        '"Entrega: Ana Souza, Rua Nova, 99, Campinas/SP, CEP 13015-000", but ERP order 7 is already '
        'being separated: its observation still says "Shopify #1001 - Entrega: Ana Souza, Rua Velha, 1 - '
        'tocar a campainha" and the order would go to the old address.'
    )
    clean = scrub_text(note)
    assert "Rua" not in clean and "Ana" not in clean and "campainha" not in clean, clean
    assert 'changed in Shopify to "[redacted]", but ERP order 7' in clean  # each quote whole
    assert 'still says "[redacted]" and the order' in clean


def test_scrub_erases_a_card_payments_masked_number_and_bin_and_keeps_its_receivable_ids():
    """jobs.card_payments keeps what it sent the ERP on its message: a customer's redaction takes the
    card's masked number and BIN (with the order they point at the person), not the NSU or codes."""
    sent = {"nro_pedvenda": 5, "cards": [{"id_pagto": "9", "brand": "Visa", "bin": "411111",
            "card_number": "411111******4242", "nsu": "000000001", "cod_bandeira": 1}]}  # fmt: skip
    [card] = scrub(sent)["cards"]
    assert card["card_number"] == card["bin"] == REDACTED
    kept = (card["id_pagto"], card["nsu"], card["cod_bandeira"], card["brand"])
    assert kept == ("9", "000000001", 1, "Visa")
