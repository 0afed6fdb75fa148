"""A card authorisation that lapsed uncaptured where Shopify says neither: OrderTransaction's
authorizationExpiresAt is "available only to stores on a Shopify Plus plan" (null elsewhere), and
beside a gift card that paid part the order reads PARTIALLY_PAID, not EXPIRED. The note still names
the lapsed authorisation (charge the customer again or absorb it), not an NF-e above what the
customer authorised; an authorisation closed otherwise (a capture refused, one captured by a person,
one being captured, a manual method's) is not named as lapsed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from jobs.invoice_capture import capture
from ledger.models import MessageStatus
from sandbox.shopify import order_store
from sandbox.shopify.checkout import context, expire_authorizations
from shopify_app.admin_api.order_settlement import parse_settlement

from .conftest import World

D = Decimal
M = lambda v: {"shopMoney": {"amount": v, "currencyCode": "BRL"}}  # noqa: E731
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _gift_card_and_card(**authorisation: object) -> dict:
    """An order of 100.00: a gift card paid 20.00, a card authorised 80.00 no longer capturable and
    no expiry given (a store not on Plus); `authorisation` changes its transaction."""
    return {
        "id": "gid://shopify/Order/1", "displayFinancialStatus": "PARTIALLY_PAID",
        "currentTotalPriceSet": M("100.00"),
        "transactions": [
            {"id": "g1", "kind": "SALE", "status": "SUCCESS", "gateway": "gift_card",
             "amountSet": M("20.00")},
            {"id": "a1", "kind": "AUTHORIZATION", "status": "SUCCESS", "gateway": "Cartão de crédito",
             "manuallyCapturable": False, "manualPaymentGateway": False, "amountSet": M("80.00"),
             "totalUnsettledSet": M("0.00"), "authorizationExpiresAt": None, **authorisation},
        ],
    }  # fmt: skip


def test_a_lapsed_authorisation_beside_a_gift_card_on_a_store_not_on_plus_is_named_as_expired() -> None:
    state = parse_settlement(_gift_card_and_card())
    [authorisation] = state.authorizations
    assert authorisation.lapsed(NOW) and authorisation.unclaimed == D("80.00")
    told = capture(None, "gid://shopify/Order/1", D("100.00"), state, now=NOW)  # type: ignore[arg-type]
    assert told.attention == (
        "invoices: the NF-e total 100.00: the card authorisation of 80.00 expired uncaptured (20.00 taken): "
        "80.00 was not charged; charge the customer again or absorb it"
    ), told.attention
    assert [key for key, _ in told.words] == ["capture_expired"]


def test_an_authorisation_closed_otherwise_is_not_named_as_lapsed() -> None:
    state = parse_settlement(_gift_card_and_card())
    [authorisation] = state.authorizations
    # the gateway refused a capture of it (AUTHORIZATION_EXPIRED or not): its refusal is named
    refused = dataclasses.replace(authorisation, refused=((D("80.00"), "AUTHORIZATION_EXPIRED"),))
    assert not refused.lapsed(NOW)
    told = capture(None, "gid://shopify/Order/1", D("100.00"),  # type: ignore[arg-type]
                   dataclasses.replace(state, authorizations=[refused]), now=NOW)  # fmt: skip
    assert told.attention is not None and "the gateway refused the capture of 80.00" in told.attention
    assert "expired uncaptured" not in told.attention, told.attention
    # a person captured part of it in Shopify admin (a final capture released the rest)
    assert not dataclasses.replace(authorisation, captured=D("50.00")).lapsed(NOW)
    # a capture of it is pending at the gateway
    assert not dataclasses.replace(authorisation, pending=D("80.00")).lapsed(NOW)
    # a manual method's, released or voided, or still capturable
    assert not dataclasses.replace(authorisation, manual=True).lapsed(NOW)
    assert not dataclasses.replace(authorisation, voided=True).lapsed(NOW)
    assert not dataclasses.replace(authorisation, capturable=True).lapsed(NOW)
    # on Plus, an expiry still to come says it has not lapsed (closed some other way); one passed says it has
    assert not dataclasses.replace(authorisation, expires_at="2026-12-05T00:00:00Z").lapsed(NOW)
    assert dataclasses.replace(authorisation, expires_at="2026-11-30T00:00:00Z").lapsed(NOW)
    assert parse_settlement(_gift_card_and_card(manualPaymentGateway=True)).authorizations[0].manual


def test_an_authorisation_lapsed_beside_a_gift_card_end_to_end(world: World) -> None:
    """The sandbox's card order, 5.00 of it paid by a gift card, its authorisation lapsed on a store
    not on Plus (no authorizationExpiresAt): Shopify shows PARTIALLY_PAID, and the invoice's note
    names the authorisation expired uncaptured."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        total = D(doc["currentTotalPriceSet"]["shopMoney"]["amount"])
        card = next(t for t in doc["_transactions"] if t["kind"] == "AUTHORIZATION")
        card["amountSet"] = order_store.bag(total - D("5.00"))
        doc["_transactions"].insert(
            0, order_store.new_transaction(ctx, "SALE", "SUCCESS", "gift_card", D("5.00"))
        )
        order_store.save(ctx, doc, touch=True)
    expire_authorizations(world.shopify.sandbox, world.name, order.gid)
    with ctx.store.transaction():
        doc = order_store.get(ctx, order.gid)
        for txn in doc["_transactions"]:
            txn["authorizationExpiresAt"] = None  # a store not on Shopify Plus is given none
        order_store.save(ctx, doc, touch=True)
    assert world.settlement(order.gid).financial_status == "PARTIALLY_PAID"
    nfe_total, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value, message.error_text
    note = world.link(order.gid).needs_attention or ""
    assert note == (
        f"invoices: the NF-e total {nfe_total}: the card authorisation of {total - D('5.00')} expired "
        f"uncaptured (5.00 taken): {nfe_total - D('5.00')} was not charged; charge the customer again or "
        "absorb it"
    ), note
