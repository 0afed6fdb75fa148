"""Levels a company left at a location it no longer ships from, set to 0 (stock flow).

When the location mappings page moves a company to another location, its next stock pass writes
every level at the new one (jobs.stock). The levels it had written elsewhere would stay there,
sellable: the same units shown twice, and Shopify routing orders to a location whose stock
nobody keeps any more, or whose company has none of that SKU. So each pass of a company records
(`note`) the levels its "stock" bindings say it sent at any location other than its own now,
one record per location (binding "stock_vacate", erp_id "<company>@<location>", shopify_id = the
location, data {"company", "items": {inventory item: level sent}}): the former location of a
move, and also a location an interrupted move wrote its first batches at before the merchant
undid it or moved the company on (its "stock_location" marker never named that one). A company's
full pass at a location (moved there, its line given to it, a swap) records as well the levels
other companies' bindings say they sent there. A binding recorded forgets its location, so it
is recorded once.

Each pass then settles the records whose turn came:
- the location is mapped to no company: once the company's own levels are all in at its
  location now (its marker there), they are set to 0; while the company is mapped to no location
  (refused, not sold in this store) they are left alone, as all its levels are, and the record
  waits for it to be mapped again;
- the location is mapped to another company: once that company's levels are all in there (its
  marker there), the levels it does not write itself (a SKU it has no ERP stock row of) are set
  to 0; those it writes are its own and stay;
- the location is mapped to the record's company again: its own pass writes its levels there,
  and the record is dropped;
- the record's company is inactive in the ERP while still mapped (jobs.stock_closed: a store
  closed, `note_closed` recorded every level it sent, an item without stock control included
  (the level it wrote while the item had control; none written, 0: a level there is a person's),
  and `note_put_back` the levels the app's own restocking cancel or picking edit raised there
  since): they are set to 0 at once.

Compare-and-swap as in every stock write: changeFromQuantity is the level Shopify shows, read
first. A level above the one we sent (raised by a person since) is left as it is and named; one
at 0, not stocked there or not tracked costs no write. One message per record (unit
"stock:vacate:<company>@<location>"); a transient failure keeps the record for the next pass.
Levels Shopify refuses (a userError other than stale) fail the message naming them, the rest
being written (every one of a group refused, the next groups of 250 are still tried); the record
keeps only those, left alone by the scheduled passes (a refusal does not repeat itself every few
minutes) and tried again by the message's replay, so the message ends done once they are set to 0
or the record is settled otherwise. A location deleted in Shopify (INVALID_LOCATION, "could not be
found", and no longer listed, inactive ones included) sells nothing and has no level left to clear,
nor anything a person could put right there: the message ends done saying so, the record dropped.
A deactivated location's refusal ("not active") is named as any other: reactivated, it would sell
those levels again. Any other failure no retry in
minutes cures (a call refused as a whole, an answer the client cannot read, a bug) fails the
message and keeps the whole record the same way, the pass going on: it never fails every pass.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from jobs import absence
from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, Message
from shopify_app.admin_api import idempotency_key
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.stock_ops import (
    MAX_ITEMS_PER_CALL,
    STALE,
    item_levels_at,
    quantity_index,
    set_available,
)

log = logging.getLogger(__name__)

VACATE_KIND = "stock_vacate"
MAX_ROUNDS = 5
NO_LOCATION = "INVALID_LOCATION"  # inventorySetQuantities: "The specified location could not be found."
LOCATION_GONE = (
    "location {location} no longer exists in Shopify: nothing is sold there, so no level is left to set to 0"
)


def note(session: Any, shop_id: int, company: int, location: str, *, others: bool) -> None:
    """`company` writes at `location` now: record the levels its "stock" bindings say it sent at
    any other location (a move; also one interrupted part-way, then undone or sent on elsewhere,
    whose first levels are at a location the marker never named), one record per location. With
    `others` (the company's full pass there: it does not know what the location holds), also
    the levels other companies' bindings say they sent at `location` (its line given to this
    company, a swap). Each binding recorded forgets its location, so it is recorded once: the
    record is what stands for it (merged with an earlier record of the same pair)."""
    at = Binding.data["location"].as_string()
    own = Binding.erp_id.like(f"{company}:%")
    where = (own & (at != location)) | (~own & (at == location)) if others else own & (at != location)
    _record(session, shop_id, where)


def note_closed(session: Any, shop_id: int, company: int) -> None:
    """`company` writes nowhere any more (inactive in the ERP, jobs.stock_closed): record every
    level its "stock" bindings say it sent, wherever, to be set to 0 (`run` with it `closed`). An
    item of its whose level the app did not write there (no stock control since the app knew it,
    or its last level sent 0) is recorded at 0: none of its level is the app's, so one a person
    put there is named, as a person's raise is, not left unsaid at a store that sells nothing."""
    _record(
        session,
        shop_id,
        Binding.erp_id.like(f"{company}:%") & Binding.data["location"].as_string().is_not(None),
        unsent=True,
    )


