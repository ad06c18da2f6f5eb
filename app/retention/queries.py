"""The household's complete file for the right of access (RGPD article 15)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from app.households.models import Household
from app.retention.services import DECLARED, household_values

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


def subject_access_file(household: Household, viewer) -> list[dict]:
    """Every record about ``household``, section by section: ``{"table", "title", "rows"}``
    with every column of every row that ``viewer`` reads (``app.audience``: all of them for
    the coordinators who hold EXPORT_SUBJECT_ACCESS). Audit entries (about staff actions)
    are not included."""
    from app.audience import readable_columns

    sections = []
    for declared in DECLARED:
        table = declared.model.__table__
        columns = readable_columns(viewer, declared.model)
        rows = [
            {column.key: _value(row._mapping[column]) for column in columns}
            for row in (household_values(declared, household.id, columns) if columns else ())
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
