"""Reconciliation: a Shopify order whose webhook was missed is imported, a total that differs
from the ERP is reported, stock and catalog drift are listed, and the CLI prints the report."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from rq import Queue
from sqlalchemy import select

from jobs import reconcile, reconcile_cli
from jobs.order_lookup import ensure_link
from ledger import drift, kv, trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import Message, MessageStatus, Shop, utcnow
from sandbox.shopify.checkout import place_order

from .conftest import World


def test_reconcile_finds_a_missed_order_and_a_total_that_differs_then_prints_the_report(
    world: World, monkeypatch
) -> None:
    from datetime import timedelta

    from sandbox.shopify.checkout import place_order

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))  # as if placed a while ago

    synced = world.linked_order([(world.plain(0), 1)], gateway="pix")
    drifted = world.linked_order([(world.plain(1), 3)], gateway="pix")
    world.erp.separate(drifted.nro, cuts={str(drifted.lines[world.plain(1)]): 1})  # not polled yet: drift
    missed = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(2), "quantity": 1}],
                         gateway="pix", discount_rate=0.0, seed=9)  # fmt: skip

    report = reconcile.run(world.shop_id, stock_sample=10)

    orders = report["orders"]
    assert [row["order"] for row in orders["missing_in_ledger"]] == [missed]
    assert orders["imports_enqueued"] == [missed]
    queued = Queue("orders", connection=kv.get_redis()).jobs
    assert [(job.func_name, job.args) for job in queued] == [
        ("jobs.orders.import_order", (world.shop_id, missed))
    ]
    [differ] = orders["totals_differ"]
    assert differ["order"] == drifted.gid and differ["erp_basis"] == "vlrTotalAtendido"
    assert differ["shopify"] != differ["erp"]
    assert synced.gid not in {row["order"] for row in orders["totals_differ"]}
    assert (
        report["summary"]["orders_missing_in_ledger"] == 1 and report["summary"]["order_totals_differ"] == 1
    )
    [location] = report["stock"]["locations"]
    assert location["location_id"] == world.location_id and location["checked"] >= 1
    assert report["catalog"]["bound"] == 4 and report["catalog"]["missing_in_shopify_count"] >= 1
    assert report["summary"]["errors"] == []

    with session_scope() as session:
        [message] = session.scalars(select(Message).where(Message.flow == "reconcile")).all()
        assert (
            message.status == MessageStatus.DONE.value
            and message.response_payload["summary"] == report["summary"]
        )
    assert reconcile.latest(world.shop_id) == report
    # It quotes order errors (personal data): kept a few days, not for ever (the report runs daily).
    assert 0 < kv.get_redis().ttl(reconcile.redis_key(world.shop_id)) <= 3 * 24 * 3600

    app = Flask(__name__)
    reconcile_cli.register(app)
    printed = app.test_cli_runner().invoke(args=["reconcile", "--shop", world.domain, "--latest"])
    assert printed.exit_code == 0, printed.output
    assert f"Reconciliation of {world.domain}" in printed.output
    assert "Order totals that differ" in printed.output and drifted.gid in printed.output
    assert "with no ledger link" in printed.output and missed in printed.output

    again = app.test_cli_runner().invoke(args=["reconcile", "--shop", world.domain])  # runs it again
    assert again.exit_code == 0 and "order totals differ: 1" in again.output
    assert len(Queue("orders", connection=kv.get_redis()).jobs) == 1  # the import is not enqueued twice


def test_an_order_the_app_holds_is_not_reported_as_a_missed_webhook(world: World) -> None:
    """An order waiting for its payment (or parked on a mapping) has its message but no link: the
    report names it with the message's status and reason, and enqueues no import."""
    from sandbox.shopify.checkout import place_order

    waiting = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                          gateway="boleto", discount_rate=0.0, seed=5)  # fmt: skip
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{waiting.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=waiting)  # fmt: skip
        message.error_text = "waiting for payment (financial status PENDING)"

    report = reconcile.run(world.shop_id, stock_sample=1)

    orders = report["orders"]
    assert waiting not in [row["order"] for row in orders["missing_in_ledger"]]
    assert orders["imports_enqueued"] == []
    [held] = orders["held_in_app"]
    assert (held["order"], held["status"], held["why"]) == (
        waiting,
        "pending",
        "waiting for payment (financial status PENDING)",
    )
    assert report["summary"]["orders_held_in_app"] == 1


