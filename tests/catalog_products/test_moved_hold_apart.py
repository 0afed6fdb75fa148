"""The skus pass's held packagings (jobs.catalog_unlisted.moved, MOVED_PACKAGINGS_HELD) and a full
sync's (UNLISTED_PACKAGINGS_HELD) are held in two messages: when they shared one, a later hold of
either rewrote the other's, and the packagings that one named stayed on sale, named nowhere, its
Retry (absence.confirmed_by reads the message's detail) confirming them no more. A later skus-pass
hold names what the earlier one still holds; a full sync decides them all again and closes the
skus pass's message, saying in words what became of its packagings."""

from __future__ import annotations

from sqlalchemy import select

from jobs import absence, catalog_flow, catalog_unlisted
from ledger.db import session_scope
from ledger.models import Message
from shopify_app import catalog_hold_words

from .conftest import InstalledShop
from .test_full_sync_unlisted import _active
from .test_moved_away_held import _move_many


def _message(shop_id: int, unit: str) -> Message | None:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == catalog_unlisted.FLOW,
                Message.unit_key == unit,
            )
        ).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


def _write(record) -> None:
    with session_scope() as session:
        record(session)


def test_a_skus_pass_hold_keeps_what_the_full_sync_held(installed: InstalledShop) -> None:
    """A full sync held X (on sale until a person confirms); a skus pass then holds Y: both are
    named, each message's Retry confirms its own."""
    shop_id = installed.shop_id
    full_gone = {seq: [f"F{seq}A", f"F{seq}B"] for seq in range(1, 31)}
    _write(catalog_unlisted._hold(shop_id, full_gone, [], 200, None, "too many", 0))
    moved_gone = {seq: [f"M{seq}A", f"M{seq}B"] for seq in range(100, 130)}
    found = catalog_unlisted.moved(shop_id, moved_gone, {}, 200)
    assert found.held and not found.gone  # held for a person, none retired
    _write(found.record)

    full = _message(shop_id, catalog_unlisted.UNIT)
    moved = _message(shop_id, catalog_unlisted.MOVED_UNIT)
    x = {i for ids in full_gone.values() for i in ids}
    y = {i for ids in moved_gone.values() for i in ids}
    assert full.status == "failed" and full.error_detail["code"] == "UNLISTED_PACKAGINGS_HELD"
    assert set(full.error_detail["skus"]) == x and "did not list 60 packaging(s)" in full.error_text
    assert moved.status == "failed" and moved.error_detail["code"] == "MOVED_PACKAGINGS_HELD"
    assert set(moved.error_detail["skus"]) == y and "no longer listed 60 packaging(s)" in moved.error_text
    assert absence.confirmed_by(full) == x and absence.confirmed_by(moved) == y


def test_a_later_skus_pass_hold_still_names_what_an_earlier_one_held(installed: InstalledShop) -> None:
    shop_id = installed.shop_id
    first = {seq: [f"M{seq}A", f"M{seq}B"] for seq in range(100, 130)}
    _write(catalog_unlisted.moved(shop_id, first, {}, 200).record)
    later = {seq: [f"N{seq}A", f"N{seq}B"] for seq in range(200, 230)}
    _write(catalog_unlisted.moved(shop_id, later, {}, 200).record)

    moved = _message(shop_id, catalog_unlisted.MOVED_UNIT)
    both = {i for gone in (first, later) for ids in gone.values() for i in ids}
    assert set(moved.error_detail["skus"]) == both and moved.error_detail["count"] == 120
    assert "no longer listed 120 packaging(s) of 60 product(s)" in moved.error_text
    assert "60 of them were held by an earlier pass" in moved.error_text
    assert absence.confirmed_by(moved) == both
    assert _message(shop_id, catalog_unlisted.UNIT) is None  # the full sync's unit untouched


def _moved_hold(installed: InstalledShop, client, monkeypatch) -> tuple[list[str], dict[str, bool]]:
    """The skus pass holds many changed products' lost packagings (the thresholds lowered)."""
    monkeypatch.setattr(absence, "HELD_MIN", 2)  # this small chain's catalog
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # initial load
    before = _active(installed)
    lost, _moved = _move_many(installed)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    held = _message(installed.shop_id, catalog_unlisted.MOVED_UNIT)
    assert held.status == "failed" and sorted(held.error_detail["skus"]) == lost
    assert _active(installed) == before
    return lost, before


def test_a_full_sync_that_holds_them_too_names_them_and_closes_the_skus_pass_message(
    installed: InstalledShop, monkeypatch
) -> None:
    client = installed.client()
    lost, before = _moved_hold(installed, client, monkeypatch)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)  # an ordinary full sync

    assert _active(installed) == before  # still none retired
    full = _message(installed.shop_id, catalog_unlisted.UNIT)
    assert full.status == "failed" and set(lost) <= set(full.error_detail["skus"])  # named there now
    moved = _message(installed.shop_id, catalog_unlisted.MOVED_UNIT)
    assert moved.status == "done" and absence.confirmed_by(moved) == frozenset()
    response = moved.response_payload
    assert (response["count"], response["retired"], response["held"]) == (len(lost), 0, len(lost))
    assert f"{len(lost)} held again for a person" in response["note"]
    said = catalog_hold_words.in_locale(response, "pt-BR")["note"]
    assert f"{len(lost)} retida(s) de novo para uma pessoa" in said
    client.close()


def test_a_full_sync_that_retires_them_closes_the_skus_pass_message_saying_so(
    installed: InstalledShop, monkeypatch
) -> None:
    client = installed.client()
    lost, _before = _moved_hold(installed, client, monkeypatch)
    monkeypatch.setattr(absence, "HELD_MIN", 10_000)  # this time they are not "many"
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)

    active = _active(installed)
    assert not any(active[s] for s in lost)
    assert _message(installed.shop_id, catalog_unlisted.UNIT) is None  # nothing held by the full sync
    moved = _message(installed.shop_id, catalog_unlisted.MOVED_UNIT)
    assert moved.status == "done"
    response = moved.response_payload
    assert (response["retired"], response["held"], response["kept"]) == (len(lost), 0, 0)
    said = catalog_hold_words.in_locale(response, "en")["note"]
    assert f"decided the {len(lost)} packaging(s) this message named: {len(lost)} retired" in said
    client.close()
