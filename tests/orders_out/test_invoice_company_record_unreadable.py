"""The NF-e key's issuer is checked against the ERP's companies (jobs.company_cnpj): one company
record served unreadably failed every invoice of every order until the ERP mended it. Now another
company's bad record is set aside, and only an order of that very company says it cannot be told."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from jobs import company_cnpj
from ledger.models import MessageStatus
from tests.catalog_prices_stock.test_company_record_unreadable import company_served_with as served_with

from .conftest import NRO_EMPRESA, World


@contextmanager
def company_served_with(monkeypatch: pytest.MonkeyPatch, nro: int, **fields: object) -> Iterator[None]:
    """The company's record served with `fields` (tests/catalog_prices_stock), the kept read of the
    companies forgotten before and after."""
    company_cnpj.reset()
    try:
        with served_with(monkeypatch, nro, **fields):
            yield
    finally:
        company_cnpj.reset()


def test_another_companys_unreadable_record_does_not_hold_this_orders_invoice(
    world: World, monkeypatch
) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.invoice(order.nro)
    other = next(n for n in (2, 3, 4) if n != NRO_EMPRESA)
    with company_served_with(monkeypatch, other, status=None):
        world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text


def test_the_orders_own_company_unreadable_fails_its_invoice_naming_the_record(
    world: World, monkeypatch
) -> None:
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    world.erp.invoice(order.nro)
    with company_served_with(monkeypatch, NRO_EMPRESA, status=None):
        world.poll()
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.FAILED.value, message.status
    assert "Cadastros/Empresa" in message.error_text and "'status'" in message.error_text, message.error_text
    world.poll()  # served right again: a retry applies it
    from jobs import invoices

    invoices.replay(message.id)
    [message] = world.messages("invoices", order)
    assert message.status == MessageStatus.DONE.value, message.error_text
