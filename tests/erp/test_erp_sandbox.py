"""The client against the real sandbox/consinco over HTTP: paging a generated chain, an
incremental read after a price update, idempotent insert, and the order's events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from erp.client import ErpClient
from erp.errors import ErpRejected, ErpTransient
from erp.records import CustomerInput, OrderInput, OrderLineInput, PaymentInput, Sku
from erp.retry import RetryPolicy
from sandbox.consinco.runner import SandboxHandle, serve_in_thread


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[SandboxHandle]:
    db = str(tmp_path_factory.mktemp("consinco") / "c.db")
    handle = serve_in_thread(port=0, db=db, skus=120, companies=2, seed=11)
    yield handle
    handle.stop()


@pytest.fixture
def client(sandbox) -> Iterator[ErpClient]:
    c = ErpClient(sandbox.url, "ecommerce", "consinco", page_size=25, retry=RetryPolicy(attempts=1))
    yield c
    c.close()


def control(sandbox: SandboxHandle, path: str, body: dict | None = None) -> dict:
    answer = requests.post(f"{sandbox.root}_sandbox/{path}", json=body or {}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def sellable(client: ErpClient) -> tuple[Sku, Decimal]:
    """An active, stock-controlled UN SKU sold by company 1 in segment 2, and its price."""
    prices = {p.id_sku: p for p in client.price_items(nro_empresa=1, nro_segmento=2) if p.sale_active}
    stock = {s.seq_produto: s for s in client.stock(nro_empresa=1)}
    for sku in client.skus():
        price = prices.get(sku.id_sku)
        level = stock.get(sku.seq_produto)
        usable = sku.active and sku.ean and not sku.weighed and sku.qtd_embalagem == 1
        if usable and price and level and level.controlled and (level.available_ecommerce or 0) >= 5:
            return sku, price.effective
    raise AssertionError("the generated chain has no sellable SKU")


def order_for(sku: Sku, price: Decimal, channel_id: str) -> OrderInput:
    return OrderInput(
        seq_canal_venda=7,
        channel_order_id=channel_id,
        ordered_at=datetime.now(UTC),
        nro_empresa=1,
        nro_segmento=2,
        cod_geral_oper=207,
        freight=Decimal("10.00"),
        customer=CustomerInput(cpf_cnpj="529.982.247-25", name="MARIA SILVA", uf="SP", city="SAO PAULO"),
        lines=(OrderLineInput(qty=Decimal(2), ean=sku.ean, unit_price=price),),
        payments=(PaymentInput(nro_forma_pagto=3, amount=price * 2 + 10),),
    )


def test_connection_and_paging_a_generated_chain(client) -> None:
    check = client.test_connection()
    assert check.ok and check.companies == (1, 2)
    read = client.skus()
    skus = list(read)
    assert read.complete and read.pages > 1 and len(skus) == read.total
    assert len({(s.seq_produto, s.qtd_embalagem) for s in skus}) == len(skus)
    assert all(s.id_sku == f"P{s.seq_produto}E{s.qtd_embalagem}" for s in skus)
    assert {c.nro_empresa for c in client.companies()} == {1, 2}
    assert {m.nro_forma_pagto for m in client.payment_methods()} >= {1, 2, 3}
    assert [t.nro_empresa for t in client.price_tables()] == [1, 2]
    assert len(client.segments()) >= 2
    specs = list(client.sku_specs())
    assert len(specs) == len(skus) and all(spec.codes for spec in specs if spec.qtd_embalagem == 1)


def test_incremental_read_returns_exactly_the_changed_prices(sandbox, client) -> None:
    first = client.price_items()
    before = {(p.nro_empresa, p.nro_segmento, p.seq_produto, p.qtd_embalagem): p.normal for p in first}
    assert first.complete and first.snapshot is not None
    changed = control(sandbox, "simulador", {"acao": "precos", "seqProdutos": [3, 5], "fator": 1.1})
    keys = {tuple(c["chave"]) for c in changed["alteracoes"]}
    assert keys and {k[2] for k in keys} == {3, 5}
    # the chain was generated moments ago, inside the overlap window: `skip` drops what was seen
    second = client.price_items(first.snapshot, skip=first.boundary)
    got = {(p.nro_empresa, p.nro_segmento, p.seq_produto, p.qtd_embalagem): p.normal for p in second}
    assert set(got) == keys
    for key, normal in got.items():
        assert normal == (before[key] * Decimal("1.1")).quantize(Decimal("0.01"))
    third = client.price_items(second.snapshot, skip=second.boundary)
    assert list(third) == []


def test_insert_twice_returns_the_same_order(client) -> None:
    sku, price = sellable(client)
    order = order_for(sku, price, "gid://shopify/Order/9001")
    first = client.insert_order(order)
    again = client.insert_order(order)
    assert not first.duplicated and first.situacao == "L"
    assert again.duplicated and again.nro_pedvenda == first.nro_pedvenda
    read = client.get_order(first.nro_pedvenda)
    assert read.channel_order_id == "gid://shopify/Order/9001" and len(read.lines) == 1
    assert (
        read.lines[0].ean == sku.ean and read.lines[0].qty_ordered == 2 and read.lines[0].qty_served is None
    )


def test_events_after_separation_and_invoicing(sandbox, client) -> None:
    sku, price = sellable(client)
    start = client.order_events()
    list(start)
    nro = client.insert_order(order_for(sku, price, "gid://shopify/Order/9002")).nro_pedvenda
    control(sandbox, f"pedidos/{nro}/separar", {"cortes": {"1": 1}})
    control(sandbox, f"pedidos/{nro}/faturar", {"modelo": "55"})
    events = [e for e in client.order_events(start.snapshot, skip=start.boundary) if e.nro_pedvenda == nro]
    assert [e.kind for e in events] == ["S", "F"]
    separated, invoiced = events
    assert separated.altered and separated.lines[0].qty_served == 1
    assert invoiced.invoice is not None and invoiced.invoice.model == "55" and len(invoiced.invoice.key) == 44
    assert invoiced.invoice.total == invoiced.total_served and not invoiced.invoice.cancelled
    assert invoiced.tracking is not None and invoiced.tracking.code
    with pytest.raises(ErpRejected) as caught:
        client.cancel_order(nro, "tarde demais")
    assert (caught.value.status, caught.value.codigo) == (409, "PEDIDO_FATURADO")


def test_edit_then_cancel_emits_a_cancel_event(client) -> None:
    sku, price = sellable(client)
    start = client.order_events()
    list(start)
    nro = client.insert_order(order_for(sku, price, "gid://shopify/Order/9003")).nro_pedvenda
    edited = client.edit_order(nro, [OrderLineInput(qty=Decimal(1), ean=sku.ean, unit_price=price)])
    assert edited.lines[0].qty_ordered == 1
    cancelled = client.cancel_order(nro, "Cliente desistiu")
    assert cancelled.situacao == "C" and client.cancel_order(nro).situacao == "C"
    events = [e for e in client.order_events(start.snapshot, skip=start.boundary) if e.nro_pedvenda == nro]
    assert [(e.kind, e.nfe_cancelled) for e in events] == [("C", False)]


def test_expired_tokens_and_downtime(sandbox, client) -> None:
    client.companies()
    control(sandbox, "falhas", {"expirarTokens": True})
    assert len(client.companies()) == 2 and client.transport.logins == 2
    control(sandbox, "falhas", {"indisponivelPor": 30})
    try:
        with pytest.raises(ErpTransient) as caught:
            client.companies()
        assert caught.value.status == 503 and caught.value.retry_after
    finally:
        requests.delete(f"{sandbox.root}_sandbox/falhas", timeout=10)
    assert len(client.companies()) == 2
