"""Stock, ERP -> Shopify: each company's sellable stock at the location mapped to it.

Source: ProdutoEstoque per company (`erp.stock(since, nro_empresa)`).
Cursor: watermark flow "stock", scope "<nro_empresa>"; it advances only once Shopify took every
batch of that company. Unit of work: a batch of up to 250 levels of one company (unit_key
"stock:<company>:<batch key>"), written with inventorySetQuantities ("available",
compare-and-swap on changeFromQuantity, @idempotent key derived from the batch content).
Once a day (schedule `stock_full`: jobs.stock_full) every mapped company is read whole (`sweep`):
a row an ERP batch job committed later than the read overlap (ERP_READ_OVERLAP) behind its
DTAALTERACAO is behind the watermark and no incremental read sees it; the sweep does, and an
unchanged level costs it not one Shopify call (the "stock" binding's digest). A whole read also
proves a row gone: a product the company no longer carries has no row (MRL_PRODUTOEMPRESA holds one
per product carried, at 0 without stock), and the level last sent for it at the company's location
is set to 0, as a moved company's former levels are (jobs.stock_gone: only a read proven whole, not
for a row that changed while it ran, and many at once held for a person).

Quantity = the ERP formula minus safety stock minus orders taken in Shopify and not in the ERP
yet (orders messages still open, whatever their age, of every installed shop on the same ERP:
stores selling one company share its units), clamped at zero, in whole packagings
(jobs.stock_map), and at Shopify's ceiling of 1,000,000,000 a level (less the units orders
committed there; the batch's message names the SKU and its ERP figure). A company without a
mapped location is refused: a parked message names it, replay resumes it. One the merchant marked
not sold in this store (setting "ignored_companies": a chain's ERP holds many stores, a Shopify
store sells few) is neither synced nor refused, and its refusal message, if any, ends done; a
company mapped to a location is synced whatever that list says (the mapping is the more explicit
statement).

Compare-and-swap: changeFromQuantity is the level Shopify had when we last saw it (our last
accepted write, or a read of the batch's items when unknown). On CHANGE_FROM_QUANTITY_STALE the
stale items are re-read and their target recomputed from the ERP figure minus the pending orders
re-queried, less any drop Shopify shows that no order known since explains (a sale whose order
we do not know yet: jobs.stock_writer), so a sale that raced us is never given back. A SKU answered
stale three rounds in a row (a hot item sold before each write) is set aside, named on its batch's
message and kept due for the next pass: the rest of its batch and the company's later batches are
written (jobs.stock_writer.SET_ASIDE_AFTER). A write
Shopify never answered (still in progress after the executor's waits, a timeout) is asked about
under its own key, with its exact input, before the company's next pass sends anything for its
SKUs (jobs.stock_in_flight), so a first request landing late never overwrites the retry's level.
Items Shopify already shows at the target are not written (a resumed batch duplicates nothing).
First pass: an item with no level at the location yet (nothing to compare with) goes in the same batch with
changeFromQuantity null, which stocks it there (API 2026-10 sets quantities at any location): no
per-item inventoryActivate, 250 levels per call from the very first pass.

Ledger: binding "stock" per (company, SKU) (erp_id "<company>:<idSku>", shopify_id = inventory
item, digest = level + policy sent, data = {"base", "sent", "location"}); binding "stock_policy"
per SKU (digest = inventoryPolicy sent, here or as DENY by the products flow for an inactive
variant: jobs.catalog_ledger.record_sent; shopify_id = the variant it was sent to, so a variant
replaced since is not taken to hold it); binding "stock_location" per company (shopify_id = the
location its levels were last written at): a company whose mapping moved (or swapped, or whose
location's line was given to it) gets a pass reading all its ERP rows and writing every level at
its new location, compared with what Shopify shows there (a level sent elsewhere is no
"changeFromQuantity"). Levels left where no company writes them any more are then set to 0
(jobs.stock_vacate): those the company sent anywhere but its location now (a move, also one
interrupted and then undone), and, at a location it took over, those another company sent there
for SKUs it does not write itself. Items without stock control get inventoryPolicy CONTINUE (one
productVariantsBulkUpdate per product) and their level is left as it is; their items stay tracked
(the catalog flow sends every item `tracked: true`: jobs/catalog_map.py), CONTINUE selling at 0
all the same, so a company whose ERP takes up stock control needs no tracking change. Items an
earlier version created untracked were refused their levels; once the products pass tracked them
(the catalog's `items_tracked` mark, jobs/catalog_tracking.py) each company's next pass reads all
its ERP rows ("stock_tracked_from" marker), so those levels are written though their rows did not move.
The policy follows the store's linked company: once that company changes (the store link moved, or
the company whose location decides it: `_Shop.policy_company`) its pass reads all its ERP rows
("stock_policy_from" marker), so every SKU's policy follows the new company. A SKU the prices flow
has not priced yet, or marks not for sale, gets 0 and DENY at every location; the prices flow's
"stock_recheck" bindings (its first price, a sale-status flip) bring it back. A pass over every
company forgets only the requests it read, at the time they were written
(ledger.bindings.forget_requests): the prices flow runs under its own lock, and a flip back written
while the pass ran stays for the next pass. An orders message of any shop on the same ERP that
opened, changed or closed asks the same recheck of its products (jobs.stock_pending): a sale lowers
at once every packaging of the product and the other stores selling the company's units, and a
level computed while the ERP already reserved the order and it still counted as pending is computed
again. A level Shopify moved itself (the app's restocking cancel or picking edit, an order
cancelled in Shopify before the ERP had it: jobs.stock_reread) is read before it is written,
whatever the ledger says. A company mapped to a location but inactive in the ERP (a store closed)
is not skipped silently: its levels are set to 0 (an item without stock control's too, the level
written while it had control) and a failed message names it (jobs.stock_closed);
units the app's own restocking cancel or picking edit puts back there later are set to 0 again.
A batch's message left failed or retrying is closed as superseded once later passes set every level
it carried, its error kept (jobs.stock_superseded): the later pass seldom sends the same SKUs.
A product's policy message left open is closed likewise once the deciding company's pass (or its
Retry) finds its variants at the policy their stock control asks, or once its company no longer
decides the policy (jobs.stock_policy_settled): nothing is sent under its unit any more.
A SKU whose stock control at another mapped company differs from the deciding company's sells at
that company's location under the deciding company's rule: it is named once for a person (a skipped
message per SKU and company, done when the difference ends), checked only for the SKUs whose
control a pass reads turned, and for every SKU once by the deciding company (jobs.stock_control).
A ProdutoEstoque record the client cannot read fails a message of its own, the company's watermark
held below it, while every other level is written; a company whose read the ERP refuses (not a
transient failure: RQ retries those) fails a message naming it while the other companies sync
(jobs.stock_records).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select

from erp.client import ErpClient
from erp.factory import for_shop as erp_for_shop
from erp.records import Stock
from jobs import (
    absence,
    catalog_tracking,
    stock_closed,
    stock_control,
    stock_fix,
    stock_gone,
    stock_in_flight,
    stock_policy_settled,
    stock_records,
    stock_reread,
    stock_superseded,
    stock_unsold,
    stock_vacate,
)
from jobs.locks import LockBusy, flow_lock
from jobs.shop_served import served_only
from jobs.stock_map import (
    LevelTarget,
    SkuUnit,
    for_sale,
    level_target,
    pending_base_by_product,
    sellable_base,
    sku_ids,
)
from jobs.stock_pending import (
    flag_order_changes,
    pending_orders,
    pending_since,
)
from jobs.stock_writer import BatchWriter, LevelEntry, keep_due, send_policies, settle_policy_leftover
from ledger import bindings, shop_settings, trace, watermarks
from ledger.bindings import PRICE_KIND, PRODUCT_KIND, STOCK_KIND, VARIANT_KIND, BindingRow
from ledger.bindings import STOCK_POLICY_KIND as POLICY_KIND
from ledger.bindings import STOCK_RECHECK_KIND as RECHECK_KIND
from ledger.db import session_scope
from ledger.errors import IntegrationError, MappingMissing, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.handled import unless_handled
from ledger.mappings import MappingKind
from ledger.models import (
    Binding,
    ErrorClass,
    LocationMapping,
    Message,
    MessageStatus,
    Shop,
    StoreLink,
    utcnow,
)
from shopify_app.admin_api import for_shop as shopify_for_shop
from shopify_app.admin_api.client import AdminClient

log = logging.getLogger(__name__)

FLOW = "stock"
ERP_CONNECTION_UNIT = "stock:erp_connection"  # the pass parked on the missing ERP connection
BATCH_SIZE = 250
LOCATION_KIND = "stock_location"  # erp_id = company, shopify_id = the location its levels were written at
# erp_id POLICY_FROM, digest = the company whose stock control the inventoryPolicies were last read from
POLICY_FROM_KIND = "stock_policy_from"
POLICY_FROM = "store"
# ... its data: the deciding company's pass compared every SKU's stock control with the other companies'
# (jobs.stock_control) since it decides: a marker written before that check existed reads its rows once
CONTROL_READ = "stock_control"
# erp_id = company, digest = the catalog's items_tracked mark its ERP rows were last read whole after
TRACKED_FROM_KIND = "stock_tracked_from"
IGNORED = "not sold in this store (setting ignored_companies)"  # why an ignored company's refusal ended


@dataclass
class StockRun:
    """What one pass did (the CLI, tests and the benchmark read it)."""

    companies: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)  # unmapped, not sold in this store: left out
    closed: list[int] = field(default_factory=list)  # mapped, inactive in the ERP: levels set to 0
    levels_sent: int = 0
    unchanged: int = 0
    batches: int = 0
    policies_sent: int = 0
    vacated: int = 0  # levels a moved company left at its former location, set to 0
    failed: list[str] = field(default_factory=list)
    moving: list[str] = field(default_factory=list)  # set aside, their level moving: the next pass sends them
    unfinished: list[int] = field(default_factory=list)  # companies whose pass failed: watermark kept
    transient: Transient | None = None
    bug: BaseException | None = None


@dataclass
class _Shop:
    shop_id: int
    domain: str
    locations: dict[int, str]
    linked_company: int | None
    bulk_threshold: int
    ignored: frozenset[int] = frozenset()  # setting ignored_companies: not sold in this store
    closed: frozenset[int] = frozenset()  # mapped, inactive in the ERP (this pass's stock_closed.close)

    @property
    def policy_company(self) -> int | None:
        """Whose stock control decides a variant's inventoryPolicy: the store's linked company,
        or, when that company has no location here or is closed in the ERP (its rows are never
        read: an item it sold without stock control kept CONTINUE, sold past 0 at the stores still
        open), the first open company that has one."""
        open_ = [c for c in self.locations if c not in self.closed]
        if self.linked_company is None or self.linked_company in open_:
            return self.linked_company
        return min(open_) if open_ else None


@served_only(FLOW, lambda _: StockRun())
def run(shop_id: int) -> StockRun:
    """One scheduled pass over every active ERP company. Skips when another worker runs stock."""
    try:
        with flow_lock(shop_id, FLOW):
            return _run(shop_id)
    except LockBusy:
        log.info("stock: shop %s already running elsewhere; skipped", shop_id)
        return StockRun()


def sweep(shop_id: int) -> StockRun:
    """The daily whole read (jobs.stock_full): every mapped company's ERP rows read from no
    watermark, as a company's first pass reads them, each level compared with the one last sent
    there (the "stock" binding's digest: an unchanged level costs not one Shopify call, a changed
    one is written by compare-and-swap as any other). What no change time announces is seen here: a row an
    ERP batch job stamped (SYSDATE at its UPDATE) more than the read overlap (ERP_READ_OVERLAP)
    before it committed, behind a watermark that moved past the stamp meanwhile. The watermarks only
    move forward (ledger.watermarks.advance).

    Raises:
        LockBusy: a stock pass (or replay) runs for the shop now; the caller retries.
    """
    with flow_lock(shop_id, FLOW):
        return _run(shop_id, whole=True)


@unless_handled
def replay(message_id: int) -> StockRun:
    """Redo one unit, re-reading the ERP: a refused company's pass (once its location is mapped),
    a batch's SKUs (re-read from the ERP, sent whatever their digest; done saying why when the
    company writes no level now), the levels Shopify refused to set to 0 at a location a company
    left (jobs.stock_vacate), or a stray write never answered that could not be asked about
    (jobs.stock_in_flight: asked again in a whole pass, which puts right what it applied), or a
    person's fix of levels a reconciliation report found differing (jobs.stock_fix: each read again
    first, then set to the ERP's figure). A product's policy message is closed when its variants
    have the policy the ERP asks now, or its company no longer decides it (jobs.stock_policy_settled)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.flow != FLOW:
            raise LookupError(f"message {message_id} is not a stock message")
        shop_id, payload, unit_key = message.shop_id, dict(message.request_payload or {}), message.unit_key
        attempt = message.attempts
        confirmed = absence.confirmed_by(message)  # a held stock_gone message's Retry: what it named
    company = payload.get("nro_empresa")
    only = set(payload.get("skus") or []) or None
    vacate = unit_key.removeprefix("stock:vacate:") if unit_key.startswith("stock:vacate:") else None
    stray = unit_key.removeprefix(stock_in_flight.STRAY_UNIT)
    fix = stock_fix.is_fix(unit_key) and company is not None and only is not None
    left_out: dict[str, str] = {}
    try:
        with flow_lock(shop_id, FLOW):
            if vacate is not None:  # the levels Shopify refused to set to 0, tried again
                return _run(shop_id, companies=[], retry_vacate=vacate)
            if (gone := stock_gone.company_of(unit_key)) is not None:  # held: a whole read, confirmed
                result = _run(shop_id, companies=[gone], whole=True, confirmed=confirmed)
                _settle_left_company(shop_id, gone, result)
                return result
            if stray != unit_key:  # a write never answered, asked about again: a whole pass puts it right
                return _run(shop_id, retry_stray=stray)
            if fix:  # a person's fix of levels a report found differing (jobs.stock_fix)
                report_id = int(payload.get("report_message_id") or 0)
                asked = sorted(only)
                left_out = stock_fix.note_moves(shop_id, message_id, attempt, int(company), report_id, asked)
                only = only - set(left_out)
            if fix and not only:  # every SKU left out: nothing to write
                result = StockRun(companies=[int(company)])
            else:
                result = _run(shop_id, companies=None if company is None else [int(company)], only=only)
    except LockBusy as exc:
        raise Transient(f"stock flow of shop {shop_id} is running; replay later") from exc
    if only is not None and company is not None:
        _settle_written_nowhere(shop_id, unit_key, int(company), result)
    if company is not None and unit_key == f"stock:{company}:location":
        _settle_left_company(shop_id, int(company), result)
    if fix:
        _settle_fix(shop_id, message_id, unit_key, int(company), result, len(only or ()), left_out)
    return result


