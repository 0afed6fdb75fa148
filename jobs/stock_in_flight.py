"""The stock writes Shopify never answered, asked about again under their SAME key before anything
else is written for their items.

Why: a level written with no compare (an item not stocked at the location yet: changeFromQuantity
null) is applied whenever its request runs. Shopify still running a request (R1, target 10) after
the executor's waits (IDEMPOTENCY_CONCURRENT_REQUEST, or a timeout) ends the batch transient; the
ERP drops to 4 meanwhile; the retry's batch has a new key (the message's attempt is part of it)
and sets 4; R1 then lands and sets 10. The ledger says 4 was sent, so nothing corrects Shopify's
10 until that SKU's ERP stock moves again: the shop oversells. A write with a compare cannot do
this (the late one finds the level moved and is refused as stale), but the writer cannot tell
which requests Shopify has run, so every call is treated alike.

How: the stock writer notes each inventorySetQuantities call (binding kind "stock_in_flight",
erp_id "<company>:<key>", data: the exact quantities and reference document it sent) before
sending it, committed, and forgets it once Shopify answered (levels taken, or userErrors: all or
nothing, none applied). A pass of the company first resends every note left, exactly as it was
sent: same key, same parameters. Shopify then answers the first request's result, never applies a
second request beside it; for a key it failed on its side the executor walks the same derived
renewed keys (shopify_app.admin_api.idempotency.renewed_key) and finds the renewal it sent, if any.
- Answered (its levels, or userErrors): the note is forgotten and the pass goes on. Whatever the
  request applied is the starting point, never overwritten later: its items with a "stock" binding
  at that location take its levels as `sent` when it applied them (`_taken`: Shopify showed them
  from the call on, so a drop since is measured from there, not from the level before the call, and
  a sale not known yet is kept out once), lose them from `tried` when it applied nothing, and keep
  them as `tried` when the answer says neither (another input under the key); they are written
  compare-and-swap, those without one read first (jobs/stock_writer.py).
- Still in progress, or no answer again (a timeout, a 5xx): the note stays, its SKUs are left out
  of this pass (nothing else is sent for them while it may apply) and the pass ends transient with
  its watermark kept, so RQ's retry, or the next pass, asks again.
Why the note's own input and not the batch recomputed under the old key: the ERP figure may have
changed since (the case that matters), and the same key with other parameters is answered
IDEMPOTENCY_KEY_PARAMETER_MISMATCH, which says only that a request under the key finished. Such an
answer (an input built otherwise by another version) is taken as that: the note is forgotten and
its items are compared or read as above. A note whose request never reached Shopify (the worker
died sending it) is applied by the resend, and the pass's own write after it corrects the level.
The levels a company leaves at a location it no longer writes (jobs/stock_vacate.py) are always
set to 0 from a level read (compare-and-swap): a late one is refused as stale, so they are not noted.

A note at a location its company does not write now (the company moved, was unmapped or marked
not sold in this store, or is closed in the ERP: `resolve_strays`, at the start of every pass,
before any company writes) is asked about the same way, and what it applied (now, if the request
never reached Shopify before, or long ago) is then put right, for no company's pass would: the
company mapped there now reads those items before writing them (a jobs.stock_reread movement of
it), and they are recorded as levels the company left there (jobs.stock_vacate.note_left): set to
0 where no open company is mapped (once the company's levels are in at its new location; at once
when it is closed), or, where one is, those it does not write itself. A company mapped nowhere now
(refused, not sold in this store) has its levels left alone, these as all its others: the record
waits until it is mapped again (there: dropped, its pass writing every level; elsewhere: set to 0
once its levels are in). While a call is still unanswered, its SKUs wait at that location (the
company mapped there leaves them out).

A request refused as a whole (a GraphQL error, a 4xx other than 401) is an answer too: Shopify runs
nothing of a request it refuses, and nothing under the key is still running. The note is dropped,
its products' levels are written from what Shopify shows as for any answered note, and a message
fails naming them (the unit of a batch of those SKUs, replayed as any: jobs.stock.replay); when
the company writes nowhere now (mapped nowhere, not sold here, closed) there is nothing to write,
and the message is done saying so. Any other failure says nothing of the call and keeps the note:
- no usable token, a 401, or a failure transient by nature (no answer, a 5xx, throttled, still
  running): its SKUs wait, the pass ends transient and the next one asks again. At a stray note the
  message "stock:stray:<company>:<key>" shows it retrying (the company, location, SKUs and error),
  its attempts counting the passes, and ends done once the call is answered;
- anything else at a stray note (a refusal that is not Shopify's answer to the call, an answer the
  client cannot read, a bug): no pass waits for it. The note is marked "stuck", left alone by the
  scheduled passes, and that message fails saying why; what the call may have applied is put right
  as for an answer that says nothing of it (Applied.UNKNOWN: read by the company mapped there, set
  to 0 where no company writes it). Its Retry (jobs.stock.replay: a whole pass) asks again, and
  the message ends done once the call is answered. A Retry that gets no answer (transient) unmarks
  it: the message shows it retrying and every pass asks again, as for any note not answered. A
  message closed with "Mark as handled" (ledger.handled: the person settled it) drops its note at
  the next pass: nothing asks about it again.
- the same failure at the company's own location (`resolve`): the note is marked stuck the same
  way and its message fails the same way, its Retry and "Mark as handled" acting alike; the pass
  is not transient for it and the company's other SKUs are written, its watermark advanced. Its
  SKUs stay held there while it is unresolved: whether the call ran is not known, and a late one
  with no compare (an item not stocked yet) would overwrite whatever is written meanwhile, a level
  lowered by a sale included; one with a compare is refused as stale only if the level moved off
  it. The note is also marked "reread": once it is answered, refused as a whole or closed as
  handled, its company reads those SKUs again (a jobs.stock_reread movement: the watermark went
  past their ERP changes while they were held) and writes them compare-and-swap from that read:
  Shopify's level read again, the ERP's figure the one each held pass read (jobs.stock keeps a held
  SKU's changed figure due on its binding, jobs.stock_writer.keep_due), not an older one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jobs import stock_reread, stock_vacate
from jobs.price_map import POLICY_DENY
from jobs.stock_map import LevelTarget
from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, BindingRow
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import IntegrationError, Rejected, Transient
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, utcnow
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import (
    IdempotencyKeyFailed,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
)
from shopify_app.admin_api.stock_ops import set_available
from shopify_app.tokens import ShopNeedsReauth

log = logging.getLogger(__name__)

KIND = "stock_in_flight"  # erp_id "<company>:<key>", digest = the key, data = what was sent
MISMATCH = "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"  # a request under the key ran, with other input
STRAY_UNIT = "stock:stray:"  # + "<company>:<key>": the message of a stray note not answered


class Applied(Enum):
    """What an answered note applied."""

    YES = "its levels"
    NO = "nothing"
    UNKNOWN = "an input built otherwise"


@dataclass
class Strays:
    """What `resolve_strays` left: SKUs held per location, the transient failure that says so, and
    whether a company was asked to read levels again (the pass then reads its movements anew). A
    note stuck (module docstring) holds nothing: its failed message says what it is."""

    held: dict[str, set[str]] = field(default_factory=dict)
    transient: Transient | None = None
    rechecked: bool = False


def note(
    session: Session,
    shop_id: int,
    company: int,
    key: str,
    quantities: list[dict[str, Any]],
    reference: str,
    skus: list[str],
) -> None:
    """A call about to be sent under `key` (the caller commits before sending it)."""
    data = {"quantities": quantities, "reference": reference, "skus": skus, "at": utcnow().isoformat()}
    bindings.upsert_many(session, shop_id, KIND, [BindingRow(f"{company}:{key}", None, key, data)])


def forget(session: Session, shop_id: int, company: int, key: str) -> None:
    """Shopify answered the call under `key`."""
    session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id, Binding.kind == KIND, Binding.erp_id == f"{company}:{key}"
        )
    )


def resolve(
    shop_id: int, client: AdminClient, company: int, location: str
) -> tuple[set[str], BaseException | None]:
    """Ask Shopify about every call of the company at `location` left unanswered (module
    docstring): the SKUs to leave out of this pass (calls still unanswered) and the failure that
    says so (transient, or a bug). Its calls elsewhere are `resolve_strays`'."""
    held: set[str] = set()
    why: BaseException | None = None
    for noted, key, data in _notes(shop_id, company):
        if _locations(data) != {location}:
            continue
        if data.get("stuck"):  # waits for its message's Retry (`resolve_strays`), its SKUs held
            held.update(data.get("skus") or [])
            continue
        answer = _ask(shop_id, client, noted, key, data)
        if isinstance(answer, Transient):
            held.update(data.get("skus") or [])
            why = why or answer
        elif isinstance(answer, BaseException):  # no retry in minutes cures it: no pass waits for it
            held.update(data.get("skus") or [])
            _stuck(shop_id, noted, key, data, {location: company}, answer)
    return held, why


