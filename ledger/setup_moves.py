"""What the ledger forgets when the setup under the flows moves: the store link to another company
or segment, the ERP connection to another ERP. The caller owns the transaction (the change and
what it forgets commit together).

Why: each flow keeps where it stands in the ERP's change stream (ledger.watermarks) per ERP and
per scope, and reads only what changed since. A store link moved back to a segment it sold as
before found that segment's old watermark and read nothing (no price changed there meanwhile), so
the other segment's prices stayed on sale; an ERP connection moved to another ERP (homologation ->
production) read the new ERP from the old one's change times, missing everything the new ERP
changed before them. Forgetting the position makes the next pass read all; the digests of what
was sent keep that re-read cheap (only what differs is written).
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ledger import erp_place, watermarks
from ledger.models import Binding, ErpConnection, Watermark

PRICES = "prices"  # jobs.prices: scope "<nro_empresa>:<nro_segmento>" (and "list:..." of price lists)
# The flows whose watermarks are positions in the ERP's change stream (every scope of each).
ERP_CURSOR_FLOWS = watermarks.ERP_CURSOR_FLOWS
# The cursor of those flows over the ledger's own rows, not the ERP's: kept.
LEDGER_CURSOR = watermarks.LEDGER_CURSOR  # jobs.stock_pending.CLOSED_SCOPE
# jobs.stock.LOCATION_KIND: where each company's levels were last written; without it the stock
# pass compares every level with what Shopify shows instead of what the old ERP had sent.
STOCK_LOCATION_KIND = "stock_location"


def store_link_moved(session: Session, shop_id: int, nro_empresa: int, nro_segmento: int) -> None:
    """The store sells as (company, segment) from now on: the prices flow reads that pair whole on
    its next pass (jobs.prices takes off sale what that read does not list). The stock flow finds
    the company its inventoryPolicy comes from changed by itself (jobs.stock, "stock_policy_from")."""
    watermarks.reset(session, shop_id, PRICES, f"{nro_empresa}:{nro_segmento}")


def erp_moved(session: Session, connection: ErpConnection, before_url: str | None = None) -> dict[str, int]:
    """The shop's ERP connection points at another ERP now (`connection.base_url`; `before_url` the
    one it left): the generation becomes that ERP's (the one it had when the shop was on it before,
    else a new one: its order events and order numbers are units of their own,
    jobs.order_events.unit_key, jobs.order_generation), the move is counted (a flow run that read
    the ERP left moves no cursor: ledger.fence.check_erp), every ERP cursor of the shop is
    forgotten (catalog, prices and price lists, stock per company, order events and their
    boundary; back on an ERP seen before too: what it changed meanwhile, while another ERP wrote
    to Shopify, is read whole again; the order events from a day before the shop's first order
    link, jobs.order_events.first_read_since) and so are the stock flow's location markers. What the
    audit row keeps."""
    shop_id = connection.shop_id
    connection.generation = _generation_of_place(connection, before_url)
    connection.moves = (connection.moves or 0) + 1
    stmt = delete(Watermark).where(
        Watermark.shop_id == shop_id,
        Watermark.flow.in_(ERP_CURSOR_FLOWS),
        ~((Watermark.flow == LEDGER_CURSOR[0]) & (Watermark.scope == LEDGER_CURSOR[1])),
    )
    removed = session.execute(stmt.execution_options(synchronize_session="fetch")).rowcount or 0
    session.execute(
        delete(Binding)
        .where(Binding.shop_id == shop_id, Binding.kind == STOCK_LOCATION_KIND)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return {"erp_generation": connection.generation, "cursors_forgotten": removed}


def _generation_of_place(connection: ErpConnection, before_url: str | None) -> int:
    """The generation of the ERP `connection.base_url` reaches: the one it had when the shop was on
    it before, else one no ERP of the shop had. Records the ERP left (`before_url`, with the
    generation it had) and the one moved to in `connection.places`."""
    places = dict(connection.places or {})
    old = connection.generation or 0
    if before_url:
        places[erp_place.place_key(before_url)] = old  # what the shop was on until now
    here = erp_place.place_key(connection.base_url)
    known = places.get(here)
    if not isinstance(known, int):
        known = max([old, *(g for g in places.values() if isinstance(g, int))]) + 1
    places[here] = known
    connection.places = places  # a new dict: the JSON column is written
    return known
