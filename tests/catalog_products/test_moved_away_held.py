"""The skus pass retires the packagings a changed product no longer lists (catalog_cache.moved_away),
but as the full sync (jobs.catalog_unlisted), absence is no proof when it is large: an ERP that,
in one incremental window, serves many changed products with only some of their packagings (a
wrong store pair, a glitch in MAP_FAMEMBALAGEM) looks exactly like those products moving to
smaller families. Many missing and a large share of the catalog (absence.HELD_MIN, HELD_SHARE):
none retired, one failed message asks a person, and its Retry (a full sync `confirmed` for what it
named) retires those still missing."""

from __future__ import annotations

from sqlalchemy import select

from jobs import absence, catalog_flow, catalog_unlisted
from ledger import trace
from ledger.db import session_scope
from ledger.models import Message
from shopify_app.api_explain import explain

from .conftest import InstalledShop
from .test_catalog_flows import products_by_seq
from .test_family_move import _move_to_a_family_with_the_unit_only
from .test_full_sync_unlisted import _active, _cached


def _held(shop: InstalledShop) -> Message | None:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(
                Message.shop_id == shop.shop_id,
                Message.flow == catalog_unlisted.FLOW,
                Message.unit_key == catalog_unlisted.MOVED_UNIT,
            )
        ).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


def _move_many(shop: InstalledShop) -> tuple[list[str], list[int]]:
    """Products with more than one packaging moved, one by one, to families with the unit only,
    until the packagings they lose are more than HELD_SHARE of the catalog's: (lost, moved)."""
    cached = _cached(shop)
    total = sum(len(e.skus) for e in cached.values())
    lost: list[str] = []
    moved: list[int] = []
    for seq in sorted(cached):
        if len(lost) > absence.HELD_SHARE * total:
            break
        others = sorted(i for i in cached[seq].skus if not i.endswith("E1"))
        if f"P{seq}E1" in cached[seq].skus and others:
            _move_to_a_family_with_the_unit_only(shop, seq)
            lost += others
            moved.append(seq)
    assert len(lost) > absence.HELD_SHARE * total and len(lost) > absence.HELD_MIN
    return sorted(lost), moved


def test_many_changed_products_losing_packagings_at_once_are_held_for_a_person(
    installed: InstalledShop, monkeypatch
) -> None:
    monkeypatch.setattr(absence, "HELD_MIN", 2)  # this small chain's catalog
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # initial load
    before = _active(installed)
    statuses = {seq: p["status"] for seq, p in products_by_seq(installed).items()}
    lost, moved = _move_many(installed)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)

    assert _active(installed) == before  # none retired
    assert {seq: p["status"] for seq, p in products_by_seq(installed).items()} == statuses
    held = _held(installed)
    assert held is not None and held.status == "failed" and trace.retried_alone(held)
    assert held.error_detail["code"] == "MOVED_PACKAGINGS_HELD"
    assert sorted(held.error_detail["skus"]) == lost and held.error_detail["count"] == len(lost)
    assert f"no longer listed {len(lost)} packaging(s)" in held.error_text and "Retry" in held.error_text
    told = explain(held, "pt-BR")  # the Messages page, in the merchant's words
    assert "produtos alterados no ERP" in told["what_happened"] and "Tentar de novo" in told["what_to_do"]
    again = catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert again.changed == 0 and _active(installed) == before  # the next pass leaves them too

    catalog_flow.replay(held.id, client=client)  # a person checked: the full sync retires them
    assert _held(installed).status == "done"
    active = _active(installed)
    assert not any(active[s] for s in lost)
    assert all(active[f"P{seq}E1"] == before[f"P{seq}E1"] for seq in moved)  # the unit kept as it was
    client.close()
