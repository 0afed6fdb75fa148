"""The products and skus flows against both sandboxes (a 60-SKU chain, 38 products)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

import erp
from jobs import catalog_flow, catalog_load
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from ledger import bindings, watermarks
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Binding, Message, MessageStatus, Schedule
from shopify_app.admin_api.executor import RetryPolicy

from .conftest import SHOP_NAME, InstalledShop
from .erp_writes import clear_weights, family_of, set_ean, set_packaging_status, set_title, weighed_products


def products_by_seq(shop: InstalledShop) -> dict[int, dict[str, Any]]:
    return {int(p["metafields"]["consinco.seq_produto"]): p for p in shop.state()["products"]}


def doc(shop: InstalledShop, gid: str) -> dict[str, Any]:
    found = shop.shopify.sandbox.store.get(SHOP_NAME, gid)
    assert found is not None, gid
    return found


def binding_count(shop_id: int, kind: str) -> int:
    with session_scope() as session:
        stmt = (
            select(func.count()).select_from(Binding).where(Binding.shop_id == shop_id, Binding.kind == kind)
        )
        return int(session.scalar(stmt) or 0)


def test_first_run_creates_everything_and_the_second_run_costs_nothing(installed: InstalledShop) -> None:
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert (first.created, first.failed, first.bulk) == (38, 0, False)  # under bulk_threshold: direct

    erp_skus = list(erp.for_shop(installed.shop_id).skus())
    shopify = products_by_seq(installed)
    assert len(shopify) == 38
    variants = {v["sku"]: v for p in shopify.values() for v in p["variants"]}
    assert len(variants) == len(erp_skus) == 60
    for sku in erp_skus:
        variant = variants[sku.id_sku]
        assert variant["barcode"] == sku.ean
        item = doc(installed, variant["inventoryItemId"])
        weight = item["measurement"]["weight"]
        expected = Decimal(1) if sku.weighed else (sku.gross_weight or sku.net_weight)
        assert weight["unit"] == "KILOGRAMS" and Decimal(str(weight["value"])) == expected
        assert item["tracked"] is True, sku.id_sku  # untracked, Shopify would sell it without limit
    integrated = {p.seq_produto: p.integrate_ecommerce for p in erp.for_shop(installed.shop_id).products()}
    for seq, product in shopify.items():
        sold = integrated[seq] and any(s.active for s in erp_skus if s.seq_produto == seq)
        assert product["status"] == ("ACTIVE" if sold else "DRAFT")
    assert binding_count(installed.shop_id, PRODUCT_KIND) == 38
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, variants)
        assert all(b.data["inventory_item_id"] == variants[k]["inventoryItemId"] for k, b in bound.items())
        assert len(bound) == 60

    before = installed.mutations.count()
    again = [
        catalog_flow.run_flow(installed.shop_id, flow, client=installed.client())
        for flow in ("products", "skus")
    ]
    assert installed.mutations.count() == before  # zero mutations
    assert all(r.created == r.changed == 0 for r in again)
    assert len(installed.state()["products"]) == 38


def test_a_title_and_an_ean_change_update_only_their_products(installed: InstalledShop) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    before = installed.mutations.count("productSet")
    set_title(installed.erp, 5, "ARROZ NOVO 5KG")
    set_ean(installed.erp, 7, 1, "7899999999999")

    products = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    skus = catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())

    assert installed.mutations.count("productSet") - before == 2
    assert (products.changed, skus.changed) == (1, 1)
    shopify = products_by_seq(installed)
    assert shopify[5]["title"] == "ARROZ NOVO 5KG"
    assert {v["sku"]: v["barcode"] for v in shopify[7]["variants"]}["P7E1"] == "7899999999999"
    with session_scope() as session:
        messages = session.scalars(
            select(Message).where(Message.unit_key.in_(["product:5", "product:7"]))
        ).all()
        assert {(m.flow, m.unit_key, m.status) for m in messages if m.attempts > 1 or m.flow == "skus"} >= {
            ("skus", "product:7", MessageStatus.DONE.value)
        }


def test_an_ean_with_a_wrong_check_digit_goes_as_no_barcode_and_its_message_says_which(
    installed: InstalledShop,
) -> None:
    """A mistyped EAN in the ERP (its check digit should be 9) is not sent as the variant's
    barcode; the product's message of the pass, done, names the SKU and the code, and the
    Messages page finds it by EAN_INVALID. Corrected in the ERP, it is the barcode again."""
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    set_ean(installed.erp, 7, 1, "7899999999993")

    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())

    barcodes = {v["sku"]: v["barcode"] for v in products_by_seq(installed)[7]["variants"]}
    assert barcodes["P7E1"] is None and all(code for sku, code in barcodes.items() if sku != "P7E1")
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.flow == "skus", Message.unit_key == "product:7")
        ).one()
        assert message.status == MessageStatus.DONE.value
        assert message.request_payload["barcodes_not_sent"] == [
            {"id_sku": "P7E1", "ean": "7899999999993", "why": "check_digit"}
        ]
        assert "ean_invalid" in message.search_text  # searched case-blind
    set_ean(installed.erp, 7, 1, "7899999999999")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    barcodes = {v["sku"]: v["barcode"] for v in products_by_seq(installed)[7]["variants"]}
    assert barcodes["P7E1"] == "7899999999999"


def test_a_wrong_ean_changed_to_another_wrong_one_is_recorded_and_its_message_names_the_new_one(
    installed: InstalledShop,
) -> None:
    """Both wrong codes go to Shopify as no barcode, so the input is the same; the codes not sent
    are in the digest (catalog_map), so the product is sent again once: the variant binding keeps
    the ERP's code now, and the message names the code the merchant has to correct now."""
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    set_ean(installed.erp, 7, 1, "7899999999993")  # its check digit should be 9
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    set_ean(installed.erp, 7, 1, "7899999999995")  # still wrong, another code

    result = catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())

    assert (result.changed, result.failed) == (1, 0)
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P7E1"])["P7E1"]
        assert bound.data["ean"] == "7899999999995"
        message = session.scalars(
            select(Message)
            .where(Message.flow == "skus", Message.unit_key == "product:7")
            .order_by(Message.id.desc())
        ).first()
        assert message is not None and message.status == MessageStatus.DONE.value
        assert message.request_payload["barcodes_not_sent"] == [
            {"id_sku": "P7E1", "ean": "7899999999995", "why": "check_digit"}
        ]
    sent = installed.mutations.count()
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    assert installed.mutations.count() == sent  # recorded once, not re-sent pass after pass


