"""Shopify's daily limit on new variants (jobs/variant_quota.py): on a store past the threshold and
not on Plus, the products Shopify refuses to create wait, retrying with the reason, while changes to
products it has go on; the next pass within the hold sends no creation; after the hold they are
sent again by themselves and nothing is duplicated; a person's Retry sends at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

import erp
from jobs import catalog_cli, catalog_flow, reconcile, reconcile_cli
from ledger import bindings, drift
from ledger import variant_quota as ledger_quota
from ledger.bindings import CATALOG_RECHECK_KIND
from ledger.db import session_scope
from ledger.models import Message, MessageStatus, utcnow
from sandbox.shopify.variant_throttle import CODE as SHOPIFY_CODE
from shopify_app import fail_words, reconcile_words
from shopify_app.words import texts_in_locale

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import set_title
from .test_bulk_parts import product_set_lines, seq_of, small_limit

PRODUCTS = 38  # the fixture's 60 SKUs


def limit(shop: InstalledShop, **settings: Any) -> None:
    """The shop on Advanced (not Plus), Shopify's limit at the test's scale."""
    shop.shopify.sandbox.shops.set_tier(SHOP_NAME, "advanced")
    shop.shopify.sandbox.variant_throttle.configure(SHOP_NAME, **settings)


def in_shopify(shop: InstalledShop) -> list[str]:
    """The custom ids of the products Shopify holds (one per product: no duplicate)."""
    return [p["metafields"]["consinco.seq_produto"] for p in shop.state()["products"]]


def messages(shop: InstalledShop) -> dict[str, Message]:
    with session_scope() as session:
        rows = session.scalars(
            select(Message).where(Message.shop_id == shop.shop_id, Message.flow == "products")
        )
        return {m.unit_key: m for m in rows}


def waiting(shop: InstalledShop) -> dict[str, Message]:
    return {
        key: m
        for key, m in messages(shop).items()
        if m.status == MessageStatus.RETRYING.value
        and (m.error_detail or {}).get("code") == ledger_quota.CODE
    }


def age_hold(shop: InstalledShop) -> None:
    """The app's hold as if refused two hours ago (over), and a new day at Shopify."""
    with session_scope() as session:
        ledger_quota.hold(session, shop.shop_id, utcnow() - timedelta(hours=2))
        assert ledger_quota.held_until(session, shop.shop_id) is None


def test_refused_creations_wait_and_are_sent_again_after_the_hold(installed: InstalledShop) -> None:
    limit(installed, threshold=20, per_day=10)
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    created = in_shopify(installed)
    assert sorted(set(created)) == sorted(created)
    held = waiting(installed)
    assert first.created == PRODUCTS and first.failed == 0 and first.bulk is False
    assert first.quota_held == len(held) == PRODUCTS - len(created) > 0
    counted = installed.shopify.sandbox.variant_throttle.settings(SHOP_NAME)["created"]
    assert 0 < sum(count for _, count in counted) <= 10  # the day's allowance, past the threshold
    message = next(iter(held.values()))
    assert "1,000 new ones a day" in message.error_text and "VARIANT_THROTTLE_EXCEEDED" in message.error_text
    assert message.error_detail["fail"]["key"] == "shopify_variant_quota"
    assert fail_words.said(message.error_detail["fail"], "en") == message.error_text  # the same story
    assert "1.000 novas por dia" in fail_words.said(message.error_detail["fail"], "pt-BR")
    with session_scope() as session:
        until = ledger_quota.held_until(session, installed.shop_id)
        assert until is not None and timedelta(minutes=55) < until - utcnow() <= ledger_quota.HOLD
        rechecks = bindings.read_requests(session, installed.shop_id, CATALOG_RECHECK_KIND)
        assert {f"product:{seq}" for seq in rechecks} == set(held)
    # Only the first refusal reached Shopify: the creations after it in the pass were held unsent.
    sent = installed.mutations.count("productSet")
    assert sent == len(created) + 1

    # Within the hold: a change to a product Shopify has goes; no creation is tried.
    attempts = {key: (m.attempts, m.updated_at) for key, m in held.items()}
    set_title(installed.erp, int(created[0]), "ARROZ RENOMEADO 5KG")
    second = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (second.changed, second.quota_held) == (1, len(held))
    assert installed.mutations.count("productSet") == sent + 1
    # not counted as tried, not written again (the hold's end they say did not move)
    assert {key: (m.attempts, m.updated_at) for key, m in waiting(installed).items()} == attempts

    # The hold over and a new day at Shopify: the waiting products go by themselves, once each.
    limit(installed, per_day=1000, new_day=True)
    age_hold(installed)
    third = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (third.created, third.quota_held, third.failed) == (len(held), 0, 0)
    assert sorted(in_shopify(installed), key=int) == sorted(
        {*created, *(k.split(":")[1] for k in held)}, key=int
    )
    assert len(in_shopify(installed)) == PRODUCTS
    assert waiting(installed) == {}
    assert all(m.status == MessageStatus.DONE.value for m in messages(installed).values())
    with session_scope() as session:
        assert ledger_quota.record(session, installed.shop_id) is None  # created with none refused: over
        assert bindings.read_requests(session, installed.shop_id, CATALOG_RECHECK_KIND) == {}
    assert catalog_flow.run_flow(installed.shop_id, "products", client=installed.client()).created == 0


def test_a_bulk_load_refused_line_by_line_waits_and_resumes(installed: InstalledShop) -> None:
    limit(installed, threshold=20, per_day=10)
    first = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    created = in_shopify(installed)
    held = waiting(installed)
    assert first.bulk is True and first.failed == 0
    assert first.quota_held == len(held) == PRODUCTS - len(created) > 0
    with session_scope() as session:
        assert ledger_quota.held_until(session, installed.shop_id) is not None

    limit(installed, per_day=1000, new_day=True)
    age_hold(installed)
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (again.created, again.quota_held) == (len(held), 0)
    assert len(set(in_shopify(installed))) == len(in_shopify(installed)) == PRODUCTS
    assert waiting(installed) == {}


