"""What the store does to an order after it arrives: separate (S), invoice (F), cancel (C), and
the carrier's tracking given after invoicing (`track`: another F event of the same NF-e).

Each step writes Consinco's tables, moves MAD_PEDVENDA.DTAALTERACAO and appends an immutable
row to MAD_PEDVENDAEVENTO, which GET PedidoVenda/EventoPedido pages through. `OrderClock`
optionally moves orders by itself (released -> separated -> invoiced) like a busy store.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
from typing import Any

from sqlalchemy import Connection, func, select

from sandbox.consinco import tables as t
from sandbox.consinco.errors import ErpError, invalid
from sandbox.consinco.fiscal import nfe_key
from sandbox.consinco.order_records import (
    company_cnpj,
    load_order,
    move_stock,
    order_lines,
    order_record,
    to_table,
)
from sandbox.consinco.orders import CONFLICT, EDITABLE, resolve_item
from sandbox.consinco.store import Store

logger = logging.getLogger(__name__)
pv, pvi, doc = t.mad_pedvenda, t.mad_pedvendaitem, t.mfl_doctofiscal
CARRIER = "SANDBOX LOG"


def record_event(
    conn: Connection,
    now: dt.datetime,
    nro: int,
    kind: str,
    unit: str,
    per: str,
    *,
    nfe_cancelled: bool = False,
    tracking: dict[str, str] | None = None,
) -> int:
    """Append the order's state as an EventoPedido (links are added when read), its line
    quantities in the API's `unit` (Store.quantity_unit), discounts `per` (Store.discount_per)."""
    order = order_record(conn, nro, "", unit, per)
    items = order["itens"]
    changed = any(i["qtdAtendida"] is not None and i["qtdAtendida"] != i["qtdPedida"] for i in items)
    docs = order["documentosFiscais"]
    data: dict[str, Any] = {
        "nroPedVenda": nro,
        "seqCanalVenda": order["seqCanalVenda"],
        "idPedidoCanalVenda": order["idPedidoCanalVenda"],
        "nroEmpresa": order["nroEmpresa"],
        "tipoEvento": kind,
        "situacaoPed": order["situacaoPed"],
        "alterado": changed,
        "vlrTotalPedido": order["vlrTotalPedido"],
        "vlrTotalAtendido": order["vlrTotalAtendido"],
        "itens": items,
        "documentoFiscal": docs[-1] if docs and kind in ("F", "C") else None,
        "rastreio": tracking,
        "motivoCancelamento": order["motCancelamento"] if kind == "C" else None,
        "nfeCancelada": nfe_cancelled,
    }
    seq = Store.next_id(conn, t.mad_pedvendaevento.c.seqevento)
    conn.execute(
        t.mad_pedvendaevento.insert().values(
            seqevento=seq,
            nropedvenda=nro,
            nroempresa=order["nroEmpresa"],
            tipoevento=kind,
            dtahorevento=now,
            dados=json.dumps(data, ensure_ascii=False),
        )
    )
    return seq


def _set_status(conn: Connection, now: dt.datetime, nro: int, status: str, **extra: Any) -> None:
    conn.execute(
        pv.update()
        .where(pv.c.nropedvenda == nro)
        .values(situacaoped=status, dtaalteracao=now, dtahorsituacaopedalt=now, **extra)
    )


def _conflict(order: Any) -> ErpError:
    codigo, message = CONFLICT[order["situacaoped"]]
    return ErpError(409, codigo, message.format(nro=order["nropedvenda"]), "situacaoPed")


def _int_keys(values: dict | None) -> dict[int, float]:
    try:
        return {int(k): float(v) for k, v in (values or {}).items()}
    except (TypeError, ValueError) as exc:
        raise invalid("seqItem", "Chaves devem ser seqItem e valores quantidades.") from exc


def _in_table(values: dict[int, float], lines: list, unit: str) -> dict[int, float]:
    """{seqItem: quantity the API's way} as MAD_PEDVENDAITEM counts it (base units)."""
    packaging = {line["seqitem"]: line["qtdembalagem"] for line in lines}
    return {k: to_table(v, packaging[k], unit) if k in packaging else v for k, v in values.items()}


