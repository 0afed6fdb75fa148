"""An order of a CX-12 SKU through the client and the sandbox over HTTP, under each unit the API
may count qtdPedida / qtdAtendida in (formats.quantity_unit): the ERP's order is worth what the
app ordered, and the app reads back the packagings it ordered and was served."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from erp.client import ErpClient
from erp.names import load_names
from erp.records import CustomerInput, OrderInput, OrderLineInput, PaymentInput, Sku
from erp.retry import RetryPolicy
from sandbox.consinco import tables as t
from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.runner import SandboxHandle, serve_in_thread

FREIGHT = Decimal("10.00")
KILOS = Decimal("1.234")


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("consinco") / "c.db"
    ConsincoErp(str(path), skus=120, companies=2, seed=11).close()
    return path


@pytest.fixture(params=["packaging", "base"])
def unit(request) -> str:
    return request.param


@pytest.fixture
def sandbox(chain, tmp_path, unit) -> Iterator[SandboxHandle]:
    db = tmp_path / "c.db"
    shutil.copyfile(chain, db)
    handle = serve_in_thread(port=0, db=str(db), quantity_unit=unit)
    yield handle
    handle.stop()


@pytest.fixture
def client(sandbox, tmp_path, unit) -> Iterator[ErpClient]:
    """The app's client, its CONSINCO_FIELD_MAP saying the unit the ERP counts in."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"quantity_unit": unit}}))
    c = ErpClient(sandbox.url, "ecommerce", "consinco", names=load_names(path), retry=RetryPolicy(attempts=1))
    yield c
    c.close()


def _sellable(client: ErpClient) -> tuple[Sku, Decimal, Sku, Decimal]:
    """A CX-12 SKU and a weighed (KG) SKU sold by company 1 in segment 2, with their prices."""
    prices = {
        p.id_sku: p.effective for p in client.price_items(nro_empresa=1, nro_segmento=2) if p.sale_active
    }
    skus = [s for s in client.skus() if s.active and s.id_sku in prices]
    box = next(s for s in skus if s.qtd_embalagem == 12 and not s.weighed)
    weighed = next(s for s in skus if s.weighed)
    return box, prices[box.id_sku], weighed, prices[weighed.id_sku]


def _line(sku: Sku, qty: Decimal, price: Decimal) -> OrderLineInput:
    """As jobs/order_map.py builds it: by seq_produto + qtd_embalagem, qty in packagings (kg)."""
    return OrderLineInput(qty=qty, seq_produto=sku.seq_produto, qtd_embalagem=Decimal(sku.qtd_embalagem),
                          unit_price=price)  # fmt: skip


def test_an_order_of_boxes_is_worth_the_same_and_read_back_in_boxes_whatever_the_api_counts(
    sandbox, client, unit
) -> None:
    box, box_price, weighed, kg_price = _sellable(client)
    kg_value = (KILOS * kg_price).quantize(Decimal("0.01"))
    total = 2 * box_price + kg_value + FREIGHT
    order = OrderInput(
        seq_canal_venda=7,
        channel_order_id=f"gid://shopify/Order/{unit}",
        ordered_at=datetime.now(UTC),
        nro_empresa=1,
        nro_segmento=2,
        cod_geral_oper=207,
        freight=FREIGHT,
        customer=CustomerInput(cpf_cnpj="529.982.247-25", name="MARIA SILVA", uf="SP", city="SAO PAULO"),
        lines=(_line(box, Decimal(2), box_price), _line(weighed, KILOS, kg_price)),
        payments=(PaymentInput(nro_forma_pagto=3, amount=total),),
    )
    start = client.order_events()
    list(start)
    inserted = client.insert_order(order)
    assert inserted.total == total  # the ERP values 2 boxes, not 2 units (1/6 of a box)
    pvi = t.mad_pedvendaitem
    with sandbox.erp.store.read() as conn:
        rows = conn.execute(
            select(pvi.c.qtdpedida).where(pvi.c.nropedvenda == inserted.nro_pedvenda).order_by(pvi.c.seqitem)
        ).scalars()
        assert list(rows) == [24, float(KILOS)]  # base units in the table, kg unchanged
    read = client.get_order(inserted.nro_pedvenda)
    assert read.total == total
    assert [(x.qty_ordered, x.qty_served) for x in read.lines] == [(2, None), (KILOS, None)]

    one_box = 1 if unit == "packaging" else 12  # the control endpoint speaks the API's unit
    answer = requests.post(f"{sandbox.root}_sandbox/pedidos/{inserted.nro_pedvenda}/separar",
                           json={"cortes": {"1": one_box}, "pesos": {"2": 1.5}}, timeout=10)  # fmt: skip
    answer.raise_for_status()
    events = [e for e in client.order_events(start.snapshot, skip=start.boundary)
              if e.nro_pedvenda == inserted.nro_pedvenda]  # fmt: skip
    assert [e.kind for e in events] == ["S"]
    separated = events[0]
    assert [(x.qty_ordered, x.qty_served) for x in separated.lines] == [(2, 1), (KILOS, Decimal("1.5"))]
    served = box_price + (Decimal("1.5") * kg_price).quantize(Decimal("0.01")) + FREIGHT
    assert separated.total == total and separated.total_served == served
    assert separated.lines[0].total_served == box_price
