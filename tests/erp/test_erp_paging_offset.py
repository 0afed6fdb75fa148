"""A server that pages by plain OFFSET (TDN documents Page and PageSize, no cursor): the client
continues by change time, so a row changed mid-read cannot push another past a page boundary;
runs of one change time and servers ordering otherwise go by page number (erp/page_plan.py)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from erp_fake_list import FakeList
from erp_samples import LOGIN, SKU, envelope, sample
from erp_test_urls import API, BASE
from test_erp_paging import _endless

from erp.client import ErpClient
from erp.errors import ErpUnexpectedShape
from erp.retry import NO_RETRY

KEY = ("seqProduto", "qtdEmbalagem")


def _sku(seq: int, changed: str) -> dict:
    return sample(SKU, idSku=f"P{seq}E1", seqProduto=seq, qtdEmbalagem=1, dtaHorAlteracao=changed)


def _server(requests_mock, changed: dict[int, str], **options) -> FakeList:
    fake = FakeList(KEY, "dtaHorAlteracao", paging="offset", **options)
    for seq, moment in changed.items():
        fake.put(_sku(seq, moment))
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/ProdutoSku", json=fake)
    return fake


def _client(page_size: int = 2) -> ErpClient:
    return ErpClient(BASE, "u", "p", retry=NO_RETRY, page_size=page_size)


def _asked(fake: FakeList) -> list[tuple[str | None, str | None]]:
    """(DtaHorAlteracao's time, Page) of each request; a row asked alone (PageSize=1) as "row N"."""

    def page(q: dict[str, str]) -> str | None:
        return f"row {q['page']}" if q["pagesize"] == "1" else q.get("page")

    return [(q.get("dtahoralteracao", "")[11:19] or None, page(q)) for q in fake.requests]


def test_a_row_changed_mid_read_does_not_push_the_next_past_a_page_boundary(requests_mock) -> None:
    """Offset paging ordered by change time: SKU 1 (page 1) is sold while page 2 is asked for; it
    leaves the window (its new time is past the snapshot) and every later row moves up one.
    `Page=2` would start at SKU 4: SKU 3 never served, in this read nor the next (its change time
    is behind the new watermark). Continued by change time, nothing moves under the read."""
    fake = _server(requests_mock, {seq: f"2026-11-28T08:0{seq}:00" for seq in range(1, 6)})

    def sell_sku_1(request: int) -> None:
        if request == 2:
            fake.now = datetime(2026, 11, 28, 10, 0, 5)
            fake.put(sample(_sku(1, "2026-11-28T10:00:03"), descricao="VENDIDO"))

    fake.between_pages = sell_sku_1
    client = _client()
    first = client.skus()
    first.prefetch = 0
    got = [s.seq_produto for s in first]
    assert got == [1, 2, 3, 4, 5] and first.complete
    # each request restarts at the newest change time served, Page=1; its row comes again, dropped
    assert _asked(fake) == [(None, None), ("08:02:00", "1"), ("08:03:00", "1"), ("08:04:00", "1")]
    assert first.dropped == 3
    fake.between_pages = None
    fake.now = datetime(2026, 11, 28, 10, 30)
    second = client.skus(first.snapshot, skip=first.boundary)
    assert [(s.seq_produto, s.description) for s in second] == [(1, "VENDIDO")]


def test_a_run_of_one_change_time_longer_than_a_page_is_paged_by_number(requests_mock) -> None:
    """Five SKUs changed at 08:02 (one import): restarting at 08:02 would serve the same page
    again, so the run goes on with Page=2, 3 (same DtaHorAlteracao), each checked by asking the
    last row of the page before alone (rows 2, 4: still SKUs 3 and 5); past it, by change time."""
    changed = {1: "2026-11-28T08:01:00", **{seq: "2026-11-28T08:02:00" for seq in range(2, 7)},
               7: "2026-11-28T08:03:00", 8: "2026-11-28T08:04:00"}  # fmt: skip
    fake = _server(requests_mock, changed)
    read = _client().skus()
    assert [s.seq_produto for s in read] == list(range(1, 9)) and read.complete
    assert _asked(fake) == [(None, None), ("08:02:00", "1"), ("08:02:00", "2"), ("08:02:00", "row 2"),
                            ("08:02:00", "3"), ("08:02:00", "row 4"), ("08:03:00", "1")]  # fmt: skip
    assert read.unsure is None  # every page asked by number was checked


def test_pages_out_of_change_time_order_are_paged_by_number(requests_mock, caplog) -> None:
    """A server ordering by key: page 1 is out of change-time order, so the whole read goes by
    page number (a row changed mid-read keeps its slot in a key order: nothing moves)."""
    times = {1: "08:05", 2: "08:01", 3: "08:04", 4: "08:02", 5: "08:03"}
    fake = _server(requests_mock, {k: f"2026-11-28T{v}:00" for k, v in times.items()}, order="key")
    with caplog.at_level(logging.INFO, logger="erp.paging"):
        read = _client().skus()
        assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5] and read.complete
    assert _asked(fake) == [(None, None), (None, "2"), (None, "3")]
    assert read.unsure is not None  # pages by number over another order: unchecked
    assert [r.message for r in caplog.records if "change-time order" in r.message] == [
        "consinco: api/v1/Cadastros/ProdutoSku does not serve its pages in change-time order (a record "
        "changed at 2026-11-28T08:01:00+00:00 comes after one changed at 2026-11-28T08:05:00+00:00): "
        "paging by page number for the rest of the read"
    ]


