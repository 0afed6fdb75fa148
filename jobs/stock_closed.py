"""ERP companies mapped to a Shopify location but inactive in the ERP: a store closed.

Why its own module: the stock pass writes the stock of the ERP's active companies. A company the
ERP marks inactive while the merchant still has it mapped to a location would be left out
silently: its location keeps selling the last levels written, units of a store that closed, and
no message says why. A supermarket expects a closed store not to sell, so each pass (`close`):
- records every level the company sent to be set to 0 (jobs.stock_vacate.note_closed; settled in
  the same pass with compare-and-swap, a level a person raised since left alone and named);
- records again, to be set to 0, the levels the app itself put units back on at the location
  since (its restocking cancel of one of the store's orders, a picking edit's cut: movements
  jobs.stock_reread recorded, which only the company's own pass would read, and a closed store
  has none), a level those movements explain being the app's to clear, not a person's;
- forgets where its levels were written (its "stock_location" marker), so a company reactivated
  gets a full pass writing every level at its location again, compared with what Shopify shows;
  its stock-control differences named (jobs.stock_control) are done then, as an unmapped
  company's are, not left until the deciding company's pass checks those SKUs again (its
  reactivated pass names anew what differs);
- fails one message per company (unit "stock:<company>:inactive", code COMPANY_INACTIVE) naming
  the company and its location, and what to do: reactivate it in the ERP, or unmap it.
The message ends done by itself once the company is active again or no longer mapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete

from jobs import stock_control, stock_reread, stock_vacate
from ledger import bindings, trace
from ledger.bindings import VARIANT_KIND
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding

FLOW = "stock"
LOCATION_KIND = "stock_location"  # jobs.stock's marker of where a company's levels were written


def close(
    shop_id: int,
    companies: Iterable[Any],
    locations: dict[int, str],
    moves: stock_reread.Moves | None = None,
) -> dict[int, str]:
    """The mapped companies the ERP lists as inactive, or no longer lists (`companies`:
    erp.records.Company), each closed as the module says; {company: its location}. Messages of
    companies no longer closed end done. An ERP listing no company at all closes nothing (an
    answer that empty says nothing about any store). `moves`: the levels Shopify moved itself
    (jobs.stock_reread) the stock pass read."""
    listed = {c.nro_empresa: c.active for c in companies}
    closed = closed_at(listed, locations)
    with session_scope() as session:
        _settle(session, shop_id, closed)
        for company, location in sorted(closed.items()):
            stock_vacate.note_closed(session, shop_id, company)
            _note_put_back(session, shop_id, company, location, moves or stock_reread.Moves())
            forgotten = session.execute(
                delete(Binding).where(
                    Binding.shop_id == shop_id, Binding.kind == LOCATION_KIND, Binding.erp_id == str(company)
                )
            )
            if forgotten.rowcount:  # it sells nothing here now: its stock-control differences are done
                stock_control.settle_unmapped(session, shop_id, company)
            state = "inactive in" if company in listed else "not listed by"
            message = trace.begin(
                session,
                shop_id,
                FLOW,
                f"stock:{company}:inactive",
                ERP_TO_SHOPIFY,
                erp_id=str(company),
                search=[f"empresa-{company}"],
                request={"nro_empresa": company, "location_id": location},
            )
            trace.fail(
                session,
                message,
                Rejected(
                    f"ERP company {company} is {state} the ERP but mapped to location {location}: a closed "
                    "store must not sell, so its levels there are set to 0 and its stock is not sent. "
                    "Reactivate the company in the ERP (its stock is sent again) or unmap it from the "
                    "location",
                    system="app",
                    code="COMPANY_INACTIVE",
                    detail={"nro_empresa": company, "location_id": location},
                ),
            )
    return closed


def closed_at(listed: dict[int, bool], locations: dict[int, str]) -> dict[int, str]:
    """Pure: the mapped companies `listed` ({company: active}, the ERP's listing) shows inactive or
    leaves out, each with its location. An empty listing closes nothing."""
    return {c: loc for c, loc in locations.items() if listed and not listed.get(c)}


def _note_put_back(
    session: Any, shop_id: int, company: int, location: str, moves: stock_reread.Moves
) -> None:
    """The levels the app's own movements may have raised at the closed store's location, recorded
    to be set to 0 again; the company's own movements are then done with (the record stands for
    them, so a pass retried after a failure does not count them twice)."""
    put_back = {sku: stock_reread.put_back(found) for sku, found in moves.at(company).items()}
    put_back = {sku: units for sku, units in put_back.items() if units != 0}  # 0: only lowered
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, put_back)
    items = {
        item: put_back[sku]
        for sku, variant in variants.items()
        if (item := (variant.data or {}).get("inventory_item_id"))
    }
    stock_vacate.note_put_back(session, shop_id, company, location, items)
    stock_reread.forget(session, shop_id, moves.only(company))


def _settle(session: Any, shop_id: int, closed: dict[int, str]) -> None:
    """The messages of companies active again, or unmapped, are done."""
    for message in trace.open_units(session, shop_id, FLOW, "stock:%:inactive"):
        if int(message.unit_key.split(":")[1]) not in closed:
            trace.succeed(session, message, response={"resumed": "the company is active again or unmapped"})
