"""A catalog bulk push over Shopify's upload limit (one staged JSONL of at most 100 MB) goes as
several bulk operations, one part after the other, each recorded as it is answered: the sandbox
refuses a larger file as Shopify's storage does, here with a small limit (the 38 products' lines
make ~32 kB)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from jobs import catalog_flow
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.admin_api.bulk import BulkRunner

from .conftest import SHOP_NAME, InstalledShop

LIMIT = 8000  # bytes of one staged file, the sandbox's and the app's: 4 to 5 parts


class WorkerKilled(BaseException):
    """The worker dies (SIGKILL): nothing after this point of the pass runs."""


def small_limit(installed: InstalledShop) -> Any:
    installed.shopify.sandbox.options.bulk_max_upload_bytes = LIMIT
    client = installed.client()
    client.bulk.max_upload_bytes = LIMIT
    return client


def product_set_lines(installed: InstalledShop) -> list[tuple[str, int, dict]]:
    """Every productSet line Shopify ran: (operation id, line number, variables), in order."""
    store = installed.shopify.sandbox.store
    out = []
    for op in store.scan(SHOP_NAME, "BulkOperation"):
        if "productSet" not in op["query"]:
            continue
        blob = store.get_blob(f"staged:{op['stagedUploadPath']}") or b""
        assert len(blob) <= LIMIT
        out += [(op["id"], n, json.loads(raw)) for n, raw in enumerate(blob.splitlines())]
    return out


def seq_of(variables: dict) -> int:
    return int(variables["identifier"]["customId"]["value"])


def products(installed: InstalledShop) -> list[int]:
    return [int(p["metafields"]["consinco.seq_produto"]) for p in installed.state()["products"]]


def test_a_load_over_the_upload_limit_goes_in_parts_and_creates_every_product_once(
    installed: InstalledShop,
) -> None:
    reported: list[tuple[int, int]] = []
    result = catalog_flow.initial_load(
        installed.shop_id,
        client=small_limit(installed),
        bulk=True,
        progress=lambda d, t: reported.append((d, t)),
    )
    assert (result.bulk, result.created, result.failed) == (True, 38, 0)
    sent = product_set_lines(installed)
    assert len({op for op, _, _ in sent}) >= 3
    assert sorted(seq_of(v) for _, _, v in sent) == sorted(products(installed))
    assert len(products(installed)) == len(set(products(installed))) == 38
    # one bar across the parts: never backwards, never over the total, full at the end
    assert {t for _, t in reported} == {38}
    assert [d for d, _ in reported] == sorted(d for d, _ in reported) and reported[-1] == (38, 38)
    again = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert again.created + again.changed == 0


def test_a_crash_between_parts_resumes_with_the_parts_not_recorded_and_duplicates_nothing(
    installed: InstalledShop, monkeypatch
) -> None:
    """The worker dies waiting on the second part (Shopify runs it to the end anyway): the first
    part was recorded, so the next load sends none of its products again; the second part's file,
    the same bytes again, adopts the operation Shopify ran (its results read, nothing sent twice);
    the parts after it go; Shopify ends with each product once."""
    real_wait = BulkRunner.wait
    product_sets: list[str] = []

    def dies_on_the_second_part(self: BulkRunner, bulk_id: str, **kwargs: Any) -> Any:
        if (
            kwargs.get("token")
            and "productSet" in installed.shopify.sandbox.store.get(SHOP_NAME, bulk_id)["query"]
        ):
            product_sets.append(bulk_id)
            if len(product_sets) == 2:
                raise WorkerKilled
        return real_wait(self, bulk_id, **kwargs)

    monkeypatch.setattr(BulkRunner, "wait", dies_on_the_second_part)
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    first = product_set_lines(installed)
    recorded = {seq_of(v) for op, _, v in first if op == product_sets[0]}
    second = {seq_of(v) for op, _, v in first if op == product_sets[1]}
    assert recorded and second and len(recorded | second) < 38

    monkeypatch.setattr(BulkRunner, "wait", real_wait)
    result = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert (result.created, result.failed) == (38 - len(recorded), 0)
    resent = [seq_of(v) for _, _, v in product_set_lines(installed)[len(first) :]]
    assert sorted(resent) == sorted(set(products(installed)) - recorded - second)
    assert len(products(installed)) == len(set(products(installed))) == 38
    again = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert again.created + again.changed == 0


def test_a_later_parts_user_errors_reach_its_own_product_and_sku(installed: InstalledShop) -> None:
    """Result line numbers count within each part's file: Shopify refusing the second variant of
    a product in the last part fails that product, naming that SKU, and no other."""
    sandbox_bulk = installed.shopify.sandbox.bulk
    original = sandbox_bulk._line
    refused: dict[str, Any] = {}

    def refuses_the_last_two_variant_product(
        executor: Any, shop: str, op: dict, raw: str, number: int
    ) -> Any:
        variables = json.loads(raw)
        if "productSet" in op["query"] and seq_of(variables) == refused.get("seq"):
            refused.update(op=op["id"], sku=variables["input"]["variants"][1]["inventoryItem"]["sku"])
            errors = [{"field": ["input", "variants", "1", "barcode"], "message": "Barcode is invalid",
                       "code": "INVALID"}]  # fmt: skip
            return {"data": {"productSet": {"product": None, "userErrors": errors}}, "__lineNumber": number}
        return original(executor, shop, op, raw, number)

    import erp

    skus = list(erp.for_shop(installed.shop_id).skus())
    refused["seq"] = max(
        s.seq_produto for s in skus if sum(o.seq_produto == s.seq_produto for o in skus) >= 2
    )
    sandbox_bulk._line = refuses_the_last_two_variant_product
    try:
        result = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    finally:
        sandbox_bulk._line = original
    ops = list(dict.fromkeys(op for op, _, _ in product_set_lines(installed)))
    assert len(ops) >= 3 and refused["op"] == ops[-1]  # the last part
    assert result.failed == 1 and [f["seq_produto"] for f in result.failures] == [refused["seq"]]
    with session_scope() as session:
        messages = {m.unit_key: m for m in session.scalars(select(Message).where(Message.flow == "products"))}
    failed = {k for k, m in messages.items() if m.status != MessageStatus.DONE.value}
    assert failed == {f"product:{refused['seq']}"}
    message = messages[f"product:{refused['seq']}"]
    assert f"SKU {refused['sku']}" in (message.error_text or "")
    assert [e.get("sku") for e in (message.error_detail or {})["user_errors"]] == [refused["sku"]]
    assert sorted(products(installed)) == sorted(
        s for s in {s.seq_produto for s in skus} if s != refused["seq"]
    )


def test_a_part_recorded_by_a_worker_killed_before_its_publish_is_published_by_the_next_pass(
    installed: InstalledShop, monkeypatch
) -> None:
    """The worker dies after part 1 was recorded (bindings, messages done) and before its publish
    operation started: the resumed load does not send part 1 again, so the next products pass
    publishes its products (tries 0: never published); every product is published once, the
    pass's own products not a second time."""
    from jobs import catalog_publish

    from .test_publishing import pending, products_by_seq

    real = catalog_publish.publish_new
    monkeypatch.setattr(catalog_publish, "publish_new", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    monkeypatch.setattr(catalog_publish, "publish_new", real)
    killed = pending(installed.shop_id)
    assert killed
    catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert pending(installed.shop_id) == killed  # recorded before: not sent, not published again
    catalog_flow.run_flow(installed.shop_id, "products", client=small_limit(installed))
    assert pending(installed.shop_id) == set()
    by_seq = products_by_seq(installed)
    assert len(by_seq) == 38 and all(p["publishedOn"] for p in by_seq.values())
    # each once: the resumed load's parts as bulk lines, the killed part's by the pass, directly
    lines = publish_lines(installed)
    assert len(lines) == len(set(lines)) == 38 - len(killed)
    assert installed.mutations.count("publishablePublish") == len(killed)
    catalog_flow.run_flow(installed.shop_id, "products", client=small_limit(installed))
    assert len(publish_lines(installed)) + installed.mutations.count("publishablePublish") == 38


def publish_lines(installed: InstalledShop) -> list[str]:
    """The product of every publishablePublish line Shopify ran."""
    store = installed.shopify.sandbox.store
    out = []
    for op in store.scan(SHOP_NAME, "BulkOperation"):
        if "publishablePublish" in op["query"]:
            blob = store.get_blob(f"staged:{op['stagedUploadPath']}") or b""
            out += [json.loads(raw)["id"] for raw in blob.splitlines()]
    return out


def test_a_product_whose_line_alone_is_over_the_upload_limit_is_refused_and_the_others_go(
    installed: InstalledShop,
) -> None:
    """One product's productSet line is larger than one upload (a line is never split): that
    product alone is refused, its message saying its size and the limit; the 37 others go."""
    from .erp_writes import set_title

    set_title(installed.erp, 7, "ARROZ " * 1500)  # ~9 kB of title: over the 8,000 bytes alone
    result = catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    assert (result.created, result.failed) == (38, 1)  # planned 38, one of them refused
    assert len(products(installed)) == 37 and 7 not in products(installed)
    with session_scope() as session:
        messages = session.scalars(select(Message).where(Message.flow == "products")).all()
        refused = [m for m in messages if m.status != MessageStatus.DONE.value]
        assert [m.unit_key for m in refused] == ["product:7"]
        assert refused[0].status == MessageStatus.FAILED.value
        assert refused[0].error_detail["code"] == "BULK_LINE_TOO_LARGE"
        assert "product 7" in refused[0].error_text and "8,000 bytes" in refused[0].error_text


def test_a_cut_off_publish_the_next_pass_fails_is_said_on_the_products_message(
    installed: InstalledShop, monkeypatch
) -> None:
    """The worker dies before a recorded part's publish; the next pass's publish of those products
    is refused (a publication that no longer exists): their messages, done when the part was
    recorded, say so (PUBLISH_FAILED) instead of the products staying off the store unsaid."""
    from jobs import catalog_publish

    from .test_publishing import pending

    real = catalog_publish.publish_new
    monkeypatch.setattr(catalog_publish, "publish_new", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    with pytest.raises(WorkerKilled):
        catalog_flow.initial_load(installed.shop_id, client=small_limit(installed), bulk=True)
    monkeypatch.setattr(catalog_publish, "publish_new", real)
    killed = pending(installed.shop_id)
    assert killed
    installed.set_setting("publish_to", ["gid://shopify/Publication/404"])
    catalog_flow.run_flow(installed.shop_id, "products", client=small_limit(installed))
    with session_scope() as session:
        said = {
            m.unit_key: (m.status, (m.error_detail or {}).get("code"))
            for m in session.scalars(select(Message).where(Message.flow == "products"))
        }
    assert {f"product:{seq}": said[f"product:{seq}"] for seq in killed} == {
        f"product:{seq}": (MessageStatus.FAILED.value, "PUBLISH_FAILED") for seq in killed
    }
