"""Publishing the products the app creates to the shop's sales channels, once.

Why: on Shopify a product productSet creates is on no sales channel (Online Store, POS, Shop...),
whatever its status: ACTIVE only means "sellable where published". Without this step a new
product never shows on the storefront. Shopify's way is publishablePublish with the channels'
publication ids (scope write_publications); for thousands of products, one bulk operation of it.

Which publications: the shop setting `publish_to` (publication ids), or by default the Online
Store's: the APP publication whose catalog title is "Online Store" (the channel's own name, which
Shopify does not translate). A shop without an Online Store gets nothing published and each new
product's message says so. `publish_to: []` publishes nowhere (the merchant does it by hand).

Only once: record_sent (jobs/catalog_ledger.py) marks a product it created `publish_pending` (one
deleted by hand in Shopify and made anew too: a new product, on no channel); the flag goes when
the publish succeeds. A product created earlier is never published again, so a
merchant who takes it off a channel keeps it off. A failed publish keeps the flag and says so on
the product's message with Shopify's words: the product itself is in Shopify and bound. Refused
(a publication that does not exist, no Online Store), the message fails (PUBLISH_FAILED) and a
replay of it publishes the product. Failed for a transient reason (a 5xx, the network, a bulk
line Shopify failed on its side or did not report), the message is retrying (PUBLISH_RETRYING)
and the binding keeps `publish_retry` {tries, at}: each later products pass publishes it again
(`publish_again`), even though nothing of the product changed, up to PUBLISH_TRIES tries in all;
then the message fails (PUBLISH_FAILED) saying how often it was tried, and a replay publishes it.
record_sent writes `publish_retry` {tries: 0, at} with the flag: a pass that dies between recording
its products and publishing them (a worker killed between bulk parts) leaves them to the next
products pass's `publish_again`, which takes only products recorded before that pass started,
never the ones it records and publishes itself; if that publish fails, the product's last done
message says so (`_last_done`), since no open message would.
A pass that dies after sending the publish (waiting on its bulk operation, which Shopify finishes,
or before it recorded the answer) leaves an outcome nobody knows: publish_new marks the tries-0
products `sent` (`_mark_sent`) just before each direct call, or once Shopify has the bulk operation
(its first progress report), and `publish_again` does not publish those again
but asks Shopify (`_settle_sent`). On one of the publications: published, the flags go. On none,
Shopify cannot tell "the publish never applied" from "the merchant took it off since" (a product
shows only where it is published now: publishedAt, the Online Store's, is null again once taken
off), so the merchant's side is taken: no pass publishes it again, and its message says so for a
person (PUBLISH_FAILED: the open message that said its publish failed, else the product's last done
one): taken off on purpose, they mark it handled; never applied, its replay publishes it.
Closed as handled instead (kept off the channel on purpose, published by hand), the product owes
no publish any more: ledger.handled drops both keys, so no later pass publishes it.

A product's publish is one fact, whichever flow sent it: a publish that succeeds marks done every
open message of either catalog flow that said it failed (the products pass's PUBLISH_RETRYING
once the skus pass published the product, or the reverse), and a publish that fails says so on
all of them, so none is left saying "retrying" for a product no pass publishes again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import null, select, update
from sqlalchemy.orm import Session

from jobs import catalog_ledger as cl
from ledger import bindings
from ledger.bindings import PRODUCT_KIND, PUBLISH_KEYS, BindingRow
from ledger.db import session_scope
from ledger.errors import IntegrationError, Rejected, Transient, classify
from ledger.handled import PUBLISH_CODES
from ledger.models import Binding, ErrorClass, Message, MessageStatus, utcnow
from shopify_app.admin_api import AdminClient, for_shop
from shopify_app.admin_api.catalog_ops import ONLINE_STORE, online_store
from shopify_app.admin_api.errors import ShopifyGraphQLError, ShopifyServerError, ShopifyUserErrors

log = logging.getLogger(__name__)

PUBLISH_TRIES = 8  # publishes of one product failed for a transient reason before it is given up
CODES = PUBLISH_CODES  # what a publish failure's message says: refused, retrying
CHUNK = 1000  # ids per IN (...) list
FLOWS = ("products", "skus")  # the catalog flows whose messages carry a product's publish


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
    """Publish these new products ({seqProduto: Product gid}); returns how many were refused
    (failed for a transient reason: retrying, not counted; see the module's docstring).

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
            _mark_sent(ctx.shop_id, {seq: product_id})
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
    marked: list[bool] = []

    def started(_operation: object) -> None:  # Shopify has it: the outcome is unknown until recorded
        if not marked:
            _mark_sent(ctx.shop_id, products)
            marked.append(True)

    try:
        answer = client.bulk.run(
            "PublishablePublish", variables, client_identifier=f"publish-{ctx.shop_id}", progress=started
        )
    except IntegrationError as exc:
        return {seq: exc for seq in seqs}
    by_line = {line.line_number: line for line in answer.lines}
    failures: dict[int, BaseException] = {}
    for number, seq in enumerate(seqs):
        line = by_line.get(number)
        if line is None:  # Shopify did not say whether it took it: tried again
            failures[seq] = Transient("the bulk operation has no result line for it")
        elif line.user_errors:
            failures[seq] = ShopifyUserErrors("publishablePublish", line.user_errors)
        elif line.shopify_side:  # what a direct call would have raised as transient
            failures[seq] = ShopifyServerError(
                "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in line.errors)
            )
        elif not line.ok:
            failures[seq] = ShopifyGraphQLError(
                "publishablePublish", list(line.errors) or [{"message": "no answer"}]
            )
    return failures


def publish_again(ctx: cl.CatalogContext, client: AdminClient | None, *, tried_before: datetime) -> int:
    """Publish the products whose publish failed for a transient reason before `tried_before`
    (an earlier pass), fewer than PUBLISH_TRIES times, or never ran (`_due`); returns how many
    were refused now."""
    with session_scope() as session:
        due, sent = _due(session, ctx.shop_id, tried_before)
        if not due and not sent:
            return 0
    log.info("catalog: %s products whose publish failed before are published again, %s whose publish "
             "a stopped pass sent are looked up (%s)", len(due), len(sent), ctx.shop_domain)  # fmt: skip
    owned = client is None
    client = client or for_shop(ctx.shop_domain, lane="background")
    try:  # no message of this pass: _record finds those that say the publish failed
        refused = _settle_sent(ctx, client, sent) if sent else 0
        if due:
            refused += publish_new(ctx, client, due, {}, bulk=len(due) > ctx.bulk_threshold)
        return refused
    finally:
        if owned:
            client.close()


def _mark_sent(shop_id: int, products: Mapping[int, str]) -> None:
    """Committed before the publish goes out: these products' first publish (tries 0) is sent, so
    a pass that dies before recording its answer leaves them to `_settle_sent`, not to a publish
    again. Products retried after a transient failure (tries > 0) are published again as before."""
    with session_scope() as session:
        rows = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(s) for s in products])
        marked = []
        for row in rows.values():
            retry = (row.data or {}).get("publish_retry")
            if isinstance(retry, dict) and not int(retry.get("tries") or 0) and not retry.get("sent"):
                data = {**row.data, "publish_retry": {**retry, "sent": True}}
                marked.append(BindingRow(row.erp_id, row.shopify_id, row.digest, data))
        bindings.upsert_many(session, shop_id, PRODUCT_KIND, marked)


