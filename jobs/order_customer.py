"""The buyer of a Shopify order as the ERP's clienteDto, and the CPF/CNPJ rules. Pure, no I/O.

Why its own module: the CPF/CNPJ is the one field the ERP refuses an order for, and Shopify
only carries it in GraphQL `localizedFields` (TAX_CREDENTIAL_BR / SHIPPING_CREDENTIAL_BR), often
masked. It is normalised and validated with python-stdnum (alphanumeric CNPJ included, NT
2025.001); python-stdnum accepts a CPF of one repeated digit, which Brazil does not, so that
rule is added here. A broken one is a Rejected naming the value and the rule it broke.
Addresses: Brazilian checkouts write "street, number" in address1 (a number typed without the
comma is found too; none is "S/N"; what follows the number, "apto 12", is a complement; a street
named by a number, "Rua 2", keeps it) and "complement, district" in address2; the phone's DDD is
its first two digits after the country code (+55 or 0055) and the long-distance 0; only the first
number of the field is read (not "ramal 25" nor a second number), and a phone that is not one valid
Brazilian number (DDD + 8 or 9 digits) is not sent, so the register keeps its own. An address is sent whole,
"" for what it lacks: the ERP upserts GE_PESSOA by document and keeps a field left out, so a new
address without a complement would keep the old one's. A partial one (no street, city or state: a
wallet's billing address on a pickup) is no address: none of its fields is sent, so the register
keeps its own rather than have it wiped.

Whose document, whose name: each document goes with its own person's address. TAX_CREDENTIAL_BR
is the buyer's (the billing address), SHIPPING_CREDENTIAL_BR the recipient's (the shipping
address). The ERP upserts GE_PESSOA by document, so a gift recipient's name under the buyer's
CPF would rename the buyer's register and print the buyer's CPF under another name on the NF-e.
The name is that address's person's, the customer account's only when the address names no one:
Shopify names an account from a checkout's address, so an account would carry an earlier gift's
recipient, a nickname or a shop's name into every later order. Known limit: a gift with
Shopify's default "billing same as shipping" names the recipient in both addresses and registers
that order under the recipient's name; the buyer should fill in the billing address.
A name the order does not know is not sent (nomeRazaoSocial left out), never a placeholder: the
ERP keeps a field left out, so a register's real name stays (a "CONSUMIDOR" sent renamed it, and
the NF-e printed it). A CPF's is its person's, never its address's company field; a CNPJ's is the
company field, never the person's (who receives the goods; nor as nomeFantasia, the company's trade
name: clienteDto has no contact field). For a document the ERP does not know yet, the ERP's own
default applies (the sandbox registers it as "CONSUMIDOR", as the app used to send): the app cannot
tell cheaply whether GE_PESSOA holds a document (SmPedidoVendaAPI has no customer look-up, and the
upsert happens inside POST PedidoVenda), and consinco.md names no rule requiring the name. Should a
customer's ERP refuse a new document without one, the order stops with the ERP's own words, the
merchant adds the name to the order's address in Shopify and clicks Retry: a stop, not a rename.
A foreign address (a relative abroad buying groceries delivered in Brazil, a foreign card's
billing address) is never sent as a Brazilian one: GE_PESSOA would take "New York" with UF "NY" and
country BRASIL over the register's real address, and the NF-e's UF would be none, refused by SEFAZ
at invoicing after picking. The register takes the document's own person's address when it is in
Brazil (country BR, or none given), else the order's other address when that one is, else none (the
register keeps its own); the phone only a Brazilian one (+55, or no country code on a Brazilian
address or the order's own). A shipping address abroad is not refused here: it still goes in
obsPedido (`delivery_obs`) for whoever delivers, who sees where it goes; a store that does not
ship abroad has no shipping zone for it in Shopify.
A CEP is 8 digits; 7 are one whose leading zero was lost (an API's or marketplace's "1310-100"),
padded back; any other length is no CEP, sent as "" (the address goes whole), never cut into
another CEP. Nothing in consinco.md says the ERP needs it to take an order (and the NF-e layout
has the recipient's CEP optional, enderDest/CEP 0-1); the shipping address, CEP as typed, goes in
obsPedido for whoever delivers. So a CEP that is none stops nothing.
PedidoVenda has no delivery address of its own (consinco.md): the ERP delivers and invoices an
order to its customer's register, which the next order of the same document rewrites (a gift to
the mother, then an order to the office, before the gift is picked). So `delivery_obs` names the
shipping address in obsPedido for every delivery, even one to the customer's own address.

A B2B order (Shopify B2B: a company buying through a company location, an "atacarejo" buyer with a
CNPJ; `Order.bought_by_company`) is the company's, whoever placed it: the ERP customer is the
company, with the company location's tax registration ID as its CNPJ (Customers > Companies >
location > Tax settings), person type J and the company's name (razão social). A B2B checkout
commonly does not ask for a CPF/CNPJ, and when the contact types one it is often their own CPF:
put first, it would make the contact the ERP customer and the NF-e go to the wrong taxpayer. So
localizedFields' TAX_CREDENTIAL_BR stands in only when the location has no valid CNPJ and what was
typed is a CNPJ; otherwise the order is refused (CompanyTaxIdMissing, naming the company location
and what to fill in) and its Retry, once the merchant filled in the location's CNPJ, sends it.
The company is read apart from the order (OrderCompany, jobs.orders), only for such an order.

A B2B order's clienteDto carries no address, no phone and no e-mail, on purpose. The ERP upserts
GE_PESSOA by document, and a field clienteDto leaves out keeps what the register has
(erp.payloads). The locations of one company often share its CNPJ (the stores or delivery points
of one legal entity), each with its own billing address (Shopify fills a new location's from its
shipping address by default): sent, each order would rewrite the one register with its own
location's address, and an earlier order of another location, not invoiced yet, would be picked,
delivered and invoiced (the NF-e prints the register's address) to the wrong store. Shopify
cannot tell cheaply whether another location (or company) shares the CNPJ (no search by tax ID;
reading every location costs points per location), and the order's own addresses are that
delivery's, not the company's. So the company's register (its fiscal address, as on its CNPJ
card, and its phone) is the ERP's to keep, as its state registration and ICMS contributor flag
already are; the contact's phone and e-mail (the order's) are never sent as the company's: each
contact would rewrite the company's fiscal e-mail (emailNfe, where its NF-e XML goes) with their
own. The cost: a CNPJ the ERP does not know yet is registered without an address or e-mail,
which its staff complete (as they complete its state registration, which a contributor's NF-e
needs anyway). Where the goods go is written for every B2B order, always: `delivery_obs` names
the order's shipping address in obsPedido, even when it equals the location's billing address,
since the register's address may be another store's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError
from stdnum.util import clean

from erp.records import CustomerInput
from ledger.errors import Rejected
from ledger.words import Words
from shopify_app.admin_api.order_results import (
    SHIPPING_CREDENTIAL_BR,
    TAX_CREDENTIAL_BR,
    Address,
    CompanyBuyer,
    Customer,
    Order,
)

# Where the merchant gives a company location its CNPJ in the Shopify admin.
COMPANY_TAX_SETTINGS = "Customers > Companies > {company} > {location} > Tax settings (tax registration ID)"


class InvalidTaxId(Rejected):
    """The buyer's CPF/CNPJ breaks a rule: shown to the merchant with the value and the rule."""

    rule_words: Words | None = None

    def __init__(
        self, value: str | None, rule: str, key: str = TAX_CREDENTIAL_BR, rule_words: Words | None = None
    ) -> None:
        shown = value if value else "(empty)"
        super().__init__(
            f"CPF/CNPJ {shown!r} is invalid: {rule}",
            system="app",
            code="INVALID_TAX_ID",
            field=f"localizedFields.{key}",
            detail={"value": value, "rule": rule},
        )
        self.value = value
        self.rule = rule
        self.rule_words = rule_words  # the rule in the merchant's words (shopify_app.fail_words)
        if rule_words is not None:
            self.words = ("tax_id_invalid", {"value": value, "rule": rule_words}) if value else (
                "tax_id_invalid_empty", {"rule": rule_words})  # fmt: skip


