"""Calendar arithmetic on Python dates, shared by every domain (SQL date arithmetic that runs
on SQLite and PostgreSQL lives in ``app.sql``; display in ``app.formatting``)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's last day
    (31 Jan + 1 → 28 or 29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_of_month(day: date) -> date:
    return day.replace(day=1)
