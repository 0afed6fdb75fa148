"""The catalogue endpoints' records (ProdutoCV, ProdutoSku, prices, stock, setup lists).

Each `Resource` pairs the SQL over Consinco tables with the JSON record documented in
docs/consinco-api.md, section 4. The stock formula lives here (`available`).

`dates_only` (the sandbox's `formatos.alteracaoSoData` switch, sandbox/consinco/formats.py) serves
the prices' and stock's change columns as Consinco names them, DTA (a date) rather than DTAHOR:
MRL_PRODEMPSEG.DTAALTERACAO and MRL_PRODUTOEMPRESA.DTAALTERACAO compared, ordered and written as
their day ("2026-11-28"), as an installation keeping them as dates would.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Connection, DateTime, RowMapping, case, select, type_coerce

from sandbox.consinco import tables as t
from sandbox.consinco.paging import Resource, day_of, format_time

p, f, e = t.map_produto, t.map_familia, t.map_famembalagem


def sku_id(seqproduto: int, qtdembalagem: int) -> str:
    return f"P{seqproduto}E{qtdembalagem}"


def available(row: RowMapping | dict) -> float:
    """Consinco's e-commerce stock: loja + deposito - reservations + terceiro."""
    return round(
        row["estqloja"]
        + row["estqdeposito"]
        - row["qtdreservadavda"]
        - row["qtdreservadareceb"]
        - row["qtdreservadafixa"]
        + row["estqterceiro"],
        3,
    )


def _change_text(value: dt.datetime, dates_only: bool) -> str | None:
    """A change column as served: its day alone when the installation keeps a date (DTA)."""
    return value.date().isoformat() if dates_only else format_time(value)


def _products(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {
            "seqProduto": r["seqproduto"],
            "seqFamilia": r["seqfamilia"],
            "descCompleta": r["desccompleta"],
            "descReduzida": r["descreduzida"],
            "familia": r["familia"],
            "marca": r["marca"],
            "categoria": r["categoria"],
            "pesavel": r["pesavel"] == "S",
            "pmtDecimal": r["pmtdecimal"] == "S",
            "codNbmSh": r["codnbmsh"],
            "codCest": r["codcest"],
            "refFabricante": r["reffabricante"],
            "indIntegraEcommerce": r["indintegraecommerce"],
            "dtaHorInclusao": format_time(r["dtahorinclusao"]),
            "dtaHorAlteracao": format_time(r["dtahoralteracao"]),
        }
        for r in rows
    ]


def _barcodes(conn: Connection, rows: Sequence[RowMapping]) -> dict[tuple[int, int], list[dict]]:
    seqs = sorted({r["seqproduto"] for r in rows})
    found: dict[tuple[int, int], list[dict]] = {}
    if seqs:
        for code in conn.execute(
            select(t.map_prodcodigo).where(t.map_prodcodigo.c.seqproduto.in_(seqs))
        ).mappings():
            found.setdefault((code["seqproduto"], code["qtdembalagem"]), []).append(
                {
                    "codAcesso": code["codacesso"],
                    "tipCodigo": code["tipcodigo"],
                    "indUtilVenda": code["indutilvenda"],
                }
            )
    return found


def _sale_code(codes: list[dict]) -> str | None:
    return next((c["codAcesso"] for c in codes if c["tipCodigo"] == "E" and c["indUtilVenda"] == "S"), None)


