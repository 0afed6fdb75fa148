"""The HTTP face of the sandbox: SmPedidoVendaAPI routes per docs/consinco-api.md.

Every /api/v1 request passes the fault switches first, then the bearer check (except login).
Refusals leave as `{"codigo", "mensagem", "campo"}` with the status the contract names.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.consinco.catalogue import DATED, catalogue_resources
from sandbox.consinco.control import control_blueprint
from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.errors import ErpError
from sandbox.consinco.order_records import event_resource
from sandbox.consinco.paging import BadRequest, Resource

logger = logging.getLogger(__name__)

BASE_PATH = "/smpedidovenda/smpedidovendaapi"
API = f"{BASE_PATH}/api/v1"


def _error(status: int, codigo: str, mensagem: str, campo: str | None = None,
           headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    response = jsonify({"codigo": codigo, "mensagem": mensagem, "campo": campo})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None and request.content_length:
        raise ErpError(400, "REQUISICAO_INVALIDA", "Corpo da requisição não é JSON válido.")
    return body if body is not None else {}


def create_app(erp: ConsincoErp) -> Flask:
    """A Flask app serving `erp` under BASE_PATH plus the /_sandbox control routes."""
    app = Flask("sandbox.consinco")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def root() -> str:
        return request.host_url if has_request_context() else erp.root_url

    resources: dict[str, Resource] = {
        **catalogue_resources(root, erp.store.clock.today),
        "PedidoVenda/EventoPedido": event_resource(root),
    }
    dated = catalogue_resources(root, erp.store.clock.today, dates_only=True)  # formats.date_only_changes

    @app.before_request
    def guard() -> Response | None:
        if not request.path.startswith(API):
            return None
        paged = request.method == "GET" and request.path[len(API) + 1 :] in resources
        failure = erp.faults.before(paged)
        if failure is not None:
            status, body, headers = failure
            return _error(status, body["codigo"], body["mensagem"], None, headers)
        if request.path == f"{API}/Auth/Login":
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        problem = (
            erp.tokens.check(token.strip()) if scheme.lower() == "bearer" and token else "TOKEN_INVALIDO"
        )
        if problem == "TOKEN_EXPIRADO":
            return _error(401, problem, "Token expirado: faça login novamente.", None,
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        if problem:
            return _error(401, problem, "Token ausente ou inválido.", None, {"WWW-Authenticate": "Bearer"})
        return None

    @app.post(f"{API}/Auth/Login")
    def login() -> Response:
        body = _json_body()
        issued = (
            erp.tokens.login(body.get("user", ""), body.get("password", ""))
            if isinstance(body, dict)
            else None
        )
        if issued is None:
            return _error(401, "CREDENCIAIS_INVALIDAS", "Usuário ou senha inválidos.")
        token, expires = issued
        return jsonify({"accessToken": token, "tokenType": "Bearer", "expiresIn": expires})

    def paged_view(path: str, resource: Resource):
        def view() -> Response:
            served = dated[path] if path in DATED and erp.formats.date_only_changes else resource
            return jsonify(erp.pager.read(served, request.args, offset=erp.formats.offset_paging))

        return view

    for path, resource in resources.items():
        app.add_url_rule(
            f"{API}/{path}", f"list_{resource.name}", paged_view(path, resource), methods=["GET"]
        )

    @app.post(f"{API}/PedidoVenda")
    def insert_order() -> tuple[Response, int]:
        status, answer = erp.insert_order(_json_body())
        return jsonify(answer), status

    @app.post(f"{API}/PedidoVenda/PagamentoCartao")
    def record_card_payment() -> Response:
        return jsonify(erp.record_card_payment(_json_body()))

    @app.get(f"{API}/PedidoVenda/<int:nro>")
    def read_order(nro: int) -> Response:
        return jsonify(erp.order(nro, root()))

    @app.put(f"{API}/PedidoVenda/<int:nro>")
    def edit_order(nro: int) -> Response:
        erp.edit_order(nro, _json_body())
        return jsonify(erp.order(nro, root()))

    @app.post(f"{API}/PedidoVenda/<int:nro>/Cancelamento")
    def cancel_order(nro: int) -> Response:
        body = _json_body()
        erp.cancel_from_channel(nro, body.get("motivo") if isinstance(body, dict) else None)
        return jsonify(erp.order(nro, root()))

    @app.errorhandler(ErpError)
    def erp_error(exc: ErpError) -> Response:
        return _error(exc.status, exc.codigo, exc.mensagem, exc.campo)

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Response:
        return _error(400, "REQUISICAO_INVALIDA", str(exc), exc.field)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        codigo = {404: "RECURSO_NAO_ENCONTRADO", 405: "METODO_NAO_PERMITIDO"}.get(code, "REQUISICAO_INVALIDA")
        return _error(code, codigo if code < 500 else "ERRO_INTERNO", exc.description or exc.name)

    app.register_blueprint(control_blueprint(erp))
    return app
