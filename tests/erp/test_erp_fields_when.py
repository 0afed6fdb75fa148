"""erp.fields.when: an aware UTC date-time from the ERP's ISO text, whatever form it takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from erp import fields as f
from erp.errors import ErpUnexpectedShape

NAIVE = [
    "2026-11-28T21:10:05.123456",
    "2026-11-28T21:10:05.123",
    "2026-11-28 21:10:05.5",
    "2026-11-28T21:10:05",
    "2026-11-28T21:10",
    "2026-11-28T21",
    "2026-11-28T00:00:00",
    "20261128T211005",
    "2026-W48-6T10:00",
]
DATES = ["2026-11-28", "20261128", "2026-W48-6", "2026W486"]


def read(value: str, zone=UTC) -> datetime:
    return f.when({"t": value}, "t", "w", zone)


@pytest.mark.parametrize("value", NAIVE + DATES)
def test_a_time_without_offset_is_read_in_utc(value: str) -> None:
    got = read(value)
    assert got.tzinfo is UTC
    assert got == datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert got.isoformat() == datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()


def test_a_date_alone_is_midnight_not_the_offset_read_as_a_time() -> None:
    assert read("2026-11-28") == datetime(2026, 11, 28, tzinfo=UTC)
    assert read("2026-11-28").isoformat() == "2026-11-28T00:00:00+00:00"


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2026-11-28T21:10:05-03:00", datetime(2026, 11, 29, 0, 10, 5, tzinfo=UTC)),
        ("2026-11-28T21:10:05+05:30", datetime(2026, 11, 28, 15, 40, 5, tzinfo=UTC)),
        ("2026-11-28T21:10:05Z", datetime(2026, 11, 28, 21, 10, 5, tzinfo=UTC)),
        ("2026-11-28T21:10:05+00:00", datetime(2026, 11, 28, 21, 10, 5, tzinfo=UTC)),
    ],
)
def test_an_offset_is_honoured_and_the_result_is_utc(value: str, utc: datetime) -> None:
    got = read(value)
    assert got == utc and got.tzinfo is UTC and got.isoformat() == utc.isoformat()


def test_equal_instants_read_equal_and_print_equal() -> None:
    forms = [
        "2026-11-29T00:10:05",
        "2026-11-29T00:10:05Z",
        "2026-11-28T21:10:05-03:00",
        "2026-11-29T00:10:05.000",
    ]
    got = {read(v).isoformat() for v in forms}
    assert got == {"2026-11-29T00:10:05+00:00"}


def test_a_time_without_offset_in_another_zone() -> None:
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert read("2026-11-28T21:10:05", sao_paulo) == datetime(2026, 11, 29, 0, 10, 5, tzinfo=UTC)
    assert read("2026-11-28", sao_paulo) == datetime(2026, 11, 28, 3, tzinfo=UTC)
    assert read("2026-11-28T21:10:05", timezone(timedelta(hours=-3))).tzinfo is UTC


@pytest.mark.parametrize("value", ["2026-11-28T24:00:00", "28/11/2026", "", 20261128, None])
def test_what_is_no_iso_date_time_is_refused(value) -> None:
    with pytest.raises(ErpUnexpectedShape):
        f.when({"t": value}, "t", "w")