def _settle_left_company(shop_id: int, company: int, result: StockRun) -> None:
    """A replay of a company's held or refused message that the pass neither synced nor refused
    (closed in the ERP meanwhile, not sold in this store): its message is done, saying why."""
    if company not in result.companies and company not in result.refused:
        with session_scope() as session:
            stock_records.forget_unread(session, shop_id, result.companies, result.refused, only=company)


def _settle_fix(
    shop_id: int,
    message_id: int,
    unit_key: str,
    company: int,
    result: StockRun,
    asked: int,
    left_out: dict[str, str],
) -> None:
    """A fix's outcome on its own message (jobs.stock_fix): what was written, and what was left out
    and why; its movements forgotten once the company's pass ended clean. A batch Shopify refused
    fails its own message (Retry there). The company's pass ending on a failure of its own (the ERP
    refused its read) fails the fix too, naming it, for a Retry once that is put right; a transient
    failure was raised before this, and RQ runs the fix again."""
    if company in result.unfinished:  # its pass ended on a failure of its own, which its message says
        failure = Rejected(
            f"company {company}'s stock pass did not finish (its own stock message says why): Retry this "
            "fix once that is put right",
            system="app",
            code="STOCK_FIX_UNFINISHED",
        ).worded("stock_fix_unfinished", company=company)
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None and message.status != MessageStatus.DONE.value:
                trace.fail(session, message, failure)
        return
    stock_fix.forget_moves(shop_id, message_id, keep=result.moving)
    response = stock_fix.outcome(asked, result.levels_sent, result.failed, result.moving, left_out)
    with session_scope() as session:
        trace.succeed_open(session, shop_id, FLOW, [unit_key], response)


