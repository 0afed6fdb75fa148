"""A failed inventoryPolicy message ("stock:policy:<product>") whose change is no longer wanted is
closed, not left failed for good.

An item loses stock control in the ERP: the flow sends CONTINUE for its product, Shopify refuses,
the message fails and the "stock_policy" binding keeps DENY. The ERP takes up stock control again:
DENY is what the binding and Shopify hold, so nothing is sent under that unit, and the message
stayed failed, even after Retry (a replay sends a policy only when it differs from the binding).
Now the pass that reads the product's stock again (a scheduled one, or the Retry) closes it as
superseded, saying in the merchant's words that the variants already have what the stock control
asks, its rejection kept in the detail; a message of a company that no longer decides the policy
(the store link moved) is closed saying so. A policy still wanted and still refused stays failed."""

from __future__ import annotations

from jobs import stock
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import Message, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.admin_api.client import AdminClient
from shopify_app.admin_api.errors import ShopifyUserErrors, UserError
from shopify_app.skip_words import reason

from .chain import erp_update, messages
from .test_stock_flow import pick


def _refuse_policies(monkeypatch) -> None:
    real = AdminClient.variants_bulk_update

    def refuse(self, product_id, variants, **kw):
        if any("inventoryPolicy" in v for v in variants):
            raise ShopifyUserErrors(
                "productVariantsBulkUpdate", [UserError(["variants", "0"], "nope", "INVALID")]
            )
        return real(self, product_id, variants, **kw)

    monkeypatch.setattr(AdminClient, "variants_bulk_update", refuse)


def _policy_messages(shop_id: int) -> list[Message]:
    return [m for m in messages(shop_id, "stock") if m.unit_key.startswith("stock:policy:")]


def _message(message_id: int) -> Message:
    with session_scope() as session:
        found = session.get(Message, message_id)
        assert found is not None
        session.expunge(found)
        return found


def _failed_continue(chain, monkeypatch, name: str, companies: list[int]):
    """A shop whose picked item lost stock control at company 1 and whose CONTINUE Shopify refused."""
    shop = chain.install(name, 1, 1, companies)
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    _sku, data = pick(catalog, chain, shop, 1)
    where = {"nroempresa": 1, "seqproduto": data["seq_produto"]}
    erp_update(chain, t.mrl_produtoempresa, where, indcontrolaestoqueecomm="N")
    with monkeypatch.context() as patched:
        _refuse_policies(patched)
        stock.run(shop.shop_id)
    [failed] = _policy_messages(shop.shop_id)
    assert failed.status == MessageStatus.FAILED.value and failed.error_class == "rejected"
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    return shop, data, where, failed


def _assert_in_place(closed: Message, failed: Message, company: int) -> None:
    assert closed.status == MessageStatus.SKIPPED.value and closed.error_class is None
    assert closed.error_detail["skip"] == {"key": "stock_policy_in_place", "params": {"company": company}}
    assert f"company {company}" in closed.error_text
    assert reason(closed, "en") == (
        f"Nothing left to do: this product's variants already are in Shopify as company {company}'s "
        "stock control in the ERP asks (whether to sell when out of stock); the original error is kept "
        "in the detail"
    )
    assert reason(closed, "pt-BR") == (
        "Nada mais a fazer: as variantes deste produto já estão na Shopify como pede o controle de estoque "
        f"da empresa {company} no ERP (vender ou não quando sem estoque); o erro original fica no detalhe"
    )
    # the rejection kept for history
    assert closed.error_detail["superseded"]["status"] == MessageStatus.FAILED.value
    assert closed.error_detail["superseded"]["error_class"] == "rejected"
    assert closed.error_detail["superseded"]["error_text"] == failed.error_text


def test_a_scheduled_pass_closes_a_policy_message_no_longer_wanted(chain, monkeypatch):
    shop, data, where, failed = _failed_continue(chain, monkeypatch, "politica-agenda", [1])
    # the ERP takes up stock control again: DENY is what Shopify already has, nothing to send
    erp_update(chain, t.mrl_produtoempresa, where, indcontrolaestoqueecomm="S")
    again = stock.run(shop.shop_id)
    assert again.policies_sent == 0
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    _assert_in_place(_message(failed.id), failed, 1)
    stock.run(shop.shop_id)  # run twice: nothing more, the message stays closed as it was
    assert _message(failed.id).status == MessageStatus.SKIPPED.value


def test_retry_closes_a_policy_message_no_longer_wanted(chain, monkeypatch):
    """The merchant presses Retry before the next scheduled pass: the replay reads the product's
    stock again, finds the variants at what the ERP asks, and closes the message."""
    shop, data, where, failed = _failed_continue(chain, monkeypatch, "politica-presa", [1])
    erp_update(chain, t.mrl_produtoempresa, where, indcontrolaestoqueecomm="S")
    result = stock.replay(failed.id)  # the merchant presses Retry
    assert result.policies_sent == 0
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "DENY"
    _assert_in_place(_message(failed.id), failed, 1)


def test_a_policy_still_wanted_and_refused_stays_failed(chain, monkeypatch):
    """The ERP still has no stock control: while Shopify refuses CONTINUE, neither a scheduled pass
    nor Retry closes the message (it stays failed, with the new rejection); once Shopify takes it,
    the message is done."""
    shop, data, _where, failed = _failed_continue(chain, monkeypatch, "politica-recusada", [1])
    with monkeypatch.context() as patched:
        _refuse_policies(patched)
        stock.run(shop.shop_id)
        assert _message(failed.id).status == MessageStatus.FAILED.value
        stock.replay(failed.id)
    after = _message(failed.id)
    assert after.status == MessageStatus.FAILED.value and after.error_class == "rejected"
    assert after.attempts > failed.attempts
    stock.replay(failed.id)  # Shopify takes it now
    assert _message(failed.id).status == MessageStatus.DONE.value
    assert chain.variant(shop, data["variant_id"])["inventoryPolicy"] == "CONTINUE"


def test_retry_closes_a_policy_message_of_a_company_no_longer_deciding(chain, monkeypatch):
    """The store link moved from company 1 to company 2: company 1's stock control no longer decides
    the product's policy. Retry of its message closes it saying so (company 2's pass sends what
    its own stock control asks)."""
    shop, _data, _where, failed = _failed_continue(chain, monkeypatch, "politica-mudou", [1, 2])
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 2, 1)
    stock.replay(failed.id)
    closed = _message(failed.id)
    assert closed.status == MessageStatus.SKIPPED.value and closed.error_class is None
    assert closed.error_detail["skip"] == {
        "key": "stock_policy_not_decided",
        "params": {"company": 1, "now": 2},
    }
    assert reason(closed, "en") == (
        "Nothing left to do: company 1 no longer decides whether this product sells when out of stock; "
        "company 2 does, and its pass sends what differs; the original error is kept in the detail"
    )
    assert reason(closed, "pt-BR") == (
        "Nada mais a fazer: a empresa 1 não decide mais se este produto vende quando sem estoque; quem "
        "decide é a empresa 2, e a passagem dela envia o que mudar; o erro original fica no detalhe"
    )
    assert closed.error_detail["superseded"]["error_text"] == failed.error_text