def test_changing_the_inactive_status_setting_moves_the_inactive_products_without_an_erp_change(
    installed: InstalledShop, monkeypatch
) -> None:
    real = erp.for_shop  # each pass reads only what changed since its watermark (no overlap)
    monkeypatch.setattr(erp, "for_shop", lambda shop_id, **o: real(shop_id, **{"overlap": timedelta(0), **o}))
    for _ in range(2):
        for flow in ("products", "skus"):
            catalog_flow.run_flow(installed.shop_id, flow, client=installed.client())
    drafts = sorted(seq for seq, p in products_by_seq(installed).items() if p["status"] == "DRAFT")
    assert drafts  # the chain has products the ERP does not integrate
    installed.set_setting("inactive_sku_status", "ARCHIVED")
    before = installed.mutations.count("productSet")
    result = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert result.changed == len(drafts) and installed.mutations.count("productSet") - before == len(drafts)
    shopify = products_by_seq(installed)
    assert sorted(seq for seq, p in shopify.items() if p["status"] == "ARCHIVED") == drafts
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.changed == 0 and installed.mutations.count("productSet") - before == len(drafts)


def test_a_weight_cleared_in_the_erp_is_cleared_in_shopify(installed: InstalledShop) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    box = next(v for v in products_by_seq(installed)[1]["variants"] if v["sku"] == "P1E6")
    assert doc(installed, box["inventoryItemId"])["measurement"]["weight"]["value"] > 0
    clear_weights(installed.erp, family_of(installed.erp, 1), 6)
    assert catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client()).changed >= 1
    weight = doc(installed, box["inventoryItemId"])["measurement"]["weight"]
    assert weight is None or weight["value"] == 0  # left out of the input, Shopify kept the old one