def note_put_back(
    session: Any, shop_id: int, company: int, location: str, put_back: Mapping[str, int | None]
) -> None:
    """`company` is closed (jobs.stock_closed) and the app's own restocking cancel or picking edit
    put units back on sale at its `location` (jobs.stock_reread; `put_back`: inventory item ->
    how many, None when not known): record those levels to be set to 0 again. What the record
    holds is the level Shopify should show: the one last written there (0 once the store was
    zeroed; the level still to clear when its record waits) plus the units put back since, so a
    level those movements explain is the app's to clear, not a person's (None: any level is)."""
    if not put_back:
        return
    key = f"{company}@{location}"
    existing = bindings.get_many(session, shop_id, VACATE_KIND, [key]).get(key)
    items = dict(((existing.data or {}).get("items") or {}) if existing is not None else {})
    for item, units in put_back.items():
        last = items.get(item, 0)
        items[item] = None if units is None or last is None else int(last) + units
    row = BindingRow(key, location, None, {"company": company, "items": items})
    bindings.upsert_many(session, shop_id, VACATE_KIND, [row])


def note_left(session: Any, shop_id: int, company: int, location: str, items: Mapping[str, int]) -> None:
    """A write of `company` at `location`, where it does not write now, answered late (Shopify may
    have applied it only now: jobs.stock_in_flight): its levels (inventory item -> level sent)
    recorded as levels the company left there."""
    if items:
        _merge(session, shop_id, {(company, location): dict(items)})


def _record(session: Any, shop_id: int, where: Any, *, unsent: bool = False) -> None:
    """Record the levels of the "stock" bindings matching `where` by (company, location sent at).
    `unsent`: an item with no level sent (or 0) is recorded too, at 0 (any level above is a person's)."""
    found = list(
        session.scalars(select(Binding).where(Binding.shop_id == shop_id, Binding.kind == STOCK_KIND, where))
    )
    left: dict[tuple[int, str], dict[str, int]] = {}
    unbound: list[BindingRow] = []
    for b in found:
        data = dict(b.data or {})
        where_sent = data.pop("location")
        unbound.append(BindingRow(b.erp_id, b.shopify_id, b.digest, data))
        if b.shopify_id and (data.get("sent") or unsent):
            sender = int(b.erp_id.split(":", 1)[0])
            left.setdefault((sender, where_sent), {})[b.shopify_id] = int(data.get("sent") or 0)
    bindings.upsert_many(session, shop_id, STOCK_KIND, unbound)
    _merge(session, shop_id, left)


def _merge(session: Any, shop_id: int, left: Mapping[tuple[int, str], Mapping[str, int | None]]) -> None:
    """Add levels to the records of (company, location). An item recorded twice keeps the higher
    level: both were the company's, and a level up to it is the company's to clear, not a person's
    raise (None: any level is)."""
    keys = {f"{c}@{loc}": (c, loc) for c, loc in left}
    existing = bindings.get_many(session, shop_id, VACATE_KIND, keys)
    rows = []
    for key, (c, loc) in keys.items():
        items = dict((existing[key].data or {}).get("items") or {} if key in existing else {})
        for item, level in left[(c, loc)].items():
            was = items.get(item, level)
            items[item] = None if was is None or level is None else max(int(was), int(level))
        rows.append(BindingRow(key, loc, None, {"company": c, "items": items}))
    bindings.upsert_many(session, shop_id, VACATE_KIND, rows)


@dataclass
class VacateRun:
    zeroed: int = 0
    left: list[str] = field(default_factory=list)  # levels a person raised: not ours to clear
    transient: Transient | None = None
    bug: BaseException | None = None


