"""The dry run (jobs.catalog_diff), the `catalog` CLI and replay, against both sandboxes."""

from __future__ import annotations

import copy
import json

from sqlalchemy import func, select

import app as app_module
import jobs.products
from jobs import catalog_diff, catalog_flow
from ledger.db import session_scope
from ledger.models import Binding, Message, MessageStatus, Watermark
from sandbox.consinco import tables as t

from . import conftest
from .conftest import InstalledShop
from .erp_writes import add_product, family_of, set_title
from .test_catalog_flows import products_by_seq


def ledger_snapshot(shop_id: int) -> tuple:
    with session_scope() as session:
        bindings = session.execute(
            select(Binding.kind, Binding.erp_id, Binding.digest, Binding.updated_at).where(
                Binding.shop_id == shop_id
            )
        ).all()
        marks = session.execute(select(Watermark.flow, Watermark.last_changed_at)).all()
        messages = session.scalar(select(func.count()).select_from(Message))
    return sorted(map(tuple, bindings)), sorted(map(tuple, marks)), messages


def test_dry_run_lists_creates_changes_archives_and_writes_nothing(
    installed: InstalledShop, redis_conn
) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    active = sorted(seq for seq, p in products_by_seq(installed).items() if p["status"] == "ACTIVE")
    changed, archived = active[0], active[1]
    set_title(installed.erp, changed, "TITULO NOVO")
    installed.erp.erp.simulator.deactivate_product(archived)
    created = add_product(installed.erp, like_seq=active[2], title="PRODUTO NOVO")
    before, calls = ledger_snapshot(installed.shop_id), installed.mutations.count()

    result = catalog_diff.run(installed.shop_id, f"catalog-diff-{installed.shop_id}-abc")

    assert result["counts"] == {
        "create": 1,
        "change": 1,
        "archive": 1,
        "unchanged": 36,
        "waiting": 0,
        "unreadable": 0,
    }
    assert [i["seq_produto"] for i in result["create"]] == [created]
    assert [(i["seq_produto"], i["title"]) for i in result["change"]] == [(changed, "TITULO NOVO")]
    assert [(i["seq_produto"], i["status_before"], i["status"]) for i in result["archive"]] == [
        (archived, "ACTIVE", "DRAFT")
    ]
    stored = redis_conn.get(f"catalog_diff:{installed.shop_id}:catalog-diff-{installed.shop_id}-abc")
    assert json.loads(stored)["counts"] == result["counts"]
    assert ledger_snapshot(installed.shop_id) == before
    assert installed.mutations.count() == calls


def test_dry_run_agrees_with_a_full_sync_on_a_packaging_the_erp_no_longer_lists(
    installed: InstalledShop,
) -> None:
    """The dry run reads the whole ERP like `catalog sync --full` and applies the same rule: a
    packaging the ERP stops listing is retired (its variant off sale), so the products of its
    family are changes exactly as the full sync then changes them: listed apart (`full_sweep`), as
    a plain sync does not see a deleted row (tests/catalog_products/test_full_sweep.py)."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    family = family_of(installed.erp, 1)
    e, p = t.map_famembalagem, t.map_produto
    with installed.erp.erp.store.write() as (conn, _now):
        conn.execute(e.delete().where(e.c.seqfamilia == family, e.c.qtdembalagem == 6))
    with installed.erp.erp.store.read() as conn:
        affected = sorted(conn.execute(select(p.c.seqproduto).where(p.c.seqfamilia == family)).scalars())

    diff = catalog_diff.compute(installed.shop_id)
    full = catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)

    assert sorted(i["seq_produto"] for i in diff["full_sweep"]["retire"]) == affected
    assert diff["full_sweep"]["counts"]["retire"] == full.changed == len(affected)
    assert diff["counts"]["change"] == diff["counts"]["archive"] == 0
    client.close()


def test_cli_diff_then_sync_with_progress_then_nothing_left(installed: InstalledShop) -> None:
    flask_app = app_module.create_app(blueprints=(), cli_modules=("jobs.catalog_cli",))
    runner = flask_app.test_cli_runner()

    first = runner.invoke(args=["catalog", "diff"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("38 create, 0 change, 0 archive, 0 unchanged")

    synced = runner.invoke(args=["catalog", "sync", "--shop", installed.domain])
    assert synced.exit_code == 0, synced.output
    assert (
        "products: 38 created" in synced.output
        and "skus: 0 created, 0 changed, 38 unchanged" in synced.output
    )
    assert len(products_by_seq(installed)) == 38

    last = runner.invoke(args=["catalog", "diff", "--drift"])
    assert last.exit_code == 0, last.output
    catalog_line, prices_line, *rest = last.output.strip().splitlines()
    assert catalog_line == "0 create, 0 change, 0 archive, 38 unchanged, 0 waiting"
    # the sync sent products and SKUs, not prices (the prices flow's): every price still a first one
    assert prices_line.startswith("prices (company 1, segment 1): ") and " 0 change, " in prices_line
    assert rest[0].startswith("prices first: 20 of ") and all(r.startswith("price ") for r in rest[1:])


def test_replay_resends_one_product_from_the_cache(installed: InstalledShop) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:5")).one()
        message_id, attempts = message.id, message.attempts
    calls = installed.mutations.count("productSet")

    result = jobs.products.replay(message_id)

    assert result["changed"] == 1 and installed.mutations.count("productSet") == calls + 1
    with session_scope() as session:
        again = session.get(Message, message_id)
        assert again is not None
        assert (again.status, again.attempts) == (MessageStatus.DONE.value, attempts + 1)
    assert len(products_by_seq(installed)) == 38


def test_a_rejected_product_fails_alone_with_shopifys_words_and_replays(installed: InstalledShop) -> None:
    installed.mutations.reject_seq = "9"
    result = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

    assert (result.created, result.failed) == (38, 1)
    assert len(products_by_seq(installed)) == 37  # the others went on
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:9")).one()
        assert (message.status, message.error_class) == (MessageStatus.FAILED.value, "rejected")
        assert "Barcode is invalid" in (message.error_text or "")
        assert message.error_detail["user_errors"][0]["field"] == ["input", "variants", "0", "barcode"]
        message_id = message.id

    installed.mutations.reject_seq = None
    assert jobs.products.replay(message_id)["failed"] == 0
    assert 9 in products_by_seq(installed)


def _refused_on_its_cx6_barcode(monkeypatch) -> None:
    """Shopify answers productSet with a userError on input.variants.1 (product 1's CX-6, P1E6)."""
    rejected = copy.deepcopy(conftest.REJECTED)
    rejected["data"]["productSet"]["userErrors"][0]["field"] = ["input", "variants", "1", "barcode"]
    monkeypatch.setattr(conftest, "REJECTED", rejected)


def _refusal(installed: InstalledShop) -> tuple[str, list]:
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == "product:1")).one()
        assert message.status == MessageStatus.FAILED.value
        return message.error_text or "", (message.error_detail or {}).get("user_errors") or []