class CompanyTaxIdMissing(InvalidTaxId):
    """A B2B order whose company location has no valid CNPJ in Shopify, and whose checkout gave no
    CNPJ either: it is the company's order, so it is not sent under the contact's CPF nor anyone
    else's. Retry sends it once the location has its CNPJ."""

    def __init__(
        self, company: CompanyBuyer, rule: str, typed: str | None, rule_words: tuple[Words, Words]
    ) -> None:
        where = COMPANY_TAX_SETTINGS.format(company=company.name, location=company.location_name)
        location_rule, checkout_rule = rule_words  # the location's, then the checkout's, in words
        # Its own words, not InvalidTaxId's: the fix is in the company location, not at checkout.
        Rejected.__init__(
            self,
            f"B2B order of company {company.name!r}, location {company.location_name!r}: {rule}. The ERP "
            f"customer of a B2B order is the company, so it is not sent under another document; fill "
            f"in the location's CNPJ in Shopify ({where}), then click Retry",
            system="app",
            words=(
                "company_tax_id_missing",
                {
                    "company": company.name,
                    "location": company.location_name,
                    "rule": location_rule,
                    "typed": checkout_rule,
                },
            ),
            code="COMPANY_TAX_ID_MISSING",
            field="purchasingEntity.location.taxSettings.taxRegistrationId",
            detail={
                "value": company.tax_registration_id,
                "rule": rule,
                "typed": typed,
                "company": company.name,
                "company_location": company.location_name,
                "company_location_id": company.location_id,
            },
        )
        self.value = company.tax_registration_id
        self.rule = rule