def _served_before(line: dict[str, Any], again: bool) -> float:
    """What a line holds reserved before this picking: the last picking's served quantity on a
    re-pick, else what was ordered."""
    served = line["qtdatendida"]
    return float(served) if again and served is not None else float(line["qtdpedida"])


def separate(
    store: Store,
    nro: int,
    *,
    cuts: dict | None = None,
    substitutions: list[dict] | None = None,
    weights: dict | None = None,
) -> dict[str, Any]:
    """Pick the order: `cuts` {seqItem: qty served}, `substitutions` [{seqItem, codAcesso|seqProduto,
    qtdEmbalagem?, qtd}], `weights` {seqItem: kg}, quantities as the API counts them
    (Store.quantity_unit). Weighed lines not in `weights` get a weight that differs from the
    ordered one (seeded by the order number) unless `weights` is given.

    An order separated already (S, not invoiced) is picked AGAIN (the store re-picks before the
    NF-e: a box found after all, a piece of meat weighed again): the lines not in `cuts` /
    `weights` keep what the last picking served, the reservation moves by the difference, and a
    new S event reports the picking as it is now."""
    unit = store.quantity_unit
    rng = random.Random(nro)
    with store.write() as (conn, now):
        order = load_order(conn, nro, for_update=True)
        again = order["situacaoped"] == "S"
        if order["situacaoped"] not in EDITABLE and not again:
            raise _conflict(order)
        lines = order_lines(conn, nro)
        cut_map, weight_map = (
            _in_table(_int_keys(cuts), lines, unit),
            _in_table(_int_keys(weights), lines, unit),
        )
        served: dict[int, float] = {}
        before = {line["seqitem"]: _served_before(line, again) for line in lines}
        for line in lines:
            qty = before[line["seqitem"]]
            if line["seqitem"] in cut_map:
                qty = max(0.0, min(line["qtdpedida"], cut_map[line["seqitem"]]))
            elif line["seqitem"] in weight_map:
                qty = round(weight_map[line["seqitem"]], 3)
            elif line["pesavel"] == "S" and weights is None and not again:
                qty = round(qty * rng.choice([0.92, 0.96, 1.03, 1.07]), 3)
            served[line["seqitem"]] = qty
        next_item = max(line["seqitem"] for line in lines) + 1
        new_lines = []
        for index, sub in enumerate(substitutions or []):
            original = int(sub.get("seqItem", 0))
            if original not in served:
                raise invalid(
                    f"substituicoes[{index}].seqItem", f"Item {original} não existe no pedido {nro}."
                )
            found = resolve_item(
                conn,
                sub,
                f"substituicoes[{index}]",
                order["nroempresa"],
                order["nrosegmento"],
                store.clock.today(),
            )
            served[original] = 0.0
            new_lines.append(
                {
                    "nropedvenda": nro,
                    "seqitem": next_item + index,
                    "seqproduto": found["seqproduto"],
                    "codacesso": found["codacesso"],
                    "qtdembalagem": found["qtdembalagem"],
                    "qtdpedida": 0.0,
                    "qtdatendida": to_table(
                        sub.get("qtd") or sub.get("qtdAtendida") or 1, found["qtdembalagem"], unit
                    ),
                    "vlrembtabpreco": found["vlrembtabpreco"],
                    "vlrembtabpromoc": found["vlrembtabpromoc"],
                    "vlrembinformado": found["vigente"],
                    "vlrembdesconto": 0.0,
                    "observacaoitem": "SUBSTITUTO",
                    "seqitemsubst": original,
                }
            )
        for line in lines:
            qty = served[line["seqitem"]]
            conn.execute(
                pvi.update()
                .where(pvi.c.nropedvenda == nro, pvi.c.seqitem == line["seqitem"])
                .values(qtdatendida=qty)
            )
            delta = qty - before[line["seqitem"]]
            if delta:
                move_stock(conn, now, order["nroempresa"], line["seqproduto"], reserva=delta)
        if new_lines:
            conn.execute(pvi.insert(), new_lines)
            for line in new_lines:
                move_stock(conn, now, order["nroempresa"], line["seqproduto"], reserva=line["qtdatendida"])
        _set_status(conn, now, nro, "S")
        record_event(conn, now, nro, "S", unit, store.discount_per)
        return order_record(conn, nro, "", unit, store.discount_per)


