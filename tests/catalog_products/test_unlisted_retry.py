"""The Retry of a full sync's held "catalog:unlisted" message is a person's confirmation of the
packagings that message named, and of nothing else (jobs.absence): what the new full read finds
missing besides follows the ordinary rule (unsure read, too many: held again, named); a message a
later sync closed confirms nothing; and a Retry that could not act says so on its message."""

from __future__ import annotations

from sqlalchemy import select

from erp import paging
from jobs import absence, catalog_flow
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from shopify_app import fail_words

from .conftest import InstalledShop
from .erp_writes import family_of
from .test_full_sync_unlisted import _active, _cached, _drop_packagings, _held, _skus_of_families
from .test_malformed_records import sku_record_served_with


def _unsure(monkeypatch) -> None:
    """The SKU read's end is not attested (erp.paging _Coverage.doubt): nothing proves a row absent."""
    monkeypatch.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")


def _held_for_family_1(installed: InstalledShop, client, monkeypatch) -> tuple[int, list[str]]:
    """Product 1's family loses its packagings, on a read the client cannot prove whole: held."""
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    f1 = family_of(installed.erp, 1)
    seen = _skus_of_families(installed, {f1})
    _drop_packagings(installed, [f1])
    _unsure(monkeypatch)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    held = _held(installed)
    assert held is not None and held.status == "failed" and sorted(held.error_detail["skus"]) == seen
    return f1, seen


def test_a_confirmed_retry_retires_only_the_packagings_its_message_named(
    installed: InstalledShop, monkeypatch
) -> None:
    """The message names family F1's packagings. Later F2's go missing too, on a read the client
    still cannot prove whole; the person checked F1 and clicks Retry. F1's are retired; F2's,
    never shown to anyone, stay on sale and the message now names them (the ordinary rule)."""
    client = installed.client()
    f1, seen = _held_for_family_1(installed, client, monkeypatch)
    f2 = sorted({family_of(installed.erp, s) for s in _cached(installed)} - {f1})[0]
    unseen = _skus_of_families(installed, {f2})
    _drop_packagings(installed, [f2])

    catalog_flow.replay(_held(installed).id, client=client)
    active = _active(installed)
    assert not any(active[s] for s in seen)  # what the person confirmed
    assert all(active[s] for s in unseen), "retired packagings no one was shown, on an unsure read"
    again = _held(installed)
    assert again.status == "failed" and sorted(again.error_detail["skus"]) == unseen
    assert f"the {len(seen)} packaging(s) confirmed by the Retry were retired" in again.error_text
    client.close()


def test_a_confirmed_retry_does_not_lift_the_threshold_for_what_else_is_missing(
    installed: InstalledShop, monkeypatch
) -> None:
    """Held: one family's packagings (the thresholds lowered so one family is "many"). At Retry
    time half the families are missing (a read cut short): only the confirmed ones are retired."""
    monkeypatch.setattr(absence, "HELD_MIN", 0)
    monkeypatch.setattr(absence, "HELD_SHARE", absence.Decimal("0"))
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    f1 = family_of(installed.erp, 1)
    seen = _skus_of_families(installed, {f1})
    _drop_packagings(installed, [f1])
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    held = _held(installed)
    assert held.status == "failed" and held.error_detail["count"] == len(seen)
    half = sorted({family_of(installed.erp, s) for s in _cached(installed)} - {f1})[::2]
    off = {s for s, on in _active(installed).items() if not on}  # (the ERP's own inactive ones)
    _drop_packagings(installed, half)

    catalog_flow.replay(held.id, client=client)
    retired = sorted(s for s, on in _active(installed).items() if not on and s not in off)
    assert retired == seen, f"person confirmed {len(seen)}, {len(retired)} retired"
    assert sorted(_held(installed).error_detail["skus"]) == _skus_of_families(installed, set(half))
    client.close()


def test_replaying_a_held_message_a_later_sync_closed_confirms_nothing(
    installed: InstalledShop, monkeypatch
) -> None:
    """The ERP listed F1's packagings again and a later full sync closed the message (done).
    Weeks later an operator clicks Replay on it (the Messages page allows Replay of done
    messages), on a read cut short: it is an ordinary full sync, which retires nothing on a read
    it cannot prove whole and holds what is missing for a person again."""
    client = installed.client()
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    f1 = family_of(installed.erp, 1)
    e = t.map_famembalagem
    with installed.erp.erp.store.read() as conn:
        rows = [dict(r) for r in conn.execute(select(e).where(e.c.seqfamilia == f1)).mappings()]
    _drop_packagings(installed, [f1])
    _unsure(monkeypatch)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    assert _held(installed).status == "failed"
    with installed.erp.erp.store.write() as (conn, now):  # the ERP's team puts them back
        for row in rows:
            conn.execute(e.insert().values(**{**row, "dtahoraltembpreco": now}))
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)
    held = _held(installed)
    assert held.status == "done"
    half = sorted({family_of(installed.erp, s) for s in _cached(installed)})[::2]
    off = {s for s, on in _active(installed).items() if not on}
    _drop_packagings(installed, half)  # a read cut short, weeks later

    catalog_flow.replay(held.id, client=client)  # "Replay" of the done message
    retired = {s for s, on in _active(installed).items() if not on} - off
    assert not retired, f"{len(retired)} packagings retired on an unsure read by replaying a done message"
    again = _held(installed)
    assert again.status == "failed" and sorted(again.error_detail["skus"]) == _skus_of_families(
        installed, set(half)
    )
    client.close()


def test_a_confirmed_retry_that_cannot_tell_says_why_nothing_was_retired(
    installed: InstalledShop, monkeypatch
) -> None:
    """The Retry's new full read serves a SKU record without its product (unreadable, and which
    product's packaging it is cannot be told: any of them may be it), so nothing is retired. The
    message no longer keeps its old text as if the Retry did nothing: it says why nothing was
    retired this time, still names the packagings, and a later Retry retires them."""
    client = installed.client()
    _f1, seen = _held_for_family_1(installed, client, monkeypatch)
    before = _held(installed)
    with sku_record_served_with("P7E1", seqProduto=None):
        catalog_flow.replay(before.id, client=client)
    assert all(_active(installed)[s] for s in seen)
    after = _held(installed)
    assert after.status == MessageStatus.FAILED.value and after.attempts == before.attempts + 1
    assert after.error_detail["code"] == "UNLISTED_PACKAGINGS_HELD"
    assert sorted(after.error_detail["skus"]) == seen and after.error_detail.get("retry_alone")
    assert "could not be read" in after.error_text and "none was retired this time" in after.error_text
    assert after.error_text != before.error_text
    assert fail_words.reason(after, "en") == after.error_text  # said as written; and in pt-BR
    assert "não pôde ser lido e não indica o produto" in fail_words.reason(after, "pt-BR")

    catalog_flow.replay(after.id, client=client)  # the record reads again: the Retry acts
    assert not any(_active(installed)[s] for s in seen)
    assert _held(installed).status == "done"
    client.close()
