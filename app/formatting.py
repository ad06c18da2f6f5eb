"""French display of dates, times and money (Europe/Paris), used by templates and messages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

PARIS = ZoneInfo("Europe/Paris")


def to_paris(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


def today_paris(now: datetime | None = None) -> date:
    return to_paris(now or datetime.now(UTC)).date()


def format_date(value: date | datetime | None, style: str = "long") -> str:
    """``12 mars 2026`` (long) or ``12/03/2026`` (short, for tables)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    if style == "short":
        return value.strftime("%d/%m/%Y")
    # Babel's "d MMMM y" in fr_FR, written directly: a page of the household file formats
    # hundreds of dates, and Babel's pattern machinery was 9 % of its time (issue #19).
    return f"{value.day} {FRENCH_MONTHS[value.month - 1]} {value.year}"


FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def format_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_paris(value).strftime("%H:%M")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{format_date(value)} à {format_time(value)}"


def format_money(cents: int | None) -> str:
    """``1 234,56 €`` from integer cents."""
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR", locale="fr_FR")


def tel_href(phone: str | None) -> str:
    """A ``tel:`` link target for a phone number as people type it (``04 78 70 40 40``,
    ``+33 (0)4.78…``): digits and a leading ``+`` only, since a URI may not hold spaces."""
    if not phone:
        return ""
    digits = re.sub(r"[^0-9+]", "", phone)
    return "tel:" + digits[:1] + digits[1:].replace("+", "")


def register_template_filters(app) -> None:
    app.jinja_env.filters["tel_href"] = tel_href
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["money"] = format_money