@pytest.mark.parametrize("setting", ["DRAFT", "ARCHIVED"])
def test_inactive_product_follows_the_setting_and_inactive_packaging_keeps_its_variant(
    installed: InstalledShop, setting: str
) -> None:
    installed.set_setting("inactive_sku_status", setting)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    ids_before = {seq: p["id"] for seq, p in products_by_seq(installed).items()}

    installed.erp.erp.simulator.deactivate_product(3)
    set_packaging_status(installed.erp, family_of(installed.erp, 1), 6, "I")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())

    shopify = products_by_seq(installed)
    assert {seq: p["id"] for seq, p in shopify.items()} == ids_before  # nothing deleted or duplicated
    assert shopify[3]["status"] == setting
    assert shopify[1]["status"] == "ACTIVE"
    box = next(v for v in shopify[1]["variants"] if v["sku"] == "P1E6")
    assert doc(installed, box["id"])["inventoryPolicy"] == "DENY"
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E6", "P1E1", "P3E1"])
        assert (bound["P1E6"].data["active"], bound["P1E1"].data["active"]) == (False, True)
        assert bound["P3E1"].data["active"] is False
        # The stock flow is asked to zero what turned inactive (and only that).
        rechecks = bindings.get_many(session, installed.shop_id, "stock_recheck", ["P1E6", "P3E1", "P1E1"])
        assert set(rechecks) == {"P1E6", "P3E1"}


def test_weighed_item_is_sold_per_kilogram(installed: InstalledShop) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    seq = weighed_products(installed.erp)[0]
    (variant,) = products_by_seq(installed)[seq]["variants"]
    assert (variant["title"], variant["sku"]) == ("KG", f"P{seq}E1")
    assert variant["barcode"].startswith("2")
    stored = doc(installed, variant["id"])
    assert stored["unitPriceMeasurement"]["quantityUnit"] == "KG"
    assert doc(installed, variant["inventoryItemId"])["measurement"]["weight"] == {
        "unit": "KILOGRAMS",
        "value": 1.0,
    }
    with session_scope() as session:
        data = bindings.get_many(session, installed.shop_id, VARIANT_KIND, [f"P{seq}E1"])[f"P{seq}E1"].data
    assert (data["weighed"], data["unit_kg"]) == (True, "1")


def test_crash_mid_run_resumes_without_duplicates_or_gaps(installed: InstalledShop, monkeypatch) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    monkeypatch.setattr(catalog_load, "BATCH_SIZE", 2)
    for seq in (10, 11, 12, 13, 14):
        set_title(installed.erp, seq, f"PRODUTO RENOMEADO {seq}")
    with session_scope() as session:
        start = watermarks.read(session, installed.shop_id, "products").last_changed_at
    client = installed.client()
    client.executor.retry = RetryPolicy(max_attempts=1)
    installed.mutations.fail_after = installed.mutations.count() + 3  # Shopify goes down mid-batch 2

    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=client)

    with session_scope() as session:
        mark = watermarks.read(session, installed.shop_id, "products").last_changed_at
        statuses = dict(
            session.execute(
                select(Message.unit_key, Message.status).where(
                    Message.flow == "products", Message.attempts >= 1
                )
            ).all()
        )
    titles = {seq: p["title"] for seq, p in products_by_seq(installed).items()}
    renamed = [seq for seq in (10, 11, 12, 13, 14) if titles[seq].startswith("PRODUTO RENOMEADO")]
    assert renamed == [10, 11, 12]
    assert start is not None and mark is not None and mark > start  # batch 1 (10, 11) accepted
    assert statuses["product:13"] == MessageStatus.RETRYING.value

    installed.mutations.fail_after = None
    calls = installed.mutations.count("productSet")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert installed.mutations.count("productSet") - calls == 2  # 13 and 14 only: 12 was answered
    shopify = products_by_seq(installed)
    assert len(shopify) == 38
    assert all(shopify[s]["title"] == f"PRODUTO RENOMEADO {s}" for s in (10, 11, 12, 13, 14))


