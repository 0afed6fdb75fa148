"""Publishing the products the app creates to the shop's sales channels, once.

Why: on Shopify a product productSet creates is on no sales channel (Online Store, POS, Shop...),
whatever its status: ACTIVE only means "sellable where published". Without this step a new
product never shows on the storefront. Shopify's way is publishablePublish with the channels'
publication ids (scope write_publications); for thousands of products, one bulk operation of it.

Which publications: the shop setting `publish_to` (publication ids), or by default the Online
Store's: the APP publication whose catalog title is "Online Store" (the channel's own name, which
Shopify does not translate). A shop without an Online Store gets nothing published and each new
product's message says so. `publish_to: []` publishes nowhere (the merchant does it by hand).

Only once: record_sent (jobs/catalog_ledger.py) marks a product it created `publish_pending`; the
flag goes when the publish succeeds. A product created earlier is never published again, so a
merchant who takes it off a channel keeps it off. A failed publish keeps the flag and fails the
product's message (code PUBLISH_FAILED, with Shopify's words): the product itself is in Shopify
and bound; a replay of the message sends it again and publishes it then.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from jobs import catalog_ledger as cl
from ledger import bindings
from ledger.bindings import PRODUCT_KIND, BindingRow
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.catalog_ops import ONLINE_STORE, online_store
from shopify_app.admin_api.errors import ShopifyGraphQLError, ShopifyUserErrors

log = logging.getLogger(__name__)


def publication_ids(ctx: cl.CatalogContext, client: AdminClient) -> list[str]:
    """Where new products go: the setting, else the Online Store's publication ([] if none)."""
    if ctx.publish_to is not None:
        return list(ctx.publish_to)
    default = online_store(client.publications())
    return [] if default is None else [default]


def publish_new(
    ctx: cl.CatalogContext,
    client: AdminClient,
    products: Mapping[int, str],
    message_ids: Mapping[int, int | None],
    *,
    bulk: bool = False,
) -> int:
    """Publish these new products ({seqProduto: Product gid}); returns how many failed.

    `bulk`: one bulk operation of publishablePublish (the initial load's thousands) instead of
    one call each."""
    if not products:
        return 0
    try:
        targets = publication_ids(ctx, client)
    except IntegrationError as exc:
        return _record(ctx, products, message_ids, {seq: exc for seq in products}, [])
    if not targets:
        if ctx.publish_to is None:  # no Online Store: said on each new product (replay retries)
            log.warning(
                "catalog: %s has no Online Store publication; new products not published", ctx.shop_domain
            )
            missing = LookupError(
                f"the shop has no {ONLINE_STORE} sales channel; add it, or choose the sales channels "
                "new products go to on the Setup page (publish_to), then replay"
            )
            return _record(ctx, products, message_ids, {seq: missing for seq in products}, [])
        return _record(ctx, products, message_ids, {}, [])  # publish_to: [] publishes nowhere
    failures: dict[int, BaseException] = {}
    if bulk:
        failures = _publish_bulk(ctx, client, products, targets)
    else:
        for seq, product_id in products.items():
            try:
                client.publish(product_id, targets)
            except Exception as exc:  # this product only; it exists and is bound either way
                failures[seq] = exc
    return _record(ctx, products, message_ids, failures, targets)


def _publish_bulk(
    ctx: cl.CatalogContext, client: AdminClient, products: Mapping[int, str], targets: Sequence[str]
) -> dict[int, BaseException]:
    seqs = list(products)
    variables = [{"id": products[s], "input": [{"publicationId": t} for t in targets]} for s in seqs]
    try:
        answer = client.bulk.run("PublishablePublish", variables, client_identifier=f"publish-{ctx.shop_id}")
    except IntegrationError as exc:
        return {seq: exc for seq in seqs}
    by_line = {line.line_number: line for line in answer.lines}
    failures: dict[int, BaseException] = {}
    for number, seq in enumerate(seqs):
        line = by_line.get(number)
        if line is None:
            failures[seq] = RuntimeError("the bulk operation has no result line for it")
        elif line.user_errors:
            failures[seq] = ShopifyUserErrors("publishablePublish", line.user_errors)
        elif not line.ok:
            failures[seq] = ShopifyGraphQLError(
                "publishablePublish", list(line.errors) or [{"message": "no answer"}]
            )
    return failures


def _record(
    ctx: cl.CatalogContext,
    products: Mapping[int, str],
    message_ids: Mapping[int, int | None],
    failures: Mapping[int, BaseException],
    targets: Sequence[str],
) -> int:
    """Clear publish_pending of the published products; fail the message of the others."""
    with session_scope() as session:
        published = [seq for seq in products if seq not in failures]
        _clear_pending(session, ctx.shop_id, published)
        for seq, exc in failures.items():
            message_id = message_ids.get(seq)
            if message_id is not None:
                cl.record_failure(session, message_id, _explained(seq, products[seq], exc, targets))
    return len(failures)


def _clear_pending(session: Session, shop_id: int, seqs: Sequence[int]) -> None:
    rows = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(s) for s in seqs])
    updated = [
        BindingRow(
            erp_id,
            row.shopify_id,
            row.digest,
            {k: v for k, v in (row.data or {}).items() if k != "publish_pending"},
        )
        for erp_id, row in rows.items()
    ]
    bindings.upsert_many(session, shop_id, PRODUCT_KIND, updated)


def _explained(seq: int, product_id: str, exc: BaseException, targets: Sequence[str]) -> Rejected:
    words = exc.message if isinstance(exc, IntegrationError) else str(exc)
    where = ", ".join(targets) or ONLINE_STORE
    return Rejected(
        f"product {seq} ({product_id}) was created in Shopify but not published to its sales "
        f"channel(s) ({where}): {words}",
        system="shopify",
        code="PUBLISH_FAILED",
        detail={"seq_produto": seq, "product_id": product_id, "publications": list(targets)},
    )
