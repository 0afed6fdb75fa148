"""When absence from a whole ERP read may take things off the storefront, and when a person decides.

Two passes read something whole and act on what it does not list: the prices flow's read from the
beginning takes off sale the SKUs the store's pair has no price record for (jobs.price_unlisted),
and the catalog's full sync retires the packagings ProdutoSku no longer lists (jobs.catalog_unlisted).
The skus pass too retires the packagings a changed product's read no longer lists, checked the
same way and held past the same caps (jobs.catalog_unlisted.moved): its read is whole per product.
Absence from one read is no proof, and both apply the same rule before acting on it:
- a row changed while the read ran left its window (docs/consinco-api.md, "Why paging is stable":
  it comes in the next incremental read, not this one): each flow checks what is missing against a
  read of the changes since the whole read's snapshot, made right after it (its own read: the
  resources differ), and leaves alone what that read lists;
- a read the client cannot prove whole (`ChangeRead.unsure`: pages asked by number unchecked, an
  end no envelope attested), or things missing that are many and a large share of those known
  (`HELD_MIN`, `HELD_SHARE`), take nothing off: one failed message (`hold`, with the flow's own
  code, so the Messages page explains each) names how many, some of them and what to check; they
  stay as they were meanwhile. It is retried only by its own Retry (trace.RETRY_ALONE: a person's
  confirmation, never part of "Retry failed"), which reads whole again.
- That Retry confirms what the person was shown and nothing more (`confirmed_by`: the items the
  held message's detail names, while it is still failed): of those, the ones still missing are
  taken off (mid-read changes still checked), whatever the read's doubt or their count; anything
  else the new read misses follows the rule above (`decide`), so a read cut short on the day of the
  Retry takes nothing else off and a new hold names what it misses. A held message a later pass
  closed (done) confirms nothing: its Replay is an ordinary whole read. A Retry whose new read
  cannot tell anything (an unreadable record whose item cannot be told: any of them may be it)
  says so on its message (`untold`), which keeps naming the same items for the next Retry, rather
  than keeping its old text as if the Retry had done nothing.
- The daily whole reads (jobs.catalog_full, jobs.prices_full) find the same items missing every
  day: a held message a person closed as handled (they checked, and keep those items as they are)
  is not held again while it named every item missing now (`settled_hold`); one more missing holds
  again, naming them all.
Why not wait for a second whole read instead: one comes only when someone asks for it (a setup
move, `catalog sync --full`) or the next day's sweep, so what the ERP truly dropped would stay on
sale meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger import trace
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Message, MessageStatus
from ledger.words import Words

# More missing than both of these and nothing is taken off. 20%: a store link moved to another
# segment of the same company lists about the same assortment (a segment-only product here and
# there), and a catalog loses a few packagings at a time (a family changed); a fifth missing is a
# read that stopped, or a pair the store does not sell in. 50: a small catalog's few items no
# longer sold still go by themselves.
HELD_MIN = 50
HELD_SHARE = Decimal("0.2")
SHOWN = 20  # items named in the message's text (all of them, up to 1,000, in its detail)


def held_why(missing: int, known: int, doubt: str | None, *, known_as: str, rather: str) -> str | None:
    """Why `missing` items of the `known` ones (`known_as`: "SKUs priced") are held for a person
    rather than taken off, or None: take them off. `doubt`: the reads' `unsure`; `rather`: what
    they would be if truly gone."""
    if not missing:
        return None
    if doubt:
        return f"the ERP's answer does not prove the read whole ({doubt})"
    if missing > HELD_MIN and missing > HELD_SHARE * known:
        return (f"that is {missing * 100 // max(known, 1)}% of the {known} {known_as}: more likely a read "
                f"or setup problem than {rather}")  # fmt: skip
    return None


def held_words(missing: int, known: int, doubt: str | None, *, known_as: str) -> Words:
    """Why `missing` items were held (the reason `held_why` gave) in the merchant's words
    (ledger.words; `known_as`: the key's end naming the items, "packagings"). The read's doubt is
    the ERP client's English detail: the words say what it means, and the English text keeps the
    detail."""
    if doubt:
        return ("held_read_unsure", {})
    return (f"held_too_many_{known_as}", {"share": missing * 100 // max(known, 1), "known": known})


@dataclass(frozen=True)
class Verdict:
    """What a pass does with the items its whole read did not list (and the re-check did not either)."""

    now: list[str]  # taken off now: those a person confirmed, and the others when proven gone
    held: list[str]  # held for a person (a new hold names them)
    why: str | None  # why `held` were held
    confirmed: int  # how many of `now` a person confirmed


def decide(
    gone: Sequence[str],
    known: int,
    doubt: str | None,
    confirmed: Collection[str],
    *,
    known_as: str,
    rather: str,
) -> Verdict:
    """The rule for `gone` (the items still missing after the re-check, in order): those in
    `confirmed` (`confirmed_by`: what the held message named, and a person checked) are taken off;
    the others are taken off only if `held_why` finds no reason to hold them, counted alone."""
    sure = [i for i in gone if i in confirmed]
    rest = [i for i in gone if i not in confirmed]
    why = held_why(len(rest), known, doubt, known_as=known_as, rather=rather)
    if why is None:
        return Verdict([*sure, *rest], [], None, len(sure))
    return Verdict(sure, rest, why, len(sure))


def confirmed_by(message: Message) -> frozenset[str]:
    """What a held message's Retry confirms: the items its detail names (those the person was
    shown), while it still holds them (failed). None once done: a later pass closed it (the ERP
    listed them again, or they were taken off), so its Replay confirms nothing and is an ordinary
    whole read; nor while another attempt has it (pending, retrying)."""
    detail = message.error_detail
    if message.status != MessageStatus.FAILED.value or not isinstance(detail, dict):
        return frozenset()
    return frozenset(str(item) for item in detail.get("skus") or ())


def doubt(*reads: Any) -> str | None:
    """The first of these reads' reasons not to prove a row absent (`ChangeRead.unsure`), or None."""
    return next((read.unsure for read in reads if read.unsure), None)


