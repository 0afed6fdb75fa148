"""The in-process sandbox ERP: one object owning the database, tokens, faults, simulator,
order lifecycle and optional order clock. The HTTP layer and tests both drive it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from sandbox.consinco import card_payments, lifecycle, orders
from sandbox.consinco import tables as t
from sandbox.consinco.auth import TokenIssuer
from sandbox.consinco.faults import Faults
from sandbox.consinco.formats import Formats
from sandbox.consinco.generator import ChainSummary, generate_chain
from sandbox.consinco.order_records import order_record
from sandbox.consinco.paging import Pager
from sandbox.consinco.simulator import Simulator
from sandbox.consinco.store import Store

logger = logging.getLogger(__name__)


class ConsincoErp:
    """A Consinco ERP holding a generated supermarket chain.

    Args:
        db: SQLAlchemy URL or SQLite file path; None = a fresh temporary SQLite file.
            A database that already holds a chain is reused as it is.
        skus, companies, segments, seed: size and seed of the generated chain.
        user, password, token_ttl: login credentials and token lifetime (seconds).
        quantity_unit: what the API's qtdPedida / qtdAtendida count, "packaging" (default) or
            "base" units (MAD_PEDVENDAITEM holds base units either way) [assumed].
        discount_per: what the API's vlrEmbDesconto is, the "line"'s whole discount (default) or
            one "packaging"'s (MAD_PEDVENDAITEM holds one packaging's either way) [assumed].
    """

    def __init__(
        self,
        db: str | None = None,
        *,
        skus: int = 5000,
        companies: int = 5,
        segments: int = 2,
        seed: int = 1,
        user: str = "ecommerce",
        password: str = "consinco",  # noqa: S107 (the sandbox's documented default)
        token_ttl: float = 3600.0,
        quantity_unit: str = "packaging",
        discount_per: str = "line",
    ) -> None:
        self.store = Store(db, quantity_unit=quantity_unit, discount_per=discount_per)
        self.tokens = TokenIssuer(user, password, token_ttl)
        self.faults = Faults()
        self.formats = Formats()
        self.pager = Pager(self.store)
        self.root_url = ""
        self.summary: ChainSummary | None = None
        with self.store.read() as conn:
            existing = conn.execute(select(func.count()).select_from(t.map_produto)).scalar_one()
        if not existing:
            self.summary = generate_chain(
                self.store, skus=skus, companies=companies, segments=segments, seed=seed
            )
        self.simulator = Simulator(self.store, seed=seed)
        self.order_clock: lifecycle.OrderClock | None = None

    # orders from the channel ---------------------------------------------------------

    def insert_order(self, body: Any) -> tuple[int, dict[str, Any]]:
        return orders.insert_order(self.store, self.formats.stored(body))

    def edit_order(self, nro: int, body: Any) -> dict[str, Any]:
        orders.edit_order(self.store, nro, self.formats.stored(body))
        return self.order(nro)

    def cancel_from_channel(self, nro: int, reason: str | None = None) -> dict[str, Any]:
        orders.cancel_from_channel(self.store, nro, reason, lifecycle.record_event)
        return self.order(nro)

    def record_card_payment(self, body: Any) -> dict[str, Any]:
        """POST PedidoVenda/PagamentoCartao [assumed path]: the card data of an order's payment form."""
        return card_payments.record_card_payment(self.store, body)

    def order(self, nro: int, root: str | None = None) -> dict[str, Any]:
        with self.store.read() as conn:
            root = self.root_url if root is None else root
            return order_record(conn, nro, root, self.store.quantity_unit, self.store.discount_per)

    # the store's side ----------------------------------------------------------------

    def separate(
        self,
        nro: int,
        *,
        cuts: dict | None = None,
        substitutions: list[dict] | None = None,
        weights: dict | None = None,
    ) -> dict[str, Any]:
        lifecycle.separate(self.store, nro, cuts=cuts, substitutions=substitutions, weights=weights)
        return self.order(nro)

    def invoice(
        self, nro: int, *, model: str = "55", series: int = 1, tracking: bool = True
    ) -> dict[str, Any]:
        lifecycle.invoice(self.store, nro, model=model, series=series, tracking=tracking)
        return self.order(nro)

    def track(
        self, nro: int, code: str | None = None, *, carrier: str | None = lifecycle.CARRIER, url: str = "",
        key: str | None = None,
    ) -> int:  # fmt: skip
        """The carrier's tracking given after invoicing: a new F event of the NF-e (its seqEvento)."""
        return lifecycle.track(self.store, nro, code=code, carrier=carrier, url=url, key=key)

    def cancel(self, nro: int, reason: str = "Cancelado pela loja") -> dict[str, Any]:
        lifecycle.cancel(self.store, nro, reason=reason)
        return self.order(nro)

    def start_order_clock(self, separate_after: float, invoice_after: float, interval: float = 0.5) -> None:
        self.stop_order_clock()
        self.order_clock = lifecycle.OrderClock(self.store, separate_after, invoice_after, interval).start()

    def stop_order_clock(self) -> None:
        if self.order_clock is not None:
            self.order_clock.stop()
            self.order_clock = None

    def set_company_status(self, nroempresa: int, status: str) -> None:
        """'A' active / 'I' inactive (orders for an inactive company are refused)."""
        with self.store.write() as (conn, now):
            conn.execute(
                t.max_empresa.update()
                .where(t.max_empresa.c.nroempresa == nroempresa)
                .values(status=status, dtaalteracao=now)
            )

    def state(self) -> dict[str, Any]:
        """Counts and switches, for GET /_sandbox/estado."""
        counted = {
            "produtos": t.map_produto,
            "precos": t.mrl_prodempseg,
            "pedidos": t.mad_pedvenda,
            "eventos": t.mad_pedvendaevento,
            "empresas": t.max_empresa,
        }
        with self.store.read() as conn:
            counts = {
                k: conn.execute(select(func.count()).select_from(v)).scalar_one() for k, v in counted.items()
            }
            skus = conn.execute(
                select(func.count()).select_from(
                    t.map_produto.join(
                        t.map_famembalagem, t.map_famembalagem.c.seqfamilia == t.map_produto.c.seqfamilia
                    )
                )
            ).scalar_one()
        return {
            **counts,
            "skus": skus,
            "falhas": self.faults.state(),
            "formatos": self.formats.state(),
            "simuladorTaxa": self.simulator.rate,
            "relogioPedidos": self.order_clock is not None,
        }

    def close(self) -> None:
        self.simulator.stop()
        self.stop_order_clock()
        self.store.close()
