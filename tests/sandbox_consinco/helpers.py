"""Helpers shared by the Consinco sandbox tests."""

from __future__ import annotations

import requests

from sandbox.consinco.runner import SandboxHandle


def login(handle: SandboxHandle) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{handle.url}/api/v1/Auth/Login", json={"user": "ecommerce", "password": "consinco"}
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['accessToken']}"
    return session


def order_body(code: str, external: str = "1001", **overrides) -> dict:
    """A POST PedidoVenda body for one item (by EAN)."""
    body = {
        "seqCanalVenda": 7,
        "idPedidoCanalVenda": external,
        "dtaHorPedidoCanalVenda": "2026-11-28T15:00:00Z",
        "nroEmpresa": 1,
        "nroSegmento": 2,
        "codGeralOper": 207,
        "tipoEntrega": "E",
        "vlrTotFrete": 10.0,
        "obsPedido": "Shopify #1001",
        "clienteDto": {
            "cpfCnpj": "529.982.247-25",
            "nomeRazaoSocial": "MARIA SILVA",
            "uf": "SP",
            "cidade": "SAO PAULO",
            "cep": "01310100",
        },
        "itemDto": [{"codAcesso": code, "qtdPedida": 2}],
        "formaPagtoDto": [{"nroFormaPagto": 3, "vlrPagto": 100.0, "qtdParcelas": 1}],
    }
    body.update(overrides)
    return body


def key_is_valid(key: str) -> bool:
    """Independent modulo-11 check of an NF-e key (weights 2..9 cycling from the right)."""
    if len(key) != 44 or not key[:6].isdigit() or not key[20:].isdigit():
        return False
    weights = [2, 3, 4, 5, 6, 7, 8, 9] * 6
    total = sum((ord(c) - 48) * w for c, w in zip(reversed(key[:43]), weights, strict=False))
    digit = 11 - total % 11
    return int(key[43]) == (0 if digit >= 10 else digit)
