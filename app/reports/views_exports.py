"""Pilotage exports: the indicators and the caseload list as CSV or XLSX, logged before
they are sent, and streamed: CSV row by row, XLSX through openpyxl's write-only mode (rows
go to a temporary file as they come, never a whole sheet in memory). A caseload of a whole
département is read from the database in batches (``iter_caseload_households``).

Routes of the ``reports`` blueprint (``app.reports.views``), split off by seam."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Response, flash, redirect, request, stream_with_context, url_for
from flask_login import current_user

from app.audit.services import record
from app.auth.views import reauth_required
from app.db import db
from app.formatting import today_paris
from app.permissions import Permission, permission_required
from app.reports import (
    queries,
    views_indicators,  # used at call time: the modules import each other
)
from app.reports.views import (
    CASELOADS,
    FORMATS,
    MIME,
    bp,
    chosen_projects,
    figure_text,
    masked_text,
    referent_arg,
    small_count_threshold,
)
from app.users.models import User

# --- exports ------------------------------------------------------------------------------


def _download(chunks: Iterator[bytes], fmt: str, name: str) -> Response:
    """The export as an attachment, sent as its chunks come. The chunks are made after the
    view has returned: Flask has then ended the request's database session and pushes the
    contexts again around the generator (``stream_with_context``), so what the generator reads
    comes from a new session — see ``streamed_viewer``."""
    return Response(
        stream_with_context(chunks),
        mimetype=MIME[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def streamed_viewer(user_id: int) -> User:
    """The signed-in user, loaded again in a streamed response's own session (the request's
    ``current_user`` belongs to the session that ended when the view returned)."""
    return db.session.get(User, user_id)


# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(…) leaking data,
# DDE commands): text typed by users is prefixed with an apostrophe so it stays text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Typed:
    """A figure of an export with its spreadsheet type (``style``): ``euros``, ``share`` (a
    fraction of 1: 0.956 is 95,6 %) or ``decimal`` (one decimal). CSV writes it the way
    French LibreOffice and Excel read a number — decimal comma, no thousands separator; XLSX
    stores the number with a number format they show the French way."""

    value: float
    style: str


class Month(date):
    """The first day of a month, shown as a month (mm/yyyy) in XLSX."""


CSV_DECIMALS = {"euros": 2, "share": 1, "decimal": 1}
XLSX_FORMATS = {"euros": '#,##0.00 "€"', "share": "0.0%", "decimal": "0.0"}
XLSX_DATE, XLSX_MONTH = "dd/mm/yyyy", "mm/yyyy"


def _csv_value(value):
    if isinstance(value, Typed):
        number = value.value * 100 if value.style == "share" else value.value
        return f"{number:.{CSV_DECIMALS[value.style]}f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return _as_text(value)


# What a streamed export sends at a time.
CHUNK_BYTES = 64 * 1024


def _csv(rows: Iterable[list]) -> Iterator[bytes]:
    """The rows as French CSV (semicolons, BOM for Excel), in chunks as they are written."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value, bold: bool):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet)
    if isinstance(value, Typed):
        cell.value, cell.number_format = value.value, XLSX_FORMATS[value.style]
    elif isinstance(value, date):
        cell.value = date(value.year, value.month, value.day)
        cell.number_format = XLSX_MONTH if isinstance(value, Month) else XLSX_DATE
    else:
        cell.value = _as_text(value)
    if bold:
        cell.font = Font(bold=True)
    return cell