@dataclass(frozen=True)
class TaxId:
    document: str  # 11 digits (CPF) or 14 characters [0-9A-Z]{12}\d{2} (CNPJ)
    person_type: str  # F (CPF) | J (CNPJ)


def validate_tax_id(value: str | None) -> TaxId:
    """Normalise (strip the mask) and validate a CPF or CNPJ (alphanumeric CNPJ accepted).

    Raises:
        InvalidTaxId: missing, wrong length, repeated digit or wrong check digits; names the rule.
    """
    if value is None or not value.strip():
        raise InvalidTaxId(value, "the order carries no CPF/CNPJ (localizedFields TAX_CREDENTIAL_BR)",
                           rule_words=("tax_id_none", {}))  # fmt: skip
    # stdnum's clean maps the look-alikes a phone or a copy from a PDF brings (fullwidth digits,
    # typographic dashes) to ASCII: the document kept is the one the ERP reads, never the raw text.
    compact = re.sub(r"[\s./-]", "", clean(value, "")).upper()
    if len(compact) == 11:
        if not re.fullmatch(r"[0-9]{11}", compact):
            raise InvalidTaxId(value, "a CPF has 11 digits only", rule_words=("cpf_digits_only", {}))
        if len(set(compact)) == 1:
            raise InvalidTaxId(
                value, "a CPF made of one repeated digit is not valid", rule_words=("cpf_repeated", {})
            )
        try:
            stdnum_cpf.validate(compact)
        except ValidationError:
            raise InvalidTaxId(value, "CPF check digits (modulo 11) do not match",
                               rule_words=("cpf_check_digits", {})) from None  # fmt: skip
        return TaxId(compact, "F")
    if len(compact) == 14:
        if not re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", compact):
            raise InvalidTaxId(value, "a CNPJ has 12 characters [0-9A-Z] then 2 check digits",
                               rule_words=("cnpj_shape", {}))  # fmt: skip
        if len(set(compact)) == 1:
            raise InvalidTaxId(
                value, "a CNPJ made of one repeated digit is not valid", rule_words=("cnpj_repeated", {})
            )
        try:
            stdnum_cnpj.validate(compact)
        except ValidationError:
            raise InvalidTaxId(value, "CNPJ check digits (modulo 11) do not match",
                               rule_words=("cnpj_check_digits", {})) from None  # fmt: skip
        return TaxId(compact, "J")
    raise InvalidTaxId(value, f"a CPF has 11 digits and a CNPJ 14 characters; this has {len(compact)}",
                       rule_words=("tax_id_length", {"length": len(compact)}))  # fmt: skip


