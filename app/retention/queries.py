"""The household's complete file for the right of access (RGPD article 15)."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum

from sqlalchemy import literal_column
from sqlalchemy.types import TypeDecorator

from app.households.models import Household
from app.retention.services import DECLARED, household_condition

SECTION_TITLES = {
    "household": "Ménage",
    "household_member": "Personnes du ménage",
    "household_team_member": "Équipe d'accompagnement",
    "orientation": "Orientations",
    "diagnostic": "Diagnostics",
    "adhesion": "Adhésions",
    "consent": "Consentements au partage d'informations",
    "stage_transition": "Parcours (changements d'étape)",
    "support_measure": "Mesures d'accompagnement",
    "support_measure_renewal": "Renouvellements de mesure",
    "support_intensity_change": "Changements d'intensité",
    "support_objective": "Objectifs",
    "support_objective_update": "Suivi des objectifs",
    "support_review": "Bilans",
    "support_measure_exit": "Sorties de mesure",
    "support_post_exit_check": "Suivis après la sortie",
    "intervention": "Interventions (y compris les notes réservées)",
    "intervention_correction": "Corrections d'interventions",
    "referral": "Orientations vers des partenaires",
    "referral_status_change": "Suivi des orientations vers des partenaires",
    "tripartite_meeting": "Réunions tripartites",
    "appointment": "Rendez-vous",
    "occupancy": "Baux et occupations",
    "lease_review": "Examens du bail",
    "rent_account_snapshot": "Situation du compte locataire",
    "repayment_plan": "Plans d'apurement",
    "gla_action": "Actions de gestion locative adaptée",
    "procedure_stage": "Procédure",
    "reminder": "Rappels",
    "document": "Documents du dossier (liste ; les fichiers sont dans l'archive ZIP)",
    "household_aid": "Aides financières",
}


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


# PostgreSQL takes at most 100 arguments per function call: a wider row is read as several
# JSON arrays.
_ARRAY_WIDTH = 100


def _reader(column, dialect):
    """The function turning the JSON value of ``column`` into what ``select(column)`` gives
    in Python (then ``_value``), whichever database wrote the JSON: SQLite's booleans are
    0/1, dates and datetimes come as ISO text (a ``TypeDecorator`` such as ``UtcDateTime``
    then does what it does to a value read from the database)."""
    decorator = column.type if isinstance(column.type, TypeDecorator) else None
    python_type = (decorator.impl_instance if decorator else column.type).python_type
    if python_type not in _PARSERS and python_type not in (int, str):
        # A numeric, JSON or enum value would come back from the JSON array unlike a plain
        # read (a float, a text): refused here rather than exported differently.
        raise TypeError(f"{column}: {python_type.__name__} is not read from a JSON array")
    parse = _PARSERS.get(python_type)

    def read(value):
        if value is None:
            return None
        if parse is not None:
            value = parse(value)
        return decorator.process_result_value(value, dialect) if decorator else value

    return read


_PARSERS = {bool: bool, date: date.fromisoformat, datetime: datetime.fromisoformat}


def _chunks(columns: list) -> list[list]:
    return [columns[i : i + _ARRAY_WIDTH] for i in range(0, len(columns), _ARRAY_WIDTH)]


def _readable_rows(household_id: int, tables: list[tuple]) -> dict[int, list[list]]:
    """``{index in tables: [row values, …]}`` for ``tables`` (``(declared, columns)``), rows
    in id order: one query for every table, a UNION ALL of one branch per table reading its
    ``columns`` as JSON arrays (``app.sql.json_array``) decoded here."""
    from sqlalchemy import String, null, select, union_all
    from sqlalchemy import cast as sql_cast

    from app.db import db
    from app.sql import json_array

    width = max((len(_chunks(columns)) for _, columns in tables), default=0)
    branches = []
    for index, (declared, columns) in enumerate(tables):
        if not columns:
            continue
        arrays = [json_array(*chunk) for chunk in _chunks(columns)]
        arrays += [sql_cast(null(), String)] * (width - len(arrays))
        branches.append(
            select(
                literal_column(str(index)).label("section"),
                declared.model.id.label("row_id"),
                *(array.label(f"values_{n}") for n, array in enumerate(arrays)),
            ).where(household_condition(declared, household_id))
        )
    rows: dict[int, list[list]] = {}
    if not branches:
        return rows
    query = union_all(*branches).order_by(literal_column("section"), literal_column("row_id"))
    dialect = db.session.get_bind().dialect
    readers = {
        index: [_reader(column, dialect) for column in columns]
        for index, (_, columns) in enumerate(tables)
    }
    for section, _, *arrays in db.session.execute(query):
        values = [value for array in arrays if array is not None for value in json.loads(array)]
        rows.setdefault(section, []).append(
            [read(value) for read, value in zip(readers[section], values, strict=True)]
        )
    return rows


def subject_access_file(household: Household, viewer) -> list[dict]:
    """Every record about ``household``, section by section: ``{"table", "title", "rows"}``
    with every column of every row that ``viewer`` reads (``app.audience``: all of them for
    the coordinators who hold EXPORT_SUBJECT_ACCESS). Audit entries (about staff actions)
    are not included. One query whatever the file holds (``_readable_rows``)."""
    from app.audience import readable_columns

    tables = [(declared, readable_columns(viewer, declared.model)) for declared in DECLARED]
    values = _readable_rows(household.id, tables)
    sections = []
    for index, (declared, columns) in enumerate(tables):
        table = declared.model.__table__
        rows = [
            {column.key: _value(value) for column, value in zip(columns, row, strict=True)}
            for row in values.get(index, ())
        ]
        sections.append(
            {"table": table.name, "title": SECTION_TITLES.get(table.name, table.name), "rows": rows}
        )
    return sections


DUE_HORIZON_DAYS = 60


def due_for_anonymisation(households_query, today: date, days: int = DUE_HORIZON_DAYS) -> dict:
    """``{household id: anonymisation date}`` for the closed files of ``households_query``
    (a scoped ``select(Household)``) due within ``days``.

    Same rule as ``app.retention.services.end_of_support``, computed for every household in
    one query (the list page asked three queries per closed household before)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.db import db
    from app.retention.services import CLOSED_STAGES, add_years, retention_years
    from app.support.models import Measure, MeasureStatus, PostExitCheck

    scope = (
        households_query.where(Household.stage.in_(CLOSED_STAGES))
        .with_only_columns(Household.id)
        .order_by(None)
        .subquery()
    )
    open_measures = (
        select(func.count(Measure.id))
        .where(Measure.household_id == Household.id, Measure.status == MeasureStatus.EN_COURS)
        .scalar_subquery()
    )
    last_closed = (
        select(func.max(Measure.closed_on))
        .where(Measure.household_id == Household.id)
        .scalar_subquery()
    )
    last_check = (
        select(func.max(PostExitCheck.due_on))
        .where(PostExitCheck.household_id == Household.id, PostExitCheck.months == 12)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Household.id,
            Household.stage_since_on,
            open_measures.label("open_measures"),
            last_closed.label("last_closed"),
            last_check.label("last_check"),
        ).where(Household.id.in_(select(scope.c.id)))
    )
    horizon = today + timedelta(days=days)
    years = retention_years()
    due = {}
    for row in rows:
        if row.open_measures:
            continue
        end = max(d for d in (row.last_closed, row.stage_since_on, row.last_check) if d)
        day = add_years(end, years)
        if day <= horizon:
            due[row.id] = day
    return due
