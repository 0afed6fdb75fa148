"""The shop's time zone, so the page shows dates in the store's time, not the browser's.

Shopify's `shop { ianaTimezone }` ("America/Sao_Paulo") is read once, when the app is installed
(or installed again), and kept on the shop row; a shop installed before the column existed, or
whose first read failed, is read at its next session. One try with short timeouts
(api_upstream.shopify_read): a failure is logged and the page falls back to the browser's zone,
it never stops a session. Cron schedules stay in UTC (the Flows page says so); the daily ones a
shop still has at their default follow the zone read (ledger.schedules.follow_zone), so the
prices sweep runs after the store's midnight, not Brasília's.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.db import session_scope
from ledger.schedules import follow_known_zone, follow_zone
from settings import Settings
from shopify_app import api_upstream
from shopify_app.api_common import ApiError
from shopify_app.shops import find_shop

log = logging.getLogger(__name__)

MAX_LENGTH = 64  # Shop.iana_timezone


def stored(settings: Settings, shop_domain: str) -> str | None:
    """The zone kept on the shop row, None when not read yet."""
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, shop_domain)
        return shop.iana_timezone if shop is not None else None


def valid_zone(value: object) -> str | None:
    """`value` when it names an IANA zone this machine knows, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def _follow_known(settings: Settings, shop_domain: str, zone: str) -> None:
    """The daily schedules of a shop whose zone an older release stored, left at Brasília's times,
    follow it (ledger.schedules.follow_known_zone; nothing once they did)."""
    with session_scope(settings.database_url) as session:
        shop = find_shop(session, shop_domain)
        if shop is not None:
            moved = follow_known_zone(session, shop.id, zone)
            if moved:
                log.info("%s is in %s: the daily schedules %s follow it", shop_domain, zone, moved)


def remember(settings: Settings, shop_domain: str, *, refresh: bool = False) -> str | None:
    """The shop's zone: the stored one, read from Shopify (and stored) when there is none yet or
    `refresh` is asked (a new install). Shopify unreachable or answering nonsense: the stored one."""
    known = stored(settings, shop_domain)
    if known is not None and not refresh:
        _follow_known(settings, shop_domain, known)
        return known
    try:
        answer = api_upstream.shopify_read(shop_domain, settings, lambda client: client.shop_timezone())
    except ApiError as exc:
        log.warning("the time zone of %s could not be read: %s", shop_domain, exc.message)
        return known
    zone = valid_zone(answer)
    if zone is None:
        log.warning("the time zone of %s is not one this machine knows: %r", shop_domain, answer)
        return known
    if zone != known:
        with session_scope(settings.database_url) as session:
            shop = find_shop(session, shop_domain, for_update=True)
            if shop is not None:
                shop.iana_timezone = zone
                # the daily sweeps at their time of day in the store's zone (ledger.schedules)
                moved = follow_zone(session, shop.id, zone, known)
                if moved:
                    log.info("%s is in %s: the daily schedules %s follow it", shop_domain, zone, moved)
    return zone