def _settle_sent(ctx: cl.CatalogContext, client: AdminClient, products: Mapping[int, str]) -> int:
    """Products whose first publish a stopped pass sent without recording the answer: asked of
    Shopify (ProductsPublished), never published again (the module's docstring says why). Returns
    how many open messages now say their publish is not confirmed; a Shopify that does not answer
    leaves them all to the next pass."""
    try:
        targets = publication_ids(ctx, client)
        landed: set[str] = set()
        for target in targets:
            landed |= client.published_on(list(products.values()), target)
    except IntegrationError as exc:
        log.warning("catalog: %s: products whose publish a stopped pass sent not looked up: %s",
                    ctx.shop_domain, exc)  # fmt: skip
        return 0
    off = [seq for seq, product_id in products.items() if product_id not in landed]
    if off:
        log.warning("catalog: %s: %s products a stopped pass published are on none of %s; not published "
                    "again (taken off by hand, or the publish never applied): %s",
                    ctx.shop_domain, len(off), targets, off[:20])  # fmt: skip
    unconfirmed = Rejected(
        "a pass that stopped sent its publish, and Shopify shows it on none of them now: taken off by "
        "hand (then mark this message as handled) or never applied (retry this message to publish it)",
        system="shopify",
    )
    # Said on a message either way (an open one that said the publish failed, else the product's
    # last done one: `_record`): a product off the store is never left unsaid, though a merchant
    # who took it off on purpose then closes one message as handled.
    return _record(ctx, products, {}, {seq: unconfirmed for seq in off}, targets)


