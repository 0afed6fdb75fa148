"""The catalog of flows: the eight loads of the seed, the daily full sweeps (catalog, prices, stock),
reconciliation.

One place names every flow, its direction, how it is driven and the jobs module that runs it,
so the dashboard, the scheduler and the trace agree. Module contract (jobs/<module>.py):

- `run(shop_id)`: one scheduled / "run now" pass (scheduled flows and the event poller);
- `replay(message_id)`: redo one unit of work from the trace, re-reading current state
  (retry of a failed message, replay of a done one, resume of a parked one).

Messages carry the flow's `name`; the job that redoes one is `jobs.<module>.replay`.
"""

from __future__ import annotations

from dataclasses import dataclass

ERP_TO_SHOPIFY = "erp_to_shopify"
SHOPIFY_TO_ERP = "shopify_to_erp"
BOTH = "both"


@dataclass(frozen=True)
class Flow:
    name: str  # messages.flow
    module: str  # jobs.<module>
    direction: str
    schedule: str | None  # the Schedule.flow that drives it (None: webhooks only)
    queue: str
    label_pt: str
    label_en: str

    def label_in(self, locale: str) -> str:
        """The flow's name in `locale` (en, else pt-BR)."""
        return self.label_en if locale == "en" else self.label_pt

    @property
    def run_job(self) -> str:
        return f"jobs.{self.module}.run"

    @property
    def replay_job(self) -> str:
        return f"jobs.{self.module}.replay"


FLOWS: tuple[Flow, ...] = (
    Flow("products", "products", ERP_TO_SHOPIFY, "products", "catalog", "Produtos", "Products"),
    Flow("skus", "skus", ERP_TO_SHOPIFY, "skus", "catalog", "SKUs", "SKUs"),
    # The daily full read of the catalog: retires packagings the ERP deleted (jobs.catalog_full).
    # Its messages are the products and skus flows' (it runs their initial load); none of its own.
    Flow(
        "catalog_full",
        "catalog_full",
        ERP_TO_SHOPIFY,
        "catalog_full",
        "catalog",
        "Catálogo completo",
        "Full catalog sweep",
    ),
    Flow("prices", "prices", ERP_TO_SHOPIFY, "prices", "catalog", "Preços", "Prices"),
    # The daily whole reads of prices and stock: what no change time announces (a promotion known
    # by its running flag alone, ended; a row committed later than the read overlap) reaches
    # Shopify (jobs.prices_full, jobs.stock_full). Their messages are the prices and stock flows'.
    Flow(
        "prices_full",
        "prices_full",
        ERP_TO_SHOPIFY,
        "prices_full",
        "catalog",
        "Preços completos",
        "Full price sweep",
    ),
    Flow("stock", "stock", ERP_TO_SHOPIFY, "stock", "catalog", "Estoque", "Stock"),
    Flow(
        "stock_full",
        "stock_full",
        ERP_TO_SHOPIFY,
        "stock_full",
        "catalog",
        "Estoque completo",
        "Full stock sweep",
    ),
    Flow("orders", "orders", SHOPIFY_TO_ERP, "orders", "orders", "Pedidos", "Orders"),
    Flow("order_edits", "order_edits", BOTH, "order_events", "orders", "Alterações de pedido", "Order edits"),
    Flow("invoices", "invoices", ERP_TO_SHOPIFY, "order_events", "orders", "Faturamento (NF-e)", "Invoicing"),
    Flow("cancellations", "cancellations", BOTH, "order_events", "orders", "Cancelamentos", "Cancellations"),
    Flow("reconcile", "reconcile", BOTH, "reconcile", "default", "Reconciliação", "Reconciliation"),
)

BY_NAME: dict[str, Flow] = {f.name: f for f in FLOWS}
# The flows whose messages are about one order: its import, its edits either way, its invoices,
# its cancellations either way (their erp_id is its NROPEDVENDA; the catalog's is a product's or
# a company's, the same digits for another thing).
ORDER_FLOWS: tuple[str, ...] = ("orders", "order_edits", "invoices", "cancellations")


def get(name: str) -> Flow:
    """The flow named `name`; KeyError names the unknown flow."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(BY_NAME)}") from None
