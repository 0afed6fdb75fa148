"""The done-when script, with plain `requests` against a chain of 5,000 SKUs x 5 companies:
log in, page through every SKU, read only what changed after a price update, insert an
order, separate and invoice it, and see the EventoPedido with a valid NF-e key."""

from __future__ import annotations

import pytest
import requests

from sandbox.consinco.runner import serve_in_thread
from sandbox_consinco.helpers import key_is_valid


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    handle = serve_in_thread(
        port=0, db=str(tmp_path_factory.mktemp("chain") / "c.db"), skus=5000, companies=5
    )
    yield handle
    handle.stop()


def _post(url: str, json: dict) -> requests.Response:
    return requests.post(url, json=json, timeout=30)


def _all_pages(session: requests.Session, url: str, **params) -> tuple[list[dict], str]:
    body = session.get(url, params={"PageSize": 1000, **params}).json()
    items, snapshot = list(body["items"]), body["dtaHorSnapshot"]
    while body["hasNext"]:
        body = session.get(url, params={"PageSize": 1000, **params, "Cursor": body["nextCursor"]}).json()
        items += body["items"]
    return items, snapshot


def test_script_with_plain_requests(chain):
    base, root = chain.url, chain.root
    token = _post(f"{base}/api/v1/Auth/Login", json={"user": "ecommerce", "password": "consinco"}).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token['accessToken']}"

    skus, _ = _all_pages(session, f"{base}/api/v1/Cadastros/ProdutoSku")
    assert len(skus) == 5000 and len({s["idSku"] for s in skus}) == 5000

    prices_url = f"{base}/api/v1/Cadastros/TabelaPrecoItem"
    prices, watermark = _all_pages(session, prices_url, NroEmpresa=1, NroSegmento=2)
    on_sale = {p["idSku"] for p in prices if p["statusVenda"] == "A"}
    update = _post(
        f"{root}_sandbox/simulador", json={"acao": "precos", "seqProdutos": [10, 20], "fator": 1.2}
    )
    changed_keys = {tuple(c["chave"]) for c in update.json()["alteracoes"] if c["chave"][:2] == [1, 2]}
    changed, _ = _all_pages(session, prices_url, NroEmpresa=1, NroSegmento=2, DtaHorAlteracao=watermark)
    assert changed_keys and {(1, 2, i["seqProduto"], i["qtdEmbalagem"]) for i in changed} == changed_keys

    sellable = next(s for s in skus if s["ativo"] and s["idSku"] in on_sale and not s["pesavel"])
    order = {
        "seqCanalVenda": 1,
        "idPedidoCanalVenda": "shopify-5001",
        "nroEmpresa": 1,
        "nroSegmento": 2,
        "codGeralOper": 207,
        "vlrTotFrete": 9.9,
        "clienteDto": {"cpfCnpj": "52998224725", "nomeRazaoSocial": "JOAO"},
        "itemDto": [{"codAcesso": sellable["codAcesso"], "qtdPedida": 1}],
    }
    inserted = session.post(f"{base}/api/v1/PedidoVenda", json=order)
    assert inserted.status_code == 201, inserted.text
    nro = inserted.json()["nroPedVenda"]
    events_url = f"{base}/api/v1/PedidoVenda/EventoPedido"
    mark = session.get(events_url).json()["dtaHorSnapshot"]
    assert _post(f"{root}_sandbox/pedidos/{nro}/separar", json={}).status_code == 200
    assert _post(f"{root}_sandbox/pedidos/{nro}/faturar", json={"modelo": "55"}).status_code == 200

    events, _ = _all_pages(session, events_url, DtaHorAlteracao=mark)
    invoiced = [e for e in events if e["nroPedVenda"] == nro and e["tipoEvento"] == "F"]
    assert len(invoiced) == 1
    key = invoiced[0]["documentoFiscal"]["chaveAcesso"]
    assert len(key) == 44 and key_is_valid(key)