def test_an_order_linked_while_parked_is_held_not_reported_as_never_sent(world: World) -> None:
    """jobs.orders links an order it parks or refuses (the Orders page lists it): a link with no
    ERP number whose message says why is held, as an unlinked one is, not "never sent"."""
    from datetime import timedelta

    from jobs.order_lookup import ensure_link
    from ledger.errors import MappingMissing
    from ledger.models import utcnow
    from sandbox.shopify.checkout import place_order

    parked = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                         gateway="pix", discount_rate=0.0, seed=5)  # fmt: skip
    why = "order #1001: payment gateway 'Pix' has no ERP payment form"
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{parked.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=parked)  # fmt: skip
        trace.fail(session, message, MappingMissing("payment_method", "Pix", why))
        link = ensure_link(session, world.shop_id, parked, "#1001", None, None, "PAID", "BRL")
        link.created_at = utcnow() - timedelta(hours=3)  # parked for hours: "never sent" by now

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    assert orders["missing_in_erp"] == [] and orders["imports_enqueued"] == []
    [held] = orders["held_in_app"]
    assert (held["order"], held["status"], held["why"]) == (parked, "parked", why)


def test_an_order_skipped_as_unpaid_that_is_paid_now_is_imported_again(world: World, monkeypatch) -> None:
    """Skipped while its authorisation lapsed; then paid (a missed orders/paid): a closed message
    holds nothing, so the reconciliation imports it. One still unpaid stays held, not re-imported."""
    from datetime import timedelta

    from sandbox.shopify.checkout import place_order

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))

    paid_now = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                           gateway="pix", discount_rate=0.0, seed=5)  # fmt: skip
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{paid_now.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=paid_now)  # fmt: skip
        trace.skip(session, message, "Shopify says EXPIRED: this order will not be paid as it stands")

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert orders["imports_enqueued"] == [paid_now] and orders["held_in_app"] == []


def test_a_one_cent_difference_between_the_totals_is_reported(monkeypatch) -> None:
    """Totals are equal to the cent by design: a cent of drift is exactly what to report."""
    from decimal import Decimal
    from types import SimpleNamespace

    monkeypatch.setattr(reconcile, "gift_cards_sold", lambda client, order_id: Decimal(0))
    link = SimpleNamespace(shopify_order_id="gid://shopify/Order/1", shopify_order_name="#1001",
                           nro_pedvenda=7, created_at=None)  # fmt: skip
    shopify = SimpleNamespace(cancelled_at=None, current_total=Decimal("100.00"), tips=Decimal(0))
    erp_order = SimpleNamespace(situacao="L", total_served=None, total=Decimal("99.99"))
    erp_client = SimpleNamespace(get_order=lambda nro: erp_order)
    findings: dict = {
        "missing_in_erp": [],
        "missing_in_shopify": [],
        "totals_differ": [],
        "status_differs": [],
    }
    reconcile._compare(link, shopify, None, erp_client, findings)  # type: ignore[arg-type]
    assert [(row["shopify"], row["erp"]) for row in findings["totals_differ"]] == [("100.00", "99.99")]


