"""The Setup page's alert e-mails: the addresses and language are settings (checked, cleaned, audited),
GET /setup/alerts says whether the app can send and how the last alert went, and a test e-mail goes
at once over real SMTP, its refusal an answer the page shows, not an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from spine_auth.factories import SHOP_A, SHOP_B
from sqlalchemy import select

from api.conftest import headers
from ledger.db import session_scope
from ledger.models import AlertState, AuditEvent, Role, utcnow
from sandbox.mail import MailServer

OPENAPI = Path(__file__).resolve().parents[2] / "shopify_app" / "openapi.yaml"


@pytest.fixture
def mailbox(env) -> Iterator[MailServer]:
    """The mail server's stand-in, named in SMTP_URL before the app's settings are read."""
    with MailServer() as server:
        env.setenv("SMTP_URL", server.url)
        env.setenv("ALERT_MAIL_FROM", "alertas@integracao.com.br")
        yield server


def test_alert_addresses_are_checked_and_saved_clean(client) -> None:
    def save(**changes):
        return client.put("/api/setup/settings", json=changes, headers=headers())

    bad = save(alert_emails=["equipe@loja.com.br", "gerente@loja"])
    assert bad.status_code == 400 and "gerente@loja" in bad.get_json()["error"]["fields"]["alert_emails"]
    # a header's specials would make the To header read otherwise: the others dropped, or another address
    for garbage in (
        "fin(anceiro@loja.com.br",
        "Equipe:vendas@loja.com.br",
        "a@b..com",
        "[a]@b.com",
        "a\x01@b.com",
    ):
        refused = save(alert_emails=[garbage, "ops@loja.com.br"])
        assert refused.status_code == 400, garbage
    too_many = [f"p{n}@loja.com.br" for n in range(11)]
    assert save(alert_emails=too_many).status_code == 400 and save(alert_locale="es").status_code == 400
    ok = save(alert_emails=[" Equipe@Loja.com.br", "equipe@loja.com.br", "gerente@loja.com.br"])
    assert ok.status_code == 200
    assert ok.get_json()["alert_emails"] == ["Equipe@Loja.com.br", "gerente@loja.com.br"]
    viewer = client.put("/api/setup/settings", json={"alert_locale": "en"}, headers=headers(Role.VIEWER))
    assert viewer.status_code == 403


def test_without_a_mail_server_the_page_is_told_and_nothing_is_sent(client) -> None:
    state = client.get("/api/setup/alerts", headers=headers(Role.VIEWER)).get_json()
    assert state == {"configured": False, "sender": None, "every_minutes": 10, "recipients": [], "last": None}
    test = client.post("/api/setup/alerts/test", json={"emails": ["a@loja.com.br"]}, headers=headers())
    assert test.get_json() == {
        "ok": False,
        "code": "mail_not_configured",
        "message": "The app has no mail server (SMTP_URL is not set).",
        "to": [],
    }


def test_a_test_email_goes_now_and_a_refusal_is_an_answer(mailbox, client, settings, shops) -> None:
    assert client.post("/api/setup/alerts/test", headers=headers()).get_json()["code"] == "no_recipients"
    client.put("/api/setup/settings", json={"alert_emails": ["equipe@loja.com.br"]}, headers=headers())
    assert client.post("/api/setup/alerts/test", headers=headers(Role.OPERATOR)).status_code == 403

    sent = client.post("/api/setup/alerts/test", headers=headers()).get_json()
    assert sent == {"ok": True, "to": ["equipe@loja.com.br"], "message": "Sent to equipe@loja.com.br."}
    [email] = mailbox.received
    assert email.subject == f"[Consinco-Shopify] {SHOP_A}: e-mail de teste dos alertas"
    assert email.rcpt_to == ("equipe@loja.com.br",) and "No máximo um e-mail a cada 10 minutos" in email.text

    typed = client.post("/api/setup/alerts/test", json={"emails": ["outro@loja"]}, headers=headers())
    assert typed.status_code == 400 and "emails" in typed.get_json()["error"]["fields"]
    mailbox.refuse("nao-existe@loja.com.br")
    refused = client.post(
        "/api/setup/alerts/test", json={"emails": ["nao-existe@loja.com.br"]}, headers=headers()
    )
    answer = refused.get_json()
    assert answer["ok"] is False and answer["code"] == "mail_refused" and "550" in answer["message"]
    mailbox.busy()
    busy = client.post("/api/setup/alerts/test", headers=headers()).get_json()
    assert busy["code"] == "mail_unreachable" and "421" in busy["message"]
    assert len(mailbox.received) == 1
    too_many = client.post("/api/setup/alerts/test", headers=headers()).get_json()
    assert too_many["code"] == "too_many_tests" and len(mailbox.received) == 1  # the sender is every shop's
    documented = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]["AlertTest"]["properties"]
    assert {answer["code"], busy["code"], too_many["code"]} <= set(documented["code"]["enum"])
    with session_scope(
        settings.database_url
    ) as session:  # each test e-mail tried is audited, with how it went
        test_sent = select(AuditEvent).where(AuditEvent.action == "alerts.test_sent")
        tried = session.scalars(test_sent.order_by(AuditEvent.id)).all()  # no order without one
        assert [(e.after["to"], e.after["ok"], e.after["code"]) for e in tried] == [
            (["equipe@loja.com.br"], True, None),
            (["nao-existe@loja.com.br"], False, "mail_refused"),
            (["equipe@loja.com.br"], False, "mail_unreachable"),
        ]

    with session_scope(settings.database_url) as session:  # an alert the job tried, as the page shows it
        at = utcnow()
        refused = "the mail server refused the e-mail"
        session.add(AlertState(shop_id=shops.a, told={}, last_at=at, last_error=refused, last_items=3,
                               last_to=["equipe@loja.com.br"]))  # fmt: skip
    state = client.get("/api/setup/alerts", headers=headers(Role.VIEWER)).get_json()
    assert state["configured"] is True and state["sender"] == "alertas@integracao.com.br"
    assert state["recipients"] == ["equipe@loja.com.br"]
    assert state["last"] == {
        "at": at.isoformat(),
        "ok": False,
        "error": refused,
        "items": 3,
        "to": ["equipe@loja.com.br"],
        "sent_at": None,
    }
    other = client.get("/api/setup/alerts", headers=headers(Role.VIEWER, shop=SHOP_B)).get_json()
    assert other["last"] is None and other["recipients"] == []  # another shop's own

    # the Flows page, where the team looks, says it too (no e-mail can); another shop's is its own
    def failed_on_flows(shop: str = SHOP_A):
        return client.get("/api/flows", headers=headers(Role.VIEWER, shop=shop)).get_json()["alert_failed"]

    assert failed_on_flows() == state["last"] and failed_on_flows(SHOP_B) is None
    with session_scope(settings.database_url) as session:  # the next one went: nothing to say
        row = session.get(AlertState, shops.a)
        row.last_error, row.sent_at = None, utcnow()
    assert failed_on_flows() is None
