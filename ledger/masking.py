"""PII masking for payloads shown in the admin page (Messages detail view, the audit trail).

Payloads in the trace hold customer data from both sides: Shopify's (email, phone, names,
address lines, `localizedFields` with the CPF/CNPJ) and the ERP's `clienteDto` (cpfCnpj,
nomeRazaoSocial, logradouro, foneNro1, emailNfe, cep...). A viewer without the right to see
PII gets a masked copy that still lets them recognise the record ("***.***.*89-01",
"a***@d***.com"). Keys are matched case- and underscore-insensitively, so `first_name` and
`firstName` are the same key; `mask_detail` then masks documents and e-mails inside every text
too (what the pages show). Pure functions: the input is never modified.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from typing import Any

DOCUMENT_KEYS = frozenset(
    {
        "cpfcnpj",
        "cpf",
        "cnpj",
        "nrocgccpf",
        "taxid",
        "taxnumber",
        "document",
        "documento",
        "documentnumber",
        "inscestadualrg",
        "rg",
    }
)
# emailAddress, phoneNumber: Shopify's Customer.defaultEmailAddress / defaultPhoneNumber
EMAIL_KEYS = frozenset({"email", "emailnfe", "contactemail", "customeremail", "emailaddress"})
PHONE_KEYS = frozenset(
    {
        "phone",
        "phonenumber",
        "fonenro1",
        "fonenro2",
        "fonenro3",
        "foneddd1",
        "foneddd2",
        "foneddd3",
        "celular",
        "mobile",
    }
)
PERSON_KEYS = frozenset(
    {
        "firstname",
        "lastname",
        "displayname",
        "nomerazaosocial",
        "nomerazao",
        "nomefantasia",
        "fantasia",
        "company",
    }
)
STREET_KEYS = frozenset(
    {"address1", "address2", "logradouro", "nrologradouro", "complementologradouro", "bairro", "street"}
)
ZIP_KEYS = frozenset({"zip", "cep", "postalcode"})
HIDDEN_KEYS = frozenset(
    {"dtanascfund", "birthdate", "birthday", "dateofbirth", "latitude", "longitude", "browserip", "clientip"}
)
# `name` is PII only about a person: a product or carrier name stays readable.
PERSON_CONTEXT_KEYS = frozenset(
    {"customer", "shippingaddress", "billingaddress", "address", "defaultaddress", "clientedto", "cliente"}
)
# An order also carries email and phone beside its `name` ("#1001"): those do not make it a person.
PERSON_SIBLING_KEYS = PERSON_KEYS | STREET_KEYS | DOCUMENT_KEYS


def mask_pii(payload: Any, reveal: bool) -> Any:
    """A copy of `payload` with PII masked, or an untouched deep copy when `reveal` is true."""
    if reveal:
        return copy.deepcopy(payload)
    return _walk(payload, parent_key="")


def mask_detail(detail: Any, reveal: bool) -> Any:
    """An error's detail: masked by key as any payload, then every text left masked as free text
    (a traceback, a rule's `value` may quote a CPF or an e-mail under a key that says nothing)."""
    if reveal:
        return copy.deepcopy(detail)
    return _texts(mask_pii(detail, reveal=False), frozenset(typed_tax_ids(detail)))


def _texts(value: Any, typed: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, dict):
        return {key: _texts(item, typed) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts(item, typed) for item in value]
    return mask_text(value, reveal=False, typed=typed) if isinstance(value, str) else value


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _walk(value: Any, parent_key: str) -> Any:
    if isinstance(value, dict):
        return _mask_dict(value, parent_key)
    if isinstance(value, list):
        return [_walk(item, parent_key) for item in value]
    return value


def _mask_dict(data: dict[str, Any], parent_key: str) -> dict[str, Any]:
    keys = {_norm(str(key)) for key in data}
    about_person = parent_key in PERSON_CONTEXT_KEYS or bool(keys & PERSON_SIBLING_KEYS)
    # Shopify's localizedFields: [{"key": "TAX_CREDENTIAL_BR", "value": "123..."}]
    localized = str(data.get("key", "")).upper()
    masked: dict[str, Any] = {}
    for key, value in data.items():
        norm = _norm(str(key))
        if norm == "value" and localized.endswith("_CREDENTIAL_BR"):
            masked[key] = _apply(mask_document, value)
        elif norm == "name" and about_person:
            masked[key] = _apply(mask_name, value)
        else:
            masked[key] = _mask_value(norm, value)
    return masked


def _mask_value(norm: str, value: Any) -> Any:
    if norm in DOCUMENT_KEYS:
        return _apply(mask_document, value)
    if norm in EMAIL_KEYS:
        return _apply(mask_email, value)
    if norm in PHONE_KEYS:
        return _apply(mask_phone, value)
    if norm in PERSON_KEYS:
        return _apply(mask_name, value)
    if norm in STREET_KEYS:
        return _apply(mask_street, value)
    if norm in ZIP_KEYS:
        return _apply(mask_zip, value)
    if norm in HIDDEN_KEYS:
        return _apply(lambda _text: "***", value)
    return _walk(value, norm)


def _apply(masker: Any, value: Any) -> Any:
    """Mask scalars (numbers included: the ERP sends CPFs as numbers); recurse into containers."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, dict | list):
        return _walk(value, "")
    return masker(str(value))


def mask_document(text: str) -> str:
    """CPF/CNPJ with only the last four digits visible: ***.***.*89-01, **.***.***/**01-95."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11:
        shaped = f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    elif len(digits) == 14:
        shaped = f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    else:
        shaped = text
    return _hide_digits(shaped, keep_last=4 if len(digits) >= 8 else 0)


def mask_email(text: str) -> str:
    """a***@d***.com: the first letter of the mailbox and of the domain, the suffix kept."""
    local, at, domain = text.partition("@")
    if not at:
        return mask_name(text)
    host, dot, suffix = domain.partition(".")
    return f"{local[:1]}***@{host[:1]}***{dot}{suffix}"


def mask_phone(text: str) -> str:
    """Every digit but the last two hidden; the punctuation stays, so the shape is recognisable."""
    return _hide_digits(text, keep_last=2)


def mask_name(text: str) -> str:
    """The first letter of each word: "João Silva" -> "J*** S****"."""
    return re.sub(r"\w+", lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), text)


def mask_street(text: str) -> str:
    """Street lines: the first letter of each word, every number hidden."""
    return _hide_digits(mask_name(text), keep_last=0)


def mask_zip(text: str) -> str:
    """CEP with the region (first two digits) visible: 01***-***."""
    digits_seen = 0
    out = []
    for char in text:
        if char.isdigit():
            digits_seen += 1
            out.append(char if digits_seen <= 2 else "*")
        else:
            out.append(char)
    return "".join(out)


def _hide_digits(text: str, keep_last: int) -> str:
    total = sum(char.isdigit() for char in text)
    seen = 0
    out = []
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep_last else "*")
        else:
            out.append(char)
    return "".join(out)


# Free text (an error message in the target's own words) may quote a document or an e-mail.
# TEXT_DOCUMENT is any CPF/CNPJ-shaped token, valid check digits or not (a mistyped CPF is still
# the buyer's): 11 digits, 14 characters [0-9A-Z]{12} then 2 digits (the alphanumeric CNPJ), or
# either formatted, whole or in part as people type them (529982247-25, 529 982 247 25,
# 12345678/0001-95). A Shopify gid matches first so its id (14 digits for a variant or a line item)
# is kept: `replace_documents` leaves it. ledger.privacy redacts with the same pattern.
_TEXT_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
TEXT_DOCUMENT = re.compile(
    r"(?P<gid>gid://shopify/\w+/\w+)"
    r"|(?<![\w])(?:\d{3}(?P<sep>[. ]?)\d{3}(?P=sep)\d{3}[- ]?\d{2}"
    r"|[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2})(?![\w])"
)


# A CPF/CNPJ no rule took, quoted whole as it was typed (any length: a digit left out, one too many),
# which TEXT_DOCUMENT's shapes do not catch: the words that quote it and the param that holds it
# (jobs.order_customer: the buyer's, the checkout's, the company location's registration), and the
# detail of the failure (`field` or Shopify's localizedFields `key` a *_CREDENTIAL_BR, its `value`).
TAX_ID_WORDS = {
    "tax_id_invalid": "value",
    "checkout_tax_id_invalid": "typed",
    "checkout_tax_id_cpf": "typed",
    "company_location_tax_id_invalid": "value",
    "company_location_tax_id_cpf": "value",
}


def typed_tax_ids(*found: Any) -> set[str]:
    """The CPF/CNPJ values as typed that words or a failure's detail quote (TAX_ID_WORDS), anywhere
    inside `found` (an error_detail, an order's note words): what their texts quote too."""
    typed: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        if not isinstance(value, dict):
            return
        label = str(value.get("key") or value.get("field") or "")
        params = value.get("params")
        if label in TAX_ID_WORDS and isinstance(params, dict):
            quoted = params.get(TAX_ID_WORDS[label])
            if isinstance(quoted, str) and quoted.strip():
                typed.add(quoted)
        if label.upper().endswith("_CREDENTIAL_BR") and isinstance(value.get("value"), str):
            typed.add(value["value"])
        for item in value.values():
            walk(item)

    for item in found:
        walk(item)
    return {value for value in typed if len(value.strip()) >= 3}  # as scrub_text's known values


def replace_typed(text: str, typed: Iterable[str], replace: Callable[[str], str]) -> str:
    """`text` with each of the `typed` values (longest first) replaced by `replace(value)`."""
    for value in sorted(typed, key=len, reverse=True):
        text = text.replace(value, replace(value))
    return text


def replace_documents(text: str, replace: Callable[[str], str]) -> str:
    """`text` with every CPF/CNPJ-shaped token replaced by `replace(token)`; gids are kept."""
    return TEXT_DOCUMENT.sub(lambda m: m.group(0) if m.group("gid") else replace(m.group(0)), text)


# A delivery address the ERP order did not take (jobs.order_edits.address): its note and message end
# with the new delivery behind NEW_DELIVERY ("Novo texto de entrega:" in its pt-BR words), as
# obsPedido names it. The text after the label, to the end of its line or quote, is the customer's
# name, address and phone: hidden whole.
NEW_DELIVERY = "New delivery text:"
NEW_DELIVERY_PT = "Novo texto de entrega:"
DELIVERY_HIDDEN = "***"
_LABELLED_DELIVERY = re.compile(
    rf"(?P<label>{re.escape(NEW_DELIVERY)}|(?<!\w){re.escape(NEW_DELIVERY_PT)})[ \t]*[^\"\n]*"
)
# The delivery as the app writes it anywhere else (jobs.order_customer.delivery_obs, quoted from
# obsPedido by an ERP answer or a note): "Entrega: <who>, <street>, ..., CEP <zip>, <phone>", with
# that capital and one space, not after a word ("Prazo de entrega: 3 dias", "Data de Entrega: ..."
# are not it), its first part begun by a letter or digit and followed by ", " (order_map keeps the
# parts that begin within its first 100 characters: who and street). "Entrega: agendada" is no
# address: it stays. The rest of its line or quote goes (obsPedido's buyer note after it too).
_APP_DELIVERY = re.compile(r"(?<!\w)(?<!\w )(?P<label>Entrega:) (?=\w)[^\"\n,]+, [^\"\n]*")


def mask_text(text: str | None, reveal: bool, typed: Iterable[str] = ()) -> str | None:
    """Mask e-mails, CPF/CNPJ-shaped tokens (EANs, NF-e keys and gids stay), a delivery address
    (`mask_delivery`) and the `typed` CPF/CNPJ values (`typed_tax_ids` of the text's failure or
    words: a mistyped one of any length) inside free text."""
    if text is None or reveal:
        return text
    text = replace_typed(text, typed, mask_document)
    text = mask_delivery(text)
    text = _TEXT_EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return replace_documents(text, mask_document)


def mask_delivery(text: str) -> str:
    """The delivery text the app writes hidden, its label kept: after NEW_DELIVERY or its pt-BR
    words to the end of the line or quote ("New delivery text: Entrega: Ana, Rua X, 1" -> "New
    delivery text: ***"), else a delivery shaped as delivery_obs writes it ("Shopify #1001 -
    Entrega: Ana, Rua X, 1" -> "Shopify #1001 - Entrega: ***")."""
    text = _LABELLED_DELIVERY.sub(lambda m: f"{m.group('label')} {DELIVERY_HIDDEN}", text)
    return _APP_DELIVERY.sub(lambda m: f"{m.group('label')} {DELIVERY_HIDDEN}", text)
