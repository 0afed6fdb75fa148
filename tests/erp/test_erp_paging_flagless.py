"""Reads over an envelope without `hasNext` (the envelope is [assumed]): never stop short, and a
read that ends short of its `total` for no reason the contract gives is an error, not complete."""

from __future__ import annotations

from datetime import datetime

import pytest
from erp_fake_list import FakeList
from erp_samples import LOGIN, SKU, sample
from erp_test_urls import API, BASE

from erp.client import ErpClient
from erp.errors import ErpUnexpectedShape
from erp.retry import NO_RETRY

KEY = ("seqProduto", "qtdEmbalagem")


def _sku(seq: int, changed: str = "2026-11-28T08:00:00") -> dict:
    return sample(SKU, idSku=f"P{seq}E1", seqProduto=seq, qtdEmbalagem=1, dtaHorAlteracao=changed)


def _server(requests_mock, rows: int, *, one_time: bool = False, **options) -> FakeList:
    """`rows` SKUs changed a second apart, or all at one time (`one_time`: a run longer than a
    page, which the client pages by number, not by change time: see erp/page_plan.py)."""
    fake = FakeList(KEY, "dtaHorAlteracao", **options)
    for seq in range(1, rows + 1):
        second = 0 if one_time else seq
        fake.put(_sku(seq, f"2026-11-28T08:{second // 60:02d}:{second % 60:02d}"))
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/ProdutoSku", json=fake)
    return fake


def _client(page_size: int = 500) -> ErpClient:
    return ErpClient(BASE, "u", "p", retry=NO_RETRY, page_size=page_size)


@pytest.mark.parametrize("one_time", [False, True], ids=["by-change-time", "by-page-number"])
@pytest.mark.parametrize(
    "leave_out",
    [("hasNext",), ("hasNext", "pageSize"), ("hasNext", "total")],
    ids=["total-and-pageSize", "total-only", "pageSize-only"],
)
def test_a_server_capping_page_size_is_read_to_the_end(requests_mock, leave_out, one_time) -> None:
    """500 asked, 100 served, no hasNext: `total` (250, or what is left of it after the change
    time a request restarts at) or the envelope's own `pageSize` (100) says page 1 is not the
    last; the read used to stop there, complete, 150 SKUs never read."""
    fake = _server(requests_mock, 250, one_time=one_time, max_page=100, paging="offset", leave_out=leave_out)
    read = _client().skus()
    assert sorted(s.seq_produto for s in read) == list(range(1, 251))
    assert read.complete
    if one_time:  # each page after the first checked: the last row of the page before, asked alone
        assert [(r.get("page", "1"), r["pagesize"]) for r in fake.requests] == [
            ("1", "500"), ("2", "500"), ("100", "1"), ("3", "500"), ("200", "1")
        ]  # fmt: skip
    else:  # each request restarts at the newest change time served (its row comes again, dropped)
        assert [r.get("dtahoralteracao") for r in fake.requests] == [
            None,
            "2026-11-28T08:01:40.000000",
            "2026-11-28T08:03:19.000000",
        ]


def test_without_has_next_total_or_page_size_a_full_page_asks_for_the_next(requests_mock) -> None:
    """Nothing in the envelope but the items: a page as full as asked may not be the last."""
    fake = _server(requests_mock, 5, one_time=True, leave_out=("hasNext", "pageSize", "total"))
    read = _client(page_size=2).skus()
    assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5]
    assert read.complete
    assert [q.get("page", "1") for q in fake.requests if q["pagesize"] == "2"] == ["1", "2", "3"]


def test_a_capping_server_that_stops_serving_is_an_error_not_a_complete_read(requests_mock) -> None:
    """500 asked, 100 served, and page 2 taken from an offset of the size asked (500): empty. The
    read ends with 100 of the 250 announced: marked complete, the watermark would move past the
    other 150 for good. (Rows of one change time: the client pages them by number. Rows of
    different times it pages by change time, every request a Page=1, which this server serves.)"""
    _server(requests_mock, 250, one_time=True, max_page=100, paging="offset_asked", leave_out=("hasNext",))
    read = _client().skus()
    with pytest.raises(ErpUnexpectedShape) as caught:
        list(read)
    assert caught.value.endpoint == "api/v1/Cadastros/ProdutoSku" and caught.value.field == "total"
    assert "announced 250 records but the read ended after 100" in str(caught.value)
    assert not read.complete


