"""Change columns of day precision: Consinco names DTA columns (a date) apart from DTAHOR (a
date-time), and the prices' and stock's change columns are DTA (MRL_PRODEMPSEG.DTAALTERACAO,
MRL_PRODUTOEMPRESA.DTAALTERACAO). Served as "2026-11-28", every later change of that day carries
the same value, which the next read must still see. (A date-time column's row at midnight sharp
is a time, not a date: it must not hold the watermark back.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from erp_fake_list import FakeList
from erp_samples import LOGIN, PRICE_ITEM, sample
from erp_test_urls import API, BASE

from erp.client import ErpClient
from erp.names import NAMES, Names, load_names
from erp.retry import NO_RETRY

KEY = ("nroEmpresa", "nroSegmento", "seqProduto", "qtdEmbalagem")


def _price(seq: int, changed: str, normal: float) -> dict:
    return sample(PRICE_ITEM, seqProduto=seq, qtdEmbalagem=1, idSku=f"P{seq}E1", precoValidNormal=normal,
                  precoValidPromoc=0, promocaoVigente=False, precoVigente=normal, dtaInicioPromoc=None,
                  dtaFimPromoc=None, dtaAlteracao=changed)  # fmt: skip


def _erp(
    requests_mock, names: Names = NAMES, page_size: int | None = None, **options
) -> tuple[FakeList, ErpClient]:
    fake = FakeList(KEY, "dtaAlteracao", **options)
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/TabelaPrecoItem", json=fake)
    sizes = {"page_size": page_size} if page_size else {}
    return fake, ErpClient(BASE, "u", "p", retry=NO_RETRY, names=names, **sizes)


def _read(client: ErpClient, since=None, skip=()):
    read = client.price_items(since, 1, 2, skip=skip)
    return read, [(p.seq_produto, float(p.normal)) for p in read]


def test_a_price_changed_later_the_same_day_is_read_by_the_next_read(requests_mock) -> None:
    """Read at 10:00 (the ERP's snapshot); the merchant changes product 2's price at 14:00, and the
    ERP stamps it with today's date. The watermark was 10:00, so the next read asked for changes
    since 09:58: the row's date (today, 00:00) is before that and it was never read again."""
    fake, client = _erp(requests_mock)
    fake.put(_price(1, "2026-11-28", 10.0))
    first, got = _read(client)
    assert got == [(1, 10.0)] and first.complete
    assert first.snapshot == datetime(2026, 11, 28, tzinfo=UTC)  # the day's start, not 10:00

    fake.put(_price(2, "2026-11-28", 7.5))
    fake.now = datetime(2026, 11, 28, 14, 5)
    second, got = _read(client, first.snapshot)
    assert (2, 7.5) in got  # with product 1 again: a re-read, which the flows' digests absorb
    assert second.snapshot == datetime(2026, 11, 28, tzinfo=UTC)


def test_a_date_only_row_stays_out_of_the_boundary_so_a_second_change_that_day_is_not_skipped(
    requests_mock,
) -> None:
    """Read just after midnight: the day's rows fall in the overlap, and the boundary (the rows
    the next read skips, by key and change time) would hold them. A date is no version: product 1
    changed again at 09:00 keeps its date and must not be skipped."""
    fake, client = _erp(requests_mock)
    fake.now = datetime(2026, 11, 28, 0, 1)
    fake.put(_price(1, "2026-11-28", 10.0))
    first, _ = _read(client)
    assert first.boundary == set()
    fake.put(_price(1, "2026-11-28", 12.0))
    fake.now = datetime(2026, 11, 28, 9, 0)
    _, got = _read(client, first.snapshot, skip=first.boundary)
    assert got == [(1, 12.0)]


def test_the_next_read_starts_at_the_newest_dated_day_never_past_it(requests_mock) -> None:
    """An initial load over many days starts the next read at the newest day read (not the oldest:
    every later read would load it all again), and a snapshot already into the next day does not
    move past the day of the newest dated change."""
    fake, client = _erp(requests_mock)
    for seq, day in enumerate(("2026-01-05", "2026-11-27", "2026-11-28"), start=1):
        fake.put(_price(seq, day, 10.0))
    fake.now = datetime(2026, 11, 29, 0, 30)
    read, got = _read(client)
    assert len(got) == 3 and read.snapshot == datetime(2026, 11, 28, tzinfo=UTC)


def test_the_days_start_is_in_the_erps_zone_and_a_zero_time_is_a_date_when_no_row_has_a_time(
    tmp_path, requests_mock
) -> None:
    """An ERP writing Brasilia time (formats.datetime_zone): its day starts at 03:00 UTC. A DTA
    column served with a zero time ("2026-11-28T00:00:00", as an Oracle DATE is likely to be) is
    the same date, in a read whose change times are all at midnight sharp (a date-time column's
    rows have times of day: see test_a_midnight_sharp_date_time_does_not_hold_the_watermark_back)."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"datetime_zone": "America/Sao_Paulo"}}))
    fake, client = _erp(requests_mock, load_names(path))
    fake.put(_price(1, "2026-11-28T00:00:00", 10.0))
    fake.now = datetime(2026, 11, 28, 22, 30)  # Brasilia; 01:30 UTC on the 29th
    read, _ = _read(client)
    assert read.snapshot == datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def test_a_date_time_column_keeps_the_erps_snapshot(requests_mock) -> None:
    """Change times with a time of day (DTAHOR): the watermark is the snapshot, as before."""
    fake, client = _erp(requests_mock)
    fake.put(_price(1, "2026-11-28T09:12:13.456789", 10.0))
    read, _ = _read(client)
    assert read.snapshot == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_a_midnight_sharp_date_time_does_not_hold_the_watermark_back(requests_mock) -> None:
    """A date-time change column (DTAHOR): one row migrated in 2024 carries 2024-03-01T00:00:00,
    the rest changed today at times of day. That midnight is a time: the watermark is the ERP's
    snapshot (10:00), not 2024-03-01 (every later read re-reading 2.7 years), nor today's start."""
    fake, client = _erp(requests_mock)
    for seq, changed in ((1, "2024-03-01T00:00:00"), (2, "2026-11-28T08:00:00"), (3, "2026-11-28T09:15:42")):
        fake.put(_price(seq, changed, 10.0))
    first, got = _read(client)
    assert len(got) == 3 and first.snapshot == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    fake.now = datetime(2026, 11, 28, 10, 30)
    _, again = _read(client, first.snapshot, skip=first.boundary)
    assert again == []


def test_a_stale_date_cannot_hold_the_watermark_back_past_the_day_before(requests_mock) -> None:
    """A DTA column whose newest date read is a week old (nothing changed since): the watermark is
    the start of the day before the snapshot's (a change made later is stamped today or later),
    not the stale date, which every later read would start from."""
    fake, client = _erp(requests_mock)
    fake.put(_price(1, "2026-11-21", 10.0))
    read, _ = _read(client)
    assert read.snapshot == datetime(2026, 11, 27, tzinfo=UTC)


def test_a_price_changed_mid_read_on_a_date_column_paged_by_offset_loses_no_other(requests_mock) -> None:
    """Dates (DTA) and offset paging: each day is a run of one change time, paged by number. An
    initial load; product 1 (dated 2026-11-25) is changed mid-read and stamped today: it moves to
    the end of the window, product 3 moves up into page 1's slot. The check of page 2 (row 2 asked
    alone) finds product 3 there: page 1 is asked again and product 3's price is read."""
    fake, client = _erp(requests_mock, page_size=2, paging="offset")
    for seq in range(1, 6):
        fake.put(_price(seq, "2026-11-25", 10.0 + seq))
    fake.put(_price(6, "2026-11-28", 16.0))

    def change_1(request: int) -> None:
        if request == 2:
            fake.put(_price(1, "2026-11-28", 9.99))

    fake.between_pages = change_1
    first = client.price_items(None, 1, 2)
    first.prefetch = 0
    got = [(p.seq_produto, float(p.normal)) for p in first]
    assert got == [(1, 11.0), (2, 12.0), (3, 13.0), (4, 14.0), (5, 15.0), (1, 9.99), (6, 16.0)]
    assert first.complete and first.snapshot == datetime(2026, 11, 28, tzinfo=UTC)


def test_a_price_dated_today_after_an_empty_read_is_read_by_the_next_read(requests_mock) -> None:
    """A read that comes back empty sees no date, so nothing told it the column is a date: it kept
    the ERP's snapshot (10:00) as the watermark, and a price changed at 14:00, stamped with today's
    date (before 10:00), was never read. The watermark of an empty read is the start of the day
    before the snapshot's in the ERP's zone, never before where the read started."""
    fake, client = _erp(requests_mock)
    empty, got = _read(client, datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    assert got == [] and empty.complete
    assert empty.snapshot == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # not 10:00

    fake.put(_price(2, "2026-11-28", 7.5))
    fake.now = datetime(2026, 11, 28, 14, 5)
    _, got = _read(client, empty.snapshot)
    assert got == [(2, 7.5)]


def test_an_empty_read_never_moves_the_watermark_back(requests_mock) -> None:
    """Already into the day (a date-time column read at 09:00, say): an empty read keeps where it
    started from, not the day's start (every later read would re-read the morning)."""
    _, client = _erp(requests_mock)
    since = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    read, got = _read(client, since)
    assert got == [] and read.snapshot == since


def test_an_empty_first_read_leaves_no_watermark(requests_mock) -> None:
    """A first read (from nothing: a branch linked before its rows exist) that finds nothing gives
    no watermark: the next read is a whole read again, which costs nothing while there is nothing,
    and misses no row however it is dated once there is."""
    _, client = _erp(requests_mock)
    read, got = _read(client)
    assert got == [] and read.complete and read.snapshot is None


def test_an_empty_reads_day_starts_in_the_erps_zone(tmp_path, requests_mock) -> None:
    """An ERP writing Brasilia time: 22:30 on the 28th there is 01:30 UTC on the 29th; the day before
    the one an empty read is in starts at 03:00 UTC on the 27th."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"datetime_zone": "America/Sao_Paulo"}}))
    fake, client = _erp(requests_mock, load_names(path))
    fake.now = datetime(2026, 11, 28, 22, 30)
    read, got = _read(client, datetime(2026, 11, 20, tzinfo=UTC))
    assert got == [] and read.snapshot == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_a_date_whose_midnight_summer_time_skipped_is_still_a_date(tmp_path, requests_mock) -> None:
    """Brazil's summer time began at 00:00 until 2018 (2018-11-04, 2017-10-15...): that midnight never
    was, and the date read back in Brasilia time shows 01:00. A price untouched since such a Sunday
    made the whole read a date-time one: the watermark was the snapshot's time of day, past every
    price changed later that day (dated today, 00:00), which no read served until the next sweep."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"datetime_zone": "America/Sao_Paulo"}}))
    fake, client = _erp(requests_mock, load_names(path))
    fake.put(_price(1, "2018-11-04", 10.0))
    fake.put(_price(2, "2026-12-07", 9.0))
    fake.now = datetime(2026, 12, 7, 0, 30)  # Brasilia: the daily sweep
    read, _ = _read(client)
    assert read.snapshot == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # the day's start, not 00:30
    fake.put(_price(2, "2026-12-07", 7.77))  # changed at 10:00, stamped with today's date
    fake.now = datetime(2026, 12, 7, 10, 5)
    _, got = _read(client, read.snapshot)
    assert (2, 7.77) in got


def test_an_evening_price_dated_in_the_servers_day_after_a_quiet_read_is_read_next(requests_mock) -> None:
    """UTC date-times (the contract's default) but a date column holding the Brazilian server's
    own day. At 22:00 in Sao Paulo (01:00 UTC on the 29th) a quiet read's watermark was the 29th;
    a price changed at 22:30, dated the 28th, was behind it until the 00:30 daily sweep."""
    fake, client = _erp(requests_mock)
    fake.put(_price(1, "2026-11-27", 10.0))
    fake.now = datetime(2026, 11, 29, 1, 0)
    empty, got = _read(client, datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    assert got == [] and empty.complete
    fake.put(_price(2, "2026-11-28", 7.5))  # 22:30 in Sao Paulo: the server stamps its own day
    fake.now = datetime(2026, 11, 29, 1, 35)
    _, got = _read(client, empty.snapshot)
    assert got == [(2, 7.5)]
