"""A full sync (`catalog sync --full`) retires the packagings the ERP no longer lists
(jobs.catalog_unlisted), but absence from one read is no proof: a packaging changed while the
read ran leaves its window, a read the client cannot prove whole may have stopped early, and a
large share of the catalog missing is a read problem, not packagings gone. Nothing is retired
on such a read; a person is asked instead, and their Retry retires what is still missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from erp import paging
from jobs import absence, catalog_cache, catalog_diff, catalog_flow, catalog_unlisted
from jobs.catalog_ledger import VARIANT_KIND
from ledger import trace
from ledger.db import session_scope
from ledger.models import Binding, Message
from sandbox.consinco import tables as t
from shopify_app import dry_run_words

from .conftest import InstalledShop
from .erp_writes import clear_weights, family_of, set_packaging_status
from .test_catalog_flows import products_by_seq


def _active(shop: InstalledShop) -> dict[str, bool]:
    with session_scope() as session:
        rows = session.scalars(
            select(Binding).where(Binding.shop_id == shop.shop_id, Binding.kind == VARIANT_KIND)
        )
        return {row.erp_id: bool((row.data or {}).get("active")) for row in rows}


def _cached(shop: InstalledShop) -> dict[int, catalog_cache.CachedProduct]:
    with session_scope() as session:
        return catalog_cache.load(session, shop.shop_id, catalog_cache.all_seqs(session, shop.shop_id))


def _held(shop: InstalledShop) -> Message | None:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(
                Message.shop_id == shop.shop_id,
                Message.flow == catalog_unlisted.FLOW,
                Message.unit_key == catalog_unlisted.UNIT,
            )
        ).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


def _drop_packagings(shop: InstalledShop, families: list[int]) -> None:
    e = t.map_famembalagem
    with shop.erp.erp.store.write() as (conn, _now):
        conn.execute(e.delete().where(e.c.seqfamilia.in_(families)))


def _skus_of_families(shop: InstalledShop, families: set[int]) -> list[str]:
    return sorted(
        id_sku
        for seq, entry in _cached(shop).items()
        if family_of(shop.erp, seq) in families
        for id_sku in entry.skus
    )


def test_a_packaging_changed_during_the_full_read_is_not_retired(
    installed: InstalledShop, monkeypatch
) -> None:
    """While the full read runs (small pages), the ERP changes a packaging not served yet (its
    weight cleared: MAP_FAMEMBALAGEM.DTAHORALTEMBPRECO moves): its ProdutoSku row leaves the
    read's window. It was taken for a packaging the ERP no longer has and retired (an inactive
    variant, off sale, stock zeroed). Now a read of the changes since the snapshot lists it:
    it stays on sale, and the next skus pass brings its change."""
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    before = _active(installed)
    last: dict[str, Any] = max(
        (record for entry in _cached(installed).values() for record in entry.skus.values()),
        key=lambda r: (r["changed_at"], int(r["seq_produto"]), float(r["qtd_embalagem"])),
    )  # the row served last
    family, qtd = family_of(installed.erp, int(last["seq_produto"])), int(float(last["qtd_embalagem"]))
    changed = [s for s in _skus_of_families(installed, {family}) if s.endswith(f"E{qtd}")]
    assert last["id_sku"] in changed and all(before[s] for s in changed)
    monkeypatch.setattr(catalog_flow, "INITIAL_PAGE_SIZE", 5)
    fired: list[int] = []

    def before_page(name: str, params: Any) -> None:
        if name == "ProdutoSku" and (params.get("cursor") or params.get("dtahorsnapshot")) and not fired:
            fired.append(1)  # the second page of the SKU read: the last row is not served yet
            clear_weights(installed.erp, family, qtd)

    installed.erp.erp.pager.before_page = before_page
    try:
        catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)  # catalog sync --full
    finally:
        installed.erp.erp.pager.before_page = None
    assert fired
    assert _active(installed) == before  # nothing retired
    assert products_by_seq(installed)[int(last["seq_produto"])]["status"] == "ACTIVE"
    held = _held(installed)
    assert held is None or held.status == "done"

    catalog_flow.run_flow(installed.shop_id, "skus", client=client)  # the ordinary pass: its new weight
    entry = _cached(installed)[int(last["seq_produto"])]
    assert entry.skus[last["id_sku"]]["gross_weight"] is None and not entry.skus[last["id_sku"]].get("gone")
    assert _active(installed) == before
    client.close()


def test_a_read_the_client_cannot_prove_whole_retires_nothing(installed: InstalledShop, monkeypatch) -> None:
    """Product 1's family loses its packagings in the ERP, but the SKU read's end is not attested
        (no hasNext nor total, pages capped: erp.paging _Coverage.doubt): it may have stopped early, so
        nothing is retired and one failed message names the packagings and why. The dry run says so
    before."""
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    family = family_of(installed.erp, 1)
    gone = _skus_of_families(installed, {family})
    _drop_packagings(installed, [family])
    monkeypatch.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")
    diff = catalog_diff.compute(installed.shop_id)  # the dry run says what the sync will do
    assert diff["counts"]["change"] == diff["counts"]["archive"] == 0, diff["counts"]
    assert sorted(diff["held"]["skus"]) == gone and "no hasNext, pages capped" in diff["held"]["why"]
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert all(_active(installed)[s] for s in gone)
    assert products_by_seq(installed)[1]["status"] == "ACTIVE"
    held = _held(installed)
    assert held is not None and held.status == "failed" and trace.retried_alone(held)
    assert held.error_detail["code"] == "UNLISTED_PACKAGINGS_HELD"
    assert sorted(held.error_detail["skus"]) == gone
    assert "does not prove the read whole (no hasNext, pages capped)" in held.error_text
    assert "P1E1 of product 1" in held.error_text
    client.close()


def test_many_packagings_missing_stay_for_a_person_and_the_retry_retires_them(
    installed: InstalledShop, monkeypatch
) -> None:
    """A large share of the packagings missing from the full read (a read cut short looks the
    same as families emptied in the ERP; thresholds lowered to this small chain): none retired,
    one failed message says how many, names them and the products that would leave the sale.
    A packaging the ERP itself deactivated (status I, still listed) goes off sale all the same.
    The message's Retry (a person checked) reads the catalog whole again and retires them."""
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    cached = _cached(installed)
    by_family: dict[int, set[int]] = {}
    for seq in cached:
        by_family.setdefault(family_of(installed.erp, seq), set()).add(seq)
    total = sum(len(e.skus) for e in cached.values())
    dropped = [family_of(installed.erp, 1)]
    for family in sorted(by_family, key=lambda f: (-len(by_family[f]), f)):
        if len(_skus_of_families(installed, set(dropped))) * 5 > total:  # more than 20% of the packagings
            break
        if family not in dropped:
            dropped.append(family)
    gone = _skus_of_families(installed, set(dropped))
    assert len(gone) * 5 > total
    kept_family = next(f for f in sorted(by_family) if f not in dropped)
    deactivated = f"P{min(by_family[kept_family])}E1"
    assert deactivated in cached[min(by_family[kept_family])].skus
    _drop_packagings(installed, dropped)
    set_packaging_status(installed.erp, kept_family, 1, "I")  # the ERP's own flag: the ordinary path

    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    active = _active(installed)
    assert all(active[s] for s in gone)
    assert products_by_seq(installed)[1]["status"] == "ACTIVE"
    assert active[deactivated] is False
    held = _held(installed)
    assert held is not None and held.status == "failed" and trace.retried_alone(held)
    assert sorted(held.error_detail["skus"]) == gone and held.error_detail["count"] == len(gone)
    assert 1 in held.error_detail["products_off_sale"]
    assert f"did not list {len(gone)} packaging(s)" in held.error_text and "Retry" in held.error_text

    catalog_flow.replay(held.id, client=client)
    assert _held(installed).status == "done"
    active = _active(installed)
    assert not any(active[s] for s in gone)
    assert products_by_seq(installed)[1]["status"] != "ACTIVE"
    client.close()


def test_the_dry_runs_held_reason_and_waiting_products_are_said_in_the_pages_language(
    installed: InstalledShop, monkeypatch
) -> None:
    """The dry run (a real job's result) keeps its English reasons and their words beside them;
    the setup page's API says them in pt-BR (shopify_app.dry_run_words), not as the job's English."""
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    family = family_of(installed.erp, 1)
    _drop_packagings(installed, [family])
    monkeypatch.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")
    diff = catalog_diff.compute(installed.shop_id)
    assert diff["held"]["words"] == {"key": "held_read_unsure", "params": {}}
    pt = dry_run_words.in_locale(diff, "pt-BR")
    assert pt["held"]["why"].startswith("a resposta do ERP não prova que a leitura veio inteira")
    assert dry_run_words.in_locale(diff, "en")["held"]["why"].startswith("the ERP's answer does not prove")
    assert "no hasNext, pages capped" in diff["held"]["why"]  # the stored English keeps the detail
    client.close()
