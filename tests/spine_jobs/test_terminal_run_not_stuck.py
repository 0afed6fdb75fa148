"""A `flask catalog sync --full` run in a terminal (no RQ job) 20 minutes into its bulk operation:
its units are pending with no job id under its live flow locks. They were counted interrupted (the
Flows page, `?stuck=true`), e-mailed ("click Retry") and offered for Retry, whose replay then waited
on the lock until its tries ran out and failed the unit the load was still finishing. A unit with
no job under a held flow lock is a running one's; once the lock is gone, it is interrupted."""

from __future__ import annotations

from datetime import timedelta

from jobs import alerts
from jobs.locks import flow_lock
from ledger import stuck, trace
from ledger.db import session_scope
from ledger.kv import get_redis
from ledger.models import Shop, utcnow
from sandbox.mail import MailServer


def test_a_terminal_loads_units_are_not_interrupted_while_its_lock_is_held(jobs_env) -> None:
    with MailServer() as server:
        jobs_env.setenv("SMTP_URL", server.url)
        jobs_env.setenv("ALERT_MAIL_FROM", "a@b.com.br")
        with session_scope() as session:
            shop = Shop(
                domain="cli.myshopify.com", settings={"alert_emails": ["t@loja.com.br"]}, status="active"
            )
            session.add(shop)
            session.flush()
            shop_id = shop.id
        with flow_lock(shop_id, "products"), flow_lock(shop_id, "skus"), flow_lock(shop_id, "catalog"):
            with session_scope() as session:
                message = trace.begin(
                    session, shop_id, "products", "product:77", "erp_to_shopify", erp_id="77"
                )
                assert message.job_id is None
                message.updated_at = utcnow() - timedelta(minutes=20)
            with session_scope() as session:
                assert stuck.read(session, shop_id, get_redis()).counts() == {}
            assert alerts.run(shop_id) == {"items": 0}
            assert server.received == []
        with session_scope() as session:  # the load is gone (killed): now it is interrupted
            assert stuck.read(session, shop_id, get_redis()).counts() == {"products": 1}
