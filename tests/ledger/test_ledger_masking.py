"""mask_pii(): PII from both sides masked recognisably, everything else untouched."""

import copy

from ledger.masking import mask_document, mask_email, mask_name, mask_phone, mask_pii, mask_text, mask_zip

SHOPIFY_ORDER = {
    "name": "#1001",
    "email": "ana.souza@gmail.com",
    "phone": "+5511987654321",
    "customer": {"first_name": "Ana", "last_name": "Souza", "email": "ana.souza@gmail.com"},
    "shippingAddress": {
        "name": "Ana Souza",
        "address1": "Rua das Flores, 123",
        "address2": "Apto 45",
        "zip": "01310-100",
        "city": "São Paulo",
        "company": "Padaria Pão Quente",
    },
    "lineItems": [{"name": "Arroz Tio João 5kg", "sku": "7891000100103", "quantity": 2}],
    "shippingLines": [{"name": "Sedex"}],
    "localizedFields": [{"key": "TAX_CREDENTIAL_BR", "value": "123.456.789-01"}],
}

ERP_ORDER = {
    "nroPedVenda": 555,
    "clienteDto": {
        "cpfCnpj": 12345678901,
        "nomeRazaoSocial": "Ana Souza",
        "logradouro": "Rua das Flores",
        "nroLogradouro": "123",
        "foneDdd1": "11",
        "foneNro1": "987654321",
        "email": "ana@empresa.com.br",
        "emailNfe": "nfe@empresa.com.br",
        "cep": "01310100",
        "cidade": "São Paulo",
        "uf": "SP",
    },
}


def test_documents():
    assert mask_document("123.456.789-01") == "***.***.*89-01"
    assert mask_document("12345678901") == "***.***.*89-01"
    assert mask_document("12.345.678/0001-95") == "**.***.***/**01-95"


def test_email_phone_name_zip():
    assert mask_email("ana.souza@domain.com") == "a***@d***.com"
    assert mask_email("x@empresa.com.br") == "x***@e***.com.br"
    assert mask_phone("+55 (11) 98765-4321") == "+** (**) *****-**21"
    assert mask_name("João Silva") == "J*** S****"
    assert mask_zip("01310-100") == "01***-***"


def test_shopify_payload_masked():
    original = copy.deepcopy(SHOPIFY_ORDER)
    masked = mask_pii(SHOPIFY_ORDER, reveal=False)
    assert original == SHOPIFY_ORDER  # the input is never modified
    assert masked["name"] == "#1001"  # an order name is not a person
    assert masked["email"] == "a***@g***.com"
    assert masked["phone"].endswith("21") and "987654" not in masked["phone"]
    assert masked["customer"] == {"first_name": "A**", "last_name": "S****", "email": "a***@g***.com"}
    address = masked["shippingAddress"]
    assert address["name"] == "A** S****"
    assert address["address1"] == "R** d** F*****, ***"
    assert address["address2"] == "A*** **"
    assert address["zip"] == "01***-***"
    assert address["company"] == "P****** P** Q*****"
    assert address["city"] == "São Paulo"
    assert masked["lineItems"][0] == SHOPIFY_ORDER["lineItems"][0]
    assert masked["shippingLines"][0]["name"] == "Sedex"
    assert masked["localizedFields"][0] == {"key": "TAX_CREDENTIAL_BR", "value": "***.***.*89-01"}


def test_erp_payload_masked():
    masked = mask_pii(ERP_ORDER, reveal=False)["clienteDto"]
    assert masked["cpfCnpj"] == "***.***.*89-01"
    assert masked["nomeRazaoSocial"] == "A** S****"
    assert masked["logradouro"] == "R** d** F*****"
    assert masked["nroLogradouro"] == "***"
    assert masked["foneNro1"] == "*******21"
    assert masked["email"] == "a***@e***.com.br"
    assert masked["emailNfe"] == "n***@e***.com.br"
    assert masked["cep"] == "01******"
    assert masked["uf"] == "SP"


def test_graphql_customer_and_coordinates():
    masked = mask_pii(
        {"customer": {"displayName": "Ana Souza", "defaultAddress": {"latitude": -23.5, "city": "Santos"}}},
        reveal=False,
    )
    assert masked == {
        "customer": {"displayName": "A** S****", "defaultAddress": {"latitude": "***", "city": "Santos"}}
    }


def test_reveal_returns_an_equal_copy():
    revealed = mask_pii(ERP_ORDER, reveal=True)
    assert revealed == ERP_ORDER and revealed is not ERP_ORDER


def test_scalars_none_and_lists():
    assert mask_pii(None, reveal=False) is None
    assert mask_pii([{"email": None}, {"email": ""}], reveal=False) == [{"email": None}, {"email": ""}]
    assert mask_pii("plain text", reveal=False) == "plain text"


def test_mask_text_hides_documents_and_emails_but_keeps_codes():
    from ledger.masking import mask_text

    text = (
        "CPF/CNPJ inválido: 52998224724 (maria@example.com); EAN 7891234567895; "
        "NF-e 35210320695448000184550010000035891981839923"
    )
    masked = mask_text(text, reveal=False)
    assert "52998224724" not in masked and "maria@example.com" not in masked
    assert "7891234567895" in masked and "35210320695448000184550010000035891981839923" in masked
    assert mask_text(text, reveal=True) == text
    assert "12ABC34501DE35" not in mask_text("CNPJ 12ABC34501DE35 recusado", reveal=False)


