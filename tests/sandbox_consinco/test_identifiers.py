"""CPF/CNPJ (alphanumeric CNPJ included) through python-stdnum; EANs; the NF-e key builder."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum import ean

from sandbox.consinco.fiscal import document_kind, make_cnpj, nfe_check_digit, nfe_key, normalize_document
from sandbox_consinco.helpers import key_is_valid


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("529.982.247-25", "F"),
        ("52998224725", "F"),
        ("529.982.247-24", None),
        ("111.111.111-11", None),
        ("11.222.333/0001-81", "J"),
        ("12ABC34501DE35", "J"),
        ("12.abc.345/01de-35", "J"),
        ("00000000E08G12", "J"),
        ("12ABC34501DE36", None),
        ("", None),
        ("ABC", None),
    ],
)
def test_documents_are_validated_by_stdnum(value, kind):
    assert document_kind(value) == kind


def test_lost_leading_zeros_are_restored():
    assert normalize_document("1234567890") == "01234567890"  # CPF stored numeric, zero lost


def test_check_digit_matches_public_fixture():
    assert nfe_check_digit("3521032069544800018455001000003589198183992") == "3"


def test_built_keys_pass_an_independent_check_with_alphanumeric_issuer():
    issuer = make_cnpj("12ABC345", "01DE")
    assert issuer == "12ABC34501DE35"
    for number in range(1, 60):
        key = nfe_key(
            uf="SP",
            issued=dt.datetime(2026, 11, 15),
            cnpj_issuer=issuer,
            model="65",
            series=2,
            number=number,
            code=number * 7919,
        )
        assert len(key) == 44 and key_is_valid(key) and key[:6] == "352611"


def test_a_keys_month_is_the_issuers_local_month_not_utcs():
    """Issued at 22:00 in São Paulo on 30 November (01:00 UTC on 1 December): AAMM 2611, as SEFAZ
    reads dhEmi. The UTC month made every key of those three hours a month ahead, and the app refused
    them as later than the current month (the suite failed from 00:00 to 03:00 UTC on a month's 1st)."""
    aware, naive = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 1, 0)  # naive: UTC
    for issued in (aware, naive):
        key = nfe_key(uf="SP", issued=issued, cnpj_issuer="53464097000150", model="55", series=1, number=1,
                      code=1)  # fmt: skip
        assert key[2:6] == "2611", key


def test_generated_eans_are_valid(erp):
    from sqlalchemy import select

    from sandbox.consinco import tables as t

    with erp.store.read() as conn:
        codes = conn.execute(select(t.map_prodcodigo.c.codacesso)).scalars().all()
    assert codes and all(ean.is_valid(code) for code in codes)
