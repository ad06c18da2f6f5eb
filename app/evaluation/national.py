"""The national aggregate export: a project's (or every project's) figure tables of a year,
small cells suppressed, as one CSV in long format and its Frictionless Data Package
descriptor, zipped with fixed timestamps so that the same figures always give the same
bytes. The format is documented in docs/evaluation.md.

No personal data: only the tables of ``collect`` (aggregates), the projects' ids and names;
TEXT columns are left out (they could hold free text).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.evaluation.models import YEAR_MIN
from app.evaluation.suppression import SuppressedTable, suppress
from app.evaluation.tables import (
    DEFINITIONS_VERSION,
    FigureTable,
    Kind,
)
from app.projects.models import Project

# The version of this file format (columns, encoding): changes only with the format.
FORMAT_VERSION = "1.0.0"

FIRST_YEAR = YEAR_MIN  # the first year any evaluation table may hold
MASKED = "masqué"
NOT_COMPUTABLE = "non calculable"
# Decimal places written per kind (decimal point, no thousands separator); counts and
# numbers of events are integers.
DECIMALS = {Kind.AMOUNT: 2, Kind.RATIO: 4, Kind.DAYS: 1}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can hold: no clock in the bytes

FIELDS = (
    ("projet_id", "integer", "Identifiant du projet dans Ancrage."),
    ("projet", "string", "Nom du projet."),
    ("annee", "integer", "Année civile des chiffres."),
    ("axe", "string", "Axe d'évaluation du tableau (outcomes, partnership, publics, …)."),
    ("tableau", "string", "Clé stable du tableau (définie dans docs/indicators.md)."),
    ("ligne", "string", "Clé de la ligne dans le tableau."),
    ("colonne", "string", "Clé de la colonne dans le tableau."),
    (
        "nature",
        "string",
        "Nature du chiffre : count (ménages), number (événements), amount (euros), "
        "ratio (part ou taux), days (durée en jours).",
    ),
    (
        "valeur",
        "number",
        "Le chiffre, point décimal, sans séparateur de milliers ; vide quand il est masqué "
        "ou non calculable.",
    ),
    ("statut", "string", "« masqué » (secret statistique), « non calculable » ou vide."),
)
HEADER = [name for name, _type, _description in FIELDS]


class YearError(ValueError):
    """A year the export cannot cover; the message is French, shown as is."""


def parse_year(raw: str | None, today: date) -> int:
    """The year asked in the query string: an integer from FIRST_YEAR to this year."""
    if raw is None or not raw.strip():
        raise YearError("Indiquez l'année (par exemple 2025).")
    try:
        year = int(raw.strip())
    except ValueError:
        raise YearError(f"« {raw[:20]} » n'est pas une année : écrivez-la en chiffres.") from None
    if not FIRST_YEAR <= year <= today.year:
        raise YearError(f"L'année doit être comprise entre {FIRST_YEAR} et {today.year}.")
    return year


@dataclass(frozen=True)
class ProjectFigures:
    project_id: int
    project_name: str
    tables: tuple[SuppressedTable, ...]


def project_figures(
    session,
    project: Project,
    year: int,
    as_of: date,
    threshold: int,
    *,
    cached: bool = False,
    to_store: list | None = None,
) -> ProjectFigures:
    """One project's tables of ``year``, each suppressed on its own. Computed now (the
    exports: a file sent to a funder holds today's figures), or from the cache while fresh
    (``cached``: the comparison page; ``bilan.year_tables``)."""
    from app.evaluation.bilan import year_tables

    tables = year_tables(project.id, year, as_of, cached=cached, to_store=to_store)
    return ProjectFigures(
        project.id, project.name, tuple(suppress(table, threshold) for table in tables)
    )


def compared_figures(
    session, projects, year: int, as_of: date, threshold: int
) -> list[ProjectFigures]:
    """The comparison page's projects, from the cache while fresh; those computed now are
    stored once every project is computed (no lock held meanwhile), pending in the session:
    the caller commits."""
    from app.evaluation.bilan import store_year_tables

    to_store: list = []
    figures = [
        project_figures(session, project, year, as_of, threshold, cached=True, to_store=to_store)
        for project in projects
    ]
    store_year_tables(to_store)
    return figures


def all_projects(session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.id)))


def value_text(kind: Kind, value) -> str:
    if kind in DECIMALS:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return str(number.quantize(Decimal(1).scaleb(-DECIMALS[kind]), rounding=ROUND_HALF_UP))
    return str(int(value))


def _cell(kind: Kind, value, masked: bool) -> tuple[str, str]:
    if masked:
        return "", MASKED
    if value is None or isinstance(value, str):
        return "", NOT_COMPUTABLE
    return value_text(kind, value), ""


def table_lines(figures: ProjectFigures, year: int) -> list[list[str]]:
    """The long-format lines of one project's tables (TEXT columns left out)."""
    lines = []
    for suppressed in figures.tables:
        table: FigureTable = suppressed.table
        for i, row in enumerate(table.rows):
            for j, column in enumerate(table.columns):
                if column.kind == Kind.TEXT:
                    continue
                value, status = _cell(column.kind, row.values[j], suppressed.is_masked(i, j))
                lines.append(
                    [
                        str(figures.project_id),
                        figures.project_name,
                        str(year),
                        table.axis,
                        table.key,
                        row.key,
                        column.key,
                        str(column.kind),
                        value,
                        status,
                    ]
                )
    return lines


