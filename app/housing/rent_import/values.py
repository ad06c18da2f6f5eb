"""Parsing the values of a row: amounts, days, months, APL status, as ERPs write them.

Amounts: decimal comma or point, any space as thousands separator (U+0020, U+00A0, U+202F,
U+2009…), a thousands point or comma when the other one is the decimal mark, negatives as
``-123,45``, ``123,45-`` or ``(123,45)``, an optional ``€``. Days: ``dd/mm/yyyy``,
``dd.mm.yyyy``, ``dd-mm-yyyy``, ``dd/mm/yy``, ISO ``yyyy-mm-dd``, any of them followed by a
time, or an Excel serial number (days since 1899-12-30)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from app import bounds
from app.formatting import format_date
from app.housing.models import AplStatus

_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007\u2008\u200a'’]")
_GROUPED_POINTS = re.compile(r"^\d{1,3}(\.\d{3})+$")
_GROUPED_COMMAS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(value) -> int:
    """Cents from ``1 234,56``, ``-12,5``, ``(412,80)``, ``412,80-``, ``1.234,56 €`` or a
    spreadsheet number; ValueError beyond the plausible balance (``bounds.BALANCE``)."""
    cents = _parse_cents(value)
    if not bounds.BALANCE.contains(cents):
        raise ValueError
    return cents


def _sign(text: str) -> tuple[int, str]:
    """The sign of an amount written ``-x``, ``+x``, ``x-`` or ``(x)``, and ``x``."""
    if text.startswith("(") and text.endswith(")"):
        return -1, text[1:-1]
    if text.endswith("-"):
        return -1, text[:-1]
    if text.startswith("-") or text.startswith("\u2212"):
        return -1, text[1:]
    if text.startswith("+"):
        return 1, text[1:]
    return 1, text


def _decimal_text(text: str) -> str:
    """``1234.56`` from ``1234,56``, ``1.234,56``, ``1,234.56``, ``1.234`` or ``1234.5``."""
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):  # 1.234,56
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")  # 1,234.56
    if "," in text:
        if _GROUPED_COMMAS.match(text) and text.count(",") > 1:  # 1,234,567
            return text.replace(",", "")
        return text.replace(",", ".")
    if _GROUPED_POINTS.match(text) and text.count(".") > 1:  # 1.234.567
        return text.replace(".", "")
    return text


def _parse_cents(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        try:
            return int((Decimal(str(value)) * 100).quantize(Decimal(1)))
        except InvalidOperation as error:
            raise ValueError from error
    text = _SPACES.sub("", str(value)).replace("€", "").replace("EUR", "")
    sign, text = _sign(text)
    if text.startswith("-") or text.startswith("(") or text.endswith("-"):
        raise ValueError  # two signs
    text = _decimal_text(text)
    match = _AMOUNT.match(text)
    if not match:
        raise ValueError
    # At most two decimals (``_AMOUNT``): exact in integers, no Decimal needed.
    whole, _point, decimals = text.partition(".")
    return sign * (int(whole) * 100 + int(decimals.ljust(2, "0") if decimals else 0))


_DATE_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
_TIME = re.compile(r"^(\S+)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")
_COMMON_DAY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers of 1900-01-01 … 2100-12-31 in Excel's 1900 date system.
_EXCEL_SERIALS = (2, 73415)


def parse_day(value) -> date:
    """A date from a cell; ValueError when unreadable or outside 1900–2100."""
    day = _read_day(value)
    if not bounds.date_in_window(day):
        raise ValueError
    return day


def _excel_serial(number: float) -> date:
    if not _EXCEL_SERIALS[0] <= number <= _EXCEL_SERIALS[1]:
        raise ValueError
    return _EXCEL_EPOCH + timedelta(days=int(number))


def _read_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return _excel_serial(value)
    text = str(value).strip()
    fast = _COMMON_DAY.match(text)  # dd/mm/yyyy or dd.mm.yyyy, with or without a time
    if fast:
        return date(int(fast.group(3)), int(fast.group(2)), int(fast.group(1)))
    match = _TIME.match(text)
    text = match.group(1) if match else text
    if re.fullmatch(r"\d{5}([.,]\d+)?", text):
        return _excel_serial(float(text.replace(",", ".")))
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


_MONTH_PATTERNS = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), 1, 2),
    (re.compile(r"^(\d{1,2})[-/.](\d{4})$"), 2, 1),
    (re.compile(r"^(\d{4})(\d{2})$"), 1, 2),
)


def parse_month(value) -> date:
    """First day of the month from ``2026-03``, ``03/2026``, ``03.2026``, ``202603``, a date
    (any format of ``parse_day``) or a spreadsheet date."""
    if isinstance(value, date):
        return (value if not isinstance(value, datetime) else value.date()).replace(day=1)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 100000:
        value = str(int(value))  # 202603 read as a number
    text = str(value).strip()
    for pattern, year_group, month_group in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            return date(int(match.group(year_group)), int(match.group(month_group)), 1)
    return parse_day(value).replace(day=1)


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
