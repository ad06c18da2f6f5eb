"""Plausible bounds, declared once per kind of value.

A value outside its kind's bounds cannot be true (a rent of 10^20 €, a surface of
10 000 m², a visit in year 1, a reminder in 9999): refusing it at the door keeps
arithmetic, PostgreSQL's 32-bit integers, date arithmetic and the calendar feed safe.

The same declaration serves three layers (docs/security.md, "Plausible bounds"):

- forms: the shared fields of ``app/forms.py`` (``EuroField``, ``DateField``,
  ``IntegerField``, ``coerce_id``) refuse what cannot be parsed or lies beyond the bounds;
- services: ``KIND.check(value, field=...)`` raises a ``DomainError`` with a French message,
  for every caller (pages, CLI import, future API);
- the database: ``KIND.sql(column)`` is the CHECK constraint on the main columns.

Numeric bounds are in the stored unit (cents, m², minutes), inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.errors import DomainError

# Ids are INTEGER columns: on PostgreSQL a larger number fails the query itself.
INT32_MAX = 2**31 - 1


def _figure(value) -> str:
    """10000000 → "10 000 000" (French thousands, no decimals when whole)."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,}".replace(",", " ").replace(".", ",")
    return f"{int(value):,}".replace(",", " ")


@dataclass(frozen=True)
class Bounds:
    """Inclusive ``low``..``high`` for one kind of number, in its stored unit."""

    low: int | Decimal
    high: int | Decimal
    message: str  # French, says what is accepted

    def contains(self, value) -> bool:
        if isinstance(value, Decimal) and not value.is_finite():
            return False
        if isinstance(value, float) and value != value:  # NaN
            return False
        return self.low <= value <= self.high

    def check(self, value, *, field: str | None = None) -> None:
        """Refuse ``value`` (None passes: absence is the caller's rule)."""
        if value is not None and not self.contains(value):
            raise DomainError(self.message, field=field)

    def sql(self, column: str, *, nullable: bool = True) -> str:
        """The CHECK constraint text for ``column``."""
        test = f"{column} BETWEEN {self.low} AND {self.high}"
        return f"{column} IS NULL OR {test}" if nullable else test


def _cents(euros: int) -> int:
    return euros * 100


MONEY_MAX_EUROS = 10_000_000

# Amounts owed or paid: rents, charges, incomes, debts, grants, repayments (cents).
MONEY = Bounds(
    0,
    _cents(MONEY_MAX_EUROS),
    f"Indiquez un montant entre 0 et {_figure(MONEY_MAX_EUROS)} €.",
)
# A rent-account balance: negative when the tenant is in credit (cents).
BALANCE = Bounds(
    -_cents(MONEY_MAX_EUROS),
    _cents(MONEY_MAX_EUROS),
    f"Indiquez un solde entre −{_figure(MONEY_MAX_EUROS)} € et {_figure(MONEY_MAX_EUROS)} €.",
)
# Living surface of a dwelling (m²).
SURFACE = Bounds(Decimal(5), Decimal(1000), "Indiquez une surface entre 5 et 1 000 m².")
# Length of a visit or contact (minutes): a full day of accompaniment at most.
DURATION = Bounds(1, 480, "La durée doit être comprise entre 1 et 480 minutes.")
# Caseload weight of an intensity level.
WEIGHT = Bounds(
    Decimal("0.1"), Decimal(10), "Le poids dans la file active doit être compris entre 0,1 et 10."
)
# Rhythm of contact of an intensity level (days).
CONTACT_DAYS = Bounds(1, 365, "Le rythme de contact doit être compris entre 1 et 365 jours.")
# A count of households, people or days typed by someone (targets, thresholds).
COUNT = Bounds(0, 100_000, "Indiquez un nombre entre 0 et 100 000.")
# A record id or a page number: anything else cannot exist.
ID = Bounds(1, INT32_MAX, "Ce choix n'existe pas.")


# Dates: every date typed or imported lies in this window.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
DATE_MESSAGE = "Indiquez une date entre 1900 et 2100."
# Next actions and reminders are planned at most this far ahead.
PLANNING_HORIZON = timedelta(days=731)


def date_in_window(value: date | None) -> bool:
    return value is None or DATE_MIN <= value <= DATE_MAX


def check_date(value: date | None, *, field: str | None = None) -> None:
    """Refuse a date outside the 1900–2100 window."""
    if not date_in_window(value):
        raise DomainError(DATE_MESSAGE, field=field)


def check_planned(value: date | None, today: date, *, field: str | None = None) -> None:
    """Refuse a planned date (next action, reminder) more than two years ahead."""
    check_date(value, field=field)
    if value is not None and value > today + PLANNING_HORIZON:
        raise DomainError("Choisissez une date dans les deux ans à venir.", field=field)


def id_or_none(value) -> int | None:
    """An id typed in a URL or a hidden field: an int in the id range, else None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if ID.contains(number) else None
