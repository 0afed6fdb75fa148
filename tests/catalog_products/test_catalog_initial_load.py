"""The initial load maps products while the ERP pages are in flight (jobs.catalog_initial.Stager):
what it sends must be exactly what mapping the merged cache gives."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import catalog_cache, catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND
from jobs.catalog_map import map_product
from ledger import bindings, watermarks
from ledger.db import session_scope
from ledger.models import Message, MessageStatus

from .conftest import InstalledShop


def sent_digests(shop_id: int) -> dict[int, str]:
    with session_scope() as session:
        seqs = catalog_cache.all_seqs(session, shop_id)
        found = bindings.get_many(session, shop_id, PRODUCT_KIND, [str(s) for s in seqs])
        return {int(k): b.digest for k, b in found.items()}


def expected_digests(shop_id: int) -> dict[int, str]:
    with session_scope() as session:
        entries = catalog_cache.load(session, shop_id, catalog_cache.all_seqs(session, shop_id))
    return {seq: map_product(e.product, e.skus.values()).digest for seq, e in entries.items() if e.complete}


def test_mapping_mid_read_sends_what_the_cache_maps_to(installed: InstalledShop, monkeypatch) -> None:
    monkeypatch.setattr(catalog_flow, "PREMAP_EVERY", 1)  # map after every SKU: products re-mapped often
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert (result.created, result.failed) == (38, 0)
    assert sent_digests(installed.shop_id) == expected_digests(installed.shop_id)


def test_a_cached_packaging_the_read_did_not_return_is_still_sent(
    installed: InstalledShop, monkeypatch
) -> None:
    """A full load over an existing cache: the merged entry (not the records just read) decides."""
    monkeypatch.setattr(catalog_flow, "PREMAP_EVERY", 1)
    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    with session_scope() as session:
        seq = catalog_cache.all_seqs(session, installed.shop_id)[0]
        entry = catalog_cache.load(session, installed.shop_id, [seq])[seq]
        kept = dict(next(iter(entry.skus.values())))
        kept.update(id_sku=f"P{seq}E999", qtd_embalagem="999", changed_at="2001-01-01T00:00:00+00:00")
        catalog_cache.merge(session, installed.shop_id, skus=[kept])

    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert result.failed == 0 and result.changed == 1
    with session_scope() as session:
        binding = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(seq)])[str(seq)]
    assert f"P{seq}E999" in binding.data["skus"]
    assert sent_digests(installed.shop_id) == expected_digests(installed.shop_id)


@pytest.mark.parametrize("every", [1, 3, 7])
def test_messages_begun_mid_read_are_one_attempt_each_and_match_what_was_sent(
    installed: InstalledShop, monkeypatch, every: int
) -> None:
    """Messages are begun batch by batch during the read (jobs/catalog_initial.py); a product
    mapped again when more packagings arrive keeps its one attempt, with the final request."""
    monkeypatch.setattr(catalog_flow, "PREMAP_EVERY", every)
    result = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)
    assert (result.created, result.failed) == (38, 0)
    with session_scope() as session:
        messages = session.scalars(
            select(Message).where(Message.shop_id == installed.shop_id, Message.flow == "products")
        ).all()
    digests = sent_digests(installed.shop_id)
    assert len(messages) == len(digests) == 38
    for message in messages:
        seq = int(message.unit_key.split(":")[1])
        assert (message.status, message.attempts) == (MessageStatus.DONE.value, 1), message.unit_key
        assert message.request_payload["digest"] == digests[seq]
        assert message.response_payload["product_id"] == message.shopify_id


def test_the_collector_is_paused_for_the_read_then_runs_on_what_was_frozen() -> None:
    import gc

    assert gc.isenabled() and gc.get_freeze_count() == 0
    with catalog_flow.collector_paused() as resume:
        assert not gc.isenabled()  # the read and its staging
        kept = [[i] for i in range(1000)]  # what the read leaves alive
        resume()
        assert gc.isenabled() and gc.get_freeze_count() >= len(kept)  # the bulk upload and poll
        resume()  # once is enough
    assert gc.isenabled() and gc.get_freeze_count() == 0  # unfrozen when the load ends


def test_the_collector_comes_back_after_a_failed_read() -> None:
    import gc

    with pytest.raises(RuntimeError), catalog_flow.collector_paused():
        raise RuntimeError("ERP down mid-read")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_cache_rows_are_written_once_each_after_the_read_and_committed_even_if_the_push_fails(
    installed: InstalledShop, monkeypatch
) -> None:
    """The ERP cache is written after the read (each product once, in its final state) while the
    push runs, and committed before anything else happens; a failed push moves no watermark."""
    monkeypatch.setattr(catalog_flow, "PREMAP_EVERY", 1)  # products staged again and again mid-read
    monkeypatch.setattr(catalog_flow, "INITIAL_PAGE_SIZE", 4)  # over many pages
    written: list[list[str]] = []
    write_encoded = bindings.write_encoded

    def counting(session, shop_id, kind, rows):
        if kind == catalog_cache.CACHE_KIND:
            written.append([row[0] for row in rows])
        return write_encoded(session, shop_id, kind, rows)

    class PushFailed(Exception):
        pass

    def push(*_args, **_kwargs):
        raise PushFailed

    monkeypatch.setattr(bindings, "write_encoded", counting)
    monkeypatch.setattr(catalog_flow, "sync", push)
    with pytest.raises(PushFailed):
        catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=True)

    assert len(written) == 1 and len(written[0]) == len(set(written[0])) == 38
    with session_scope() as session:
        assert len(catalog_cache.all_seqs(session, installed.shop_id)) == 38
        for flow in ("products", "skus"):
            assert watermarks.read(session, installed.shop_id, flow).last_changed_at is None


def test_cache_rows_wait_for_the_push_to_report_progress_then_commit_before_the_load_ends(
    installed: InstalledShop, monkeypatch
) -> None:
    """The cache rows' encoding starts once Shopify reports the push's progress (the JSONL is
    built by then), so it never competes with building the JSONL; the load returns only after
    they are committed and the watermarks moved."""
    started: list[str] = []
    write_cache = catalog_flow.catalog_initial.Stager.write_cache

    def noting(stager):
        started.append("cache")
        return write_cache(stager)

    def push(ctx, flow, seqs, *, progress, **_kwargs):
        started.append("jsonl built")
        progress(0, len(seqs))
        progress(len(seqs), len(seqs))
        return catalog_flow.SyncResult(created=len(seqs))

    monkeypatch.setattr(catalog_flow.catalog_initial.Stager, "write_cache", noting)
    monkeypatch.setattr(catalog_flow, "sync", push)
    reported: list[tuple[int, int]] = []
    catalog_flow.initial_load(
        installed.shop_id, client=installed.client(), bulk=True, progress=lambda d, t: reported.append((d, t))
    )

    assert started == ["jsonl built", "cache"]  # started once, at the first report
    assert reported == [(0, 38), (38, 38)]  # the caller's progress still gets every report
    with session_scope() as session:
        assert len(catalog_cache.all_seqs(session, installed.shop_id)) == 38
        assert watermarks.read(session, installed.shop_id, "products").last_changed_at is not None


def test_a_full_sync_retires_packagings_the_erp_no_longer_lists(installed: InstalledShop) -> None:
    """Product 1 moves to a family with other packagings: the ERP stops listing P1E6. A full sync
    keeps its variant (never deleted) but takes it off sale; the packagings read stay on sale."""
    from sandbox.consinco import tables as t

    from .test_catalog_flows import doc, products_by_seq

    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)
    assert {v["sku"] for v in products_by_seq(installed)[1]["variants"]} == {"P1E1", "P1E6"}
    family = next(
        f for f in range(2, 10) if {int(q) for q in _packagings(installed, f)} == {1, 12}
    )  # a family with UN and CX-12 only
    with installed.erp.erp.store.write() as (conn, now):
        p = t.map_produto
        conn.execute(p.update().where(p.c.seqproduto == 1).values(seqfamilia=family, dtahoralteracao=now))

    catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)  # catalog sync --full
    variants = {v["sku"]: v for v in products_by_seq(installed)[1]["variants"]}
    assert set(variants) == {"P1E1", "P1E6", "P1E12"}
    assert doc(installed, variants["P1E6"]["id"])["inventoryPolicy"] == "DENY"
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, "variant", ["P1E6", "P1E12"])
        rechecks = bindings.get_many(session, installed.shop_id, "stock_recheck", ["P1E6"])
    assert (bound["P1E6"].data["active"], bound["P1E12"].data["active"]) == (False, True)
    assert set(rechecks) == {"P1E6"}  # the stock flow zeroes it
    again = catalog_flow.initial_load(installed.shop_id, client=installed.client(), bulk=False)
    assert again.changed == 0  # retired once


def test_a_full_sync_retires_every_packaging_of_a_product_the_erp_lists_without_any(
    installed: InstalledShop,
) -> None:
    """Product 1 is still in ProdutoCV but its family has no packaging left: a full sync retires
    both its packagings (inactive variants, never deleted) and the product leaves the sale
    (`inactive_sku_status`), exactly as when only one of its packagings disappears."""
    from sandbox.consinco import tables as t

    from .erp_writes import family_of
    from .test_catalog_flows import products_by_seq

    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert products_by_seq(installed)[1]["status"] == "ACTIVE"
    with installed.erp.erp.store.write() as (conn, _now):
        e = t.map_famembalagem
        conn.execute(e.delete().where(e.c.seqfamilia == family_of(installed.erp, 1)))

    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)  # catalog sync --full

    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, "variant", ["P1E1", "P1E6"])
    assert {sku: b.data["active"] for sku, b in bound.items()} == {"P1E1": False, "P1E6": False}
    assert products_by_seq(installed)[1]["status"] == "DRAFT"
    client.close()


def _packagings(shop: InstalledShop, family: int) -> list:
    from sandbox.consinco import tables as t

    e = t.map_famembalagem
    with shop.erp.erp.store.read() as conn:
        return list(conn.execute(select(e.c.qtdembalagem).where(e.c.seqfamilia == family)).scalars())
