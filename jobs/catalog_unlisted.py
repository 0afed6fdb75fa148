"""Packagings a full sync's SKU read does not list: retired only when their absence is proven.

Why: a full sync (`catalog sync --full`, jobs.catalog_flow.initial_load) reads ProdutoSku whole
and retires the cached packagings of the products read that it no longer lists (a product moved
to another family, or its family lost a packaging: catalog_cache.missing / retire): each becomes
an inactive variant, off sale, its stock zeroed, and a product left without an active one leaves
the sale (`inactive_sku_status`: drafted or archived). Taken on absence alone, that emptied the
storefront of live products whenever the read missed rows: a packaging whose price or weight
changed while the read ran (MAP_FAMEMBALAGEM.DTAHORALTEMBPRECO moves: its row leaves the read's
window, docs/consinco-api.md "Why paging is stable"), a product changed mid-read (ProdutoSku's
change time includes the product's: all its packagings not served yet leave), a server whose end
of the rows the client cannot attest, or one answering a list cut short.

So before anything is retired (`sweep`) the rule of the prices flow's unlisted SKUs holds
(jobs.absence):
- the packagings missing are checked against a read of the SKU changes since the full read's
  snapshot, made right after it: those it lists exist and are not retired (their new records come
  with the next skus pass, which reads from that snapshot);
- a read the client cannot prove whole (`ChangeRead.unsure`, the full read's or the re-check's),
  or packagings missing that are more than absence.HELD_MIN and absence.HELD_SHARE of those the
  catalog holds, retire none: one failed message of the skus flow (`UNIT`, code
  UNLISTED_PACKAGINGS_HELD, retried only by its own Retry) names how many, some of them, the
  products that would leave the sale, and what to check; they stay as they were. Its Retry (a
  person checked: catalog_flow.replay) runs the full sync again, `confirmed` for the packagings
  that message named (absence.confirmed_by): it retires those of them still missing (mid-read
  changes still checked); what else the new read misses follows the rule above (held again, the
  message then naming those, and how many the Retry retired). A later full sync that holds
  nothing (the ERP lists them again, or the Retry retired them) closes it saying in words how many
  of them it retired and left as they were (`_settle_held`). A held message a later full sync
  closed confirms nothing: its Replay is an ordinary full sync.
A packaging the ERP deactivated (its status, statusVenda, INDINTEGRAECOMMERCE) is still listed,
inactive: it leaves the sale through the ordinary path (jobs.catalog_map), read or held alike.
An unreadable SKU record whose product cannot be told, in the full read or the re-check, leaves
everything as it was (the same rule as the full read's, jobs.catalog_malformed); on a person's
Retry the held message says so (`untold`), still naming the packagings for the next Retry.

The skus pass holds in the same way the packagings of changed products its read no longer lists
(`moved`), in a message of its own (`MOVED_UNIT`, code MOVED_PACKAGINGS_HELD): one message for
both let a later hold of either rewrite the other's, and the packagings that one named stayed on
sale, named nowhere, its Retry confirming them no more. A later skus pass holding others names
them with those still held; a full sync decides them all again (it reads every packaging): it
closes the skus pass's message saying how many it retired, held again (its own message names
those) and left as they were (`_settle_moved`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from erp import ChangeRead, ErpClient
from jobs import absence, catalog_malformed
from jobs.catalog_cache import CachedProduct
from ledger import trace
from ledger.models import Message, MessageStatus
from ledger.words import Words, beside

FLOW = "skus"
UNIT = "catalog:unlisted"  # the full sync's message when the packagings missing were held for a person
MOVED_UNIT = "catalog:unlisted:moved"  # ... the skus pass's (`moved`), apart: neither rewrites the other
UNITS = (UNIT, MOVED_UNIT)  # a person's Retry of either runs the full sync confirmed (catalog_flow.replay)
MOVED_CODE = "MOVED_PACKAGINGS_HELD"
SETTLED_KEY = "moved_hold_settled"  # the words of the skus pass's message a full sync closed
HELD_SETTLED_KEY = "unlisted_hold_settled"  # ... of the full sync's own held message it closed
FULL_READ, MEANWHILE = "the full read", "the read of the changes made meanwhile"  # `untold`'s reads
WHERE_WORDS: dict[str, Words] = {  # ... in the merchant's words
    FULL_READ: ("untold_full_read", {}),
    MEANWHILE: ("untold_read_meanwhile", {}),
}


@dataclass
class Sweep:
    """What to retire now (idSkus per product), and the message to write with the load's plan."""

    gone: dict[int, list[str]] = field(default_factory=dict)
    record: Callable[[Any], None] = lambda session: None
    held: list[str] = field(default_factory=list)  # the idSkus held for a person instead
    why: str | None = None  # why they were held
    words: Words | None = None  # `why` in the merchant's words (ledger.words)


