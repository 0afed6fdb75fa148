"""Waiting for a fraud app (setting risk_app_wait_minutes, jobs.order_risk.app_wait_until): ClearSale
or Konduto take an order for analysis seconds after its checkout, and a fast import would send it to
the ERP first. With the setting on, an order only Shopify has assessed waits up to that many minutes
after its checkout: an app's assessment PENDING holds it for the app's verdict, the verdict sends it,
and with no app by then the order is read again when the wait ends (a job scheduled for that time)
and goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from rq.registry import ScheduledJobRegistry

from jobs import order_risk, orders, reconcile
from ledger import queues
from ledger.db import session_scope
from ledger.models import Shop
from shopify_app import skip_words
from shopify_app.api_explain import explain
from tests.orders_in.test_order_risk import assess, held, read, sent

CREATED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _read(recommendation: str, *assessments: tuple[str, str | None]):
    found = read(recommendation, *assessments)
    apps = tuple(who for _, who in assessments if who)
    return SimpleNamespace(
        **vars(found), risk_apps=apps, order=SimpleNamespace(created_at="2026-12-04T12:00:00Z")
    )


def test_an_order_only_shopify_assessed_waits_for_an_app_within_the_minutes_after_its_checkout():
    shopify_low = _read("ACCEPT", ("LOW", None))
    soon = CREATED + timedelta(minutes=2)
    detail = order_risk.hold(shopify_low, "cancel", None, 5, soon)
    assert detail is not None and detail["pending"] is True
    assert order_risk.awaiting_app(detail) == {"minutes": 5, "until": "2026-12-04T12:05:00+00:00"}
    assert order_risk.words(detail) == ("order_risk_awaiting_app", {"minutes": 5})
    assert "Held up to 5 minutes after its checkout (until 2026-12-04T12:05:00+00:00)" in order_risk.why(
        detail
    )
    assert skip_words.risk_held(detail, "pt-BR").startswith("retido por até 5 minutos depois do checkout")

    assert order_risk.hold(shopify_low, "cancel", None, 5, CREATED + timedelta(minutes=5)) is None  # over
    assert order_risk.hold(shopify_low, "cancel", None, 0, soon) is None  # the setting's default: no wait
    assert order_risk.hold(shopify_low, "off", None, 5, soon) is None  # the hold off
    assert (
        order_risk.hold(_read("ACCEPT", ("LOW", None), ("LOW", "ClearSale")), "cancel", None, 5, soon) is None
    )
    person = {"recommendation": "ACCEPT"}
    assert order_risk.hold(shopify_low, "cancel", person, 5, soon) is None  # sent anyway after a review
    cancel = order_risk.hold(_read("CANCEL", ("HIGH", None)), "cancel", None, 5, soon)
    assert cancel is not None and order_risk.awaiting_app(cancel) is None  # held for Shopify's own verdict
    running = order_risk.hold(_read("ACCEPT", ("LOW", None), ("PENDING", "Konduto")), "cancel", None, 5, soon)
    assert running is not None and order_risk.awaiting_app(running) is None and running["pending"] is True


def _set_wait(world, minutes: int) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "risk_app_wait_minutes": minutes}


def _scheduled(world, message_id: int) -> list[tuple[str, datetime]]:
    registry = ScheduledJobRegistry(queue=queues.get_queue(queues.ORDERS))
    found = []
    for job_id in registry.get_job_ids():
        job = registry.job_class.fetch(job_id, connection=registry.connection)
        if job.func_name == "jobs.orders.replay" and job.args == (message_id,):
            found.append((job_id, registry.get_scheduled_time(job_id)))
    return found


def test_a_fraud_apps_analysis_taken_within_the_wait_holds_the_order_for_its_verdict(world):
    _set_wait(world, 5)
    gid = world.place(risk="low")
    world.drain()
    waiting = held(world, gid)
    assert order_risk.awaiting_app(waiting)["minutes"] == 5
    assert "for a fraud app's analysis" in waiting["text"]
    page = explain(world.message(gid), "pt-BR")  # the Messages page, in the merchant's language
    assert (
        page["title"] == "Aguardando o app de fraude"
        and "até 5 minutos depois do checkout" in page["what_happened"]
    )
    assert reconcile._message_words("pending", world.message(gid).error_detail) == (
        "recon_risk_awaiting_app",
        {},
    )
    [(_, when)] = _scheduled(world, world.message(gid).id)  # read again when the wait ends
    created = datetime.fromisoformat(world.order_doc(gid)["createdAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=5) <= when - created <= timedelta(minutes=5, seconds=2)

    assess(world, gid, "PENDING", "ClearSale")  # the app takes it: held for its verdict now
    world.drain()
    assert order_risk.awaiting_app(held(world, gid)) is None
    assess(world, gid, "LOW", "ClearSale")
    world.drain()
    nro = sent(world, gid)
    orders.replay(world.message(gid).id)  # the job scheduled for the wait's end runs after: nothing
    assert sent(world, gid) == nro and len(world.erp_orders_for(gid)) == 1


class _SixMinutesLater(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(minutes=6)


def test_with_no_fraud_app_by_the_end_of_the_wait_the_order_goes(world, monkeypatch):
    _set_wait(world, 5)
    gid = world.place(risk="low")
    world.drain()
    message_id = world.message(gid).id
    assert order_risk.awaiting_app(held(world, gid))
    assert orders.replay(message_id) == "waiting"  # read again within the wait: still waiting
    monkeypatch.setattr(order_risk, "datetime", _SixMinutesLater)  # the wait is over
    orders.replay(message_id)  # what the job scheduled for the wait's end runs
    assert sent(world, gid)


def test_the_wait_shortened_in_setup_sends_the_orders_that_waited_for_an_app(world, env):
    from by_hand import staff_api

    from ledger.models import Role

    _set_wait(world, 5)
    gid = world.place(risk="low")
    world.drain()
    assert order_risk.awaiting_app(held(world, gid))
    client, admin = staff_api(env, world, Role.ADMIN, user_id="43")
    saved = client.put("/api/setup/settings", json={"risk_app_wait_minutes": 0}, headers=admin)
    assert saved.status_code == 200 and saved.get_json()["resumed"] == 1, saved.get_json()
    world.drain()
    assert sent(world, gid)


def test_redis_refusing_the_wait_ends_job_leaves_the_order_waiting_for_the_catch_up(world, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    def down(*_args, **_kwargs):
        raise RedisDown("redis unreachable")

    _set_wait(world, 5)
    monkeypatch.setattr(queues, "enqueue_at", down)
    gid = world.place(risk="low")
    world.drain()
    assert order_risk.awaiting_app(held(world, gid))  # waiting, its message pending: never lost
    assert _scheduled(world, world.message(gid).id) == []
