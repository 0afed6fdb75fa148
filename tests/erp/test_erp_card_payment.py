"""The card payment call (POST PedidoVenda/PagamentoCartao [assumed path]): its body, its names
renamed by CONSINCO_FIELD_MAP, the card read back under the order's payment form, and the client's
error classes against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from erp_samples import LOGIN, ORDER, sample
from erp_test_urls import BASE
from sandbox_consinco.helpers import order_body
from sqlalchemy import select

from erp.client import ErpClient
from erp.errors import ErpRejected, ErpTransient
from erp.names import NAMES, load_names
from erp.parse_orders import parse_order
from erp.payloads import card_payment_payload
from erp.records import CardPaymentInput, OrderCard
from erp.retry import RetryPolicy
from sandbox.consinco import tables as t
from sandbox.consinco.runner import SandboxHandle, serve_in_thread

CARD = CardPaymentInput(
    seq_canal_venda=7,
    channel_order_id="gid://shopify/Order/1001",
    channel_payment_id="5001",
    nsu="000123456",
    card_number="411111******1111",
    network=1,
    brand=2,
    bin="411111",
    authorization="A1B2C3",
)
BODY = {
    "seqCanalVenda": 7, "idPedidoCanalVenda": "gid://shopify/Order/1001", "idPagtoCanalVenda": "5001",
    "nsu": "000123456", "nroCartao": "411111******1111", "codRede": 1, "codBandeira": 2, "codBin": "411111",
    "nroAutorizacao": "A1B2C3",
}  # fmt: skip


def test_the_payload_names_the_order_its_payment_form_and_the_card() -> None:
    assert card_payment_payload(CARD) == BODY
    json.dumps(BODY)


def test_unknown_card_fields_are_left_out_so_the_erp_keeps_what_it_has() -> None:
    bare = CardPaymentInput(7, "gid://shopify/Order/1001", "5001", nsu="42")
    assert card_payment_payload(bare) == {"seqCanalVenda": 7, "idPedidoCanalVenda": "gid://shopify/Order/1001",
                                          "idPagtoCanalVenda": "5001", "nsu": "42"}  # fmt: skip


@pytest.mark.parametrize(
    "number",
    ["4111111111111111", "4111 1111 1111 1111", "411111111111", "5018-1111-1111", "4111111111**1111"],
)
def test_a_whole_card_number_never_leaves_the_app(number) -> None:
    with pytest.raises(ValueError, match="masked"):
        CardPaymentInput(7, "1001", "5001", card_number=number)


@pytest.mark.parametrize(
    "number", ["411111******1111", "41111111****1111", "************1111", "•••• 4242", "1111"]
)
def test_masked_card_numbers_are_taken(number) -> None:
    assert CardPaymentInput(7, "1001", "5001", card_number=number).card_number == number


def test_an_installation_renames_the_path_and_the_fields(tmp_path, requests_mock) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps({
        "paths": {"card_payment": "api/v1/PedidoVenda/Cartao"},
        "fields": {"card_payment": {"nsu": "nsuTef", "card_number": "numeroCartao"},
                   "payment": {"card": "dadosCartao"}},
    }))  # fmt: skip
    names = load_names(path)
    assert NAMES.paths["card_payment"] == "api/v1/PedidoVenda/PagamentoCartao"  # defaults untouched
    assert NAMES.fields["card_payment"]["nsu"] == "nsu"
    requests_mock.post(BASE + "/api/v1/Auth/Login", json=LOGIN)
    posted = requests_mock.post(BASE + "/api/v1/PedidoVenda/Cartao", json={})
    ErpClient(BASE, "u", "p", names=names).record_card_payment(CARD)
    sent = posted.last_request.json()
    assert sent["nsuTef"] == "000123456" and sent["numeroCartao"] == "411111******1111"
    assert "nsu" not in sent and "nroCartao" not in sent and sent["codBin"] == "411111"
    card = {"nsuTef": "1", "numeroCartao": "************1111", "codBin": 41111111}
    raw = sample(ORDER, formasPagto=[{"nroFormaPagto": 3, "vlrPagto": 1, "dadosCartao": card}])
    assert parse_order(raw, names).payments[0].card == OrderCard("1", "************1111", None, None,
                                                                  "41111111", None)  # fmt: skip


def test_the_order_record_carries_each_payment_forms_card_or_none() -> None:
    card = {"nsu": "000123456", "nroCartao": "411111******1111", "codRede": 1, "codBandeira": 2,
            "codBin": "411111", "nroAutorizacao": "A1B2C3"}  # fmt: skip
    raw = sample(ORDER, formasPagto=[
        {"nroFormaPagto": 3, "vlrPagto": 40, "qtdParcelas": 1, "idPagtoCanalVenda": "5001", "cartao": card},
        {"nroFormaPagto": 2, "vlrPagto": 7.8, "qtdParcelas": 1, "idPagtoCanalVenda": 5002, "cartao": None},
    ])  # fmt: skip
    first, second = parse_order(raw).payments
    assert first.channel_payment_id == "5001"
    assert first.card == OrderCard("000123456", "411111******1111", 1, 2, "411111", "A1B2C3")
    assert (second.channel_payment_id, second.card) == ("5002", None)
    assert parse_order(ORDER).payments[0].card is None  # an ERP that does not return it


# ---------------------------------------------------------------- against the sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[SandboxHandle]:
    db = str(tmp_path_factory.mktemp("consinco") / "c.db")
    handle = serve_in_thread(port=0, db=db, skus=60, companies=2, seed=11)
    yield handle
    handle.stop()


# A read timeout a loaded machine's sandbox never reaches (0.5 s once failed a login under the
# suite's load); the timeout test shortens it for its one call.
TIMEOUT = (2.0, 10.0)


@pytest.fixture
def sandbox_client(sandbox) -> Iterator[ErpClient]:
    sandbox.erp.faults.clear()
    c = ErpClient(sandbox.url, "ecommerce", "consinco", retry=RetryPolicy(attempts=1), timeout=TIMEOUT)
    yield c
    c.close()
    sandbox.erp.faults.clear()


def _order(sandbox: SandboxHandle, external: str) -> int:
    """An order of channel 7 paid by one form, idPagtoCanalVenda "5001"."""
    with sandbox.erp.store.read() as conn:
        code = conn.execute(
            select(t.map_prodcodigo.c.codacesso)
            .join(t.mrl_prodempseg, t.mrl_prodempseg.c.seqproduto == t.map_prodcodigo.c.seqproduto)
            .join(t.map_produto, t.map_produto.c.seqproduto == t.map_prodcodigo.c.seqproduto)
            .where(t.mrl_prodempseg.c.nroempresa == 1, t.mrl_prodempseg.c.nrosegmento == 2,
                   t.mrl_prodempseg.c.statusvenda == "A", t.map_produto.c.indintegraecommerce == "S",
                   t.map_prodcodigo.c.qtdembalagem == t.mrl_prodempseg.c.qtdembalagem)
            .limit(1)
        ).scalar_one()  # fmt: skip
    pays = [{"nroFormaPagto": 3, "vlrPagto": 50.0, "idPagtoCanalVenda": "5001"}]
    status, answer = sandbox.erp.insert_order(order_body(code, external, formaPagtoDto=pays))
    assert status == 201
    return answer["nroPedVenda"]


def test_recorded_twice_and_read_back(sandbox, sandbox_client) -> None:
    nro = _order(sandbox, "gid://shopify/Order/1001")
    assert sandbox_client.record_card_payment(CARD) is None
    sandbox_client.record_card_payment(CARD)  # safe to repeat
    payment = sandbox_client.get_order(nro).payments[0]
    assert payment.channel_payment_id == "5001"
    assert payment.card == OrderCard("000123456", "411111******1111", 1, 2, "411111", "A1B2C3")
    with sandbox.erp.store.read() as conn:
        rows = conn.execute(select(t.mad_pedvendacartao).where(t.mad_pedvendacartao.c.nropedvenda == nro))
        assert len(rows.all()) == 1


@pytest.mark.parametrize(
    ("change", "status", "codigo", "campo"),
    [
        ({"channel_order_id": "gid://shopify/Order/404"}, 404, "PEDIDO_NAO_ENCONTRADO", "idPedidoCanalVenda"),
        ({"channel_payment_id": "9999"}, 422, "PAGAMENTO_NAO_ENCONTRADO", "idPagtoCanalVenda"),
        ({"bin": "4111"}, 400, "REQUISICAO_INVALIDA", "codBin"),
    ],
)
def test_refusals_are_rejected_in_the_erps_words(
    sandbox, sandbox_client, change, status, codigo, campo
) -> None:
    _order(sandbox, f"gid://shopify/Order/{codigo}")
    card = CardPaymentInput(**{**{f: getattr(CARD, f) for f in CARD.__slots__},
                               "channel_order_id": f"gid://shopify/Order/{codigo}", **change})  # fmt: skip
    with pytest.raises(ErpRejected) as caught:
        sandbox_client.record_card_payment(card)
    error = caught.value
    assert (error.status, error.codigo, error.campo) == (status, codigo, campo)
    assert error.mensagem and not error.maybe_taken and error.endpoint == "api/v1/PedidoVenda/PagamentoCartao"


def test_a_cancelled_order_is_rejected(sandbox, sandbox_client) -> None:
    nro = _order(sandbox, "gid://shopify/Order/cancelled")
    sandbox.erp.cancel_from_channel(nro)
    card = CardPaymentInput(7, "gid://shopify/Order/cancelled", "5001", nsu="1")
    with pytest.raises(ErpRejected) as caught:
        sandbox_client.record_card_payment(card)
    assert (caught.value.status, caught.value.codigo) == (409, "PEDIDO_CANCELADO")
    assert "cancelado" in caught.value.mensagem


def test_server_failures_and_timeouts_are_transient(sandbox, sandbox_client) -> None:
    _order(sandbox, "gid://shopify/Order/faults")
    card = CardPaymentInput(7, "gid://shopify/Order/faults", "5001", nsu="1")
    sandbox_client.transport.token()  # logged in before the faults (the login is faulted too)
    sandbox.erp.faults.set(error_rate=1.0)
    with pytest.raises(ErpTransient) as caught:
        sandbox_client.record_card_payment(card)
    assert caught.value.status in (500, 502, 503) and caught.value.codigo == "ERRO_INTERNO"
    sandbox.erp.faults.set(error_rate=0.0, down_for=30)
    with pytest.raises(ErpTransient) as caught:
        sandbox_client.record_card_payment(card)
    assert caught.value.status == 503 and caught.value.retry_after is not None
    sandbox.erp.faults.set(down_for=0, latency=1.0)  # longer than the 0.5 s read timeout set here
    sandbox_client.transport.timeout = (2.0, 0.5)
    with pytest.raises(ErpTransient) as caught:
        sandbox_client.record_card_payment(card)
    assert caught.value.status is None
    sandbox_client.transport.timeout = TIMEOUT
    sandbox.erp.faults.clear()
    sandbox_client.record_card_payment(card)  # the same call, once the ERP answers
