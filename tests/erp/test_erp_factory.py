"""erp.for_shop: the client from the shop's ErpConnection (password decrypted), the documented
environment fallback, and MappingMissing when neither exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from erp_samples import LOGIN, ORDER
from erp_test_urls import API, BASE

import erp
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import ErpConnection, ErrorClass, Shop


def _shop(url: str, *, connection: bool) -> int:
    with session_scope(url) as session:
        shop = Shop(domain="loja.myshopify.com")
        session.add(shop)
        session.flush()
        if connection:
            session.add(
                ErpConnection(
                    shop_id=shop.id, base_url=BASE, username="ecommerce", password_enc=encrypt("s3cret")
                )
            )
        return shop.id


def test_client_from_the_ledger_with_decrypted_password(
    env, database_url, requests_mock, monkeypatch
) -> None:
    monkeypatch.delenv("CONSINCO_USER", raising=False)
    shop_id = _shop(database_url, connection=True)
    client = erp.for_shop(shop_id, page_size=1000)
    assert client.base_url == BASE + "/" and client.page_size == 1000
    login = requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "PedidoVenda/1001", json=ORDER)
    client.get_order(1001)
    assert login.last_request.json() == {"user": "ecommerce", "password": "s3cret"}


def test_the_first_login_the_erp_accepts_verifies_the_connection_and_a_refused_one_does_not(
    env, database_url, requests_mock, monkeypatch
) -> None:
    """ErpConnection.verified_at: what tells a store truly on an ERP from an address typed alone
    (jobs.stock_pending.same_erp_shops); set by the first login the ERP accepts, never by a refused
    one, and not over a row saved since the client was built (the new values are not proven)."""
    monkeypatch.delenv("CONSINCO_USER", raising=False)
    shop_id = _shop(database_url, connection=True)

    def verified_at():
        with session_scope(database_url) as session:
            return session.query(ErpConnection.verified_at).filter_by(shop_id=shop_id).scalar()

    requests_mock.post(API + "Auth/Login", status_code=401, json={"mensagem": "login recusado"})
    with pytest.raises(Exception):  # noqa: B017 (the refusal's class is the client's business)
        erp.for_shop(shop_id).get_order(1001)
    assert verified_at() is None
    requests_mock.post(API + "Auth/Login", json=LOGIN)
    requests_mock.get(API + "PedidoVenda/1001", json=ORDER)
    stale = erp.for_shop(shop_id)
    with session_scope(database_url) as session:  # saved again meanwhile: another user
        session.query(ErpConnection).filter_by(shop_id=shop_id).update({"username": "outro"})
    stale.get_order(1001)
    assert verified_at() is None
    erp.for_shop(shop_id).get_order(1001)
    assert verified_at() is not None


def test_missing_connection_is_mapping_missing(env, database_url, monkeypatch) -> None:
    monkeypatch.delenv("CONSINCO_USER", raising=False)
    monkeypatch.delenv("CONSINCO_PASSWORD", raising=False)
    shop_id = _shop(database_url, connection=False)
    with pytest.raises(MappingMissing) as caught:
        erp.for_shop(shop_id)
    assert caught.value.kind == "erp_connection" and caught.value.code == str(shop_id)
    assert caught.value.error_class is ErrorClass.MAPPING_MISSING and "setup page" in caught.value.message


def test_environment_fallback_for_the_demo(env, database_url, monkeypatch) -> None:
    monkeypatch.setenv("CONSINCO_BASE_URL", "http://127.0.0.1:8702/smpedidovenda/smpedidovendaapi")
    monkeypatch.setenv("CONSINCO_USER", "ecommerce")
    monkeypatch.setenv("CONSINCO_PASSWORD", "consinco")
    client = erp.for_shop(_shop(database_url, connection=False))
    assert client.base_url == "http://127.0.0.1:8702/smpedidovenda/smpedidovendaapi/"
    assert client.transport.username == "ecommerce"


def test_no_environment_fallback_in_production(env, database_url, monkeypatch) -> None:
    """In production each shop reaches its own ERP: a newly installed shop must not be handed the
    operator's CONSINCO_USER / CONSINCO_PASSWORD."""
    monkeypatch.setenv("CONSINCO_USER", "ecommerce")
    monkeypatch.setenv("CONSINCO_PASSWORD", "consinco")
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(MappingMissing) as caught:
        erp.for_shop(_shop(database_url, connection=False))
    assert caught.value.kind == "erp_connection"


def test_the_read_overlap_is_the_settings(env, database_url, monkeypatch) -> None:
    """Every flow's incremental read starts ERP_READ_OVERLAP before its watermark (120 s unless
    set): an ERP whose batch jobs commit rows minutes after stamping them raises it. A caller's own
    `overlap` (a test, a tool) still wins."""
    monkeypatch.delenv("CONSINCO_USER", raising=False)
    shop_id = _shop(database_url, connection=True)
    assert erp.for_shop(shop_id).overlap == timedelta(seconds=120)
    env.setenv("ERP_READ_OVERLAP", "900")
    assert erp.for_shop(shop_id).overlap == timedelta(seconds=900)
    assert erp.for_shop(shop_id, overlap=timedelta(0)).overlap == timedelta(0)