def _brazilian(address: Address | None) -> bool:
    """Whether an address is in Brazil: its country BR, or none given (a checkout that asks none)."""
    return address is not None and (address.country_code or "BR").strip().upper() == "BR"


def _brazilian_phone(phone: str | None, brazilian_place: bool) -> str | None:
    """A phone the register can take (DDD + number): one dialled with Brazil's country code (+55,
    0055), or one with no country code from a Brazilian address or the order's own; None for
    another country's (+1 212 ... would read as DDD 12) or a foreign address's without a code."""
    typed = _first_number(phone or "")
    if not typed:
        return None
    international = re.match(r"\(?(?:\+|00)", typed)
    if international:
        return phone if re.sub(r"\D", "", typed[international.end() :]).startswith("55") else None
    return phone if brazilian_place else None


# A Brazilian phone's digits after the country code and the long-distance 0: a DDD (11 to 99, no 0 in
# it), then a landline's 8 digits (beginning 2 to 5) or a mobile's 9 (beginning 9).
_BRAZILIAN_NUMBER = re.compile(r"[1-9]{2}(?:[2-5]\d{7}|9\d{8})")


def _first_number(phone: str) -> str:
    """The first number of a phone field as typed: what comes before an extension or a second number
    ("(11) 3222-1234 ramal 25", "... / 3222-5678", "..., 3222-5678", "... ou ..."), which begin with
    a character no number is written with; "0xx11" (the long-distance 0, any carrier) is "011"."""
    typed = re.sub(r"(?i)(?<=0)\s*xx", "", phone)
    found = re.search(r"[+(\d][\d\s()+.-]*", typed)  # from its first digit, "+" or "(": "Tel: (11) ..."
    return found.group().strip() if found else ""


def _split_phone(phone: str | None) -> tuple[str | None, str | None]:
    """(DDD, number) of a Brazilian phone (`_brazilian_phone`), or (None, None) when its first number
    is not one valid Brazilian number: a wrong one sent would overwrite the register's good phone
    (the ERP upserts GE_PESSOA by document), one left out keeps it. Brazil's country code goes (+55,
    0055, or 55 before 10 or 11 digits), then the long-distance 0 ("(011) 3222-1234")."""
    first = _first_number(phone or "")
    digits = re.sub(r"\D", "", first)
    international = re.match(r"\(?(?:\+|00)", first)
    if international:  # `_brazilian_phone` let only Brazil's code through
        digits = re.sub(r"^(?:00)?55", "", digits)
    elif digits.startswith("55") and len(digits) in (12, 13):
        digits = digits[2:]
    if digits.startswith("0"):
        digits = digits[1:]
    if not _BRAZILIAN_NUMBER.fullmatch(digits):
        return None, None
    return digits[:2], digits[2:]


# A house number as typed: "1000", "1.500" (a thousands dot, dropped), "1000-A", "12B", after a prefix
# or not ("nº 1000", "N.1000", "n.º 100", "número 1000", "nr 100", "Nº: 100"); a road's "km 20", "km 3,5";
# "S/N", "S/Nº", "sem número".
_NUMBER = re.compile(
    r"(?:(?:n\.?[º°o]?|nro?|n[uú]m|n[uú]mero)\.?:?\s*)?(?P<n>\d{1,3}(?:\.\d{3})+|\d+)(?P<x>-?[a-z])?"
    r"|km\.?\s*(?P<km>\d+(?:[.,]\d+)?)|(?P<sn>s/?n[º°]?|sem\s+n[uú]mero)",
    re.IGNORECASE,
)
# Words that begin a street's name, not the name itself: "Rua 2" and "Travessa 10" are streets.
_STREET_TYPES = frozenset({
    "r", "rua", "av", "avenida", "tv", "trav", "travessa", "al", "alameda", "estr", "estrada", "rod",
    "rodovia", "q", "qd", "quadra", "pc", "pça", "praca", "praça", "lg", "lgo", "largo", "bc", "beco",
    "via", "viela", "ladeira", "lad", "passagem", "servidao", "servidão", "caminho",
    "sqs", "sqn", "sqsw", "sqnw", "qi", "ql", "qe", "qs", "qn", "qnm", "qnn", "qnd", "qnl", "qr",
    "cln", "cls", "crs", "crn", "shis", "shin"
})  # fmt: skip
# Words that begin a complement: after a number typed without a comma ("Av. Brasil 1500 apto 3").
_COMPLEMENT_WORDS = frozenset({
    "ap", "apt", "apto", "apartamento", "bl", "bloco", "cs", "casa", "sl", "sala", "lt", "lote", "qd",
    "quadra", "fundos", "frente", "lj", "loja", "conj", "cj", "conjunto", "torre", "ed", "edificio",
    "edifício", "cond", "condominio", "condomínio", "galpao", "galpão", "box", "terreo", "térreo"
})  # fmt: skip


