"""A stock batch's message left failed (refused) or retrying (a transient failure its retries never
got past) is closed once later passes set every level it carried at the same company's location:
a batch's unit is its SKUs' digest, so a later pass sending them among other SKUs (or fewer of them)
writes another message and the first one would stay failed for ever, on the Messages page and in
the dashboard's failures, though Shopify has the levels. It is closed as superseded (skipped), its
reason naming the later message in the merchant's language and its own error kept in the detail.
A batch only partly set since stays failed as it is: its Retry sends the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from jobs import stock, stock_map, stock_superseded, stock_writer
from jobs.stock_map import LevelTarget
from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, VARIANT_KIND
from ledger.db import session_scope
from ledger.digest import digest
from ledger.errors import Rejected, Transient
from ledger.models import Binding, Message, MessageStatus, utcnow
from shopify_app.skip_words import reason

from .chain import messages
from .test_stock_ceiling import huge, unwritten


def _message(message_id: int) -> Message:
    with session_scope() as session:
        found = session.get(Message, message_id)
        assert found is not None
        session.expunge(found)
        return found


def _open_stock(shop_id: int) -> dict[str, int]:
    """The stock flow's failed and retrying units as the dashboard counts them (the companies the
    shop maps to no location are parked, as ever)."""
    with session_scope() as session:
        counts = trace.dashboard_counts(session, shop_id, utcnow() - timedelta(days=1)).get("stock", {})
    shown = (MessageStatus.FAILED.value, MessageStatus.RETRYING.value)
    return {status: n for status, n in counts.items() if status in shown}


def test_a_refused_batch_is_closed_once_a_later_pass_sets_its_levels(chain, monkeypatch):
    """The batch of 16 SKUs fails naming the one Shopify refused (the other 15 land); the next pass
    sends that SKU alone (another unit) and Shopify takes it: the first message is closed."""
    shop = chain.install("lote-substituido", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    big, data = huge(chain, shop, catalog, 5_000_000_000)
    ceiling = stock_map.MAX_LEVEL
    monkeypatch.setattr(stock_map, "MAX_LEVEL", 10**10)  # the ceiling missed: GraphQL refuses the figure
    stock.run(shop.shop_id)
    [failed] = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    original = failed.error_text
    assert _open_stock(shop.shop_id) == {"failed": 1}
    monkeypatch.setattr(stock_map, "MAX_LEVEL", ceiling)
    second = stock.run(shop.shop_id)
    assert second.failed == [] and unwritten(chain, shop, catalog, big) == {}
    later = [
        m for m in messages(shop.shop_id, "stock") if m.id != failed.id and m.request_payload.get("skus")
    ]
    assert [(m.request_payload["skus"], m.status) for m in later] == [([big], MessageStatus.DONE.value)]
    closed = _message(failed.id)
    assert closed.status == MessageStatus.SKIPPED.value and closed.error_class is None
    assert _open_stock(shop.shop_id) == {}
    # why, naming the later message, in English (logs, search) and in the merchant's words
    assert f"#{later[0].id}" in closed.error_text and "company 1" in closed.error_text
    assert closed.error_detail["skip"] == {
        "key": "stock_superseded",
        "params": {"company": 1, "ids": [f"#{later[0].id}"]},
    }
    assert reason(closed, "pt-BR") == (
        f"Substituída: os níveis deste lote no local da empresa 1 foram gravados depois pela(s) mensagem(ns) "
        f"#{later[0].id}; nada mais a fazer (o erro original fica no detalhe)"
    )
    assert reason(closed, "en") == (
        f"Superseded: this batch's levels at company 1's location were set later by message(s) "
        f"#{later[0].id}; nothing left to do (the original error is kept in the detail)"
    )
    # its own error kept for history: the refusal as it was, and Shopify's words per SKU
    assert closed.error_detail["superseded"]["status"] == MessageStatus.FAILED.value
    assert closed.error_detail["superseded"]["error_class"] == "rejected"
    assert closed.error_detail["superseded"]["error_text"] == original
    assert closed.error_detail["superseded"]["by"] == [later[0].id]
    assert [e["sku"] for e in closed.error_detail["user_errors"]] == [big]
    assert chain.level(shop, data["inventory_item_id"], 1) == stock_map.MAX_LEVEL


def test_a_batch_left_retrying_is_closed_once_a_later_pass_sets_its_levels(chain, monkeypatch):
    """A first batch of 4 meets Shopify down (transient, its retries spent: it stays retrying); the
    next pass writes all 16 levels in one batch, another unit: the retrying message is closed."""
    shop = chain.install("lote-transitorio", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    monkeypatch.setattr(stock, "BATCH_SIZE", 4)

    def down(*args, **kwargs):
        raise Transient("Shopify answered 503")

    with monkeypatch.context() as patched:
        patched.setattr(stock_writer, "set_available", down)
        with pytest.raises(Transient):
            stock.run(shop.shop_id)
    [stuck] = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.RETRYING.value]
    assert len(stuck.request_payload["skus"]) == 4
    monkeypatch.setattr(stock, "BATCH_SIZE", 250)
    stock.run(shop.shop_id)
    assert unwritten(chain, shop, catalog, None) == {}
    [later] = [
        m for m in messages(shop.shop_id, "stock") if m.id != stuck.id and m.request_payload.get("skus")
    ]
    assert later.status == MessageStatus.DONE.value and set(stuck.request_payload["skus"]) < set(
        later.request_payload["skus"]
    )
    closed = _message(stuck.id)
    assert closed.status == MessageStatus.SKIPPED.value
    assert closed.error_detail["superseded"]["status"] == MessageStatus.RETRYING.value
    assert closed.error_detail["superseded"]["error_text"] == "Shopify answered 503"
    assert closed.error_detail["skip"]["params"]["ids"] == [f"#{later.id}"]
    assert _open_stock(shop.shop_id) == {}


def test_a_batch_only_partly_set_since_stays_failed_until_the_rest_is(chain, monkeypatch):
    """Two SKUs of a batch of 4 refused; the next pass sends those two (another unit) and Shopify
    takes one, refusing the other again: the first batch, only partly set since, stays failed as it
    was (what it still lacks is named on the later batch's failure too). Once the last level lands,
    both earlier messages are closed, naming the message that did it."""
    shop = chain.install("lote-parcial", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    real = stock_writer.set_available
    by_item = {d["inventory_item_id"]: sku for sku, d in catalog.items()}
    refused: set[str] = set()

    def picky(client, quantities, **kwargs):
        skus = sorted(by_item[q["inventoryItemId"]] for q in quantities)
        if not refused:  # the first call, a batch of 4: its two lowest (split down to them)
            refused.update(skus[:2])
        if refused & set(skus):
            raise Rejected("Shopify refused the request", system="shopify", code="REFUSED")
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock, "BATCH_SIZE", 4)
    monkeypatch.setattr(stock_writer, "set_available", picky)
    first = stock.run(shop.shop_id)
    assert sorted(first.failed) == sorted(refused)
    [batch] = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    original = batch.error_text
    kept, still = sorted(refused)
    refused.discard(kept)
    monkeypatch.setattr(stock, "BATCH_SIZE", 250)
    second = stock.run(shop.shop_id)
    assert second.failed == [still]
    left = _message(batch.id)  # partly set: left as it was
    assert (left.status, left.error_text) == (MessageStatus.FAILED.value, original)
    assert left.error_detail.get("superseded") is None
    [pair] = [m for m in messages(shop.shop_id, "stock") if m.request_payload.get("skus") == [kept, still]]
    assert pair.status == MessageStatus.FAILED.value
    assert [e["sku"] for e in pair.error_detail["user_errors"]] == [still]
    assert _open_stock(shop.shop_id) == {"failed": 2}
    refused.discard(still)
    refused.add("none")  # nothing refused any more (and no first call to pick from)
    third = stock.run(shop.shop_id)
    assert third.failed == [] and unwritten(chain, shop, catalog, None) == {}
    [last] = [m for m in messages(shop.shop_id, "stock") if m.request_payload.get("skus") == [still]]
    assert last.status == MessageStatus.DONE.value
    for earlier in (batch, pair):
        closed = _message(earlier.id)
        assert closed.status == MessageStatus.SKIPPED.value
        assert closed.error_detail["superseded"]["by"] == [last.id]
    assert _open_stock(shop.shop_id) == {}


def _batch(shop_id: int, company: int, location: str, targets: dict[str, int], refused: list[str]) -> int:
    """A batch's message as the writer leaves it failed: its SKUs, their targets, Shopify's refusals."""
    skus = sorted(targets)
    with session_scope() as session:
        message = trace.begin(
            session,
            shop_id,
            "stock",
            f"stock:{company}:{digest(skus)[:16]}",
            "erp_to_shopify",
            request={"nro_empresa": company, "location_id": location, "skus": skus, "targets": targets},
        )
        errors = [{"sku": sku, "message": "refused", "code": "REFUSED"} for sku in refused]
        trace.fail(session, message, Rejected("refused", system="shopify", detail={"user_errors": errors}))
        return message.id


def test_the_rules_a_batchs_skus_are_set_or_no_longer_due_by(chain):
    """A SKU at the level the batch carried (not one it names refused), one with no variant any more,
    one with no stock control now: set or no longer due, so the batch is closed, saying later passes
    did it (none of this pass is named). A SKU it names refused, whose binding kept its old level,
    keeps its batch failed; a batch of another location is left as it is."""
    shop = chain.install("regras-substituido", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    location = shop.locations[1]
    with session_scope() as session:
        levels = bindings.get_many(session, shop.shop_id, STOCK_KIND, [f"1:{sku}" for sku in catalog])
        sent = {
            key.split(":", 1)[1]: b.data["sent"]
            for key, b in levels.items()
            if b.data.get("sent") is not None
        }
    carried, gone, uncontrolled, refused = sorted(sent)[:4]
    with session_scope() as session:
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop.shop_id, Binding.kind == VARIANT_KIND, Binding.erp_id == gone
            )
        )
        row = levels[f"1:{uncontrolled}"]
        session.execute(
            update(Binding).where(Binding.id == row.id).values(digest=LevelTarget(None, "CONTINUE").digest())
        )
    closes = _batch(
        shop.shop_id,
        1,
        location,
        {carried: sent[carried], gone: sent[gone] + 1, uncontrolled: sent[uncontrolled] + 1},
        [gone],
    )
    stays = _batch(shop.shop_id, 1, location, {carried: sent[carried], refused: sent[refused]}, [refused])
    elsewhere = _batch(shop.shop_id, 1, "gid://shopify/Location/999", {carried: sent[carried]}, [])
    with session_scope() as session:
        closed = stock_superseded.settle(session, shop.shop_id, 1, location, {}, set())
    assert closed == [closes]
    said = _message(closes)
    assert said.status == MessageStatus.SKIPPED.value
    assert said.error_detail["skip"] == {"key": "stock_superseded_earlier", "params": {"company": 1}}
    assert said.error_detail["superseded"]["by"] == []
    assert reason(said, "en") == (
        "Superseded: later stock passes set this batch's levels at company 1's location, or they are no "
        "longer due; nothing left to do (the original error is kept in the detail)"
    )
    assert _message(stays).status == MessageStatus.FAILED.value
    assert _message(elsewhere).status == MessageStatus.FAILED.value
