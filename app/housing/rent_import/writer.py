"""Writing a checked import, all or nothing, in a few bulk statements; and the entry point
for lines already parsed (``import_rent_lines``: the landlord's information system through
the API), which checks them exactly as the file import does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.audit.services import record
from app.db import db
from app.errors import DomainError
from app.formatting import format_date, today_paris
from app.housing.models import Dwelling, Occupancy, RentAccountSnapshot, refresh_tenancy_figures
from app.housing.rent_import.history import (
    RentImport,
    previous_import,
    save_profile,
    saved_columns,
)
from app.housing.rent_import.limits import FileRefused
from app.housing.rent_import.reader import check_lines, read_rent_accounts, report_progress
from app.housing.rent_import.references import reference_key
from app.housing.rent_import.rows import row_context
from app.housing.rent_import.summary import ImportRejected, ImportReport
from app.sql import upsert

_WRITE_CHUNK = 5000
# Up to this many lines, ``import_rent_lines`` looks up only their references.
_KEYED_LOOKUP_MAX = 20_000
_COMPARED = (
    "balance_cents",
    "amount_due_cents",
    "last_payment_on",
    "apl_status",
    "caf_reported_on",
)


@dataclass(frozen=True)
class ImportSource:
    """Where the lines came from: a file's name and SHA-256 (a file sent again is
    recognised by it) and the mapping to keep as the landlord's import profile."""

    file_name: str | None = None
    file_hash: str | None = None
    columns: dict[str, str] | None = None


class AlreadyImported(DomainError):
    def __init__(self, previous: RentImport):
        who = previous.user.full_name if previous.user else "l'application"
        super().__init__(
            f"Ce fichier a déjà été importé le {format_date(previous.imported_at.date())} "
            f"par {who} : rien n'a changé.",
            field="file",
        )
        self.previous = previous


def check_not_imported(organisation_id: int, file_hash: str | None) -> None:
    previous = previous_import(organisation_id, file_hash) if file_hash else None
    if previous is not None:
        raise AlreadyImported(previous)


def _upsert_statement():
    return upsert(
        RentAccountSnapshot.__table__,
        keys=("occupancy_id", "month"),
        updated=(*_COMPARED, "imported_at"),
    )


# Up to this many leases, the stored accounts compared are looked up by lease (a batch of
# the API); beyond, the landlord's whole months are read at once (a file).
_KEYED_SNAPSHOTS_MAX = 5_000
_IDS_PER_QUERY = 500


def _existing_snapshots(
    organisation_id: int, months: tuple[date, ...], occupancy_ids: set[int]
) -> dict[tuple, tuple]:
    """The stored accounts of these months that the rows may change. For a batch, looked up
    by lease (the ids come from the landlord's own leases, ``rows._lease_index``), whatever
    the landlord has already stored for the month; for a file, the landlord's months are
    read at once."""
    columns = [getattr(RentAccountSnapshot, name) for name in _COMPARED]
    query = select(RentAccountSnapshot.occupancy_id, RentAccountSnapshot.month, *columns).where(
        RentAccountSnapshot.month.in_(months)
    )
    if len(occupancy_ids) <= _KEYED_SNAPSHOTS_MAX:
        ids = sorted(occupancy_ids)
        # Without the joins: SQLite would otherwise walk every dwelling of the landlord.
        queries = [
            query.where(RentAccountSnapshot.occupancy_id.in_(ids[i : i + _IDS_PER_QUERY]))
            for i in range(0, len(ids), _IDS_PER_QUERY)
        ]
    else:
        queries = [
            query.join(Occupancy, Occupancy.id == RentAccountSnapshot.occupancy_id)
            .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
            .where(Dwelling.landlord_id == organisation_id)
        ]
    return {
        (row[0], row[1]): tuple(row[2:]) for query in queries for row in db.session.execute(query)
    }


def count_changes(organisation_id: int, report: ImportReport, values: list[dict]) -> list[dict]:
    """Set the report's created / updated / unchanged counts; return the rows that change."""
    existing = _existing_snapshots(
        organisation_id, report.months, {value["occupancy_id"] for value in values}
    )
    changed = []
    report.created = report.updated = report.unchanged = 0
    for value in values:
        before = existing.get((value["occupancy_id"], value["month"]))
        if before is None:
            report.created += 1
        elif before == tuple(value[name] for name in _COMPARED):
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        changed.append(value)
    return changed