def test_reconcile_compares_the_erp_total_with_shopifys_less_tips_and_gift_cards_sold(monkeypatch) -> None:
    """Goods 50 + freight 10 = the ERP's 60.00 by design (jobs.order_map leaves out what is no
    goods); Shopify's 65.00 with a tip of 5, or 165.00 with a gift card of 100 sold too, is no
    drift to report every day. The gift cards are read only when the tips do not explain the gap;
    a real gap is still reported, with the tips and gift cards it was compared after."""
    from decimal import Decimal
    from types import SimpleNamespace

    from shopify_app.admin_api.order_settlement import OrderTotal

    read: list[str] = []
    cards = {"gid://shopify/Order/1": Decimal(0), "gid://shopify/Order/2": Decimal("100.00")}
    monkeypatch.setattr(reconcile, "gift_cards_sold", lambda client, gid: read.append(gid) or cards[gid])

    def compare(gid: str, shopify_total: str, erp_total: str) -> list[dict]:
        link = SimpleNamespace(shopify_order_id=gid, shopify_order_name="#1", nro_pedvenda=77,
                               created_at=None)  # fmt: skip
        shop = OrderTotal(id=gid, name="#1", created_at=None, updated_at="2026-11-28T00:00:00Z",
                          cancelled_at=None, financial_status="PAID", current_total=Decimal(shopify_total),
                          tips=Decimal("5.00"))  # fmt: skip
        erp_order = SimpleNamespace(situacao="L", total=Decimal(erp_total), total_served=None)
        kinds = ("missing_in_shopify", "missing_in_erp", "status_differs", "totals_differ")
        findings: dict = {kind: [] for kind in kinds}
        erp_client = SimpleNamespace(get_order=lambda nro: erp_order)
        reconcile._compare(link, shop, None, erp_client, findings)  # type: ignore[arg-type]
        return findings["totals_differ"]

    assert compare("gid://shopify/Order/1", "65.00", "60.00") == [] and read == []
    assert compare("gid://shopify/Order/2", "165.00", "60.00") == [] and read == ["gid://shopify/Order/2"]
    [differ] = compare("gid://shopify/Order/2", "165.00", "59.00")
    assert (differ["shopify"], differ["tips"], differ["gift_cards"], differ["erp"]) == (
        "165.00",
        "5.00",
        "100.00",
        "59.00",
    )


def test_one_shop_still_in_setup_does_not_stop_the_others_report(world: World, monkeypatch) -> None:
    """`flask --app app reconcile` over every active shop: one with no ERP connection yet says so
    and the command ends non-zero, but the other shops are reconciled and printed."""
    from ledger.models import Shop

    monkeypatch.delenv("CONSINCO_USER", raising=False)
    monkeypatch.delenv("CONSINCO_PASSWORD", raising=False)
    with session_scope() as session:
        session.add(Shop(id=0, domain="halfway-installed.myshopify.com", settings={}))
    app = Flask(__name__)
    reconcile_cli.register(app)
    result = app.test_cli_runner().invoke(args=["reconcile"])
    assert f"Reconciliation of {world.domain}" in result.output
    assert result.exit_code == 1 and "halfway-installed.myshopify.com" in result.stderr
    assert "without an ERP connection" in result.stderr  # said, as the scheduled run waits for it


def test_an_order_changed_a_moment_ago_is_in_flight_not_a_missed_webhook(world: World) -> None:
    """Its orders/create may still be in the inbox, its job queued: counted in flight, no import
    enqueued, and the next report (after IN_FLIGHT) judges it."""
    from sandbox.shopify.checkout import place_order

    just_now = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                           gateway="pix", discount_rate=0.0, seed=7)  # fmt: skip
    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert orders["missing_in_ledger"] == [] and orders["imports_enqueued"] == []
    assert orders["in_flight_count"] == 1 and just_now


def test_a_report_after_missed_runs_reaches_back_to_the_last_one_that_ran(world: World) -> None:
    """Three days without a report: the window stretches back to the last report (less an hour),
    so an order of those days whose webhook was lost is still found."""
    from datetime import timedelta

    from ledger.models import utcnow

    with session_scope() as session:
        last = trace.begin(session, world.shop_id, "reconcile", "report:old", "both")
        trace.succeed(session, last, response={})
        last.created_at = utcnow() - timedelta(days=3)
    with session_scope() as session:
        since = reconcile._since(session, world.shop_id, utcnow(), reconcile.WINDOW)
    assert utcnow() - since > timedelta(days=3)