def _number_at(text: str, start: int = 0) -> tuple[str, int] | None:
    """The house number `_NUMBER` that begins at `start` and ends a word, and where it ends."""
    found = _NUMBER.match(text, start)
    if not found or re.match(r"[\w.]", text[found.end() :]):
        return None
    if found["sn"]:
        return "S/N", found.end()
    if found["km"]:
        return f"km {found['km']}", found.end()
    return found["n"].replace(".", "") + (found["x"] or ""), found.end()


def _word(text: str) -> str:
    return text.lower().strip(".:º°")


def _street_named(words: list[str]) -> bool:
    """Whether words before a number are a street's name, not only street types ("Rua 2, fundos" is
    Rua 2 without a number; "Rua Augusta 1508" and "Augusta 1508" are Augusta number 1508)."""
    return any(_word(w) not in _STREET_TYPES for w in words)


def _number_in_street(street: str) -> tuple[str, str | None, str | None]:
    """A number typed without a comma: the first number after the street's name that ends the line
    or is followed by a dash, a "/", a lone letter, another number or a complement word ("Av. Brasil
    1500 apto 3", "100 ap12"; "Rua 7 de Setembro 100"); a number a complement word follows is the
    street's ("Rua 2 casa 4", "Rua A Qd 5 Lt 10", "SQS 308 Bloco C": S/N, the rest a complement), and
    a lot's ("Lote 5 Quadra 3"); none is "S/N", with the whole line kept as the street."""
    for word in re.finditer(r"\S+", street):
        left = street[: word.start()].rstrip(" -–,")
        if not _street_named(left.split()):
            continue
        rest = street[word.start() :].split()
        if (
            _word(rest[0]) in _COMPLEMENT_WORDS
            and _word(left.split()[-1]) not in {"da", "do", "de", "das", "dos"}  # "Rua da Casa Grande"
            and len(rest) > 1
            and re.fullmatch(r"\d+\w*|[a-z]", rest[1], re.IGNORECASE)
        ):
            return left, "S/N", street[word.start() :].strip(" -–,")  # "Rua 2 casa 4", "SQS 308 Bloco C"
        found = _number_at(street, word.start())
        if not found or all(_word(w) in _COMPLEMENT_WORDS for w in left.split()):  # "Lote 5": a lot
            continue
        number, end = found
        after = street[end:].strip()
        follows = re.sub(r"\d.*", "", after.split()[0]) if after else ""  # "ap12" is "ap" 12
        if (
            not after
            or after[0] in "-–/"
            or after[0].isdigit()
            or _word(follows) in _COMPLEMENT_WORDS
            or re.fullmatch(r"[a-z]", after, re.I)
        ):
            return left, number, after.strip(" -–,/") or None
    return street, "S/N", None


def _address_line(address1: str | None) -> tuple[str | None, str | None, str | None]:
    """(street, number, what follows the number): the number is the first comma part after the
    street that begins with one (`_NUMBER`), else one typed in the street without the comma
    (`_number_in_street`); what follows it ("Av. Paulista, 1000, apto 12") is a complement."""
    if not address1 or not address1.strip():
        return None, None, None
    # Symbols (emoji, ✓, ★) are no part of an address and fall outside the NF-e's characters; "°" is "n°"'s.
    kept = (c for c in address1 if c == "°" or not unicodedata.category(c).startswith("S"))
    address1 = " ".join("".join(kept).split())
    pieces = re.findall(r"(?:km\.?\s*\d+,\d+|[^,])+", address1, re.IGNORECASE)  # "km 3,5" is one
    street, *parts = [p.strip() for p in pieces if p.strip()] or [address1.strip()]
    for i, part in enumerate(parts):
        found = _number_at(part)
        if found:
            number, end = found
            rest = [*parts[:i], part[end:].strip(" -–/"), *parts[i + 1 :]]
            return street.rstrip(" -–"), number, ", ".join(p for p in rest if p) or None
    street, number, after = _number_in_street(street)
    return street, number, ", ".join(p for p in (after, *parts) if p) or None