def named(items: Sequence[str]) -> str:
    """The first `SHOWN` items, and how many more."""
    return ", ".join(items[:SHOWN]) + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def hold(
    session: Any,
    shop_id: int,
    flow: str,
    unit: str,
    text: str,
    *,
    code: str,
    items: Sequence[str],
    search: Iterable[str | int | None],
    request: dict[str, Any],
    detail: dict[str, Any],
    words: Words | None = None,
) -> None:
    """The one failed message of a pass whose missing `items` (its detail's "skus") were held;
    `words`: `text` in the merchant's words (ledger.words). Not when a person closed it as handled
    naming every one of them (`settled_hold`)."""
    if settled_hold(session, shop_id, flow, unit, items):
        return
    message = trace.begin(session, shop_id, flow, unit, ERP_TO_SHOPIFY, search=search, request=request)
    # RETRY_ALONE: its Retry is a person's confirmation, never part of a flow's "Retry failed"
    full = {"skus": list(items[:1000]), "count": len(items), **detail, trace.RETRY_ALONE: True}
    trace.fail(session, message, Rejected(text, system="consinco", code=code, detail=full, words=words))


def settled_hold(session: Any, shop_id: int, flow: str, unit: str, items: Collection[str]) -> bool:
    """Whether the held message `unit` was closed as handled by a person and named every one of
    `items` (its detail's "skus"): they settled those, and a whole read finding them missing again
    (every day's sweep) does not reopen it. An item it did not name (one more missing, or one past
    the 1,000 a detail keeps) holds again."""
    for message in trace.unit_messages(session, shop_id, flow, [unit], trace.closed_as_handled()):
        detail = message.error_detail if isinstance(message.error_detail, dict) else {}
        named_then = {str(item) for item in detail.get("skus") or ()}
        return bool(items) and set(items) <= named_then
    return False


def untold(
    session: Any,
    shop_id: int,
    flow: str,
    unit: str,
    text: Callable[[list[str]], str],
    unread: str,
    words: Callable[[list[str]], Words] | None = None,
) -> None:
    """A person's Retry whose new read could not tell anything (`unread`: an unreadable record
    whose item cannot be told, so any of them may be it; nothing was taken off): its held message
    fails again, one more attempt, with `text(items)` saying why this time (`words(items)`: the
    same in the merchant's words; without them the page shows the English), keeping its code and
    detail (the same items, so the next Retry confirms them). Without it the message kept its old
    text and attempt count, and the Retry looked as if it had not run."""
    message = session.scalars(
        select(Message).where(
            Message.shop_id == shop_id,
            Message.flow == flow,
            Message.unit_key == unit,
            Message.status == MessageStatus.FAILED.value,
        )
    ).one_or_none()
    if message is None or not isinstance(message.error_detail, dict):
        return
    kept = dict(message.error_detail)
    code, system = kept.pop("code", None), kept.pop("system", None) or "consinco"
    kept.pop("field", None)
    kept.pop(trace.FAIL, None)  # the held text's words: this one says something else
    items = [str(item) for item in kept.get("skus") or ()]
    again = trace.begin(session, shop_id, flow, unit, ERP_TO_SHOPIFY)
    said = words(items) if words is not None else None
    trace.fail(
        session,
        again,
        Rejected(text(items), system=system, code=code, detail={**kept, "untold": unread}, words=said),
    )