def write_rent_accounts(
    actor,
    organisation,
    report: ImportReport,
    values: list[dict],
    *,
    via: str,
    progress: Callable | None = None,
    source: ImportSource | None = None,
) -> ImportReport:
    """Write a valid import: bulk upserts of the rows that change, the dashboard figures of
    these leases, the history entry, the profile and the audit entry (never commits)."""
    source = source or ImportSource()
    check_not_imported(organisation.id, source.file_hash)
    changed = count_changes(organisation.id, report, values)
    statement = _upsert_statement()
    chunks = [changed[i : i + _WRITE_CHUNK] for i in range(0, len(changed), _WRITE_CHUNK)]
    for chunk in report_progress(chunks, progress, desc="Enregistrement", unit=" lots"):
        db.session.execute(statement, chunk)
    # The upsert bypasses the ORM (and its flush listener): the dashboard's figures of these
    # leases are refreshed here, in the same transaction.
    refresh_tenancy_figures(db.session, [v["occupancy_id"] for v in changed])
    _record_history(actor, organisation, report, via, source)
    if source.columns:
        save_profile(actor, organisation.id, source.columns)
    record(
        actor,
        "rent_accounts.imported",
        target=organisation,
        details={
            "format": report.file_format,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "out_of_programme": report.out_of_programme,
            "months": len(report.months),
            "via": via,
        },
    )
    metrics.record_import("rent_accounts", "imported")
    return report


def _user_id(actor) -> int | None:
    """The person who imported: none for an API client (its id is not a user's)."""
    return None if getattr(actor, "is_api_client", False) else getattr(actor, "id", None)


def _record_history(actor, organisation, report: ImportReport, via: str, source) -> None:
    entry = RentImport(
        organisation_id=organisation.id,
        user_id=_user_id(actor),
        via=via,
        file_name=(source.file_name or "")[:255] or None,
        file_hash=source.file_hash,
        first_month=report.months[0] if report.months else None,
        last_month=report.months[-1] if report.months else None,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        out_of_programme=report.out_of_programme,
    )
    db.session.add(entry)
    try:
        with db.session.begin_nested():
            db.session.flush([entry])
    except IntegrityError:  # the same file, imported by a concurrent request
        raise DomainError(
            "Ce fichier vient d'être importé : rien n'a changé.", field="file"
        ) from None


def import_rent_lines(
    actor,
    organisation,
    lines: Sequence[Mapping],
    *,
    month: date | None = None,
    today: date | None = None,
    via: str = "api",
    progress: Callable | None = None,
) -> ImportReport:
    """Check then write rent-account lines already parsed, all or nothing.

    Each line maps column keys (``headers.IMPORT_COLUMNS``: ``reference``, ``month``,
    ``balance``, ``amount_due``, ``last_payment_on``, ``apl_status``, ``caf_reported_on``)
    to raw values — text as in the file (``1 234,56``, ``(12,50)``, ``01.03.2026``) or
    numbers and dates; lines are numbered from 1 in the problems. Lines of leases Ancrage
    does not follow are set aside (``report.out_of_programme``); another landlord's lease
    or any bad line → ``ImportRejected`` and nothing is written. Up to ``_KEYED_LOOKUP_MAX``
    lines, only their own leases are looked up (``Occupancy.lease_reference_key``), so a
    batch costs the same whatever the landlord's portfolio. Never commits."""
    report = ImportReport(file_format=via)
    numbered = ((number, line) for number, line in enumerate(lines, start=1))
    # A batch looks up only its own references (indexed); a file-sized list reads the
    # landlord's whole index once, as a file does.
    keys = (
        {reference_key(line.get("reference")) for line in lines}
        if len(lines) <= _KEYED_LOOKUP_MAX
        else None
    )
    context = row_context(organisation.id, month, today or today_paris(), keys)
    try:
        values = check_lines(
            organisation.id, numbered, report, month=month, progress=progress, context=context
        )
    except FileRefused as refused:
        report.file_problems.append(refused.message)
        values = []
    if not report.is_valid:
        raise ImportRejected(report)
    return write_rent_accounts(actor, organisation, report, values, via=via, progress=progress)


def preview_rent_accounts(
    organisation, content: bytes, *, month=None, positions=None, limits=None, today=None
) -> ImportReport:
    """What the import of this file would do, without writing: the report with its counts
    (to create, to update, unchanged, out of programme, problems)."""
    saved = saved_columns(organisation.id) if positions is None else None
    report, values = read_rent_accounts(
        organisation.id,
        content,
        month=month,
        today=today,
        limits=limits,
        positions=positions,
        saved=saved,
    )
    if report.is_valid:
        count_changes(organisation.id, report, values)
    return report
