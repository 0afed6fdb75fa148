"""The import's guards before the ERP call, on an order edit too: an edit whose lines would leave
the ERP order totalling other than what Shopify charges is not sent (held for a person, as the
import refuses such an order: TAXES_ADDED / TOTALS_MISMATCH), and an edit whose job lost the
order's lock while it read Shopify sends nothing (another job of the order may be writing it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs.locks import record_key
from jobs.order_edits import to_erp
from ledger import kv, order_notes
from ledger.errors import Transient
from ledger.models import MessageStatus
from sandbox.shopify.order_totals import bag, bag_amount
from shopify_app import fail_words, note_words
from shopify_app.api_explain import explain

from .test_edits_and_cancels import edit_in_shopify, edit_message, imported, line_changes


def erp_quantities(world, nro: int) -> dict[str, object]:
    return {i["idSku"]: i["qtdPedida"] for i in world.chain.order(nro)["itens"]}


def charged_on_top(world, gid: str, amount: Decimal, *, tax: bool) -> None:
    """Shopify's current total of the edited order carries `amount` no line does: a tax added on
    top of the prices (taxes included: no; e.g. an order a person linked by hand after its import
    was refused as TAXES_ADDED), or, `tax` false, a fee or duty."""
    doc = world.order_doc(gid)
    doc["currentTotalPriceSet"] = bag(bag_amount(doc["currentTotalPriceSet"]) + amount)
    if tax:
        doc["taxesIncluded"] = False
        doc["currentTotalTaxSet"] = bag(amount)
    world.shopify.sandbox.store.put(world.name, doc)


@pytest.mark.parametrize(("tax", "code"), [(True, "TAXES_ADDED"), (False, "TOTALS_MISMATCH")])
def test_an_edit_whose_erp_total_would_differ_from_shopifys_is_held_for_a_person(world, tax, code):
    gid, nro = imported(world)
    before = erp_quantities(world, nro)
    erp_total = world.chain.order(nro)["vlrTotalPedido"]
    edit_in_shopify(world, gid, world.sku(0), 1)  # 2 -> 1: lowered, nothing owed
    charged_on_top(world, gid, Decimal("5.00"), tax=tax)
    world.drain()
    message = edit_message(world, gid)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected"
    assert (message.error_detail or {}).get("code") == code
    assert "NOT applied" in message.error_text and str(nro) in message.error_text
    # the ERP order untouched
    assert erp_quantities(world, nro) == before
    assert world.chain.order(nro)["vlrTotalPedido"] == erp_total
    # flagged on the order, in the merchant's words (pt-BR and en)
    link = world.link(gid)
    assert link.needs_attention == f"order_edits: {message.error_text}"
    parts = order_notes.words_of(link)["order_edits"]
    assert note_words.say_note(parts, "en") == message.error_text
    assert "NÃO foi aplicada" in note_words.say_note(parts, "pt-BR")
    assert fail_words.reason(message, "en") == message.error_text
    assert "NÃO foi aplicada" in fail_words.reason(message, "pt-BR")
    assert [c.applied for c in line_changes()] == [False]
    told = explain(message, "en")  # the Messages page: an edit's words, not the import's ("enter it by hand")
    assert told is not None and "the edit's lines" in told["what_happened"], told


def another_job_takes_the_lock(world, gid: str, monkeypatch, owner, name: str):
    """Once `owner.name` (a step of the job before its ERP call) returns, the job's lock has lapsed
    and another job of the order holds it. Returns `give_back`: that other job done, the step as it
    was."""
    key = record_key(f"shop:{world.shop_id}:order:{gid.rsplit('/', 1)[-1]}")
    real = getattr(owner, name)

    def step_then_the_lock_taken(*args, **kwargs):
        result = real(*args, **kwargs)
        kv.get_redis().set(key, "another-job/token", px=30_000)
        return result

    monkeypatch.setattr(owner, name, step_then_the_lock_taken)

    def give_back() -> None:
        monkeypatch.setattr(owner, name, real)
        kv.get_redis().delete(key)

    return give_back


def test_an_edit_that_lost_the_orders_lock_while_reading_shopify_sends_nothing(world, monkeypatch):
    """The edit job's lock lapsed (Redis restarted, the job stalled) while it read the order, and
    another job of the order took it: the edit must not PUT what it read beside that job. It stops
    transient, the ERP untouched, and its retry (holding the lock) applies it."""
    gid, nro = imported(world)
    edit_in_shopify(world, gid, world.sku(0), 1)
    world.delivered()
    give_back = another_job_takes_the_lock(world, gid, monkeypatch, to_erp, "read_order_for_erp")
    with pytest.raises(Transient, match="lock was lost"):
        to_erp.apply_edit(world.shop_id, gid, "lost-lock")
    assert erp_quantities(world, nro)[world.sku(0)] == 2  # nothing sent
    message = edit_message(world, gid)
    assert message.status == MessageStatus.RETRYING.value
    assert fail_words.reason(message, "pt-BR") != message.error_text  # said in the merchant's words
    give_back()  # the other job done
    assert to_erp.apply_edit(world.shop_id, gid, "lost-lock") == "done"
    assert erp_quantities(world, nro)[world.sku(0)] == 1


def test_a_cancellation_that_lost_the_orders_lock_cancels_nothing_until_its_retry(world, monkeypatch):
    """As an edit: the cancellation's lock lapsed and another job of the order took it before the
    ERP call. Nothing is cancelled beside that job; the message is retrying, and the retry cancels."""
    from jobs import order_generation
    from jobs.cancellations import to_erp as cancels_to_erp

    gid, nro = imported(world)
    give_back = another_job_takes_the_lock(world, gid, monkeypatch, order_generation, "refusal")
    with pytest.raises(Transient, match="lock was lost"):
        cancels_to_erp.cancel_in_erp(world.shop_id, gid, "customer")
    assert world.chain.order(nro)["situacaoPed"] != "C"  # nothing cancelled
    cancel = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert cancel.status == MessageStatus.RETRYING.value
    give_back()  # the other job done
    assert cancels_to_erp.cancel_in_erp(world.shop_id, gid, "customer") == "done"
    assert world.chain.order(nro)["situacaoPed"] == "C"
