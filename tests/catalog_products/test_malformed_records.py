"""An ERP catalog record the client cannot read never blocks the others: a field the catalog does
not use may be missing, and a record missing one it needs fails alone, on a message naming it,
and is read again by every pass (and by replay of its message) until it can be read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import erp
from erp.transport import Transport
from jobs import catalog_flow
from jobs.catalog_ledger import VARIANT_KIND
from ledger import bindings
from ledger.db import session_scope
from ledger.models import Message, MessageStatus

from .conftest import InstalledShop
from .erp_writes import set_ean, set_title
from .test_catalog_flows import products_by_seq


@contextmanager
def sku_record_served_with(id_sku: str, **fields: Any) -> Iterator[None]:
    """The ERP's SKU endpoint serves this record with these wire fields replaced."""
    real_call = Transport.call

    def call(self, method, path_key, **kwargs):
        status, body = real_call(self, method, path_key, **kwargs)
        if path_key == "skus" and isinstance(body, dict):
            for item in body.get("items") or body.get("itens") or []:
                if item.get("idSku") == id_sku:
                    item.update(fields)
        return status, body

    Transport.call = call
    try:
        yield
    finally:
        Transport.call = real_call


def barcode(installed: InstalledShop, seq: int, id_sku: str) -> str | None:
    return {v["sku"]: v["barcode"] for v in products_by_seq(installed)[seq]["variants"]}[id_sku]


def test_a_sku_record_without_a_field_the_catalog_does_not_use_is_read(installed: InstalledShop) -> None:
    """`unidadeMedida` is not used by the catalog (cache_sku drops it): a SKU record without it
    (P7E1) is read like any other, and product 5's new EAN, read in the same pass, is sent."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    set_ean(installed.erp, 5, 1, "7899999999999")
    set_title(installed.erp, 7, "PRODUTO 7 NOVO")  # P7E1 is in the same read
    with sku_record_served_with("P7E1", unidadeMedida=None):
        result = catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert result.failed == 0
    assert barcode(installed, 5, "P5E1") == "7899999999999"
    client.close()


def test_an_unreadable_sku_record_fails_alone_and_is_read_again_until_it_can_be(
    installed: InstalledShop, monkeypatch
) -> None:
    """P7E1 comes without `qtdEmbalagem` (which the catalog needs): the pass sends product 5's new
    EAN read with it, and fails one message naming the SKU, its product and the field. The
    watermark does not pass the record (the ERP API reads by change time only): once the ERP
    serves it right, replaying its message (or the next pass) reads it again and sends it."""
    real_for_shop = erp.for_shop  # the catalog reads only what changed (no overlap re-reading all)
    monkeypatch.setattr(
        erp, "for_shop", lambda shop_id, **o: real_for_shop(shop_id, **{"overlap": timedelta(0), **o})
    )
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    set_ean(installed.erp, 5, 1, "7899999999999")
    set_ean(installed.erp, 7, 1, "7899999999982")
    for _ in range(2):  # a later pass does no worse
        with sku_record_served_with("P7E1", qtdEmbalagem=None):
            catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert barcode(installed, 5, "P5E1") == "7899999999999"
    assert barcode(installed, 7, "P7E1") != "7899999999982"
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "record:P7E1")).one()
        assert (message.flow, message.status, message.error_class) == ("skus", "failed", "rejected")
        assert all(word in (message.error_text or "") for word in ("P7E1", "product 7", "qtdEmbalagem"))
        message_id = message.id

    catalog_flow.replay(message_id, client=client)  # the ERP serves the record right again

    assert barcode(installed, 7, "P7E1") == "7899999999982"
    with session_scope() as session:
        assert session.get(Message, message_id).status == MessageStatus.DONE.value
    client.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pesoBruto", "NaN"),
        ("pesoBruto", "Infinity"),
        ("qtdEmbalagem", "NaN"),
        ("pesoBruto", float("nan")),
        ("qtdEmbalagem", 0),  # a data-entry slip: every unit figure divides by it (the stock's levels)
        ("qtdEmbalagem", -6),
    ],
)
def test_a_sku_record_with_a_number_that_is_no_number_fails_alone(
    installed: InstalledShop, field: str, value: Any
) -> None:
    """NaN and infinities parse as Decimals (and JSON's NaN token as a float): NaN crashed the
    whole pass's mapping (Decimal('NaN') > 0 raises), an infinite weight could not be sent as JSON
    (a 'network' error retried forever). Either is the record's malformed field: the rest is sent."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    set_ean(installed.erp, 5, 1, "7899999999999")
    with sku_record_served_with("P7E1", **{field: value}):
        catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert barcode(installed, 5, "P5E1") == "7899999999999"
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "record:P7E1")).one()
        assert (message.status, message.error_class) == ("failed", "rejected")
        assert field in (message.error_text or ""), message.error_text
    client.close()


def test_a_full_sync_does_not_retire_a_packaging_whose_record_it_could_not_read(
    installed: InstalledShop,
) -> None:
    """A full sync retires the packagings the ERP no longer lists; one whose record came but could
    not be read is still listed: it stays active, and its record fails a message of its own."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with sku_record_served_with("P7E1", qtdEmbalagem=None):
        result = catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert result.failed == 0
    with session_scope() as session:
        active = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P7E1"])["P7E1"].data["active"]
        message = session.scalars(select(Message).where(Message.unit_key == "record:P7E1")).one()
        assert (message.flow, message.status) == ("skus", MessageStatus.FAILED.value)
    assert active is True
    assert products_by_seq(installed)[7]["status"] == "ACTIVE"
    client.close()