def test_an_order_placed_before_the_install_is_counted_not_imported(world: World, monkeypatch) -> None:
    """The first reports look back days: an order the store took before the app was installed has no
    link, and is counted as such instead of being pushed into the ERP as a missed webhook."""
    from datetime import timedelta

    from sandbox.shopify import order_store
    from sandbox.shopify.checkout import context, place_order

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    before = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                         gateway="pix", discount_rate=0.0, seed=11)  # fmt: skip
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        old = (shop.created_at - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ctx = context(world.shopify.sandbox, world.name)
    with ctx.store.transaction():
        order = order_store.get(ctx, before)
        order.update(createdAt=old, processedAt=old)
        order_store.save(ctx, order, touch=True)
    report = reconcile.run(world.shop_id, stock_sample=10)
    assert report["orders"]["imports_enqueued"] == []
    assert report["orders"]["missing_in_ledger_count"] == 0
    assert report["orders"]["placed_before_install_count"] == 1
    assert Queue("orders", connection=kv.get_redis()).jobs == []


def test_an_order_cancelled_in_shopify_before_it_reached_the_erp_is_not_missing_in_the_erp() -> None:
    """The ERP refused the order (its link has no NROPEDVENDA), then the store cancelled it in
    Shopify: there is nothing the ERP should hold, so it is not listed as "never sent to the ERP"
    every day it is in the window. One Shopify still shows open is listed; the order read one by
    one (not in the window's list) is judged the same way."""
    from datetime import timedelta
    from decimal import Decimal
    from types import SimpleNamespace

    from ledger.models import utcnow
    from shopify_app.admin_api.order_settlement import OrderTotal

    def missing_in_erp(cancelled_at: str | None, *, listed: bool = True) -> list[dict]:
        gid = "gid://shopify/Order/3"
        link = SimpleNamespace(shopify_order_id=gid, shopify_order_name="#3", nro_pedvenda=None,
                               created_at=utcnow() - timedelta(hours=3))  # fmt: skip
        shop = OrderTotal(id=gid, name="#3", created_at=None, updated_at="2026-11-28T00:00:00Z",
                          cancelled_at=cancelled_at, financial_status="PAID", current_total=Decimal("10.00"),
                          tips=Decimal(0))  # fmt: skip
        client = SimpleNamespace(order=lambda order_id: shop)
        findings: dict = {kind: [] for kind in ("missing_in_shopify", "missing_in_erp", "status_differs",
                                                "totals_differ")}  # fmt: skip
        reconcile._compare(link, shop if listed else None, client, None, findings)  # type: ignore[arg-type]
        return findings["missing_in_erp"]

    assert missing_in_erp("2026-11-28T00:00:00Z") == []
    assert missing_in_erp("2026-11-28T00:00:00Z", listed=False) == []
    [still_open] = missing_in_erp(None)
    assert still_open["order"] == "gid://shopify/Order/3" and "never sent to the ERP" in still_open["why"]
    assert len(missing_in_erp(None, listed=False)) == 1


def test_an_import_whose_job_failed_is_enqueued_again_by_the_next_report(world: World, monkeypatch) -> None:
    """RQ keeps a failed job (for a year) under its id: an import that failed before writing any
    message left the order unlinked and "missing in the ledger" every day, its id refused as a
    duplicate for good. A job under that id that has ended is replaced; one still waiting is not."""
    from datetime import timedelta

    from rq.job import JobStatus
    from rq.registry import FailedJobRegistry

    from sandbox.shopify.checkout import place_order

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    missed = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                         gateway="pix", discount_rate=0.0, seed=13)  # fmt: skip
    assert reconcile.run(world.shop_id, stock_sample=1)["orders"]["imports_enqueued"] == [missed]
    orders_queue = Queue("orders", connection=kv.get_redis())
    [job] = orders_queue.jobs
    assert reconcile.run(world.shop_id, stock_sample=1)["orders"]["imports_enqueued"] == []  # still waiting

    orders_queue.remove(job)  # a worker took it and it failed before writing a message
    job.set_status(JobStatus.FAILED)
    FailedJobRegistry(queue=orders_queue).add(job, ttl=3600)

    assert reconcile.run(world.shop_id, stock_sample=1)["orders"]["imports_enqueued"] == [missed]
    assert [(again.id, again.args) for again in orders_queue.jobs] == [(job.id, (world.shop_id, missed))]


def test_a_parked_linked_order_not_changed_within_the_window_is_held_not_never_sent(
    world, monkeypatch
) -> None:
    """An order parked on a mapping, linked early (no ERP number) when its message was replayed
    and parked again, and not changed in Shopify since before the report's window: its message
    still says why, so it is held, not reported 'never sent to the ERP'. (The report runs 3 h
    later; the window starts 1 h after the order's last change, the link was written 1.5 h after.)"""
    parked = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                         gateway="pix", discount_rate=0.0, seed=5)  # fmt: skip
    now = utcnow()
    why = "order #1001: payment gateway 'Pix' has no ERP payment form"
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{parked.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=parked)  # fmt: skip
        trace.fail(session, message, MappingMissing("payment_method", "Pix", why))
        link = ensure_link(session, world.shop_id, parked, "#1001", None, None, "PAID", "BRL")
        link.created_at = now + timedelta(minutes=90)
    monkeypatch.setattr(reconcile, "utcnow", lambda: now + timedelta(hours=3))

    orders = reconcile.run(world.shop_id, window=timedelta(hours=2), stock_sample=1)["orders"]

    assert orders["missing_in_erp"] == [], orders["missing_in_erp"]
    assert parked in [row["order"] for row in orders["held_in_app"]], orders["held_in_app"]


