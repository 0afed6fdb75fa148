"""Paging through the envelope, the overlap window and the de-duplication of the overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from erp_samples import LOGIN, PRICE_ITEM, SKU, envelope, sample
from erp_test_urls import API, BASE

from erp.client import ErpClient
from erp.errors import ErpTransient, ErpUnexpectedShape
from erp.retry import RetryPolicy

SNAP = "2026-11-28T18:30:00.000000"


def _sku(seq: int, changed: str = "2026-11-28T18:00:00") -> dict:
    return sample(SKU, idSku=f"P{seq}E1", seqProduto=seq, qtdEmbalagem=1, dtaHorAlteracao=changed)


def _query(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def _serve(requests_mock, path: str, pages: list[dict]) -> list[dict[str, str]]:
    """Serve `pages` in order; return the query strings the client sent."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    seen: list[dict[str, str]] = []

    def answer(request, context):
        seen.append(_query(request))
        return pages[len(seen) - 1]

    requests_mock.get(API + path, json=answer)
    return seen


def test_pages_follow_next_cursor_and_pin_the_snapshot(requests_mock, client) -> None:
    sent = _serve(
        requests_mock,
        "Cadastros/ProdutoSku",
        [
            envelope([_sku(1), _sku(2)], has_next=True, cursor="c1", snapshot=SNAP),
            envelope([_sku(3), _sku(4)], has_next=True, cursor="c2", snapshot=SNAP),
            envelope([_sku(5)], snapshot=SNAP),
        ],
    )
    read = client.skus()
    assert read.complete is False
    assert [s.seq_produto for s in read] == [1, 2, 3, 4, 5]
    assert read.complete and read.pages == 3
    assert read.snapshot == datetime(2026, 11, 28, 18, 30, tzinfo=UTC)
    assert sent[0] == {"PageSize": "2"}
    assert sent[1] == {"PageSize": "2", "Cursor": "c1", "DtaHorSnapshot": SNAP}
    assert sent[2]["Cursor"] == "c2"


def test_pages_by_number_when_the_server_gives_no_cursor(requests_mock, client) -> None:
    sent = _serve(
        requests_mock,
        "Cadastros/ProdutoSku",
        [
            envelope([_sku(1), _sku(2)], has_next=True),
            envelope([_sku(3)], page=2),
            envelope([_sku(2)], page=2),
        ],
    )
    assert [s.seq_produto for s in client.skus()] == [1, 2, 3]
    assert sent[1] == {"PageSize": "2", "Page": "2", "DtaHorSnapshot": SNAP}
    # rows of one change time: the last row of page 1 is asked alone, still there (erp/page_plan.py)
    assert sent[2] == {"PageSize": "1", "Page": "2", "DtaHorSnapshot": SNAP}


def test_without_a_has_next_flag_a_full_page_asks_for_the_next(requests_mock, client) -> None:
    """An envelope without `hasNext` (the envelope is [assumed]): a full page may not be the last, so
    the read goes on until a page comes back short, instead of stopping after the first. (Without
    `total` and `pageSize` too: `envelope` counts one page's items as the read's total and says
    100 per page, which would tell the client that page 1 was all; see test_erp_paging_flagless.)"""

    def bare(items: list[dict], page: int) -> dict:
        left_out = ("hasNext", "total", "pageSize")
        return {k: v for k, v in envelope(items, page=page).items() if k not in left_out}

    sent = _serve(requests_mock, "Cadastros/ProdutoSku",
                  [bare([_sku(1), _sku(2)], 1), bare([_sku(3)], 2), bare([_sku(2)], 2)])  # fmt: skip
    assert [s.seq_produto for s in client.skus()] == [1, 2, 3]
    assert len(sent) == 3 and sent[1]["Page"] == "2"  # (and page 1's last row asked alone)


