"""The same sandbox on PostgreSQL (its own database; tables by create_all, not the app's migrations)."""

from __future__ import annotations

import random

from sandbox.consinco.runner import serve_in_thread
from sandbox_consinco.helpers import key_is_valid, login, order_body


def test_paging_orders_and_invoicing_on_postgresql(consinco_pg_url):
    with serve_in_thread(port=0, db=consinco_pg_url, skus=200, companies=2, seed=3) as handle:
        api = login(handle)
        url = f"{handle.url}/api/v1/Cadastros/TabelaPrecoItem"
        rng = random.Random(1)
        touched: set[tuple] = set()
        body = api.get(url, params={"PageSize": 60}).json()
        seen = [
            tuple(i[k] for k in ("nroEmpresa", "nroSegmento", "seqProduto", "qtdEmbalagem"))
            for i in body["items"]
        ]
        snapshot = body["dtaHorSnapshot"]
        while body["hasNext"]:
            changes = handle.erp.simulator.update_prices(rng.sample(range(1, 150), 3), 1.05)
            touched |= {c.key for c in changes}
            body = api.get(url, params={"PageSize": 60, "Cursor": body["nextCursor"]}).json()
            seen += [
                tuple(i[k] for k in ("nroEmpresa", "nroSegmento", "seqProduto", "qtdEmbalagem"))
                for i in body["items"]
            ]
        total = handle.erp.state()["precos"]
        assert len(seen) == len(set(seen)) and len(set(seen) - touched) == total - len(touched)
        again = api.get(url, params={"PageSize": 1000, "DtaHorAlteracao": snapshot}).json()["items"]
        assert {
            (i["nroEmpresa"], i["nroSegmento"], i["seqProduto"], i["qtdEmbalagem"]) for i in again
        } == touched

        skus = api.get(f"{handle.url}/api/v1/Cadastros/ProdutoSku", params={"PageSize": 1000}).json()["items"]
        prices = api.get(url, params={"PageSize": 1000, "NroEmpresa": 1, "NroSegmento": 2}).json()["items"]
        on_sale = {p["idSku"] for p in prices if p["statusVenda"] == "A"}
        code = next(s["codAcesso"] for s in skus if s["ativo"] and s["idSku"] in on_sale)
        first = api.post(f"{handle.url}/api/v1/PedidoVenda", json=order_body(code, external="pg-1"))
        again_answer = api.post(f"{handle.url}/api/v1/PedidoVenda", json=order_body(code, external="pg-1"))
        assert first.status_code == 201 and again_answer.status_code == 200
        nro = first.json()["nroPedVenda"]
        assert again_answer.json()["nroPedVenda"] == nro
        invoiced = handle.erp.invoice(nro)
        assert key_is_valid(invoiced["documentosFiscais"][0]["chaveAcesso"])
