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

metafieldsSet is atomic: one refused element sets none of the call. The refused elements
(Shopify names each by elementIndex; `field` ["metafields", "3", ...] too) fail alone and the rest
of the call is sent again; a refusal naming no element halves the call until the refused
products stand alone (`set_ids`). So one product whose id is TAKEN by a duplicate made earlier,
or deleted in Shopify meanwhile, never holds the other 24 of its call.

A metafieldsSet that fails leaves its products bound to their Shopify product (the id is known)
with no digest and `MISSING` in the binding's data, and their messages say why: retrying (a
re-plan is requested, "catalog_recheck", so the next products pass takes them up again) or
refused (their Retry does): CUSTOM_ID_TAKEN names the product holding the id (a duplicate to
merge or delete), CUSTOM_ID_FAILED gives Shopify's words. A product deleted in Shopify before
its id was set (the refusal names its `ownerId`: the sandbox's answer, Shopify's inferred) is not
bound (CUSTOM_ID_PRODUCT_GONE); one found deleted later is unbound (`unbind`): either way it is
sent as new, by its Retry or its next change. A product so bound gets its custom id first, by its
bound id, and is sent only once that worked (catalog_load.sync, before anything is sent:
`Planned.unmarked`): never a productSet that would create a second product.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy.orm import Session

from jobs.catalog_map import CUSTOM_ID_KEY, CUSTOM_ID_NAMESPACE, MappedProduct
from ledger import bindings
from ledger.bindings import CATALOG_RECHECK_KIND, PRODUCT_KIND, BindingRow
from ledger.errors import IntegrationError, Rejected, Transient, classify
from ledger.models import ErrorClass
from shopify_app.admin_api import AdminClient
from shopify_app.admin_api.catalog_ops import MAX_METAFIELDS_PER_CALL
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
from shopify_app.admin_api.results import ProductRef

log = logging.getLogger(__name__)

MISSING = "custom_id_missing"  # product binding data: Shopify's product lacks its custom id
# product binding data: a person deleted the product in Shopify while the ERP did not sell it online:
# not sent again (an unrelated ERP edit made it anew) until the ERP sells it (jobs.catalog_deleted)
DELETED = "deleted_in_shopify"
# erp_id = a Product gid products/delete named: a pass binding a product Shopify deleted meanwhile
# (its answer in hand, not yet recorded) forgets it instead (jobs.catalog_ledger.record_sent)
DELETED_KIND = "product_deleted"
GONE_CODE = "CUSTOM_ID_PRODUCT_GONE"  # the product was deleted in Shopify: it is sent again, anew


def missing(outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]]) -> dict[int, str]:
    """{seqProduto: Product gid} of the products whose productSet answer shows no custom id."""
    return {m.seq_produto: p.id for m, p, _ in outcomes if p.custom_id != str(m.seq_produto)}


def still_there(
    outcomes: Sequence[tuple[MappedProduct, ProductRef, int | None]], failures: Mapping[int, IntegrationError]
) -> list[tuple[MappedProduct, ProductRef, int | None]]:
    """The outcomes to record: not those whose product was deleted in Shopify before its custom id
    was set (GONE_CODE): bound to nothing, they are planned as new again (their message says so)."""
    return [o for o in outcomes if not gone(failures.get(o[0].seq_produto))]


def gone(failure: IntegrationError | None) -> bool:
    return failure is not None and failure.detail.get("code") == GONE_CODE


