"""Pages fetched ahead in a worker thread: same records and order, errors in page order,
an abandoned read stops its worker (the client's HTTP session is never shared)."""

from __future__ import annotations

import threading

import pytest
from erp_samples import envelope
from test_erp_paging import _serve, _sku

from erp.errors import ErpUnexpectedShape


def _pages(n: int) -> list[dict]:
    return [
        envelope([_sku(2 * i + 1), _sku(2 * i + 2)], has_next=i < n - 1, cursor=f"c{i}") for i in range(n)
    ]


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "erp-page-prefetch"]


@pytest.mark.parametrize("depth", [0, 1, 2, 8])
def test_prefetch_yields_the_same_records_in_order(requests_mock, client, depth) -> None:
    seen = _serve(requests_mock, "Cadastros/ProdutoSku", _pages(5))
    read = client.skus()
    read.prefetch = depth
    assert [s.seq_produto for s in read] == list(range(1, 11))
    assert read.complete and read.pages == 5
    assert [q.get("Cursor") for q in seen] == [None, "c0", "c1", "c2", "c3"]
    assert not _workers()


def test_a_bad_page_raises_after_the_good_ones(requests_mock, client) -> None:
    pages = _pages(3)
    pages[2] = {"items": {"oops": 1}, "hasNext": False}
    _serve(requests_mock, "Cadastros/ProdutoSku", pages)
    got = []
    with pytest.raises(ErpUnexpectedShape):
        for sku in client.skus():
            got.append(sku.seq_produto)
    assert got == [1, 2, 3, 4]
    assert not _workers()


def test_an_abandoned_read_stops_its_worker(requests_mock, client) -> None:
    _serve(requests_mock, "Cadastros/ProdutoSku", _pages(20))
    read = client.skus()
    records = iter(read)
    assert next(records).seq_produto == 1
    records.close()  # what a `break` out of the loop does
    assert not _workers() and not read.complete
    assert read.pages < 20
