"""Brazilian identifiers the ERP produces or checks: EAN-13, CPF/CNPJ, NF-e access keys.

CPF/CNPJ and EAN check digits come from python-stdnum (alphanumeric CNPJ included). stdnum
has no NF-e key module, so the key's modulo-11 digit is computed here from the published
layout: cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) DV(1), each character
weighted as ord(c) - 48 (NT 2025.001, alphanumeric CNPJ).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from stdnum import ean
from stdnum.br import cnpj, cpf

UF_IBGE = {
    "RO": "11", "AC": "12", "AM": "13", "RR": "14", "PA": "15", "AP": "16", "TO": "17",
    "MA": "21", "PI": "22", "CE": "23", "RN": "24", "PB": "25", "PE": "26", "AL": "27",
    "SE": "28", "BA": "29", "MG": "31", "ES": "32", "RJ": "33", "SP": "35", "PR": "41",
    "SC": "42", "RS": "43", "MS": "50", "MT": "51", "GO": "52", "DF": "53",
}  # fmt: skip


def ean13(body12: str) -> str:
    """The 13-digit EAN for a 12-digit body (stdnum computes the check digit)."""
    return body12 + ean.calc_check_digit(body12)


def normalize_document(value: str) -> str:
    """Strip masks and upper-case; left-pad purely numeric short values (ERP lost zeros)."""
    cleaned = re.sub(r"[^0-9A-Za-z]", "", value or "").upper()
    if cleaned.isdigit() and len(cleaned) in (10, 13):
        cleaned = cleaned.zfill(len(cleaned) + 1)
    return cleaned


def document_kind(value: str) -> str | None:
    """'F' for a valid CPF, 'J' for a valid CNPJ (alphanumeric too), None when invalid."""
    doc = normalize_document(value)
    if len(set(doc)) <= 1:  # Receita refuses one repeated digit; stdnum's checksum accepts 111.111.111-11
        return None
    if len(doc) == 11 and cpf.is_valid(doc):
        return "F"
    if len(doc) == 14 and cnpj.is_valid(doc):
        return "J"
    return None


def split_document(doc: str) -> tuple[str, str]:
    """Consinco's NROCGCCPF / DIGCGCCPF split: body and the two check digits."""
    return doc[:-2], doc[-2:]


def make_cnpj(root8: str, branch4: str = "0001") -> str:
    """A valid CNPJ from a root and branch (stdnum computes both check digits)."""
    base = root8 + branch4
    return base + cnpj.calc_check_digits(base)


def nfe_check_digit(first43: str) -> str:
    """Modulo 11 over 43 characters, weights 2..9 from the right; DV 0 when the rest is 0/1."""
    total = 0
    weight = 2
    for char in reversed(first43):
        total += (ord(char) - 48) * weight
        weight = 2 if weight == 9 else weight + 1
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


ISSUER_ZONE = ZoneInfo("America/Sao_Paulo")  # the issuing stores' own time (the sandbox's chain is in SP)


def nfe_key(
    *, uf: str, issued: dt.datetime, cnpj_issuer: str, model: str, series: int, number: int, code: int
) -> str:
    """The 44-character access key of an NF-e (55) or NFC-e (65), emission type 1 (normal). Its
    AAMM is the issue's year and month in the issuer's own time (dhEmi is local): issued at 22:00 in
    São Paulo on the 30th, it is still that month, though UTC is already in the next one. A naive
    `issued` is UTC, as the store keeps its date-times."""
    local = (issued if issued.tzinfo is not None else issued.replace(tzinfo=dt.UTC)).astimezone(ISSUER_ZONE)
    first43 = f"{UF_IBGE[uf]}{local:%y%m}{cnpj_issuer:0>14}{model}{series:03d}{number:09d}1{code:08d}"
    if len(first43) != 43:
        raise ValueError(f"NF-e key body must have 43 characters, got {len(first43)}")
    return first43 + nfe_check_digit(first43)
