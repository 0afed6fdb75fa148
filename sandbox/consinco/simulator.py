"""A change simulator: the ERP's day going on while the integration reads it.

Price updates, promotions starting and ending, stock movements and products leaving the
e-commerce; each write bumps the change-tracking column the API filters by, and each call
returns exactly which records changed so tests can compare against incremental reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from sandbox.consinco import tables as t
from sandbox.consinco.store import Store

logger = logging.getLogger(__name__)
ps, pe, p = t.mrl_prodempseg, t.mrl_produtoempresa, t.map_produto


@dataclass(frozen=True)
class Change:
    """One changed record: the endpoint that shows it and its key there."""

    resource: str  # "TabelaPrecoItem" | "ProdutoEstoque" | "ProdutoCV"
    key: tuple[int, ...]  # TabelaPrecoItem: (empresa, segmento, seqproduto, qtdembalagem), ...
    kind: str  # "preco" | "promocao_inicio" | "promocao_fim" | "estoque" | "desativacao"


class Simulator:
    """Seeded random changes (`step`), targeted ones, and a background rate (`start`)."""

    def __init__(self, store: Store, seed: int | None = None) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.rate = 0.0
        with store.read() as conn:
            self.max_product = conn.execute(select(func.max(p.c.seqproduto))).scalar_one() or 0
            self.companies = conn.execute(select(t.max_empresa.c.nroempresa)).scalars().all()

    # targeted changes ---------------------------------------------------------------

    def update_prices(
        self, seqprodutos: Iterable[int], factor: float = 1.1, nroempresa: int | None = None
    ) -> list[Change]:
        """Multiply normal prices of these products (all packagings/segments) by `factor`."""
        changes: list[Change] = []
        with self.store.write() as (conn, now):
            for seq in seqprodutos:
                query = select(ps).where(ps.c.seqproduto == seq)
                if nroempresa is not None:
                    query = query.where(ps.c.nroempresa == nroempresa)
                for row in conn.execute(query).mappings().all():
                    key = (row["nroempresa"], row["nrosegmento"], row["seqproduto"], row["qtdembalagem"])
                    conn.execute(
                        ps.update()
                        .where(*self._price_key(key))
                        .values(precovalidnormal=round(row["precovalidnormal"] * factor, 2), dtaalteracao=now)
                    )
                    changes.append(Change("TabelaPrecoItem", key, "preco"))
        return changes

    def move_stock(self, nroempresa: int, seqproduto: int, delta: float) -> list[Change]:
        """Receive (delta > 0) or lose (delta < 0) store stock."""
        with self.store.write() as (conn, now):
            current = conn.execute(
                select(pe.c.estqloja).where(pe.c.nroempresa == nroempresa, pe.c.seqproduto == seqproduto)
            ).scalar_one_or_none()
            if current is None:
                return []
            conn.execute(
                pe.update()
                .where(pe.c.nroempresa == nroempresa, pe.c.seqproduto == seqproduto)
                .values(
                    estqloja=max(0.0, round(current + delta, 3)), dtaalteracao=now, dtahorultmovtoestq=now
                )
            )
        return [Change("ProdutoEstoque", (nroempresa, seqproduto), "estoque")]

    def deactivate_product(self, seqproduto: int) -> list[Change]:
        """The product leaves the e-commerce (MAP_PRODUTO.INDINTEGRAECOMMERCE = 'N')."""
        with self.store.write() as (conn, now):
            conn.execute(
                p.update()
                .where(p.c.seqproduto == seqproduto)
                .values(indintegraecommerce="N", dtahoralteracao=now)
            )
        return [Change("ProdutoCV", (seqproduto,), "desativacao")]

    def set_promotion(
        self, key: tuple[int, int, int, int], discount: float | None, days: int = 7
    ) -> list[Change]:
        """Start (discount e.g. 0.15) or end (None) the promotion of one price item."""
        with self.store.write() as (conn, now):
            row = conn.execute(select(ps).where(*self._price_key(key))).mappings().first()
            if row is None:
                return []
            values: dict = {
                "precovalidpromoc": 0.0,
                "dtainicioprom": None,
                "dtafimprom": None,
                "dtaalteracao": now,
            }
            if discount is not None:
                today = self.store.clock.today()
                values.update(
                    precovalidpromoc=round(row["precovalidnormal"] * (1 - discount), 2),
                    dtainicioprom=today,
                    dtafimprom=today + dt.timedelta(days=days),
                )
            conn.execute(ps.update().where(*self._price_key(key)).values(**values))
        return [Change("TabelaPrecoItem", key, "promocao_inicio" if discount is not None else "promocao_fim")]

    # random changes -----------------------------------------------------------------

    def step(self, n: int = 1) -> list[Change]:
        """`n` random changes of the kinds a supermarket makes all day."""
        changes: list[Change] = []
        if not self.max_product or not self.companies:
            return changes
        for _ in range(n):
            seq = self.rng.randint(1, self.max_product)
            company = self.rng.choice(self.companies)
            roll = self.rng.random()
            if roll < 0.4:
                changes += self.update_prices([seq], self.rng.choice([0.95, 1.03, 1.05, 1.1]), company)
            elif roll < 0.65:
                changes += self._toggle_promotion(seq, company)
            elif roll < 0.97:
                changes += self.move_stock(company, seq, self.rng.choice([-5, -2, -1, 12, 24]))
            else:
                changes += self.deactivate_product(seq)
        return changes

    def _toggle_promotion(self, seq: int, company: int) -> list[Change]:
        with self.store.read() as conn:
            rows = (
                conn.execute(
                    select(ps)
                    .where(ps.c.seqproduto == seq, ps.c.nroempresa == company)
                    .order_by(ps.c.nrosegmento, ps.c.qtdembalagem)
                )
                .mappings()
                .all()
            )
        if not rows:
            return []
        row = self.rng.choice(rows)
        key = (row["nroempresa"], row["nrosegmento"], row["seqproduto"], row["qtdembalagem"])
        return self.set_promotion(key, None if row["precovalidpromoc"] else self.rng.choice([0.1, 0.15, 0.2]))

    @staticmethod
    def _price_key(key: tuple[int, int, int, int]) -> list:
        empresa, segmento, seq, qtd = key
        return [
            ps.c.nroempresa == empresa,
            ps.c.nrosegmento == segmento,
            ps.c.seqproduto == seq,
            ps.c.qtdembalagem == qtd,
        ]

    # background rate ----------------------------------------------------------------

    def start(self, rate: float) -> None:
        """Make about `rate` random changes per second in a daemon thread until `stop()`."""
        self.stop()
        if rate <= 0:
            return
        self.rate = rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consinco-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)
            self._thread = None
        self.rate = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        while not self._stop.wait(1.0 / self.rate):
            self.step(1)
