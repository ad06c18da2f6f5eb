"""Validating one row of the extract against the landlord's leases: reference, month,
amounts, dates and APL status; every problem of the row is kept, in French."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import select

from app.db import db
from app.formatting import format_date
from app.housing.models import Dwelling, Occupancy
from app.housing.rent_import.files import _is_blank
from app.housing.rent_import.headers import _normalise_header
from app.housing.rent_import.limits import shown
from app.housing.rent_import.references import reference_key
from app.housing.rent_import.values import (
    _APL_VALUES,
    _month_label,
    parse_amount,
    parse_day,
    parse_month,
)


@dataclass(frozen=True)
class _Lease:
    occupancy_id: int
    start_on: date
    end_on: date | None


# References looked up per query when only a batch's are wanted (bound parameters: well under
# SQLite's and PostgreSQL's limits).
_KEYS_PER_QUERY = 500


_LEASE_COLUMNS = (Occupancy.lease_reference_key, Occupancy.id, Occupancy.start_on, Occupancy.end_on)
# The current lease wins, then the most recent one (the last of the rows of one key).
_LEASE_ORDER = (Occupancy.end_on.is_(None), Occupancy.start_on, Occupancy.id)


def _whole_index(organisation_id: int):
    return (
        select(*_LEASE_COLUMNS)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.lease_reference_key.is_not(None))
        .order_by(*_LEASE_ORDER)
    )


def _keyed_index(organisation_id: int, keys: list[str]):
    """The leases of ``keys`` among the organisation's: driven by the key's index (a join
    on the dwelling would let SQLite walk every dwelling of the landlord instead)."""
    own_dwelling = (
        select(Dwelling.id)
        .where(Dwelling.id == Occupancy.dwelling_id, Dwelling.landlord_id == organisation_id)
        .exists()
    )
    return (
        select(*_LEASE_COLUMNS)
        .where(Occupancy.lease_reference_key.in_(keys), own_dwelling)
        .order_by(*_LEASE_ORDER)
    )


def _lease_index(organisation_id: int, keys: Iterable[str] | None = None) -> dict[str, _Lease]:
    """The organisation's leases by their reference's key (``reference_key``, stored as
    ``Occupancy.lease_reference_key``): every one (a whole file), or only those of ``keys``
    (a batch of lines: indexed lookups, whatever the size of the landlord's portfolio). When
    a reference was reused (a glissement keeps it), the current lease wins, then the most
    recent one: all the leases of one key come in the same query, in that order."""
    if keys is None:
        queries = [_whole_index(organisation_id)]
    else:
        wanted = sorted({key for key in keys if key})
        queries = [
            _keyed_index(organisation_id, wanted[i : i + _KEYS_PER_QUERY])
            for i in range(0, len(wanted), _KEYS_PER_QUERY)
        ]
    return {
        key: _Lease(oid, start, end)
        for query in queries
        for key, oid, start, end in db.session.execute(query)
    }


def row_context(
    organisation_id: int, month: date | None, today: date, keys: Iterable[str] | None = None
) -> RowContext:
    """What the rows are checked against: the leases of ``keys`` only when given."""
    return RowContext(_lease_index(organisation_id, keys), month, today)


@dataclass(frozen=True)
class RowContext:
    """What every row is checked against."""

    leases: dict[str, _Lease]
    month: date | None  # chosen at import
    today: date

    @property
    def current_month(self) -> date:
        return self.today.replace(day=1)


def _check_reference(value, context: RowContext, reasons: list) -> tuple[str, _Lease | None]:
    reference = "" if _is_blank(value) else str(value).strip()
    if isinstance(value, float) and value.is_integer():
        reference = str(int(value))
    key = reference_key(reference)
    lease = context.leases.get(key)
    if not key:
        reasons.append("référence du bail manquante")
    # Another landlord's reference is, for this landlord, a lease Ancrage does not follow:
    # telling them otherwise would confirm that another landlord's tenant is supported.
    return reference, lease


def _outside(lease: _Lease | None, cell: dict, context: RowContext) -> bool:
    """A lease Ancrage does not follow (or no longer: the row's month is after the end of
    the lease in Ancrage): the row is counted and set aside, never checked."""
    if lease is None:
        return True
    if lease.end_on is None or (context.month is None and _is_blank(cell.get("month"))):
        return False
    try:
        month = parse_month(cell["month"]) if not _is_blank(cell.get("month")) else context.month
    except ValueError:
        return False
    return month is not None and month > lease.end_on.replace(day=1)


def _row_month(cell: dict, context: RowContext, reasons: list) -> date | None:
    month = context.month
    if "month" in cell and not _is_blank(cell["month"]):
        try:
            row_month = parse_month(cell["month"])
        except ValueError:
            reasons.append(f"mois illisible (« {shown(cell['month'])} », attendu AAAA-MM)")
            return None
        if month is not None and row_month != month:
            reasons.append(
                f"le mois de la ligne ({_month_label(row_month)}) n'est pas le mois "
                f"choisi ({_month_label(month)})"
            )
        return row_month
    if month is None:
        reasons.append("mois manquant")
    return month


def _check_month_in_lease(row_month: date, lease, context: RowContext, reasons: list) -> None:
    if row_month > context.current_month:
        reasons.append(f"mois dans le futur ({_month_label(row_month)})")
    elif lease is not None and row_month < lease.start_on.replace(day=1):
        reasons.append(f"le bail commence le {format_date(lease.start_on)}, après ce mois")


def _amounts(cell: dict, reasons: list) -> dict[str, int]:
    amounts = {}
    for key, label in (("balance", "solde"), ("amount_due", "loyer et charges du mois")):
        if _is_blank(cell.get(key)):
            reasons.append(f"{label} manquant")
            continue
        try:
            amounts[key] = parse_amount(cell[key])
        except ValueError:
            reasons.append(f"{label} illisible (« {shown(cell[key])} », attendu par ex. 1 234,56)")
    if amounts.get("amount_due", 0) < 0:
        reasons.append("le loyer et les charges du mois ne peuvent pas être négatifs")
    return amounts


def _days(cell: dict, today: date, reasons: list) -> dict[str, date | None]:
    days: dict[str, date | None] = {}
    for key, label in (
        ("last_payment_on", "date du dernier paiement"),
        ("caf_reported_on", "date de signalement CAF"),
    ):
        raw = cell.get(key)
        days[key] = None
        if _is_blank(raw):
            continue
        try:
            days[key] = parse_day(raw)
        except ValueError:
            reasons.append(
                f"{label} illisible ou impossible (« {shown(raw)} », attendu JJ/MM/AAAA)"
            )
            continue
        if days[key] > today:
            reasons.append(f"{label} dans le futur")
    return days


@lru_cache(maxsize=256)
def _apl_status(value: str) -> str | None:
    """The APL status a cell's value stands for (a file or a batch repeats a handful)."""
    return _APL_VALUES.get(_normalise_header(value))


def _apl(value, reasons: list) -> str | None:
    if _is_blank(value):
        return None
    apl = _apl_status(str(value))
    if apl is None:
        reasons.append(f"APL illisible (« {shown(value)} », attendu maintenue, suspendue ou sans)")
    return apl


@dataclass
class CheckedRow:
    reference: str
    reasons: list[str]
    key: tuple[int, date] | None  # (occupancy, month) when both are known
    values: dict
    outside: bool = False  # a lease Ancrage does not follow: set aside


def check_row(cell: dict, context: RowContext) -> CheckedRow:
    """Validate one row's cells (column key → raw value); ``values`` is the snapshot to
    write when ``reasons`` stays empty and the row is not ``outside`` the programme."""
    reasons: list[str] = []
    reference, lease = _check_reference(cell.get("reference"), context, reasons)
    if not reasons and _outside(lease, cell, context):
        return CheckedRow(reference, [], None, {}, outside=True)
    row_month = _row_month(cell, context, reasons)
    if row_month is not None:
        _check_month_in_lease(row_month, lease, context, reasons)
    amounts = _amounts(cell, reasons)
    days = _days(cell, context.today, reasons)
    apl = _apl(cell.get("apl_status"), reasons)
    key = (lease.occupancy_id, row_month) if lease and row_month else None
    values = {
        "occupancy_id": lease.occupancy_id if lease else None,
        "month": row_month,
        "balance_cents": amounts.get("balance"),
        "amount_due_cents": amounts.get("amount_due"),
        "last_payment_on": days["last_payment_on"],
        "apl_status": apl,
        "caf_reported_on": days["caf_reported_on"],
    }
    return CheckedRow(reference, reasons, key, values)
