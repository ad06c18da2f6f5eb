"""Parsing the values of a row: amounts, days, months, APL status."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app import bounds
from app.formatting import format_date
from app.housing.models import AplStatus

_AMOUNT = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


def parse_amount(value) -> int:
    """Cents from ``1 234,56``, ``-12,5``, ``412.80``, ``1.234,56 €`` or a spreadsheet number;
    ValueError beyond the plausible balance (``bounds.BALANCE``)."""
    cents = _parse_cents(value)
    if not bounds.BALANCE.contains(cents):
        raise ValueError
    return cents


def _parse_cents(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        try:
            return int((Decimal(str(value)) * 100).quantize(Decimal(1)))
        except InvalidOperation as error:
            raise ValueError from error
    text = str(value).strip().replace("€", "")
    for space in (" ", "\u00a0", "\u202f"):
        text = text.replace(space, "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not _AMOUNT.match(text):
        raise ValueError
    return int((Decimal(text) * 100).quantize(Decimal(1)))


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y")


def parse_day(value) -> date:
    """A date from a cell; ValueError when unreadable or outside 1900–2100."""
    day = _read_day(value)
    if not bounds.date_in_window(day):
        raise ValueError
    return day


def _read_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


_MONTH_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), 1, 2),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), 2, 1),
)


def parse_month(value) -> date:
    """First day of the month from ``2026-03``, ``03/2026``, a date or a spreadsheet date."""
    if isinstance(value, date):
        return (value if not isinstance(value, datetime) else value.date()).replace(day=1)
    text = str(value).strip()
    for pattern, year_group, month_group in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            return date(int(match.group(year_group)), int(match.group(month_group)), 1)
    return parse_day(text).replace(day=1)


_APL_VALUES = {
    "maintenue": AplStatus.MAINTENUE,
    "maintenu": AplStatus.MAINTENUE,
    "oui": AplStatus.MAINTENUE,
    "suspendue": AplStatus.SUSPENDUE,
    "suspendu": AplStatus.SUSPENDUE,
    "sans": AplStatus.SANS_APL,
    "sans apl": AplStatus.SANS_APL,
    "non": AplStatus.SANS_APL,
    "aucune": AplStatus.SANS_APL,
}


def _month_label(month: date) -> str:
    return format_date(month).split(" ", 1)[1]
