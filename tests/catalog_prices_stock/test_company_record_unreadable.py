"""One company record the ERP serves unreadably (`Cadastros/Empresa`, a null status): the stock
pass read the companies all or nothing, so a store this shop does not even sync stopped every
company's stock. Now the record is set aside: unmapped, it changes nothing; mapped, that company's
pass stops naming the record (neither taken for closed, its levels zeroed, nor synced) and the
others sync."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from erp.errors import ErpUnexpectedShape
from erp.transport import Transport
from jobs import stock
from jobs.stock_records import STOPPED_UNIT
from ledger.models import MessageStatus

from .chain import messages
from .test_stock_flow import erp_stock, expected


@contextmanager
def company_served_with(monkeypatch: pytest.MonkeyPatch, nro: int, **fields: object) -> Iterator[None]:
    real = Transport.call

    def call(self, method, path_key, **kwargs):
        status, body = real(self, method, path_key, **kwargs)
        if path_key == "companies" and isinstance(body, dict):
            for item in body.get("items") or []:
                if item.get("nroEmpresa") == nro:
                    item.update(fields)
        return status, body

    with monkeypatch.context() as patched:
        patched.setattr(Transport, "call", call)
        yield


def _wrong_levels(chain, shop, catalog, companies) -> list[tuple[int, str]]:
    wrong = []
    for company in companies:
        rows = erp_stock(chain, company)
        for sku, data in catalog.items():
            row, s = rows[sku]
            want = expected(row, s, weighed=data["weighed"])
            if want and chain.level(shop, data["inventory_item_id"], company) != want:
                wrong.append((company, sku))
    return wrong


def test_an_unreadable_record_of_a_company_not_synced_here_changes_nothing(chain, monkeypatch) -> None:
    shop = chain.install("empresa-ilegivel", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    with company_served_with(monkeypatch, 4, status=None):  # company 4: no location here
        stock.run(shop.shop_id)
    assert _wrong_levels(chain, shop, catalog, (1, 2, 3)) == []
    assert [m.unit_key for m in messages(shop.shop_id, "stock") if m.status != MessageStatus.DONE.value] == []


def test_an_unreadable_record_of_a_mapped_company_stops_its_pass_alone(chain, monkeypatch) -> None:
    shop = chain.install("empresa-ilegivel-mapeada", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    items = [data["inventory_item_id"] for data in catalog.values() if data.get("inventory_item_id")]
    before = {item: chain.level(shop, item, 2) for item in items}
    assert any(before.values())  # levels a closing would have zeroed
    with company_served_with(monkeypatch, 2, status=None), pytest.raises(ErpUnexpectedShape):
        stock.run(shop.shop_id)  # (a record unreadable is a bug's class: raised once the others synced)
    assert _wrong_levels(chain, shop, catalog, (1, 3)) == []
    assert {item: chain.level(shop, item, 2) for item in items} == before  # not closed: nothing zeroed
    [stopped] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == STOPPED_UNIT.format(company=2)]
    assert stopped.status == MessageStatus.FAILED.value
    assert "The stock pass of company 2 stopped" in stopped.error_text, stopped.error_text
    assert "Cadastros/Empresa" in stopped.error_text and "'status'" in stopped.error_text, stopped.error_text
    stock.run(shop.shop_id)  # the ERP serves it right again: the pass goes through, the message done
    [stopped] = [m for m in messages(shop.shop_id, "stock") if m.unit_key == STOPPED_UNIT.format(company=2)]
    assert stopped.status == MessageStatus.DONE.value, stopped.error_text