def _due(session: Session, shop_id: int, tried_before: datetime) -> tuple[dict[int, str], dict[int, str]]:
    """({seqProduto: Product gid}, {...}) of the bound products `publish_again` publishes: those
    whose publish failed for a transient reason, and those an earlier pass recorded and never got
    to publish (its worker died in between: tries 0); and of those whose first publish an earlier
    pass sent and died before recording (tries 0, `sent`: `_settle_sent`); all before
    `tried_before`. Refused (no publish_retry), a product waits for its message's replay."""
    rows = session.execute(
        select(Binding.erp_id, Binding.shopify_id, Binding.data).where(
            Binding.shop_id == shop_id,
            Binding.kind == PRODUCT_KIND,
            Binding.shopify_id.is_not(None),
            Binding.data["publish_pending"].as_boolean().is_(True),
        )
    )
    due: dict[int, str] = {}
    sent: dict[int, str] = {}
    for erp_id, product_id, data in rows:
        retry = (data or {}).get("publish_retry") or {}
        tried_at = retry.get("at")
        due_now = erp_id.isdigit() and 0 <= int(retry.get("tries") or 0) < PUBLISH_TRIES and bool(tried_at)
        if due_now and datetime.fromisoformat(str(tried_at)) < tried_before:  # not this pass's own failure
            (sent if retry.get("sent") else due)[int(erp_id)] = product_id
    return due, sent


def _publish_messages(session: Session, shop_id: int, products: Iterable[int]) -> dict[int, list[int]]:
    """{seqProduto: ids} of the open messages of either catalog flow that say the product's
    publish failed (PUBLISH_RETRYING / PUBLISH_FAILED), oldest first.

    Why both flows: the product may have been sent (and its publish failed) by the products flow
    and later by the skus flow, or the reverse; its publish is one fact, which every such message
    reports (a message begun again has no error detail: only a publish failure since says so)."""
    keys = {cl.unit_key(seq): seq for seq in products}
    query = (
        select(Message.id, Message.unit_key)
        .where(
            Message.shop_id == shop_id,
            Message.flow.in_(FLOWS),
            Message.status.in_((MessageStatus.RETRYING.value, MessageStatus.FAILED.value)),
            Message.error_detail["code"].as_string().in_(CODES),
        )
        .order_by(Message.updated_at, Message.id)
    )
    listed = list(keys)
    if len(listed) > CHUNK:  # an initial load's thousands: the shop's few such messages, filtered here
        batches = [query]
    else:
        batches = [query.where(Message.unit_key.in_(listed))] if listed else []
    found: dict[int, list[int]] = {}
    for batch in batches:
        for message_id, key in session.execute(batch):
            seq = keys.get(key)
            if seq is not None:
                found.setdefault(seq, []).append(message_id)
    return found


