"""products/delete: a product the app keeps, deleted in Shopify by a person (flow `products`).

The ERP owns the catalog: the product's binding still names the deleted product and its digest says
Shopify holds what was sent, so no pass would send it again until the ERP changed it, while the
prices and stock flows wrote to variants that no longer exist. A product the ERP still sells online
(its binding's status ACTIVE) is forgotten (jobs.catalog_custom_id.unbind: no Shopify id, no digest)
and re-planned by the next products pass (a catalog recheck), which creates it anew, binds its new
variants (repriced, their stock rechecked: jobs.catalog_ledger.record_sent) and publishes it. Its
message says so, with what to do to stop selling it: take it off the e-commerce in the ERP. A
product the ERP no longer sells (DRAFT or ARCHIVED) is marked deleted (catalog_custom_id.DELETED):
deleting it was a person's cleanup, and it is made again only once the ERP sells it online again
(an unrelated ERP edit, a new title or EAN, sent it by its custom id, which found no product and made
one: the cleanup undone at every edit).

The delete is also kept (a "product_deleted" binding of the product gid, a week): a pass holding
productSet's answer for that product and not yet recorded (a batch of 50, or a bulk operation of
hours) binds it after this handler ran, to a product that no longer exists with a digest saying
Shopify holds it, never sent again. `record_sent` reads these and forgets such a product as this
handler does (catalog_custom_id.forget_deleted).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from jobs import catalog_custom_id
from jobs.catalog_custom_id import DELETED_KIND
from jobs.catalog_map import ACTIVE
from jobs.inbox import Ignored, WebhookEvent, not_installed
from ledger import bindings, trace
from ledger.bindings import PRODUCT_KIND, BindingRow
from ledger.db import session_scope
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, utcnow
from shopify_app.shops import find_shop

log = logging.getLogger(__name__)

FLOW = "products"
PRODUCT_GID = "gid://shopify/Product/"


def on_delete(event: WebhookEvent) -> Ignored | None:
    """Forget a deleted product the ERP still sells online, so the next products pass creates it
    again; any other product: ignored, saying why.

    Raises ValueError on a payload without the product's id (the inbox row fails with it)."""
    raw = event.payload.get("id")
    if raw is None or not str(raw).strip().isdigit():
        raise ValueError(f"products/delete payload has no product id: {raw!r}")
    product_id = f"{PRODUCT_GID}{str(raw).strip()}"
    with session_scope() as session:
        shop = find_shop(session, event.shop_domain)
        if shop is None:
            return not_installed(event.shop_domain)
        _keep_deleted(session, shop.id, product_id)
        binding = bindings.by_shopify_id(session, shop.id, PRODUCT_KIND, product_id)
        if binding is None:
            return Ignored(
                f"ignored: {product_id} is no product the app has bound (one a products pass is sending now "
                "is made again once it is recorded, when the ERP sells it online)"
            )
        seq = int(binding.erp_id)
        status = (binding.data or {}).get("status")
        catalog_custom_id.forget_deleted(session, shop.id, [seq])
        if status != ACTIVE:
            return Ignored(
                f"ignored: product {seq} ({product_id}) is {status or 'not active'} in the ERP's catalog: "
                "made again only if the ERP sells it online again"
            )
        message = trace.begin(session, shop.id, FLOW, f"product:{seq}", ERP_TO_SHOPIFY, erp_id=str(seq),
                              shopify_id=product_id, search=[product_id, seq])  # fmt: skip
        trace.skip(
            session,
            message,
            f"product {seq} was deleted in Shopify ({product_id}) while the ERP still sells it online: the "
            "next products pass creates it again. To stop selling it, take it off the e-commerce in the ERP",
            words=("product_deleted_in_shopify", {"product": seq}),
        )
        shop_id = shop.id
    log.warning("catalog: product %s (%s) deleted in Shopify; created again by the next products pass",
                seq, product_id, extra={"shop_id": shop_id, "flow": FLOW})  # fmt: skip
    return None


DELETED_KEPT = timedelta(days=7)  # longer than any bulk operation runs (24 h) and its retries


def _keep_deleted(session: Session, shop_id: int, product_id: str) -> None:
    """Keep the delete for a pass recording this product later (module docstring); those older than
    DELETED_KEPT go."""
    now = utcnow()
    kept = [BindingRow(product_id, None, None, {"at": now.isoformat()})]
    bindings.upsert_many(session, shop_id, DELETED_KIND, kept)
    session.execute(
        delete(Binding).where(
            Binding.shop_id == shop_id, Binding.kind == DELETED_KIND, Binding.updated_at < now - DELETED_KEPT
        )
    )