def test_without_an_erp_snapshot_the_watermark_is_the_newest_change_read_not_the_apps_clock(
    requests_mock,
) -> None:
    """No `dtaHorSnapshot` in the envelope, and an ERP whose clock reads three hours behind the
    app's (local time taken as UTC): the next read must start at the newest change this one read,
    not at the app's clock, which would skip every change of the next three hours."""
    client = ErpClient(BASE, "u", "p")  # the app's clock is now, long after the ERP's 18:20

    def bare(items: list[dict]) -> dict:
        return {k: v for k, v in envelope(items).items() if k != "dtaHorSnapshot"}

    page = bare([_sku(1, "2026-11-28T18:10:00"), _sku(2, "2026-11-28T18:20:00")])
    _serve(requests_mock, "Cadastros/ProdutoSku", [page])
    read = client.skus()
    assert [s.seq_produto for s in read] == [1, 2]
    assert read.complete and read.snapshot == datetime(2026, 11, 28, 18, 20, tzinfo=UTC)


def test_overlap_is_subtracted_and_filters_named_as_consinco(requests_mock, sleeps) -> None:
    client = ErpClient(
        BASE, "u", "p", overlap=timedelta(seconds=90), page_size=1000, retry=RetryPolicy(sleep=sleeps)
    )
    sent = _serve(requests_mock, "Cadastros/TabelaPrecoItem", [envelope([PRICE_ITEM])])
    watermark = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    items = list(client.price_items(watermark, nro_empresa=1, nro_segmento=2))
    assert len(items) == 1
    assert sent[0] == {
        "DtaHorAlteracao": "2026-11-28T11:58:30.000000",
        "PageSize": "1000",
        "NroEmpresa": "1",
        "NroSegmento": "2",
    }


def test_duplicates_within_one_read_are_dropped(requests_mock, client) -> None:
    # an inclusive cursor serves the last row of page 1 again on page 2
    _serve(
        requests_mock,
        "Cadastros/ProdutoSku",
        [
            envelope([_sku(1), _sku(2)], has_next=True, cursor="c1"),
            envelope([_sku(2), _sku(3)], has_next=True, cursor="c2"),
            envelope([_sku(3), _sku(2, "2026-11-28T18:05:00")]),
        ],
    )
    read = client.skus()
    got = [(s.seq_produto, s.changed_at.minute) for s in read]
    # the same row changed again (a new change time) is a new record, not a duplicate
    assert got == [(1, 0), (2, 0), (3, 0), (2, 5)]
    assert read.dropped == 2


def test_boundary_of_one_read_skips_the_overlap_of_the_next(requests_mock, client) -> None:
    late, early = "2026-11-28T18:29:30", "2026-11-28T18:00:00"
    _serve(
        requests_mock,
        "Cadastros/ProdutoSku",
        [
            envelope([_sku(1, early), _sku(2, late)], snapshot=SNAP),
            # the next read starts overlap (120 s) before SNAP: the server repeats sku 2, sku 3 is new,
            # sku 2 changed again at 18:31 is new too
            envelope(
                [_sku(2, late), _sku(3, "2026-11-28T18:29:50"), _sku(2, "2026-11-28T18:31:00")],
                snapshot="2026-11-28T18:31:00.000000",
            ),
        ],
    )
    first = client.skus()
    assert len(list(first)) == 2
    assert first.boundary == {((2, 1), datetime(2026, 11, 28, 18, 29, 30, tzinfo=UTC))}
    second = client.skus(first.snapshot, skip=first.boundary)
    got = [(s.seq_produto, s.changed_at.minute) for s in second]
    assert got == [(3, 29), (2, 31)] and second.dropped == 1
    # what the second read skipped is still inside its own overlap: it stays in the boundary
    assert {(k[0], k[1].strftime("%M:%S")) for k in second.boundary} == {
        ((2, 1), "29:30"),
        ((3, 1), "29:50"),
        ((2, 1), "31:00"),
    }


def test_without_skip_the_overlap_comes_twice_never_missed(requests_mock, client) -> None:
    row = _sku(2, "2026-11-28T18:29:30")
    _serve(requests_mock, "Cadastros/ProdutoSku", [envelope([row]), envelope([row])])
    first = client.skus()
    assert len(list(first)) == 1
    assert len(list(client.skus(first.snapshot))) == 1


