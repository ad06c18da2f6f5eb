"""Reading a whole extract: header, rows, summary, without writing anything."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

from app.db import utcnow
from app.formatting import today_paris
from app.housing.rent_import.files import _width, file_format, read_rows
from app.housing.rent_import.headers import header_problem, map_header
from app.housing.rent_import.limits import FileRefused, ImportLimits, shown
from app.housing.rent_import.rows import RowContext, _lease_index, check_row
from app.housing.rent_import.summary import ImportReport, RowProblem, _summarise


def report_progress(iterable: Iterable, progress: Callable | None, **kwargs) -> Iterable:
    return progress(iterable, **kwargs) if progress else iterable


def _first_filled(rows: Iterator[tuple]):
    return next((row for _line, row in rows if _width(row)), None)


def _check_rows(rows, positions, context, report: ImportReport, progress) -> list[dict]:
    seen: dict[tuple[int, date], int] = {}
    values: list[dict] = []
    imported_at = utcnow()
    for line, raw in report_progress(rows, progress, desc="Lecture", unit=" lignes"):
        if not raw:
            continue
        report.rows += 1
        cell = {key: raw[index] if index < len(raw) else None for key, index in positions.items()}
        row = check_row(cell, context)
        if row.key is not None:
            first_line = seen.setdefault(row.key, line)
            if first_line != line:
                row.reasons.append(
                    f"ligne en double : ce bail et ce mois figurent déjà ligne {first_line}"
                )
        if row.reasons:
            report.add_problem(RowProblem(line, shown(row.reference), tuple(row.reasons)))
        elif not report.bad_rows:
            values.append({**row.values, "imported_at": imported_at})
    return values


def read_rent_accounts(
    organisation_id: int,
    content: bytes,
    *,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    limits: ImportLimits | None = None,
) -> tuple[ImportReport, list[dict]]:
    """Read and validate a landlord's extract, within ``limits``, without writing anything.

    Returns the report and, when it is valid, the rows to write (one dict per snapshot)."""
    limits = limits or ImportLimits.from_config()
    report = ImportReport(file_format=file_format(content))
    values: list[dict] = []
    try:
        rows = read_rows(content, limits)
        header = _first_filled(rows)
        if header is None:
            report.file_problems.append("Le fichier est vide.")
            return report, []
        positions = map_header(header)
        problem = header_problem(positions, header, report.file_format, month)
        if problem:
            report.file_problems.append(problem)
            return report, []
        context = RowContext(_lease_index(organisation_id), month, today or today_paris())
        values = _check_rows(rows, positions, context, report, progress)
    except FileRefused as refused:
        report.file_problems.append(refused.message)
    return report, _summarise(report, values)