def test_bulk_path_ends_in_the_same_state_as_the_direct_path(installed: InstalledShop) -> None:
    def normalised() -> dict[int, Any]:
        out = {}
        for seq, product in products_by_seq(installed).items():
            variants = []
            for v in product["variants"]:
                full, item = doc(installed, v["id"]), doc(installed, v["inventoryItemId"])
                measures = (str(full["unitPriceMeasurement"]), str(item["measurement"]["weight"]))
                variants.append((v["sku"], v["barcode"], v["title"], full["inventoryPolicy"], *measures))
            out[seq] = (product["title"], product["status"], sorted(variants))
        return out

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    direct = normalised()
    installed.shopify.sandbox.shops.reset(SHOP_NAME)
    with session_scope() as session:
        session.query(Binding).filter(Binding.shop_id == installed.shop_id).delete()
    installed.set_setting("bulk_threshold", 5)

    with session_scope() as session:
        session.add(Schedule(shop_id=installed.shop_id, flow="products", cron="*/15 * * * *"))
    progress = catalog_load.schedule_progress(installed.shop_id, "products")
    result = catalog_flow.initial_load(
        installed.shop_id, client=installed.client(), bulk=None, progress=progress
    )
    assert (result.bulk, result.created, result.failed) == (True, 38, 0)
    with session_scope() as session:
        shown = session.scalars(select(Schedule.progress).where(Schedule.shop_id == installed.shop_id)).one()
    assert (shown["done"], shown["total"]) == (38, 38)  # the dashboard's bar
    assert normalised() == direct
    assert binding_count(installed.shop_id, VARIANT_KIND) == 60


def test_a_product_the_bulk_results_do_not_mention_is_retried_not_given_up(
    installed: InstalledShop, monkeypatch
) -> None:
    """Shopify's result file lacks a product's line: whether it was taken is unknown, so the pass
    ends transient (RQ retries it), the watermark stays, and the retry sends it."""
    import dataclasses

    from shopify_app.admin_api.bulk import BulkRunner

    real = BulkRunner.run

    def drops_a_line(self, mutation, *args, **kwargs):
        answer = real(self, mutation, *args, **kwargs)
        if mutation != "ProductSet":  # the publish operation's lines are all there
            return answer
        return dataclasses.replace(answer, lines=[line for line in answer.lines if line.line_number != 0])

    installed.set_setting("bulk_threshold", 5)
    with monkeypatch.context() as patched:
        patched.setattr(BulkRunner, "run", drops_a_line)
        with pytest.raises(Transient):
            catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    with session_scope() as session:
        assert watermarks.read(session, installed.shop_id, "products").last_changed_at is None
        retrying = session.scalars(
            select(Message).where(Message.status == MessageStatus.RETRYING.value)
        ).all()
        assert len(retrying) == 1 and "no result line" in (retrying[0].error_text or "")
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.failed == 0 and (again.created + again.changed) >= 1
    assert len(products_by_seq(installed)) == 38


def test_a_bulk_operation_that_fails_part_way_keeps_what_it_applied_and_sends_the_rest_again(
    installed: InstalledShop,
) -> None:
    """Shopify's side fails after ten lines (FAILED, INTERNAL_SERVER_ERROR, a partialDataUrl):
    the ten products it created are bound and done; the others are retrying, not refused, and
    the next run sends only them."""
    sandbox_bulk = installed.shopify.sandbox.bulk
    original = sandbox_bulk._line

    def fails_after_ten(executor: Any, shop: str, op: dict, raw: str, number: int) -> Any:
        if number >= 10:
            raise RuntimeError("internal error at Shopify")
        return original(executor, shop, op, raw, number)

    sandbox_bulk._line = fails_after_ten
    try:
        with pytest.raises(Transient):
            catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    finally:
        sandbox_bulk._line = original
    assert len(list(installed.shopify.sandbox.store.scan(SHOP_NAME, "Product"))) == 10
    with session_scope() as session:
        mine = Message.shop_id == installed.shop_id
        statuses = list(session.scalars(select(Message.status).where(mine, Message.flow == "products")))
        products = (Binding.shop_id == installed.shop_id, Binding.kind == PRODUCT_KIND)
        bound = session.scalar(
            select(func.count()).select_from(Binding).where(*products, Binding.shopify_id.is_not(None))
        )
    assert bound == 10 and statuses.count("done") == 10
    assert statuses.count("retrying") == len(statuses) - 10 > 0

    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert again.created == len(statuses) - 10 and again.failed == 0
    assert len(list(installed.shopify.sandbox.store.scan(SHOP_NAME, "Product"))) == len(statuses)


