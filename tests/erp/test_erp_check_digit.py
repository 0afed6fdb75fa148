"""erp.codes.check_digit: the GS1 check digit python-stdnum computes, from the digits' bytes."""

from __future__ import annotations

import random

import pytest
from stdnum import ean as gtin

from erp.codes import check_digit


@pytest.mark.parametrize("size", range(18))
def test_the_check_digit_is_stdnums_for_every_body_length(size: int) -> None:
    rng = random.Random(size)
    bodies = {"".join(rng.choice("0123456789") for _ in range(size)) for _ in range(500)}
    bodies |= {"0" * size, "9" * size, ("12" * size)[:size]}
    assert {b: check_digit(b) for b in bodies} == {b: gtin.calc_check_digit(b) for b in bodies}


def test_known_codes() -> None:
    assert check_digit("789100000001") == "4"  # 7891000000014
    assert check_digit("400638133393") == "1"  # EAN-13 4006381333931
    assert check_digit("9638507") == "4"  # EAN-8 96385074
    assert check_digit("03600029145") == "2"  # UPC-A 036000291452
    assert check_digit("") == "0"
