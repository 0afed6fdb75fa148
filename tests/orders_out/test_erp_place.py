"""ledger.erp_place: the one rule telling whether two ERP addresses reach the same Consinco
(erp.factory.same_erp and the hand link's shops_on_same_erp both use it)."""

from __future__ import annotations

import pytest

from erp.factory import same_erp
from ledger import erp_place


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("http://erp.example:8080/api", "https://ERP.example:8080/api/", True),
        ("http://erp.example/api", "https://erp.example:443/api", True),
        ("https://erp.example:80/api", "http://erp.example/api/", True),
        ("http://erp.example/api", "http://erp.example/homolog", False),
        ("http://erp.example:8080/api", "http://erp.example:8081/api", False),
        ("http://erp.example/api", "http://other.example/api", False),
    ],
)
def test_one_rule_for_the_same_erp(before: str, after: str, same: bool) -> None:
    assert erp_place.same(before, after) is same
    assert same_erp(before, after) is same