def test_a_restart_found_out_of_order_is_dropped_and_the_read_resumes_by_page_number(requests_mock) -> None:
    """A server ordering by key whose page 1 happens to rise in change time: the restart at 08:05
    serves rows of later keys only from 08:05 on (SKU 6, changed at 08:03, is filtered out), out
    of order. That page is dropped unseen and the first request goes on with Page=2: SKU 6 is
    read, and nothing comes twice."""
    times = {1: "08:01", 2: "08:02", 3: "08:05", 4: "08:09", 5: "08:06", 6: "08:03", 7: "08:07"}
    fake = _server(requests_mock, {k: f"2026-11-28T{v}:00" for k, v in times.items()}, order="key")
    read = _client(page_size=3).skus()
    assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5, 6, 7] and read.complete
    assert read.dropped == 0
    assert _asked(fake) == [(None, None), ("08:05:00", "1"), (None, "2"), (None, "3")]


def test_a_server_inventing_rows_for_ever_is_stopped_though_requests_restart(requests_mock, client) -> None:
    """Every request a Page=1 at a later change time (serving again the row it restarted at, as
    an inclusive DtaHorAlteracao does): the page numbers never grow, so the guard counts requests
    against the first page's total (4 records, 2 a page: 6 requests at most)."""

    def answer(n: int) -> dict:
        rows = [_sku(seq, f"2026-11-28T08:{seq:02d}:00") for seq in (n, n + 1)]
        return {**envelope(rows, has_next=True), "total": 4}

    calls = _endless(requests_mock, answer)
    with pytest.raises(ErpUnexpectedShape, match="still true at page 7 of a read of 4"):
        list(client.skus())
    assert len(calls) == 6


def test_a_row_changed_mid_read_inside_a_run_is_caught_and_the_page_before_asked_again(requests_mock) -> None:
    """Five SKUs share 08:00:00 (one import stamps them with one second): a run longer than a page,
    paged by number. SKU 1 (page 1) is sold while page 2 is asked for: it leaves the window, SKU 3
    moves up into page 1's slot, and page 2 starts at SKU 4. Row 2 asked alone (page 1's last
    slot) is then SKU 3, not SKU 2: page 2 is dropped and page 1 asked again; SKU 3 is read."""
    run = {seq: "2026-11-28T08:00:00" for seq in range(1, 6)}
    fake = _server(requests_mock, {**run, 6: "2026-11-28T08:05:00"})

    def sell_sku_1(request: int) -> None:
        if request == 2:
            fake.now = datetime(2026, 11, 28, 10, 0, 5)
            fake.put(sample(_sku(1, "2026-11-28T10:00:03"), descricao="VENDIDO"))

    fake.between_pages = sell_sku_1
    client = _client()
    first = client.skus()
    first.prefetch = 0
    assert [s.seq_produto for s in first] == [1, 2, 3, 4, 5, 6] and first.complete
    # page 1 asked again is page 1 as first asked (no Page sent)
    assert _asked(fake) == [(None, None), (None, "2"), (None, "row 2"), (None, None), (None, "2"),
                            (None, "row 2"), (None, "3"), (None, "row 4")]  # fmt: skip
    assert first.dropped == 1  # SKU 2, in page 1 asked again
    fake.between_pages = None
    fake.now = datetime(2026, 11, 28, 10, 30)
    second = client.skus(first.snapshot, skip=first.boundary)
    assert [(s.seq_produto, s.description) for s in second] == [(1, "VENDIDO")]


def test_the_row_the_check_asks_for_sold_too_the_page_before_is_anchored_by_another(requests_mock) -> None:
    """Seven SKUs of one second, three a page: SKUs 3 (the last of page 1, the row the check asks
    for) and 2 are sold before page 2. Page 1 asked again holds SKU 1 still (a row already read):
    it follows on from what was read, so SKUs 4 and 5, slid back into it, are read from it."""
    fake = _server(requests_mock, {seq: "2026-11-28T08:00:00" for seq in range(1, 8)})

    def sell(request: int) -> None:
        if request == 2:
            fake.now = datetime(2026, 11, 28, 10, 0, 5)
            for seq in (2, 3):
                fake.put(_sku(seq, "2026-11-28T10:00:03"))

    fake.between_pages = sell
    read = _client(page_size=3).skus()
    read.prefetch = 0
    assert sorted(s.seq_produto for s in read) == [1, 2, 3, 4, 5, 6, 7] and read.complete
    assert _asked(fake)[:4] == [(None, None), (None, "2"), (None, "row 3"), (None, None)]


