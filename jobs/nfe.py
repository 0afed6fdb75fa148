"""NF-e / NFC-e access key (chave de acesso) validation: pure, no I/O.

Why hand-written: python-stdnum validates CPF/CNPJ (alphanumeric included) but has no NF-e key
validator, and the key's check digit is the one thing that must hold before an invoice is
written on a Shopify order. Layout (44 characters):

    cUF(2) AAMM(4) CNPJ/CPF(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1)

The check digit is modulo 11 over the first 43 positions, weights 2..9 cycling from the right;
r = sum % 11, DV = 0 when r < 2 else 11 - r. Since the alphanumeric CNPJ (NT 2025.001) the
issuer part may hold [0-9A-Z]; every character counts as ord(c) - 48.

A valid key is still only the key of *a* document: `document_mismatch` compares its model,
series, number, issuer CNPJ and AAMM with the document it is said to be (a key pasted from
another NF-e, or mistyped with a check digit that happens to hold, names another document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

KEY_LENGTH = 44
MODELS = {"55": "NF-e", "65": "NFC-e"}
# The tag the app adds to a Shopify order when it applies the ERP's invoice of it (jobs.invoices):
# "NF-e emitida", "NFC-e emitida" (model 65). Here, pure, so the import reads it too
# (jobs.order_kinds: an order so tagged was sent to and invoiced by the ERP).
INVOICE_TAG = "{kind} emitida"
INVOICE_TAGS = frozenset(INVOICE_TAG.format(kind=kind) for kind in MODELS.values())
# IBGE state code (cUF) of each of the 27 federative units, by its abbreviation (the ERP's UF).
UF_CODE = {
    "RO": 11, "AC": 12, "AM": 13, "RR": 14, "PA": 15, "AP": 16, "TO": 17,
    "MA": 21, "PI": 22, "CE": 23, "RN": 24, "PB": 25, "PE": 26, "AL": 27,
    "SE": 28, "BA": 29, "MG": 31, "ES": 32, "RJ": 33, "SP": 35, "PR": 41,
    "SC": 42, "RS": 43, "MS": 50, "MT": 51, "GO": 52, "DF": 53,
}  # fmt: skip
UF_CODES = frozenset(UF_CODE.values())
# ASCII digits only ([0-9], not \d: an Arabic-Indic digit is a Unicode digit that int() reads and the
# check digit, by ord(), does not); the issuer's 12 [0-9A-Z] then its 2 numeric check digits.
_LAYOUT = re.compile(r"^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$")


class InvalidNfeKey(ValueError):
    """The key breaks a rule; `value` is the key as given and `rule` names what it broke."""

    def __init__(self, value: str, rule: str, words: tuple[str, dict[str, Any]] | None = None) -> None:
        super().__init__(f"invalid NF-e key {value!r}: {rule}")
        self.value = value
        self.rule = rule
        self.words = words  # the rule in the merchant's words (a key of shopify_app.note_words, params)


@dataclass(frozen=True)
class NfeKey:
    """A validated access key split into its fields."""

    key: str
    uf: int
    year_month: str  # AAMM
    issuer: str  # CNPJ (or CPF left-padded) of the issuer
    model: str  # 55 NF-e, 65 NFC-e
    series: int
    number: int
    emission_type: int
    code: str  # cNF
    check_digit: int

    @property
    def kind(self) -> str:
        return MODELS[self.model]


def check_digit(first43: str) -> int:
    """Modulo-11 check digit of the first 43 characters (each worth ord(c) - 48)."""
    total = 0
    weight = 2
    for char in reversed(first43):
        total += (ord(char) - 48) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def normalise(value: str) -> str:
    """Strip the spaces and dots a DANFE prints between groups; upper-case the CNPJ letters."""
    return re.sub(r"[\s.\-/]", "", value or "").upper()


def validate_key(
    value: str, *, models: frozenset[str] = frozenset(MODELS), latest_month: str | None = None
) -> NfeKey:
    """The key split into fields, or InvalidNfeKey naming the rule it broke.

    `latest_month`: the AAMM of the current month (`year_month_at`); a key of a later month is of
    a document not issued yet (a key is issued with its document, never ahead of it).

    Raises:
        InvalidNfeKey: wrong length, characters outside the layout, unknown state code, month
            out of range or later than `latest_month`, model not 55/65 (or not in `models`), a
            wrong check digit, or an issuer whose own check digits (CNPJ, or CPF padded 000) fail.
    """
    key = normalise(value)
    if len(key) != KEY_LENGTH:
        raise InvalidNfeKey(value, f"must have {KEY_LENGTH} characters, has {len(key)}",
                            ("nfe_rule_length", {"length": KEY_LENGTH, "has": len(key)}))  # fmt: skip
    if not _LAYOUT.match(key):
        raise InvalidNfeKey(
            value,
            "layout: digits everywhere except the issuer CNPJ's first 12 (positions 7-18, [0-9A-Z])",
            ("nfe_rule_layout", {}),
        )
    uf = int(key[0:2])
    if uf not in UF_CODES:
        raise InvalidNfeKey(
            value, f"cUF {key[0:2]} is not an IBGE state code", ("nfe_rule_uf", {"uf": key[0:2]})
        )
    month = int(key[4:6])
    if not 1 <= month <= 12:
        raise InvalidNfeKey(value, f"AAMM {key[2:6]}: month {key[4:6]} out of range",
                            ("nfe_rule_month", {"aamm": key[2:6], "month": key[4:6]}))  # fmt: skip
    if latest_month is not None and key[2:6] > latest_month:  # YYMM of 20YY: compared as text
        raise InvalidNfeKey(value, f"AAMM {key[2:6]} is later than the current month ({latest_month})",
                            ("nfe_rule_month_ahead", {"aamm": key[2:6], "latest": latest_month}))  # fmt: skip
    model = key[20:22]
    if model not in models:
        allowed = "/".join(sorted(models))
        raise InvalidNfeKey(value, f"model {model} is not {allowed} (55 NF-e, 65 NFC-e)",
                            ("nfe_rule_model", {"model": model, "allowed": allowed}))  # fmt: skip
    expected = check_digit(key[:43])
    if int(key[43]) != expected:
        raise InvalidNfeKey(value, f"check digit {key[43]} is wrong: modulo 11 gives {expected}",
                            ("nfe_rule_check_digit", {"digit": key[43], "expected": expected}))  # fmt: skip
    if not _issuer_valid(issuer := key[6:20]):
        rule = f"issuer {issuer} is neither a CNPJ nor a CPF: its check digits do not match"
        raise InvalidNfeKey(value, rule, ("nfe_rule_issuer", {"issuer": issuer}))
    return NfeKey(
        key=key,
        uf=uf,
        year_month=key[2:6],
        issuer=key[6:20],
        model=model,
        series=int(key[22:25]),
        number=int(key[25:34]),
        emission_type=int(key[34]),
        code=key[35:43],
        check_digit=expected,
    )


def _issuer_valid(issuer: str) -> bool:
    """The key's 14 issuer characters: a CNPJ (alphanumeric included), or a CPF left-padded with
    000 (a person's NF-e: a rural producer's), each by its own check digits (python-stdnum)."""
    if stdnum_cnpj.is_valid(issuer):
        return True
    cpf = issuer[3:]  # one digit eleven times passes the check digits, and is no CPF (brazil.md)
    return issuer.startswith("000") and len(set(cpf)) > 1 and stdnum_cpf.is_valid(cpf)


def year_month_at(moment: datetime, zone: tzinfo) -> str:
    """The AAMM of `moment` in `zone` (a key's AAMM is its issue's local year-month)."""
    local = moment.astimezone(zone)
    return f"{local.year % 100:02d}{local.month:02d}"


def is_valid_key(value: str) -> bool:
    try:
        validate_key(value)
    except InvalidNfeKey:
        return False
    return True


def document_mismatch(
    key: NfeKey, *, model: str, series: str | int, number: int, issued_at: datetime, issuer: str | None = None
) -> tuple[str, str, str] | None:
    """Pure: the first part of the key that disagrees with the document it is said to be, as
    (part, in the key, in the document) with part one of model, series, number, issuer, month;
    None when they agree.

    The issuer is compared only when the document names it, masks stripped and left-padded to 14
    (Consinco keeps the CNPJ numeric and loses its leading zeros; an alphanumeric CNPJ is upper-
    cased). The key's AAMM is the issue date in the issuer's own time zone, so the month of the
    issue moment, or of a day before or after it (an issue at the month's turn read in another
    zone), is accepted.
    """
    document_model = str(model).strip().zfill(2)
    if key.model != document_model:
        return "model", key.model, document_model
    document_series = str(series).strip().lstrip("0") or "0"
    if str(key.series) != document_series:
        return "series", str(key.series), document_series
    if key.number != number:
        return "number", str(key.number), str(number)
    if issuer:
        document_issuer = re.sub(r"[^0-9A-Za-z]", "", issuer).upper().zfill(14)
        if key.issuer != document_issuer:
            return "issuer", key.issuer, document_issuer
    months = {f"{d.year % 100:02d}{d.month:02d}" for d in (issued_at - timedelta(days=1), issued_at,
                                                                issued_at + timedelta(days=1))}  # fmt: skip
    if key.year_month not in months:
        return "month", key.year_month, f"{issued_at.year % 100:02d}{issued_at.month:02d}"
    return None