def test_a_rejected_product_names_the_sku_shopify_refused(installed: InstalledShop, monkeypatch) -> None:
    """A userError on input.variants.<i> is about the i-th variant of the input: the failed message
    names its SKU (P1E6), in the text and in the detail, not only the field path."""
    _refused_on_its_cx6_barcode(monkeypatch)
    installed.mutations.reject_seq = "1"

    result = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

    assert result.failed == 1
    text, user_errors = _refusal(installed)
    assert "SKU P1E6" in text and "Barcode is invalid" in text and "input.variants.1.barcode" in text
    assert (user_errors[0]["sku"], user_errors[0]["field"]) == ("P1E6", ["input", "variants", "1", "barcode"])


def test_a_product_the_bulk_operation_rejects_names_the_sku_shopify_refused(
    installed: InstalledShop, monkeypatch
) -> None:
    """The same on the bulk path: the result line's userErrors name the refused variant's SKU."""
    sandbox_bulk = installed.shopify.sandbox.bulk
    original = sandbox_bulk._line

    def refuses_product_1(executor, shop, op, raw, number):
        out = original(executor, shop, op, raw, number)
        custom_id = (json.loads(raw).get("identifier") or {}).get("customId") or {}  # not the publish lines
        if custom_id.get("value") == "1":
            refusal = copy.deepcopy(conftest.REJECTED)["data"]
            refusal["productSet"]["userErrors"][0]["field"] = ["input", "variants", "1", "barcode"]
            out["data"] = refusal
        return out

    monkeypatch.setattr(sandbox_bulk, "_line", refuses_product_1)
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)

    assert result.failed == 1
    text, user_errors = _refusal(installed)
    assert "SKU P1E6" in text and user_errors[0]["sku"] == "P1E6"


def test_the_dry_run_names_an_unreadable_sku_record_and_previews_the_rest(installed) -> None:
    """One ERP SKU record the client cannot read: the sync reads on and fails that record alone
    (jobs.catalog_malformed); the dry run previews what that sync would do, names the record, and
    retires nothing of its product (a packaging not read is not a packaging missing)."""
    from jobs import catalog_diff, catalog_flow

    from .test_malformed_records import sku_record_served_with

    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with sku_record_served_with("P7E1", qtdEmbalagem=None):
        full = catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
        assert full.failed == 0
        diff = catalog_diff.compute(installed.shop_id)
    assert diff["counts"]["archive"] == 0 and diff["counts"]["change"] == 0, diff["counts"]
    assert diff["counts"]["unreadable"] == 1
    [unread] = diff["unreadable"]
    assert "P7E1" in unread["record"] and "qtdEmbalagem" in unread["problem"]
    client.close()


def test_the_dry_run_closes_the_shopify_client_it_opened_for_drift(
    installed: InstalledShop, monkeypatch
) -> None:
    from shopify_app.admin_api.client import AdminClient

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    closed: list[AdminClient] = []
    real_close = AdminClient.close

    def close(self: AdminClient) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(AdminClient, "close", close)
    result = catalog_diff.compute(installed.shop_id, drift=True)
    assert result["drift"] == [] and len(closed) == 1
