"""Checking an extract's lines against the leases, without writing: ``check_lines`` for
lines already parsed (the file import, the API), ``read_rent_accounts`` for a whole file
(header, mapping, rows)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date

from app.db import utcnow
from app.formatting import today_paris
from app.housing.rent_import.files import _width, csv_dialect, file_format, read_rows
from app.housing.rent_import.headers import header_problem, map_header
from app.housing.rent_import.limits import FileRefused, ImportLimits, shown
from app.housing.rent_import.references import reference_key
from app.housing.rent_import.rows import RowContext, check_row, row_context
from app.housing.rent_import.summary import ImportReport, RowProblem, _summarise

# How many lines of the extract the preview shows as understood.
PREVIEW_ROWS = 10


def report_progress(iterable: Iterable, progress: Callable | None, **kwargs) -> Iterable:
    return progress(iterable, **kwargs) if progress else iterable


def _first_filled(rows: Iterator[tuple]):
    return next((row for _line, row in rows if _width(row)), None)


def check_lines(
    organisation_id: int,
    lines: Iterable[tuple[int, Mapping]],
    report: ImportReport,
    *,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    context: RowContext | None = None,
) -> list[dict]:
    """Check numbered lines (line number, column key → raw value) against the landlord's
    leases; fills ``report`` (rows, set aside, problems) and returns the snapshots to write
    (empty as soon as one line is bad). Lines of leases Ancrage does not follow are counted
    in ``report.out_of_programme`` and skipped; another landlord's lease is a problem."""
    context = context or row_context(organisation_id, month, today or today_paris())
    seen: dict[tuple[int, date], int] = {}
    values: list[dict] = []
    imported_at = utcnow()
    for line, cell in report_progress(lines, progress, desc="Lecture", unit=" lignes"):
        report.rows += 1
        row = check_row(cell, context)
        if row.outside:
            report.out_of_programme += 1
            continue
        if row.key is not None:
            first_line = seen.setdefault(row.key, line)
            if first_line != line:
                row.reasons.append(
                    f"ligne en double : ce bail et ce mois figurent déjà ligne {first_line}"
                )
        if row.reasons:
            report.add_problem(RowProblem(line, shown(row.reference), tuple(row.reasons)))
        elif not report.bad_rows:
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"line": line, "reference": row.reference, **row.values})
            values.append({**row.values, "imported_at": imported_at})
    return _summarise(report, values)


def _cells(rows, positions: dict[str, int], context: RowContext, report: ImportReport):
    """The cells of each row, by column key. A row whose reference is not a lease of the
    landlord followed in Ancrage (most of a whole-portfolio extract) is counted and set aside
    here, before its cells are even picked."""
    at = positions["reference"]
    leases = context.leases
    for line, raw in rows:
        if not raw:
            continue
        key = reference_key(raw[at]) if at < len(raw) else ""
        if key and key not in leases:
            report.rows += 1
            report.out_of_programme += 1
            continue
        yield line, {key: raw[i] if i < len(raw) else None for key, i in positions.items()}


def read_header(content: bytes, limits: ImportLimits) -> tuple:
    """The header row of the file (its first non-blank row); raises ``FileRefused``."""
    header = _first_filled(read_rows(content, limits))
    if header is None:
        raise FileRefused("Le fichier est vide.")
    return tuple(header)


def read_header_or_none(content: bytes, limits: ImportLimits) -> tuple | None:
    try:
        return read_header(content, limits)
    except FileRefused:
        return None


def read_rent_accounts(
    organisation_id: int,
    content: bytes,
    *,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    limits: ImportLimits | None = None,
    positions: dict[str, int] | None = None,
    saved: dict[str, str] | None = None,
) -> tuple[ImportReport, list[dict]]:
    """Read and validate a landlord's extract, within ``limits``, without writing anything.

    The columns are those of ``positions`` (chosen by the user) or else found by the saved
    profile's header names (``saved``) and the known synonyms. Returns the report and, when
    it is valid, the rows to write (one dict per snapshot)."""
    limits = limits or ImportLimits.from_config()
    report = ImportReport(file_format=file_format(content))
    try:
        if report.file_format == "csv":
            report.encoding, report.separator = csv_dialect(content)
        rows = read_rows(content, limits)
        header = _first_filled(rows)
        if header is None:
            report.file_problems.append("Le fichier est vide.")
            return report, []
        report.header = tuple(header)
        report.positions = positions if positions is not None else map_header(header, saved)
        problem = header_problem(report.positions, header, report.file_format, month)
        if problem:
            report.file_problems.append(problem)
            report.needs_mapping = True
            return report, []
        context = row_context(organisation_id, month, today or today_paris())
        lines = _cells(rows, report.positions, context, report)
        return report, check_lines(
            organisation_id, lines, report, month=month, progress=progress, context=context
        )
    except FileRefused as refused:
        report.file_problems.append(refused.message)
    return report, _summarise(report, [])