def _settle_written_nowhere(shop_id: int, unit_key: str, company: int, result: StockRun) -> None:
    """A batch's SKUs of a company that writes no level now (closed, not sold here, mapped to no
    location): nothing to write, so the batch's message is done saying why (its Retry would
    otherwise leave it failed as it was)."""
    if company in result.closed:
        why = f"company {company} is closed in the ERP: its levels are set to 0 (stock:{company}:inactive)"
    elif company in result.ignored:
        why = f"company {company} is {IGNORED}: nothing is sent for it"
    elif company in result.refused:
        why = (
            f"company {company} has no Shopify location mapped: nothing is sent for it until it is "
            f"mapped (message stock:{company}:location), and its first pass then writes every level"
        )
    else:
        return
    with session_scope() as session:
        trace.succeed_open(session, shop_id, FLOW, [unit_key], {"settled": why})


def _run(
    shop_id: int,
    companies: list[int] | None = None,
    only: set[str] | None = None,
    retry_vacate: str | None = None,
    retry_stray: str | None = None,
    whole: bool = False,
    confirmed: Collection[str] = (),
) -> StockRun:
    """`confirmed`: the SKUs a held stock_gone message's Retry confirms (jobs.stock_gone)."""
    result = StockRun()
    with session_scope() as session:
        shop = _load_shop(session, shop_id)
        flag_order_changes(session, shop_id)  # their products' levels count the order, or no longer
        # {idSku: when asked}: only requests still at that time are forgotten at the end (the
        # prices flow, under its own lock, may ask again while this pass writes).
        read_rechecks = bindings.read_requests(session, shop_id, RECHECK_KIND)
        moves = stock_reread.read(session, shop_id)  # levels Shopify moved itself: read them first
    rechecks = list(read_rechecks)
    every_company = companies is None  # a replay of one company leaves the others' rechecks
    try:
        erp = erp_for_shop(shop_id)
    except MappingMissing as exc:  # no ERP connection yet: shown, resumed by replay
        with session_scope() as session:
            trace.fail(session, trace.begin(session, shop_id, FLOW, ERP_CONNECTION_UNIT, ERP_TO_SHOPIFY), exc)
        return result
    with session_scope() as session:  # connected now: a pass parked on it is done (its replay runs this)
        trace.succeed_open(session, shop_id, FLOW, [ERP_CONNECTION_UNIT], {"resumed": True})
    client = shopify_for_shop(shop.domain, lane="background")
    try:
        if settle_policy_leftover(shop_id, client):  # its SKUs asked to be rechecked: in this pass
            with session_scope() as session:
                read_rechecks = bindings.read_requests(session, shop_id, RECHECK_KIND)
            rechecks = list(read_rechecks)
        listed = erp.companies()
        # A mapped company whose record the ERP serves unreadably: not taken for closed (zeroed) nor
        # synced (active?), its pass stopped naming the record; the other companies sync.
        unreadable = {c: exc for c, exc in listed.unreadable.items() if c in shop.locations}
        readable = {c: loc for c, loc in shop.locations.items() if c not in unreadable}
        closed = stock_closed.close(shop_id, listed, readable, moves)  # mapped, inactive: zeroed
        for company, exc in sorted(unreadable.items()):
            result.unfinished.append(company)
            stock_records.stopped(shop_id, company, exc)
            result.bug = result.bug or exc  # raised once every company had its turn, as _sync_company
        result.closed = sorted(closed)
        shop.closed = frozenset(closed)  # (the policies follow an open company: policy_company)
        open_locations = {c: loc for c, loc in shop.locations.items() if c not in closed}
        # Writes never answered at a location their company does not write now, asked about before
        # any company writes, and what they applied put right (jobs.stock_in_flight).
        strays = stock_in_flight.resolve_strays(shop_id, client, open_locations, closed, retry_stray)
        result.transient = strays.transient
        if strays.rechecked:  # a company reads those levels again: in this pass already
            with session_scope() as session:
                read_rechecks = bindings.read_requests(session, shop_id, RECHECK_KIND)
                moves = stock_reread.read(session, shop_id)
            rechecks = list(read_rechecks)
        if companies is None:
            companies = [c.nro_empresa for c in listed if c.active]
        for company in [c for c in companies if c not in closed and c not in unreadable]:
            location = shop.locations.get(company)
            if location is None and company in shop.ignored:
                _ignore(shop_id, company)
                result.ignored.append(company)
                continue
            if location is None:
                _refuse(shop_id, company)
                result.refused.append(company)
                continue
            result.companies.append(company)
            waiting = strays.held.get(location, set())
            _sync_company(shop, erp, client, company, location, rechecks, moves, only, result, waiting, whole,
                          confirmed)  # fmt: skip
        if every_company and only is None:
            with session_scope() as session:  # companies not synced any more: their records unread
                stock_records.forget_unread(
                    session, shop_id, [*result.companies, *unreadable], result.refused
                )
        if only is None:
            vacated = stock_vacate.run(shop_id, shop.domain, client, open_locations, retry_vacate, closed)
            result.vacated = vacated.zeroed
            result.transient = result.transient or vacated.transient
            result.bug = result.bug or vacated.bug
    finally:
        erp.close()
        client.close()
    with session_scope() as session:  # policy messages of a company that no longer decides: closed
        stock_policy_settled.settle_undecided(session, shop_id, shop.policy_company)
    if (rechecks or moves.found) and every_company and only is None:
        _forget_done(shop_id, result, read_rechecks, moves)
    if result.transient is not None:
        raise result.transient
    if result.bug is not None:
        raise result.bug
    return result


