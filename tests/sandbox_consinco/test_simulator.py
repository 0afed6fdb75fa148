"""The change simulator and the order clock, driven through their control endpoints."""

from __future__ import annotations

import time

from sandbox_consinco.helpers import order_body

KEYS = {
    "TabelaPrecoItem": ("nroEmpresa", "nroSegmento", "seqProduto", "qtdEmbalagem"),
    "ProdutoEstoque": ("nroEmpresa", "seqProduto"),
}


def _wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_step_reports_changes_that_incremental_reads_return(served, api):
    base = f"{served.url}/api/v1/Cadastros"
    marks = {
        n: api.get(f"{base}/{n}").json()["dtaHorSnapshot"] for n in ("TabelaPrecoItem", "ProdutoEstoque")
    }
    changes = api.post(f"{served.root}_sandbox/simulador", json={"acao": "passo", "n": 40}).json()[
        "alteracoes"
    ]
    assert len(changes) >= 30
    for resource, names in KEYS.items():
        expected = {tuple(c["chave"]) for c in changes if c["recurso"] == resource}
        items = api.get(f"{base}/{resource}", params={"DtaHorAlteracao": marks[resource], "PageSize": 1000})
        assert {tuple(i[n] for n in names) for i in items.json()["items"]} == expected


def test_background_rate_starts_and_stops(served, api):
    control = f"{served.root}_sandbox/simulador"
    url = f"{served.url}/api/v1/Cadastros/TabelaPrecoItem"
    mark = api.get(url).json()["dtaHorSnapshot"]
    assert api.post(control, json={"acao": "iniciar", "taxa": 100}).json()["taxa"] == 100
    moved = _wait_for(lambda: api.get(url, params={"DtaHorAlteracao": mark}).json()["total"] > 0)
    api.post(control, json={"acao": "parar"})
    assert moved and served.erp.simulator.running is False


def test_order_clock_invoices_orders_by_itself(served, api):
    erp = served.erp
    skus = api.get(f"{served.url}/api/v1/Cadastros/ProdutoSku", params={"PageSize": 1000}).json()["items"]
    prices = api.get(
        f"{served.url}/api/v1/Cadastros/TabelaPrecoItem",
        params={"PageSize": 1000, "NroEmpresa": 1, "NroSegmento": 2},
    ).json()["items"]
    on_sale = {p["idSku"] for p in prices if p["statusVenda"] == "A"}
    code = next(s["codAcesso"] for s in skus if s["ativo"] and s["idSku"] in on_sale)
    nro = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(code)).json()["nroPedVenda"]
    api.post(
        f"{served.root}_sandbox/relogio", json={"separarApos": 0.01, "faturarApos": 0.01, "intervalo": 0.05}
    )
    try:
        assert _wait_for(lambda: erp.order(nro)["situacaoPed"] == "F")
    finally:
        api.delete(f"{served.root}_sandbox/relogio")
    kinds = [
        e["tipoEvento"] for e in api.get(f"{served.url}/api/v1/PedidoVenda/EventoPedido").json()["items"]
    ]
    assert kinds == ["S", "F"]