def resolve_strays(
    shop_id: int,
    client: AdminClient,
    locations: dict[int, str],
    closed: Collection[int] = (),
    retry: str | None = None,
) -> Strays:
    """Ask about every unanswered call at a location its company does not write now (`locations`:
    the open companies' locations; `closed`: companies mapped but inactive in the ERP), and put
    right what it applied (module docstring). `retry`: the note ("<company>:<key>") its message's
    Retry asks about again, stuck or not."""
    out = Strays()
    holders = {location: company for company, location in locations.items()}
    notes = _drop_handled(shop_id, _notes(shop_id))
    if retry is not None and retry not in {f"{c}:{k}" for c, k, _ in notes}:
        with session_scope() as session:  # answered since (its company's own pass asked about it)
            _settle(session, shop_id, retry, "answered since: nothing left to ask about")
    for company, key, data in notes:
        again = f"{company}:{key}" == retry
        if not again and (data.get("stuck") or _locations(data) == {locations.get(company)}):
            continue  # left to its message's Retry, or the company's own pass asks about it
        nowhere = None if company in locations else _nowhere(company, closed)
        answer = _ask(shop_id, client, company, key, data, nowhere)
        if isinstance(answer, Transient):  # its SKUs wait; the message shows it retrying
            for location, sku, _ in _entries(data):
                out.held.setdefault(location, set()).add(sku)
            out.transient = out.transient or answer
            _show(shop_id, company, key, data, answer)  # a stuck one no more: every pass asks again
        elif isinstance(answer, BaseException):  # no retry in minutes cures it: nothing waits for it
            out.rechecked |= _stuck(shop_id, company, key, data, holders, answer)
        else:
            out.rechecked |= bool(data.get("reread"))  # its company's held SKUs: read in this pass
            if answer is not Applied.NO:
                out.rechecked |= _put_right(shop_id, company, data, holders, answer)
    return out