def invoice(
    store: Store, nro: int, *, model: str = "55", series: int = 1, tracking: bool = True
) -> dict[str, Any]:
    """Issue the NF-e (55) or NFC-e (65) for what was served; separates first if needed. A delivery's
    F event carries the sandbox carrier's tracking unless `tracking` is False (the carrier gives its
    code later: `track`)."""
    if model not in ("55", "65"):
        raise invalid("modelo", "Modelo deve ser 55 (NF-e) ou 65 (NFC-e).")
    with store.write_lock:
        with store.read() as conn:
            status = load_order(conn, nro)["situacaoped"]
        if status in EDITABLE:
            separate(store, nro)
        with store.write() as (conn, now):
            order = load_order(conn, nro, for_update=True)
            if order["situacaoped"] != "S":
                raise _conflict(order)
            lines = order_lines(conn, nro)
            record = order_record(conn, nro, "", store.quantity_unit, store.discount_per)
            total = record["vlrTotalAtendido"] or 0.0
            company = conn.execute(
                select(t.max_empresa).where(t.max_empresa.c.nroempresa == order["nroempresa"])
            )
            uf = company.mappings().one()["uf"]
            number = (
                1
                + conn.execute(
                    select(func.coalesce(func.max(doc.c.numerodf), 0)).where(
                        doc.c.nroempresa == order["nroempresa"],
                        doc.c.seriedf == series,
                        doc.c.modelodf == model,
                    )
                ).scalar_one()
            )
            key = nfe_key(
                uf=uf,
                issued=now,
                cnpj_issuer=company_cnpj(conn, order["nroempresa"]),
                model=model,
                series=series,
                number=number,
                code=random.Random(nro * 7919 + number).randrange(10**8),
            )
            conn.execute(
                doc.insert().values(
                    seqnf=Store.next_id(conn, doc.c.seqnf),
                    nroempresa=order["nroempresa"],
                    numerodf=number,
                    seriedf=series,
                    modelodf=model,
                    nfechaveacesso=key,
                    statusdf="V",
                    dtahoremissao=now,
                    vlrtotal=total,
                    nropedidovenda=nro,
                    dtaalteracao=now,
                )
            )
            for line in lines:
                qty = line["qtdatendida"] or 0.0
                if qty:
                    move_stock(conn, now, order["nroempresa"], line["seqproduto"], loja=-qty, reserva=-qty)
            _set_status(conn, now, nro, "F")
            rastreio = None
            if order["indentregaretira"] == "E" and tracking:
                rastreio = {"transportadora": CARRIER, "codigoRastreio": f"SB{nro:09d}BR", "url": ""}
            record_event(conn, now, nro, "F", store.quantity_unit, store.discount_per, tracking=rastreio)
            logger.info("consinco sandbox: order %s invoiced, model %s number %s", nro, model, number)
            return order_record(conn, nro, "", store.quantity_unit, store.discount_per)


