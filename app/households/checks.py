"""Small checks shared by the household services (``services``, ``path``, ``consents``):
texts, past dates, amounts, choices, and the edit stamp. Each raises ``DomainError`` on the
form field concerned."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app import bounds
from app.db import utcnow
from app.errors import DomainError
from app.formatting import format_date
from app.households.models import (
    Household,
)

NAME_MAX = 80
SHORT_TEXT_MAX = 160
LONG_TEXT_MAX = 5000
EARLIEST_BIRTH = date(1900, 1, 1)


# --- small checks shared by the services ---------------------------------------------------


def _text(
    value: str | None, *, field: str, label: str, max_length: int, required: bool = False
) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise DomainError(f"{label} : ce champ est obligatoire.", field=field)
    if value is not None and len(value) > max_length:
        raise DomainError(f"{label} : {max_length} caractères au plus.", field=field)
    return value


def _past_date(
    value: date | None, *, field: str, label: str, today: date, not_before: date | None = None
) -> date:
    if value is None:
        raise DomainError(f"{label} : indiquez une date.", field=field)
    if value > today:
        raise DomainError(f"{label} : la date ne peut pas être dans le futur.", field=field)
    if value < (not_before or EARLIEST_BIRTH):
        raise DomainError(
            f"{label} : la date ne peut pas être antérieure au "
            f"{format_date(not_before or EARLIEST_BIRTH)}.",
            field=field,
        )
    return value


def _amount(value: int | None, *, field: str, label: str) -> int | None:
    if value is not None and value < 0:
        raise DomainError(f"{label} : le montant ne peut pas être négatif.", field=field)
    bounds.MONEY.check(value, field=field)
    return value


def _choice(value, enum, *, field: str, label: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise DomainError(f"{label} : choisissez une valeur de la liste.", field=field) from None


def _choices(values: Iterable[str] | None, enum, *, field: str, label: str) -> str:
    cleaned = {_choice(v, enum, field=field, label=label) for v in (values or ())}
    return ",".join(m.value for m in enum if m.value in cleaned)


def _touch(actor, household: Household) -> None:
    household.updated_by_id = getattr(actor, "id", None)
    household.updated_at = utcnow()
