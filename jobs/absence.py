"""When absence from a whole ERP read may take things off the storefront, and when a person decides.

Two passes read something whole and act on what it does not list: the prices flow's read from the
beginning takes off sale the SKUs the store's pair has no price record for (jobs.price_unlisted),
and the catalog's full sync retires the packagings ProdutoSku no longer lists (jobs.catalog_unlisted).
Absence from one read is no proof, and both apply the same rule before acting on it:
- a row changed while the read ran left its window (docs/consinco-api.md, "Why paging is stable":
  it comes in the next incremental read, not this one): each flow checks what is missing against a
  read of the changes since the whole read's snapshot, made right after it (its own read: the
  resources differ), and leaves alone what that read lists;
- a read the client cannot prove whole (`ChangeRead.unsure`: pages asked by number unchecked, an
  end no envelope attested), or things missing that are many and a large share of those known
  (`HELD_MIN`, `HELD_SHARE`), take nothing off: one failed message (`hold`, with the flow's own
  code, so the Messages page explains each) names how many, some of them and what to check; they
  stay as they were meanwhile. It is retried only by its
  own Retry (trace.RETRY_ALONE: a person's confirmation, never part of "Retry failed"), which reads
  whole again and acts on what is still missing (mid-read changes still checked).
Why not wait for a second whole read instead: one comes only when someone asks for it (a setup
move, `catalog sync --full`), so what the ERP truly dropped would stay on sale indefinitely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ledger import trace
from ledger.errors import Rejected
from ledger.flows import ERP_TO_SHOPIFY

# More missing than both of these and nothing is taken off. 20%: a store link moved to another
# segment of the same company lists about the same assortment (a segment-only product here and
# there), and a catalog loses a few packagings at a time (a family changed); a fifth missing is a
# read that stopped, or a pair the store does not sell in. 50: a small catalog's few items no
# longer sold still go by themselves.
HELD_MIN = 50
HELD_SHARE = Decimal("0.2")
SHOWN = 20  # items named in the message's text (all of them, up to 1,000, in its detail)


def held_why(
    missing: int, known: int, doubt: str | None, *, confirmed: bool, known_as: str, rather: str
) -> str | None:
    """Why `missing` items of the `known` ones (`known_as`: "SKUs priced") are held for a person
    rather than taken off, or None: take them off. `doubt`: the reads' `unsure`; `confirmed`: a
    person asked for it (the held message's Retry); `rather`: what they would be if truly gone."""
    if not missing or confirmed:
        return None
    if doubt:
        return f"the ERP's answer does not prove the read whole ({doubt})"
    if missing > HELD_MIN and missing > HELD_SHARE * known:
        return (f"that is {missing * 100 // max(known, 1)}% of the {known} {known_as}: more likely a read "
                f"or setup problem than {rather}")  # fmt: skip
    return None


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
) -> None:
    """The one failed message of a pass whose missing `items` (its detail's "skus") were held."""
    message = trace.begin(session, shop_id, flow, unit, ERP_TO_SHOPIFY, search=search, request=request)
    # RETRY_ALONE: its Retry is a person's confirmation, never part of a flow's "Retry failed"
    full = {"skus": list(items[:1000]), "count": len(items), **detail, trace.RETRY_ALONE: True}
    trace.fail(session, message, Rejected(text, system="consinco", code=code, detail=full))
