"""Direct writes to the sandbox ERP's Consinco tables, as the ERP's own screens would make them
(each bumps the change-tracking column the API filters by)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.consinco import tables as t
from sandbox.consinco.runner import SandboxHandle

p, f, e, c = t.map_produto, t.map_familia, t.map_famembalagem, t.map_prodcodigo


def set_title(erp: SandboxHandle, seq: int, title: str) -> None:
    with erp.erp.store.write() as (conn, now):
        conn.execute(p.update().where(p.c.seqproduto == seq).values(desccompleta=title, dtahoralteracao=now))


def set_ean(erp: SandboxHandle, seq: int, qtd: int, ean: str) -> None:
    """A new sale EAN for one packaging (MAP_PRODCODIGO); the product's change time moves."""
    with erp.erp.store.write() as (conn, now):
        conn.execute(
            c.update()
            .where(
                c.c.seqproduto == seq, c.c.qtdembalagem == qtd, c.c.tipcodigo == "E", c.c.indutilvenda == "S"
            )
            .values(codacesso=ean)
        )
        conn.execute(p.update().where(p.c.seqproduto == seq).values(dtahoralteracao=now))


def set_packaging_status(erp: SandboxHandle, seqfamilia: int, qtd: int, status: str) -> None:
    with erp.erp.store.write() as (conn, now):
        conn.execute(
            e.update()
            .where(e.c.seqfamilia == seqfamilia, e.c.qtdembalagem == qtd)
            .values(status=status, dtahoraltembpreco=now)
        )


def clear_weights(erp: SandboxHandle, seqfamilia: int, qtd: int) -> None:
    with erp.erp.store.write() as (conn, now):
        conn.execute(
            e.update()
            .where(e.c.seqfamilia == seqfamilia, e.c.qtdembalagem == qtd)
            .values(pesobruto=None, pesoliquido=None, dtahoraltembpreco=now)
        )


def family_of(erp: SandboxHandle, seq: int) -> int:
    with erp.erp.store.read() as conn:
        return int(conn.execute(select(p.c.seqfamilia).where(p.c.seqproduto == seq)).scalar_one())


def weighed_products(erp: SandboxHandle) -> list[int]:
    with erp.erp.store.read() as conn:
        stmt = select(p.c.seqproduto).join(f, f.c.seqfamilia == p.c.seqfamilia).where(f.c.pesavel == "S")
        return sorted(conn.execute(stmt).scalars())


def add_product(erp: SandboxHandle, like_seq: int, title: str) -> int:
    """A new product in the family of `like_seq` (it gets the family's packagings, no EAN)."""
    with erp.erp.store.write() as (conn, now):
        row: dict[str, Any] = dict(conn.execute(select(p).where(p.c.seqproduto == like_seq)).mappings().one())
        seq = erp.erp.store.next_id(conn, p.c.seqproduto)
        row.update(seqproduto=seq, desccompleta=title, dtahorinclusao=now, dtahoralteracao=now)
        conn.execute(p.insert().values(**row))
    return seq