def _forget_done(
    shop_id: int, result: StockRun, read_rechecks: dict[str, datetime], moves: stock_reread.Moves
) -> None:
    """The requests the pass acted on: the rechecks (a SKU's, for every company) and the movements
    of no known company once every company's pass ended clean; a company's own movements once its
    own did (another company's transient is no reason to read them again)."""
    moves = moves.without(result.moving)  # kept for the next pass, which sends their levels
    with session_scope() as session:
        if not result.unfinished and result.bug is None:
            bindings.forget_requests(session, shop_id, RECHECK_KIND, read_rechecks)
            stock_reread.forget(session, shop_id, moves)
            return
        for company in result.companies:
            if company not in result.unfinished:
                stock_reread.forget(session, shop_id, moves.only(company))


def _sync_company(
    shop: _Shop,
    erp: ErpClient,
    client: AdminClient,
    company: int,
    location: str,
    rechecks: list[str],
    moves: stock_reread.Moves,
    only: set[str] | None,
    result: StockRun,
    waiting: set[str],
    whole: bool = False,
    confirmed: Collection[str] = (),
) -> None:
    """One company's pass (`whole`: its ERP rows read from no watermark, the daily sweep's). Its
    own failure alone (`failure`) keeps its watermark and markers: the pass's combined transient is
    raised once every company had its turn (jobs.stock._run). One that ends its pass otherwise (the
    ERP refused its read, or answered it unreadably) fails a message naming the company
    (jobs.stock_records.stopped) and the other companies sync; a transient one is raised at once,
    for RQ to retry the pass."""
    try:
        failure = _sync_levels(
            shop, erp, client, company, location, rechecks, moves, only, result, waiting, whole, confirmed
        )
    except Transient:
        raise
    except IntegrationError as exc:
        result.unfinished.append(company)
        stock_records.stopped(shop.shop_id, company, exc)
        if exc.error_class is ErrorClass.BUG:  # raised once every company had its turn: loud
            result.bug = result.bug or exc
        return
    with session_scope() as session:
        stock_records.went_through(session, shop.shop_id, company)
    if failure is not None:
        result.unfinished.append(company)
        if isinstance(failure, Transient):
            result.transient = result.transient or failure
        else:
            result.bug = result.bug or failure


