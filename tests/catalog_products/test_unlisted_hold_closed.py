"""A full sync's held message (catalog:unlisted, UNLISTED_PACKAGINGS_HELD) closed by a later full
sync that holds nothing, because the ERP lists its packagings again or a person's Retry retired
them, says in pt-BR and en what became of the packagings it named, as the skus pass's held
message does (catalog_hold_words): it was closed with bare counts, no words, and the page showed
nothing a merchant could read of why it was done."""

from __future__ import annotations

from jobs import catalog_flow, catalog_unlisted
from ledger.db import session_scope
from shopify_app import api_messages

from .conftest import InstalledShop
from .test_full_sync_unlisted import _active, _held
from .test_unlisted_retry import _held_for_family_1


def _write(record) -> None:
    with session_scope() as session:
        record(session)


def test_a_retry_that_retires_them_closes_the_message_saying_so_in_both_languages(
    installed: InstalledShop, monkeypatch
) -> None:
    client = installed.client()
    _f1, seen = _held_for_family_1(installed, client, monkeypatch)
    catalog_flow.replay(_held(installed).id, client=client)  # the person checked: Retry
    assert not any(_active(installed)[s] for s in seen)

    held = _held(installed)
    assert held.status == "done"
    response = held.response_payload
    assert (response["count"], response["retired"], response["kept"]) == (len(seen), len(seen), 0)
    assert (response["unlisted"], response["confirmed"]) == (len(seen), len(seen))
    assert (
        f"Of the {len(seen)} packaging(s) this message named: {len(seen)} retired, 0 left" in response["note"]
    )
    said = api_messages._said(held, "pt-BR")["note"]  # the message's page, in pt-BR (RESPONSE_WORDS)
    assert f"Das {len(seen)} embalagem(ns) que esta mensagem listava: {len(seen)} retirada(s)" in said
    assert api_messages._said(held, "en")["note"] == response["note"]
    client.close()


def test_a_full_sync_that_finds_them_listed_again_closes_the_message_saying_so(
    installed: InstalledShop,
) -> None:
    shop_id = installed.shop_id
    gone = {seq: [f"F{seq}A", f"F{seq}B"] for seq in range(1, 31)}
    _write(catalog_unlisted._hold(shop_id, gone, [], 200, None, "too many", 0))
    _write(catalog_unlisted.sweep(shop_id, None, None, {}, {}, confirmed=()).record)  # none missing now

    held = _held(installed)
    assert held.status == "done"
    response = held.response_payload
    assert (response["count"], response["retired"], response["kept"], response["unlisted"]) == (60, 0, 60, 0)
    assert "60 left as they were" in response["note"]
    said = api_messages._said(held, "pt-BR")["note"]
    assert "0 retirada(s), 60 mantida(s) como estavam" in said
    assert "Ao todo, ela retirou 0 embalagem(ns)." in said