def _skus(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    codes = _barcodes(conn, rows)
    return [
        {
            "idSku": sku_id(r["seqproduto"], r["qtdembalagem"]),
            "seqProduto": r["seqproduto"],
            "qtdEmbalagem": r["qtdembalagem"],
            "embalagem": r["embalagem"],
            "unidadeMedida": f"{r['embalagem']}-{r['qtdembalagem']}",
            "descricao": f"{r['desccompleta']} {r['embalagem']}-{r['qtdembalagem']}",
            "codAcesso": _sale_code(codes.get((r["seqproduto"], r["qtdembalagem"]), [])),
            "pesavel": r["pesavel"] == "S",
            "pesoBruto": r["pesobruto"],
            "pesoLiquido": r["pesoliquido"],
            "statusEmbalagem": r["status"],
            "indIntegraEcommerce": r["indintegraecommerce"],
            "ativo": r["status"] == "A" and r["indintegraecommerce"] == "S",
            "dtaHorAlteracao": format_time(r["_changed"]),
        }
        for r in rows
    ]


def _specs_builder(root: Callable[[], str]) -> Callable[[Connection, Sequence[RowMapping]], list[dict]]:
    def build(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
        codes = _barcodes(conn, rows)
        base = root()
        return [
            {
                "idSku": sku_id(r["seqproduto"], r["qtdembalagem"]),
                "seqProduto": r["seqproduto"],
                "qtdEmbalagem": r["qtdembalagem"],
                "codigos": codes.get((r["seqproduto"], r["qtdembalagem"]), []),
                "especificacoes": [
                    {"nome": "NCM", "valor": r["codnbmsh"]},
                    {"nome": "CEST", "valor": r["codcest"]},
                    {"nome": "Marca", "valor": r["marca"]},
                    {"nome": "Peso líquido (kg)", "valor": f"{r['pesoliquido'] or 0:.3f}"},
                ],
                "imagens": [{"url": f"{base}_sandbox/imagens/{r['seqproduto']}.svg", "ordem": 1}],
                "dtaHorAlteracao": format_time(r["_changed"]),
            }
            for r in rows
        ]

    return build


def _price_tables(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    segments = [s for (s,) in conn.execute(select(t.mad_segmento.c.nrosegmento).order_by("nrosegmento"))]
    return [
        {
            "nroEmpresa": r["nroempresa"],
            "nomeTabela": r["nomereduzido"],
            "nroSegmentos": segments,
            "status": r["status"],
            "dtaAlteracao": format_time(r["dtaalteracao"]),
        }
        for r in rows
    ]


def _price_items_builder(
    today: Callable[[], dt.date], dates_only: bool = False
) -> Callable[[Connection, Sequence[RowMapping]], list]:
    def build(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
        day = today()
        items = []
        for r in rows:
            promo = r["precovalidpromoc"] or None
            running = bool(
                promo
                and r["dtainicioprom"]
                and r["dtafimprom"]
                and r["dtainicioprom"] <= day <= r["dtafimprom"]
            )
            items.append(
                {
                    "nroEmpresa": r["nroempresa"],
                    "nroSegmento": r["nrosegmento"],
                    "seqProduto": r["seqproduto"],
                    "qtdEmbalagem": r["qtdembalagem"],
                    "idSku": sku_id(r["seqproduto"], r["qtdembalagem"]),
                    "precoValidNormal": r["precovalidnormal"],
                    "precoValidPromoc": promo,
                    "dtaInicioPromoc": r["dtainicioprom"].isoformat() if r["dtainicioprom"] else None,
                    "dtaFimPromoc": r["dtafimprom"].isoformat() if r["dtafimprom"] else None,
                    "promocaoVigente": running,
                    "precoVigente": promo if running else r["precovalidnormal"],
                    "statusVenda": r["statusvenda"],
                    "dtaAlteracao": _change_text(r["dtaalteracao"], dates_only),
                }
            )
        return items

    return build


def stock_record(
    r: RowMapping | dict, packs: list[tuple[int, bool]], dates_only: bool = False
) -> dict[str, Any]:
    """The ProdutoEstoque record of one product x company; `packs` = (qtdembalagem, pesavel)."""
    controlled = r["indcontrolaestoqueecomm"] != "N"  # only 'N' lifts the control (reference)
    qty = available(r)
    sellable = max(0.0, round(qty - r["estqsegurancaecommerce"], 3)) if controlled else None
    skus = []
    for qtd, weighed in packs:
        per_sku = None
        if sellable is not None:
            per_sku = round(sellable / qtd, 3) if weighed else math.floor(sellable / qtd + 1e-9)
        skus.append(
            {"idSku": sku_id(r["seqproduto"], qtd), "qtdEmbalagem": qtd, "qtdDisponivelEcommerce": per_sku}
        )
    return {
        "nroEmpresa": r["nroempresa"],
        "seqProduto": r["seqproduto"],
        "estqLoja": r["estqloja"],
        "estqDeposito": r["estqdeposito"],
        "estqTerceiro": r["estqterceiro"],
        "estqTroca": r["estqtroca"],
        "qtdReservadaVda": r["qtdreservadavda"],
        "qtdReservadaReceb": r["qtdreservadareceb"],
        "qtdReservadaFixa": r["qtdreservadafixa"],
        "qtdDisponivel": qty,
        "indControlaEstoqueEcomm": r["indcontrolaestoqueecomm"],
        "controlaEstoque": controlled,
        "estqSegurancaEcommerce": r["estqsegurancaecommerce"],
        "qtdDisponivelEcommerce": sellable,
        "skus": skus,
        "dtaAlteracao": _change_text(r["dtaalteracao"], dates_only),
        "dtaHorUltMovtoEstq": format_time(r["dtahorultmovtoestq"]),
    }


def _stock(conn: Connection, rows: Sequence[RowMapping], dates_only: bool = False) -> list[dict[str, Any]]:
    seqs = sorted({r["seqproduto"] for r in rows})
    packs: dict[int, list[tuple[int, bool]]] = {}
    if seqs:
        query = (
            select(p.c.seqproduto, e.c.qtdembalagem, f.c.pesavel)
            .join(e, e.c.seqfamilia == p.c.seqfamilia)
            .join(f, f.c.seqfamilia == p.c.seqfamilia)
            .where(p.c.seqproduto.in_(seqs))
            .order_by(p.c.seqproduto, e.c.qtdembalagem)
        )
        for seq, qtd, weighed in conn.execute(query):
            packs.setdefault(seq, []).append((qtd, weighed == "S"))
    return [stock_record(r, packs.get(r["seqproduto"], []), dates_only) for r in rows]


def _companies(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {
            "nroEmpresa": r["nroempresa"],
            "nomeReduzido": r["nomereduzido"],
            "razaoSocial": r["nomerazao"],
            "cnpj": r["nrocgccpf"] + r["digcgccpf"],
            "uf": r["uf"],
            "cidade": r["cidade"],
            "nroSegmentoPrinc": r["nrosegmentoprinc"],
            "nroDivisao": r["nrodivisao"],
            "status": r["status"],
            "dtaAlteracao": format_time(r["dtaalteracao"]),
        }
        for r in rows
    ]


def _segments(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {
            "nroSegmento": r["nrosegmento"],
            "descSegmento": r["descsegmento"],
            "indPrecoEmbalagem": r["indprecoembalagem"],
            "status": r["status"],
            "dtaAlteracao": format_time(r["dtaalteracao"]),
        }
        for r in rows
    ]


def _payment_methods(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {
            "nroFormaPagto": r["nroformapagto"],
            "formaPagto": r["formapagto"],
            "especieFormaPagto": r["especieformapagto"],
            "status": r["status"],
            "dtaAlteracao": format_time(r["dtaalteracao"]),
        }
        for r in rows
    ]


DATED = ("Cadastros/TabelaPrecoItem", "Cadastros/ProdutoEstoque")  # served as dates by `dates_only`


def catalogue_resources(
    root: Callable[[], str], today: Callable[[], dt.date], *, dates_only: bool = False
) -> dict[str, Resource]:
    """Path (after /api/v1/) -> Resource. `root` gives the public root URL for links."""
    emp, pes, pe, ps = t.max_empresa, t.ge_pessoa, t.mrl_produtoempresa, t.mrl_prodempseg
    # a distinct name: the pager keeps each read's total by name, and the dated window differs
    dated = " (DTA)" if dates_only else ""
    division_of = select(emp.c.nrodivisao).where(emp.c.nroempresa == pe.c.nroempresa).scalar_subquery()
    division_of_price = select(emp.c.nrodivisao).where(emp.c.nroempresa == ps.c.nroempresa).scalar_subquery()
    sku_changed = type_coerce(
        case(
            (p.c.dtahoralteracao >= e.c.dtahoraltembpreco, p.c.dtahoralteracao), else_=e.c.dtahoraltembpreco
        ),
        DateTime,
    )
    product_q = select(
        p, f.c.familia, f.c.pesavel, f.c.pmtdecimal, f.c.codnbmsh, f.c.codcest, f.c.marca, f.c.categoria
    ).join(f, f.c.seqfamilia == p.c.seqfamilia)
    sku_q = (
        select(
            p.c.seqproduto,
            p.c.desccompleta,
            p.c.indintegraecommerce,
            e.c.qtdembalagem,
            e.c.embalagem,
            e.c.status,
            e.c.pesobruto,
            e.c.pesoliquido,
            f.c.pesavel,
            f.c.codnbmsh,
            f.c.codcest,
            f.c.marca,
        )
        .join(e, e.c.seqfamilia == p.c.seqfamilia)
        .join(f, f.c.seqfamilia == p.c.seqfamilia)
    )
    company_q = select(emp, pes.c.nomerazao, pes.c.nrocgccpf, pes.c.digcgccpf, pes.c.cidade).join(
        pes, pes.c.seqpessoa == emp.c.seqpessoaemp
    )
    return {
        "Cadastros/ProdutoCV": Resource(
            "ProdutoCV", product_q, p.c.dtahoralteracao, (p.c.seqproduto,), {}, _products
        ),
        "Cadastros/ProdutoSku": Resource(
            "ProdutoSku", sku_q, sku_changed, (p.c.seqproduto, e.c.qtdembalagem), {}, _skus, order_once=True
        ),
        "Cadastros/ProdutoSkuEspecificacao": Resource(
            "ProdutoSkuEspecificacao",
            sku_q,
            sku_changed,
            (p.c.seqproduto, e.c.qtdembalagem),
            {},
            _specs_builder(root),
            order_once=True,
        ),
        "Cadastros/TabelaPreco": Resource(
            "TabelaPreco",
            select(emp),
            emp.c.dtaalteracao,
            (emp.c.nroempresa,),
            {"NroEmpresa": emp.c.nroempresa, "NroDivisao": emp.c.nrodivisao},
            _price_tables,
        ),
        "Cadastros/TabelaPrecoItem": Resource(
            "TabelaPrecoItem" + dated,
            select(ps),
            day_of(ps.c.dtaalteracao) if dates_only else ps.c.dtaalteracao,
            (ps.c.nroempresa, ps.c.nrosegmento, ps.c.seqproduto, ps.c.qtdembalagem),
            {"NroEmpresa": ps.c.nroempresa, "NroSegmento": ps.c.nrosegmento, "NroDivisao": division_of_price},
            _price_items_builder(today, dates_only),
        ),
        "Cadastros/ProdutoEstoque": Resource(
            "ProdutoEstoque" + dated,
            select(pe),
            day_of(pe.c.dtaalteracao) if dates_only else pe.c.dtaalteracao,
            (pe.c.nroempresa, pe.c.seqproduto),
            {"NroEmpresa": pe.c.nroempresa, "NroDivisao": division_of},
            partial(_stock, dates_only=dates_only),
        ),
        "Cadastros/Empresa": Resource(
            "Empresa",
            company_q,
            emp.c.dtaalteracao,
            (emp.c.nroempresa,),
            {"NroEmpresa": emp.c.nroempresa, "NroDivisao": emp.c.nrodivisao},
            _companies,
        ),
        "Cadastros/Segmento": Resource(
            "Segmento",
            select(t.mad_segmento),
            t.mad_segmento.c.dtaalteracao,
            (t.mad_segmento.c.nrosegmento,),
            {"NroSegmento": t.mad_segmento.c.nrosegmento},
            _segments,
        ),
        "Cadastros/FormaPagto": Resource(
            "FormaPagto",
            select(t.mrl_formapagto),
            t.mrl_formapagto.c.dtaalteracao,
            (t.mrl_formapagto.c.nroformapagto,),
            {},
            _payment_methods,
        ),
    }
