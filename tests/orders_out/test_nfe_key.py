"""jobs.nfe: the NF-e / NFC-e access key rules, with brazil.md's public fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.nfe import (
    InvalidNfeKey,
    check_digit,
    document_mismatch,
    is_valid_key,
    validate_key,
    year_month_at,
)
from sandbox.consinco.fiscal import nfe_check_digit

NFE_SP = "35210320695448000184550010000035891981839923"
NFCE_RS = "43140201098983010680657960000005991148127446"


def test_public_fixtures_pass_and_split_into_fields() -> None:
    nfe = validate_key(NFE_SP)
    assert (nfe.uf, nfe.year_month, nfe.issuer, nfe.model, nfe.series, nfe.number) == (
        35,
        "2103",
        "20695448000184",
        "55",
        1,
        3589,
    )
    assert nfe.kind == "NF-e"
    nfce = validate_key(NFCE_RS)
    assert (nfce.uf, nfce.model, nfce.series, nfce.number, nfce.kind) == (43, "65", 796, 599, "NFC-e")


def test_wrong_check_digit_is_refused_with_the_value_and_the_rule() -> None:
    wrong = NFE_SP[:-1] + "4"
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(wrong)
    assert raised.value.value == wrong
    assert "check digit 4 is wrong: modulo 11 gives 3" in raised.value.rule
    assert not is_valid_key(wrong)


def test_alphanumeric_cnpj_key_counts_letters_as_ord_minus_48() -> None:
    first43 = "3526111" + "2ABC34501DE35" + "55001000000123" + "1" + "12345678"
    assert len(first43) == 43
    digit = check_digit(first43)
    assert str(digit) == nfe_check_digit(first43)  # the sandbox ERP's own implementation agrees
    key = validate_key(first43 + str(digit))
    assert key.issuer == "12ABC34501DE35" and key.model == "55"
    with pytest.raises(InvalidNfeKey):
        validate_key(first43 + str((digit + 1) % 10))


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (NFE_SP[:-1], "must have 44 characters, has 43"),
        ("A" + NFE_SP[1:], "layout"),
        ("99" + NFE_SP[2:], "cUF 99"),
        (NFE_SP[:4] + "13" + NFE_SP[6:], "month 13"),
        (NFE_SP[:20] + "57" + NFE_SP[22:], "model 57 is not 55/65"),
    ],
)
def test_layout_rules(key: str, rule: str) -> None:
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(key)
    assert rule in raised.value.rule


def _signed(first43: str) -> str:
    return first43 + str(check_digit(first43))


def test_only_ascii_digits_pass_the_layout() -> None:
    """An Arabic-Indic nine is a Unicode digit (\\d, int() read it) whose ord() the check digit does
    not count as nine: a key holding one whose code point happened to fit the check passed."""
    forged = NFE_SP[:40] + "\u0669" + NFE_SP[41:]
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(forged)
    assert "layout" in raised.value.rule


def test_the_issuer_is_a_cnpj_or_a_cpf_by_its_own_check_digits() -> None:
    """The key's check digit holds for any 14 characters: the issuer's own check digits are the
    CNPJ's (letters only in its first 12) or, padded with 000, a CPF's (a person's NF-e)."""
    tail = "55" + "001" + "000003589" + "1" + "98183992"
    with pytest.raises(InvalidNfeKey) as raised:  # letters where the CNPJ's check digits are
        validate_key(_signed("352611" + "12ABC34501DEAB" + tail))
    assert "layout" in raised.value.rule
    with pytest.raises(InvalidNfeKey) as raised:  # numeric, but not the CNPJ's check digits
        validate_key(_signed("352611" + "12ABC34501DE99" + tail))
    assert "issuer 12ABC34501DE99 is neither a CNPJ nor a CPF" in raised.value.rule
    assert raised.value.words == ("nfe_rule_issuer", {"issuer": "12ABC34501DE99"})
    with pytest.raises(InvalidNfeKey):
        validate_key(_signed("352611" + "20695448000185" + tail))
    assert validate_key(_signed("352611" + "00052998224725" + tail)).issuer == "00052998224725"  # a CPF
    with pytest.raises(InvalidNfeKey):  # one digit eleven times: its check digits hold, no CPF is so
        validate_key(_signed("352611" + "00011111111111" + tail))
    assert validate_key(_signed("352611" + "12ABC34501DE35" + tail)).issuer == "12ABC34501DE35"


def test_a_ct_e_key_with_a_right_check_digit_is_still_refused_for_its_model() -> None:
    """Model 57 (CT-e) whose check digit is right: only the model rule can refuse it."""
    first43 = NFE_SP[:20] + "57" + NFE_SP[22:43]
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(first43 + str(check_digit(first43)))
    assert "model 57 is not 55/65" in raised.value.rule


def test_masks_printed_on_a_danfe_are_tolerated() -> None:
    spaced = " ".join(NFE_SP[i : i + 4] for i in range(0, 44, 4))
    assert validate_key(spaced).key == NFE_SP


def test_a_key_is_compared_with_the_document_it_is_said_to_be() -> None:
    """model, series, number, issuer CNPJ (masked, zeros lost, alphanumeric) and year-month: the
    first part that disagrees, as (part, in the key, in the document); the adjacent month passes
    only for an issue within a day of the month's turn (the key's AAMM is the issuer's local date)."""
    key = validate_key(NFE_SP)  # 2021-03, CNPJ 20695448000184, model 55, series 1, number 3589
    issued = datetime(2021, 3, 15, 12, tzinfo=UTC)
    same = {"model": "55", "series": "001", "number": 3589, "issued_at": issued}
    assert document_mismatch(key, **same, issuer="20.695.448/0001-84") is None
    assert document_mismatch(key, **same, issuer=None) is None  # the event gives no cnpjEmitente
    assert document_mismatch(key, **{**same, "model": "65"}) == ("model", "55", "65")
    assert document_mismatch(key, **{**same, "series": "2"}) == ("series", "1", "2")
    assert document_mismatch(key, **{**same, "number": 3590}) == ("number", "3589", "3590")
    assert document_mismatch(key, **same, issuer="11222333000181") == (
        "issuer",
        "20695448000184",
        "11222333000181",
    )
    turn = datetime(2021, 4, 1, 2, 30, tzinfo=UTC)  # 23:30 of March 31st in Sao Paulo
    assert document_mismatch(key, **{**same, "issued_at": turn}) is None
    assert document_mismatch(key, **{**same, "issued_at": datetime(2021, 2, 28, 23, tzinfo=UTC)}) is None
    assert document_mismatch(key, **{**same, "issued_at": datetime(2021, 4, 15, tzinfo=UTC)}) == (
        "month",
        "2103",
        "2104",
    )
    letters = "3526111" + "2ABC34501DE35" + "55001000000123" + "1" + "12345678"
    alnum = validate_key(letters + str(check_digit(letters)))
    dated = {"model": "55", "series": "1", "number": 123, "issued_at": datetime(2026, 11, 2, tzinfo=UTC)}
    assert document_mismatch(alnum, **dated, issuer="12.ABC.345/01DE-35") is None
    zeros = "352103" + "00695448000177" + "55" + "001" + "000003589" + "1" + "98183992"
    lost = validate_key(zeros + str(check_digit(zeros)))
    assert document_mismatch(lost, **{**same, "issued_at": issued}, issuer="695448000177") is None


def test_a_key_of_a_month_still_to_come_is_refused() -> None:
    """A key is issued with its document: its AAMM is never later than the current month."""
    key = validate_key(NFE_SP, latest_month="2103")  # the key's own month passes
    assert key.year_month == "2103"
    assert validate_key(NFE_SP, latest_month="2612").year_month == "2103"
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(NFE_SP, latest_month="2102")
    assert "AAMM 2103 is later than the current month (2102)" in raised.value.rule


def test_the_current_month_is_the_erps_local_one() -> None:
    """01:30 UTC of December 1st is still November 30th in Sao Paulo."""
    turn = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert year_month_at(turn, ZoneInfo("America/Sao_Paulo")) == "2611"
    assert year_month_at(turn, UTC) == "2612"