def _show(shop_id: int, company: int, key: str, data: dict[str, Any], exc: Transient) -> None:
    """A stray note not answered this pass: its message retrying, naming what waits."""
    failure = Transient(
        f"{_what(company, data)}, is not answered yet when asked about again ({exc.detail.get('error')}). "
        "Nothing else is written for these SKUs there while it may still apply, and every stock pass "
        "asks again; if this stays so, check that Shopify answers this store (and open the app again "
        "if it asks to be authorized again)",
        **exc.detail,
        note=f"{company}:{key}",
    )
    with session_scope() as session:
        message = _begin(session, shop_id, company, key, data)  # first: closed as handled meanwhile, raises
        if data.get("stuck"):  # its Retry met no answer: the scheduled passes ask again, as it says
            unstuck = {k: v for k, v in data.items() if k != "stuck"}
            bindings.upsert_many(session, shop_id, KIND, [BindingRow(f"{company}:{key}", None, key, unstuck)])
        trace.fail(session, message, failure)


def _drop_handled(
    shop_id: int, notes: list[tuple[int, str, dict[str, Any]]]
) -> list[tuple[int, str, dict[str, Any]]]:
    """The notes left once those whose stray message a person closed with "Mark as handled" are
    dropped: the person settled it (what it may have applied was put right when it stuck), so no
    pass or Retry asks about it again (ledger.handled: final)."""
    stuck = {f"{STRAY_UNIT}{company}:{key}" for company, key, data in notes if data.get("stuck")}
    if not stuck:
        return notes
    with session_scope() as session:
        closed = {
            m.unit_key.removeprefix(STRAY_UNIT)
            for m in trace.unit_messages(session, shop_id, "stock", stuck, trace.closed_as_handled())
        }
        by_id = {f"{c}:{k}": d for c, k, d in notes}
        for note_id in closed:
            company, key = note_id.split(":", 1)
            forget(session, shop_id, int(company), key)
            _reread_held(session, shop_id, int(company), by_id[note_id])
    if closed:
        log.info("stock: %d unanswered write(s) dropped, their messages closed as handled", len(closed),
                 extra={"shop_id": shop_id, "flow": "stock"})  # fmt: skip
    return [(c, k, d) for c, k, d in notes if f"{c}:{k}" not in closed]


