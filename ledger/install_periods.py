"""When the app was installed on a store (table install_periods, by domain), and whether it was at a
given time.

Why: an order of the store's time without the app is never sent to the ERP (jobs.order_kinds: the
store handled it by hand). That was told by the shop row's created_at (its first install), but
shop/redact deletes the row with the rest of the store's data (ledger.privacy), so once the merchant
installed the app again every order of the earlier installation read as the store's own: a boleto
placed then, waiting for its payment when the store uninstalled, paid after the reinstall, was
dropped though the app had said it sends it once paid. The periods are kept by the redact (a domain
and two times: no personal data), and an order is the store's own only when placed while the app
was not installed: before its first install, or between an uninstall and the install after it.

Written by shopify_app.shops.mark_installed (a period begins, unless one is open: a re-auth is no
new install) and jobs.compliance.app_uninstalled (the open period ends; an uninstall learned after
the reinstall that undid it ends it at its time and opens one at the reinstall's). A store with none recorded
(a shop made by a test's fixture, or whose rows were never written so) has been installed since its
shop row's created_at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import InstallPeriod, Shop, as_utc


@dataclass(frozen=True)
class Gap:
    """A stretch of time the app was not installed on the store: from `since` (its uninstall; None:
    before the first install) to `until` (the install after it; None: not installed since)."""

    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class Installs:
    """The store's installations, oldest first: (installed, uninstalled; None while installed)."""

    periods: tuple[tuple[datetime, datetime | None], ...]

    @property
    def first(self) -> datetime:
        return self.periods[0][0]

    def gap_at(self, when: datetime) -> Gap | None:
        """The stretch without the app `when` falls in; None when the app was installed then.
        Shopify's times are whole seconds: an order of an install's own second is the app's."""
        when, since = as_utc(when), None
        for installed, uninstalled in self.periods:
            start = as_utc(installed).replace(microsecond=0)
            if when < start:
                return Gap(since, start)
            if uninstalled is None or when <= as_utc(uninstalled):
                return None
            since = as_utc(uninstalled)
        return Gap(since, None)


def since(created_at: datetime) -> Installs:
    """Installed since `created_at`, as a store with no period recorded."""
    return Installs(((created_at, None),))


def of_store(session: Session, domain: str, created_at: datetime) -> Installs:
    """The store's installations (one SELECT); `created_at`: its shop row's, when none is recorded."""
    rows = _rows(session, domain)
    return Installs(tuple((r.installed_at, r.uninstalled_at) for r in rows)) if rows else since(created_at)


def for_time(session: Session, domain: str, current_since: datetime, when: datetime | None) -> Installs:
    """The store's installations as far as a time `when` needs them: for a time of the current
    installation (begun at `current_since`, read with the shop: the import's own SELECT), that alone
    and no statement; for an earlier one, every period (`of_store`)."""
    if when is None or as_utc(when) >= as_utc(current_since).replace(microsecond=0):
        return since(current_since)
    return of_store(session, domain, current_since)


def installed(session: Session, domain: str, at: datetime, *, created_at: datetime | None = None) -> None:
    """The app installed on the store at `at` (an install or a re-auth): a period begins, unless one
    is open. `created_at`: the shop row's, when it existed before (a store with no period recorded
    has been installed since then)."""
    rows = _rows(session, domain)
    if any(row.uninstalled_at is None for row in rows):
        return
    session.add(InstallPeriod(domain=domain, installed_at=at if rows or created_at is None else created_at))
    session.flush()


def uninstalled(session: Session, domain: str, at: datetime, *, created_at: datetime) -> None:
    """The app uninstalled from the store at `at`: its open period ends (`created_at`: the shop row's,
    the start of a store with no period recorded). A second delivery of the uninstall changes nothing."""
    rows = _rows(session, domain)
    if not rows:
        ended = max(as_utc(at), as_utc(created_at))
        session.add(InstallPeriod(domain=domain, installed_at=created_at, uninstalled_at=ended))
    for row in rows:
        if row.uninstalled_at is None:
            row.uninstalled_at = max(as_utc(at), as_utc(row.installed_at))
    session.flush()


def uninstalled_before(
    session: Session, domain: str, at: datetime, reinstalled: datetime, *, created_at: datetime
) -> None:
    """An uninstall at `at` learned only after the install at `reinstalled` that undid it (its
    webhook late, or processed after): the open period begun before `at` ends then and one begins at
    `reinstalled`, so an order placed between reads as the store's own. Nothing when the open period
    began after `at` (that uninstall was recorded already: a second delivery)."""
    rows = _rows(session, domain)
    at, reinstalled = as_utc(at), as_utc(reinstalled)
    if not rows:
        session.add(
            InstallPeriod(domain=domain, installed_at=created_at, uninstalled_at=max(at, as_utc(created_at)))
        )
        session.add(InstallPeriod(domain=domain, installed_at=reinstalled))
    for row in rows:
        if row.uninstalled_at is None and as_utc(row.installed_at) < at < reinstalled:
            row.uninstalled_at = at
            session.add(InstallPeriod(domain=domain, installed_at=reinstalled))
    session.flush()


def erased_before(session: Session, shop: Shop) -> datetime | None:
    """When the store's earlier data was erased: the end (the uninstall) of the last installation
    before its shop row was made. A row is only made anew after shop/redact deleted the one before,
    so an installation that ended before it was the one whose data went. None: never so."""
    ended = [
        as_utc(row.uninstalled_at)
        for row in _rows(session, shop.domain)
        if row.uninstalled_at is not None and as_utc(row.uninstalled_at) < as_utc(shop.created_at)
    ]
    return max(ended) if ended else None


def _rows(session: Session, domain: str) -> Sequence[InstallPeriod]:
    query = select(InstallPeriod).where(InstallPeriod.domain == domain).order_by(InstallPeriod.installed_at)
    return session.scalars(query).all()
