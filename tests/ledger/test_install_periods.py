"""ledger.install_periods: when the app was installed on a store, kept by domain; migration 0016
gives every shop installed before one period from its row's created_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from ledger import db, install_periods
from ledger.install_periods import Gap, Installs
from ledger.models import Shop
from ledger.schema import alembic_config

T0 = datetime(2026, 10, 1, 12, 0, 0, 500_000, tzinfo=UTC)  # first install (not a whole second)
OFF = T0 + timedelta(days=20)  # uninstalled
AGAIN = T0 + timedelta(days=30)  # installed again
INSTALLS = Installs(((T0, OFF), (AGAIN, None)))


def test_an_order_is_the_stores_own_only_when_placed_while_the_app_was_not_installed() -> None:
    assert INSTALLS.gap_at(T0 - timedelta(days=1)) == Gap(None, T0.replace(microsecond=0))
    assert (
        INSTALLS.gap_at(T0.replace(microsecond=0)) is None
    )  # the install's own second: Shopify's whole seconds
    assert INSTALLS.gap_at(T0 + timedelta(days=5)) is None  # the first installation's: the app's
    assert INSTALLS.gap_at(OFF) is None
    between = Gap(OFF, AGAIN.replace(microsecond=0))
    assert INSTALLS.gap_at(OFF + timedelta(days=1)) == between  # between an uninstall and the reinstall
    assert INSTALLS.gap_at(AGAIN + timedelta(seconds=1)) is None
    assert Installs(((T0, OFF),)).gap_at(OFF + timedelta(days=1)) == Gap(OFF, None)  # not installed since


def test_a_reauth_is_no_new_install_and_an_uninstall_delivered_twice_ends_one_period(session, shop) -> None:
    domain = shop.domain
    install_periods.installed(session, domain, T0 + timedelta(days=1), created_at=T0)  # none kept: since T0
    install_periods.installed(session, domain, T0 + timedelta(days=2), created_at=T0)  # a re-auth
    install_periods.uninstalled(session, domain, OFF, created_at=T0)
    install_periods.uninstalled(session, domain, OFF + timedelta(hours=1), created_at=T0)  # delivered again
    install_periods.installed(session, domain, AGAIN)
    found = install_periods.of_store(session, domain, T0)
    assert found == INSTALLS
    assert install_periods.of_store(session, "nunca.myshopify.com", T0) == Installs(((T0, None),))


def test_an_uninstall_of_a_store_with_no_period_kept_ends_the_one_since_its_row(session, shop) -> None:
    install_periods.uninstalled(session, shop.domain, OFF, created_at=T0)
    assert install_periods.of_store(session, shop.domain, AGAIN) == Installs(((T0, OFF),))


def test_a_shop_row_made_after_an_earlier_installation_ended_had_its_data_erased(session, shop) -> None:
    shop.created_at = T0
    install_periods.uninstalled(session, shop.domain, OFF, created_at=T0)
    assert install_periods.erased_before(session, shop) is None  # the same row: nothing was erased
    again = Shop(domain="de-novo.myshopify.com", created_at=AGAIN)
    session.add(again)
    session.flush()
    install_periods.uninstalled(session, again.domain, OFF, created_at=T0)
    assert install_periods.erased_before(session, again) == OFF


def test_migration_0016_gives_each_shop_one_period_from_its_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = db.get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (domain, scopes, status, uninstalled_at, settings, created_at, "
                "updated_at) VALUES ('a.myshopify.com', '', 'active', NULL, '{}', '2026-10-01 12:00:00', "
                "'2026-10-02 12:00:00'), ('b.myshopify.com', '', 'uninstalled', '2026-10-20 12:00:00', "
                "'{}', '2026-10-01 12:00:00', '2026-10-20 12:00:00')"
            )
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT domain, installed_at, uninstalled_at FROM install_periods ORDER BY domain")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("a.myshopify.com", "2026-10-01 12:00:00", None),
        ("b.myshopify.com", "2026-10-01 12:00:00", "2026-10-20 12:00:00"),
    ]
    command.downgrade(alembic_config(url), "0013")
    assert "install_periods" not in inspect(engine).get_table_names()
    engine.dispose()
