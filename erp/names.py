"""Every SmPedidoVendaAPI name the app uses: endpoint paths, query parameters, envelope and
record field names. Nothing outside erp/ spells a Consinco name.

Why configurable: TOTVS publishes the paths, query parameters and order-insert body (TDN), but
not the response bodies, auth, paging envelope, edit/cancel endpoints, the card payment call's
path nor the EventoPedido layout (docs/consinco-api.md marks those [assumed]). A real
installation may differ, so an integrator can rename any of them without touching code:

    CONSINCO_FIELD_MAP=/etc/app/consinco-names.json

The file holds a JSON object with any of the sections below, each a partial override, e.g.

    {"paths": {"order_events": "api/v1/PedidoVenda/Eventos"},
     "fields": {"invoice": {"key": "nfeChaveAcesso"}},
     "envelope": {"has_next": "temProxima"}}

Unknown sections or names are refused (a typo must not silently keep the default). Paths are
relative to the configured base URL; `{nro}` stands for the order number.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from settings import ConfigurationError

ENV_VAR = "CONSINCO_FIELD_MAP"


class FieldMapError(ConfigurationError, ValueError):
    """CONSINCO_FIELD_MAP cannot be used (unreadable, not JSON, an unknown name or value): a
    configuration error, named by the variable, that the CLI and gunicorn print as one line."""


PATHS: dict[str, str] = {
    "login": "api/v1/Auth/Login",
    "products": "api/v1/Cadastros/ProdutoCV",
    "skus": "api/v1/Cadastros/ProdutoSku",
    "sku_specs": "api/v1/Cadastros/ProdutoSkuEspecificacao",
    "price_tables": "api/v1/Cadastros/TabelaPreco",
    "price_items": "api/v1/Cadastros/TabelaPrecoItem",
    "stock": "api/v1/Cadastros/ProdutoEstoque",
    "companies": "api/v1/Cadastros/Empresa",
    "segments": "api/v1/Cadastros/Segmento",
    "payment_methods": "api/v1/Cadastros/FormaPagto",
    "orders": "api/v1/PedidoVenda",
    "order": "api/v1/PedidoVenda/{nro}",
    "order_cancel": "api/v1/PedidoVenda/{nro}/Cancelamento",
    "order_events": "api/v1/PedidoVenda/EventoPedido",
    # [assumed] TDN names the call that records an order's card payment and its fields, not its path
    "card_payment": "api/v1/PedidoVenda/PagamentoCartao",
}

PARAMS: dict[str, str] = {
    "since": "DtaHorAlteracao",
    "page": "Page",
    "page_size": "PageSize",
    "cursor": "Cursor",
    "snapshot": "DtaHorSnapshot",
    "nro_empresa": "NroEmpresa",
    "nro_segmento": "NroSegmento",
    "nro_divisao": "NroDivisao",
}

ENVELOPE: dict[str, str] = {
    "items": "items",
    "has_next": "hasNext",
    "next_cursor": "nextCursor",
    "snapshot": "dtaHorSnapshot",
    "page": "page",
    "page_size": "pageSize",
    "total": "total",
}

AUTH: dict[str, str] = {
    "user": "user",
    "password": "password",
    "access_token": "accessToken",
    "expires_in": "expiresIn",
}

ERROR: dict[str, str] = {"codigo": "codigo", "mensagem": "mensagem", "campo": "campo"}

# How the installation writes values. `datetime_zone`: the IANA zone of date-times sent without
# an offset, both ways (read: dtaHorAlteracao, dtaHorEmissao...; written: DtaHorAlteracao,
# dtaHorPedidoCanalVenda). The contract's is UTC [assumed]; an ERP writing its Oracle DATE
# columns in local time is {"formats": {"datetime_zone": "America/Sao_Paulo"}}.
# `quantity_unit`: what an order line's qtdPedida / qtdAtendida count, both ways. "packaging"
# (the contract's, [assumed]): packagings, kg for weighed items. "base": base units, as
# MAD_PEDVENDAITEM holds them (public Consinco SQL values a line at VLREMBINFORMADO * QTDATENDIDA
# / QTDEMBALAGEM), so 2 boxes of 12 are qtdPedida 24. The app counts packagings either way:
# erp/payloads.py and erp/parse_orders.py convert at the edge, jobs never see the difference.
# `discount_per`: what an order line's vlrEmbDesconto is, both ways. "line" (the contract's,
# [assumed]): the line's whole discount. "packaging": the discount of one packaging (one kg for
# weighed items), as every VLREMB* column of MAD_PEDVENDAITEM is priced (public Consinco schema:
# VLREMBDESCONTO NUMERIC(17,6)), so R$ 3.00 off 3 packagings is vlrEmbDesconto 1; sent to six
# decimals, read back times the packagings. The app holds the line's discount either way.
# `nfe_valid` / `nfe_cancelled`: the codes of statusDf (MFL_DOCTOFISCAL.STATUSDF) that mean an
# authorised / a cancelled fiscal document, each a comma-separated list ([guess]: 'V' and 'C'); read
# as the app's own V / C (erp/parse_orders.py), any other code is kept as the ERP wrote it and a
# document of it is applied to no order (jobs.invoices: NFE_STATUS_UNKNOWN), never taken for valid.
# `event_picked` / `event_invoiced` / `event_cancelled`: the EventoPedido kind codes (`tipoEvento`, a
# schema not public: [assumed] 'S', 'F', 'C') of an order changed at picking, invoiced, cancelled,
# each a comma-separated list; read as the app's own S / F / C, any other kind is kept as written and
# traced skipped as unknown by the poller (jobs.order_events), which a person then sees.
FORMATS: dict[str, str] = {
    "datetime_zone": "UTC",
    "quantity_unit": "packaging",
    "discount_per": "line",
    "nfe_valid": "V",
    "nfe_cancelled": "C",
    "event_picked": "S",
    "event_invoiced": "F",
    "event_cancelled": "C",
}
EVENT_KINDS = {"event_picked": "S", "event_invoiced": "F", "event_cancelled": "C"}
QUANTITY_UNITS = ("packaging", "base")
DISCOUNTS_PER = ("line", "packaging")

_CHANGED = {"changed_at": "dtaHorAlteracao"}
_CHANGED_DATE = {"changed_at": "dtaAlteracao"}

FIELDS: dict[str, dict[str, str]] = {
    "product": {
        "seq_produto": "seqProduto", "seq_familia": "seqFamilia", "description": "descCompleta",
        "short_description": "descReduzida", "family": "familia", "brand": "marca",
        "category": "categoria", "weighed": "pesavel", "decimal_qty": "pmtDecimal",
        "ncm": "codNbmSh", "cest": "codCest", "manufacturer_ref": "refFabricante",
        "integrate_ecommerce": "indIntegraEcommerce", "created_at": "dtaHorInclusao", **_CHANGED,
    },
    "sku": {
        "id_sku": "idSku", "seq_produto": "seqProduto", "qtd_embalagem": "qtdEmbalagem",
        "packaging": "embalagem", "unit": "unidadeMedida", "description": "descricao",
        "ean": "codAcesso", "weighed": "pesavel", "gross_weight": "pesoBruto",
        "net_weight": "pesoLiquido", "packaging_status": "statusEmbalagem",
        "integrate_ecommerce": "indIntegraEcommerce", "active": "ativo", **_CHANGED,
    },
    "sku_spec": {
        "id_sku": "idSku", "seq_produto": "seqProduto", "qtd_embalagem": "qtdEmbalagem",
        "codes": "codigos", "code": "codAcesso", "code_type": "tipCodigo", "code_for_sale": "indUtilVenda",
        "specs": "especificacoes", "spec_name": "nome", "spec_value": "valor",
        "images": "imagens", "image_url": "url", "image_order": "ordem", **_CHANGED,
    },
    "price_table": {
        "nro_empresa": "nroEmpresa", "name": "nomeTabela", "segments": "nroSegmentos",
        "status": "status", **_CHANGED_DATE,
    },
    "price_item": {
        "nro_empresa": "nroEmpresa", "nro_segmento": "nroSegmento", "seq_produto": "seqProduto",
        "qtd_embalagem": "qtdEmbalagem", "id_sku": "idSku", "normal": "precoValidNormal",
        "promotional": "precoValidPromoc", "promo_start": "dtaInicioPromoc", "promo_end": "dtaFimPromoc",
        "promotion_running": "promocaoVigente", "effective": "precoVigente", "sale_status": "statusVenda",
        **_CHANGED_DATE,
    },
    "stock": {
        "nro_empresa": "nroEmpresa", "seq_produto": "seqProduto", "store": "estqLoja",
        "warehouse": "estqDeposito", "third_party": "estqTerceiro", "exchange": "estqTroca",
        "reserved_sale": "qtdReservadaVda", "reserved_receiving": "qtdReservadaReceb",
        "reserved_fixed": "qtdReservadaFixa", "available": "qtdDisponivel",
        "controlled": "controlaEstoque", "safety": "estqSegurancaEcommerce",
        "available_ecommerce": "qtdDisponivelEcommerce", "skus": "skus", "sku_id": "idSku",
        "sku_qtd_embalagem": "qtdEmbalagem", "sku_available": "qtdDisponivelEcommerce",
        "last_movement_at": "dtaHorUltMovtoEstq", **_CHANGED_DATE,
    },
    "company": {
        "nro_empresa": "nroEmpresa", "short_name": "nomeReduzido", "legal_name": "razaoSocial",
        "cnpj": "cnpj", "uf": "uf", "city": "cidade", "main_segment": "nroSegmentoPrinc",
        "division": "nroDivisao", "status": "status", **_CHANGED_DATE,
    },
    "segment": {
        "nro_segmento": "nroSegmento", "description": "descSegmento",
        "price_by_packaging": "indPrecoEmbalagem", "status": "status", **_CHANGED_DATE,
    },
    "payment_method": {
        "nro_forma_pagto": "nroFormaPagto", "name": "formaPagto", "kind": "especieFormaPagto",
        "status": "status", **_CHANGED_DATE,
    },
    "order_line": {
        "seq_item": "seqItem", "id_sku": "idSku", "seq_produto": "seqProduto", "ean": "codAcesso",
        "qtd_embalagem": "qtdEmbalagem", "qty_ordered": "qtdPedida", "qty_served": "qtdAtendida",
        "table_price": "vlrEmbTabPreco", "promo_price": "vlrEmbTabPromoc", "unit_price": "vlrEmbInformado",
        "discount": "vlrEmbDesconto", "total_ordered": "vlrTotalPedido", "total_served": "vlrTotalAtendido",
        "weighed": "pesavel", "replaces_seq_item": "seqItemSubstituido", "note": "observacaoItem",
    },
    "invoice": {
        "seq_nf": "seqNf", "key": "chaveAcesso", "number": "numeroDf", "series": "serieDf",
        "model": "modeloDf", "status": "statusDf", "issued_at": "dtaHorEmissao", "total": "vlrTotal",
        "issuer_cnpj": "cnpjEmitente", "danfe_url": "urlDanfe", "xml_url": "urlXml",
    },
    "tracking": {"carrier": "transportadora", "code": "codigoRastreio", "url": "url"},
    "payment": {
        "nro_forma_pagto": "nroFormaPagto", "amount": "vlrPagto", "installments": "qtdParcelas",
        "channel_payment_id": "idPagtoCanalVenda", "card": "cartao",
    },
    # The card payment call's body (TDN fields; its path is paths.card_payment) and, under a payment
    # form's payment.card [assumed] on GET PedidoVenda/{nro}, what it left there.
    "card_payment": {
        "seq_canal_venda": "seqCanalVenda", "channel_order_id": "idPedidoCanalVenda",
        "channel_payment_id": "idPagtoCanalVenda", "nsu": "nsu", "card_number": "nroCartao",
        "network": "codRede", "brand": "codBandeira", "bin": "codBin", "authorization": "nroAutorizacao",
    },
    "order": {
        "nro_pedvenda": "nroPedVenda", "seq_canal_venda": "seqCanalVenda",
        "channel_order_id": "idPedidoCanalVenda", "ordered_at": "dtaHorPedidoCanalVenda",
        "nro_empresa": "nroEmpresa", "nro_segmento": "nroSegmento", "situacao": "situacaoPed",
        "cod_geral_oper": "codGeralOper", "price_table": "nroTabVenda", "delivery_type": "tipoEntrega",
        "representative": "nroRepresentante",
        "carrier": "seqTransportador", "intermediary": "indIntermediador", "seq_pessoa": "seqPessoa",
        "cpf_cnpj": "cpfCnpj", "freight": "vlrTotFrete",
        "total": "vlrTotalPedido", "total_served": "vlrTotalAtendido", "obs": "obsPedido",
        "invoice_obs": "obsNotaFiscal", "created_at": "dtaInclusao", "changed_at": "dtaAlteracao",
        "status_changed_at": "dtaHorSituacaoPedAlt", "cancelled_at": "dtaCancelamento",
        "cancel_reason": "motCancelamento", "lines": "itens", "payments": "formasPagto",
        "invoices": "documentosFiscais", "customer_in": "clienteDto", "lines_in": "itemDto",
        "payments_in": "formaPagtoDto", "duplicated": "duplicado", "cancel_motive": "motivo",
    },
    "customer": {
        "cpf_cnpj": "cpfCnpj", "name": "nomeRazaoSocial", "person_type": "fisicaJuridica",
        "email": "email", "phone_ddd": "foneDdd1", "phone_number": "foneNro1", "cep": "cep",
        "street": "logradouro", "number": "nroLogradouro", "complement": "complementoLogradouro",
        "district": "bairro", "city": "cidade", "uf": "uf", "country": "pais",
        "state_registration": "inscEstadualRg", "trade_name": "nomeFantasia", "sex": "sexo",
        "birth_date": "dtaNascFund", "nfe_email": "emailNfe", "marital_status": "estadoCivil",
        "icms_contributor": "indContribIcms",
    },
    "event": {
        "seq_evento": "seqEvento", "nro_pedvenda": "nroPedVenda", "seq_canal_venda": "seqCanalVenda",
        "channel_order_id": "idPedidoCanalVenda", "nro_empresa": "nroEmpresa", "kind": "tipoEvento",
        "situacao": "situacaoPed", "occurred_at": "dtaHorEvento", "altered": "alterado",
        "total": "vlrTotalPedido", "total_served": "vlrTotalAtendido", "lines": "itens",
        "invoice": "documentoFiscal", "tracking": "rastreio", "cancel_reason": "motivoCancelamento",
        "nfe_cancelled": "nfeCancelada",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Names:
    """One resolved set of names (defaults + the optional override file)."""

    paths: dict[str, str]
    params: dict[str, str]
    envelope: dict[str, str]
    auth: dict[str, str]
    error: dict[str, str]
    fields: dict[str, dict[str, str]]
    formats: dict[str, str]
    # header fields of POST PedidoVenda the app has no value of its own for, sent as the installation
    # gives them (load_names: "order_header"), e.g. TDN's tipoRateioFretePedido and tipoFreteDocAuxiliar
    order_header: dict[str, str | int | float | bool] = dataclass_field(default_factory=dict)
    zone: tzinfo = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.formats["datetime_zone"]
        try:
            zone = UTC if name == "UTC" else ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise FieldMapError(
                f"{ENV_VAR}: formats.datetime_zone {name!r} is not an IANA time zone"
            ) from None
        object.__setattr__(self, "zone", zone)
        unit = self.formats["quantity_unit"]
        if unit not in QUANTITY_UNITS:
            raise FieldMapError(
                f"{ENV_VAR}: formats.quantity_unit {unit!r} is not one of {', '.join(QUANTITY_UNITS)}"
            )
        per = self.formats["discount_per"]
        if per not in DISCOUNTS_PER:
            raise FieldMapError(
                f"{ENV_VAR}: formats.discount_per {per!r} is not one of {', '.join(DISCOUNTS_PER)}"
            )
        valid, cancelled = self.codes("nfe_valid"), self.codes("nfe_cancelled")
        if not valid or not cancelled or valid & cancelled:
            raise FieldMapError(
                f"{ENV_VAR}: formats.nfe_valid {self.formats['nfe_valid']!r} and formats.nfe_cancelled "
                f"{self.formats['nfe_cancelled']!r} must each name a code, and no code both"
            )
        kinds = [self.codes(name) for name in EVENT_KINDS]
        if not all(kinds) or sum(len(codes) for codes in kinds) != len(frozenset().union(*kinds)):
            said = ", ".join(f"formats.{name} {self.formats[name]!r}" for name in EVENT_KINDS)
            raise FieldMapError(f"{ENV_VAR}: {said} must each name a code, and no code two of them")

    def codes(self, name: str) -> frozenset[str]:
        """The codes of formats `name` (nfe_valid, nfe_cancelled; event_picked, event_invoiced,
        event_cancelled), upper-cased."""
        return frozenset(code.strip().upper() for code in self.formats[name].split(",") if code.strip())

    def nfe_status(self, code: str) -> str:
        """The app's status of a fiscal document's statusDf: "V" valid, "C" cancelled, else the code
        as the ERP wrote it (stripped): a document neither valid nor cancelled."""
        said = code.strip().upper()
        if said in self.codes("nfe_valid"):
            return "V"
        if said in self.codes("nfe_cancelled"):
            return "C"
        return code.strip()

    def event_kind(self, code: str) -> str:
        """The app's kind of an EventoPedido's tipoEvento: "S" changed at picking, "F" invoiced, "C"
        cancelled, else the code as the ERP wrote it (stripped): a kind the poller does not know."""
        said = code.strip().upper()
        for name, kind in EVENT_KINDS.items():
            if said in self.codes(name):
                return kind
        return code.strip()

    @property
    def base_units(self) -> bool:
        """Whether the ERP counts order line quantities in base units (formats.quantity_unit)."""
        return self.formats["quantity_unit"] == "base"

    @property
    def discount_per_packaging(self) -> bool:
        """Whether the ERP reads an order line's discount per packaging (formats.discount_per)."""
        return self.formats["discount_per"] == "packaging"