def _sync_levels(
    shop: _Shop,
    erp: ErpClient,
    client: AdminClient,
    company: int,
    location: str,
    rechecks: list[str],
    moves: stock_reread.Moves,
    only: set[str] | None,
    result: StockRun,
    waiting: set[str],
    every_row: bool = False,
    confirmed: Collection[str] = (),
) -> BaseException | None:
    """`_sync_company`'s work: the failure that ends the company's pass unfinished, if any."""
    started = utcnow()
    scope = str(company)
    # Writes an earlier pass sent and Shopify never answered, asked about first under their own
    # keys; their SKUs wait while one may still apply (jobs.stock_in_flight), the watermark kept.
    # `waiting`: those of another company's write at this location, still unanswered.
    held, failure = stock_in_flight.resolve(shop.shop_id, client, company, location)
    if waiting:
        held |= waiting
        failure = failure or Transient(
            f"a stock write sent earlier at location {location} is not answered yet; its SKUs wait for it",
            skus=sorted(waiting),
        )
    with session_scope() as session:
        _resume_refused(session, shop.shop_id, company)
        moved = _location_moved(session, shop.shop_id, company, location)
        stock_vacate.note(session, shop.shop_id, company, location, others=moved)
        _forget_others_at(session, shop.shop_id, company, location)
        policy_moved, control_unread = _policy_moved(session, shop, company)
        tracked_from = _tracked_since(session, shop.shop_id, company)
        whole = every_row or only or moved or policy_moved or control_unread or tracked_from is not None
        since = None if whole else watermarks.read(session, shop.shop_id, FLOW, scope).last_changed_at
    # Taken before the ERP rows: an order reaching the ERP while they are read is in one or the
    # other, never in neither (jobs.stock_pending.pending_since).
    taken_at = utcnow()
    before = pending_orders(shop.shop_id)
    read = erp.stock(since, company)
    read.keep_malformed = True  # one unreadable record fails alone (jobs.stock_records)
    bases: dict[str, tuple[Decimal | None, Stock | None]] = {}
    by_product = _SkusByProduct(shop.shop_id)
    unsold: dict[int, Decimal | None] = {}  # records naming no SKU of the shop (jobs.stock_unsold)
    listed: set[int] = set()  # the products the read has a row of
    for stock in read:
        listed.add(stock.seq_produto)
        base = sellable_base(stock)
        ids = sku_ids(stock, by_product)
        if not ids:
            unsold[stock.seq_produto] = base
        for id_sku in ids:
            if only is None or id_sku in only:
                bases[id_sku] = (base, stock)
    unread = stock_records.set_aside(shop.shop_id, read, erp.names, since, company)
    if only is None and since is None:  # a product the company stopped carrying (jobs.stock_gone)
        gone = stock_gone.levels(shop.shop_id, erp, company, location, read, listed, set(bases), by_product,
                                 confirmed)  # fmt: skip
        for id_sku in gone:
            bases[id_sku] = (Decimal(0), None)  # nothing to sell: 0, and the base remembered is 0
    reread = moves.at(company)  # Shopify moved these levels itself: what it shows is not known
    with session_scope() as session:
        if only is None:
            stock_unsold.remember(
                session, shop.shop_id, company, unsold, whole=since is None and read.complete
            )
        # A pass of some SKUs alone (a batch's replay, a person's fix) leaves the other SKUs' rechecks
        # and movements to the next whole pass, which forgets them once acted on.
        extra = [s for s in dict.fromkeys([*rechecks, *reread]) if only is None or s in only]
        targets = _targets(session, shop, company, bases, extra, only is None, before, taken_at)
        entries, policies, quiet, turned = _changes(
            session, shop, company, location, targets, force=only is not None, moved=moved, reread=reread
        )
        bindings.upsert_many(session, shop.shop_id, STOCK_KIND, quiet)
        # A SKU whose stock control differs from the deciding company's, named once (jobs.stock_control):
        # those whose control turned, or every one read when who is compared may have changed.
        if control_unread:
            stock_control.settle_undecided(session, shop.shop_id, company)
        every = moved or control_unread or only is not None
        checked = {t.id_sku: t.base is not None for t in targets if every or t.id_sku in turned}
        mapped = [c for c in shop.locations if c not in result.closed]
        stock_control.note(session, shop.shop_id, shop.policy_company, company, mapped, checked)
    result.unchanged += len(targets) - len(entries) - len(quiet)
    if on_hold := [e for e in entries if e.id_sku in held]:
        # Not written while a write sent earlier may still apply: kept due with the ERP figure just
        # read, so the pass after it is answered writes that figure even once the watermark moved on.
        with session_scope() as session:
            keep_due(session, shop.shop_id, company, on_hold)
    entries = [e for e in entries if e.id_sku not in held]
    writer = BatchWriter(
        shop.shop_id,
        shop.domain,
        client,
        company,
        location,
        lambda: pending_since(before, shop.shop_id, taken_at=taken_at),
    )
    landed: dict[str, int] = {}  # SKU -> the batch message that got its level in
    written: set[int] = set()
    stop: BaseException | None = None
    for start in range(0, len(entries), BATCH_SIZE):
        outcome = writer.write(entries[start : start + BATCH_SIZE])
        result.batches += 1
        result.levels_sent += outcome.written
        result.failed.extend(outcome.failed)
        result.moving.extend(outcome.moving)
        landed.update(dict.fromkeys(outcome.levels, outcome.message_id))
        written.add(outcome.message_id)
        if outcome.transient is not None:
            stop = failure or outcome.transient  # the watermark stays: the next attempt re-reads it
            break
        if outcome.bug is not None:
            stop = outcome.bug
            break
    with session_scope() as session:  # earlier batches whose levels are all in now: closed
        stock_superseded.settle(session, shop.shop_id, company, location, landed, written)
    if stop is not None:
        return stop
    if policies:
        sent, failed, transient = send_policies(
            shop.shop_id, client, company, policies, bulk_threshold=shop.bulk_threshold
        )
        result.policies_sent += sent
        result.failed.extend(failed)
        failure = failure or transient
    if shop.policy_company in (None, company) and targets:
        # a policy message left open whose product's variants are as the ERP asks now: closed
        wanted = {
            t.id_sku: stock_policy_settled.Wanted(t.variant_id, t.product_id, t.target.policy)
            for t in targets
        }
        with session_scope() as session:
            stock_policy_settled.settle_in_place(session, shop.shop_id, company, wanted, policies)
    if only is None and read.complete and read.snapshot is not None and failure is None:
        at = unread.cap(read.snapshot)  # not past a record it could not read: read again next pass
        with session_scope() as session:
            if at is not None:
                watermarks.advance(session, shop.shop_id, FLOW, scope, at, 0, started)
            if moved:
                bindings.upsert_many(session, shop.shop_id, LOCATION_KIND, [BindingRow(scope, location)])
            if policy_moved or control_unread:
                marker = BindingRow(POLICY_FROM, None, scope, {CONTROL_READ: True})
                bindings.upsert_many(session, shop.shop_id, POLICY_FROM_KIND, [marker])
            if tracked_from is not None:
                bindings.upsert_many(
                    session, shop.shop_id, TRACKED_FROM_KIND, [BindingRow(scope, None, tracked_from)]
                )
    return failure


