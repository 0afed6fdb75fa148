"""A product's inventoryPolicy message left failed once its change is no longer wanted: closed as
superseded.

Why: a policy message ("stock:policy:<product>", jobs.stock_writer.send_policies) is written only
when the policy a SKU's stock control asks differs from the "stock_policy" binding. Shopify refuses
CONTINUE (an item that lost stock control in the ERP): the message fails, the binding keeps DENY.
The ERP takes up stock control again: DENY is what the binding and Shopify hold, nothing is sent
under that unit, and the message stayed failed for ever, its Retry too (a replay sends a policy
again only when it differs, or CONTINUE for an item still without stock control), on the Messages
page and in the dashboard's failures, though the variants are as the ERP asks. Likewise a message
of a company whose stock control no longer decides the policy (the store link moved:
jobs.stock._Shop.policy_company): that company's passes send no policy any more.

How (under the flow's lock):
- `settle_in_place`, after the deciding company's pass sent its policies (a scheduled pass or a
  Retry): each open policy message (failed, retrying, or pending from a pass that died) of a product
  the pass sent nothing for is closed (ledger.trace.supersede: skipped, its own error kept in the
  detail, its reason in the merchant's words: shopify_app.skip_words "stock_policy_in_place") once
  every SKU it carried is in place or no longer due:
  - in place: the pass computed its target now and its "stock_policy" binding, for the variant the
    SKU has now (`current`: one replaced since is at Shopify's default DENY), is that target's policy;
  - no longer due: it has no variant any more, or its variant belongs to another product now.
  A SKU the pass did not compute (its stock row did not move) leaves the message as it is: Retry
  reads every SKU it carried.
- `settle_undecided`, at the end of a pass: each open policy message sent by a company that no
  longer decides the policy is closed saying which company does ("stock_policy_not_decided"); that
  company's pass sends what its stock control asks (its first pass after the move reads all its ERP
  rows: jobs.stock._policy_moved).
A policy still wanted is never closed here: its product is among those the pass sends, and that
send's outcome is the message's.

Cheap: one SELECT of the shop's open policy messages (usually none), one of the bindings of their
SKUs when there is one, and an UPDATE only for what is closed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.price_map import POLICY_DENY
from jobs.stock_superseded import OPEN
from ledger import bindings, trace
from ledger.bindings import STOCK_POLICY_KIND, VARIANT_KIND
from ledger.models import Binding, Message

FLOW = "stock"
UNIT_PREFIX = "stock:policy:"  # jobs.stock_writer.send_policies: + the product's numeric id


@dataclass(frozen=True)
class Wanted:
    """One SKU's policy as the deciding company's pass computed it now."""

    variant_id: str
    product_id: str
    policy: str  # DENY | CONTINUE


def current(binding: Binding | None, variant_id: str) -> str | None:
    """The inventoryPolicy the variant has, as the "stock_policy" binding knows it: what was sent
    holds for the variant it was sent to; one the catalog flow replaced since (a renamed packaging)
    is a new variant, at Shopify's default DENY."""
    if binding is not None and binding.shopify_id == variant_id:
        return binding.digest
    return POLICY_DENY


def unit_key(product_id: str) -> str:
    return UNIT_PREFIX + product_id.rsplit("/", 1)[-1]


def settle_in_place(
    session: Session, shop_id: int, company: int, wanted: Mapping[str, Wanted], sent: Collection[str]
) -> list[int]:
    """Close the open policy messages of products whose variants have the policy the stock control
    of `company` (the deciding one) asks (module docstring). `wanted`: {SKU: its policy computed by
    this pass}; `sent`: the products this pass sent a policy for (their messages are that send's).
    Returns the ids closed."""
    products = {unit_key(w.product_id): w.product_id for w in wanted.values()}
    for product_id in sent:
        products.pop(unit_key(product_id), None)
    candidates = [m for m in _open(session, shop_id) if m.unit_key in products and _carried(m)]
    if not candidates:
        return []
    skus = {sku for m in candidates for sku in _carried(m)}
    policies = bindings.get_many(session, shop_id, STOCK_POLICY_KIND, skus)
    variants = bindings.get_many(session, shop_id, VARIANT_KIND, skus)
    closed: list[int] = []
    for message in candidates:
        product_id = products[message.unit_key]
        verdicts = [
            _in_place(sku, product_id, wanted.get(sku), policies.get(sku), variants.get(sku))
            for sku in _carried(message)
        ]
        if True in verdicts and None not in verdicts:  # one in place at least, none unknown
            reason = (
                f"nothing left to do: this product's variants already are in Shopify as company {company}'s "
                "stock control in the ERP asks (inventoryPolicy); the original error is kept in the detail"
            )
            trace.supersede(session, message, reason, words=("stock_policy_in_place", {"company": company}))
            closed.append(message.id)
    return closed


def settle_undecided(session: Session, shop_id: int, deciding: int | None) -> list[int]:
    """Close the open policy messages sent by a company other than `deciding` (the store's policy
    company; None: every company decides, nothing to close). Returns the ids closed."""
    if deciding is None:
        return []
    closed: list[int] = []
    for message in _open(session, shop_id):
        sender = _sender(message)
        if sender is None or sender == deciding:
            continue
        reason = (
            f"nothing left to do: company {sender} no longer decides this product's inventoryPolicy; company "
            f"{deciding} does, and its pass sends what differs; the original error is kept in the detail"
        )
        words = ("stock_policy_not_decided", {"company": sender, "now": deciding})
        trace.supersede(session, message, reason, words=words)
        closed.append(message.id)
    return closed


def _in_place(
    sku: str, product_id: str, wanted: Wanted | None, policy: Binding | None, variant: Binding | None
) -> bool | None:
    """True: in place; False: no longer due (no variant, or one of another product); None: not known
    (not computed by this pass, or the variant does not have what is wanted)."""
    if variant is None or (variant.data or {}).get("product_id") != product_id:
        return False
    if wanted is None or wanted.product_id != product_id or wanted.variant_id != variant.shopify_id:
        return None
    return True if current(policy, wanted.variant_id) == wanted.policy else None


def _open(session: Session, shop_id: int) -> list[Message]:
    """The shop's open policy messages (usually none): read whole, matched to products here (a
    first pass computes thousands of products)."""
    return list(
        session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.status.in_(OPEN),
                Message.unit_key.like(UNIT_PREFIX + "%"),
            )
        )
    )


def _carried(message: Message) -> list[str]:
    payload = message.request_payload if isinstance(message.request_payload, dict) else {}
    return [str(sku) for sku in payload.get("skus") or []]


def _sender(message: Message) -> int | None:
    payload = message.request_payload if isinstance(message.request_payload, dict) else {}
    company = payload.get("nro_empresa")
    return int(company) if isinstance(company, int | str) and str(company).isdigit() else None