def sweep(
    shop_id: int,
    erp_client: ErpClient,
    read: ChangeRead,
    missing: Mapping[int, list[str]],
    entries: Mapping[int, CachedProduct],
    *,
    confirmed: Collection[str],
) -> Sweep:
    """After a full SKU read (`read`, consumed) whose cached packagings `missing` (catalog_cache.missing)
    it did not list: those to retire. `entries`: the products as the reads left them (the share is
    of their packagings). `confirmed`: the idSkus a person confirmed (the held message's Retry:
    absence.confirmed_by), retired if still missing whatever the read's doubt or their count; the
    others follow the rule. The message's write (`record`) goes into the load's own transaction
    (catalog_initial.LedgerWriter), with the plan."""
    if not missing:
        return Sweep(record=_close(shop_id, 0, 0, ()))
    meanwhile = erp_client.skus(read.snapshot)  # rows that left the full read's window
    meanwhile.keep_malformed = True  # (its unreadable records are the next pass's to tell)
    listed = {record.id_sku for record in meanwhile}
    unread = catalog_malformed.unread_products(meanwhile, erp_client.names)
    if None in unread:
        return untold(shop_id, confirmed, MEANWHILE)
    gone = {
        seq: left
        for seq, ids in missing.items()
        if seq not in unread
        if (left := [i for i in ids if i not in listed])
    }
    known = sum(1 for entry in entries.values() for record in entry.skus.values() if not record.get("gone"))
    doubt = absence.doubt(read, meanwhile)
    verdict = absence.decide(_in_order(gone), known, doubt, confirmed, known_as="packagings in the catalog",
                             rather="packagings the ERP no longer has")  # fmt: skip
    now = _by_product(gone, verdict.now)
    if verdict.why is None:
        return Sweep(now, _close(shop_id, len(verdict.now), verdict.confirmed, verdict.now))
    held = _by_product(gone, verdict.held)
    off = [seq for seq in _left_without_any(gone, entries) if seq in held]
    hold = _hold(shop_id, held, off, known, doubt, verdict.why, verdict.confirmed)

    def record(session: Any) -> None:
        hold(session)
        _settle_moved(session, shop_id, verdict.now, verdict.held)

    return Sweep(now, record=record, held=verdict.held, why=verdict.why, words=_held_why(held, known, doubt))


def untold(shop_id: int, confirmed: Collection[str], where: str = FULL_READ) -> Sweep:
    """Nothing retired: an unreadable SKU record of `where` (a WHERE_WORDS read) names no product,
    so any packaging may be that one. On a person's Retry (`confirmed`) its held message says so
    (absence.untold), in words beside the English (fail_words: the page says it in its language)."""
    if not confirmed:
        return Sweep()

    def text(skus: list[str]) -> str:
        return (f"The Retry read the catalog (ProdutoSku) whole again, but a SKU record of {where} could "
                f"not be read and names no product (its own message says which): any packaging may be "
                f"that one, so none was retired this time of the {len(skus)} packaging(s) this message "
                f"names ({absence.named(skus)}); they stay as they were. Once the ERP serves that record "
                f"right, Retry again: a new full read retires those it still does not list.")  # fmt: skip

    def words(skus: list[str]) -> Words:
        return ("unlisted_untold", {"where": WHERE_WORDS[where], "count": len(skus),
                                    "named": skus[: absence.SHOWN], "more": _more(len(skus))})  # fmt: skip

    def record(session: Any) -> None:
        for unit in UNITS:  # (the Retry was one of them: both still hold what they named)
            absence.untold(session, shop_id, FLOW, unit, text, where, words)

    return Sweep(record=record)