def set_ids(client: AdminClient, products: Mapping[int, str]) -> dict[int, IntegrationError]:
    """Set the custom id on these products ({seqProduto: Product gid}) with metafieldsSet, 25 a call;
    {seqProduto: why} of those not set (a transient failure stops the calls: the rest wait too).

    metafieldsSet is atomic: a userError on one element sets none of the call. The elements
    Shopify names (elementIndex, or the index in `field`) fail alone, in their own words, and the
    rest of the call is sent again; a refusal naming no element halves the call until the refused
    products stand alone. A call refused as a whole for another reason fails its products."""
    items = list(products.items())
    failures: dict[int, IntegrationError] = {}
    done: set[int] = set()
    for start in range(0, len(items), MAX_METAFIELDS_PER_CALL):
        chunk = items[start : start + MAX_METAFIELDS_PER_CALL]
        try:
            _set_chunk(client, chunk, failures, done)
        except Exception as exc:  # transient: this call's products and all after it wait
            failures.update(
                (seq, _explained(client, seq, pid, exc))
                for seq, pid in items[start:]
                if seq not in done and seq not in failures
            )
            break
    if products:
        log.info("catalog: custom id set on %s products productSet created without it (%s not set)",
                 len(done), len(failures))  # fmt: skip
    return failures


def _set_chunk(
    client: AdminClient,
    chunk: Sequence[tuple[int, str]],
    failures: dict[int, IntegrationError],
    done: set[int],
) -> None:
    """One metafieldsSet of these products, and as many more as its refusals need (each sends
    fewer products: at most 2 x len(chunk) calls). Raises what is transient."""
    try:
        client.metafields_set([_input(seq, pid) for seq, pid in chunk])
    except ShopifyUserErrors as exc:
        refused = _refused_elements(exc, len(chunk))
        if refused:
            for index, errors in refused.items():
                seq, pid = chunk[index]
                failures[seq] = _explained(client, seq, pid, ShopifyUserErrors(exc.operation, errors,
                                           request_id=exc.request_id))  # fmt: skip
            rest = [item for index, item in enumerate(chunk) if index not in refused]
            if rest:
                _set_chunk(client, rest, failures, done)
            return
        if len(chunk) > 1:  # no element named: which one is refused is found by halves
            half = len(chunk) // 2
            _set_chunk(client, chunk[:half], failures, done)
            _set_chunk(client, chunk[half:], failures, done)
            return
        failures[chunk[0][0]] = _explained(client, *chunk[0], exc)
        return
    except Exception as exc:
        if classify(exc) is ErrorClass.TRANSIENT:
            raise
        failures.update((seq, _explained(client, seq, pid, exc)) for seq, pid in chunk)
        return
    done.update(seq for seq, _ in chunk)


def _input(seq: int, product_id: str) -> dict[str, str]:
    return {
        "ownerId": product_id,
        "namespace": CUSTOM_ID_NAMESPACE,
        "key": CUSTOM_ID_KEY,
        "type": "id",
        "value": str(seq),
    }


def _refused_elements(exc: ShopifyUserErrors, size: int) -> dict[int, list[UserError]]:
    """{index in the call: its userErrors} when every userError names an element of the call
    (elementIndex, else `field` ["metafields", "3", ...]); {} when any names none."""
    refused: dict[int, list[UserError]] = {}
    for error in exc.errors:
        index = error.element_index
        if index is None and len(error.field) > 1 and error.field[0] == "metafields":
            index = int(error.field[1]) if error.field[1].isdigit() else None
        if index is None or not 0 <= index < size:
            return {}
        refused.setdefault(index, []).append(error)
    return refused


def ask_replan(session: Session, shop_id: int, failures: Mapping[int, IntegrationError]) -> None:
    """A re-plan by the next products pass for the products whose custom id failed for a transient
    reason (their digest is gone, but the ERP may not change them again)."""
    rows = [
        BindingRow(str(seq), None, None, {}) for seq, exc in failures.items() if isinstance(exc, Transient)
    ]
    bindings.upsert_many(session, shop_id, CATALOG_RECHECK_KIND, rows)


def unbind(session: Session, shop_id: int, seqs: Sequence[int]) -> None:
    """Forget the Shopify product of these products (deleted in Shopify before their custom id was
    set): planned as new, they are sent again and the product productSet makes is bound and
    published (catalog_ledger.record_sent)."""
    rows = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(seq) for seq in seqs])
    for row in rows.values():
        row.shopify_id = None
        row.digest = None
        row.data = {k: v for k, v in (row.data or {}).items() if k != MISSING}


