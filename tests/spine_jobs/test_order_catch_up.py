"""The orders catch-up pass finds what can resume among everything parked or held, not among the oldest."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from jobs.order_catch_up import LIMIT, run_catch_up
from ledger.bindings import VARIANT_KIND
from ledger.db import session_scope
from ledger.models import Binding, ErpConnection, LocationMapping, Mapping, Message, Shop, StoreLink


def parked(shop_id: int, n: int, kind: str, code: str) -> Message:
    return Message(shop_id=shop_id, flow="orders", direction="shopify_to_erp", unit_key=f"order:{n}",
                   status="parked", attempts=1, search_text="", error_class="mapping_missing",
                   error_detail={"mapping": {"kind": kind, "code": code}})  # fmt: skip


def test_an_order_whose_sku_is_bound_now_resumes_behind_many_older_parked_ones(shop_id, rconn):
    with session_scope() as session:
        # older orders parked on a gateway nobody has mapped (yet): more than one pass's limit
        session.add_all(parked(shop_id, n, "payment_method", "boleto_manual") for n in range(LIMIT + 20))
        session.add(parked(shop_id, 99_999, VARIANT_KIND, "P1234E1"))  # parked on an unknown SKU ...
        session.add(Binding(shop_id=shop_id, kind=VARIANT_KIND, erp_id="P1234E1",
                            shopify_id="gid://shopify/ProductVariant/1"))  # ... bound now  # fmt: skip
    assert run_catch_up(shop_id)["resumed"] == 1
    assert run_catch_up(shop_id)["resumed"] == 0  # its replay is queued: not twice


def event(shop_id: int, seq: int, status: str, flow: str = "invoices", detail: dict | None = None) -> Message:
    return Message(shop_id=shop_id, flow=flow, direction="erp_to_shopify", unit_key=f"event:{seq}:0",
                   status=status, attempts=1, search_text="", error_detail=detail)  # fmt: skip


def test_a_held_event_whose_earlier_one_is_applied_resumes_behind_many_held_for_good(shop_id, rconn):
    """More than a pass's limit of events held behind an event that stays failed (nobody fixed it)
    do not hide a newer one held behind an event applied since: an invoice after its picking edit."""
    with session_scope() as session:
        stuck = event(shop_id, 1, "failed", flow="order_edits")  # needs a person: stays failed
        applied = event(shop_id, 2, "done", flow="order_edits")
        skipped = event(shop_id, 3, "skipped", flow="order_edits")
        session.add_all([stuck, applied, skipped])
        session.flush()
        session.add_all(
            event(shop_id, 10 + n, "failed", detail={"waiting_for": stuck.id}) for n in range(LIMIT + 5)
        )
        session.add(event(shop_id, 99_998, "failed", detail={"waiting_for": applied.id}))
        session.add(event(shop_id, 99_999, "failed", detail={"waiting_for": skipped.id}))
    assert run_catch_up(shop_id)["resumed"] == 2
    assert run_catch_up(shop_id)["resumed"] == 0  # their replays are queued: not twice


def _map(kind: str, shopify_code: str) -> Callable[[Session, int], None]:
    return lambda session, shop_id: session.add(
        Mapping(shop_id=shop_id, kind=kind, shopify_code=shopify_code, erp_code="12")
    )


def _bind(session: Session, shop_id: int) -> None:
    session.add(
        Binding(
            shop_id=shop_id, kind=VARIANT_KIND, erp_id="P1234E1", shopify_id="gid://shopify/ProductVariant/1"
        )
    )


def _map_location(session: Session, shop_id: int) -> None:
    session.add(LocationMapping(shop_id=shop_id, nro_empresa=3, location_id="gid://shopify/Location/9"))


def _link_store(session: Session, shop_id: int) -> None:
    session.add(StoreLink(shop_id=shop_id, nro_empresa=3, nro_segmento=2))


def _set_channel(session: Session, shop_id: int) -> None:
    shop = session.get(Shop, shop_id)
    shop.settings = {**(shop.settings or {}), "seq_canal_venda": 7}


def _connect_erp(session: Session, shop_id: int) -> None:
    session.add(ErpConnection(shop_id=shop_id, base_url="http://erp", username="u", password_enc=b""))


# Every kind an order, an order edit or an invoice parks on (MappingMissing in jobs.order_map,
# jobs.order_lookup, jobs.order_edits.to_shopify, ledger.mappings, erp.factory), and what ends the wait.
# Names a person types (gateways, shipping methods) compare case-folded, as the import reads them.
WAITS = {
    "payment_method": ("Pix", _map("payment_method", "PIX")),
    "carrier": ("Sedex", _map("carrier", " sedex ")),
    "variant": ("P1234E1", _bind),
    "location": ("gid://shopify/Location/9", _map_location),
    "store_link": ("loja-teste.myshopify.com", _link_store),
    "setting": ("seq_canal_venda", _set_channel),
    "erp_connection": ("1", _connect_erp),
}


@pytest.mark.parametrize("kind", WAITS)
def test_an_order_parked_on_what_exists_now_resumes(shop_id, rconn, kind):
    """The catch-up is the safety net for a resume lost when the mapping was saved (Redis down,
    a worker killed): whatever the unit waits for, once it exists the pass replays the unit."""
    code, make = WAITS[kind]
    with session_scope() as session:
        session.add(parked(shop_id, 77, kind, code))
        if kind == "carrier":  # a store mapping some shipping method (one mapping none leaves it to the ERP)
            _map("carrier", "PAC")(session, shop_id)
    assert run_catch_up(shop_id)["resumed"] == 0
    with session_scope() as session:
        make(session, shop_id)
    assert run_catch_up(shop_id)["resumed"] == 1


def test_an_order_webhook_whose_catch_up_job_also_failed_is_enqueued_again(shop_id, deliver, rconn):
    """The worker was killed under the webhook's job, then again under the catch-up's: the next
    catch-up pass enqueues it once more (the ended catch-up job no longer refuses it), and a
    pass while that one waits adds nothing."""
    from datetime import timedelta

    from rq import Queue
    from rq.job import Job

    from jobs import inbox

    inbox_id = deliver("orders/paid", {"id": 8, "admin_graphql_api_id": "gid://shopify/Order/8"}).json[
        "inbox_id"
    ]
    orders = Queue("orders", connection=rconn)

    def kill(job_id: str) -> None:
        orders.remove(job_id)
        Job.fetch(job_id, connection=rconn).set_status("failed")

    kill(f"inbox-{inbox_id}")
    assert inbox.sweep(older_than=timedelta(0)) == []  # an order topic: the catch-up's
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 1
    kill(f"inbox-catchup-{inbox_id}")
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 1
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 0
    assert orders.job_ids == [f"inbox-catchup-{inbox_id}"]


def test_a_lost_order_is_re_driven_before_many_orders_waiting_for_their_payment(shop_id, rconn, monkeypatch):
    """Orders waiting for their payment on purpose (expired boletos, B2B on terms) are re-read on
    every pass and each re-read touches them: more of them than a pass reads must not hide a newer
    paid order whose job was lost (worker killed, Redis restarted). The lost one has its own read and
    goes first; the waiting ones are re-read least recently touched first, so each pass reaches others."""
    from datetime import timedelta

    from rq import Queue
    from sqlalchemy import insert, select, update

    from jobs import order_catch_up
    from ledger.models import utcnow

    monkeypatch.setattr(order_catch_up, "LIMIT", 40)  # a pass's read, small to keep the test fast
    old = utcnow() - timedelta(days=3)
    waiting = [
        dict(shop_id=shop_id, flow="orders", direction="shopify_to_erp", unit_key=f"order:{n}",
             status="pending", attempts=1, search_text="", job_id=f"inbox-{n}",
             error_detail={"waiting": "payment", "financial_status": "PENDING"},
             created_at=old, updated_at=old)
        for n in range(1, 101)
    ]  # fmt: skip
    hour_ago = utcnow() - timedelta(hours=1)  # a paid order whose job was lost an hour ago
    lost = dict(shop_id=shop_id, flow="orders", direction="shopify_to_erp", unit_key="order:999999",
                status="pending", attempts=1, search_text="", job_id="inbox-lost", error_detail=None,
                created_at=hour_ago, updated_at=hour_ago)  # fmt: skip
    with session_scope() as session:
        session.execute(insert(Message), waiting)
        session.execute(insert(Message), [lost])
        lost_id = session.scalar(select(Message.id).where(Message.unit_key == "order:999999"))
        waiting_ids = list(
            session.scalars(select(Message.id).where(Message.id != lost_id).order_by(Message.id))
        )
    orders = Queue("orders", connection=rconn)

    counts = order_catch_up.run_catch_up(shop_id)
    enqueued = [job.args[0] for job in orders.get_jobs()]
    assert enqueued == [lost_id, *waiting_ids[:40]]  # the lost order first, ahead of the re-reads
    assert (counts["stale"], counts["waiting"]) == (1, 40)

    # each pass: the replays ran, the lost order went to the ERP, each waiting one was read from
    # Shopify and waits again (its begin touched it); the next pass reads those not re-read yet first
    expected = (waiting_ids[40:80], [*waiting_ids[80:], *waiting_ids[:20]])
    for days, then in zip((2, 1), expected, strict=True):
        with session_scope() as session:
            session.execute(update(Message).where(Message.id == lost_id).values(status="done"))
            session.execute(
                update(Message)
                .where(Message.id.in_(enqueued))
                .values(attempts=Message.attempts + 1, updated_at=utcnow() - timedelta(days=days))
            )
        for job in orders.get_jobs():
            job.delete()
        counts = order_catch_up.run_catch_up(shop_id)
        enqueued = [job.args[0] for job in orders.get_jobs()]
        assert enqueued == then
        assert (counts["stale"], counts["waiting"]) == (0, 40)
