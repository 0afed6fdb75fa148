"""The day and start time of an order's delivery or pickup slot, read from the slot's text.

Why: a supermarket picks and delivers by slot. The team opens the day's orders ("amanhã") in the
order they will be picked, the 08:00 window before the 14:00 one, not in the order they were
placed. The slot is what the customer chose in the storefront's delivery-date app, kept as text
(jobs.order_slot: "Delivery-Date: 05/12/2026; Delivery-Time: 13:00 - 14:00", an ISO date already
written as the team reads it); its day and start are read from it once, when it is kept, so the
Orders page can filter a day and sort by time through an index (order_links.slot_day, slot_time).

The day: the first date in the text, day first as Brazil writes it (05/12/2026, 5-12-26, 05.12.2026)
or year first (2026/12/05). The start: the first time after that date (13:00, 8h, 08h30, 8:00h,
1:00 PM); "HH:MM". A text with no date that is a real day has no day (the order is found by the search
only); a day with no time sorts after the day's timed slots.
"""

from __future__ import annotations

import re
from datetime import date

_DAY_FIRST = r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)"
_YEAR_FIRST = r"(?<!\d)(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?!\d)"
_DATE = re.compile(f"{_DAY_FIRST}|{_YEAR_FIRST}")
# 13:00, 8h, 08h30, 1:00 PM, 1 pm (Zapiet's Delivery-Time is "13:00 - 14:00" or "1:00 PM - 2:00PM"),
# and a bare hour a range's end with its "h" or minutes follows ("das 8 às 12h", "8 - 10h")
_TIME = re.compile(
    r"(?<![\d/.-])(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})|\s?h(?P<h_minute>\d{2})?|(?=\s?[ap]\.?m\b)"
    r"|(?=\s*(?:às|as|a|até|ate|-|–)\s*\d{1,2}\s?(?::\d{2}|h)))"
    r"(?:\s?(?P<half>[ap])\.?m\b\.?)?(?![\d/])",
    re.IGNORECASE,
)


def slot_start(slot: str | None) -> tuple[date | None, str | None]:
    """(day, "HH:MM" start) of the slot's text; (None, None) when it names no real day."""
    if not slot:
        return None, None
    for match in _DATE.finditer(slot):
        day = _day(match)
        if day is not None:
            return day, _start(slot[match.end() :])
    return None, None


def _day(match: re.Match[str]) -> date | None:
    if match[1] is not None:
        day, month, year = int(match[1]), int(match[2]), match[3]
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
    else:
        full_year, month, day = int(match[4]), int(match[5]), int(match[6])
    try:
        return date(full_year, month, day)
    except ValueError:
        return None


def _start(text: str) -> str | None:
    for match in _TIME.finditer(text):
        hour, minute = int(match["hour"]), int(match["minute"] or match["h_minute"] or 0)
        half = (match["half"] or "").lower()
        if half and not 1 <= hour <= 12:
            continue
        if half:
            hour = hour % 12 + (12 if half == "p" else 0)
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    return None
