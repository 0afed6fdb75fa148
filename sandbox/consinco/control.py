"""/_sandbox control routes (not Consinco): lifecycle commands, simulator, faults, formats, order clock,
and the documents the API links to (DANFE, XML, images, tracking). No auth, never faulted.
"""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.errors import ErpError, invalid
from sandbox.consinco.lifecycle import CARRIER


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(name, f"{name} deve ser numérico.")
    return float(value)


def control_blueprint(erp: ConsincoErp) -> Blueprint:
    bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

    @bp.get("/estado")
    def state() -> Response:
        return jsonify(erp.state())

    @bp.post("/pedidos/<int:nro>/separar")
    def separate(nro: int) -> Response:
        body = _body()
        erp.separate(
            nro, cuts=body.get("cortes"), substitutions=body.get("substituicoes"), weights=body.get("pesos")
        )
        return jsonify(erp.order(nro, request.host_url))

    @bp.post("/pedidos/<int:nro>/faturar")
    def invoice(nro: int) -> Response:
        body = _body()
        erp.invoice(nro, model=str(body.get("modelo", "55")), series=int(body.get("serie", 1)),
                    tracking=body.get("rastreio", True) is not False)  # fmt: skip
        return jsonify(erp.order(nro, request.host_url))

    @bp.post("/pedidos/<int:nro>/rastreio")
    def track(nro: int) -> Response:
        body = _body()
        texts = {name: body.get(name) for name in ("codigoRastreio", "transportadora", "url", "chave")}
        for name, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise invalid(name, f"{name} deve ser texto.")
        carrier = texts["transportadora"] if "transportadora" in body else CARRIER
        seq = erp.track(
            nro, texts["codigoRastreio"], carrier=carrier, url=texts["url"] or "", key=texts["chave"]
        )
        return jsonify({"seqEvento": seq, **erp.order(nro, request.host_url)})

    @bp.post("/pedidos/<int:nro>/cancelar")
    def cancel(nro: int) -> Response:
        erp.cancel(nro, str(_body().get("motivo") or "Cancelado pela loja"))
        return jsonify(erp.order(nro, request.host_url))

    @bp.post("/empresas/<int:nro>/status")
    def company_status(nro: int) -> Response:
        status = _body().get("status")
        if status not in ("A", "I"):
            raise invalid("status", "status deve ser A ou I.")
        erp.set_company_status(nro, status)
        return jsonify({"nroEmpresa": nro, "status": status})

    @bp.post("/simulador")
    def simulator() -> Response:
        body = _body()
        action = body.get("acao", "passo")
        changes = []
        if action == "passo":
            changes = erp.simulator.step(int(body.get("n", 1)))
        elif action == "precos":
            changes = erp.simulator.update_prices(
                [int(s) for s in body.get("seqProdutos", [])],
                float(body.get("fator", 1.1)),
                body.get("nroEmpresa"),
            )
        elif action == "iniciar":
            erp.simulator.start(float(body.get("taxa", 1.0)))
        elif action == "parar":
            erp.simulator.stop()
        else:
            raise invalid("acao", "acao deve ser passo, precos, iniciar ou parar.")
        return jsonify(
            {
                "alteracoes": [
                    {"recurso": c.resource, "chave": list(c.key), "tipo": c.kind} for c in changes
                ],
                "taxa": erp.simulator.rate,
            }
        )

    @bp.post("/falhas")
    def set_faults() -> Response:
        body = _body()
        erp.faults.set(
            latency=_number(body, "latencia"),
            error_rate=_number(body, "taxaErro5xx"),
            down_for=_number(body, "indisponivelPor"),
            slow_page=_number(body, "paginaLenta"),
            seed=body.get("semente"),
        )
        ttl = _number(body, "tokenTtl")
        if ttl is not None:
            erp.tokens.ttl = ttl
        if body.get("expirarTokens"):
            erp.tokens.expire_all()
        return jsonify(erp.faults.state())

    @bp.delete("/falhas")
    def clear_faults() -> Response:
        erp.faults.clear()
        return jsonify(erp.faults.state())

    @bp.post("/formatos")
    def set_formats() -> Response:
        body = _body()
        for name in ("alteracaoSoData", "paginacaoOffset", "textoMaiusculo"):
            if body.get(name) is not None and not isinstance(body[name], bool):
                raise invalid(name, f"{name} deve ser true ou false.")
        erp.formats.set(
            date_only_changes=body.get("alteracaoSoData"),
            offset_paging=body.get("paginacaoOffset"),
            upper_text=body.get("textoMaiusculo"),
        )
        return jsonify(erp.formats.state())

    @bp.delete("/formatos")
    def clear_formats() -> Response:
        erp.formats.clear()
        return jsonify(erp.formats.state())

    @bp.post("/relogio")
    def order_clock() -> Response:
        body = _body()
        erp.start_order_clock(
            _number(body, "separarApos") or 5.0,
            _number(body, "faturarApos") or 10.0,
            _number(body, "intervalo") or 0.5,
        )
        return jsonify({"relogioPedidos": True})

    @bp.delete("/relogio")
    def stop_order_clock() -> Response:
        erp.stop_order_clock()
        return jsonify({"relogioPedidos": False})

    def _document(key: str) -> dict[str, Any]:
        with erp.store.read() as conn:
            row = (
                conn.execute(select(t.mfl_doctofiscal).where(t.mfl_doctofiscal.c.nfechaveacesso == key))
                .mappings()
                .first()
            )
        if row is None:
            raise ErpError(
                404, "DOCUMENTO_NAO_ENCONTRADO", f"Documento fiscal {key} não encontrado.", "chave"
            )
        return dict(row)

    @bp.get("/nfe/<key>/xml")
    def nfe_xml(key: str) -> Response:
        row = _document(key)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe">'
            f'<NFe><infNFe Id="NFe{key}"><ide><mod>{row["modelodf"]}</mod><serie>{row["seriedf"]}</serie>'
            f"<nNF>{row['numerodf']}</nNF><dhEmi>{row['dtahoremissao']:%Y-%m-%dT%H:%M:%S}+00:00</dhEmi></ide>"
            f"<total><ICMSTot><vNF>{row['vlrtotal']:.2f}</vNF></ICMSTot></total></infNFe></NFe>"
            f"<protNFe><infProt><chNFe>{key}</chNFe>"
            f"<cStat>{'101' if row['statusdf'] == 'C' else '100'}</cStat>"
            "</infProt></protNFe></nfeProc>"
        )
        return Response(xml, mimetype="application/xml")

    @bp.get("/nfe/<key>/danfe.html")
    def danfe(key: str) -> Response:
        row = _document(key)
        status = "CANCELADA" if row["statusdf"] == "C" else "AUTORIZADA"
        html = (
            f"<html><body><h1>DANFE (sandbox) — {status}</h1><p>Modelo {row['modelodf']} série "
            f"{row['seriedf']} nº {row['numerodf']}</p><p>Chave {escape(key)}</p>"
            f"<p>Valor R$ {row['vlrtotal']:.2f}</p></body></html>"
        )
        return Response(html, mimetype="text/html")

    @bp.get("/imagens/<int:seq>.svg")
    def image(seq: int) -> Response:
        hue = (seq * 47) % 360
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">'
            f'<rect width="200" height="200" fill="hsl({hue},60%,70%)"/>'
            f'<text x="100" y="110" text-anchor="middle" font-size="28">{seq}</text>'
            "</svg>"
        )
        return Response(svg, mimetype="image/svg+xml")

    @bp.get("/rastreio/<code>")
    def tracking(code: str) -> Response:
        return jsonify({"codigoRastreio": code, "transportadora": "SANDBOX LOG", "situacao": "EM TRANSITO"})

    return bp