def _left_without_any(gone: Mapping[int, list[str]], entries: Mapping[int, CachedProduct]) -> list[int]:
    """The products that retiring `gone` would leave without an active packaging (off sale)."""
    off: list[int] = []
    for seq, ids in gone.items():
        entry = entries.get(seq)
        active = [
            i for i, r in (entry.skus.items() if entry else ()) if r.get("active") and not r.get("gone")
        ]
        if active and set(active) <= set(ids):
            off.append(seq)
    return sorted(off)


def _in_order(gone: Mapping[int, list[str]]) -> list[str]:
    """The idSkus by product, then by id."""
    return [i for seq in sorted(gone) for i in sorted(gone[seq])]


def _by_product(gone: Mapping[int, list[str]], skus: Collection[str]) -> dict[int, list[str]]:
    """Those of `gone` (idSkus per product) that are in `skus`."""
    chosen = set(skus)
    return {seq: kept for seq, ids in gone.items() if (kept := [i for i in ids if i in chosen])}


def _close(shop_id: int, count: int, confirmed: int, retired: Collection[str]) -> Callable[[Any], None]:
    """The held message done: `count` packagings retired (`retired`), `confirmed` of them named by
    it (`_settle_held`); and the skus pass's, its packagings decided (`_settle_moved`)."""

    def record(session: Any) -> None:
        _settle_held(session, shop_id, count, confirmed, retired)
        _settle_moved(session, shop_id, retired, ())

    return record


