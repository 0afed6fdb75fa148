"""The contract's examples (docs/consinco-api.md), as the API sends them, for the erp tests."""

from __future__ import annotations

import copy
from typing import Any

T0 = "2026-11-28T18:23:53.123456"

PRODUCT = {
    "seqProduto": 919,
    "seqFamilia": 311,
    "descCompleta": "ARROZ TIPO 1 CAMIL 5KG",
    "descReduzida": "ARROZ CAMIL 5KG",
    "familia": "ARROZ TIPO 1",
    "marca": "CAMIL",
    "categoria": "MERCEARIA",
    "pesavel": False,
    "pmtDecimal": False,
    "codNbmSh": "10063021",
    "codCest": "1700100",
    "refFabricante": "CAM-5",
    "indIntegraEcommerce": "S",
    "dtaHorInclusao": "2026-01-02T10:00:00",
    "dtaHorAlteracao": T0,
}
SKU = {
    "idSku": "P919E12",
    "seqProduto": 919,
    "qtdEmbalagem": 12,
    "embalagem": "CX",
    "unidadeMedida": "CX-12",
    "descricao": "ARROZ TIPO 1 CAMIL 5KG CX-12",
    "codAcesso": "7891234567895",
    "pesavel": False,
    "pesoBruto": 61.2,
    "pesoLiquido": 60.0,
    "statusEmbalagem": "A",
    "indIntegraEcommerce": "S",
    "ativo": True,
    "dtaHorAlteracao": T0,
}
SKU_SPEC = {
    "idSku": "P919E12",
    "seqProduto": 919,
    "qtdEmbalagem": 12,
    "codigos": [{"codAcesso": "7891234567895", "tipCodigo": "E", "indUtilVenda": "S"}],
    "especificacoes": [{"nome": "NCM", "valor": "10063021"}, {"nome": "Marca", "valor": "CAMIL"}],
    "imagens": [
        {"url": "http://h/_sandbox/imagens/919b.svg", "ordem": 2},
        {"url": "http://h/_sandbox/imagens/919.svg", "ordem": 1},
    ],
    "dtaHorAlteracao": T0,
}
PRICE_TABLE = {
    "nroEmpresa": 1,
    "nomeTabela": "LOJA 1 - SAO PAULO",
    "nroSegmentos": [1, 2],
    "status": "A",
    "dtaAlteracao": T0,
}
PRICE_ITEM = {
    "nroEmpresa": 1,
    "nroSegmento": 2,
    "seqProduto": 919,
    "qtdEmbalagem": 12,
    "idSku": "P919E12",
    "precoValidNormal": 239.4,
    "precoValidPromoc": 215.9,
    "dtaInicioPromoc": "2026-11-20",
    "dtaFimPromoc": "2026-12-05",
    "promocaoVigente": True,
    "precoVigente": 215.9,
    "statusVenda": "A",
    "dtaAlteracao": T0,
}
STOCK = {
    "nroEmpresa": 1,
    "seqProduto": 919,
    "estqLoja": 120.0,
    "estqDeposito": 48.0,
    "estqTerceiro": 0.0,
    "estqTroca": 2.0,
    "qtdReservadaVda": 5.0,
    "qtdReservadaReceb": 0.0,
    "qtdReservadaFixa": 1.0,
    "qtdDisponivel": 162.0,
    "indControlaEstoqueEcomm": "S",
    "controlaEstoque": True,
    "estqSegurancaEcommerce": 10.0,
    "qtdDisponivelEcommerce": 152.0,
    "skus": [
        {"idSku": "P919E1", "qtdEmbalagem": 1, "qtdDisponivelEcommerce": 152},
        {"idSku": "P919E12", "qtdEmbalagem": 12, "qtdDisponivelEcommerce": 12},
    ],
    "dtaAlteracao": T0,
    "dtaHorUltMovtoEstq": T0,
}
COMPANY = {
    "nroEmpresa": 1,
    "nomeReduzido": "LOJA 1 - SAO PAULO",
    "razaoSocial": "SUPERMERCADOS X LTDA",
    "cnpj": "12345678000195",
    "uf": "SP",
    "cidade": "SAO PAULO",
    "nroSegmentoPrinc": 1,
    "nroDivisao": 1,
    "status": "A",
    "dtaAlteracao": T0,
}
SEGMENT = {
    "nroSegmento": 2,
    "descSegmento": "ECOMMERCE",
    "indPrecoEmbalagem": "S",
    "status": "A",
    "dtaAlteracao": T0,
}
PAYMENT_METHOD = {
    "nroFormaPagto": 3,
    "formaPagto": "CARTAO DE CREDITO",
    "especieFormaPagto": "C",
    "status": "A",
    "dtaAlteracao": T0,
}
ITEM = {
    "seqItem": 1,
    "idSku": "P919E12",
    "seqProduto": 919,
    "codAcesso": "7891234567895",
    "qtdEmbalagem": 12,
    "qtdPedida": 2.0,
    "qtdAtendida": 1.0,
    "vlrEmbTabPreco": 239.4,
    "vlrEmbTabPromoc": 215.9,
    "vlrEmbInformado": 215.9,
    "vlrEmbDesconto": 0.0,
    "vlrTotalPedido": 431.8,
    "vlrTotalAtendido": 215.9,
    "pesavel": False,
    "seqItemSubstituido": None,
}
KEY = "35261112345678000195550010000001231000001230"
DOC = {
    "seqNf": 1,
    "chaveAcesso": KEY,
    "numeroDf": 123,
    "serieDf": 1,
    "modeloDf": "55",
    "statusDf": "V",
    "dtaHorEmissao": T0,
    "vlrTotal": 440.1,
    "cnpjEmitente": "12345678000195",
    "urlDanfe": f"http://h/_sandbox/nfe/{KEY}/danfe.html",
    "urlXml": f"http://h/_sandbox/nfe/{KEY}/xml",
}
ORDER = {
    "nroPedVenda": 1001,
    "seqCanalVenda": 7,
    "idPedidoCanalVenda": "gid://shopify/Order/1001",
    "nroEmpresa": 1,
    "nroSegmento": 2,
    "situacaoPed": "F",
    "codGeralOper": 207,
    "seqPessoa": 55,
    "cpfCnpj": "52998224725",
    "vlrTotFrete": 15.0,
    "vlrTotalPedido": 462.8,
    "vlrTotalAtendido": 440.1,
    "obsPedido": "Shopify #1001",
    "dtaInclusao": "2026-11-28",
    "dtaAlteracao": T0,
    "dtaHorSituacaoPedAlt": T0,
    "dtaCancelamento": None,
    "motCancelamento": None,
    "itens": [ITEM],
    "formasPagto": [{"nroFormaPagto": 3, "vlrPagto": 447.8, "qtdParcelas": 1}],
    "documentosFiscais": [DOC],
}
EVENT = {
    "seqEvento": 17,
    "nroPedVenda": 1001,
    "seqCanalVenda": 7,
    "idPedidoCanalVenda": "gid://shopify/Order/1001",
    "nroEmpresa": 1,
    "tipoEvento": "F",
    "situacaoPed": "F",
    "dtaHorEvento": T0,
    "alterado": True,
    "vlrTotalPedido": 462.8,
    "vlrTotalAtendido": 440.1,
    "itens": [ITEM],
    "documentoFiscal": DOC,
    "rastreio": {
        "transportadora": "SANDBOX LOG",
        "codigoRastreio": "SB123456789BR",
        "url": "http://h/_sandbox/rastreio/SB123456789BR",
    },
    "motivoCancelamento": None,
    "nfeCancelada": False,
}
INSERTED = {
    "nroPedVenda": 1001,
    "seqCanalVenda": 7,
    "idPedidoCanalVenda": "gid://shopify/Order/1001",
    "situacaoPed": "L",
    "seqPessoa": 55,
    "vlrTotalPedido": 462.8,
    "duplicado": False,
}
LOGIN = {"accessToken": "tok-1", "tokenType": "Bearer", "expiresIn": 3600}


def sample(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `record` with `changes` applied (None values kept, `...` deletes)."""
    out = copy.deepcopy(record)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def envelope(
    items: list[dict[str, Any]],
    *,
    has_next: bool = False,
    cursor: str | None = None,
    snapshot: str = "2026-11-28T18:30:00.000000",
    page: int = 1,
) -> dict[str, Any]:
    return {
        "items": items,
        "page": page,
        "pageSize": 100,
        "hasNext": has_next,
        "total": len(items),
        "dtaHorSnapshot": snapshot,
        "nextCursor": cursor,
    }
