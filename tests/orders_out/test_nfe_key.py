"""jobs.nfe: the NF-e / NFC-e access key rules, with brazil.md's public fixtures."""

from __future__ import annotations

import pytest

from jobs.nfe import InvalidNfeKey, check_digit, is_valid_key, validate_key
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


def test_a_ct_e_key_with_a_right_check_digit_is_still_refused_for_its_model() -> None:
    """Model 57 (CT-e) whose check digit is right: only the model rule can refuse it."""
    first43 = NFE_SP[:20] + "57" + NFE_SP[22:43]
    with pytest.raises(InvalidNfeKey) as raised:
        validate_key(first43 + str(check_digit(first43)))
    assert "model 57 is not 55/65" in raised.value.rule


def test_masks_printed_on_a_danfe_are_tolerated() -> None:
    spaced = " ".join(NFE_SP[i : i + 4] for i in range(0, 44, 4))
    assert validate_key(spaced).key == NFE_SP
