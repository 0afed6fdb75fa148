"""The slot's day and start as the team reads them from what the delivery-date app wrote: day
first as Brazil writes it (or year first), the first time after the day, 12-hour clocks turned to
24; a date that is not a real day is skipped, a text with none has no day."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.slot_day import slot_start

D5, D6 = date(2026, 12, 5), date(2026, 12, 6)


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        ("Delivery-Date: 05/12/2026; Delivery-Time: 13:00 - 14:00", (D5, "13:00")),
        ("Delivery-Date: 05/12/2026; Delivery-Time: 1:00 PM - 2:00PM", (D5, "13:00")),
        ("Data de entrega: 5-12-26; Horário de entrega: 8h às 12h", (D5, "08:00")),
        ("Data de entrega: 05.12.2026; Horário: 08h30 às 10h", (D5, "08:30")),
        ("Data de entrega: 05/12/2026; Horário: 8:00h", (D5, "08:00")),
        ("Pickup-Date: 2026/12/06; Pickup-Time: 10H", (D6, "10:00")),
        ("Delivery-Date: 06/12/2026; Delivery-Time: 12 am", (D6, "00:00")),
        ("Delivery-Date: 06/12/2026; Delivery-Time: 12:30 p.m.", (D6, "12:30")),
        ("Data de retirada: 06/12/2026", (D6, None)),  # a pickup with no time: the day's last
        ("Entrega: 31/02/2026 10:00; 06/12/2026 9h", (D6, "09:00")),  # no 31 February: the next date
        ("Delivery-Date: 06/12/2026; Delivery-Time: 25:00 - 13 pm - 14:00", (D6, "14:00")),
        ("Data de entrega: 05/12/2026; Horário: das 8 às 12h", (D5, "08:00")),  # a bare hour, a range's
        ("Data de entrega: 05/12/2026 8 - 10h", (D5, "08:00")),  # end with its "h" after it
        ("Data de entrega: 05/12/2026, entrega em 3 a 5 dias", (D5, None)),  # no time there
        ("Horário de entrega: 8h às 12h", (None, None)),  # a time and no day
        ("Shopify #1002 - 123/12/2026", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_a_slots_day_and_start(slot: str | None, expected: tuple[date | None, str | None]) -> None:
    assert slot_start(slot) == expected
