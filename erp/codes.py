"""Codes Consinco may serve as JSON numbers (EAN, NCM, CEST), read back as the text they stand for.

Why: a number has no leading zeros. An EAN-13 such as 0036000291452 served as 36000291452 is 11
digits, which no GTIN has: it would be refused as a barcode and the merchant told to fix a code
that is right; NCM 09012100 would show as 9012100. `erp.fields.str_` cannot know a code's width, so
the catalogue's parser (erp/parse_catalogue.py) reads these fields here, each by its own rule. A
code served as text is taken as it comes: its zeros are there.
"""

from __future__ import annotations

from typing import Any

from erp import fields as f

GTIN_LENGTHS = (8, 12, 13, 14)  # GTIN-8, UPC-A (GTIN-12), EAN-13, GTIN-14
NCM_DIGITS = 8  # Nomenclatura Comum do Mercosul: always 8 digits
CEST_DIGITS = 7  # Código Especificador da Substituição Tributária: always 7 (its first 2 may be 0x)
_DIGITS = "0123456789"


def check_digit(body: str) -> str:
    """The GS1 check digit of a GTIN whose other digits are `body` (ASCII digits only): weights 3
    and 1 from the right, what python-stdnum's ean.calc_check_digit computes. Summed from the
    digits' bytes (each is 48 + its value) instead of one int() per digit: ~5x cheaper, and an
    initial load checks every packaging's EAN (jobs.catalog_map.barcode_problem)."""
    raw = body.encode()
    size = len(raw)
    threes = raw[-1::-2]  # the last digit of the body, then every second one before it
    total = 3 * sum(threes) + sum(raw[-2::-2]) - 48 * (size + 2 * len(threes))
    return _DIGITS[-total % 10]


def opt_ean(raw: dict[str, Any], key: str, where: str, weighed: bool) -> str | None:
    """An EAN/GTIN. Served as a number: left-padded with zeros to the shortest GTIN length whose
    check digit validates (leading zeros never change a GTIN's check digit, so the code is the
    same one); left as its digits when no length makes it a GTIN (the merchant is then told about
    the code the ERP holds). A weighed packaging's number shorter than any GTIN is a scale code
    (jobs.catalog_map): read as its text would be, never padded into a GTIN-8 by chance."""
    value = raw.get(key)
    if type(value) is not int or value <= 0:  # (0: no code, as its text "0" is)
        return f.opt_str(raw, key, where)
    digits = str(value)
    if weighed and len(digits) < GTIN_LENGTHS[0]:
        return digits
    if check_digit(digits[:-1]) != digits[-1]:
        return digits
    width = next((n for n in GTIN_LENGTHS if n >= len(digits)), None)
    return digits if width is None else digits.zfill(width)


def opt_padded(raw: dict[str, Any], key: str, where: str, width: int) -> str | None:
    """A code of a fixed number of digits (NCM, CEST): served as a number, zero-padded to `width`."""
    value = raw.get(key)
    if type(value) is int and 0 <= value < 10**width:
        return str(value).zfill(width)
    return f.opt_str(raw, key, where)