def _register_address(address: Address) -> dict[str, str]:
    """The address fields of clienteDto: every one of them when the address is one (a street, a city
    and a state), "" for one it has not, since the ERP upserts GE_PESSOA by document and keeps a field
    left out (a new address without a complement would keep the old one's); none at all when it is
    not (a wallet's billing address on a pickup: a name and a country), so the register keeps its
    address rather than have it wiped."""
    if not (address.address1 and address.address1.strip() and address.city and address.province_code):
        return {}
    street, number, after_number = _address_line(address.address1)
    complement, district = _complement_and_district(address.address2)
    fields = {
        "cep": _cep(address.zip),
        "street": street,
        "number": number or "S/N",
        "complement": ", ".join(p for p in (after_number, complement) if p),
        "district": district,
        "city": address.city,
        "uf": address.province_code,
    }
    return {key: value or "" for key, value in fields.items()}


def _cep(zip_code: str | None) -> str | None:
    """The CEP's 8 digits; 7 are a CEP whose leading zero was lost (written as a number somewhere:
    an API's or marketplace's "1310-100" is 01310-100). Any other length is no CEP: None, never
    cut or padded into another one (an address with no CEP is sent as "" like a missing one)."""
    digits = re.sub(r"[\s.-]", "", zip_code or "")
    if not digits.isdigit() or len(digits) not in (7, 8):
        return None
    return digits.zfill(8)


# A district named after a date ("Parque 10 de Novembro", "Vila 1º de Maio", "Conjunto 31 de Março"):
# its digits make no complement of it, unless it begins with a unit ("Apto 12 de ...": no district).
_DATE_NAMED = re.compile(
    r"\b\d{1,2}\s*[º°o]?\s+de\s+(janeiro|fevereiro|mar[cç]o|abril|maio|junho|julho|agosto|setembro|"
    r"outubro|novembro|dezembro)\b",
    re.IGNORECASE,
)
_UNIT_WORDS = frozenset({
    "ap", "apt", "apto", "apartamento", "bl", "bloco", "cs", "casa", "sl", "sala", "lt", "lote", "lj", "loja",
    "torre", "box",
})  # fmt: skip


def _complement_and_district(address2: str | None) -> tuple[str | None, str | None]:
    """address2 as (complement, district): "Apto 52, Bela Vista" both, the district last. One part
    alone is the district ("Bela Vista"), unless it reads as a complement: Shopify's address2 is
    "typically the number of the apartment, suite, or unit" ("Apto 52", "Bloco B", "Casa 2", "52"),
    which sent as the bairro overwrote the customer's real district in the ERP's register (updated
    by CPF) and lost the apartment. A district named after a date is the district (`_DATE_NAMED`):
    sent as the complement, its bairro went blank, wiping the register's (the NF-e needs one)."""
    if not address2:
        return None, None
    parts = [p.strip() for p in address2.split(",") if p.strip()]
    if not parts:  # blank or commas only (" ", ", "): neither complement nor district
        return None, None
    if len(parts) == 1:
        alone = parts[0]
        words = alone.split()
        if _DATE_NAMED.search(alone) and _word(words[0]) not in _UNIT_WORDS:
            return None, alone
        if _word(words[0]) in _COMPLEMENT_WORDS or any(ch.isdigit() for ch in alone):
            return alone, None
        return None, alone
    return ", ".join(parts[:-1]), parts[-1]