def csv_bytes(projects: list[ProjectFigures], year: int) -> bytes:
    """UTF-8 without BOM, comma-separated, '\\n' line ends, sorted by project id, table, row
    and column keys."""
    lines = [line for figures in projects for line in table_lines(figures, year)]
    lines.sort(key=lambda line: (int(line[0]), line[4], line[5], line[6]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8")


def base_name(year: int, project_id: int | None) -> str:
    scope = f"projet-{project_id}" if project_id is not None else "tous-projets"
    return f"ancrage-evaluation-{scope}-{year}"


def descriptor(name: str, year: int, threshold: int) -> bytes:
    """The Frictionless Data Package (tabular) describing the CSV."""
    package = {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"Ancrage — évaluation nationale du programme, année {year}",
        "version": FORMAT_VERSION,
        "definitions_version": DEFINITIONS_VERSION,
        "year": year,
        "small_count_threshold": threshold,
        "description": (
            "Agrégats par projet, sans donnée personnelle. Les effectifs de ménages de 1 à "
            f"{threshold - 1} sont masqués, ainsi que les cellules complémentaires qui "
            "permettraient de les retrouver par soustraction à partir des totaux, et les "
            "parts, durées et montants de leurs lignes (docs/evaluation.md)."
        ),
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": "chiffres",
                "path": f"{name}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {
                    "delimiter": ",",
                    "lineTerminator": "\n",
                    "quoteChar": '"',
                    "doubleQuote": True,
                    "header": True,
                },
                "schema": {
                    "fields": [
                        {"name": field, "type": kind, "description": description}
                        | ({"decimalChar": ".", "groupChar": ""} if kind == "number" else {})
                        | (
                            {"constraints": {"enum": ["", MASKED, NOT_COMPUTABLE]}}
                            if field == "statut"
                            else {}
                        )
                        for field, kind, description in FIELDS
                    ],
                    "missingValues": [""],
                    "primaryKey": ["projet_id", "tableau", "ligne", "colonne"],
                },
            }
        ],
    }
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever the machine
    info.external_attr = 0o644 << 16
    return info


def export_zip(
    projects: list[ProjectFigures], year: int, threshold: int, project_id: int | None
) -> tuple[str, bytes]:
    """The file name and the bytes of the ZIP: the CSV and ``datapackage.json``."""
    name = base_name(year, project_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry(f"{name}.csv"), csv_bytes(projects, year))
        archive.writestr(_entry("datapackage.json"), descriptor(name, year, threshold))
    return f"{name}.zip", buffer.getvalue()


# --- the administrators' side-by-side page ------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One column of the chosen table: its rows × the projects of the page."""

    label: str
    kind: Kind
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row label, one text per project)


@dataclass(frozen=True)
class Comparison:
    key: str
    title: str
    definition: str
    choices: tuple[tuple[str, str], ...]  # (table key, title) of every table offered
    projects: tuple[str, ...]
    blocks: tuple[Block, ...]


def cell_text(kind: Kind, value, masked: bool) -> str:
    """A published cell the French way (the page); "masqué" for a suppressed one."""
    if masked:
        return MASKED
    if value is None or isinstance(value, str):
        return "—"
    text = value_text(kind, value)
    whole, _, decimals = text.partition(".")
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    text = sign + "\u202f".join(groups) + ("," + decimals if decimals else "")
    return {Kind.AMOUNT: f"{text}\u00a0€", Kind.DAYS: f"{text}\u00a0j"}.get(kind, text)


def comparison(figures: list[ProjectFigures], key: str | None) -> Comparison | None:
    """The table ``key`` (else the first one) of each project side by side; None when no
    table is computed at all."""
    choices: dict[str, str] = {}
    for project in figures:
        for suppressed in project.tables:
            choices.setdefault(suppressed.table.key, suppressed.table.title)
    if not choices:
        return None
    key = key if key in choices else next(iter(choices))
    by_project = [
        next((s for s in project.tables if s.table.key == key), None) for project in figures
    ]
    model = next(s.table for s in by_project if s is not None)
    row_labels: dict[str, str] = {}
    for suppressed in by_project:
        for row in suppressed.table.rows if suppressed else ():
            row_labels.setdefault(row.key, row.label)
    blocks = []
    for column in model.columns:
        if column.kind == Kind.TEXT:
            continue
        rows = []
        for row_key, label in row_labels.items():
            rows.append((label, tuple(_project_cell(s, row_key, column.key) for s in by_project)))
        blocks.append(Block(column.label, column.kind, tuple(rows)))
    return Comparison(
        key,
        choices[key],
        model.definition,
        tuple(choices.items()),
        tuple(project.project_name for project in figures),
        tuple(blocks),
    )


def _project_cell(suppressed: SuppressedTable | None, row_key: str, column_key: str) -> str:
    if suppressed is None:
        return "—"
    table = suppressed.table
    rows = [i for i, row in enumerate(table.rows) if row.key == row_key]
    columns = [j for j, column in enumerate(table.columns) if column.key == column_key]
    if not rows or not columns:
        return "—"
    i, j = rows[0], columns[0]
    kind = table.columns[j].kind
    return cell_text(kind, table.rows[i].values[j], suppressed.is_masked(i, j))