def test_a_product_message_is_found_by_its_shopify_product_id_even_once_begun_again(
    installed: InstalledShop,
) -> None:
    """The Messages page finds a product's message by the Shopify id (gid or number), as it
    finds an order's; a later run that begins it again keeps the id it had."""
    from ledger import trace
    from ledger.flows import ERP_TO_SHOPIFY
    from ledger.trace_bulk import UnitStart, begin_many

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:5")).one()
        gid = message.shopify_id
        assert gid and gid.startswith("gid://shopify/Product/")
        for text in (gid, gid.rsplit("/", 1)[-1]):
            assert message.id in [m.id for m in trace.search(session, installed.shop_id, text=text)], text
        begin_many(session, installed.shop_id, "products", [UnitStart("product:5", erp_id="5")],
                   direction=ERP_TO_SHOPIFY, job_id=None)  # fmt: skip
    with session_scope() as session:
        assert session.get(Message, message.id).shopify_id == gid


class WorkerKilled(BaseException):
    """What a worker killed while it polls looks like to the code it ran (nothing after runs)."""


def test_a_bulk_operation_a_dead_pass_left_running_never_stays_over_what_a_later_pass_sent(
    installed: InstalledShop, monkeypatch
) -> None:
    """The products pass goes bulk and its worker dies polling; the catalog lock lapses while
    Shopify still runs the operation. The skus pass then sends a newer EAN for one of its products
    directly: it first waits for that operation, so the old EAN cannot land after the new one, and
    the operation's products are sent again by the next products pass (the ledger's digest says
    what Shopify holds)."""
    from shopify_app.admin_api.bulk import BulkRunner

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    shop = products_by_seq(installed)
    seq = next(s for s, p in sorted(shop.items()) if any(v["barcode"] for v in p["variants"]))
    variant = next(v for v in shop[seq]["variants"] if v["barcode"])
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, [variant["sku"]])
        qtd = int(bound[variant["sku"]].data["qtd_embalagem"])

    # 1. the products pass goes bulk; Shopify holds the operation (gated); the worker dies polling
    set_title(installed.erp, seq, "NOVO TITULO")
    installed.set_setting("bulk_threshold", 0)
    gate = threading.Event()
    sandbox_bulk = installed.shopify.sandbox.bulk
    original_line = sandbox_bulk._line

    def gated(executor: Any, shop_: str, op: dict, raw: str, number: int) -> Any:
        gate.wait(30)
        return original_line(executor, shop_, op, raw, number)

    def dies(self: BulkRunner, bulk_id: str, **_: Any) -> Any:
        raise WorkerKilled

    sandbox_bulk._line = gated
    real_wait = BulkRunner.wait
    try:
        monkeypatch.setattr(BulkRunner, "wait", dies)
        with pytest.raises(WorkerKilled):
            catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

        # 2. Shopify finishes the operation once someone waits for it (never, before the fix)
        def releases(self: BulkRunner, bulk_id: str, **kwargs: Any) -> Any:
            gate.set()
            return real_wait(self, bulk_id, **kwargs)

        monkeypatch.setattr(BulkRunner, "wait", releases)
        new_ean = "7899876543215"
        installed.set_setting("bulk_threshold", 1000)
        set_ean(installed.erp, seq, qtd, new_ean)
        catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
        running = [t for t in sandbox_bulk._threads.values() if t.is_alive()]
        assert not running, "the skus pass sent directly while the dead pass's operation still ran"
    finally:
        gate.set()
        for thread in list(sandbox_bulk._threads.values()):
            thread.join(30)
        sandbox_bulk._line = original_line

    # 3. the next passes: Shopify ends with what the ERP says, and so does the ledger
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    product = products_by_seq(installed)[seq]
    assert {v["sku"]: v["barcode"] for v in product["variants"]}[variant["sku"]] == new_ean
    assert product["title"].upper().startswith("NOVO TITULO")
    with session_scope() as session:
        requests = bindings.read_requests(session, installed.shop_id, "catalog_recheck")
        assert requests == {}  # the products pass re-planned the operation's products
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.created + again.changed == 0