@dataclass(frozen=True)
class _Target:
    id_sku: str
    unit: SkuUnit
    base: Decimal | None
    for_sale: bool
    target: LevelTarget
    variant_id: str
    product_id: str
    item_id: str


def _targets(
    session: Any,
    shop: _Shop,
    company: int,
    bases: dict[str, tuple[Decimal | None, Stock | None]],
    rechecks: list[str],
    include_waiting: bool,
    pending_before: dict[int, dict[str, Any]],
    taken_at: datetime,
) -> list[_Target]:
    """Each SKU's target level: ERP rows read now, plus remembered ones the prices flow flagged,
    whose variant appeared since, or whose level Shopify refused as part of a whole batch (their
    ERP figure is the one remembered in the binding)."""
    ids = list(bases)
    remembered_ids = [f"{company}:{sku}" for sku in rechecks if sku not in bases]
    if include_waiting:
        remembered_ids += list(
            session.scalars(
                select(Binding.erp_id).where(
                    Binding.shop_id == shop.shop_id,
                    Binding.kind == STOCK_KIND,
                    # waiting for their variant, or refused as a whole (jobs.stock_writer): due
                    or_(Binding.shopify_id.is_(None), Binding.digest.is_(None)),
                    Binding.erp_id.like(f"{company}:%"),
                )
            )
        )
    for key, b in bindings.get_many(session, shop.shop_id, STOCK_KIND, remembered_ids).items():
        sku = key.split(":", 1)[1]
        if sku not in bases and "base" in (b.data or {}):
            bases[sku] = (None if b.data["base"] is None else Decimal(b.data["base"]), None)
            ids.append(sku)
    for sku, base in _sibling_bases(session, shop.shop_id, company, [s for s in rechecks if s not in bases]):
        bases[sku] = (base, None)
        ids.append(sku)
    # A new product's first packaging: its record was read before the shop sold any of it.
    for sku, base in stock_unsold.bases_for(
        session, shop.shop_id, company, [s for s in rechecks if s not in bases]
    ):
        bases[sku] = (base, None)
        ids.append(sku)
    variants = bindings.get_many(session, shop.shop_id, VARIANT_KIND, ids)
    prices = bindings.get_many(session, shop.shop_id, PRICE_KIND, ids)
    units = {sku: u for sku, b in variants.items() if (u := SkuUnit.from_binding(sku, b.data))}
    pending = pending_base_by_product(pending_since(pending_before, shop.shop_id, session, taken_at), units)
    out: list[_Target] = []
    waiting: list[BindingRow] = []
    for sku in ids:
        base, _stock = bases[sku]
        variant = variants.get(sku)
        data = (variant.data or {}) if variant is not None else {}
        unit = units.get(sku)
        if variant is None or unit is None or not data.get("inventory_item_id") or not data.get("product_id"):
            waiting.append(BindingRow(f"{company}:{sku}", None, None, {"base": _text(base), "sent": None}))
            continue
        # The first price asks for a recheck (jobs.price_send), so an unpriced SKU comes back.
        price = prices.get(sku)
        selling = for_sale(
            data,
            (price.data or {}) if price is not None else None,
            variant_id=variant.shopify_id,
            priced_variant=price.shopify_id if price is not None else None,
        )
        target = level_target(
            base, pending.get((company, unit.seq_produto), Decimal(0)), unit, for_sale=selling
        )
        out.append(
            _Target(
                sku,
                unit,
                base,
                selling,
                target,
                variant.shopify_id or "",
                data["product_id"],
                data["inventory_item_id"],
            )
        )
    bindings.upsert_many(session, shop.shop_id, STOCK_KIND, waiting)
    return out


