"""Each ERP the shop's connection reaches keeps one generation (ledger.setup_moves.erp_moved): moving
back to an ERP the shop was on gives its number back, so its orders and events are its own again;
every move is counted (the fence's ERP check) and forgets the ERP cursors."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger import setup_moves, watermarks
from ledger.models import ErpConnection

PROD = "http://erp-prod.example.com.br/api"
HOMOLOG = "http://erp-homolog.example.com.br/api"
THIRD = "http://erp-outro.example.com.br/api"


def _connection(session, shop, base_url: str, **kept) -> ErpConnection:
    row = ErpConnection(shop_id=shop.id, base_url=base_url, username="u", password_enc=b"x", **kept)
    session.add(row)
    session.commit()
    return row


def _move(session, row: ErpConnection, to: str) -> dict[str, int]:
    before, row.base_url = row.base_url, to
    moved = setup_moves.erp_moved(session, row, before)
    session.commit()
    return moved


def test_moving_back_to_an_erp_gives_its_generation_back(session, shop) -> None:
    row = _connection(session, shop, PROD)
    assert _move(session, row, HOMOLOG)["erp_generation"] == 1
    # back on production, written another way (https, the default port): the same ERP (ledger.erp_place)
    assert _move(session, row, "HTTPS://erp-prod.example.com.br:443/api/")["erp_generation"] == 0
    assert _move(session, row, HOMOLOG)["erp_generation"] == 1
    assert _move(session, row, THIRD)["erp_generation"] == 2
    assert _move(session, row, PROD)["erp_generation"] == 0
    assert row.moves == 5
    assert row.places == {
        "erp-prod.example.com.br/api/": 0,
        "erp-homolog.example.com.br/api/": 1,
        "erp-outro.example.com.br/api/": 2,
    }


def test_a_move_back_still_reads_that_erp_whole(session, shop) -> None:
    """What production changed while the shop was on homologation never reached Shopify: its
    cursors are forgotten on the way back as on any move."""
    row = _connection(session, shop, PROD)
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    watermarks.advance(session, shop.id, "prices", "1:1", at, 0, at)
    _move(session, row, HOMOLOG)
    watermarks.advance(session, shop.id, "prices", "1:1", at, 0, at)
    assert _move(session, row, PROD)["cursors_forgotten"] == 1
    assert watermarks.read(session, shop.id, "prices", "1:1").last_changed_at is None


def test_a_connection_moved_before_the_places_were_kept_never_reuses_a_number(session, shop) -> None:
    """A row of before migration 0012 (generation 1, moves 1, no places): the ERP it was on first
    is not known, so a new ERP gets a number past every one used; the ERP it leaves keeps its own."""
    row = _connection(session, shop, HOMOLOG, generation=1, moves=1, places={})
    assert _move(session, row, PROD)["erp_generation"] == 2
    assert _move(session, row, HOMOLOG)["erp_generation"] == 1
    assert row.moves == 3
