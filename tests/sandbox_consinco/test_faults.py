"""Chaos switches: expired tokens, latency, 5xx rate, downtime window, slow pages."""

from __future__ import annotations

import time

import requests

from sandbox_consinco.helpers import login


def _skus(served, api, **params):
    return api.get(f"{served.url}/api/v1/Cadastros/ProdutoSku", params={"PageSize": 5, **params})


def test_login_and_token_errors(served, api):
    wrong = api.post(f"{served.url}/api/v1/Auth/Login", json={"user": "ecommerce", "password": "x"})
    assert wrong.status_code == 401 and wrong.json()["codigo"] == "CREDENCIAIS_INVALIDAS"
    anonymous = _skus(served, requests.Session())
    assert anonymous.status_code == 401 and anonymous.json()["codigo"] == "TOKEN_INVALIDO"
    assert _skus(served, api).status_code == 200
    served.erp.tokens.expire_all()
    expired = _skus(served, api)
    assert expired.status_code == 401 and expired.json()["codigo"] == "TOKEN_EXPIRADO"
    assert _skus(served, login(served)).status_code == 200  # a new login works again


def test_tokens_expire_after_their_lifetime(tmp_path):
    from sandbox.consinco.runner import serve_in_thread

    with serve_in_thread(port=0, db=str(tmp_path / "c.db"), skus=20, companies=1, token_ttl=0.2) as handle:
        session = login(handle)
        assert _skus(handle, session).status_code == 200
        time.sleep(0.3)
        assert _skus(handle, session).json()["codigo"] == "TOKEN_EXPIRADO"


def test_expire_tokens_through_control_endpoint(served, api):
    assert api.post(f"{served.root}_sandbox/falhas", json={"expirarTokens": True}).status_code == 200
    assert _skus(served, api).status_code == 401


def test_error_rate_answers_5xx(served, api):
    api.post(f"{served.root}_sandbox/falhas", json={"taxaErro5xx": 1.0})
    answers = [_skus(served, api) for _ in range(5)]
    assert all(a.status_code in (500, 502, 503) and a.json()["codigo"] == "ERRO_INTERNO" for a in answers)
    assert api.get(f"{served.root}_sandbox/estado").status_code == 200  # control is never faulted
    served.erp.faults.set(error_rate=0.5, seed=11)
    codes = {_skus(served, api).status_code for _ in range(40)}
    assert 200 in codes and codes & {500, 502, 503}
    api.delete(f"{served.root}_sandbox/falhas")
    assert all(_skus(served, api).status_code == 200 for _ in range(5))


def test_downtime_window(served, api):
    api.post(f"{served.root}_sandbox/falhas", json={"indisponivelPor": 30})
    down = _skus(served, api)
    assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
    login_down = api.post(
        f"{served.url}/api/v1/Auth/Login", json={"user": "ecommerce", "password": "consinco"}
    )
    assert login_down.status_code == 503
    api.post(f"{served.root}_sandbox/falhas", json={"indisponivelPor": 0})
    assert _skus(served, api).status_code == 200


def test_latency_and_slow_pages(served, api):
    served.erp.faults.set(latency=0.3)
    started = time.monotonic()
    assert api.get(f"{served.url}/api/v1/PedidoVenda/1").status_code == 404
    assert time.monotonic() - started >= 0.3
    served.erp.faults.set(latency=0.0, slow_page=0.4)
    started = time.monotonic()
    assert _skus(served, api).status_code == 200
    assert time.monotonic() - started >= 0.4
    state = api.get(f"{served.root}_sandbox/estado").json()["falhas"]
    assert state["paginaLenta"] == 0.4 and state["latencia"] == 0.0