def test_a_linked_order_skipped_as_unpaid_that_is_paid_now_is_imported_again(
    world: World, monkeypatch
) -> None:
    """Parked once (so linked with no ERP number), then skipped as unpaid (EXPIRED), then paid with
    its orders/paid missed: its closed message holds nothing, so the reconciliation imports it
    again, as it does an unlinked one, instead of reporting it "never sent to the ERP" every day."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    paid_now = place_order(world.shopify.sandbox, world.name, lines=[{"sku": world.plain(0), "quantity": 1}],
                           gateway="pix", discount_rate=0.0, seed=5)  # fmt: skip
    with session_scope() as session:
        message = trace.begin(session, world.shop_id, "orders", f"order:{paid_now.rsplit('/', 1)[-1]}",
                              "shopify_to_erp", shopify_id=paid_now)  # fmt: skip
        trace.skip(session, message, "Shopify says EXPIRED: this order will not be paid as it stands; "
                                     "a payment later (orders/paid) brings it back")  # fmt: skip
        link = ensure_link(session, world.shop_id, paid_now, "#1001", None, None, "EXPIRED", "BRL")
        link.created_at = utcnow() - timedelta(hours=3)  # linked when it parked, hours ago

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    assert orders["missing_in_erp"] == [] and orders["held_in_app"] == [], orders
    assert orders["imports_enqueued"] == [paid_now]
    queued = Queue("orders", connection=kv.get_redis()).jobs
    assert [(job.func_name, job.args) for job in queued] == [
        ("jobs.orders.import_order", (world.shop_id, paid_now))
    ]
    again = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert again["imports_enqueued"] == [] and again["missing_in_erp"] == []  # its job still waits


def test_a_report_with_drift_says_so_where_the_merchant_looks(world: World, monkeypatch) -> None:
    """A report that finds drift ends done with a line saying what it found (the Messages list
    shows it, named in the merchant's language from the row's findings), not done and silent."""
    from shopify_app.api_messages import summary

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    drifted = world.linked_order([(world.plain(1), 3)], gateway="pix")
    world.erp.separate(drifted.nro, cuts={str(drifted.lines[world.plain(1)]): 1})
    report = reconcile.run(world.shop_id, stock_sample=10)
    assert report["summary"]["order_totals_differ"] == 1
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.flow == "reconcile")).one()
        row = summary(message)
    assert row["status"] == "done" and row["findings"]["order_totals_differ"] == 1, row
    assert row["error_text"].startswith("drift found: ") and "order totals differ 1" in row["error_text"], row


def test_the_drift_line_counts_the_findings_only() -> None:
    """Orders held in the app (waiting for payment, parked) and zero counts are no drift."""
    from ledger import drift

    counts = {"orders_held_in_app": 2, "stock_differs": 0, "order_totals_differ": 1, "errors": []}
    assert drift.findings({"summary": counts}) == {"order_totals_differ": 1}
    assert drift.line(drift.findings({"summary": counts})) == "drift found: order totals differ 1"
    assert drift.line(drift.findings({"summary": {"stock_differs": 0}})) is None


def test_a_weighed_item_picked_heavier_is_reported_with_its_reason(world: World, monkeypatch) -> None:
    """By design a heavier pick is not charged in Shopify above what was authorised (the line keeps
    its price): the totals differ by what the ERP charges for the extra weight, and the row says
    so. A lighter pick, applied as a discount, is no drift at all."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    weighed = world.weighed()
    heavier = world.linked_order([(world.plain(0), 1), (weighed, 2)], gateway="cartao", capture="manual")
    world.erp.separate(heavier.nro, weights={str(heavier.lines[weighed]): 2.37})
    lighter = world.linked_order([(weighed, 2)], gateway="cartao", capture="manual")
    world.erp.separate(lighter.nro, weights={str(lighter.lines[weighed]): 1.5})
    assert world.poll()["enqueued"] == 2

    report = reconcile.run(world.shop_id, stock_sample=1)
    differ = report["orders"]["totals_differ"]

    assert [row["order"] for row in differ] == [heavier.gid], differ
    why = differ[0].get("why", "")
    assert why.startswith(f"weighed item(s) picked heavier ({weighed} 2") and "2.37" in why, differ
    [said] = differ[0]["why_words"]  # its words, said on the report's page in the merchant's language
    assert said["key"] == "recon_heavier" and said["params"]["picks"][0]["params"]["sku"] == weighed, said
    # Listed, not counted as drift: every supermarket weighs heavier every day (by design).
    summary = reconcile.summary(report)
    assert summary["order_totals_differ"] == 0 and summary["order_totals_heavier_by_design"] == 1, summary
    assert "order_totals_differ" not in drift.findings({"summary": summary})


