"""Orders held for their fraud risk (jobs.order_risk, setting risk_hold): an order Shopify recommends
cancelling (or investigating, as the setting says), or whose analysis is under way, waits instead of
going to the ERP; a verdict that clears it (orders/risk_assessment_changed) sends it, and so does a
person's review (POST /api/messages/<id>/risk-accept), audited. A worse verdict after a person's
decision holds it again; an order in the ERP already is left as it is."""

from __future__ import annotations

from types import SimpleNamespace

import requests
from by_hand import staff_api

from jobs import order_risk, reconcile
from ledger.db import session_scope
from ledger.models import MessageStatus, Role, Shop
from shopify_app.admin_api.order_import_ops import OrderRisk, RiskAssessment


def assess(world, gid: str, level: str, provider: str | None = None, facts: list | None = None) -> None:
    """A new assessment of the order in the Shopify sandbox (Shopify's own, or a fraud app's),
    announced by orders/risk_assessment_changed."""
    body = {"orderId": gid, "riskLevel": level, "provider": provider, **({"facts": facts} if facts else {})}
    url = f"{world.shopify.url}/_sandbox/shops/{world.name}/orders/risk"
    requests.post(url, json=body, timeout=10).raise_for_status()


def set_risk_hold(world, value: str) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**(shop.settings or {}), "risk_hold": value}


def held(world, gid: str) -> dict:
    message = world.message(gid)
    assert message is not None
    assert message.status == MessageStatus.PENDING.value, message.error_text
    assert message.error_detail["waiting"] == "risk", message.error_detail
    assert world.erp_orders_for(gid) == []
    link = world.link(gid)
    assert link is not None and link.nro_pedvenda is None  # listed on the Orders page as not in the ERP
    return {"text": message.error_text, **message.error_detail}


def sent(world, gid: str) -> int:
    message = world.message(gid)
    assert message is not None and message.status == MessageStatus.DONE.value, message.error_text
    [erp_order] = world.erp_orders_for(gid)
    return int(erp_order["nropedvenda"])


# ---------------------------------------------------------------- the rule (pure)


def read(recommendation: str | None, *assessments: tuple[str, str | None]) -> SimpleNamespace:
    risk = OrderRisk(recommendation, tuple(RiskAssessment(level, who, ()) for level, who in assessments))
    levels = tuple(level for level, _ in assessments)
    return SimpleNamespace(risk_recommendation=recommendation, risk=risk, risk_levels=levels)


def test_which_recommendations_each_setting_holds():
    cancel, investigate = read("CANCEL", ("HIGH", None)), read("INVESTIGATE", ("MEDIUM", None))
    accept, running = read("ACCEPT", ("LOW", None)), read("NONE", ("PENDING", None))
    # Shopify's own LOW gives ACCEPT while a fraud app still analyses: the recommendation hides it
    app_running = read("ACCEPT", ("LOW", None), ("PENDING", "ClearSale"))
    nothing = read("NONE")  # no analysis at all (a draft order, an app's import)
    readings = {
        "cancel": cancel,
        "investigate": investigate,
        "accept": accept,
        "running": running,
        "app_running": app_running,
        "nothing": nothing,
    }
    for setting, holds in (
        ("cancel", {"cancel", "running", "app_running"}),
        ("investigate", {"cancel", "investigate", "running", "app_running"}),
        ("off", set()),
    ):
        got = {name for name, r in readings.items() if order_risk.hold(r, setting, None) is not None}
        assert got == holds, setting
        # the assessments are read in full for exactly the orders held (their message names who)
        assert {name for name, r in readings.items() if order_risk.needs_detail(r, setting)} == holds
    assert order_risk.hold(running, "cancel", None)["pending"] is True
    by_app = order_risk.hold(app_running, "cancel", None)
    assert by_app["pending"] is True and by_app["recommendation"] == "ACCEPT"
    assert "ClearSale has not given a verdict yet" in order_risk.why(by_app)
    # an analysis under way beside a verdict the setting holds: held for that verdict
    both = order_risk.hold(read("CANCEL", ("HIGH", None), ("PENDING", "ClearSale")), "cancel", None)
    assert both["pending"] is False and both["recommendation"] == "CANCEL"
    # not read in full (the import guessed a wait for payment): the levels alone still hold it
    guessed = SimpleNamespace(risk_recommendation="ACCEPT", risk=None, risk_levels=("LOW", "PENDING"))
    assert order_risk.hold(guessed, "cancel", None)["pending"] is True


