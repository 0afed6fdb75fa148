"""The custom id (metafield consinco.seq_produto) on every product the app sends, whatever productSet
does when it creates one.

Why: products are upserted with productSet(identifier: {customId: ...}) and an input that carries
no metafields on purpose (productSet replaces list fields whole: `metafields` would delete the
merchant's others). When no product matches the custom id, Shopify's docs say productSet "will
attempt to create a new record with the provided inputs"; they do not promise the custom id is
set on it. A product created without it is found by no later productSet: the next send of it
(a lost ledger binding, or simply its next change) would create a second product.

So productSet's answer reads the product's custom id (ProductSet.graphql: the direct call and the
bulk lines alike; one metafield field, next to nothing of the query's cost), and the products
whose answer lacks it get it with metafieldsSet, 25 a call (atomic), before their bindings are
recorded as final (`missing`, `set_ids`). Shopify setting it itself, as it does today (and the
sandbox by default), costs no call at all.

A metafieldsSet that fails leaves its products bound to their Shopify product (the id is known)
with no digest and `MISSING` in the binding's data, and their messages say why: retrying (a
re-plan is requested, "catalog_recheck", so the next products pass takes them up again) or
refused (their Retry does). A product so bound gets its custom id first, by its bound id, and is
sent only once that worked (catalog_load.sync, before anything is sent: `Planned.unmarked`): never
a productSet that would create a second product.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from jobs.catalog_map import CUSTOM_ID_KEY, CUSTOM_ID_NAMESPACE, MappedProduct
from ledger import bindings
from ledger.bindings import CATALOG_RECHECK_KIND, BindingRow
from ledger.errors import IntegrationError, Rejected, Transient, classify
from ledger.models import ErrorClass
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.catalog_ops import MAX_METAFIELDS_PER_CALL
from shopify_app.admin_api.results import ProductRef

log = logging.getLogger(__name__)

MISSING = "custom_id_missing"  # product binding data: Shopify's product lacks its custom id


def missing(outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]]) -> dict[int, str]:
    """{seqProduto: Product gid} of the products whose productSet answer shows no custom id."""
    return {m.seq_produto: p.id for m, p, _ in outcomes if p.custom_id != str(m.seq_produto)}


def set_ids(client: AdminClient, products: Mapping[int, str]) -> dict[int, IntegrationError]:
    """Set the custom id on these products ({seqProduto: Product gid}) with metafieldsSet, 25 a call;
    {seqProduto: why} of those not set (a transient failure stops the calls: the rest wait too)."""
    items = list(products.items())
    failures: dict[int, IntegrationError] = {}
    for start in range(0, len(items), MAX_METAFIELDS_PER_CALL):
        chunk = items[start : start + MAX_METAFIELDS_PER_CALL]
        inputs = [
            {
                "ownerId": pid,
                "namespace": CUSTOM_ID_NAMESPACE,
                "key": CUSTOM_ID_KEY,
                "type": "id",
                "value": str(seq),
            }
            for seq, pid in chunk
        ]
        try:
            client.metafields_set(inputs)
        except Exception as exc:  # these products only (atomic call); their messages say why
            failures.update((seq, _explained(seq, pid, exc)) for seq, pid in chunk)
            if classify(exc) is ErrorClass.TRANSIENT:
                failures.update((seq, _explained(seq, pid, exc)) for seq, pid in items[start + len(chunk) :])
                break
    if products:
        log.info("catalog: custom id set on %s products productSet created without it (%s not set)",
                 len(products) - len(failures), len(failures))  # fmt: skip
    return failures


def ask_replan(session: Session, shop_id: int, failures: Mapping[int, IntegrationError]) -> None:
    """A re-plan by the next products pass for the products whose custom id failed for a transient
    reason (their digest is gone, but the ERP may not change them again)."""
    rows = [
        BindingRow(str(seq), None, None, {}) for seq, exc in failures.items() if isinstance(exc, Transient)
    ]
    bindings.upsert_many(session, shop_id, CATALOG_RECHECK_KIND, rows)


def _explained(seq: int, product_id: str, exc: BaseException) -> IntegrationError:
    words = exc.message if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    text = (
        f"product {seq} is in Shopify ({product_id}) without its ERP id (metafield "
        f"{CUSTOM_ID_NAMESPACE}.{CUSTOM_ID_KEY}), and setting it failed: {words}. The app sends this "
        "product again only once the id is set, so that no second product is created"
    )
    detail = {"seq_produto": seq, "product_id": product_id}
    if classify(exc) is ErrorClass.TRANSIENT:
        return Transient(f"{text}; the next products pass tries again.", system="shopify",
                         code="CUSTOM_ID_RETRYING", **detail)  # fmt: skip
    return Rejected(f"{text}; fix the cause Shopify gives, then retry this message.", system="shopify",
                    code="CUSTOM_ID_FAILED", detail=detail)  # fmt: skip