def holder(order: Order) -> tuple[str | None, str, Address | None]:
    """(document, its localizedFields key, the address of the person it belongs to): the buyer's
    TAX_CREDENTIAL_BR with the billing address, else the recipient's SHIPPING_CREDENTIAL_BR with
    the shipping address; the other address only when the order has none of its own."""
    buyer = order.localized(TAX_CREDENTIAL_BR)
    if buyer:
        return buyer, TAX_CREDENTIAL_BR, order.billing_address or order.shipping_address
    recipient = order.localized(SHIPPING_CREDENTIAL_BR)
    return recipient, SHIPPING_CREDENTIAL_BR, order.shipping_address or order.billing_address


def _validated(value: str | None, key: str) -> TaxId:
    try:
        return validate_tax_id(value)
    except InvalidTaxId as exc:
        if key == TAX_CREDENTIAL_BR:
            raise
        raise InvalidTaxId(exc.value, exc.rule, key, exc.rule_words) from None


def _person(who: Address | Customer | None) -> str:
    """The name of an address's person or of a customer account, "" when it has none."""
    return " ".join(p.strip() for p in ((who.first_name, who.last_name) if who else ()) if p and p.strip())


def _company_of(order: Order) -> CompanyBuyer:
    """The company of a B2B order, which the import reads apart (OrderCompany).

    Raises:
        Rejected (COMPANY_NOT_READ): Shopify gave no company for it (the order gone meanwhile).
    """
    if order.company is None:
        raise Rejected(
            f"order {order.name} was placed for a company (Shopify B2B), but Shopify gave no company "
            "location for it; nothing was sent. Retry reads it again",
            system="app",
            code="COMPANY_NOT_READ",
            field="purchasingEntity",
        )
    return order.company


def company_tax_id(order: Order) -> TaxId:
    """The CNPJ of a B2B order's company: its company location's tax registration ID, else a CNPJ
    typed at checkout (TAX_CREDENTIAL_BR); never a CPF, which would be the contact's.

    Raises:
        CompanyTaxIdMissing (Rejected): neither is a valid CNPJ; names the location and the fix.
        Rejected (COMPANY_NOT_READ): the company was not read.
    """
    company = _company_of(order)
    registered = company.tax_registration_id
    if not registered or not registered.strip():
        rule = "the location has no tax registration ID (its CNPJ) in Shopify"
        said: Words = ("company_location_no_tax_id", {})
    else:
        try:
            tax = validate_tax_id(registered)
        except InvalidTaxId as exc:
            rule = f"the location's tax registration ID {registered!r} is not a valid CNPJ ({exc.rule})"
            rule_said = exc.rule_words or exc.rule
            said = ("company_location_tax_id_invalid", {"value": registered, "rule": rule_said})
        else:
            if tax.person_type == "J":
                return tax
            rule = f"the location's tax registration ID {registered!r} is a CPF, not a CNPJ"
            said = ("company_location_tax_id_cpf", {"value": registered})
    typed = order.localized(TAX_CREDENTIAL_BR)
    if not typed:
        raise CompanyTaxIdMissing(company, f"{rule}, and the checkout gave no CNPJ either", typed,
                                  (said, ("checkout_no_cnpj", {})))  # fmt: skip
    try:
        tax = validate_tax_id(typed)
    except InvalidTaxId as exc:
        typed_words = ("checkout_tax_id_invalid", {"typed": typed, "rule": exc.rule_words or exc.rule})
        raise CompanyTaxIdMissing(
            company, f"{rule}, and the CPF/CNPJ typed at checkout {typed!r} is invalid ({exc.rule})", typed,
            (said, typed_words),
        ) from None  # fmt: skip
    if tax.person_type != "J":
        raise CompanyTaxIdMissing(
            company, f"{rule}, and the document typed at checkout {typed!r} is a CPF (the contact's, not the "
            "company's)", typed, (said, ("checkout_tax_id_cpf", {"typed": typed})),
        )  # fmt: skip
    return tax