def test_a_bulk_load_in_parts_sends_no_creation_after_the_part_refused(installed: InstalledShop) -> None:
    """A load over the upload limit goes in parts (test_bulk_parts): once a part's lines meet the
    daily limit, the later parts leave out every product that would create a variant (here all:
    a first load), which wait unsent with the others; Shopify ran no operation after that part."""
    limit(installed, threshold=5, per_day=2)
    client = small_limit(installed)
    first = catalog_flow.initial_load(installed.shop_id, client=client, bulk=True)
    created = in_shopify(installed)
    held = waiting(installed)
    assert first.bulk is True and first.failed == 0
    assert first.quota_held == len(held) == PRODUCTS - len(created) > 0
    sent = product_set_lines(installed)
    operations = list(dict.fromkeys(op for op, _, _ in sent))
    refused = [(op, seq_of(v)) for op, _, v in sent if str(seq_of(v)) not in created]
    assert refused and {op for op, _ in refused} == {operations[-1]}  # all in the last one run
    assert operations == [operations[0]]  # the first part met it: the later ones never went
    assert len(sent) == len(created) + len(refused) < PRODUCTS  # the rest waits unsent

    limit(installed, per_day=1000, new_day=True)
    age_hold(installed)
    again = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert (again.created, again.quota_held, again.failed) == (len(held), 0, 0)
    assert len(set(in_shopify(installed))) == len(in_shopify(installed)) == PRODUCTS
    assert waiting(installed) == {}


def test_the_reconciliation_names_the_skus_waiting_for_the_limit_apart(installed: InstalledShop) -> None:
    """The daily report lists the active ERP SKUs whose product waits for the limit apart from the
    SKUs missing in Shopify unexplained: their messages say why and send them again; no drift."""
    limit(installed, threshold=20, per_day=10)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    held = waiting(installed)
    other = sorted(held, key=lambda k: int(k.split(":")[1]))[0]
    with session_scope() as session:  # one of them refused for another reason: missing, unexplained
        session.execute(
            update(Message)
            .where(Message.shop_id == installed.shop_id, Message.unit_key == other)
            .values(status=MessageStatus.FAILED.value, error_detail={"code": "INVALID"})
        )
    skus = [s for s in erp.for_shop(installed.shop_id).skus() if s.active]
    apart = sorted(s.id_sku for s in skus if f"product:{s.seq_produto}" in set(held) - {other})
    missing = sorted(s.id_sku for s in skus if f"product:{s.seq_produto}" == other)
    with session_scope() as session:
        until = ledger_quota.held_until(session, installed.shop_id)
    assert until is not None and apart and missing

    client = installed.client()
    found = reconcile._catalog(installed.shop_id, client, erp.for_shop(installed.shop_id), 1000)
    assert (found["missing_in_shopify"], found["missing_in_shopify_count"]) == (missing, len(missing))
    assert found["waiting_variant_quota_count"] == len(apart)
    rows = found["waiting_variant_quota"]
    assert sorted(r["sku"] for r in rows) == apart[: reconcile.LISTED]
    row = rows[0]
    at = until.strftime("%Y-%m-%d %H:%M UTC")
    sku = next(s for s in skus if s.id_sku == row["sku"])
    assert row["message"] == f"product:{sku.seq_produto}" and at in row["why"], row
    said = texts_in_locale(row, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["why"]
    assert said == (
        "aguardando o limite diário de novas variantes da Shopify: o fluxo de produtos a envia de novo "
        f"sozinho depois de {at}"
    ), said
    report = {"shop": "s", "generated_at": "t", "since": "y", "catalog": found}
    report["summary"] = reconcile.summary(report)
    assert report["summary"]["skus_waiting_variant_quota"] == len(apart)
    assert drift.findings(report) == {"skus_missing_in_shopify": len(missing)}  # waiting is no drift
    printed = reconcile_cli.render(report)
    assert "waiting for Shopify's daily limit on new variants" in printed and row["sku"] in printed


def test_a_persons_retry_sends_at_once_whatever_the_hold(installed: InstalledShop) -> None:
    limit(installed, threshold=0, per_day=0)  # nothing new allowed
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert first.quota_held == PRODUCTS and in_shopify(installed) == []
    message = waiting(installed)["product:5"]

    catalog_flow.replay(message.id, client=installed.client())  # still refused: still waiting
    again = waiting(installed)["product:5"]
    assert again.attempts == message.attempts + 1 and SHOPIFY_CODE in again.error_text

    limit(installed, per_day=1000, new_day=True)  # the app's hold still in force
    catalog_flow.replay(message.id, client=installed.client())
    assert in_shopify(installed) == ["5"]
    assert messages(installed)["product:5"].status == MessageStatus.DONE.value
    with session_scope() as session:  # Shopify created one again with none refused: the hold is over
        assert ledger_quota.record(session, installed.shop_id) is None
    rest = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (rest.created, rest.quota_held) == (PRODUCTS - 1, 0) and len(in_shopify(installed)) == PRODUCTS


def test_the_cli_summary_says_the_products_held() -> None:
    said = catalog_cli._summary("products", {"created": 38, "changed": 0, "unchanged": 0, "waiting": 0,
                                              "failed": 0, "quota_held": 12, "bulk": True})  # fmt: skip
    assert said == (
        "products: 38 created, 0 changed, 0 unchanged, 0 waiting, 0 failed, 12 held by Shopify's daily limit "
        "on new variants (sent again by itself) (bulk operation)"
    )
