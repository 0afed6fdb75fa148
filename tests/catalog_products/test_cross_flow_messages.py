"""A product message left RETRYING by one catalog flow, while the other flow sends the product."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs import catalog_flow
from jobs import catalog_ledger as cl
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus
from shopify_app.admin_api.executor import RetryPolicy

from .erp_writes import set_ean, set_title


def _status(shop_id: int, flow: str, key: str) -> str | None:
    with session_scope() as session:
        return session.scalar(
            select(Message.status).where(
                Message.shop_id == shop_id, Message.flow == flow, Message.unit_key == key
            )
        )


def test_products_message_left_retrying_once_the_skus_pass_sent_the_product(installed) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")

    client = installed.client()
    client.executor.retry = RetryPolicy(max_attempts=1)
    installed.mutations.fail_after = installed.mutations.count()  # Shopify down for the products pass
    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert _status(installed.shop_id, "products", "product:10") == MessageStatus.RETRYING.value

    installed.mutations.fail_after = None  # Shopify back; the skus pass (due the same minute) runs first
    skus = catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    assert skus.changed == 1  # product 10 sent (ProdutoSku's change time includes the product's)
    assert _status(installed.shop_id, "skus", "product:10") == MessageStatus.DONE.value

    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())  # RQ's retry
    assert again.unchanged >= 1
    # Product 10 is in Shopify with its new title; its products message must not say "retrying" forever.
    assert _status(installed.shop_id, "products", "product:10") != MessageStatus.RETRYING.value


def _message(shop_id: int, flow: str, key: str) -> Message:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(Message.shop_id == shop_id, Message.flow == flow, Message.unit_key == key)
        ).one()
        session.expunge(found)
        return found


def test_products_left_pending_behind_a_transient_error_close_once_the_skus_pass_sends_them(
    installed,
) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    for seq in (10, 11, 12):
        set_title(installed.erp, seq, f"PRODUTO RENOMEADO {seq}")

    client = installed.client()
    client.executor.retry = RetryPolicy(max_attempts=1)
    installed.mutations.fail_after = installed.mutations.count()
    with pytest.raises(Transient):
        catalog_flow.run_flow(installed.shop_id, "products", client=client)
    statuses = {seq: _status(installed.shop_id, "products", f"product:{seq}") for seq in (10, 11, 12)}
    assert statuses == {10: "retrying", 11: "pending", 12: "pending"}  # 11 and 12 never went

    installed.mutations.fail_after = None
    assert catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client()).changed == 3
    for seq in (10, 11, 12):  # closed by the pass that sent them, saying which
        message = _message(installed.shop_id, "products", f"product:{seq}")
        assert message.status == MessageStatus.DONE.value and message.error_text is None
        assert "skus flow has since sent this product" in message.response_payload["note"]
    calls = installed.mutations.count()
    again = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert again.unchanged >= 3 and installed.mutations.count() == calls


def test_a_message_left_retrying_for_a_product_shopify_has_closes_when_a_pass_finds_it_unchanged(
    installed,
) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    with session_scope() as session:  # as if the answer was lost after Shopify applied it
        message = session.scalars(
            select(Message).where(Message.flow == "products", Message.unit_key == "product:10")
        ).one()
        message.status, message.error_class = MessageStatus.RETRYING.value, "transient"
        message.error_text = "ShopifyServerError: 503"
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")  # the ERP's change time moves, nothing else

    calls = installed.mutations.count()
    result = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert result.unchanged >= 1 and installed.mutations.count() == calls
    message = _message(installed.shop_id, "products", "product:10")
    assert message.status == MessageStatus.DONE.value and message.error_text is None
    assert message.response_payload["note"].startswith("Shopify already has this product as the ERP has it")


def test_a_refusal_of_another_version_stays_failed_one_of_the_version_sent_closes(installed) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")
    installed.mutations.reject_seq = "10"
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert _status(installed.shop_id, "products", "product:10") == MessageStatus.FAILED.value
    installed.mutations.reject_seq = None

    set_ean(installed.erp, 10, 1, "7891000100103")  # another version: the refusal is still worth reading
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    assert _status(installed.shop_id, "skus", "product:10") == MessageStatus.DONE.value
    assert _status(installed.shop_id, "products", "product:10") == MessageStatus.FAILED.value

    installed.mutations.reject_seq = (
        "11"  # refused to the skus pass, then sent as it was by the products pass
    )
    set_ean(installed.erp, 11, 1, "7891000100110")
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    refused = _message(installed.shop_id, "skus", "product:11")
    assert refused.status == MessageStatus.FAILED.value
    installed.mutations.reject_seq = None
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    sent = _message(installed.shop_id, "products", "product:11")
    assert sent.status == MessageStatus.DONE.value
    assert sent.request_payload["digest"] == refused.request_payload["digest"]
    assert _status(installed.shop_id, "skus", "product:11") == MessageStatus.DONE.value


def test_a_dead_bulk_pass_pending_messages_close_when_the_other_flow_sends_their_products(installed) -> None:
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    catalog_flow.run_flow(installed.shop_id, "skus", client=installed.client())
    with session_scope() as session:  # begun by a bulk skus pass whose worker died before its answer
        ctx = cl.load_context(session, installed.shop_id)
        planned = cl.plan(session, ctx, [10, 11], force=True)
        cl.begin_many(session, ctx, "skus", [p.mapped for p in planned], None)
    set_title(installed.erp, 10, "PRODUTO RENOMEADO 10")
    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    message = _message(installed.shop_id, "skus", "product:10")
    assert message.status == MessageStatus.DONE.value
    assert "products flow has since sent this product" in message.response_payload["note"]