def _named(message: Message) -> list[str]:
    """The idSkus a held message's detail names."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    return [str(i) for i in detail.get("skus") or ()]


def _settle_held(session: Any, shop_id: int, count: int, confirmed: int, retired: Collection[str]) -> None:
    """A full sync held nothing (the ERP listed the packagings again, or few enough were missing,
    or a person's Retry confirmed them): the full sync's held message (`UNIT`) done, saying of the
    packagings it named how many were retired and how many left as they were, and how many the
    sync retired in all (`count`; `confirmed`: those the Retry confirmed), in the merchant's words
    beside the English (catalog_hold_words)."""
    retired = set(retired)
    for message in trace.unit_messages(session, shop_id, FLOW, [UNIT],
                                       Message.status != MessageStatus.DONE.value,
                                       ~trace.closed_as_handled()):  # fmt: skip
        named = _named(message)
        counts = {"count": len(named), "retired": sum(1 for i in named if i in retired), "unlisted": count}
        counts["kept"] = counts["count"] - counts["retired"]
        note = (f"A full sync read the catalog whole and holds no packaging for a person any more. Of the "
                f"{counts['count']} packaging(s) this message named: {counts['retired']} retired, "
                f"{counts['kept']} left as they were (its read listed them again, or did not prove them "
                f"gone). It retired {count} packaging(s) in all.")  # fmt: skip
        response = {"confirmed": confirmed, **counts, **beside("note", note, (HELD_SETTLED_KEY, counts))}
        trace.succeed(session, message, response=response)


def _settle_moved(session: Any, shop_id: int, retired: Collection[str], held: Collection[str]) -> None:
    """A full sync decided every packaging again: the skus pass's held message (`MOVED_UNIT`) done,
    saying of the packagings it named how many the full sync retired, how many it held again (its
    own message, `UNIT`, names those) and how many it left as they were (its read, or the re-check
    of the changes made meanwhile, listed them). Its Retry then confirms nothing (absence.confirmed_by)."""
    retired, held = set(retired), set(held)
    for message in trace.unit_messages(session, shop_id, FLOW, [MOVED_UNIT],
                                       Message.status != MessageStatus.DONE.value,
                                       ~trace.closed_as_handled()):  # fmt: skip
        named = _named(message)
        counts = {
            "count": len(named),
            "retired": sum(1 for i in named if i in retired),
            "held": sum(1 for i in named if i in held),
        }
        counts["kept"] = counts["count"] - counts["retired"] - counts["held"]
        note = (f"A full sync read the catalog whole and decided the {counts['count']} packaging(s) this "
                f"message named: {counts['retired']} retired, {counts['held']} held again for a person (the "
                f"full sync's own message names them), {counts['kept']} left as they were (its read "
                f"listed them, or did not prove them gone).")  # fmt: skip
        trace.succeed(session, message, response={**counts, **beside("note", note, (SETTLED_KEY, counts))})


def moved(
    shop_id: int, gone: Mapping[int, list[str]], entries: Mapping[int, CachedProduct], known: int
) -> Sweep:
    """The skus pass's packagings of changed products that its read no longer listed (`gone`, their
    absence checked: catalog_flow._retire_moved): retired, unless they are more than
    absence.HELD_MIN and absence.HELD_SHARE of the `known` packagings of the catalog. An ERP serving,
    in one window, many changed products with some of their packagings only (a wrong store pair, a
    glitch) looks the same as those products moved to smaller families, and would have taken them
    off sale at once: then none is retired and one failed message (`MOVED_UNIT`, code
    MOVED_PACKAGINGS_HELD) asks a person. Its Retry runs the full sync `confirmed` for what it names,
    as the full sync's own held message (catalog_flow.replay). Its own unit, so it never rewrites
    a full sync's held message; one it still has failed keeps naming what it held (`_moved_record`:
    the union). A full sync decides them all again and closes it (`_settle_moved`)."""
    verdict = absence.decide(_in_order(gone), known, None, (), known_as="packagings in the catalog",
                             rather="packagings the ERP no longer has")  # fmt: skip
    if verdict.why is None:
        return Sweep(dict(gone))
    held = _by_product(gone, verdict.held)
    off = _left_without_any(held, entries)
    skus = _in_order(held)
    record = _moved_record(shop_id, held, off, known, verdict.why)
    return Sweep(record=record, held=skus, why=verdict.why, words=_held_why(held, known, None))


def _moved_record(
    shop_id: int, held: Mapping[int, list[str]], off: list[int], known: int, why: str
) -> Callable[[Any], None]:
    """The write of the skus pass's held message naming `held`, and what the one it has failed
    still holds (its detail's "by_product"): a later pass's hold adds to it, never drops it."""

    def record(session: Any) -> None:
        before = _moved_held(session, shop_id)
        earlier = {int(seq): [str(i) for i in ids] for seq, ids in (before.get("by_product") or {}).items()}
        union = {seq: sorted({*earlier.get(seq, ()), *held.get(seq, ())}) for seq in {*earlier, *held}}
        was = {i for ids in earlier.values() for i in ids} - {i for ids in held.values() for i in ids}
        leaving = sorted({*off, *(int(s) for s in before.get("products_off_sale") or ())})
        skus = _in_order(union)
        text = (f"The skus pass's read of the catalog changes (ProdutoSku) no longer listed {len(skus)} "
                f"packaging(s) of {len(union)} product(s) changed in the ERP ({absence.named(_shown(union))}"
                f"); none was retired, they stay as they were: {why}. Retired, each would be kept as an "
                f"inactive variant, off sale, its stock zeroed{_leaving(leaving)}. Check in the ERP that "
                f"these products' packagings still exist (their family, MAP_FAMEMBALAGEM) and that "
                f"ProdutoSku serves them for the store's company and segment. If they are indeed gone, "
                f"Retry: a full read of the catalog retires those of them it still does not "
                f"list.")  # fmt: skip
        if was:
            text = f"{text} {len(was)} of them were held by an earlier pass, still held and named here."
        earlier = ("moved_held_earlier", {"count": len(was)}) if was else None
        words = ("moved_held", {"count": len(skus), "products": len(union), **_shown_words(union),
                                "why": _held_why(held, known, None), "leaving": _leaving_words(leaving),
                                "earlier": earlier})  # fmt: skip
        _record(shop_id, MOVED_UNIT, MOVED_CODE, text, union, leaving, known, None, words,
                by_product={str(seq): ids for seq, ids in sorted(union.items())[:1000]})(session)  # fmt: skip

    return record


def _moved_held(session: Any, shop_id: int) -> dict[str, Any]:
    """The detail of the skus pass's held message while it holds (failed), else {}."""
    for message in trace.unit_messages(session, shop_id, FLOW, [MOVED_UNIT],
                                       Message.status == MessageStatus.FAILED.value):  # fmt: skip
        if isinstance(message.error_detail, dict):
            return message.error_detail
    return {}


def _shown(gone: Mapping[int, list[str]]) -> list[str]:
    """Each idSku of `gone` (idSkus per product) with its product, in order."""
    product_of = {i: seq for seq, ids in gone.items() for i in ids}
    return [f"{i} of product {product_of[i]}" for i in _in_order(gone)]


def _held_why(held: Mapping[int, list[str]], known: int, doubt: str | None) -> Words:
    """Why `held` (idSkus per product) were held, in the merchant's words (absence.held_words)."""
    return absence.held_words(len(_in_order(held)), known, doubt, known_as="packagings")


def _shown_words(gone: Mapping[int, list[str]]) -> dict[str, Any]:
    """`_shown` as absence.named says it, in words: the params "named" (the first absence.SHOWN
    idSkus, each with its product) and "more" (how many others)."""
    product_of = {i: seq for seq, ids in gone.items() for i in ids}
    skus = _in_order(gone)
    named = [("held_sku_of_product", {"sku": i, "product": product_of[i]}) for i in skus[: absence.SHOWN]]
    return {"named": named, "more": _more(len(skus))}


def _more(count: int) -> Words | None:
    """The " and N more" after the first absence.SHOWN of `count` named, in words (None: no more)."""
    more = count - absence.SHOWN
    return ("held_more", {"count": more}) if more > 0 else None


def _leaving_words(off: list[int]) -> Words | None:
    """`_leaving` in words (None: no product would leave the sale)."""
    if not off:
        return None
    named = [str(seq) for seq in off[: absence.SHOWN]]
    return ("held_leaving", {"count": len(off), "named": named, "more": _more(len(off))})


def _leaving(off: list[int]) -> str:
    """The products that would leave the sale, said after "its stock zeroed"."""
    if not off:
        return ""
    shown = absence.named([str(s) for s in off])
    return f"; {len(off)} product(s) would leave the sale, no active packaging left: {shown}"


def _hold(
    shop_id: int,
    gone: Mapping[int, list[str]],
    off: list[int],
    known: int,
    doubt: str | None,
    why: str,
    retired: int = 0,
) -> Callable[[Any], None]:
    """One failed message: the packagings missing stay as they were, for a person (`retired`: how
    many others the Retry of its earlier text retired, those that message named)."""
    skus = _in_order(gone)
    text = (f"The full read of the catalog (ProdutoSku) did not list {len(skus)} packaging(s) the store "
            f"has ({absence.named(_shown(gone))}); none was retired, they stay as they were: {why}. Retired, "
            f"each would be kept as an inactive variant, off sale, its stock zeroed{_leaving(off)}. Check in "
            f"the ERP that these packagings still exist (the product's family, MAP_FAMEMBALAGEM) and that "
            f"ProdutoSku is served whole (its paging). If they are indeed gone, Retry: a new full read "
            f"retires those it still does not list.")  # fmt: skip
    if retired:
        text = (f"{text} Besides, the {retired} packaging(s) confirmed by the Retry were retired; those "
                f"above were not named then.")  # fmt: skip
    besides = ("unlisted_held_retired", {"count": retired}) if retired else None
    words = ("unlisted_held", {"count": len(skus), **_shown_words(gone), "why": _held_why(gone, known, doubt),
                               "leaving": _leaving_words(off), "retired": besides})  # fmt: skip
    return _record(shop_id, UNIT, "UNLISTED_PACKAGINGS_HELD", text, gone, off, known, doubt, words)


def _record(
    shop_id: int,
    unit: str,
    code: str,
    text: str,
    gone: Mapping[int, list[str]],
    off: list[int],
    known: int,
    doubt: str | None,
    words: Words,
    **more: Any,
) -> Callable[[Any], None]:
    """The write of a held message (`unit`: `UNIT` or `MOVED_UNIT`) naming `gone` (idSkus per
    product), `text` in `words`; `more`: further detail."""
    skus = _in_order(gone)
    products = sorted(gone)
    detail = {"products": products[:1000], "products_off_sale": off[:1000], "known": known, "doubt": doubt,
              **more}  # fmt: skip
    search = [*skus[: absence.SHOWN], *products[: absence.SHOWN]]

    def record(session: Any) -> None:
        absence.hold(session, shop_id, FLOW, unit, text, code=code, items=skus, search=search,
                     request={"products": len(products)}, detail=detail, words=words)  # fmt: skip

    return record