def test_the_cli_prints_a_reports_english_not_the_words_beside_it() -> None:
    """The words kept beside a row's texts are for the pages (shopify_app.reconcile_words): the
    CLI prints the English texts, as before."""
    from ledger.words import beside

    invoices = {
        "status": "skipped",
        **beside("why", "handled outside the app: ok", ("recon_handled", {"note": "ok"})),
    }
    row = {"order": "gid://shopify/Order/1", "nro_pedvenda": 9, **beside("why", *reconcile.NEVER_SENT),
           "invoices_message": invoices}  # fmt: skip
    closed = reconcile._closed_store(3, "gid://shopify/Location/1")
    report = {"shop": "s", "generated_at": "t", "since": "t", "summary": {},
              "orders": {"missing_in_erp": [row]}, "stock": {"locations": [closed]}}  # fmt: skip
    printed = reconcile_cli.render(report)
    assert "why=never sent to the ERP (see the orders flow)" in printed
    assert "handled outside the app: ok" in printed and closed["note"] in printed
    assert "_words" not in printed and "recon_" not in printed, printed
    assert reconcile_cli.STOCK_FIX not in printed  # no level differs: nothing to fix
    differing = {"nro_empresa": 1, "checked": 3, "bound_with_stock": 3,
                 "differ": [{"sku": "P1E1", "erp": "10", "shopify": 7}]}  # fmt: skip
    printed = reconcile_cli.render({**report, "stock": {"locations": [differing]}})
    assert f"  - sku=P1E1, erp=10, shopify=7\n  {reconcile_cli.STOCK_FIX}" in printed, printed


def test_a_real_total_drift_is_listed_behind_a_days_heavier_weighed_picks(world: World, monkeypatch) -> None:
    """Each list keeps LISTED rows; the totals that differ were cut before those by design (a
    weighed item picked heavier, every day in a supermarket) were set apart: with LISTED of them
    first, the one real money drift was counted and none of its rows listed."""
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(reconcile, "LISTED", 2)  # two heavier picks stand for fifty
    weighed = world.weighed()
    for _ in range(2):
        heavier = world.linked_order([(world.plain(0), 1), (weighed, 2)], gateway="cartao", capture="manual")
        world.erp.separate(heavier.nro, weights={str(heavier.lines[weighed]): 2.37})
    world.poll()
    drifted = world.linked_order([(world.plain(1), 3)], gateway="pix")
    world.erp.separate(drifted.nro, cuts={str(drifted.lines[world.plain(1)]): 1})  # not polled: real drift
    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert (orders["totals_differ_count"], orders["totals_differ_by_design_count"]) == (1, 2)
    assert [row["order"] for row in orders["totals_differ"] if not row.get("by_design")] == [drifted.gid]


def test_the_imports_a_report_enqueues_are_listed_cut_and_counted(world: World, monkeypatch) -> None:
    """After a webhook outage the report enqueues thousands of imports: the list is cut as every
    other (the report is stored, sent to the page and read again by the next runs), its count kept."""
    from decimal import Decimal

    from shopify_app.admin_api.order_settlement import OrderTotal

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    old = reconcile.utcnow().isoformat()

    def many(client, since_iso):
        for i in range(120):
            yield OrderTotal(id=f"gid://shopify/Order/{10**9 + i}", name=f"#{i}", created_at=old,
                             updated_at=old, cancelled_at=None, financial_status="PAID",
                             current_total=Decimal("10.00"))  # fmt: skip

    monkeypatch.setattr(reconcile, "orders_with_totals_since", many)
    monkeypatch.setattr(reconcile, "_enqueue_import", lambda shop_id, gid: True)
    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]
    assert len(orders["imports_enqueued"]) == reconcile.LISTED and orders["imports_enqueued_count"] == 120