def test_a_persons_decision_covers_its_recommendation_and_milder_ones_not_a_worse_one():
    at_investigate = {"recommendation": "INVESTIGATE", "user_id": "3", "at": "2026-12-03T20:00:00+00:00"}
    assert order_risk.hold(read("INVESTIGATE", ("MEDIUM", None)), "investigate", at_investigate) is None
    assert order_risk.hold(read("NONE", ("PENDING", "ClearSale")), "investigate", at_investigate) is None
    worse = order_risk.hold(read("CANCEL", ("HIGH", "ClearSale")), "investigate", at_investigate)
    assert worse is not None and worse["recommendation"] == "CANCEL"
    assert order_risk.accepted_of({order_risk.ACCEPTED: at_investigate, "lines": []}) == at_investigate
    assert order_risk.accepted_of({"lines": []}) is None and order_risk.accepted_of(None) is None


# ---------------------------------------------------------------- through the sandboxes


def test_an_order_shopify_recommends_cancelling_waits_and_goes_once_the_verdict_clears(world):
    gid = world.place(risk="high")
    world.drain()
    found = held(world, gid)
    assert found["recommendation"] == "CANCEL" and found["pending"] is False
    [shopify] = found["assessments"]
    assert shopify["level"] == "HIGH" and shopify["provider"] is None and shopify["facts"]
    assert found["text"].startswith(
        "Held for a fraud review: Shopify recommends cancelling this order (HIGH by"
    )
    # Shopify's review (its own analysis again) clears it: orders/risk_assessment_changed sends it
    assess(world, gid, "LOW")
    world.drain()
    assert sent(world, gid)
    assert len(world.erp_orders_for(gid)) == 1


def test_an_analysis_under_way_holds_the_order_and_a_fraud_apps_verdict_holds_it_until_it_clears(world):
    set_risk_hold(world, "investigate")
    gid = world.place(risk="pending")  # Shopify's analysis under way at checkout
    world.drain()
    found = held(world, gid)
    assert found["pending"] is True and "fraud analysis runs (Shopify has not given" in found["text"]
    assess(world, gid, "LOW")  # Shopify's verdict, and a fraud app's asking a look
    assess(world, gid, "MEDIUM", "ClearSale", [{"description": "Endereço novo", "sentiment": "NEGATIVE"}])
    world.drain()
    found = held(world, gid)
    assert found["recommendation"] == "INVESTIGATE" and found["pending"] is False
    assert {"level": "MEDIUM", "provider": "ClearSale", "facts": ["Endereço novo"]} in found["assessments"]
    assess(world, gid, "LOW", "ClearSale")
    world.drain()
    assert sent(world, gid)


def test_a_fraud_apps_analysis_under_way_holds_an_order_shopify_accepts_until_its_verdict(world):
    """Shopify's own LOW gives ACCEPT while ClearSale still analyses (its assessment PENDING): the
    recommendation alone would send the order before the fraud app's verdict."""
    gid = world.place(risk="low")
    assess(world, gid, "PENDING", "ClearSale")  # the app takes the order for analysis
    world.drain()
    found = held(world, gid)
    assert found["recommendation"] == "ACCEPT" and found["pending"] is True
    assert {"level": "PENDING", "provider": "ClearSale", "facts": []} in found["assessments"]
    assert "fraud analysis runs (ClearSale has not given a verdict yet)" in found["text"]
    assess(world, gid, "LOW", "ClearSale")  # its verdict: the order goes, once
    world.drain()
    assert sent(world, gid)
    assert len(world.erp_orders_for(gid)) == 1


def test_a_person_sends_a_held_order_after_a_review_and_the_page_says_why_it_waited(world, env):
    gid = world.place(risk="high")
    world.drain()
    message_id = world.message(gid).id
    client, viewer = staff_api(env, world, Role.VIEWER, user_id="41")
    for locale, title, said in (
        (
            "pt-BR",
            "Retido para análise de fraude",
            "A Shopify recomenda cancelar este pedido (Shopify: risco alto",
        ),
        ("en", "Held for a fraud review", "Shopify recommends cancelling this order (Shopify: high risk"),
    ):
        page = client.get(f"/api/messages/{message_id}?locale={locale}", headers=viewer).get_json()
        assert page["explanation"]["title"] == title, locale
        assert page["explanation"]["what_happened"].startswith(said), page["explanation"]
    # the Orders page lists it as needing a person, its note in the page's language
    listed = client.get("/api/orders?status=needs_attention", headers=viewer).get_json()["orders"]
    [row] = [o for o in listed if o["shopify_order_id"] == gid]
    page = client.get(f"/api/orders/{row['id']}?locale=pt-BR", headers=viewer).get_json()
    [note] = page["attention_notes"]
    assert note["text"].startswith("retido para análise de fraude: a Shopify recomenda cancelar o pedido")
    refused = client.post(f"/api/messages/{message_id}/risk-accept", headers=viewer)
    assert refused.status_code == 403
    _, operator = staff_api(env, world, Role.OPERATOR, user_id="42")
    asked = client.post(f"/api/messages/{message_id}/risk-accept", headers=operator)
    assert asked.status_code == 202, asked.get_json()
    world.drain()
    nro = sent(world, gid)
    # the decision stays with the message; a fraud app's verdict after the order is in the ERP
    # changes nothing there (no second order, no hold)
    assert world.message(gid).request_payload[order_risk.ACCEPTED]["user_id"] == "42"
    listed = client.get("/api/orders?status=needs_attention", headers=viewer).get_json()["orders"]
    assert gid not in {o["shopify_order_id"] for o in listed}
    assess(world, gid, "HIGH", "ClearSale")
    world.drain()
    assert sent(world, gid) == nro


