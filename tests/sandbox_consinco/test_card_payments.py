"""POST PedidoVenda/PagamentoCartao [assumed path]: one card record per order x idPagtoCanalVenda,
a repeat replacing it, refusals in the ERP's words, and the card read back on GET PedidoVenda under
its payment form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sandbox.consinco import tables as t
from sandbox_consinco.helpers import order_body
from sandbox_consinco.test_orders import _code, _sellable_product

CARD = {
    "seqCanalVenda": 7,
    "idPedidoCanalVenda": "card-1",
    "idPagtoCanalVenda": "pi_1",
    "nsu": "000123456",
    "nroCartao": "411111******1111",
    "codRede": 1,
    "codBandeira": 2,
    "codBin": "411111",
    "nroAutorizacao": "A1B2C3",
}
STORED = {"nsu": "000123456", "nroCartao": "411111******1111", "codRede": 1, "codBandeira": 2,
          "codBin": "411111", "nroAutorizacao": "A1B2C3"}  # fmt: skip


@pytest.fixture
def order(served, api) -> int:
    """An order of channel 7 ("card-1") paid by two forms, "pi_1" and "pi_2"."""
    code = _code(served.erp, _sellable_product(served.erp))
    pays = [{"nroFormaPagto": 3, "vlrPagto": 60.0, "idPagtoCanalVenda": "pi_1"},
            {"nroFormaPagto": 2, "vlrPagto": 40.0, "idPagtoCanalVenda": "pi_2"}]  # fmt: skip
    answer = api.post(f"{served.url}/api/v1/PedidoVenda", json=order_body(code, "card-1", formaPagtoDto=pays))
    assert answer.status_code == 201
    return answer.json()["nroPedVenda"]


def _cards(erp) -> int:
    with erp.store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.mad_pedvendacartao)).scalar_one()


def test_a_card_is_recorded_and_read_back_under_its_payment_form(served, api, order):
    answer = api.post(f"{served.url}/api/v1/PedidoVenda/PagamentoCartao", json=CARD)
    assert answer.status_code == 200
    assert answer.json() == {"nroPedVenda": order, "seqCanalVenda": 7, "idPedidoCanalVenda": "card-1",
                             "idPagtoCanalVenda": "pi_1", "cartao": STORED}  # fmt: skip
    forms = api.get(f"{served.url}/api/v1/PedidoVenda/{order}").json()["formasPagto"]
    assert [(p["idPagtoCanalVenda"], p["cartao"]) for p in forms] == [("pi_1", STORED), ("pi_2", None)]
    with served.erp.store.read() as conn:
        row = conn.execute(select(t.mad_pedvendacartao)).mappings().one()
    assert (row["nropedvenda"], row["idpagtocanalvenda"], row["nsu"], row["codbin"]) == (
        order, "pi_1", "000123456", "411111"
    )  # fmt: skip


def test_a_repeat_replaces_the_row_and_answers_the_same(served, api, order):
    url = f"{served.url}/api/v1/PedidoVenda/PagamentoCartao"
    first, again = api.post(url, json=CARD), api.post(url, json=CARD)
    assert (first.status_code, first.json()) == (again.status_code, again.json()) and _cards(served.erp) == 1
    partial = {k: v for k, v in CARD.items() if k != "nroAutorizacao"}
    changed = api.post(url, json={**partial, "nsu": "999", "codBandeira": None})
    assert changed.status_code == 200 and _cards(served.erp) == 1
    # the fields given replace the row's (a null clears one); one left out keeps what the row has
    card = {**STORED, "nsu": "999", "codBandeira": None}
    assert changed.json()["cartao"] == card
    assert api.get(f"{served.url}/api/v1/PedidoVenda/{order}").json()["formasPagto"][0]["cartao"] == card
    other = api.post(url, json={**CARD, "idPagtoCanalVenda": "pi_2", "nsu": "555"})
    assert other.status_code == 200 and _cards(served.erp) == 2
    forms = api.get(f"{served.url}/api/v1/PedidoVenda/{order}").json()["formasPagto"]
    assert [p["cartao"]["nsu"] for p in forms] == ["999", "555"]


def test_refusals_answer_in_the_erps_words(served, api, order):
    url = f"{served.url}/api/v1/PedidoVenda/PagamentoCartao"
    for name in ("seqCanalVenda", "idPedidoCanalVenda", "idPagtoCanalVenda"):
        missing = api.post(url, json={k: v for k, v in CARD.items() if k != name})
        assert missing.status_code == 400 and missing.json() == {
            "codigo": "REQUISICAO_INVALIDA",
            "mensagem": f"Campo obrigatório não informado: {name}.",
            "campo": name,
        }
    unknown = api.post(url, json={**CARD, "idPedidoCanalVenda": "nope"})
    assert unknown.status_code == 404 and unknown.json() == {
        "codigo": "PEDIDO_NAO_ENCONTRADO",
        "mensagem": "Pedido não encontrado: seqCanalVenda 7 idPedidoCanalVenda nope.",
        "campo": "idPedidoCanalVenda",
    }
    other_channel = api.post(url, json={**CARD, "seqCanalVenda": 8})
    assert other_channel.status_code == 404 and other_channel.json()["codigo"] == "PEDIDO_NAO_ENCONTRADO"
    no_form = api.post(url, json={**CARD, "idPagtoCanalVenda": "pi_9"})
    assert no_form.status_code == 422 and no_form.json() == {
        "codigo": "PAGAMENTO_NAO_ENCONTRADO",
        "mensagem": f"Pedido {order} não tem forma de pagamento com idPagtoCanalVenda pi_9.",
        "campo": "idPagtoCanalVenda",
    }
    for bin_ in ("41111", "411111111", "41111A", "４１１１１１"):
        bad = api.post(url, json={**CARD, "codBin": bin_})
        assert bad.status_code == 400 and (bad.json()["codigo"], bad.json()["campo"]) == (
            "REQUISICAO_INVALIDA", "codBin"
        ), bin_  # fmt: skip
    for bin_ in ("411111", "41111112"):  # 6 and 8 digits
        assert api.post(url, json={**CARD, "idPagtoCanalVenda": "pi_2", "codBin": bin_}).status_code == 200
    assert api.post(url, json={**CARD, "codRede": "1"}).json()["campo"] == "codRede"
    assert api.post(url, json={**CARD, "nsu": "1" * 21}).json()["campo"] == "nsu"
    assert _cards(served.erp) == 1  # only pi_2's, from the accepted BINs
    served.erp.cancel_from_channel(order, "Cliente desistiu")
    cancelled = api.post(url, json=CARD)
    assert cancelled.status_code == 409 and cancelled.json() == {
        "codigo": "PEDIDO_CANCELADO",
        "mensagem": f"Pedido {order} cancelado: não aceita dados de cartão.",
        "campo": "situacaoPed",
    }
    assert _cards(served.erp) == 1


def test_behind_the_same_auth_and_faults(served, api, order):
    url = f"{served.url}/api/v1/PedidoVenda/PagamentoCartao"
    anonymous = api.post(url, json=CARD, headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["codigo"] == "TOKEN_INVALIDO"
    served.erp.faults.set(error_rate=1.0)
    failed = api.post(url, json=CARD)
    assert failed.status_code in (500, 502, 503) and failed.json()["codigo"] == "ERRO_INTERNO"
    served.erp.faults.set(error_rate=0.0, down_for=30)
    down = api.post(url, json=CARD)
    assert (
        down.status_code == 503 and down.json()["codigo"] == "INDISPONIVEL" and "Retry-After" in down.headers
    )
    served.erp.faults.clear()
    assert _cards(served.erp) == 0 and api.post(url, json=CARD).status_code == 200