def _stuck(
    shop_id: int, company: int, key: str, data: dict[str, Any], holders: dict[str, int], exc: BaseException
) -> bool:
    """A note that cannot be asked about for a reason no retry in minutes cures: kept, marked stuck
    (the scheduled passes leave it to its message's Retry), its message failed saying why. A stray
    one has what it may have applied put right (`_put_right`: True when a company was asked to read
    levels); one at its company's own location keeps its SKUs held there (`resolve`) and is marked
    "reread": once answered or closed as handled, its company reads and writes them again."""
    words = exc.message if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    own = all(holders.get(location) == company for location in _locations(data))
    if own:
        text = (
            f"{_what(company, data)}, could not be asked about again: {words}. Whether Shopify applied "
            "it is not known, so these SKUs are not written at that location until it is answered (a "
            "late write could overwrite a level sold down since); the company's other levels are "
            "written as usual. Once the cause is fixed, retry this message to ask Shopify about it "
            "again; if you set these levels in Shopify yourself, mark it as handled"
        )
    else:
        text = (
            f"{_what(company, data)}, could not be asked about again: {words}. Whether Shopify applied "
            "it is not known, so nothing waits for it: the company mapped at that location reads "
            "these levels before writing them, and a level no company writes there is set to 0. Once "
            "the cause is fixed, retry this message to ask Shopify about it again"
        )
    detail = {"note": f"{company}:{key}", "skus": sorted(data.get("skus") or []), **trace.error_detail(exc)}
    failure: IntegrationError = (
        Rejected(text, system=exc.system, code=exc.code, detail=detail)
        if isinstance(exc, Rejected)
        else IntegrationError(text, detail=detail)  # classified as a bug: its traceback kept
    )
    with session_scope() as session:
        marks = {"stuck": True, "reread": True} if own else {"stuck": True}
        row = BindingRow(f"{company}:{key}", None, key, {**data, **marks})
        bindings.upsert_many(session, shop_id, KIND, [row])
        trace.fail(session, _begin(session, shop_id, company, key, data), failure)
    log.warning("stock: unanswered write %s of company %s stuck: %s", key[:12], company, words,
                extra={"shop_id": shop_id, "flow": "stock"})  # fmt: skip
    return False if own else _put_right(shop_id, company, data, holders, Applied.UNKNOWN)


