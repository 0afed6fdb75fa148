"""A read filtered by company and segment checks its records against the filter: a server that did
not apply it (its parameter named otherwise: CONSINCO_FIELD_MAP) served every segment's prices, the
last row per SKU pricing the store, silently (another segment's, say wholesale, prices)."""

from __future__ import annotations

import pytest
from erp_fake_list import FakeList
from erp_samples import LOGIN, PRICE_ITEM, sample
from erp_test_urls import API, BASE

from erp.client import ErpClient
from erp.errors import ErpFilterIgnored
from erp.retry import NO_RETRY

KEY = ("nroEmpresa", "nroSegmento", "seqProduto", "qtdEmbalagem")


def _price(segment: int, seq: int) -> dict:
    return sample(PRICE_ITEM, nroSegmento=segment, seqProduto=seq, qtdEmbalagem=1, idSku=f"P{seq}E1",
                  dtaAlteracao="2026-11-28T10:00:00")  # fmt: skip


def _client(requests_mock) -> tuple[FakeList, ErpClient]:
    fake = FakeList(KEY, "dtaAlteracao")  # serves every row: no filter applied
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "Cadastros/TabelaPrecoItem", json=fake)
    return fake, ErpClient(BASE, "u", "p", retry=NO_RETRY)


def test_a_record_of_another_segment_fails_the_read_naming_the_filter(requests_mock) -> None:
    fake, client = _client(requests_mock)
    fake.put(_price(2, 1))
    fake.put(_price(3, 1))  # the same SKU in another segment
    read = client.price_items(None, 1, 2)
    read.keep_malformed = True  # not one malformed record set aside: the whole read is wrong
    with pytest.raises(ErpFilterIgnored, match="is not applied by the server: a record of nro_segmento 3"):
        list(read)


def test_records_of_the_pair_asked_for_pass(requests_mock) -> None:
    fake, client = _client(requests_mock)
    fake.put(_price(2, 1))
    fake.put(_price(2, 2))
    assert [(p.nro_segmento, p.seq_produto) for p in client.price_items(None, 1, 2)] == [(2, 1), (2, 2)]
