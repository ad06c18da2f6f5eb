"""Validating one row of the extract against the landlord's leases: reference, month,
amounts, dates and APL status; every problem of the row is kept, in French."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import and_, case, func, select

from app.db import db
from app.formatting import format_date
from app.households.models import Household
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
    """What the rows are checked against: the leases of ``keys`` only when given (and the
    ambiguous references among them)."""
    wanted = None if keys is None else list(keys)
    return RowContext(
        _lease_index(organisation_id, wanted),
        month,
        today,
        _ambiguous_references(organisation_id, wanted),
    )


# How many colliding references an ambiguity message names.
_NAMED_COLLISIONS = 5


def _ambiguous_references(organisation_id: int, keys: list[str] | None = None) -> dict[str, str]:
    """The keys that two or more different references of the landlord's leases share
    (``BAIL-0012`` and ``bail-12``) → the French reason given to a row with that key (only
    among ``keys`` when given: a batch of lines). It names the references of the leases the
    landlord's staff see (current, household not anonymised: ``visible_households``) and only
    counts the others. One grouped query on the stored key; a second one only when some
    collide."""
    of_landlord = (
        select(Occupancy.lease_reference_key)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.lease_reference_key.is_not(None))
        .group_by(Occupancy.lease_reference_key)
        .having(func.count(func.distinct(Occupancy.lease_reference)) > 1)
    )
    if keys is None:
        candidates = set(db.session.scalars(of_landlord))
    else:
        wanted = sorted({key for key in keys if key})
        candidates = {
            key
            for i in range(0, len(wanted), _KEYS_PER_QUERY)
            for key in db.session.scalars(
                of_landlord.where(
                    Occupancy.lease_reference_key.in_(wanted[i : i + _KEYS_PER_QUERY])
                )
            )
        }
    if not candidates:
        return {}
    visible = and_(Occupancy.end_on.is_(None), Household.anonymised_at.is_(None))
    rows = db.session.execute(
        select(Occupancy.lease_reference, func.max(case((visible, 1), else_=0)))
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .join(Household, Household.id == Occupancy.household_id)
        .where(
            Dwelling.landlord_id == organisation_id,
            Occupancy.lease_reference_key.in_(sorted(candidates)),
        )
        .group_by(Occupancy.lease_reference)
    )
    by_key: dict[str, dict[str, bool]] = {}
    for reference, seen in rows:
        # References that differ only by their surrounding spaces are one reference.
        same = by_key.setdefault(reference_key(reference), {})
        same[reference.strip()] = same.get(reference.strip(), False) or bool(seen)
    return {
        key: _ambiguity(list(references.items()))
        for key, references in by_key.items()
        if len(references) > 1
    }


def _ambiguity(references: list[tuple[str, bool]]) -> str:
    named = sorted({reference for reference, seen in references if seen})
    hidden = len({reference for reference, seen in references} - set(named))
    listed = [f"« {shown(reference)} »" for reference in named[:_NAMED_COLLISIONS]]
    if len(named) > _NAMED_COLLISIONS:
        listed.append(f"{len(named) - _NAMED_COLLISIONS} autres")
    if hidden:
        listed.append(("1 bail" if hidden == 1 else f"{hidden} baux") + " que vous ne voyez pas")
    text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " et " + listed[-1]
    return (
        f"correspond à plusieurs baux : {text} (aux majuscules, espaces et zéros initiaux "
        "près) ; la ligne n'est rattachée à aucun. Faites corriger la référence de l'un de ces "
        "baux dans Ancrage."
    )


@dataclass(frozen=True)
class RowContext:
    """What every row is checked against."""

    leases: dict[str, _Lease]
    month: date | None  # chosen at import
    today: date
    # Keys shared by different references of the landlord's leases → the row's reason.
    ambiguous: dict[str, str] = field(default_factory=dict)

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
    if context.ambiguous and reference_key(reference) in context.ambiguous:
        # Matching one of them would write one household's account on another's lease.
        ambiguity = context.ambiguous[reference_key(reference)]
        reasons.append(f"la référence « {shown(reference)} » {ambiguity}")
        lease = None
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