def test_a_repeated_cursor_is_a_shape_error_not_a_loop(requests_mock, client) -> None:
    _serve(
        requests_mock,
        "Cadastros/ProdutoSku",
        [
            envelope([_sku(1)], has_next=True, cursor="same"),
            envelope([_sku(2)], has_next=True, cursor="same"),
        ],
    )
    with pytest.raises(ErpUnexpectedShape) as caught:
        list(client.skus())
    assert caught.value.field == "nextCursor"


def test_envelope_without_items_list_is_a_shape_error(requests_mock, client) -> None:
    _serve(requests_mock, "Cadastros/ProdutoSku", [{"items": {"oops": 1}, "hasNext": False}])
    with pytest.raises(ErpUnexpectedShape) as caught:
        list(client.skus())
    assert (caught.value.endpoint, caught.value.field) == ("api/v1/Cadastros/ProdutoSku", "items")


ORA_01555 = {"codigo": "ERRO_INTERNO", "mensagem": "ORA-01555: snapshot too old", "campo": None}


def test_an_error_body_answered_200_on_page_2_fails_the_read(requests_mock, client) -> None:
    """A long read cut off mid-way (ORA-01555), the failure wrapped by a gateway in HTTP 200: no
    empty page ending the read complete, its snapshot moving the watermark past pages 2..n."""
    _serve(requests_mock, "Cadastros/ProdutoSku",
           [{**envelope([_sku(1), _sku(2)], has_next=True, cursor="c1"), "total": 6}, ORA_01555])  # fmt: skip
    read = client.skus(datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    with pytest.raises(ErpTransient) as caught:
        list(read)
    assert not read.complete and caught.value.maybe_taken is False
    assert (caught.value.codigo, caught.value.endpoint) == ("ERRO_INTERNO", "api/v1/Cadastros/ProdutoSku")
    assert caught.value.words == ("erp_answered", {"endpoint": "api/v1/Cadastros/ProdutoSku", "status": 200,
                                                   "message": "ORA-01555: snapshot too old"})  # fmt: skip


def test_an_error_body_answered_200_on_page_1_is_no_quiet_empty_read(requests_mock, client) -> None:
    _serve(requests_mock, "Cadastros/ProdutoSku", [{"codigo": "ERRO_INTERNO", "mensagem": "ORA-12541"}])
    read = client.skus(datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    with pytest.raises(ErpTransient, match="ORA-12541"):
        list(read)
    assert not read.complete


def test_an_error_body_answering_a_row_asked_alone_fails_the_read(requests_mock, client) -> None:
    """The shift check of a page asked by number (erp/page_plan.py) reads its row the same way."""
    pages = [envelope([_sku(1), _sku(2)], has_next=True), envelope([_sku(3)], page=2), ORA_01555]
    sent = _serve(requests_mock, "Cadastros/ProdutoSku", pages)
    with pytest.raises(ErpTransient, match="ORA-01555"):
        list(client.skus())
    assert sent[2]["PageSize"] == "1"


def test_an_envelope_without_items_is_a_shape_error_not_an_empty_page(requests_mock, client) -> None:
    pages = [envelope([_sku(1), _sku(2)], has_next=True, cursor="c1"), {"hasNext": False, "total": 2}]
    _serve(requests_mock, "Cadastros/ProdutoSku", pages)
    read = client.skus()
    with pytest.raises(ErpUnexpectedShape, match="'items' is missing from the envelope"):
        list(read)
    assert not read.complete


def test_unknown_filter_and_page_size_limits(client) -> None:
    with pytest.raises(ValueError, match="cannot be filtered by nro_segmento"):
        client.changed_since("stock", None, nro_segmento=2)
    with pytest.raises(ValueError):
        ErpClient(BASE, "u", "p", page_size=1001)
    assert ErpClient(BASE, "u", "p", page_size=1000).page_size == 1000


def test_a_read_is_consumed_once(requests_mock, client) -> None:
    _serve(requests_mock, "Cadastros/ProdutoSku", [envelope([_sku(1)])])
    read = client.skus()
    list(read)
    with pytest.raises(RuntimeError):
        list(read)


def _endless(requests_mock, answer_for) -> list[str]:
    """A server that never says it is done; the test fails rather than hang past 30 requests."""
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    calls: list[str] = []

    def answer(request, context):
        calls.append(request.url)
        assert len(calls) <= 30, "the client is still paging: an endless read"
        return answer_for(len(calls))

    requests_mock.get(API + "Cadastros/ProdutoSku", json=answer)
    return calls


def test_cursors_that_come_round_again_stop_the_read(requests_mock, client) -> None:
    """c1, c0, c1, ...: a cursor seen earlier in the read means the pages loop."""
    calls = _endless(requests_mock, lambda n: envelope([_sku(n % 2), _sku(n % 2 + 10)], has_next=True,
                                                       cursor=f"c{n % 2}"))  # fmt: skip
    with pytest.raises(ErpUnexpectedShape, match="repeats a cursor"):
        list(client.skus())
    assert len(calls) == 3  # the page whose next cursor came round again is the last asked for


def test_a_server_that_ignores_the_page_number_stops_the_read(requests_mock, client) -> None:
    """Page numbers (no cursor), the same two records on every page and hasNext for ever (a
    renamed Page parameter is ignored, not refused): stopped after a few pages, named."""
    body = {k: v for k, v in envelope([_sku(1), _sku(2)], has_next=True).items() if k != "total"}
    calls = _endless(requests_mock, lambda n: body)
    with pytest.raises(ErpUnexpectedShape, match=r"not moving on \(is Page / Cursor ignored"):
        list(client.skus())
    # four pages read (three repeats); ahead of them the prefetch worker may hold two pages in its
    # queue (PREFETCH_PAGES) and a third fetched, waiting for room: a race, so at most three more;
    # and the rows share one change time, so page 2's shift check asks page 1's last row alone
    # once (answered with two rows: the pages go unchecked from there, erp/page_plan.py)
    assert len(calls) <= 4 + 3 + 1
    assert sum("PageSize=1&" in call for call in calls) == 1


def test_pages_past_twice_the_announced_total_stop_the_read(requests_mock, client) -> None:
    calls = _endless(requests_mock, lambda n: {**envelope([_sku(2 * n), _sku(2 * n + 1)], has_next=True),
                                               "total": 4})  # fmt: skip
    with pytest.raises(ErpUnexpectedShape, match="still true at page 7 of a read of 4"):
        list(client.skus())
    # the seventh page is never asked for; the seventh call asked page 1's last row alone (rows of
    # one change time, erp/page_plan.py), answered with two: pages go unchecked from there
    assert len(calls) == 7 and "PageSize=1&" in calls[2]


@pytest.mark.parametrize("total", [None, 10**6])
def test_empty_pages_that_keep_saying_more_follow_stop_the_read(requests_mock, client, total) -> None:
    """No record and hasNext for ever, with no total (or one that lies: a million): the read stops
    at the third such page, named, rather than paging until the job's timeout under the flow's
    lock (the guards above count pages of records, or pages past a total)."""
    body = {k: v for k, v in envelope([], has_next=True).items() if k != "total"}
    calls = _endless(requests_mock, lambda n: body if total is None else {**body, "total": total})
    with pytest.raises(ErpUnexpectedShape, match="is true on 3 pages in a row with no records"):
        list(client.skus())
    assert len(calls) <= 3 + 3  # (and the prefetch worker's pages ahead, a race)


def test_an_empty_page_or_two_that_says_more_follow_is_read_past(requests_mock, client) -> None:
    pages = [envelope([], has_next=True), envelope([], has_next=True, page=2), envelope([_sku(1)], page=3)]
    _serve(
        requests_mock, "Cadastros/ProdutoSku", [{k: v for k, v in p.items() if k != "total"} for p in pages]
    )
    assert [s.id_sku for s in client.skus()] == ["P1E1"]