def _sibling_bases(
    session: Any, shop_id: int, company: int, skus: list[str]
) -> list[tuple[str, Decimal | None]]:
    """A packaging new to its product has no level remembered at this company, and the ERP's stock
    row of the product did not move: the product's base (whole units for sale, the same for every
    packaging of it) is remembered on its other packagings' "stock" bindings."""
    if not skus:
        return []
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, skus)
    seq_of = {sku: str(seq) for sku, b in variants.items() if (seq := (b.data or {}).get("seq_produto"))}
    products = bindings.get_many(session, shop_id, PRODUCT_KIND, set(seq_of.values()))
    siblings = {
        sku: [s for s in (products[seq].data or {}).get("skus", []) if s != sku]
        for sku, seq in seq_of.items()
        if seq in products
    }
    keys = {f"{company}:{s}" for group in siblings.values() for s in group}
    remembered = bindings.get_many(session, shop_id, STOCK_KIND, keys)
    found: list[tuple[str, Decimal | None]] = []
    for sku, group in siblings.items():
        for sibling in group:
            binding = remembered.get(f"{company}:{sibling}")
            data = (binding.data or {}) if binding is not None else {}
            if "base" in data:
                found.append((sku, None if data["base"] is None else Decimal(data["base"])))
                break
    return found


def _location_moved(session: Any, shop_id: int, company: int, location: str) -> bool:
    """True when the company's levels were last written at another location (its mapping moved,
    or two companies swapped locations) or are not known to be there (never written, or its
    marker forgotten): the pass then reads every ERP row of the company, not only those changed
    since the watermark, and writes each level at `location` that differs from what Shopify shows
    there (no "stock" binding is taken as what the location holds)."""
    marker = bindings.get_many(session, shop_id, LOCATION_KIND, [str(company)]).get(str(company))
    return marker is None or marker.shopify_id != location


def _policy_moved(session: Any, shop: _Shop, company: int) -> tuple[bool, bool]:
    """(moved, control unread). Moved: `company` decides the inventoryPolicy now
    (jobs.stock._Shop.policy_company) and the policies were last read from another company's stock
    control (the store link moved to another company, or its company lost or got a location): the
    pass reads every ERP row of the company, so each SKU's policy follows it, not only those whose
    stock row changed since the watermark. Control unread: moved, or `company` decides and its pass
    has not compared every SKU's stock control with the other companies' yet (jobs.stock_control:
    the marker says so, read in the same statement); the pass reads every row for that once."""
    if shop.policy_company != company:
        return False, False
    marker = bindings.get_many(session, shop.shop_id, POLICY_FROM_KIND, [POLICY_FROM]).get(POLICY_FROM)
    moved = marker is None or marker.digest != str(company)
    return moved, moved or marker is None or not (marker.data or {}).get(CONTROL_READ)


def _tracked_since(session: Any, shop_id: int, company: int) -> str | None:
    """The catalog's items_tracked mark when the company's ERP rows were not read whole since it
    was written (jobs/catalog_tracking.py): the items an earlier version left untracked are
    tracked now, and the levels this flow was refused for them ("not tracked") are written by a
    pass reading every ERP row of the company, though their rows did not move since the
    watermark. None: nothing to read whole for it (no mark yet, or read whole since)."""
    mark = catalog_tracking.mark(session, shop_id)
    if mark is None:
        return None
    read = bindings.get_many(session, shop_id, TRACKED_FROM_KIND, [str(company)]).get(str(company))
    return None if read is not None and read.digest == mark else mark


def _forget_others_at(session: Any, shop_id: int, company: int, location: str) -> None:
    """`company` writes at `location` now: any other company's marker there is forgotten, so a
    company mapped back to it later compares its levels again (the ones it left were overwritten)."""
    session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id,
            Binding.kind == LOCATION_KIND,
            Binding.shopify_id == location,
            Binding.erp_id != str(company),
        )
    )


def _changes(
    session: Any,
    shop: _Shop,
    company: int,
    location: str,
    targets: list[_Target],
    *,
    force: bool,
    moved: bool = False,
    reread: dict[str, list[stock_reread.Move]] | None = None,
) -> tuple[list[LevelEntry], dict[str, list[tuple[str, str, str]]], list[BindingRow], set[str]]:
    """Levels to write, policies to change (per product), unchanged bindings to refresh, and the
    SKUs whose stock control turned (jobs.stock_control.turned: read from the bindings read here
    anyway). A SKU in `reread` (Shopify moved its level itself, jobs.stock_reread) is read before it
    is written, whatever its binding says, its drops checked against what Shopify should show by now."""
    known = bindings.get_many(session, shop.shop_id, STOCK_KIND, [f"{company}:{t.id_sku}" for t in targets])
    policy_known = bindings.get_many(session, shop.shop_id, POLICY_KIND, [t.id_sku for t in targets])
    entries: list[LevelEntry] = []
    quiet: list[BindingRow] = []
    policies: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    turned: set[str] = set()
    for t in targets:
        key = f"{company}:{t.id_sku}"
        old = known.get(key)
        if stock_control.turned(old, t.base):
            turned.add(t.id_sku)
        sent = (old.data or {}).get("sent") if old is not None else None
        # What was sent holds for this item at this location only, and only while the location is
        # known to hold the company's levels (a moved company, or one whose marker was forgotten
        # when another company wrote there, starts anew).
        sent_here = (
            old is not None and old.shopify_id == t.item_id and (old.data or {}).get("location") == location
        )
        # Stock control taken up again: while it was off (CONTINUE) Shopify's level moved with sales
        # the app did not follow, so the level sent before says nothing: read before it is written
        # (trusted, an ERP figure back at it wrote nothing and Shopify kept selling below it, DENY).
        here = not moved and sent_here and not (stock_control.controlled(old) is False and t.base is not None)
        # Levels sent by a call never answered (jobs.stock_writer): Shopify may show one of them.
        tried = tuple((old.data or {}).get("tried") or ()) if here and old is not None else ()
        unchanged = here and old is not None and old.digest == t.target.digest() and not tried
        if t.target.quantity is None:
            # No stock control: no level written. The one written while it had control stays the
            # app's where it was written (a closed store sets it to 0: jobs.stock_vacate), never
            # anywhere else: a level at a location the binding did not name (a move; a store
            # reopened, whose levels were set to 0) is not one the app wrote.
            kept = sent if sent_here else None
        else:
            # unchanged: what was sent stays what Shopify shows (below the level computed when
            # Shopify's ceiling capped it: jobs.stock_writer remembers that level as the digest)
            kept = sent if unchanged else t.target.quantity
        data = {
            "base": _text(t.base),
            "sent": kept,
            "location": location,
        }
        if here and old is not None and "at" in (old.data or {}):
            data["at"] = old.data["at"]
        if shop.policy_company in (None, company):
            # What was sent holds for the variant it was sent to: one the catalog flow replaced
            # since (a renamed packaging) is a new variant, at Shopify's default DENY.
            current_policy = stock_policy_settled.current(policy_known.get(t.id_sku), t.variant_id)
            if current_policy != t.target.policy or (force and t.target.quantity is None):
                policies[t.product_id].append((t.id_sku, t.variant_id, t.target.policy))
        moves = (reread or {}).get(t.id_sku)
        if t.target.quantity is None or (unchanged and not force and moves is None):
            if old is None or old.digest != t.target.digest() or (old.data or {}) != data:
                quiet.append(BindingRow(key, t.item_id, t.target.digest(), data))
            continue
        entries.append(
            LevelEntry(
                t.id_sku,
                t.item_id,
                t.unit,
                t.base,
                t.for_sale,
                t.target.quantity,
                sent if here and moves is None else None,
                expected_at=stock_reread.shown_at(old) if here and moves is None else None,
                stale_from=_should_show(moves, sent, old) if here else None,
                tried=tried,
                unsure=bool(tried),
            )
        )
    return entries, policies, quiet, turned