def test_rows_leaving_the_window_mid_read_end_it_short_without_an_error(requests_mock) -> None:
    """Keyset paging, 100 of 500 served, no hasNext: three rows of page 3 change before the third
    request (they leave the window, to come in the next read). The read ends short of its total
    on a short page: the contract's own case, complete, no false alarm."""
    fake = _server(requests_mock, 250, max_page=100, leave_out=("hasNext",))

    def change_three(page: int) -> None:
        if page == 3:
            for seq in (201, 202, 203):
                fake.put(_sku(seq, "2026-11-28T10:00:05"))

    fake.between_pages = change_three
    read = _client().skus()
    read.prefetch = 0
    got = [s.seq_produto for s in read]
    assert len(got) == 247 and read.total == 250
    assert read.complete


@pytest.mark.parametrize("paging", ["offset", "keyset"])
def test_a_row_leaving_mid_read_of_a_capping_server_without_page_size_ends_it_complete(
    requests_mock, paging
) -> None:
    """2 served of the 3 asked, neither hasNext nor pageSize: a row not served yet changes and leaves
    the window. The last request (restarted at the newest change time served) holds its own total
    whole on one full page: the end is proven. It was failed as "the server caps PageSize and stopped
    serving" against the first page's total: a long read, where some row changes nearly every time,
    never completed."""
    fake = FakeList(KEY, "dtaHorAlteracao", paging=paging, max_page=2, leave_out=("hasNext", "pageSize"))
    for seq in range(1, 8):
        fake.put(_sku(seq, f"2026-11-28T08:0{seq}:00"))
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/ProdutoSku", json=fake)

    def sell_sku_5(request: int) -> None:
        if request == 2:  # SKU 5, not served yet, is sold: it leaves the read's window
            fake.now = datetime(2026, 11, 28, 10, 0, 5)
            fake.put(_sku(5, "2026-11-28T10:00:03"))

    fake.between_pages = sell_sku_5
    read = _client(page_size=3).skus()
    read.prefetch = 0
    assert sorted(s.seq_produto for s in read) == [1, 2, 3, 4, 6, 7]  # SKU 5 comes with the next read
    assert read.complete and read.total == 7


def test_pages_repeating_the_first_never_make_a_complete_read(requests_mock) -> None:
    """A server ignoring Page (every page is page 1), capping at 100, no hasNext nor pageSize:
    three pages would add up to `total` (250) with the same 100 rows, which is no complete read.
    (Rows of one change time, paged by number: page 2 is checked by asking row 100 alone, which
    this server serves from page 1, so the read steps back to page 1, again and again: pages
    repeating the page before, stopped.)"""
    _server(requests_mock, 250, one_time=True, max_page=100, paging="page_ignored",
            leave_out=("hasNext", "pageSize"))  # fmt: skip
    read = _client().skus()
    with pytest.raises(ErpUnexpectedShape, match="repeats the records of the page before it, 3 pages"):
        list(read)
    assert not read.complete


def test_a_capped_page_without_has_next_or_total_is_complete_but_unsure(requests_mock) -> None:
    """500 asked, 100 served, no hasNext, no total, no pageSize: the read ends after page 1
    (a short page), complete: its watermark may move (the rows left out come again), but whether
    the other rows exist cannot be told, so the read is no proof of a row's absence (a full prices
    read would have taken 150 SKUs off sale: jobs.price_unlisted)."""
    _server(requests_mock, 250, max_page=100, leave_out=("hasNext", "total", "pageSize"))
    read = _client().skus()
    assert len(list(read)) == 100 and read.complete
    assert read.unsure is not None and "no hasNext" in read.unsure


@pytest.mark.parametrize(
    "leave_out", [("total", "pageSize"), ("hasNext", "pageSize")], ids=["has-next", "total"]
)
def test_a_read_whose_end_the_envelope_attests_is_sure(requests_mock, leave_out) -> None:
    """`hasNext` false, or `total` reached, ends the read for certain, capped pages or not; so does
    a short page from a server known to serve the size asked (a full page came first)."""
    _server(requests_mock, 250, max_page=100, leave_out=leave_out)
    read = _client().skus()
    assert len(list(read)) == 250 and read.complete and read.unsure is None
    _server(requests_mock, 5, one_time=True, leave_out=("hasNext", "pageSize", "total"))
    read = _client(page_size=2).skus()
    assert len(list(read)) == 5 and read.complete and read.unsure is None