def track(
    store: Store,
    nro: int,
    *,
    code: str | None = None,
    carrier: str | None = CARRIER,
    url: str = "",
    key: str | None = None,
) -> int:
    """The carrier's tracking given (or changed) after the order was invoiced: another F event of
    the NF-e `key` (None: the latest F event's), a copy of its last F event (the same document and
    items) with this `rastreio` — `code` (default the sandbox carrier's SB<nro>BR), `carrier`, and
    `url` (empty: the sandbox's tracking page when read; anything else is served as given). Returns
    the new seqEvento. 409 PEDIDO_NAO_FATURADO unless the order is invoiced (F); 404 when no F event
    names that key."""
    ev = t.mad_pedvendaevento
    with store.write() as (conn, now):
        order = load_order(conn, nro, for_update=True)
        if order["situacaoped"] != "F":
            raise ErpError(409, "PEDIDO_NAO_FATURADO", f"Pedido {nro} não está faturado.", "situacaoPed")
        rows = conn.execute(
            select(ev.c.dados)
            .where(ev.c.nropedvenda == nro, ev.c.tipoevento == "F")
            .order_by(ev.c.seqevento.desc())
        ).all()
        found = (json.loads(row.dados) for row in rows)
        data = next(
            (d for d in found if key is None or (d.get("documentoFiscal") or {}).get("chaveAcesso") == key),
            None,
        )
        if data is None:
            raise ErpError(
                404, "DOCUMENTO_NAO_ENCONTRADO", f"Pedido {nro} não tem evento F da chave {key}.", "chave"
            )
        data["rastreio"] = {
            "transportadora": carrier,
            "codigoRastreio": code or f"SB{nro:09d}BR",
            "url": url or "",
        }
        seq = Store.next_id(conn, ev.c.seqevento)
        conn.execute(ev.insert().values(seqevento=seq, nropedvenda=nro, nroempresa=order["nroempresa"],
                                        tipoevento="F", dtahorevento=now,
                                        dados=json.dumps(data, ensure_ascii=False)))  # fmt: skip
        conn.execute(pv.update().where(pv.c.nropedvenda == nro).values(dtaalteracao=now))
        logger.info("consinco sandbox: order %s tracking %s (event %s)", nro, data["rastreio"], seq)
        return seq


def cancel(store: Store, nro: int, *, reason: str = "Cancelado pela loja") -> dict[str, Any]:
    """The store cancels the order; an invoiced order gets its NF-e cancelled and stock back."""
    with store.write() as (conn, now):
        order = load_order(conn, nro, for_update=True)
        if order["situacaoped"] == "C":
            return order_record(conn, nro, "", store.quantity_unit, store.discount_per)
        invoiced = order["situacaoped"] == "F"
        for line in order_lines(conn, nro):
            if invoiced:
                move_stock(
                    conn, now, order["nroempresa"], line["seqproduto"], loja=line["qtdatendida"] or 0.0
                )
            else:
                qty = line["qtdatendida"] if line["qtdatendida"] is not None else line["qtdpedida"]
                move_stock(conn, now, order["nroempresa"], line["seqproduto"], reserva=-qty)
        if invoiced:
            conn.execute(
                doc.update().where(doc.c.nropedidovenda == nro).values(statusdf="C", dtaalteracao=now)
            )
        _set_status(conn, now, nro, "C", dtacancelamento=now, motcancelamento=reason[:200])
        record_event(conn, now, nro, "C", store.quantity_unit, store.discount_per, nfe_cancelled=invoiced)
        return order_record(conn, nro, "", store.quantity_unit, store.discount_per)


class OrderClock:
    """Moves orders by themselves: released -> separated after `separate_after` seconds,
    separated -> invoiced after `invoice_after` seconds (checked every `interval`)."""

    def __init__(
        self, store: Store, separate_after: float, invoice_after: float, interval: float = 0.5
    ) -> None:
        self.store = store
        self.separate_after = dt.timedelta(seconds=separate_after)
        self.invoice_after = dt.timedelta(seconds=invoice_after)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consinco-order-clock", daemon=True)

    def start(self) -> OrderClock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def tick(self) -> int:
        """Advance every due order once; returns how many moved."""
        now = self.store.clock.now()
        with self.store.read() as conn:
            due_sep = (
                conn.execute(
                    select(pv.c.nropedvenda).where(
                        pv.c.situacaoped.in_(EDITABLE), pv.c.dtahorsituacaopedalt <= now - self.separate_after
                    )
                )
                .scalars()
                .all()
            )
            due_inv = (
                conn.execute(
                    select(pv.c.nropedvenda).where(
                        pv.c.situacaoped == "S", pv.c.dtahorsituacaopedalt <= now - self.invoice_after
                    )
                )
                .scalars()
                .all()
            )
        for nro in due_sep:
            separate(self.store, nro)
        for nro in due_inv:
            invoice(self.store, nro)
        return len(due_sep) + len(due_inv)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except ErpError as exc:  # an order moved by someone else meanwhile: next tick re-reads
                logger.info("consinco sandbox: order clock skipped: %s", exc.mensagem)
