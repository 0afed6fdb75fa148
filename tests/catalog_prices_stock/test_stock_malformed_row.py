"""One unreadable ProdutoEstoque record (a null ESTQLOJA for one product at company 1) fails alone:
every other SKU of company 1, and companies 2 and 3, still get their levels, a message names the
record, and the company's watermark does not pass it, so once the ERP serves it right the next pass
writes its levels. An ERP refusal of one company's read stops that company alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import stock
from ledger import watermarks
from ledger.db import session_scope
from ledger.models import LocationMapping, MessageStatus
from shopify_app import fail_words

from .chain import messages
from .test_stock_flow import erp_stock, expected


def _beyond_the_overlap(monkeypatch) -> None:
    """Each pass reads from its watermark only (as when more than the read's overlap passed)."""
    real = stock.erp_for_shop
    monkeypatch.setattr(stock, "erp_for_shop", lambda shop_id, **o: real(shop_id, overlap=timedelta(0), **o))


def _wrong_levels(chain, shop, catalog, rows, skip=lambda company, data: False):
    wrong = []
    for company in (1, 2, 3):
        for sku, data in catalog.items():
            if skip(company, data):
                continue
            row, s = rows[company][sku]
            want = expected(row, s, weighed=data["weighed"])
            if want:
                got = chain.level(shop, data["inventory_item_id"], company)
                if got != want:
                    wrong.append((company, sku, got, want))
    return wrong


def _open(shop) -> list:
    """The stock messages not done, but the chain's unmapped company 4's refusal."""
    return [
        m
        for m in messages(shop.shop_id, "stock")
        if m.status != MessageStatus.DONE.value and m.unit_key != "stock:4:location"
    ]


def test_one_unreadable_stock_record_does_not_block_every_company(chain, monkeypatch):
    import sandbox.consinco.catalogue as erp_catalogue

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("estoque-malformado", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    rows = {c: erp_stock(chain, c) for c in (1, 2, 3)}
    bad_seq = min(d["seq_produto"] for d in catalog.values())
    real = erp_catalogue.stock_record

    def one_bad(r, *args, **kwargs):
        record = real(r, *args, **kwargs)
        if record["seqProduto"] == bad_seq and record["nroEmpresa"] == 1:
            record["estqLoja"] = None  # one record the client cannot read
        return record

    monkeypatch.setattr(erp_catalogue, "stock_record", one_bad)
    for _ in range(2):  # a later pass does no worse (and the pass itself does not fail)
        stock.run(shop.shop_id)
    is_bad = lambda company, data: data["seq_produto"] == bad_seq and company == 1  # noqa: E731
    wrong = _wrong_levels(chain, shop, catalog, rows, skip=is_bad)
    assert not wrong, f"{len(wrong)} levels never written; e.g. {wrong[:3]}"

    (said,) = _open(shop)
    assert said.unit_key == f"record:1:{bad_seq}" and said.status == MessageStatus.FAILED.value
    assert said.error_class == "rejected" and said.erp_id == "1"
    assert said.error_text.startswith(
        f"The ERP stock record (ProdutoEstoque) of product {bad_seq} at company 1 could not be read: "
        "field 'estqLoja'"
    )
    shown = fail_words.reason(said, "pt-BR")
    assert shown is not None and f"produto {bad_seq} na empresa 1" in shown, shown

    monkeypatch.setattr(erp_catalogue, "stock_record", real)  # the ERP serves it right now
    stock.run(shop.shop_id)  # read again, behind no watermark (no ERP row changed since)
    assert not _wrong_levels(chain, shop, catalog, rows)
    assert not _open(shop)


def test_an_erp_refusal_of_one_companys_read_stops_that_company_alone(chain, monkeypatch):
    shop = chain.install("estoque-recusado", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    rows = {c: erp_stock(chain, c) for c in (1, 2, 3)}
    real = ErpClient.stock
    endpoint = "api/v1/Cadastros/ProdutoEstoque"

    said_by_erp = "empresa 2 sem acesso"

    def refused_at_2(self, since, nro_empresa, **kwargs):
        if nro_empresa == 2:
            refusal = ErpRejected(said_by_erp, codigo="EMPRESA_BLOQUEADA", status=422, endpoint=endpoint)
            raise refusal.worded("erp_answered", endpoint=endpoint, status=422, message=said_by_erp)
        return real(self, since, nro_empresa, **kwargs)

    monkeypatch.setattr(ErpClient, "stock", refused_at_2)
    result = stock.run(shop.shop_id)  # not raised: the other companies synced, the refusal is shown
    assert result.unfinished == [2]
    assert not _wrong_levels(chain, shop, catalog, rows, skip=lambda company, data: company == 2)
    (said,) = _open(shop)
    assert said.unit_key == "stock:2:pass" and said.status == MessageStatus.FAILED.value
    assert said.error_class == "rejected" and said.erp_id == "2"
    assert said.error_text.startswith("The stock pass of company 2 stopped: empresa 2 sem acesso")
    shown = fail_words.reason(said, "pt-BR")
    assert shown is not None and shown.startswith("A passagem de estoque da empresa 2 parou: O ERP"), shown
    with session_scope() as session:
        assert watermarks.read(session, shop.shop_id, stock.FLOW, "2").last_changed_at is None
        assert watermarks.read(session, shop.shop_id, stock.FLOW, "1").last_changed_at is not None

    monkeypatch.setattr(ErpClient, "stock", real)  # the ERP reads company 2 again
    stock.run(shop.shop_id)
    assert not _wrong_levels(chain, shop, catalog, rows)
    assert not _open(shop)


def test_a_companys_messages_are_done_once_it_is_not_synced_any_more(chain, monkeypatch):
    """Company 2's read refused, then the company unmapped: nothing reads it again, so its message
    is done by the next pass, saying why, not left failed for good."""
    shop = chain.install("estoque-desmapeado", 1, 1, [1, 2])
    chain.load_catalog(shop, priced=True)
    real = ErpClient.stock

    def refused_at_2(self, since, nro_empresa, **kwargs):
        if nro_empresa == 2:
            raise ErpRejected("empresa 2 sem acesso", status=422, endpoint="api/v1/Cadastros/ProdutoEstoque")
        return real(self, since, nro_empresa, **kwargs)

    monkeypatch.setattr(ErpClient, "stock", refused_at_2)
    stock.run(shop.shop_id)
    assert [m.unit_key for m in _open(shop) if m.erp_id == "2"] == ["stock:2:pass"]
    with session_scope() as session:  # the mappings page saved without company 2
        session.execute(
            delete(LocationMapping).where(
                LocationMapping.shop_id == shop.shop_id, LocationMapping.nro_empresa == 2
            )
        )
    stock.run(shop.shop_id)
    (done,) = [m for m in messages(shop.shop_id, "stock") if m.unit_key == "stock:2:pass"]
    assert done.status == MessageStatus.DONE.value and "not_read" in done.response_payload