def _reread_held(session: Session, shop_id: int, company: int, data: dict[str, Any]) -> None:
    """A note that held its SKUs at its company's own location while stuck (marked "reread"), gone:
    the passes meanwhile advanced past their ERP changes, so the company reads them again
    (jobs.stock_reread: what Shopify shows is not known, written compare-and-swap from a read)."""
    if data.get("reread"):
        at = _noted_at(data)
        deltas = dict.fromkeys(data.get("skus") or [], 0)
        stock_reread.note(session, shop_id, company, f"in-flight:{company}", deltas, at)


def _begin(session: Session, shop_id: int, company: int, key: str, data: dict[str, Any]) -> Any:
    skus = sorted(data.get("skus") or [])
    levels = [
        {"sku": sku, "inventory_item_id": entry.get("inventoryItemId"), "quantity": entry.get("quantity")}
        for _, sku, entry in _entries(data)
    ]
    return trace.begin(
        session,
        shop_id,
        "stock",
        f"{STRAY_UNIT}{company}:{key}",
        ERP_TO_SHOPIFY,
        erp_id=str(company),
        search=skus[:40],
        request={"nro_empresa": company, "location_id": min(_locations(data), default=""), "levels": levels},
    )


def _settle(session: Session, shop_id: int, note: str, why: str) -> None:
    """The stray note's message, if any, done: the call was answered (or dropped as refused)."""
    trace.succeed_open(session, shop_id, "stock", [f"{STRAY_UNIT}{note}"], {"settled": why})


def _what(company: int, data: dict[str, Any]) -> str:
    """The call in the words a message shows: company, location, SKUs and their items."""
    levels = ", ".join(f"{sku} (item {entry.get('inventoryItemId')})" for _, sku, entry in _entries(data))
    where = ", ".join(sorted(str(loc) for loc in _locations(data)))
    return (
        f"a stock write of company {company} at location {where}, sent earlier and its answer never "
        f"received, for SKUs {levels}"
    )


def _nowhere(company: int, closed: Collection[int]) -> str:
    """Why a company writes no level now, in the words a message shows."""
    if company in closed:
        return f"company {company} is closed in the ERP (its levels are set to 0)"
    return (
        f"company {company} has no location mapped now (refused, or not sold in this store): its "
        "levels are left alone until it is mapped again, whose first pass writes them all"
    )


def _put_right(
    shop_id: int, company: int, data: dict[str, Any], holders: dict[str, int], answer: Applied
) -> bool:
    """The levels a stray call set: recorded as levels the company left there (set to 0 once no
    open company writes them: jobs.stock_vacate), and read again by the company mapped at their
    location, if any, before it writes them. True when a company was asked to read them. Where no
    company is mapped and the call's company is mapped nowhere now, the record waits, its levels
    left alone like all its others, until it is mapped again (jobs.stock_vacate)."""
    at = _noted_at(data)
    reread: dict[int, dict[str, int]] = defaultdict(dict)
    left: dict[str, dict[str, int]] = defaultdict(dict)
    for location, sku, entry in _entries(data):
        holder = holders.get(location)
        if holder == company:
            continue  # its own level at its own location: its pass writes it (`_taken`: its binding)
        if holder is not None:  # a raise or fall of a known size when applied with a compare
            was = entry.get("changeFromQuantity")
            known = answer is Applied.YES and was is not None
            reread[holder][sku] = int(entry["quantity"]) - int(was) if known else 0
        if int(entry.get("quantity") or 0) > 0:
            left[location][entry["inventoryItemId"]] = int(entry["quantity"])
    with session_scope() as session:
        for holder, deltas in reread.items():
            stock_reread.note(session, shop_id, holder, f"in-flight:{company}", deltas, at)
        for location, items in left.items():
            stock_vacate.note_left(session, shop_id, company, location, items)
    log.info("stock: a late write of company %s put right: read again by %s, %d location(s) to clear",
             company, sorted(reread), len(left), extra={"shop_id": shop_id, "flow": "stock"})  # fmt: skip
    return bool(reread)