def test_a_failed_forget_after_a_dead_pass_operation_leaves_its_products_to_the_next_sync(
    installed: InstalledShop, monkeypatch
) -> None:
    """The operation a dead pass left is over; the sync that finds it fails before its products
    are forgotten in the ledger (the database briefly down, the worker killed). The operation was
    not marked settled: the next sync forgets them and they are sent again (before, the record
    said settled and they never were, the operation's older lines staying in Shopify)."""
    import orjson

    from jobs import catalog_ledger
    from ledger.kv import get_redis
    from shopify_app.admin_api.bulk import STARTED_PREFIX

    from .conftest import SHOP_DOMAIN

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    before = installed.mutations.count("productSet")
    # What a worker killed while its bulk operation ran leaves (Shopify no longer knows it by now).
    record = f"{STARTED_PREFIX}{SHOP_DOMAIN}:{catalog_load.bulk_identifier(installed.shop_id)}"
    get_redis().hset(record, mapping={"id": "gid://shopify/BulkOperation/987654", "digest": "x",
                                      "units": orjson.dumps(["5", "7"])})  # fmt: skip
    real = catalog_ledger.forget_sent

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database connection lost")

    monkeypatch.setattr(catalog_ledger, "forget_sent", down)
    with pytest.raises(RuntimeError):
        catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert get_redis().hget(record, "settled") is None
    monkeypatch.setattr(catalog_ledger, "forget_sent", real)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert installed.mutations.count("productSet") - before == 2  # products 5 and 7, sent again
    assert get_redis().hget(record, "settled") == b"1"
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert installed.mutations.count("productSet") - before == 2  # once


def test_a_dead_pass_operation_still_running_ends_the_sync_retrying_naming_it_until_it_ends(
    installed: InstalledShop, monkeypatch
) -> None:
    """The operation a dead pass left still runs in Shopify (a bulk mutation may run up to 24 h):
    a sync waits for it a while only, then ends transient naming it, nothing sent (not hours
    behind it in silence, nor sending what it could overwrite); its record stays, with no expiry,
    and once it ended the next sync settles it and its products are sent again."""
    from ledger.kv import get_redis
    from shopify_app.admin_api.bulk import STARTED_PREFIX, BulkRunner
    from shopify_app.admin_api.errors import BulkStillRunning

    from .conftest import SHOP_DOMAIN

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    seq = sorted(products_by_seq(installed))[0]
    set_title(installed.erp, seq, "NOVO TITULO")
    installed.set_setting("bulk_threshold", 0)
    gate = threading.Event()
    sandbox_bulk = installed.shopify.sandbox.bulk
    original_line = sandbox_bulk._line

    def gated(executor: Any, shop_: str, op: dict, raw: str, number: int) -> Any:
        gate.wait(30)
        return original_line(executor, shop_, op, raw, number)

    def dies(self: BulkRunner, bulk_id: str, **_: Any) -> Any:
        raise WorkerKilled

    sandbox_bulk._line = gated
    record = f"{STARTED_PREFIX}{SHOP_DOMAIN}:{catalog_load.bulk_identifier(installed.shop_id)}"
    try:
        with monkeypatch.context() as patched:
            patched.setattr(BulkRunner, "wait", dies)
            with pytest.raises(WorkerKilled):
                catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
        bulk_id = get_redis().hget(record, "id").decode()
        installed.set_setting("bulk_threshold", 1000)
        set_title(installed.erp, seq, "MAIS NOVO")
        sent = installed.mutations.count("productSet")
        for _ in range(2):  # each run tries again
            client = installed.client()
            client.bulk.leftover_wait = 0.3
            with pytest.raises(BulkStillRunning) as caught:
                catalog_flow.run_flow(installed.shop_id, "products", client=client)
            assert isinstance(caught.value, Transient)
            assert bulk_id in str(caught.value) and "still RUNNING" in str(caught.value)
            assert installed.mutations.count("productSet") == sent  # nothing sent behind it
            assert get_redis().ttl(record) == -1 and get_redis().hget(record, "settled") is None
    finally:
        gate.set()
        for thread in list(sandbox_bulk._threads.values()):
            thread.join(30)
        sandbox_bulk._line = original_line

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert products_by_seq(installed)[seq]["title"].upper().startswith("MAIS NOVO")
    assert get_redis().hget(record, "settled") == b"1"


