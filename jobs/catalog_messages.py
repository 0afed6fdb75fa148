"""A product's open messages in either catalog flow, closed once Shopify has it as the ERP has it.

Why: messages are kept per flow (unit `product:<seq>` in `products` and in `skus`) and a pass
closes only its own, but both flows send the same product (ProdutoSku's change time includes the
product's). Left alone, one flow's message stays open for a product the other flow sent: the
products pass meets a 5xx on product 10 (retrying), the skus pass sends product 10, and the
products pass's retry plans it unchanged and touches no message: "retrying" for ever. Likewise
the products after it in that direct batch (left pending), and a dead bulk pass's pending ones.
So (`close_settled`):
- a product sent (catalog_ledger.record_sent) closes its open message of the other flow;
- a product planned unchanged (Shopify already has its digest) closes its open message of
  either flow.
Pending and retrying messages are closed whatever they carried (their pass would find the
product unchanged now); a failed or parked one only when it carried the digest Shopify now has (a
refusal of another version stays for the merchant to read). A message failed for a weighed
packaging held out of the sale (`HELD_CODE`, jobs.catalog_map.not_kg) is the app's own and about
the product, not a version: it closes whatever it carried, unless the product still holds one
(`held`: then it stays failed, saying so, though Shopify has the rest of the product). A message
saying a publish failed is jobs.catalog_publish's (the product is in Shopify, its publish is not),
and one closed as handled is skipped: neither is touched.

Cheap: one SELECT of the candidates per call (the shop's open catalog messages whole when the
products are many, as catalog_publish does), one UPDATE per 1,000 messages closed, none when
nothing is open (the usual case).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import trace_bulk
from ledger.handled import CATALOG_FLOWS, PUBLISH_CODES
from ledger.models import Message, MessageStatus

CHUNK = 1000  # keys (or ids) per IN (...) list
ANY_DIGEST = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
SAME_DIGEST = (MessageStatus.FAILED.value, MessageStatus.PARKED.value)
UNCHANGED_NOTE = (
    "Shopify already has this product as the ERP has it (a later catalog pass found nothing left to "
    "send), so nothing more is needed for this message."
)


HELD_CODE = "WEIGHED_PACKAGING_NOT_KG"  # jobs.catalog_ledger.held_error


def held_note(flow: str) -> str:
    return (
        f"The {flow} flow has since planned this product again and holds the same packagings out of the "
        "sale: its own message for this product says which and why."
    )


def sent_note(flow: str) -> str:
    return (
        f"The {flow} flow has since sent this product to Shopify as the ERP has it, so nothing more "
        "is needed for this message."
    )


def other_flows(flow: str) -> tuple[str, ...]:
    return tuple(f for f in CATALOG_FLOWS if f != flow)


def close_settled(
    session: Session,
    shop_id: int,
    digests: Mapping[int, str],
    *,
    flows: Sequence[str] = CATALOG_FLOWS,
    note: str = UNCHANGED_NOTE,
    held: Collection[int] = (),
) -> int:
    """Mark done the open messages of `flows` for these products ({seqProduto: the digest
    Shopify has now}), under the rules above; returns how many. `held`: those of them that still
    hold a weighed packaging out of the sale (their HELD_CODE message stays)."""
    if not digests or not flows:
        return 0
    keys = {f"product:{seq}": seq for seq in digests}
    query = select(
        Message.id,
        Message.unit_key,
        Message.status,
        Message.request_payload["digest"].as_string(),
        Message.error_detail["code"].as_string(),
    ).where(
        Message.shop_id == shop_id,
        Message.flow.in_(list(flows)),
        Message.status.in_(ANY_DIGEST + SAME_DIGEST),
    )
    if len(keys) <= CHUNK:  # else the shop's few open ones, filtered here (an initial load's thousands)
        query = query.where(Message.unit_key.in_(list(keys)))
    closing = [
        message_id
        for message_id, key, status, digest, code in session.execute(query)
        if key in keys
        and code not in PUBLISH_CODES
        and (
            keys[key] not in held
            if code == HELD_CODE
            else status in ANY_DIGEST or digest == digests[keys[key]]
        )
    ]
    trace_bulk.succeed_many(session, [(message_id, {"note": note}) for message_id in closing])
    return len(closing)
