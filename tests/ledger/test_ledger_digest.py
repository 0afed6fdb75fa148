"""digest(): the same record hashes the same however it was built, and any change shows."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ledger.digest import digest


def test_key_order_does_not_matter():
    assert digest({"a": 1, "b": {"x": [1, 2], "y": "z"}}) == digest({"b": {"y": "z", "x": [1, 2]}, "a": 1})


def test_decimal_by_value():
    assert digest({"price": Decimal("1.50")}) == digest({"price": Decimal("1.5")})
    assert digest({"price": Decimal("10")}) == digest({"price": Decimal("1E+1")})
    assert digest({"price": Decimal("0.00")}) == digest({"price": Decimal("0")})
    assert digest({"price": Decimal("1.5")}) != digest({"price": Decimal("1.51")})


def test_datetimes_normalised_to_utc():
    brt = timezone(timedelta(hours=-3))
    assert digest(datetime(2026, 1, 1, 9, 0, tzinfo=brt)) == digest(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert digest(datetime(2026, 1, 1, 12, 0)) == digest(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))


def test_sets_and_tuples():
    assert digest({"tags": {"b", "a", "c"}}) == digest({"tags": {"c", "b", "a"}})
    assert digest((1, 2)) == digest([1, 2])


def test_changes_show_and_format():
    value = digest({"sku": "789", "qty": 1})
    assert len(value) == 64 and int(value, 16) >= 0
    assert value != digest({"sku": "789", "qty": 2})


def test_unknown_types_refused():
    with pytest.raises(TypeError):
        digest({"x": object()})


def test_stable_across_processes():
    record = {"sku": "7891000", "price": "12.90", "tags": ["b", "a"], "nested": {"z": 1, "a": None}}
    code = "import json,sys; from ledger.digest import digest; print(digest(json.loads(sys.argv[1])))"
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(record)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PYTHONPATH": "."},
    )
    assert out.stdout.strip() == digest(record)