def _defaults() -> dict[str, Any]:
    sections = {"paths": PATHS, "params": PARAMS, "envelope": ENVELOPE, "auth": AUTH, "error": ERROR,
                "formats": FORMATS}  # fmt: skip
    return copy.deepcopy({**sections, "fields": FIELDS})


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> None:
    for key, value in override.items():
        if key not in base:
            raise FieldMapError(f"{ENV_VAR}: unknown name {where}{key!r} (known: {', '.join(sorted(base))})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise FieldMapError(f"{ENV_VAR}: {where}{key!r} must be an object")
            _merge(base[key], value, f"{where}{key}.")
        elif not isinstance(value, str) or not value:
            raise FieldMapError(f"{ENV_VAR}: {where}{key!r} must be a non-empty string")
        else:
            base[key] = value


def load_names(path: str | os.PathLike[str] | None = None) -> Names:
    """The defaults, overridden by the JSON file at `path` (or $CONSINCO_FIELD_MAP when None)."""
    merged = _defaults()
    source = path if path is not None else os.environ.get(ENV_VAR) or None
    if source:
        try:
            override = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise FieldMapError(f"{ENV_VAR}: cannot read {source}: {exc.strerror or exc}") from exc
        except ValueError as exc:  # not JSON, or not UTF-8
            raise FieldMapError(f"{ENV_VAR}: {source} is not a JSON file: {exc}") from exc
        if not isinstance(override, dict):
            raise FieldMapError(f"{ENV_VAR}: {source} must hold a JSON object")
        header = override.pop("order_header", {})
        _merge(merged, override, "")
        merged["order_header"] = _order_header(header, merged["fields"]["order"])
    return Names(**merged)


def _order_header(header: Any, order_fields: dict[str, str]) -> dict[str, str | int | float | bool]:
    """The installation's own POST PedidoVenda header fields: names the app does not send itself,
    each a JSON string, number or boolean (TDN lists header fields the app has no value for, such as
    tipoRateioFretePedido and tipoFreteDocAuxiliar: an ERP that needs them says how here)."""
    if not isinstance(header, dict):
        raise FieldMapError(f"{ENV_VAR}: 'order_header' must be an object of field names and values")
    own = set(order_fields.values())
    for key, value in header.items():
        if not key.strip() or key in own:
            raise FieldMapError(f"{ENV_VAR}: order_header {key!r} is not a field the app leaves unsent")
        if value is None or not isinstance(value, str | int | float | bool):
            raise FieldMapError(f"{ENV_VAR}: order_header {key!r} must be a string, a number or a boolean")
    return dict(header)


NAMES = load_names()
