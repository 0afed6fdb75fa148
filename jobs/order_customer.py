"""The buyer of a Shopify order as the ERP's clienteDto, and the CPF/CNPJ rules. Pure, no I/O.

Why its own module: the CPF/CNPJ is the one field the ERP refuses an order for, and Shopify
only carries it in GraphQL `localizedFields` (TAX_CREDENTIAL_BR / SHIPPING_CREDENTIAL_BR), often
masked. It is normalised and validated with python-stdnum (alphanumeric CNPJ included, NT
2025.001); python-stdnum accepts a CPF of one repeated digit, which Brazil does not, so that
rule is added here. A broken one is a Rejected naming the value and the rule it broke.
Addresses: Brazilian checkouts write "street, number" in address1 (a number typed without the
comma is found too; none is "S/N") and "complement, district" in address2; the phone's DDD is
its first two digits after the country code (and the long-distance 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError

from erp.records import CustomerInput
from ledger.errors import Rejected
from shopify_app.admin_api.order_results import Address, Order


class InvalidTaxId(Rejected):
    """The buyer's CPF/CNPJ breaks a rule: shown to the merchant with the value and the rule."""

    def __init__(self, value: str | None, rule: str) -> None:
        shown = value if value else "(empty)"
        super().__init__(
            f"CPF/CNPJ {shown!r} is invalid: {rule}",
            system="shopify",
            code="INVALID_TAX_ID",
            field="localizedFields.TAX_CREDENTIAL_BR",
            detail={"value": value, "rule": rule},
        )
        self.value = value
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
        raise InvalidTaxId(value, "the order carries no CPF/CNPJ (localizedFields TAX_CREDENTIAL_BR)")
    compact = re.sub(r"[\s./-]", "", value).upper()
    if len(compact) == 11:
        if not compact.isdigit():
            raise InvalidTaxId(value, "a CPF has 11 digits only")
        if len(set(compact)) == 1:
            raise InvalidTaxId(value, "a CPF made of one repeated digit is not valid")
        try:
            stdnum_cpf.validate(compact)
        except ValidationError:
            raise InvalidTaxId(value, "CPF check digits (modulo 11) do not match") from None
        return TaxId(compact, "F")
    if len(compact) == 14:
        if not re.fullmatch(r"[0-9A-Z]{12}\d{2}", compact):
            raise InvalidTaxId(value, "a CNPJ has 12 characters [0-9A-Z] then 2 check digits")
        if len(set(compact)) == 1:
            raise InvalidTaxId(value, "a CNPJ made of one repeated digit is not valid")
        try:
            stdnum_cnpj.validate(compact)
        except ValidationError:
            raise InvalidTaxId(value, "CNPJ check digits (modulo 11) do not match") from None
        return TaxId(compact, "J")
    raise InvalidTaxId(value, f"a CPF has 11 digits and a CNPJ 14 characters; this has {len(compact)}")


def _split_phone(phone: str | None) -> tuple[str | None, str | None]:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("55") and len(digits) > 11:
        digits = digits[2:]
    if digits.startswith("0") and len(digits) > 10:  # the long-distance 0: "(011) 3222-1234"
        digits = digits[1:]
    if len(digits) < 10:
        return None, digits or None
    return digits[:2], digits[2:]


def _street_and_number(address1: str | None) -> tuple[str | None, str | None]:
    """("Rua Augusta", "1508") from "Rua Augusta, 1508" or "Rua Augusta 1508"; "S/N" (sem número,
    as the NF-e writes it) when the address has no number."""
    if not address1 or not address1.strip():
        return None, None
    street, sep, tail = address1.rpartition(",")
    tail = tail.strip()
    if sep and (any(c.isdigit() for c in tail) or tail.lower() in ("s/n", "sn")):
        return street.strip(), tail
    trailing = re.fullmatch(r"(.*?\S)[\s,]+(?:n[º°o.]*\s*)?(\d+[A-Za-z]?)", address1.strip(), re.IGNORECASE)
    if trailing:
        return trailing.group(1).rstrip(" ,"), trailing.group(2)
    return address1.strip(), "S/N"


def _complement_and_district(address2: str | None) -> tuple[str | None, str | None]:
    if not address2:
        return None, None
    parts = [p.strip() for p in address2.split(",") if p.strip()]
    if len(parts) == 1:
        return None, parts[0]
    return ", ".join(parts[:-1]), parts[-1]


def map_customer(order: Order) -> CustomerInput:
    """clienteDto from the shipping address (else billing) and the validated CPF/CNPJ."""
    tax = validate_tax_id(order.tax_id)
    address: Address | None = order.shipping_address or order.billing_address
    person = " ".join(p for p in ((address.first_name, address.last_name) if address else ()) if p)
    if not person and order.customer:
        person = " ".join(p for p in (order.customer.first_name, order.customer.last_name) if p)
    # A company buyer's name (razão social): the delivery address's company, else the billing
    # address's (the invoice's), never the person who receives it.
    company = next((a.company for a in (address, order.billing_address) if a and a.company), None)
    name = (company if tax.person_type == "J" and company else person) or "CONSUMIDOR"
    ddd, number = _split_phone((address.phone if address else None) or order.phone)
    street, street_number = _street_and_number(address.address1 if address else None)
    complement, district = _complement_and_district(address.address2 if address else None)
    email = order.email or (order.customer.email if order.customer else None)
    return CustomerInput(
        cpf_cnpj=tax.document,
        name=name.upper()[:100],
        person_type=tax.person_type,
        email=email,
        phone_ddd=ddd,
        phone_number=number,
        cep=re.sub(r"\D", "", address.zip or "") or None if address else None,
        street=street,
        number=street_number,
        complement=complement,
        district=district,
        city=address.city if address else None,
        uf=address.province_code if address else None,
        country="BRASIL",
        trade_name=company if tax.person_type == "J" else None,
        nfe_email=email,
        # A person is no ICMS contributor; a company may be, which the order cannot tell: left
        # out, with its state registration, so the ERP keeps what its register says.
        icms_contributor="N" if tax.person_type == "F" else None,
    )