def _xlsx(sheets: Iterable[tuple[str, Iterable[list]]]) -> Iterator[bytes]:
    """The sheets as an XLSX workbook in openpyxl's write-only mode: each row is written out
    as it comes; the finished file is sent from a temporary file, in chunks."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 60
        sheet.column_dimensions["C"].width = 18
        for number, row in enumerate(rows):
            sheet.append([_xlsx_cell(sheet, value, bold=number == 0) for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def _cell(figure, threshold: int):
    hidden = masked_text(figure, threshold)
    if hidden is not None:
        return hidden
    if figure.value is None:
        return figure_text(figure)
    if figure.kind == "count":
        return int(figure.value)
    if figure.kind == "cents":
        return Typed(float(Decimal(figure.value) / 100), "euros")
    if figure.kind == "percent":
        return Typed(float(Decimal(figure.value) / 100), "share")
    return Typed(float(figure.value), "decimal")


UNITS = {
    "count": "ménages",
    "days": "jours",
    "months": "mois",
    "ratio": "contacts",
    "percent": "%",
    "cents": "€",
}


def indicator_rows(data: queries.Indicators, threshold: int, fmt: str) -> list[list]:
    """The indicators as rows — section, indicator, value, unit — with the small counts
    masked. No household reference, name or free text: aggregates only."""
    projects = ", ".join(p.name for p in data.projects)
    rows = [
        ["Rubrique", "Indicateur", "Valeur", "Unité"],
        ["Périmètre", "Projets", projects, ""],
        ["Périmètre", "Du", data.period.start, ""],
        ["Périmètre", "Au", data.period.end, ""],
        ["Périmètre", "Petits effectifs masqués en dessous de", threshold, "ménages"],
    ]
    for section in data.sections:
        for figure in section.figures:
            unit = UNITS[figure.kind]
            if figure.key == "contacts" or figure.key == "household_months":
                unit = "contacts" if figure.key == "contacts" else "mois"
            if fmt == "xlsx" and figure.kind in ("percent", "cents"):
                unit = ""  # the cell's number format shows it: 95,6 %, 1 234,56 €
            rows.append([section.title, figure.label, _cell(figure, threshold), unit])
    return rows


def monthly_rows(data: queries.Indicators, threshold: int, _fmt: str) -> list[list]:
    flows, trend = data.charts["flux"], dict(data.charts["impayes"].rows)
    rows = [["Mois", "Entrées", "Sorties", "Ménages en impayé", "Dette totale (€)"]]
    for key, (entries, exits) in flows.rows:
        households, cents = trend.get(key, (0, 0))
        count_cell = f"< {threshold}" if 0 < households < threshold else households
        money = (
            f"< {threshold} ménages"
            if 0 < households < threshold
            else Typed(float(Decimal(cents) / 100), "euros")
        )
        year, month = key.split("-")
        rows.append([Month(int(year), int(month), 1), entries, exits, count_cell, money])
    return rows


@bp.route(f"/pilotage/indicateurs/export.{FORMATS}")
@permission_required(Permission.VIEW_INDICATORS, Permission.EXPORT_DATA)
@reauth_required()
def export_indicators(fmt: str):
    """The indicators as CSV or XLSX, small counts masked. The figures come from the same
    shared cache as the page (``app.reports.cache``): while the page's figures are fresh, the
    export holds exactly what the page shows; otherwise they are computed (and cached) now."""
    projects, ids, _chosen = chosen_projects()
    form = views_indicators.period_form(projects)
    # Committed with the audit entry.
    result = views_indicators.cached_or_none(ids, form, commit=False)
    data = result.data if result else None
    if data is None:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("reports.indicators", **request.args))
    threshold = small_count_threshold()
    rows = indicator_rows(data, threshold, fmt)
    months = monthly_rows(data, threshold, fmt)
    if fmt == "csv":
        content = _csv([*rows, [], *months])
    else:
        content = _xlsx([("Indicateurs", rows), ("Par mois", months)])
    record(
        current_user,
        "reports.export",
        details={"kind": "indicators", "format": fmt, "rows": len(rows) - 1 + len(months) - 1},
    )
    db.session.commit()
    name = f"indicateurs-{data.period.start.isoformat()}-{data.period.end.isoformat()}"
    return _download(content, fmt, name)


CASELOAD_COLUMNS = [
    "Référence",
    "Projet",
    "Référent·e",
    "Étape",
    "Poids",
    "Dernier contact",
    "Jours depuis le contact",
    "Rythme de contact dépassé",
    "Prochain bilan",
    "Fin prévue de la mesure",
    "Rappels en retard",
    "Impayé en hausse",
]


def caseload_rows(lines: Iterable) -> Iterator[list]:
    """The households of a caseload list: references and référents, no social content."""

    def day(value):
        return "" if value is None else value

    def yes(value: bool) -> str:
        return "oui" if value else "non"

    yield CASELOAD_COLUMNS
    for line in lines:
        yield (
            [
                line.reference,
                line.project_name,
                line.referent_name or "Sans référent·e",
                line.stage_label,
                Typed(float(line.weight), "decimal"),
                day(line.last_contact_on),
                "" if line.days_since_contact is None else line.days_since_contact,
                yes(line.is_contact_overdue),
                day(line.next_review_on),
                day(line.planned_end_on),
                line.overdue_reminders,
                yes(line.is_arrears_rising),
            ]
        )


@bp.route(f"/pilotage/menages/export.{FORMATS}")
@permission_required(CASELOADS, Permission.EXPORT_DATA)
@reauth_required()
def export_caseload(fmt: str):
    _projects_list, ids, _chosen = chosen_projects()
    kind = request.args.get("indicateur")
    kind = kind if kind in queries.DRILL_DOWNS else "menages"
    chosen = {"kind": kind, "referent": referent_arg(request.args.get("referent"))}
    count = queries.count_caseload_households(current_user, ids, today_paris(), **chosen)
    record(
        current_user,
        "reports.export",
        details={"kind": "caseload", "format": fmt, "rows": count, "filter": kind},
    )
    db.session.commit()
    user_id, today = current_user.id, today_paris()

    def read_rows():
        # Read in batches while the file is sent: a département's caseload is never in memory.
        viewer = streamed_viewer(user_id)
        yield from caseload_rows(queries.iter_caseload_households(viewer, ids, today, **chosen))

    content = _csv(read_rows()) if fmt == "csv" else _xlsx([("Ménages", read_rows())])
    return _download(content, fmt, f"portefeuilles-{today_paris().isoformat()}")