def _ask(
    shop_id: int,
    client: AdminClient,
    company: int,
    key: str,
    data: dict[str, Any],
    nowhere: str | None = None,
) -> Applied | BaseException:
    """Resend the call under its key: what it applied (the note forgotten), or the failure that
    keeps it: transient (still running, no answer again, or no usable token), or any other (a
    refusal that is not Shopify's answer to the call, an answer that says nothing, a bug).
    `nowhere`: why the company writes no level now, if it does not."""
    try:
        set_available(client, data["quantities"], key=key, reference_document_uri=data.get("reference"))
    except ShopifyUserErrors as exc:  # answered: none of it applied, or another input ran under the key
        log.info("stock: unanswered write %s of company %s answered: %s", key[:12], company, exc)
        answer = Applied.UNKNOWN if MISMATCH in exc.codes else Applied.NO
    except IdempotencyKeyFailed as exc:  # Shopify failed it on its side: nothing ran
        log.info("stock: unanswered write %s of company %s failed in Shopify: %s", key[:12], company, exc)
        answer = Applied.NO
    except Transient as exc:  # still running, or no answer again: nothing sent beside it
        return Transient(
            f"a stock write of company {company} sent earlier is not answered yet ({exc}); its "
            "SKUs wait for it",
            skus=sorted(data.get("skus") or []),
            error=str(exc),
        )
    except (ShopNeedsReauth, ShopifyUnauthorized) as exc:  # the token, not the request: nothing asked
        return _unasked(company, data, exc)
    except (ShopifyGraphQLError, ShopifyHTTPError) as exc:  # refused as a whole: nothing of it ran
        _refused(shop_id, company, key, data, exc, nowhere)
        return Applied.NO
    except IntegrationError as exc:  # a refusal not Shopify's, an answer that says nothing: kept
        return exc
    except Exception as exc:  # a bug: the note kept
        log.exception("stock: unanswered write %s of company %s not asked about", key[:12], company)
        return exc
    else:
        answer = Applied.YES
    with session_scope() as session:
        forget(session, shop_id, company, key)
        _reread_held(session, shop_id, company, data)
        _taken(session, shop_id, company, data, answer)
        _settle(
            session, shop_id, f"{company}:{key}", f"answered when asked about again: {answer.value} applied"
        )
    return answer


def _taken(session: Session, shop_id: int, company: int, data: dict[str, Any], answer: Applied) -> None:
    """An answered call on the "stock" bindings of its levels: those bound to the same item at the
    call's location that still hold its level as `tried` (nothing confirmed there since).
    Applied: as an accepted write's, the level becomes "sent" and its digest (one kept due stays
    due: jobs.stock_writer.keep_due), the call's time "at", and `tried` goes (every call before it
    was answered before it was sent). A stale answer or a level read later is then measured from
    what Shopify really showed (jobs.stock_writer._keep_unexplained_drops): left only "tried", the
    drop was measured from the level before the call, and a sale not known yet was given back after
    a raise (oversold) or kept out with the fall after one (undersold); and an ERP figure back at
    the level before the call is written, not taken as unchanged. The call's time, not the
    answer's: Shopify ran it after, and nothing sold there in between (with a compare, a sale would
    have made it stale; without one, the item was not stocked there yet). The level computed, when
    Shopify's ceiling capped it, is not in the call: the digest is the level sent, so that SKU is
    sent once more, compare-and-swap. Applied nothing: the level leaves `tried`, as a refused
    call's does (jobs.stock_writer._untry). Another input under the key (UNKNOWN): kept as `tried`,
    Shopify may show it."""
    if answer is Applied.UNKNOWN:
        return
    entries = {f"{company}:{sku}": (location, entry) for location, sku, entry in _entries(data)}
    rows = []
    for key, b in bindings.get_many(session, shop_id, STOCK_KIND, list(entries)).items():
        location, entry = entries[key]
        known = dict(b.data or {})
        tried = list(known.get("tried") or [])
        level = entry.get("quantity")
        here = b.shopify_id == entry.get("inventoryItemId") and known.get("location") == location
        if not here or level not in tried:
            continue
        mark = b.digest
        if answer is Applied.YES:
            known.update(sent=level, at=_noted_at(data).isoformat())
            known.pop("tried")
            mark = None if mark is None else LevelTarget(level, POLICY_DENY).digest()
        else:
            tried.remove(level)
            known["tried"] = tried
        rows.append(BindingRow(key, b.shopify_id, mark, known))
    bindings.upsert_many(session, shop_id, STOCK_KIND, rows)