def _record(
    ctx: cl.CatalogContext,
    products: Mapping[int, str],
    message_ids: Mapping[int, int | None],
    failures: Mapping[int, BaseException],
    targets: Sequence[str],
) -> int:
    """Clear publish_pending of the published products, and mark done every open message of
    either flow that said their publish failed; say why on the others' messages (this pass's, and
    those that said so before), keeping `publish_retry` on those whose failure is transient.
    Returns how many were refused."""
    refused = 0
    at = utcnow().isoformat()
    with session_scope() as session:
        said = _publish_messages(session, ctx.shop_id, products)
        rows = bindings.get_many(session, ctx.shop_id, PRODUCT_KIND, [str(s) for s in products])
        updated: list[BindingRow] = []
        for seq, product_id in products.items():
            row = rows.get(str(seq))
            data = {k: v for k, v in ((row.data if row else None) or {}).items() if k not in PUBLISH_KEYS}
            exc = failures.get(seq)
            if exc is not None:
                tries = _tries(row) + 1
                explained = _explained(seq, product_id, exc, targets, tries)
                data["publish_pending"] = True
                if isinstance(explained, Transient):
                    data["publish_retry"] = {"tries": tries, "at": at}
                else:
                    refused += 1
                saying = [i for i in (message_ids.get(seq), *said.get(seq, ())) if i is not None]
                for message_id in dict.fromkeys(saying or _last_done(session, ctx.shop_id, seq)):
                    cl.record_failure(session, message_id, explained)
            if row is not None:
                updated.append(BindingRow(str(seq), row.shopify_id, row.digest, data))
        bindings.upsert_many(session, ctx.shop_id, PRODUCT_KIND, updated)
        _done(session, [i for seq in products if seq not in failures for i in said.get(seq, ())])
    return refused


def _last_done(session: Session, shop_id: int, seq: int) -> list[int]:
    """The product's last done message of either catalog flow: where a publish failure is said when
    no message of this pass and none open says it (a publish a dead worker never ran, refused by
    the pass that runs it: the product would stay off the store unsaid). A message closed as
    handled is left alone."""
    found = session.scalars(
        select(Message.id)
        .where(
            Message.shop_id == shop_id,
            Message.flow.in_(FLOWS),
            Message.unit_key == cl.unit_key(seq),
            Message.status == MessageStatus.DONE.value,
        )
        .order_by(Message.updated_at.desc(), Message.id.desc())
        .limit(1)
    ).all()
    return list(found)


def _tries(row: Binding | None) -> int:
    """Transient publish failures so far (since the product was last sent: record_sent rewrites
    the binding's data)."""
    retry = ((row.data if row is not None else None) or {}).get("publish_retry") or {}
    return int(retry.get("tries") or 0)


def _done(session: Session, message_ids: Sequence[int]) -> None:
    """Messages that said a publish failed (and nothing since): the publish is done now."""
    now = utcnow()
    for start in range(0, len(message_ids), CHUNK):
        session.execute(
            update(Message)
            .where(
                Message.id.in_(list(message_ids[start : start + CHUNK])),
                Message.status != MessageStatus.DONE.value,
                Message.error_detail["code"].as_string().in_(CODES),
            )
            .values(
                status=MessageStatus.DONE.value,
                error_class=None,
                error_text=None,
                error_detail=null(),
                finished_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


def _explained(
    seq: int, product_id: str, exc: BaseException, targets: Sequence[str], tries: int
) -> IntegrationError:
    """The failure as said on the product's message: transient (retried by the next products
    pass) while it is and tries are left, else refused (failed: a replay publishes it)."""
    words = exc.message if isinstance(exc, IntegrationError) else str(exc)
    where = ", ".join(targets) or ONLINE_STORE
    text = (
        f"product {seq} ({product_id}) was created in Shopify but not published to its sales "
        f"channel(s) ({where}): {words}"
    )
    detail = {"seq_produto": seq, "product_id": product_id, "publications": list(targets), "tries": tries}
    if classify(exc) is ErrorClass.TRANSIENT:
        if tries < PUBLISH_TRIES:
            return Transient(
                f"{text} (try {tries} of {PUBLISH_TRIES}; the next products pass tries again)",
                system="shopify",
                code="PUBLISH_RETRYING",
                **detail,
            )
        text = f"{text} (tried {tries} times; retry this message to publish it)"
    return Rejected(text, system="shopify", code="PUBLISH_FAILED", detail=detail)
