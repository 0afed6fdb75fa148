"""The Setup page's alert e-mails: whether the app can send them, the last one, and a test e-mail.

The addresses and language are shop settings (`alert_emails`, `alert_locale`: api_settings);
jobs.alerts sends the digest. The mail server is the app's (SMTP_URL): without one nothing is sent,
and `configured` false lets the page say so instead of a silent nothing. The test e-mail goes at
once, through the same client (mail.client), to the addresses typed or else the saved ones, so the
team knows the server takes it and where it lands (spam folder included) before it matters; the
server's refusal is the answer's `message`, not an error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from ledger import alert_state, shop_settings
from ledger.errors import Rejected, Transient
from ledger.models import Role, Shop
from mail import client as mail
from shopify_app.api_common import (
    app_settings,
    db,
    invalid,
    not_found,
    optional_json_body,
    reject_unknown,
    within_limit,
    write_audit,
)
from shopify_app.api_settings import validate_settings
from shopify_app.roles import require_role

bp = Blueprint("alerts", __name__, url_prefix="/setup/alerts")

TEST_WORDS = {
    "pt-BR": (
        "[Consinco-Shopify] {shop}: e-mail de teste dos alertas",
        "Este é um e-mail de teste da integração Consinco ↔ Shopify da loja {shop}.\n\n"
        "Os alertas chegarão deste endereço quando algo precisar de uma pessoa: um pedido que falhou ou "
        "aguarda um De:Para, um aviso num pedido. No máximo um e-mail a cada {every} minutos.",
    ),
    "en": (
        "[Consinco-Shopify] {shop}: alert test e-mail",
        "This is a test e-mail of the Consinco ↔ Shopify integration of {shop}.\n\n"
        "Alerts will come from this address when something needs a person: an order that failed or waits "
        "for a mapping, a note on an order. At most one e-mail every {every} minutes.",
    ),
}


@bp.get("")
@require_role(Role.VIEWER)
def alerts_state() -> ResponseReturnValue:
    settings = app_settings()
    with db() as session:
        shop = session.get(Shop, g.shop.id)
        if shop is None:
            raise not_found("shop")
        recipients = shop_settings.get(shop, "alert_emails")
        last = alert_state.last_attempt(session, g.shop.id)
    return jsonify(
        {
            "configured": mail.configured(settings),
            "sender": mail.sender(settings) if mail.configured(settings) else None,
            "every_minutes": alert_state.EVERY_MINUTES,
            "recipients": recipients,
            "last": last,
        }
    )


TESTS_PER_WINDOW = 3
TEST_WINDOW_SECONDS = 600


@bp.post("/test")
@require_role(Role.ADMIN)
def send_test() -> ResponseReturnValue:
    """A test e-mail now, to `emails` when given (checked as the setting is) else the saved ones."""
    body = optional_json_body()
    reject_unknown(body, {"emails"})
    settings = app_settings()
    with db() as session:
        shop = session.get(Shop, g.shop.id)
        if shop is None:
            raise not_found("shop")
        config = shop_settings.effective(shop)
        domain = shop.domain
    recipients = body.get("emails", config["alert_emails"])
    problems = validate_settings({"alert_emails": recipients})
    if problems:
        raise invalid({"emails": problems["alert_emails"]})
    if not recipients:
        return jsonify(_failed("no_recipients", "No address to send to: type one or save the alert e-mails."))
    if not mail.configured(settings):
        return jsonify(_failed("mail_not_configured", "The app has no mail server (SMTP_URL is not set)."))
    if not _test_allowed(settings.redis_url, g.shop.id):
        minutes = TEST_WINDOW_SECONDS // 60
        words = f"At most {TESTS_PER_WINDOW} test e-mails every {minutes} minutes: wait, then try again."
        return jsonify(_failed("too_many_tests", words))
    subject, text = TEST_WORDS["en" if config["alert_locale"] == "en" else "pt-BR"]
    email = mail.email(
        settings,
        subject.format(shop=domain),
        recipients,
        text.format(shop=domain, every=alert_state.EVERY_MINUTES),
    )
    try:
        took = mail.send(settings, email)
    except Transient as exc:
        return _audited(recipients, _failed("mail_unreachable", exc.message))
    except Rejected as exc:
        return _audited(recipients, _failed("mail_refused", exc.message))
    return _audited(recipients, {"ok": True, "to": took, "message": f"Sent to {', '.join(took)}."})


def _test_allowed(redis_url: str, shop_id: int) -> bool:
    """At most TESTS_PER_WINDOW test e-mails a shop per window: the sender serves every shop, and
    its reputation with the mail servers is theirs too (Redis unreachable: allowed, as sending is)."""
    return within_limit(redis_url, f"alerts:test:{shop_id}", TESTS_PER_WINDOW, TEST_WINDOW_SECONDS)


def _audited(recipients: list[str], answer: dict[str, Any]) -> ResponseReturnValue:
    """The answer, with its audit row: who sent a test e-mail, to whom, and how it went."""
    with db() as session:
        write_audit(session, "alerts.test_sent", "alerts", None,
                    {"to": recipients, "ok": answer["ok"], "code": answer.get("code")})  # fmt: skip
    return jsonify(answer)


def _failed(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "message": message, "to": []}