def run(
    shop_id: int,
    domain: str,
    client: AdminClient,
    locations: dict[int, str],
    retry: str | None = None,
    closed: Collection[int] = (),
) -> VacateRun:
    """Clear the recorded levels whose turn came (`locations`: company -> its location now).
    `retry`: the record a replay of its message asks for again, Shopify having refused some of it.
    `closed`: companies mapped but inactive in the ERP (not in `locations`): theirs are cleared now."""
    result = VacateRun()
    with session_scope() as session:
        found = session.scalars(
            select(Binding).where(Binding.shop_id == shop_id, Binding.kind == VACATE_KIND)
        )
        records = []
        for r in found:
            data = r.data or {}
            company, items = int(data.get("company", 0)), dict(data.get("items") or {})
            records.append((r.erp_id, r.shopify_id or "", company, items, bool(data.get("refused"))))
        markers = {
            b.erp_id: b.shopify_id
            for b in session.scalars(
                select(Binding).where(Binding.shop_id == shop_id, Binding.kind == "stock_location")
            )
        }
    holders = {loc: company for company, loc in locations.items()}
    if retry is not None and retry not in {r[0] for r in records}:
        _forget(shop_id, retry, "nothing left to set to 0")  # settled since it was refused
    for key, location, company, items, refused in records:
        if refused and key != retry:
            continue  # what Shopify refused waits for its message's replay
        holder = holders.get(location)
        if holder == company:  # mapped back there: its own pass writes its levels
            _forget(shop_id, key, f"company {company} is mapped to {location} again")
            continue
        if holder is None:
            # A company mapped nowhere now (refused, not sold here) has its levels left alone: its
            # record waits until it is mapped again (there: dropped; elsewhere: once its levels are in).
            waits = locations.get(company) is None or markers.get(str(company)) != locations[company]
            if waits and company not in closed:  # a closed store's levels wait for nothing
                continue  # the company's levels are not all at its new location yet
        else:
            if markers.get(str(holder)) != location:
                continue  # the company mapped there now has not written all its levels there yet
            with session_scope() as session:
                own = _items_at(session, shop_id, holder, location)
            items = {i: q for i, q in items.items() if i not in own}
            if not items:
                _forget(shop_id, key, f"company {holder}, mapped to {location}, writes every one of them")
                continue
        try:
            _vacate(shop_id, domain, client, key, location, company, items, result)
        except Transient as exc:
            result.transient = result.transient or exc
        except Exception as exc:  # a bug outside the call (the ledger): raised by the flow at the end
            result.bug = result.bug or exc
    return result


def _items_at(session: Any, shop_id: int, company: int, location: str) -> set[str]:
    """The inventory items whose level `company` wrote at `location` (its "stock" bindings that
    hold a level sent there: one of an item the company has no stock control of, bound there but
    never written, is not the company's, and the level left there is vacated)."""
    return set(
        session.scalars(
            select(Binding.shopify_id).where(
                Binding.shop_id == shop_id,
                Binding.kind == STOCK_KIND,
                Binding.erp_id.like(f"{company}:%"),
                Binding.data["location"].as_string() == location,
                Binding.data["sent"].as_string().is_not(None),
            )
        )
    )


def _forget(shop_id: int, key: str, why: str) -> None:
    """The record is settled: dropped, and its message, failed by an earlier refusal, done."""
    with session_scope() as session:
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop_id, Binding.kind == VACATE_KIND, Binding.erp_id == key
            )
        )
        trace.succeed_open(session, shop_id, "stock", [f"stock:vacate:{key}"], {"settled": why})