def test_a_bulk_line_shopify_failed_on_its_side_is_retried_not_refused(
    installed: InstalledShop, monkeypatch
) -> None:
    """One JSONL line's mutation failed on Shopify's side (top-level errors, INTERNAL_SERVER_ERROR):
    what the direct path raises as transient. The pass ends transient, that product's message is
    retrying, the watermark stays, and the retry sends it (no overlap of the ERP read covers it)."""
    from erp.client import ErpClient

    monkeypatch.setitem(ErpClient.__init__.__kwdefaults__, "overlap", timedelta(0))
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    seqs = sorted(products_by_seq(installed))[:6]
    for seq in seqs:
        set_title(installed.erp, seq, f"RENOMEADO {seq}")
    installed.set_setting("bulk_threshold", 5)
    with session_scope() as session:
        before = watermarks.read(session, installed.shop_id, "products").last_changed_at
    sandbox_bulk = installed.shopify.sandbox.bulk
    original_line = sandbox_bulk._line

    def hiccup(executor: Any, shop_: str, op: dict, raw: str, number: int) -> Any:
        if number == 0 and "productSet" in op["query"]:
            return {
                "errors": [
                    {
                        "message": "Internal error. Looks like something went wrong on our end.",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ],
                "data": {"productSet": None},
                "__lineNumber": 0,
            }
        return original_line(executor, shop_, op, raw, number)

    sandbox_bulk._line = hiccup
    try:
        with pytest.raises(Transient):
            catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    finally:
        sandbox_bulk._line = original_line
    with session_scope() as session:
        assert watermarks.read(session, installed.shop_id, "products").last_changed_at == before
        open_ = session.execute(
            select(Message.unit_key, Message.status).where(Message.status != MessageStatus.DONE.value)
        ).all()
    assert open_ == [(f"product:{seqs[0]}", MessageStatus.RETRYING.value)]
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.failed == 0
    titles = {seq: p["title"] for seq, p in products_by_seq(installed).items()}
    assert [titles[s].upper() for s in seqs] == [f"RENOMEADO {s}" for s in seqs]


def test_a_pass_starting_clears_the_last_pass_progress(installed: InstalledShop, monkeypatch) -> None:
    """The dashboard draws Schedule.progress while the flow runs: the next pass reading the ERP
    (minutes, in an initial load) is shown running, not with the last pass's 38/38."""
    with session_scope() as session:
        session.add(Schedule(shop_id=installed.shop_id, flow="products", cron="*/15 * * * *"))
    progress = catalog_load.schedule_progress(installed.shop_id, "products", every=0)
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client(), progress=progress)
    seen: list[Any] = []
    real_for_shop = erp.for_shop

    def for_shop(shop_id: int, **kwargs: Any) -> Any:  # the next pass starts reading the ERP
        with session_scope() as session:
            seen.append(session.scalars(select(Schedule.progress).where(Schedule.shop_id == shop_id)).one())
        return real_for_shop(shop_id, **kwargs)

    monkeypatch.setattr(erp, "for_shop", for_shop)
    set_title(installed.erp, 3, "OUTRO")
    catalog_flow.run_flow(
        installed.shop_id, "products", client=installed.client(), progress=catalog_load.schedule_progress(
            installed.shop_id, "products")
    )  # fmt: skip
    assert seen == [None]


def test_a_bulk_operation_that_fails_whole_shows_no_full_bar_and_says_why_on_each_message(
    installed: InstalledShop,
) -> None:
    """Shopify fails the operation before any line (FAILED, nothing applied): the bar does not
    jump to total/total as if it completed, and each product's message keeps the error's detail
    as a single failure would (trace.fail)."""
    with session_scope() as session:
        session.add(Schedule(shop_id=installed.shop_id, flow="products", cron="*/15 * * * *"))
    sandbox_bulk = installed.shopify.sandbox.bulk
    original_line = sandbox_bulk._line

    def fails(*_: Any) -> Any:
        raise RuntimeError("internal error at Shopify")

    sandbox_bulk._line = fails
    try:
        with pytest.raises(Transient):
            catalog_flow.initial_load(
                installed.shop_id, client=installed.client(), bulk=True,
                progress=catalog_load.schedule_progress(installed.shop_id, "products", every=0),
            )  # fmt: skip
    finally:
        sandbox_bulk._line = original_line
    with session_scope() as session:
        shown = session.scalars(select(Schedule.progress).where(Schedule.shop_id == installed.shop_id)).one()
        messages = session.scalars(select(Message).where(Message.flow == "products")).all()
    assert shown["done"] < shown["total"]
    assert messages and {m.status for m in messages} == {MessageStatus.RETRYING.value}
    assert all(m.error_detail and m.error_detail.get("system") == "shopify" for m in messages)