def test_an_invoice_a_person_settled_outside_the_app_is_held_not_daily_drift(
    world: World, monkeypatch
) -> None:
    """The capture refused, the customer paid by Pix at the counter and the team closed the invoices
    message as handled (the supported path): the link never gets its NF-e key, so every report read
    the ERP order as invoiced with the invoice not applied, drift each day for a month. It is listed
    as held in the app with the person's note instead."""
    from typing import Any

    from ledger import handled

    from .test_invoice_tracking_events import _refuse_captures

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro)
    asked: list[Any] = []
    _refuse_captures(monkeypatch, asked)
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.FAILED.value
    with session_scope() as session:
        handled.mark(session, session.get(Message, first.id), by="staff-1", note="pago no Pix no balcão")
    report = reconcile.run(world.shop_id, stock_sample=1)
    assert "order_status_differs" not in drift.findings(report)
    [held] = [row for row in report["orders"]["held_in_app"] if row["order"] == order.gid]
    assert "pago no Pix no balcão" in held["why"]


def test_a_later_nfe_of_an_order_invoiced_in_parts_whose_event_was_missed_is_reported(
    world: World, monkeypatch
) -> None:
    """Invoiced in parts: NF-e A applied (the link holds its key); the ERP then issues NF-e B for the
    rest and its event is missed. Its goods were not fulfilled nor its money captured, the totals
    alike on both sides: no finding told it, and the rest of the authorisation could lapse."""
    from decimal import Decimal

    from sqlalchemy import delete

    from sandbox.consinco import tables as t

    from .test_invoice_documents import _another_nfe, _first_part_in_the_erp

    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    order, items, _part_a = _first_part_in_the_erp(world)
    world.poll()
    assert world.link(order.gid).nfe_key  # NF-e A applied
    b = world.plain(1)
    _another_nfe(world, order.nro, Decimal(str(items[b]["vlrTotalAtendido"])), items=[items[b]["seqItem"]])
    with world.erp.store.write() as (conn, _now):  # its event missed (never read by the poller)
        ev = t.mad_pedvendaevento
        last = conn.execute(
            ev.select().where(ev.c.nropedvenda == order.nro).order_by(ev.c.seqevento.desc())
        ).first()
        conn.execute(delete(ev).where(ev.c.seqevento == last.seqevento))
    report = reconcile.run(world.shop_id, stock_sample=1)
    [row] = [r for r in report["orders"]["status_differs"] if r["order"] == order.gid]
    assert "not applied in Shopify" in row["why"] and "order_status_differs" in drift.findings(report)
    world.poll()  # nothing new: the event is gone; a report the next day says it again
    assert [r["order"] for r in reconcile.run(world.shop_id, stock_sample=1)["orders"]["status_differs"]] == [
        order.gid
    ]


def test_erp_orders_the_app_does_not_know_are_counted_whole_beyond_those_listed(world: World) -> None:
    """Every list of the report is cut at LISTED and counted whole: the ERP orders whose events the
    poller skipped as linked to no order of the shop were cut with no count, so a page read 50."""
    from jobs.order_events import UNKNOWN_ORDER
    from ledger.flows import ERP_TO_SHOPIFY

    with session_scope() as session:
        for nro in range(9001, 9001 + reconcile.LISTED + 2):
            message = trace.begin(session, world.shop_id, "invoices", f"event:{nro}", ERP_TO_SHOPIFY,
                                  erp_id=str(nro))  # fmt: skip
            trace.skip(session, message, UNKNOWN_ORDER.format(nro=nro))

    orders = reconcile.run(world.shop_id, stock_sample=1)["orders"]

    assert len(orders["unknown_in_erp"]) == reconcile.LISTED
    assert orders["unknown_in_erp_count"] == reconcile.LISTED + 2
