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
  carry its levels as `tried` (noted with it) and are written compare-and-swap, those without one
  are read first (jobs/stock_writer.py).
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
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger import bindings
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, utcnow
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import IdempotencyKeyFailed, ShopifyUserErrors
from shopify_app.admin_api.stock_ops import set_available

log = logging.getLogger(__name__)

KIND = "stock_in_flight"  # erp_id "<company>:<key>", digest = the key, data = what was sent


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


def resolve(shop_id: int, client: AdminClient, company: int) -> tuple[set[str], Transient | None]:
    """Ask Shopify about every call of the company left unanswered (module docstring): the SKUs
    to leave out of this pass (calls still unanswered) and the transient failure that says so."""
    with session_scope() as session:
        rows = session.execute(
            select(Binding.digest, Binding.data).where(
                Binding.shop_id == shop_id, Binding.kind == KIND, Binding.erp_id.like(f"{company}:%")
            )
        ).all()
    held: set[str] = set()
    why: Transient | None = None
    for key, data in rows:
        data = data or {}
        try:
            set_available(client, data["quantities"], key=key, reference_document_uri=data.get("reference"))
        except (ShopifyUserErrors, IdempotencyKeyFailed) as exc:  # answered: refused, or nothing ran
            log.info("stock: unanswered write %s of company %s answered: %s", key[:12], company, exc)
        except Exception as exc:  # still running, or no answer again: nothing sent beside it
            held.update(data.get("skus") or [])
            why = why or Transient(
                f"a stock write of company {company} sent earlier is not answered yet ({exc}); its "
                "SKUs wait for it",
                skus=sorted(data.get("skus") or []),
            )
            continue
        with session_scope() as session:
            forget(session, shop_id, company, key)
    return held, why