def test_an_exclusive_since_loses_no_row_sharing_the_change_time_a_request_restarted_at(
    requests_mock, caplog
) -> None:
    """A server whose DtaHorAlteracao means "changed after" (`>`); three SKUs share 08:02 (Oracle
    DATE seconds). The restart at 08:02 serves SKUs 4 and 5 only: none of the rows at 08:02 read
    before comes again, so it is dropped and the first request goes on by number: SKU 3 is read."""
    times = {1: "08:01", 2: "08:02", 3: "08:02", 4: "08:03", 5: "08:04"}
    fake = _server(requests_mock, {k: f"2026-11-28T{v}:00" for k, v in times.items()}, exclusive=True)
    with caplog.at_level(logging.INFO, logger="erp.paging"):
        read = _client().skus()
        assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5] and read.complete
    assert _asked(fake) == [(None, None), ("08:02:00", "1"), (None, "2"), (None, "row 2"), (None, "3"),
                            (None, "row 4")]  # fmt: skip
    assert [r.message for r in caplog.records if "exclusive" in r.message] == [
        "consinco: api/v1/Cadastros/ProdutoSku serves no row again at 2026-11-28T08:02:00+00:00, the change "
        "time a request restarted from (is its DtaHorAlteracao exclusive, > and not >=?): paging by page "
        "number for the rest of the read"
    ]


def test_disorder_on_a_restarted_requests_second_page_resumes_the_reads_first_request(requests_mock) -> None:
    """A server ordering by key. Page 1 rises (restart at 08:02); the restart's page 1 is a run at
    08:02 (so Page=2), whose page 2 is out of order. Going on with the restart's pages would lose
    SKU 6 (changed at 08:01, before the restart's DtaHorAlteracao): the first request goes on."""
    times = {1: "08:01", 2: "08:02", 3: "08:02", 4: "08:04", 5: "08:03", 6: "08:01", 7: "08:05"}
    fake = _server(requests_mock, {k: f"2026-11-28T{v}:00" for k, v in times.items()}, order="key")
    read = _client().skus()
    assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5, 6, 7] and read.complete
    assert _asked(fake) == [(None, None), ("08:02:00", "1"), ("08:02:00", "2"), (None, "2"), (None, "3"),
                            (None, "4")]  # fmt: skip


def test_a_restart_found_out_of_order_resumes_the_reads_first_request_not_another_restart(
    requests_mock,
) -> None:
    """A server ordering by key, three a page. Page 1 rises (restart A at 08:03), A's page 1
    rises (restart B at 08:06), B's page 1 is out of order: dropped. Going on with A (since 08:03)
    would lose SKU 9 (changed at 08:01): the read's first request goes on, with Page=2."""
    times = {1: "08:01", 2: "08:02", 3: "08:03", 4: "08:05", 5: "08:06", 6: "08:04", 7: "08:08",
             8: "08:07", 9: "08:01"}  # fmt: skip
    fake = _server(requests_mock, {k: f"2026-11-28T{v}:00" for k, v in times.items()}, order="key")
    read = _client(page_size=3).skus()
    assert sorted(s.seq_produto for s in read) == list(range(1, 10)) and read.complete
    assert _asked(fake) == [(None, None), ("08:03:00", "1"), ("08:06:00", "1"), (None, "2"), (None, "3")]


def test_a_server_refusing_one_row_alone_is_paged_by_number_unchecked(requests_mock, caplog) -> None:
    """A server with a minimum PageSize refuses the check's PageSize=1 (400): the read does not
    fail on it; the run's pages go by number unchecked, as before the check, and it is logged."""
    fake = _server(requests_mock, {seq: "2026-11-28T08:00:00" for seq in range(1, 6)})

    def answer(request, context):
        body = fake(request, context)  # (noted in fake.requests)
        if "PageSize=1&" in request.url:
            context.status_code = 400
            return {"codigo": "PAGESIZE", "mensagem": "PageSize deve estar entre 10 e 1000."}
        return body

    requests_mock.get(API + "Cadastros/ProdutoSku", json=answer)
    with caplog.at_level(logging.INFO, logger="erp.paging"):
        read = _client().skus()
        assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5] and read.complete
    assert _asked(fake) == [(None, None), (None, "2"), (None, "row 2"), (None, "3")] and read.looks == 1
    assert [r.message for r in caplog.records if "unchecked" in r.message] == [
        "consinco: api/v1/Cadastros/ProdutoSku refuses PageSize=1 (PageSize deve estar entre 10 e 1000.): "
        "pages asked by number go unchecked (a row changed mid-read may push another past a page "
        "boundary, lost)"
    ]
    assert read.unsure is not None and "unchecked" in read.unsure  # no proof of a row's absence
