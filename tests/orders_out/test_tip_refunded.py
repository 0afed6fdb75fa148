"""A tip refunded, at invoicing and in the reconciliation: what is owed beside the goods is the tip its
line charges now, plus a tip refunded after the order's first NF-e was charged.

Shopify documents totalTipReceivedSet as "the sum of all tip amounts"; whether a tip refunded since
stays in it (as money received stays in totalReceivedSet, "before returns") or leaves it is not
said, so each case runs under both readings ("received": it stays; "follows": it leaves). The tip
line itself is at 0 either way and Shopify's current total is without it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import pytest

from jobs import reconcile
from jobs.invoice_capture import capture, capture_plan, within_total
from ledger.models import MessageStatus
from shopify_app.admin_api.order_settlement import OrderTotal, Settlement, settlement
from shopify_app.admin_api.results import Money

from .conftest import World
from .test_invoice_documents import _another_nfe

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # when the order's first NF-e was charged
ORDER = "gid://shopify/Order/1"
TIP_LINE = "gid://shopify/LineItem/90"
READINGS = pytest.mark.parametrize("tip_received", ["5.00", "0.00"], ids=["received", "follows"])


def money(value: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": value, "currencyCode": "BRL"}}


def at(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def line(line_id: str, price: str, quantity: int, current: int, *, tip: bool = False) -> dict[str, Any]:
    """A line as OrderSettlement reads it: goods (a variant, shipped) or a tip (neither)."""
    return {
        "id": line_id,
        "name": "Tip" if tip else "Arroz 5 kg",
        "isGiftCard": False,
        "requiresShipping": not tip,
        "variant": None if tip else {"id": "gid://shopify/ProductVariant/1"},
        "quantity": quantity,
        "currentQuantity": current,
        "originalUnitPriceSet": money(price),
        "discountedUnitPriceAfterAllDiscountsSet": money(price),
    }


def txn(txn_id: str, kind: str, amount: str, when: datetime, parent: str | None = None, **more: Any) -> dict:
    """A successful transaction as OrderSettlement reads it."""
    found = {"id": txn_id, "kind": kind, "status": "SUCCESS", "gateway": "Pix", "amountSet": money(amount),
             "processedAt": at(when), "parentTransaction": {"id": parent} if parent else None}  # fmt: skip
    return {**found, **more}


def querying(answers: dict[str, dict]) -> tuple[SimpleNamespace, list[str]]:
    """A client whose executor answers each query by name from `answers`; the names asked."""
    asked: list[str] = []

    def query(name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        asked.append(name)
        return answers[name]

    return SimpleNamespace(executor=SimpleNamespace(query=query)), asked


def read_settlement(
    *, tip_received: str, transactions: list[dict], refunded_when: datetime, capturable: str = "0.00"
) -> tuple[Settlement, list[str]]:
    """The Settlement the app reads of an order of goods 2 x 50.00 (current total 100.00) and a tip
    of 5.00 whose tip line was refunded at `refunded_when` (a refund of the tip alone); the queries
    it took."""
    order = {
        "id": ORDER,
        "name": "#1001",
        "currentTotalPriceSet": money("100.00"),
        "totalCapturableSet": money(capturable),
        "totalTipReceivedSet": money(tip_received),
        "lineItems": {
            "nodes": [line("gid://shopify/LineItem/1", "50.00", 2, 2), line(TIP_LINE, "5.00", 1, 0, tip=True)]
        },
        "transactions": transactions,
    }
    given = {"nodes": [{"lineItem": {"id": TIP_LINE}, "subtotalSet": money("5.00")}]}
    refunds = [{"createdAt": at(refunded_when), "processedAt": at(refunded_when), "refundLineItems": given}]
    client, asked = querying(
        {"OrderSettlement": {"order": order}, "OrderRefundedLines": {"order": {"refunds": refunds}}}
    )
    state = settlement(client, ORDER)  # type: ignore[arg-type]
    assert state is not None
    return state, asked


REFUND_READ = ["OrderSettlement", "OrderRefundedLines"]  # the refunds read: a tip line was refunded


def answering() -> tuple[SimpleNamespace, list[D]]:
    """A client whose orderCapture succeeds; the amounts it was asked for."""
    asked: list[D] = []

    def order_capture(order_id: str, authorization_id: str, amount: D, **options: object) -> object:
        asked.append(amount)
        return SimpleNamespace(id="c9", status="SUCCESS", kind="CAPTURE", amount=Money(amount, "BRL"),
                               parent_id=authorization_id, error_code=None,
                               order_financial_status=None)  # fmt: skip

    return SimpleNamespace(order_capture=order_capture, transaction_void=lambda _id: "SUCCESS"), asked


def pix(*refunds: tuple[datetime, str]) -> list[dict]:
    """A Pix sale of 105.00 (goods 100 + tip 5) at checkout, and `refunds` of it."""
    sale = txn("s1", "SALE", "105.00", T0 - timedelta(days=1))
    return [sale, *(txn(f"r{i}", "REFUND", amount, when, "s1") for i, (when, amount) in enumerate(refunds))]


@READINGS
def test_a_pix_order_whose_tip_was_refunded_owes_nothing_more_at_invoicing(tip_received: str) -> None:
    """Goods 100 + tip 5 paid 105 by Pix; the tip refunded before the NF-e (its line at 0, the current
    total 100). The NF-e of 100 is paid: nothing asked, no "5.00 not charged" for a person."""
    refunded = T0 - timedelta(hours=2)
    state, read = read_settlement(tip_received=tip_received, transactions=pix((refunded, "5.00")),
                                  refunded_when=refunded)  # fmt: skip
    client, asked = answering()
    taken = capture(client, ORDER, D("100.00"), state)  # type: ignore[arg-type]
    assert asked == [] and taken.attention is None, taken.attention
    assert (state.tips, state.tip_refunds, read) == (D("0.00"), ((at(refunded), D("5.00")),), REFUND_READ)


@READINGS
def test_a_tip_refunded_before_the_first_nfe_is_not_owed_beside_the_second(tip_received: str) -> None:
    """Pix 105 (goods 100 + tip 5), the tip refunded, then NF-e 1 of 60 charged (T0) and NF-e 2 of 40:
    100 was kept for 100 of goods, so the second NF-e owes nothing and names nothing."""
    refunded = T0 - timedelta(hours=2)
    state, _read = read_settlement(tip_received=tip_received, transactions=pix((refunded, "5.00")),
                                   refunded_when=refunded)  # fmt: skip
    client, asked = answering()
    taken = capture(client, ORDER, D("100.00"), state, count=2, since=T0)  # type: ignore[arg-type]
    assert asked == [] and taken.attention is None, taken.attention


@READINGS
def test_the_second_nfe_is_captured_in_full_after_the_tip_was_refunded_between_nfe(tip_received: str) -> None:
    """Card authorised 105 (goods 100 + tip 5). NF-e 1 of 60 captured 65 (its goods and the tip), not
    final. The merchant then refunds the tip (after NF-e 1 was charged). NF-e 2 of 40 captures 40:
    the customer paid 65, got 5 back, and owes 40 for the goods of NF-e 2 — not 35."""
    refunded = T0 + timedelta(hours=1)
    authorized = txn("a1", "AUTHORIZATION", "105.00", T0 - timedelta(days=1), manuallyCapturable=True,
                     totalUnsettledSet=money("40.00"))  # fmt: skip
    transactions = [
        authorized,
        txn("c1", "CAPTURE", "65.00", T0, "a1"),
        txn("r1", "REFUND", "5.00", refunded, "c1"),
    ]
    state, _read = read_settlement(tip_received=tip_received, transactions=transactions,
                                   refunded_when=refunded, capturable="40.00")  # fmt: skip
    plan, due = capture_plan(D("100.00"), state, since=T0)
    plan, held_back = within_total(plan, state)
    assert [str(amount) for _, amount in plan] == ["40.00"] and (due, held_back) == (0, 0)
    client, asked = answering()
    taken = capture(client, ORDER, D("100.00"), state, count=2, since=T0)  # type: ignore[arg-type]
    assert asked == [D("40.00")] and taken.attention is None, taken.attention


def test_a_tip_still_charged_is_owed_as_before() -> None:
    """No refund: the tip line charges its 5.00 (Shopify's tip total), captured with the goods from a
    card authorised 105.00 for an NF-e of 100.00, nothing left over; no refunds are read."""
    lines = [line("gid://shopify/LineItem/1", "50.00", 2, 2), line(TIP_LINE, "5.00", 1, 1, tip=True)]
    authorized = txn("a1", "AUTHORIZATION", "105.00", T0, manuallyCapturable=True,
                     totalUnsettledSet=money("105.00"))  # fmt: skip
    order = {"id": ORDER, "currentTotalPriceSet": money("105.00"), "totalTipReceivedSet": money("5.00"),
             "totalCapturableSet": money("105.00"), "lineItems": {"nodes": lines},
             "transactions": [authorized]}  # fmt: skip
    client, read = querying({"OrderSettlement": {"order": order}})
    state = settlement(client, ORDER)  # type: ignore[arg-type]
    assert state is not None and read == ["OrderSettlement"]
    assert [str(amount) for _, amount in capture_plan(D("100.00"), state)[0]] == ["105.00"]


def test_reconcile_takes_the_tip_its_line_charges_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Goods 50 + freight 10 + a tip of 5, the tip refunded: Shopify's current total is 60 and its
    listing may still give a tip total of 5. The ERP's 60 is no drift: the tip lines charge 0 now.
    A real gap is still reported, with the tip it was compared after."""
    read: list[str] = []
    now = SimpleNamespace(tips=D("0.00"), gift_cards=D("0.00"))
    monkeypatch.setattr(reconcile, "settlement", lambda client, gid: read.append(gid) or now)
    monkeypatch.setattr(reconcile, "gift_cards_sold", lambda client, gid: D(0))

    def compare(erp_total: str) -> list[dict]:
        link = SimpleNamespace(
            shopify_order_id=ORDER, shopify_order_name="#1", nro_pedvenda=77, created_at=None
        )
        shop = OrderTotal(id=ORDER, name="#1", created_at=None, updated_at="2026-11-28T00:00:00Z",
                          cancelled_at=None, financial_status="PARTIALLY_REFUNDED",
                          current_total=D("60.00"), tips=D("5.00"))  # fmt: skip
        erp_order = SimpleNamespace(situacao="L", total=D(erp_total), total_served=None, lines=())
        findings: dict = {kind: [] for kind in ("missing_in_shopify", "missing_in_erp", "status_differs",
                                                "totals_differ")}  # fmt: skip
        reconcile._compare(link, shop, None, SimpleNamespace(get_order=lambda nro: erp_order), findings)  # type: ignore[arg-type]
        return findings["totals_differ"]

    assert compare("60.00") == [] and read == [ORDER]
    [differ] = compare("61.00")
    assert (differ["shopify"], differ["erp"], "tips" in differ) == ("60.00", "61.00", False)


# -- through the Shopify sandbox ------------------------------------------------------------------
def _tip_line(world: World, gid: str) -> str:
    return next(line["id"] for line in world.order_doc(gid)["_lines"] if line.get("_tip"))


def _refund(world: World, gid: str, quantities: dict[str, int], *, tip_received: str = "received") -> None:
    """The merchant refunds `quantities` in the Shopify admin; "follows": Shopify's tip total then
    leaves out the tip refunded (the other reading), written past the sandbox's own."""
    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context
    from sandbox.shopify.order_totals import ZERO, bag
    from sandbox.shopify.resolvers.order_refunds import refund_order

    refund_order(world.shopify.sandbox, world.name, gid, quantities)
    if tip_received == "follows":
        ctx = context(world.shopify.sandbox, world.name)
        with ctx.store.transaction():
            doc = order_store.get(ctx, gid)
            doc["totalTipReceivedSet"] = bag(ZERO)
            ctx.store.put(ctx.shop, doc)


def test_a_pix_order_whose_tip_was_refunded_is_invoiced_with_nothing_for_a_person(world: World) -> None:
    """Through the sandbox: a Pix order with a tip of 5.00, the tip refunded before the NF-e (the
    sandbox keeps Shopify's tip total at 5.00). The NF-e is paid in full: done, nothing captured,
    no note on the order."""
    order = world.linked_order([(world.plain(0), 2)], gateway="pix", tip="5.00")
    _refund(world, order.gid, {_tip_line(world, order.gid): 1})
    state = world.settlement(order.gid)
    assert (state.tips, state.refunded) == (D("0.00"), D("5.00"))
    invoiced, message = world.invoice(order)
    assert invoiced == state.current_total
    assert message.status == MessageStatus.DONE.value, message.error_text
    assert world.link(order.gid).needs_attention is None, world.link(order.gid).needs_attention
    assert world.settlement(order.gid).paid == invoiced + D("5.00")  # the sale: nothing captured


@pytest.mark.parametrize("tip_received", ["received", "follows"])
def test_the_second_nfe_is_charged_in_full_after_the_tip_was_refunded_between_nfe(
    world: World, tip_received: str
) -> None:
    """Through the sandbox: a card order with a tip of 5.00, authorised, invoiced in two NF-e. NF-e 1
    captures its goods and the tip; the merchant refunds the tip; NF-e 2 captures its own goods in
    full (when it was refunded is read from the order's refunds)."""
    from tests.orders_out.test_invoice_partial_fulfilment import _retrack, first_of_two_nfe

    a, b = world.plain(0), world.plain(1)
    order = world.linked_order([(a, 2), (b, 1)], gateway="cartao", capture="manual", tip="5.00")
    # NF-e 1 carries item a only (and the freight); no code (one would be named for a person)
    full, part_b = first_of_two_nfe(world, order, b, tracking=False)
    part_a = full - part_b
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert world.settlement(order.gid).paid == part_a + D("5.00")

    _refund(world, order.gid, {_tip_line(world, order.gid): 1}, tip_received=tip_received)
    second_key = _another_nfe(world, order.nro, part_b)
    _retrack(world, order.nro, second_key, "SECOND-NFE")
    world.poll()
    _, second = world.messages("invoices", order)
    assert second.status == MessageStatus.DONE.value, second.error_text
    state = world.settlement(order.gid)
    assert (state.paid, state.refunded, state.kept) == (full + D("5.00"), D("5.00"), full)
    assert world.link(order.gid).needs_attention is None, world.link(order.gid).needs_attention