def test_an_error_detail_masks_documents_and_emails_under_any_key():
    """A refused CPF sits under `value`, a bug's traceback is free text: a viewer sees neither in
    full; what identifies the error (the rule, an EAN, an NF-e key) stays readable."""
    from ledger.masking import mask_detail

    detail = {
        "value": "529.982.247-26",
        "rule": "CPF check digits",
        "traceback": "ValueError: buyer maria.souza@example.com CPF 52998224726 (EAN 7891000100103)",
        "nfe": "35261153464097000150550010000000011202141243",
    }
    masked = mask_detail(detail, reveal=False)
    assert masked["value"] == "***.***.*47-26" and masked["rule"] == "CPF check digits"
    assert "maria.souza" not in masked["traceback"] and "52998224726" not in masked["traceback"]
    assert "7891000100103" in masked["traceback"] and masked["nfe"] == detail["nfe"]
    assert mask_detail(detail, reveal=True) == detail


def test_a_shopify_gid_is_not_a_document():
    """A Shopify gid's numeric id may have 14 digits (gid://shopify/ProductVariant/44012345678901):
    it identifies a record, not a person, and stays readable in masked and redacted texts."""
    from ledger.masking import mask_text
    from ledger.privacy import scrub_text

    text = "variant gid://shopify/ProductVariant/44012345678901 for CPF 52998224726"
    for shown in (mask_text(text, reveal=False), scrub_text(text)):
        assert "gid://shopify/ProductVariant/44012345678901" in shown and "52998224726" not in shown


def test_mask_text_hides_the_delivery_text_the_app_writes():
    """The delivery as jobs.order_customer.delivery_obs writes it ("Entrega: <name>, <street>, ...")
    wherever a text quotes it (an ERP answer quoting obsPedido, a note's new delivery behind its label)."""
    delivery = "Entrega: Maria Souza, Rua das Flores, 1234, Sao Paulo/SP, CEP 01310-100, +55 11 98765-4321"
    texts = [
        f"obsPedido rejected: Shopify #1001 - {delivery} - deixar na portaria",
        delivery,
        f'its observation still says "Shopify #1001 - {delivery}"',
        f"Do this. New delivery text: {delivery}",
        f"Faça isto. Novo texto de entrega: {delivery}",
    ]
    for text in texts:
        shown = mask_text(text, reveal=False)
        assert not any(v in shown for v in ("Maria", "Flores", "1234", "01310", "98765")), shown
    assert mask_text(f"New delivery text: {delivery}", reveal=False) == "New delivery text: ***"
    assert mask_text(f"x - {delivery}", reveal=False) == "x - Entrega: ***"
    assert mask_text(f"x - {delivery}", reveal=True) == f"x - {delivery}"


def test_mask_text_leaves_an_ordinary_delivery_phrase_alone():
    """ "Entrega" in a text the app did not shape as a delivery (no "<who>, <where>" after it, or a
    word before it: "Prazo de entrega:") says no address: a viewer reads it."""
    texts = [
        "Prazo de entrega: 3 dias",
        "O pedido 77 do ERP já indica esta entrega: nada a enviar",  # skip_words, said to viewers too
        "Entrega: agendada",
        "ERP answered: Data de Entrega: 02/12/2026, manhã",
        "Forma de entrega: Entrega expressa, 14,90",
        "a observação traz o texto da nova entrega como a nota o mostra (“Entrega: …”, copie-o da nota)",
    ]
    for text in texts:
        assert mask_text(text, reveal=False) == text


def test_shopifys_newer_contact_fields_and_other_documents_are_masked_for_a_viewer() -> None:
    """Customer.defaultEmailAddress.emailAddress and defaultPhoneNumber.phoneNumber (2026-10), an RG or
    a document number, a birthday and the buyer's IP: masked as their kind, as customers/redact
    erases them (ledger.privacy.PII_KEYS)."""
    payload = {
        "customer": {
            "defaultEmailAddress": {"emailAddress": "ana.souza@example.com"},
            "defaultPhoneNumber": {"phoneNumber": "+5511987654321"},
        },
        "holder": {"rg": "123456789", "documentNumber": "52998224725", "taxNumber": "11222333000181"},
        "birthday": "1990-05-01",
        "browser_ip": "200.100.50.25",
    }
    masked = mask_pii(payload, reveal=False)
    text = str(masked)
    for kept in (
        "ana.souza",
        "987654321",
        "123456789",
        "52998224725",
        "11222333000181",
        "1990-05-01",
        "200.100",
    ):
        assert kept not in text, (kept, masked)
    assert mask_pii(payload, reveal=True) == payload


def test_every_key_masked_for_a_viewer_is_erased_by_a_redaction() -> None:
    from ledger import masking, privacy

    masked = (
        masking.DOCUMENT_KEYS
        | masking.EMAIL_KEYS
        | masking.PHONE_KEYS
        | masking.PERSON_KEYS
        | masking.STREET_KEYS
        | masking.ZIP_KEYS
        | masking.HIDDEN_KEYS
    )
    assert masked - privacy.PII_KEYS == set()