def test_with_the_hold_off_a_risky_order_goes_at_once(world):
    set_risk_hold(world, "off")
    gid = world.place(risk="high")
    world.drain()
    assert sent(world, gid)


def test_the_reconciliation_lists_a_held_order_as_held_with_its_reason(world):
    gid = world.place(risk="high")
    world.drain()
    held(world, gid)
    report = reconcile.run(world.shop_id)
    rows = [r for r in report["orders"]["held_in_app"] if r["order"] == gid]
    assert rows and [w["key"] for w in rows[0]["why_words"]] == ["recon_risk_cancel"], rows


def test_a_held_order_the_merchant_cancels_in_shopify_never_reaches_the_erp(world):
    from .test_edits_and_cancels import cancel_in_shopify

    gid = world.place(risk="high")
    world.drain()
    held(world, gid)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.message(gid).status == MessageStatus.SKIPPED.value
    assert world.erp_orders_for(gid) == []


# ---------------------------------------------------------------- a verdict after the order went


def risk_note(world, gid: str):
    from ledger import order_notes

    link = world.link(gid)
    return next((n for n in order_notes.notes(link) if n.topic == "fraud risk"), None)


def test_a_verdict_after_the_order_went_to_the_erp_is_noted_for_a_person_and_clears_with_it(world, env):
    from ledger import handled, trace
    from shopify_app import fail_words

    gid = world.place()  # Shopify accepts it: it goes
    world.drain()
    nro = sent(world, gid)
    assert risk_note(world, gid) is None
    assess(world, gid, "HIGH", "ClearSale")  # the fraud app's review ends after
    world.drain()
    assert sent(world, gid) == nro  # nothing taken back from the ERP, no second order
    note = risk_note(world, gid)
    assert note is not None and "Shopify now recommends cancelling order" in note.text
    assert f"ERP order {nro} is still open" in note.text and "ClearSale" in note.text
    failed = world.message(gid, unit=f"risk:{gid.rsplit('/', 1)[-1]}")
    assert failed.status == MessageStatus.FAILED.value and failed.error_detail["code"] == "RISK_AFTER_ERP"
    said = fail_words.said(failed.error_detail[trace.FAIL], "pt-BR")
    assert said and said.startswith("A Shopify agora recomenda cancelar o pedido"), said
    client, viewer = staff_api(env, world, Role.VIEWER, user_id="43")
    listed = client.get("/api/orders?status=needs_attention", headers=viewer).get_json()["orders"]
    assert gid in {o["shopify_order_id"] for o in listed}
    # the fraud app clears it: the note goes, its message closed saying so
    assess(world, gid, "LOW", "ClearSale")
    world.drain()
    assert risk_note(world, gid) is None and world.link(gid).needs_attention is None
    closed = world.message(gid, unit=f"risk:{gid.rsplit('/', 1)[-1]}")
    assert closed.status == MessageStatus.SKIPPED.value and handled.info(closed) is None


def test_a_verdict_after_the_order_was_cancelled_or_with_the_hold_off_flags_nothing(world):
    """Its ERP order cancelled (the merchant cancelled it in Shopify), nothing is left to stop; with
    the hold off, the merchant asked for no fraud holds. (An invoiced order is fulfilled in Shopify,
    which takes no assessment after that.)"""
    from .test_edits_and_cancels import cancel_in_shopify

    gid = world.place()
    world.drain()
    sent(world, gid)
    cancel_in_shopify(world, gid)
    world.drain()
    assert world.link(gid).cancelled_at is not None
    assess(world, gid, "HIGH", "ClearSale")
    world.drain()
    assert risk_note(world, gid) is None
    set_risk_hold(world, "off")
    other = world.place()
    world.drain()
    sent(world, other)
    assess(world, other, "HIGH", "ClearSale")
    world.drain()
    assert risk_note(world, other) is None