def deleted_among(session: Session, shop_id: int, product_ids: Collection[str]) -> set[str]:
    """The products among these that products/delete named (DELETED_KIND, jobs.catalog_deleted)."""
    return set(bindings.get_many(session, shop_id, DELETED_KIND, sorted(set(product_ids))))


def forget_deleted(session: Session, shop_id: int, seqs: Sequence[int]) -> None:
    """These products' Shopify products were deleted by a person (products/delete): one the ERP
    sells online is forgotten and re-planned by the next products pass, which makes it anew; one it
    does not is marked DELETED, left so until the ERP sells it again (jobs.catalog_deleted)."""
    rows = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(seq) for seq in seqs])
    selling = [int(r.erp_id) for r in rows.values() if (r.data or {}).get("status") == "ACTIVE"]
    unbind(session, shop_id, selling)
    rechecks = [BindingRow(str(seq), None, None, {}) for seq in selling]
    bindings.upsert_many(session, shop_id, CATALOG_RECHECK_KIND, rechecks)
    for row in rows.values():
        if int(row.erp_id) not in selling:
            row.data = {**(row.data or {}), DELETED: True}


def _explained(client: AdminClient, seq: int, product_id: str, exc: BaseException) -> IntegrationError:
    """Why this product's custom id was not set, in words for the merchant: Transient
    (CUSTOM_ID_RETRYING) or Rejected (CUSTOM_ID_TAKEN, CUSTOM_ID_PRODUCT_GONE, CUSTOM_ID_FAILED)."""
    words = exc.message if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    field = f"metafield {CUSTOM_ID_NAMESPACE}.{CUSTOM_ID_KEY}"
    lacks = f"Product {seq} is in Shopify ({product_id}) without its ERP id ({field})"
    held = "The app sends this product again only once the id is set, so that no second product is created"
    detail: dict[str, object] = {"seq_produto": seq, "product_id": product_id}
    if classify(exc) is ErrorClass.TRANSIENT:
        return Transient(f"{lacks}, and setting it failed: {words}. {held}; the next products pass tries "
                         "again.", system="shopify", code="CUSTOM_ID_RETRYING", **detail)  # fmt: skip
    codes = exc.codes if isinstance(exc, ShopifyUserErrors) else set()
    if isinstance(exc, ShopifyUserErrors) and any(e.field[-1:] == ("ownerId",) for e in exc.errors):
        text = (
            f"Product {seq} was deleted in Shopify ({product_id}) before the app could set its ERP id "
            f"({field}) on it ({words}). Retry this message to create it in Shopify again; if it was "
            "deleted on purpose, take it off the e-commerce in the ERP instead and mark this message "
            "handled."
        )
        return Rejected(text, system="shopify", code="CUSTOM_ID_PRODUCT_GONE", detail=detail)
    if "TAKEN" in codes:
        holder, holder_id = _holder(client, seq)
        text = (
            f"{lacks}, and Shopify refused to set it ({words}): {holder} already holds ERP id {seq}. One "
            "of the two is a duplicate of the other: in Shopify admin, keep one (copy over anything "
            "of the other you need) and delete the other, then retry this message. " + held + "."
        )
        return Rejected(
            text, system="shopify", code="CUSTOM_ID_TAKEN", detail={**detail, "holder_id": holder_id}
        )
    text = f"{lacks}, and setting it failed: {words}. {held}; fix the cause Shopify gives, then retry."
    return Rejected(text, system="shopify", code="CUSTOM_ID_FAILED", detail=detail)


def _holder(client: AdminClient, seq: int) -> tuple[str, str | None]:
    """Which product holds this custom id, in words, and its gid (None: it could not be read)."""
    try:
        found = client.product_by_custom_id(CUSTOM_ID_NAMESPACE, CUSTOM_ID_KEY, str(seq))
    except Exception as exc:  # the words only: the refusal stands whatever this answers
        log.warning("catalog: the product holding custom id %s could not be read: %s", seq, exc)
        return "another product (the app could not read which)", None
    if found is None:
        return "another product (no longer found by it: Retry may work now)", None
    return f"another product, {found.id} (handle {found.handle})", found.id