def _vacate(
    shop_id: int,
    domain: str,
    client: AdminClient,
    key: str,
    location: str,
    company: int,
    items: dict[str, int | None],
    result: VacateRun,
) -> None:
    with session_scope() as session:
        message = trace.begin(
            session,
            shop_id,
            "stock",
            f"stock:vacate:{key}",
            ERP_TO_SHOPIFY,
            erp_id=str(company),
            request={"nro_empresa": company, "location_id": location, "vacate": True, "items": len(items)},
        )
        message_id, attempt = message.id, f"{message.id}:{message.attempts}"
    zeroed, left, refused, gone = 0, [], [], False
    failure: BaseException | None = None
    kept: dict[str, int | None] = {}
    try:
        ids = sorted(items)
        for start in range(0, len(ids), MAX_ITEMS_PER_CALL):
            z, lf, rf = _clear(
                client,
                domain,
                company,
                location,
                attempt,
                {i: items[i] for i in ids[start : start + MAX_ITEMS_PER_CALL]},
            )
            zeroed, left, refused = zeroed + z, left + lf, refused + rf
            if any(code == NO_LOCATION for _, _, code in rf) and not _location_exists(client, location):
                # Deleted in Shopify: nothing is sold there any more, so nothing is left to clear
                # (no person can put it right either: the message ends done, saying so).
                gone, left, refused = True, [], []
                break
    except Transient as exc:  # the record kept as it is: the next pass tries again
        failure = exc
    except Exception as exc:  # refused as a whole, or no retry in minutes cures it (an answer the
        failure, kept = exc, dict(items)  # client cannot read, a bug): all kept for the replay
        if not isinstance(exc, IntegrationError):
            log.exception("stock: levels company %s left at %s not set to 0", company, location)
    if failure is None and refused:
        by_reason: dict[str, list[str]] = {}
        for item, why, _ in refused:  # one reason said once (a whole location refused: every level)
            by_reason.setdefault(why, []).append(item)
        text = "; ".join(f"{why} ({absence.named(named)})" for why, named in by_reason.items())
        done = f"The other {zeroed} level(s) were set to 0; once" if zeroed else "Once"
        failure = Rejected(
            f"{len(refused)} level(s) company {company} left at {location} not set to 0, Shopify "
            f"refusing them: {text}. {done} the cause is fixed in Shopify, retry this message to set "
            "these to 0",
            system="shopify",
            detail={"user_errors": [{"item": item, "message": why} for item, why, _ in refused]},
        )
        kept = {item: items[item] for item, _, _ in refused}
    with session_scope() as session:
        message = session.get(Message, message_id)
        if failure is None:
            response: dict[str, Any] = {"zeroed": zeroed, "left_raised_by_a_person": left}
            if gone:
                response["settled"] = LOCATION_GONE.format(location=location)
            trace.succeed(session, message, response=response)
        else:
            trace.fail(session, message, failure)
        if kept:  # the refused levels only, for the message's replay (scheduled passes leave them)
            row = BindingRow(key, location, None, {"company": company, "items": kept, "refused": True})
            bindings.upsert_many(session, shop_id, VACATE_KIND, [row])
    result.zeroed += zeroed
    result.left += left
    if failure is None:
        _forget(shop_id, key, LOCATION_GONE.format(location=location) if gone else "done")
    elif isinstance(failure, Transient):
        raise failure  # the record is kept: the next pass tries again
    log.info("stock: company %s left %s: %d level(s) set to 0, %d left (raised since)", company,
             location, zeroed, len(left), extra={"shop_id": shop_id, "flow": "stock"})  # fmt: skip


def _location_exists(client: AdminClient, location: str) -> bool:
    """Whether Shopify still has `location`, active or not (INVALID_LOCATION names both a location
    deleted and, in some answers, one deactivated: only the first ends the record)."""
    return any(loc.id == location for loc in client.locations(include_inactive=True))


def _clear(
    client: AdminClient, domain: str, company: int, location: str, attempt: str, items: dict[str, int | None]
) -> tuple[int, list[str], list[tuple[str, str, str | None]]]:
    """Set the items' levels at `location` to 0 (compare-and-swap); (zeroed, left, refused: item,
    Shopify's reason, its code). An item's figure is the highest level that is ours to clear (None:
    any, `note_put_back`). Refused items leave the working set and the others are tried again (none
    of a refused batch applied); once every one was refused the round ends on those refusals."""
    left: list[str] = []
    refused: list[tuple[str, str, str | None]] = []
    live = dict(items)
    for _ in range(MAX_ROUNDS):
        if not live:  # Shopify refused every one left: the refusals are the outcome, nothing to read
            return 0, left, refused
        seen = item_levels_at(client, sorted(live), location)
        order: list[tuple[str, int]] = []
        for item, sent in sorted(live.items()):
            now = seen.get(item)
            if now is None or not now.tracked or now.available is None or now.available <= 0:
                continue  # gone, untracked, not stocked there, or nothing to clear
            if sent is not None and now.available > sent:
                left.append(item)  # raised since we wrote it: a person's, not ours to clear
            else:
                order.append((item, now.available))
        live = {item: items[item] for item, _ in order}
        if not order:
            return 0, left, refused
        quantities = [
            {"inventoryItemId": item, "locationId": location, "quantity": 0, "changeFromQuantity": was}
            for item, was in order
        ]
        try:
            set_available(
                client,
                quantities,
                key=idempotency_key(domain, "stock", "vacate", str(company), location, attempt, quantities),
                reference_document_uri=f"consinco://estoque/{company}/saida-do-local",
            )
        except ShopifyUserErrors as exc:  # none of the batch applied: stale ones are read again
            for err in exc.errors:
                index = quantity_index(err, len(order))
                if index is None:
                    raise
                if err.code != STALE:
                    refused.append((order[index][0], err.message, err.code))
                    live.pop(order[index][0], None)
            continue
        return len(order), left, refused
    raise Transient(f"levels company {company} left at {location} kept changing for {MAX_ROUNDS} rounds")
