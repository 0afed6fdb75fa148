"""Shopify's daily limit on new variants: the products that would create one wait, the rest go.

Shopify (API limits, resource-based): once a store holds 50,000 product variants, a store not on
Shopify Plus may create at most 1,000 new variants a day. A supermarket of that size on a smaller
plan meets it on its first load, or on a day the ERP adds many products. Shopify then answers a
productSet that would create a variant with a top-level error VARIANT_THROTTLE_EXCEEDED ("Daily
variant creation limit reached. Please try again later.": shopify_app.admin_api.errors
.VariantThrottled; in a bulk operation, that line's errors). It is neither the product's fault
nor a passing failure worth RQ's retries minutes apart: it lasts until the day's allowance frees.

So (jobs.catalog_load): the product refused, and from then on every product whose input creates a
variant (a new product, or a new packaging of one: an input variant with no id, `creates_variants`)
is not sent while the shop's hold lasts (HOLD after the last refusal; the shop's record in
ledger.variant_quota, `held_until`); products that only change existing variants (prices, titles, status,
stock policy) go on as usual. Each one held has its message retrying with the reason
(`waiting_error`: VARIANT_QUOTA, the time of the next try) and a re-plan request
(catalog_recheck), so the next products pass after the hold sends it again without the ERP
changing it; the watermark moves as usual. One refused call an hour costs a few points, and
Shopify takes what its day allows. A pass that creates variants with none refused ends the hold
(`release`). A person's Retry of such a message sends the product at once, hold or not.

Left alone: a bound product with a new packaging waits whole (its other changes too) while the
hold lasts; a product bound before the app kept variant ids (none in its input) counts as creating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import catalog_ledger as cl
from jobs.catalog_map import MappedProduct
from ledger import bindings
from ledger.bindings import CATALOG_RECHECK_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message
from ledger.variant_quota import CODE, held_until, hold, release, waiting_clauses


def creates_variants(mapped: MappedProduct) -> bool:
    """Whether sending this product would make Shopify create a variant: an input variant that
    names none (a new product's every one, a new packaging's)."""
    return any("id" not in variant for variant in mapped.input.get("variants") or ())


def waiting_error(until: datetime) -> Transient:
    """What a held product's message says (retrying, VARIANT_QUOTA)."""
    at = until.strftime("%Y-%m-%d %H:%M UTC")
    return Transient(
        "Shopify refused to create this product's new variants today: the store holds 50,000 variants or "
        "more and, not on Shopify Plus, may create at most 1,000 new ones a day "
        f"(VARIANT_THROTTLE_EXCEEDED). Nothing is lost: the app sends it again by itself after {at}, "
        "and every hour after that until Shopify takes it",
        system="shopify",
        code=CODE,
        until=until.isoformat(),
    ).worded("shopify_variant_quota", until=at)


@dataclass
class Quota:
    """One pass's view of the hold: `until` (None: none in force), whether Shopify refused a
    creation during the pass, how many products that created variants it sent."""

    shop_id: int
    until: datetime | None = None
    refused: bool = False
    created: int = 0

    @classmethod
    def read(cls, shop_id: int, *, ignore: bool = False) -> Quota:
        """The shop's hold now (`ignore`: a person's Retry, sent whatever the hold)."""
        if ignore:
            return cls(shop_id)
        with session_scope() as session:
            return cls(shop_id, held_until(session, shop_id))

    def holds(self, mapped: MappedProduct) -> bool:
        return self.until is not None and creates_variants(mapped)

    def refuse(self) -> datetime:
        """Shopify refused a creation: the hold starts (or is pushed on) now, in its own commit."""
        with session_scope() as session:
            self.until = hold(session, self.shop_id)
        self.refused = True
        return self.until

    def sent(self, products: Sequence[MappedProduct]) -> None:
        self.created += sum(1 for m in products if creates_variants(m))

    def settle(self) -> None:
        """At the pass's end: variants created and none refused end the shop's hold."""
        if self.created and not self.refused and self.until is None:
            with session_scope() as session:
                release(session, self.shop_id)


def defer(
    session: Session,
    ctx: cl.CatalogContext,
    flow: str,
    products: Sequence[MappedProduct],
    until: datetime,
    ids: Mapping[int, int] | None = None,
    job_id: str | None = None,
) -> None:
    """These products wait for the hold's end: their messages retrying with the reason, a re-plan
    asked for each. `ids`: their messages already begun (a message per product sent); else the
    ones already waiting so are found (not begun again: no attempt is counted for a product not
    sent; written again only when the hold's end moved) and the others begun."""
    if not products:
        return
    known = {seq: ids[seq] for seq in (m.seq_produto for m in products) if ids and seq in ids}
    rest = [m for m in products if m.seq_produto not in known]
    if rest:
        waiting = _waiting_messages(session, ctx.shop_id, flow, [m.seq_produto for m in rest])
        known.update(
            {seq: message_id for seq, (message_id, said) in waiting.items() if said != until.isoformat()}
        )
        begun = cl.begin_many(session, ctx, flow, [m for m in rest if m.seq_produto not in waiting], job_id)
        known.update(begun)
    if known:
        cl.fail_many(session, list(known.values()), waiting_error(until))
    rows = [BindingRow(str(m.seq_produto), None, None, {}) for m in products]
    bindings.upsert_many(session, ctx.shop_id, CATALOG_RECHECK_KIND, rows)


def _waiting_messages(
    session: Session, shop_id: int, flow: str, seqs: Sequence[int]
) -> dict[int, tuple[int, str | None]]:
    """{seqProduto: (message id, the hold's end it says)} of these products' messages already
    waiting for the hold."""
    keys = {cl.unit_key(seq): seq for seq in seqs}
    found: dict[int, tuple[int, str | None]] = {}
    listed = list(keys)
    for start in range(0, len(listed), bindings.READ_CHUNK):
        rows = session.execute(
            select(Message.unit_key, Message.id, Message.error_detail["until"].as_string()).where(
                Message.shop_id == shop_id,
                Message.flow == flow,
                Message.unit_key.in_(listed[start : start + bindings.READ_CHUNK]),
                *waiting_clauses(),
            )
        )
        found.update({keys[key]: (message_id, said) for key, message_id, said in rows})
    return found
