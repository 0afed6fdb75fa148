"""The stock flow's writes: a batch (<= 250 levels of one company) written with compare-and-swap
as one message, and the inventoryPolicy of items without stock control (one call per product).

Why its own module: the CAS loop is the delicate part of the stock flow. inventorySetQuantities
is all or nothing, so a batch answered with userErrors is split: stale entries are re-read and
recomputed from the ERP figure minus the pending orders queried again, less the drop Shopify
shows since the figure it called stale that no order of this shop known since explains (a sale
whose orders/create webhook is not processed yet: the retry must not give it back; nothing
remembers that drop, so the SKU's next computation counts the order instead of it and a drop
that was no sale is not held for good), an entry whose total would pass Shopify's ceiling
(INVALID_QUANTITY_TOO_HIGH: the units orders committed there count) is sent again at what the
level holds (remembered as the level computed, the ceiling, beside that room: the next computation
at the ceiling matches it and sends nothing), entries Shopify refuses for themselves are reported
per SKU and dropped, and the rest is sent again. An entry answered stale SET_ASIDE_AFTER rounds in a
row (its level sold before each write, or set by another app) is set aside, so that one moving
level does not refuse every round of its batch and stop the company's later batches: left as
Shopify shows it, named on the batch's message (`moving`, with its words) and kept due for the
next pass as a level refused as a whole is; the rest of the batch is written. A drop ending
exactly at a level an earlier pass sent without ever hearing back (its "stock" binding's "tried",
noted before each call: Shopify applied it and the answer was lost) is that write, not a sale. A
call the next pass learns was applied, asking Shopify about it (jobs.stock_in_flight), is an
accepted write: its level is the binding's "sent" from the call's time, so a sale since, not known
yet, is measured from what Shopify showed, not from the level before the call (which gave such a
sale back after a raise, and kept the fall out again with it after a fall).
Entries Shopify already shows at the target are not written at all. Each send carries an @idempotent key
derived from its content and the batch message's attempt (the same levels sent again by a later
pass are a new operation). Shopify's answers about the key itself (a request under it still in
progress, one under it failed) never reach `_split` as refusals: the executor waits for the
first or sends a renewed key (shopify_app/admin_api/executor.py), and one still in progress after
its waits is transient, so the batch is retried by RQ, not failed as rejected. Each call is noted
with its key and exact input before it is sent and forgotten once answered; the retry has a new
attempt, a new key and a recomputed batch (the ERP figure may have moved), so the company's next
pass first resends every call left unanswered as it was sent, under its own key, and leaves its
SKUs out while Shopify still runs it (jobs/stock_in_flight.py): a first request applied late would
otherwise overwrite the retry's level where it had no compare (an item not stocked yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from jobs import stock_in_flight
from jobs.price_map import POLICY_DENY
from jobs.stock_map import (
    MAX_LEVEL,
    LevelTarget,
    SkuUnit,
    above_ceiling,
    level_target,
    pending_base_by_product,
)
from jobs.stock_pending import sold_since
from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, STOCK_RECHECK_KIND, BindingRow
from ledger.bindings import STOCK_POLICY_KIND as POLICY_KIND
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, utcnow
from ledger.trace_bulk import UnitStart, begin_many, succeed_many
from ledger.words import beside, stored
from shopify_app.admin_api import idempotency_key
from shopify_app.admin_api.bulk import BulkLineResult, joined
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.stock_ops import STALE, item_levels_at, quantity_index, set_available

log = logging.getLogger(__name__)

MAX_ROUNDS = 5
# A SKU answered CHANGE_FROM_QUANTITY_STALE this many rounds in a row (sold before each write: a
# promotion item on a busy day, or another app writing its level) is set aside: left as Shopify
# shows it, named on the batch's message and kept due for the next pass. inventorySetQuantities is
# all or nothing, so without it one such SKU would refuse every round of its batch and, its batch
# failing transient, stop the company's later batches. MAX_ROUNDS - SET_ASIDE_AFTER rounds are left
# for the rest of the batch (another SKU racing once).
SET_ASIDE_AFTER = 3
# Shopify sells an untracked item without limit (DENY stops nothing) and refuses its level.
UNTRACKED = (
    "inventory item is not tracked: Shopify sells it without limit and takes no level for it. Turn "
    "on 'Track quantity' on the variant in Shopify (the products flow sends every item tracked "
    "whenever it sends its product), then Retry this message"
)
MAX_TRIED = 5  # levels a "stock" binding remembers as sent and not answered yet
TOO_HIGH = "INVALID_QUANTITY_TOO_HIGH"  # the level's total (committed units included) above MAX_LEVEL
POLICY_MUTATION = "ProductVariantsBulkUpdate"


@dataclass(frozen=True)
class LevelEntry:
    """One level to write: `expected` is what Shopify last showed, at `expected_at` (None: read it
    first, unless `unstocked`: read, and the item has no level at the location yet). `stale_from`
    is the (level, time) Shopify showed before its first stale answer in this batch, or, for a
    level Shopify moved itself (jobs.stock_reread), the level it should show by now since the time
    it last showed one we know: a lower figure read is checked as after a stale answer. `tried`: the
    levels earlier passes sent for it and never heard back about (Shopify may show one of them);
    `unsure`: `expected` is the level last confirmed and Shopify may show one of those instead, so
    the entry is sent (compare-and-swap) even when `expected` equals the target. `ceiling`: the
    highest level Shopify takes for it, once it answered INVALID_QUANTITY_TOO_HIGH (its total, the
    units orders committed there included, may not pass MAX_LEVEL); `computed`: the level computed,
    once that ceiling capped `target` below it (what its "stock" binding remembers as the level, so
    the next computation, at the ceiling again, matches it and writes nothing)."""

    id_sku: str
    item_id: str
    unit: SkuUnit
    base: Decimal | None
    for_sale: bool
    target: int
    expected: int | None
    unstocked: bool = False
    expected_at: datetime | None = None
    stale_from: tuple[int, datetime] | None = None
    tried: tuple[int, ...] = ()
    unsure: bool = False
    ceiling: int = MAX_LEVEL  # the highest level Shopify takes: less the units orders committed there
    computed: int | None = None  # the level computed, when `ceiling` capped `target` below it


def above_ceiling_note(company: int, entries: list[LevelEntry], done: dict[str, int]) -> dict[str, Any]:
    """The note a batch's message carries for the SKUs whose ERP figure passes what a Shopify
    level holds (jobs.stock_map.MAX_LEVEL): each SKU, its ERP figure and the level sent; the note
    in English and beside it its words (`note_words`: shopify_app.stock_words says them on the
    message's page). Nothing when none does."""
    over = {
        e.id_sku: {"erp": f"{e.base.normalize():f}", "sent": done.get(e.id_sku)}
        for e in entries
        if e.base is not None and above_ceiling(e.base, e.unit)
    }
    if not over:
        return {}
    named = ", ".join(f"{sku} (ERP {found['erp']})" for sku, found in sorted(over.items()))
    log.warning("stock: company %s has stock above Shopify's ceiling of %s: %s", company, MAX_LEVEL, named)
    note = (
        f"ERP stock above Shopify's ceiling of {MAX_LEVEL:,} units per level, sent at the "
        f"ceiling (less the units orders committed there): {named}"
    )
    skus = [
        stored(("stock_above_ceiling_sku", {"sku": sku, "erp": found["erp"]}))
        for sku, found in sorted(over.items())
    ]
    return {"above_ceiling": over, **beside("note", note, ("stock_above_ceiling", {"skus": skus}))}


def moving_note(company: int, skus: list[str]) -> dict[str, Any]:
    """The note a batch's message carries for the SKUs set aside because Shopify's level kept
    moving (SET_ASIDE_AFTER stale answers in a row): the SKUs (`moving`), and the note in English
    with its words beside it (`moving_note_words`: shopify_app.stock_words). Nothing when none was."""
    if not skus:
        return {}
    named = ", ".join(skus)
    log.warning(
        "stock: company %s: levels kept changing in Shopify, set aside for the next pass: %s", company, named
    )
    note = (
        f"Shopify's level kept changing between our read and our write (sold, or set by another app) "
        f"in {SET_ASIDE_AFTER} compare-and-swap rounds in a row: left as Shopify shows it, and sent "
        f"again by the next pass: {named}"
    )
    words = ("stock_level_moving", {"skus": skus, "rounds": SET_ASIDE_AFTER})
    return {"moving": skus, **beside("moving_note", note, words)}


@dataclass
class BatchOutcome:
    written: int = 0
    failed: list[str] = field(default_factory=list)
    transient: Transient | None = None
    bug: BaseException | None = None
    message_id: int = 0  # the batch's message
    levels: dict[str, int] = field(default_factory=dict)  # the levels Shopify shows now, by SKU
    moving: list[str] = field(default_factory=list)  # set aside, their level moving: kept due


def keep_due(session: Any, shop_id: int, company: int, entries: list[LevelEntry]) -> None:
    """SKUs not written this pass (refused as a whole, or held for a write still unanswered):
    their "stock" bindings lose their digest and keep the ERP figure just read ("base"), so the
    company's next pass sends them again though their rows did not move (jobs.stock._targets
    reads them as it reads those waiting for their variant), from that figure, not an older one
    behind a watermark that moved on. What Shopify showed ("sent", "at", "tried") is kept for its
    compare-and-swap."""
    keys = {f"{company}:{e.id_sku}": e for e in entries}
    known = bindings.get_many(session, shop_id, STOCK_KIND, list(keys))
    rows = []
    for key, e in keys.items():
        old = known.get(key)
        kept = dict(old.data or {}) if old is not None and old.shopify_id == e.item_id else {"sent": None}
        rows.append(BindingRow(key, e.item_id, None, {**kept, "base": _text(e.base)}))
    bindings.upsert_many(session, shop_id, STOCK_KIND, rows)


class BatchWriter:
    """Writes batches of one company's levels at its location, recording one message per batch."""

    def __init__(
        self,
        shop_id: int,
        domain: str,
        client: AdminClient,
        company: int,
        location_id: str,
        pending: Callable[[], list[dict[str, Any]]],
    ) -> None:
        self.shop_id, self.domain, self.client = shop_id, domain, client
        self.company, self.location_id, self.pending = company, location_id, pending
        self._noted: str | None = None  # the key of the batch's last call, noted before it was sent
        self._answered = False  # ... and whether Shopify answered it
        self._added: dict[str, int] = {}  # binding key -> the level the last call added to its "tried"
        self._computed: dict[str, int] = {}  # the levels computed of those capped at their ceiling
        self._moving: dict[str, LevelEntry] = {}  # set aside: stale SET_ASIDE_AFTER rounds in a row
        self._already: set[str] = set()  # found at their target in Shopify: in `done`, never written

    def write(self, entries: list[LevelEntry]) -> BatchOutcome:
        skus = sorted(e.id_sku for e in entries)
        batch_key = digest(skus)[:16]
        with session_scope() as session:
            message = trace.begin(
                session,
                self.shop_id,
                "stock",
                f"stock:{self.company}:{batch_key}",
                ERP_TO_SHOPIFY,
                erp_id=str(self.company),
                search=skus[:40],
                request={
                    "nro_empresa": self.company,
                    "location_id": self.location_id,
                    "skus": skus,
                    "targets": {e.id_sku: e.target for e in entries},
                },
            )
            message_id = message.id
            # The idempotency key's own part for this attempt: the same levels written again by a
            # later pass (10 -> 5, back to 10, then 5 again) are a new operation and need a new
            # key, or Shopify replays the first answer and writes nothing. The client's own
            # retries of one call keep the key (a renewed one, derived from it, only once Shopify
            # answers that a request under it failed).
            attempt = f"{message.id}:{message.attempts}"
        live = {e.id_sku: e for e in entries}
        done: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        outcome = BatchOutcome()
        due: set[str] = set()  # refused as a whole: sent again by the next pass
        self._noted, self._answered, self._computed, self._moving = None, False, {}, {}
        self._already = set()
        try:
            self._send(live, done, errors, due, batch_key, attempt)
        except Transient as exc:
            outcome.transient = exc
        except Exception as exc:  # a bug: recorded with its traceback, raised by the flow at the end
            outcome.bug = exc
        by_sku = {e.id_sku: e for e in entries}
        moving = sorted(set(self._moving) - set(done))
        due.update(moving)  # sent again by the next pass, from the ERP figure read now
        shown_at = utcnow().isoformat()  # when Shopify showed these levels (what explains a drop)
        # A level capped at its ceiling is remembered as computed (the digest the next computation
        # is compared with) beside the level sent, which Shopify shows (its compare-and-swap).
        with session_scope() as session:
            rows = [
                BindingRow(
                    f"{self.company}:{sku}",
                    by_sku[sku].item_id,
                    LevelTarget(self._computed.get(sku, q), POLICY_DENY).digest(),
                    {
                        "base": _text(by_sku[sku].base),
                        "sent": q,
                        "location": self.location_id,
                        "at": shown_at,
                    },
                )
                for sku, q in done.items()
            ]
            bindings.upsert_many(session, self.shop_id, STOCK_KIND, rows)
            self._keep_due(session, [by_sku[sku] for sku in sorted(due - set(done))])
            if self._noted is not None and self._answered:  # else asked again first (jobs.stock_in_flight)
                stock_in_flight.forget(session, self.shop_id, self.company, self._noted)
            message = session.get(Message, message_id)
            failure: BaseException | None = outcome.transient or outcome.bug
            if failure is None and errors:
                text = "; ".join(f"{e['sku']}: {e['message']}" for e in errors)
                failure = Rejected(
                    f"inventorySetQuantities rejected: {text}",
                    system="shopify",
                    code=errors[0].get("code"),
                    detail={"user_errors": errors},
                )
            above = {**self._above_ceiling(entries, done), **moving_note(self.company, moving)}
            if failure is None:
                trace.succeed(session, message, response={"levels": done, **above})
            else:
                # What landed all the same: a later pass that sets the rest closes the message
                # (jobs.stock_superseded), and the levels it sent are its history.
                message.response_payload = {"levels": done, **above}
                trace.fail(session, message, failure)
        outcome.written = len(set(done) - self._already)  # (a fix's note: "set", apart from "already at it")
        outcome.failed = [e["sku"] for e in errors]
        outcome.moving = moving
        outcome.message_id, outcome.levels = message_id, dict(done)
        return outcome

    def _above_ceiling(self, entries: list[LevelEntry], done: dict[str, int]) -> dict[str, Any]:
        return above_ceiling_note(self.company, entries, done)

    def _send(
        self,
        live: dict[str, LevelEntry],
        done: dict[str, int],
        errors: list[dict],
        due: set[str],
        batch_key: str,
        attempt: str,
    ) -> None:
        """`_rounds`, the request refused as a whole (no entry named: a figure GraphQL's Int cannot
        take, a reason Shopify calls wrong...) then sent again in halves: what Shopify takes of
        the batch lands, the refused half is split again, down to the SKU it is about. When both
        halves are refused too, the request itself is wrong, not one level: no further calls.
        SKUs left refused are named and kept due (`due`): the next pass sends them again, though
        the watermark moves on past their rows. Only a refusal Shopify answered is split: after
        an answer that does not say whether the call applied, nothing else is sent (the next pass
        asks about it first: jobs.stock_in_flight)."""
        try:
            self._rounds(live, done, errors, batch_key, attempt)
            return
        except Transient:
            raise
        except IntegrationError as exc:
            refused = [(live, exc)]
        while len(refused) == 1 and len(refused[0][0]) > 1 and isinstance(refused[0][1], Rejected):
            part = refused[0][0]
            keys = sorted(part)
            halves = [
                {k: part[k] for k in keys[: len(keys) // 2]},
                {k: part[k] for k in keys[len(keys) // 2 :]},
            ]
            log.info(
                "stock: a batch of %s levels at company %s refused as a whole; sent in halves",
                len(part),
                self.company,
            )
            refused = []
            for half in halves:
                if refused and not isinstance(refused[-1][1], Rejected):
                    refused.append((half, refused[-1][1]))  # not sent: the call before may have applied
                    continue
                try:
                    self._rounds(half, done, errors, batch_key, attempt)
                except Transient:
                    raise
                except IntegrationError as exc:
                    refused.append((half, exc))
        for part, exc in refused:
            code = getattr(exc, "code", None)
            errors += [{"sku": sku, "message": exc.message, "code": code} for sku in sorted(part)]
            due.update(part)

    def _keep_due(self, session: Any, entries: list[LevelEntry]) -> None:
        """SKUs refused as a whole: kept due (`keep_due`)."""
        keep_due(session, self.shop_id, self.company, entries)

    def _rounds(
        self,
        live: dict[str, LevelEntry],
        done: dict[str, int],
        errors: list[dict],
        batch_key: str,
        attempt: str,
    ) -> None:
        """Up to MAX_ROUNDS calls, each answered stale entry re-read and recomputed (`_split`); an
        entry answered stale SET_ASIDE_AFTER rounds in a row is set aside (`_moving`) so the rest
        is written without it."""
        streak: dict[str, int] = {}  # stale answers in a row, by SKU
        for _ in range(MAX_ROUNDS):
            for sku in [s for s in live if streak.get(s, 0) >= SET_ASIDE_AFTER]:
                self._moving[sku] = live.pop(sku)
            if not live:
                return
            unknown = [e for e in live.values() if e.expected is None and not e.unstocked]
            if unknown:
                self._read(unknown, live, done, errors)
                self._keep_unexplained_drops([e.id_sku for e in unknown if e.id_sku in live], live)
            for sku in [s for s, e in live.items() if e.expected == e.target and not e.unsure]:
                self._done(done, live.pop(sku))  # Shopify already shows it: nothing to write
                self._already.add(sku)
            if not live:
                return
            order = list(live.values())
            quantities = [
                {
                    "inventoryItemId": e.item_id,
                    "locationId": self.location_id,
                    "quantity": e.target,
                    "changeFromQuantity": e.expected,
                }
                for e in order
            ]
            key = idempotency_key(self.domain, "stock", str(self.company), attempt, quantities)
            reference = f"consinco://estoque/{self.company}/{batch_key}"
            self._note_sending(order, key, quantities, reference)
            try:
                set_available(self.client, quantities, key=key, reference_document_uri=reference)
            except ShopifyUserErrors as exc:
                self._answered = True
                self._untry()
                stale = self._split(exc, order, live, errors)
                streak = {e.id_sku: streak.get(e.id_sku, 0) + 1 for e in order if e.id_sku in stale}
                continue
            except Rejected:  # answered, refused as a whole: nothing applied
                self._answered = True
                self._untry()
                raise
            self._answered = True
            for e in order:
                self._done(done, live.pop(e.id_sku))
            return
        moved = sorted(live)
        raise Transient(
            f"stock batch {batch_key} of company {self.company}: levels kept changing during "
            f"{MAX_ROUNDS} compare-and-swap rounds: {', '.join(moved[:10])}"
            + (f" and {len(moved) - 10} more" if len(moved) > 10 else ""),
            skus=moved,
        )

    def _done(self, done: dict[str, int], entry: LevelEntry) -> None:
        """`entry` at its level in Shopify: the level sent, and the level computed when it was capped."""
        done[entry.id_sku] = entry.target
        if entry.computed is not None:
            self._computed[entry.id_sku] = entry.computed
        else:
            self._computed.pop(entry.id_sku, None)

    def _read(
        self, unknown: list[LevelEntry], live: dict[str, LevelEntry], done: dict[str, int], errors: list[dict]
    ) -> None:
        """Shopify's current level of each unknown entry. An item not stocked at the location yet
        is written in the same inventorySetQuantities batch (API 2026-10 sets quantities at any
        location, stocking the item there: ITEM_NOT_STOCKED_AT_LOCATION is gone), with
        changeFromQuantity null since there is no level to compare with, instead of one
        inventoryActivate call per item and location."""
        levels = item_levels_at(self.client, [e.item_id for e in unknown], self.location_id)
        read_at = utcnow()
        for e in unknown:
            seen = levels.get(e.item_id)
            if seen is None or not seen.tracked:
                live.pop(e.id_sku)
                reason = "inventory item not found" if seen is None else UNTRACKED
                errors.append({"sku": e.id_sku, "message": reason, "code": "NON_MUTABLE_INVENTORY_ITEM"})
            elif not seen.stocked:
                live[e.id_sku] = replace(e, unstocked=True)
            else:
                live[e.id_sku] = replace(e, expected=seen.available, expected_at=read_at, unsure=False)

    def _note_sending(
        self, order: list[LevelEntry], key: str, quantities: list[dict[str, Any]], reference: str
    ) -> None:
        """Before the call, committed: each level about to be sent, added to its "stock" binding's
        "tried" (if Shopify applies it and the answer is lost, the next pass knows the level as
        its own write; an accepted write's binding is written anew, without "tried", as is one the
        next pass learns was applied: jobs.stock_in_flight._taken), and the call
        itself, key and exact input, so the next pass asks Shopify about it under the same key
        before sending anything else for its items (jobs.stock_in_flight). The round before was
        answered (userErrors: none applied), so its note goes."""
        by_key = {f"{self.company}:{e.id_sku}": e.target for e in order}
        with session_scope() as session:
            if self._noted is not None:
                stock_in_flight.forget(session, self.shop_id, self.company, self._noted)
            stock_in_flight.note(
                session, self.shop_id, self.company, key, quantities, reference, [e.id_sku for e in order]
            )
            self._noted, self._answered, self._added = key, False, {}
            rows = []
            for key, b in bindings.get_many(session, self.shop_id, STOCK_KIND, list(by_key)).items():
                data = dict(b.data or {})
                tried = list(data.get("tried") or [])
                if by_key[key] in tried:
                    continue
                data["tried"] = [*tried, by_key[key]][-MAX_TRIED:]
                self._added[key] = by_key[key]
                data.setdefault("at", b.updated_at.isoformat())  # when Shopify showed "sent"
                rows.append(BindingRow(key, b.shopify_id, b.digest, data))
            bindings.upsert_many(session, self.shop_id, STOCK_KIND, rows)

    def _untry(self) -> None:
        """The last call was answered with a refusal (userErrors, or refused whole): Shopify applied
        none of it, so the levels it added to "tried" go. Kept, a later drop to one of them (sales
        not told yet) would read as that write's, its answer lost, and the sales be given back."""
        if not self._added:
            return
        with session_scope() as session:
            rows = []
            for key, b in bindings.get_many(session, self.shop_id, STOCK_KIND, list(self._added)).items():
                data = dict(b.data or {})
                tried = list(data.get("tried") or [])
                if self._added[key] in tried:
                    tried.remove(self._added[key])
                    data["tried"] = tried
                    rows.append(BindingRow(key, b.shopify_id, b.digest, data))
            bindings.upsert_many(session, self.shop_id, STOCK_KIND, rows)
        self._added = {}

    def _split(
        self, exc: ShopifyUserErrors, order: list[LevelEntry], live: dict[str, LevelEntry], errors: list[dict]
    ) -> set[str]:
        """Stale entries: re-read and recompute; entries refused for themselves: reported, dropped.
        Returns the SKUs answered CHANGE_FROM_QUANTITY_STALE (not those sent again at the ceiling)."""
        stale: list[LevelEntry] = []
        moved: set[str] = set()
        errors_named = list(exc.errors)
        unnamed = [
            err for err in errors_named if err.code == STALE and quantity_index(err, len(order)) is None
        ]
        if unnamed:  # stale, naming no entry (a field path without the quantity's index: Shopify does not
            # document the path): every entry is read again and recomputed, as a stale one is (a read
            # more, never a sale overwritten, nor the batch refused for good)
            errors_named = [err for err in errors_named if err not in unnamed] + [
                replace(unnamed[0], field=("input", "quantities", str(i), "changeFromQuantity"))
                for i in range(len(order))
            ]
        for err in errors_named:
            index = quantity_index(err, len(order))
            if index is None:
                raise exc  # the batch itself is wrong (name, reason): a rejected unit
            entry = order[index]
            if err.code == STALE:
                stale.append(entry)
                moved.add(entry.id_sku)
            elif err.code == TOO_HIGH and entry.id_sku in live and (room := self._room(entry)) is not None:
                stale.append(replace(entry, ceiling=room))  # sent again at what the level holds
            elif entry.id_sku in live:
                live.pop(entry.id_sku)
                errors.append({"sku": entry.id_sku, "message": err.message, "code": err.code})
        if not stale:
            return moved
        log.info("stock: %s stale level(s) at company %s; re-reading", len(stale), self.company)
        pending = pending_base_by_product(self.pending(), {e.id_sku: e.unit for e in stale})
        for e in stale:
            fresh = pending.get((self.company, e.unit.seq_produto), Decimal(0))
            target = level_target(e.base, fresh, e.unit, for_sale=e.for_sale).quantity
            level = (e.target if e.computed is None else e.computed) if target is None else target
            known = (e.expected, e.expected_at) if e.expected is not None and e.expected_at else None
            live[e.id_sku] = replace(
                e,
                target=min(e.ceiling, level),
                computed=level if e.ceiling < level else None,
                expected=None,
                expected_at=None,
                unstocked=False,
                unsure=False,
                stale_from=e.stale_from or known,
            )
        return moved

    def _room(self, entry: LevelEntry) -> int | None:
        """The available level that keeps `entry`'s total at Shopify's ceiling, the units orders
        committed there (on hand, not available) counted; None when the entry's target is within it
        already (refused for another reason: reported as Shopify said)."""
        level = self.client.inventory_level(entry.item_id, self.location_id, names=["available", "on_hand"])
        if level is None:
            return None
        held = level.quantities.get("on_hand", 0) - level.quantities.get("available", 0)
        room = max(0, MAX_LEVEL - max(0, held))
        return room if min(entry.target, entry.ceiling) > room else None

    def _keep_unexplained_drops(self, skus: list[str], live: dict[str, LevelEntry]) -> None:
        """A stale level just read again (or a level Shopify moved itself, read first): the drop
        Shopify shows since the figure it answered stale to (before: what it showed or should show,
        seen: what it shows) that no order of this shop for the SKU,
        known since then, explains is a sale whose order we do not know yet (its webhook not
        processed). It is kept out of the target, so the retry never gives it back. Nothing
        remembers it: the SKU's next computation (its ERP row moving, as the order's own
        reservation does, or a recheck) counts the order by then known instead. A drop ending
        exactly at a level an earlier pass sent without hearing back (`tried`) is that write,
        applied with its answer lost (a timeout, the worker gone): no sale. Once asked about and
        known applied, that write's level is `before` itself (jobs.stock_in_flight._taken)."""
        stale = [live[s] for s in skus if live[s].stale_from is not None and live[s].expected is not None]
        if not stale:
            return
        orders = sold_since(self.shop_id, self.company, min(e.stale_from[1] for e in stale if e.stale_from))
        for e in stale:
            assert e.stale_from is not None and e.expected is not None
            before, at = e.stale_from
            if e.expected in e.tried:
                continue
            explained = sum((q for when, q in orders.get(e.id_sku, []) if when > at), Decimal(0))
            unexplained = int((Decimal(before - e.expected) - explained).to_integral_value(ROUND_CEILING))
            if unexplained > 0:
                log.info(
                    "stock: %s at company %s dropped %s unexplained by any order; kept out of its level",
                    e.id_sku,
                    self.company,
                    unexplained,
                )
                live[e.id_sku] = replace(e, target=max(0, e.target - unexplained), computed=None)


def send_policies(
    shop_id: int,
    client: AdminClient,
    company: int,
    policies: dict[str, list[tuple[str, str, str]]],
    *,
    bulk_threshold: int | None = None,
) -> tuple[int, list[str], Transient | None]:
    """inventoryPolicy per product in one productVariantsBulkUpdate (CONTINUE = no stock control);
    (products sent, SKUs refused, the first transient failure). One message per product. More
    products than `bulk_threshold` (a first pass): the same calls as one bulk operation."""
    if bulk_threshold is not None and len(policies) > bulk_threshold:
        return _send_policies_bulk(shop_id, client, company, policies)
    sent, failed, transient = 0, [], None
    for product_id, lines in policies.items():
        skus = [sku for sku, _, _ in lines]
        inputs = [{"id": variant, "inventoryPolicy": policy} for _, variant, policy in lines]
        with session_scope() as session:
            message = trace.begin(
                session,
                shop_id,
                "stock",
                f"stock:policy:{product_id.rsplit('/', 1)[-1]}",
                ERP_TO_SHOPIFY,
                shopify_id=product_id,
                search=skus,
                request={"nro_empresa": company, "skus": skus, "variants": inputs},
            )
            message_id = message.id
        error: BaseException | None = None
        try:
            client.variants_bulk_update(product_id, inputs)
        except Exception as exc:  # classified by trace.fail; transient re-raised at the end of the pass
            error = exc
        with session_scope() as session:
            message = session.get(Message, message_id)
            if error is None:
                rows = [BindingRow(sku, variant, policy, {}) for sku, variant, policy in lines]
                bindings.upsert_many(session, shop_id, POLICY_KIND, rows)
                trace.succeed(session, message, response={"variants": len(lines)})
                sent += 1
            else:
                trace.fail(session, message, error)
                failed.extend(skus)
                if isinstance(error, Transient):
                    transient = transient or error
    return sent, failed, transient


POLICY_UNSURE = "unsure"  # a policy binding's digest while its bulk operation runs: no policy matches it


def policy_bulk_identifier(shop_id: int) -> str:
    return f"stock-policy-{shop_id}"


def settle_policy_leftover(shop_id: int, client: AdminClient) -> bool:
    """Before a pass decides anything: wait for the policy bulk operation a dead pass left running
    in Shopify, then have its SKUs' policies decided and sent again (as jobs.price_send does for
    prices): its older lines would otherwise land over a policy a later pass sent directly, which
    the binding then matches for good. BulkStillRunning (transient) when it still runs after the
    wait: nothing is sent, the next pass waits again. True when SKUs were asked to be rechecked."""
    identifier = policy_bulk_identifier(shop_id)
    left = client.bulk.leftover(identifier)
    if left is None:
        return False
    if skus := left.keys():
        log.warning("stock: policies of %s SKUs a dead pass's bulk operation sent are sent again (shop %s)",
                    len(skus), shop_id)  # fmt: skip
        with session_scope() as session:
            known = bindings.get_many(session, shop_id, POLICY_KIND, skus)
            unsure = [
                BindingRow(sku, b.shopify_id, POLICY_UNSURE, dict(b.data or {})) for sku, b in known.items()
            ]
            bindings.upsert_many(session, shop_id, POLICY_KIND, unsure)
            bindings.upsert_many(
                session, shop_id, STOCK_RECHECK_KIND, [BindingRow(sku, None) for sku in skus]
            )
    client.bulk.mark_settled(identifier, left)
    return bool(skus)


def _send_policies_bulk(
    shop_id: int, client: AdminClient, company: int, policies: dict[str, list[tuple[str, str, str]]]
) -> tuple[int, list[str], Transient | None]:
    """send_policies as the lines of one bulk operation, each line's outcome on its product's
    message (the same unit keys, bindings and refusals as the direct calls)."""
    products = list(policies.items())
    inputs = [
        [{"id": variant, "inventoryPolicy": policy} for _, variant, policy in lines] for _, lines in products
    ]
    units = [
        UnitStart(
            f"stock:policy:{product_id.rsplit('/', 1)[-1]}",
            shopify_id=product_id,
            search=[sku for sku, _, _ in lines],
            request={"nro_empresa": company, "skus": [sku for sku, _, _ in lines], "variants": variants},
        )
        for (product_id, lines), variants in zip(products, inputs, strict=True)
    ]
    with session_scope() as session:  # committed: the rows exist before the bulk operation runs
        message_ids = begin_many(session, shop_id, "stock", units)
        # Unsure until the results are read: a worker killed while the operation runs records no
        # outcome, and the ERP's stock control put back meanwhile would match the binding's old
        # policy and never be sent while Shopify shows the operation's (as jobs.price_send does).
        unsure = [
            BindingRow(sku, variant, POLICY_UNSURE, {}) for _, lines in products for sku, variant, _ in lines
        ]
        bindings.upsert_many(session, shop_id, POLICY_KIND, unsure)
    variables = [
        {"productId": product_id, "variants": variants}
        for (product_id, _), variants in zip(products, inputs, strict=True)
    ]
    errors: list[BaseException | None]
    try:
        answer = client.bulk.run(
            POLICY_MUTATION,
            variables,
            client_identifier=policy_bulk_identifier(shop_id),
            units=[joined(sku for sku, _, _ in lines) for _, lines in products],
        )
    except Exception as exc:  # the operation as a whole: every product's message says why
        errors = [exc] * len(products)
    else:
        by_line = {line.line_number: line for line in answer.lines}
        errors = [_line_error(by_line.get(n), product_id) for n, (product_id, _) in enumerate(products)]
    with session_scope() as session:
        ok = [n for n, error in enumerate(errors) if error is None]
        rows = [BindingRow(sku, v, policy, {}) for n in ok for sku, v, policy in products[n][1]]
        bindings.upsert_many(session, shop_id, POLICY_KIND, rows)
        succeed_many(session, [(message_ids[n], {"variants": len(products[n][1])}) for n in ok])
        failed: list[str] = []
        transient: Transient | None = None
        for message_id, (_, lines), error in zip(message_ids, products, errors, strict=True):
            if error is None:
                continue
            message = session.get(Message, message_id)
            trace.fail(session, message, error)
            failed.extend(sku for sku, _, _ in lines)
            if isinstance(error, Transient):
                transient = transient or error
    return len(ok), failed, transient


def _line_error(line: BulkLineResult | None, product_id: str) -> BaseException | None:
    """A bulk result line as the error a direct call would have raised (None: applied)."""
    if line is None:
        return Transient(f"bulk result has no line for product {product_id}")
    if line.errors:
        text = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in line.errors)
        if line.shopify_side:  # what a direct call would have raised as transient: sent again
            failed = f"productVariantsBulkUpdate failed on Shopify's side: {text}"
            return Transient(failed, system="shopify", errors=line.errors)
        return Rejected(
            f"productVariantsBulkUpdate failed: {text}", system="shopify", detail={"errors": line.errors}
        )
    if line.user_errors:
        return ShopifyUserErrors("productVariantsBulkUpdate", list(line.user_errors))
    return None if line.payload is not None else Transient(f"no payload for product {product_id}")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