def _should_show(
    moves: list[stock_reread.Move] | None, sent: Any, old: Binding | None
) -> tuple[int, datetime] | None:
    """For a level Shopify moved itself: what it should show now and since when (the writer keeps
    out of the target a lower figure no order known since explains: a sale not known yet)."""
    at = stock_reread.shown_at(old)
    if not moves or sent is None or at is None:
        return None
    return stock_reread.shown(moves, int(sent), at), at


class _SkusByProduct:
    """seqProduto -> the idSkus the shop sells of it (variant bindings), read once when first asked."""

    def __init__(self, shop_id: int) -> None:
        self.shop_id = shop_id
        self._found: dict[int, list[str]] | None = None

    def __call__(self) -> dict[int, list[str]]:
        if self._found is None:
            found: dict[int, list[str]] = defaultdict(list)
            with session_scope() as session:
                rows = session.execute(
                    select(Binding.erp_id, Binding.data).where(
                        Binding.shop_id == self.shop_id, Binding.kind == VARIANT_KIND
                    )
                )
                for id_sku, data in rows:
                    seq = (data or {}).get("seq_produto")
                    if seq is not None:
                        found[int(seq)].append(id_sku)
            self._found = dict(found)
        return self._found


def _load_shop(session: Any, shop_id: int) -> _Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    rows = session.scalars(select(LocationMapping).where(LocationMapping.shop_id == shop_id))
    link = session.scalars(select(StoreLink).where(StoreLink.shop_id == shop_id)).one_or_none()
    return _Shop(
        shop_id,
        shop.domain,
        {r.nro_empresa: r.location_id for r in rows},
        None if link is None else link.nro_empresa,
        int(shop_settings.get(shop, "bulk_threshold")),
        frozenset(int(c) for c in shop_settings.get(shop, "ignored_companies") or ()),
    )


def _refuse(shop_id: int, company: int) -> None:
    """Park one message naming the company: stock is never sent to a guessed location. Where its
    levels were written is forgotten (another company may write there before it is mapped back)."""
    missing = MappingMissing(
        MappingKind.LOCATION.value,
        str(company),
        f"ERP company {company} has no Shopify location mapped: its stock is not sent "
        "until the company is mapped to a location (or, if this store does not sell it, marked "
        "not sold in this store under Setup)",
        words=("stock_company_unmapped", {"company": company}),
        nro_empresa=company,
    )
    with session_scope() as session:
        _forget_location(session, shop_id, company)
        message = trace.begin(
            session,
            shop_id,
            FLOW,
            f"stock:{company}:location",
            ERP_TO_SHOPIFY,
            erp_id=str(company),
            search=[f"empresa-{company}"],
            request={"nro_empresa": company},
        )
        trace.fail(session, message, missing)


def _ignore(shop_id: int, company: int) -> None:
    """The merchant said the company is not sold in this store: nothing is sent for it and its
    refusal message is done, with why. Where its levels were written is forgotten as on a refusal
    (mapped later, its first pass is a full one)."""
    with session_scope() as session:
        _forget_location(session, shop_id, company)
        _resume_refused(session, shop_id, company, IGNORED)


def _forget_location(session: Any, shop_id: int, company: int) -> None:
    """Where the company's levels were written is forgotten. When it was known (the company was
    mapped until now), the stock-control differences named for it are done (jobs.stock_control):
    it sells nothing here any more. Its refusal each pass finds nothing to forget and reads no more."""
    forgotten = session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id, Binding.kind == LOCATION_KIND, Binding.erp_id == str(company)
        )
    )
    if forgotten.rowcount:
        stock_control.settle_unmapped(session, shop_id, company)


def _resume_refused(session: Any, shop_id: int, company: int, why: str | bool = True) -> None:
    """The company is mapped now (or not sold in this store): its refusal message is done (the
    pass below sends the stock, or nothing is sent)."""
    message = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == FLOW,
            Message.unit_key == f"stock:{company}:location",
            Message.status == MessageStatus.PARKED.value,
        )
    ).one_or_none()
    if message is not None:
        trace.succeed(session, message, response={"resumed": why})


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