def map_customer(order: Order) -> CustomerInput:
    """clienteDto: the validated CPF/CNPJ with the name and address of the person it belongs to
    (`holder`), never another person's; a B2B order's company (`company_tax_id`, its name), never
    its contact, and no address, phone or e-mail: the ERP keeps its register's (see the module)."""
    if order.bought_by_company:
        tax = company_tax_id(order)
        name = _company_of(order).name
        return CustomerInput(
            cpf_cnpj=tax.document,
            name=name.upper()[:100],
            person_type=tax.person_type,
            country="BRASIL",
            trade_name=name,
        )
    document, key, address = holder(order)
    tax = _validated(document, key)
    # A company buyer's name (razão social): its own address's company, else the other address's;
    # never the person who receives the goods. A name the order does not know is not sent (None,
    # see the module): the register keeps its own.
    if tax.person_type == "J":
        others = (order.billing_address, order.shipping_address)
        companies = ((a.company or "").strip() for a in (address, *others) if a)
        company = next((c for c in companies if c), None)
        return _customer_input(order, tax, company, company, address)
    person = _person(address) or _person(order.customer)
    return _customer_input(order, tax, person or None, None, address, recipient=key == SHIPPING_CREDENTIAL_BR)


def _email(order: Order) -> str | None:
    """The order's e-mail, else its customer's: the register's and the NF-e's."""
    return order.email or (order.customer.email if order.customer else None)


def _register_source(order: Order, address: Address | None) -> Address | None:
    """The address the register takes: the document's own person's when it is in Brazil, else the
    order's other address when that one is (the buyer abroad, the goods delivered in Brazil), else
    none. A foreign address sent as a Brazilian one (city "New York", UF "NY", country BRASIL)
    would overwrite the register's real address and put a UF that is none on the NF-e, which SEFAZ
    refuses at invoicing; with none, the register keeps its own, as for a partial address."""
    if address is None or _brazilian(address):
        return address
    other = order.shipping_address if address is order.billing_address else order.billing_address
    return other if _brazilian(other) else None


def _phone(
    order: Order, address: Address | None, *, recipient: bool = False
) -> tuple[str | None, str | None]:
    """The register's phone as (DDD, number): the document's own person's address's, else the
    order's (the buyer's: never for a `recipient`'s document), each only when Brazilian
    (`_brazilian_phone`) and one valid number (`_split_phone`); (None, None) for none, so the
    register keeps its own."""
    own = _brazilian_phone(address.phone, _brazilian(address)) if address else None
    ddd, number = _split_phone(own)
    if number or recipient:
        return ddd, number
    return _split_phone(_brazilian_phone(order.phone, True))


def _customer_input(
    order: Order,
    tax: TaxId,
    name: str | None,
    trade_name: str | None,
    address: Address | None,
    *,
    recipient: bool = False,
) -> CustomerInput:
    """`recipient`: the document is the recipient's (SHIPPING_CREDENTIAL_BR, the goods sent to
    someone else): the order's e-mail and phone are the buyer's, never sent with it (the recipient's
    register would take another person's contact, and their NF-e e-mail); the register keeps its own."""
    ddd, number = _phone(order, address, recipient=recipient)
    registered = _register_source(order, address)
    where = _register_address(registered) if registered else {}
    email = None if recipient else _email(order)
    return CustomerInput(
        cpf_cnpj=tax.document,
        name=name.upper()[:100] if name else None,
        person_type=tax.person_type,
        email=email,
        phone_ddd=ddd,
        phone_number=number,
        **where,
        country="BRASIL",
        trade_name=trade_name,
        nfe_email=email,
        # A person is no ICMS contributor; a company may be, which the order cannot tell: left
        # out, with its state registration, so the ERP keeps what its register says.
        icms_contributor="N" if tax.person_type == "F" else None,
    )


def delivery_obs(order: Order) -> str | None:
    """ "Entrega: <name>, <address>", the order's shipping address, for obsPedido: PedidoVenda
    carries no delivery address, and the customer's register is no record of this order's (a
    later order of the same document to elsewhere rewrites it before this one is picked; a B2B
    order's is the ERP's, maybe another store's: module), so every delivery names where it goes
    for the people who pick, deliver and invoice it, even to the customer's own address. None when
    nothing ships."""
    shipping = order.shipping_address
    if shipping is None:
        return None
    parts = [
        _person(shipping) or shipping.company,
        shipping.address1,
        shipping.address2,
        "/".join(p for p in (shipping.city, shipping.province_code) if p),
        f"CEP {shipping.zip}" if shipping.zip else None,
        shipping.phone,
    ]
    return "Entrega: " + ", ".join(p for p in parts if p)
