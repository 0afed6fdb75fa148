"""A scheduled run worked after its shop stopped being served does nothing (jobs.shop_served).

The tick enqueues runs for active shops only, but a run it enqueued a minute before the uninstall
(or a "Run now" still waiting in RQ) was worked after it: a stock pass read the ERP's companies and
stock, a price pass its prices and failed one message per price "needs re-authorization: app
uninstalled", the catalog passes and the reconciliation raised.
"""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import func, select

from erp.transport import Transport
from jobs import compliance
from jobs.inbox import WebhookEvent
from ledger import privacy
from ledger.db import session_scope
from ledger.models import Message, Shop, ShopStatus, utcnow
from ledger.schedules import DEFAULT_SCHEDULES


def _uninstall(domain: str) -> None:
    payload = {"domain": domain, "myshopify_domain": domain}
    compliance.app_uninstalled(
        WebhookEvent(0, "app/uninstalled", domain, None, None, "2026-10", utcnow(), payload)
    )


def _messages(shop_id: int) -> int:
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Message).where(Message.shop_id == shop_id)) or 0
        )


@pytest.fixture
def erp_reads(monkeypatch) -> list[str]:
    """Every call the ERP client sends (its path), from any flow."""
    sent: list[str] = []
    real = Transport._send

    def spy(self, method, path_key, *args, **kwargs):
        sent.append(f"{method} {path_key}")
        return real(self, method, path_key, *args, **kwargs)

    monkeypatch.setattr(Transport, "_send", spy)
    return sent


@pytest.mark.parametrize("status", [ShopStatus.UNINSTALLED, ShopStatus.NEEDS_REAUTH])
def test_every_scheduled_flow_run_after_the_shop_stopped_being_served_reads_and_writes_nothing(
    chain, calls, erp_reads, status
):
    shop = chain.install("saiu", 1, 1, [1, 2])
    chain.load_catalog(shop, priced=True)
    importlib.import_module("jobs.stock").run(shop.shop_id)
    assert erp_reads, "the spy sees the ERP reads of a served shop"
    if status is ShopStatus.UNINSTALLED:
        _uninstall(shop.domain)
    else:
        with session_scope() as session:
            session.get(Shop, shop.shop_id).status = status.value
    before, mark = _messages(shop.shop_id), calls.mark()
    erp_reads.clear()
    for flow in DEFAULT_SCHEDULES:  # the runs the tick enqueued a minute before, worked now
        result = importlib.import_module(f"jobs.{flow}").run(shop.shop_id)
        assert not isinstance(result, dict) or result == {"skipped": f"shop {status.value}"}, (flow, result)
    assert erp_reads == []
    assert calls.names(mark) == []
    assert _messages(shop.shop_id) == before


def test_a_shop_erased_by_shop_redact_has_its_runs_skipped(chain, erp_reads):
    shop = chain.install("apagada", 1, 1, [1])
    with session_scope() as session:
        privacy.redact_shop(session, shop.domain)
    assert importlib.import_module("jobs.prices").run(shop.shop_id).read == 0
    assert importlib.import_module("jobs.order_events").run(shop.shop_id) == {"skipped": "shop erased"}
    assert erp_reads == []