def _unasked(company: int, data: dict[str, Any], exc: Exception) -> Transient:
    """No usable token (Shopify never asked): the note is kept and its SKUs wait, the pass
    transient until it is asked about."""
    return Transient(
        f"a stock write of company {company} sent earlier, its answer never received, could not be "
        f"asked about again ({exc}); its SKUs wait for it",
        skus=sorted(data.get("skus") or []),
        error=str(exc),
    )


def _refused(
    shop_id: int, company: int, key: str, data: dict[str, Any], exc: Exception, nowhere: str | None
) -> None:
    """The note is dropped and a message fails naming its products: the unit of a batch of those
    SKUs (jobs.stock_writer), which their replay writes and ends done, as any stock batch's. When
    the company writes nowhere now (`nowhere`: why), there is nothing to write: the message is done,
    saying so."""
    skus = sorted(data.get("skus") or [])
    batch = digest(skus)[:16]
    failure: BaseException = exc
    if isinstance(exc, Rejected):
        failure = Rejected(
            f"a stock write of company {company} sent earlier, its answer never received, was refused "
            f"as a whole when asked about again under its key ({exc}): none of it was applied. The "
            f"levels of {', '.join(skus)} are written again from what Shopify shows; retry this "
            "message to send them now",
            system=exc.system or "shopify",
            code=exc.code,
            detail={"skus": skus, "key": key, "error": exc.detail},
        )
    with session_scope() as session:
        forget(session, shop_id, company, key)
        _reread_held(session, shop_id, company, data)
        _taken(session, shop_id, company, data, Applied.NO)
        _settle(session, shop_id, f"{company}:{key}", f"refused as a whole: message stock:{company}:{batch}")
        message = trace.begin(
            session,
            shop_id,
            "stock",
            f"stock:{company}:{batch}",
            ERP_TO_SHOPIFY,
            erp_id=str(company),
            search=skus[:40],
            request={"nro_empresa": company, "location_id": min(_locations(data), default=""), "skus": skus},
        )
        if nowhere is None:
            trace.fail(session, message, failure)
            return
        dropped = (
            f"a stock write of company {company} sent earlier, its answer never received, was refused "
            f"as a whole when asked about again under its key ({exc}): none of it was applied, and "
            f"nothing is written for {', '.join(skus)}: {nowhere}"
        )
        trace.succeed(session, message, response={"dropped": dropped, "skus": skus})


def _notes(shop_id: int, company: int | None = None) -> list[tuple[int, str, dict[str, Any]]]:
    """(company, key, data) of the shop's notes, or of one company's."""
    where = [Binding.shop_id == shop_id, Binding.kind == KIND]
    if company is not None:
        where.append(Binding.erp_id.like(f"{company}:%"))
    with session_scope() as session:
        rows = session.execute(select(Binding.erp_id, Binding.digest, Binding.data).where(*where)).all()
    return [(int(erp_id.split(":", 1)[0]), key, data or {}) for erp_id, key, data in rows]


def _noted_at(data: dict[str, Any]) -> datetime:
    """When the call was noted (sent)."""
    at = datetime.fromisoformat(data["at"]) if data.get("at") else utcnow()
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _locations(data: dict[str, Any]) -> set[str]:
    return {q.get("locationId") for q in data.get("quantities") or []}


def _entries(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(location, SKU, quantity entry) of each level the call sent (its SKUs in the same order)."""
    return [
        (entry.get("locationId"), sku, entry)
        for sku, entry in zip(data.get("skus") or [], data.get("quantities") or [], strict=False)
    ]
