"""Retention (anonymisation of closed files) and the household's right of access.

Retention: a closed file is anonymised ``RETENTION_YEARS`` after the end of support (default
2 years, CNIL référentiel 2021-028 on social and medico-social support: "durée de
l'accompagnement puis 2 ans" in the active base; each controller's DPO confirms the figure).
Dates, categories, amounts and stages stay, so the indicators remain computable; names,
contact fields and every free text of the declared models below are cleared. Audit entries
are never touched (append-only; they hold ids and counts only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import Text, func, select

from app.agenda.models import Appointment
from app.audit.services import record
from app.db import db
from app.documents.models import Document
from app.documents.services import destroy_household_files
from app.documents.storage import document_store
from app.evaluation.models import HouseholdAid
from app.households.models import (
    Adhesion,
    Consent,
    Diagnostic,
    Household,
    HouseholdStage,
    HouseholdTeamMember,
    Member,
    Orientation,
    StageTransition,
)
from app.housing.models import (
    GlaAction,
    LeaseReview,
    Occupancy,
    ProcedureStage,
    RentAccountSnapshot,
    RepaymentPlan,
)
from app.interventions.models import Intervention, InterventionCorrection
from app.partners.models import Referral, ReferralStatusChange, TripartiteMeeting
from app.reminders.models import Reminder
from app.support.models import (
    IntensityChange,
    Measure,
    MeasureExit,
    MeasureRenewal,
    MeasureStatus,
    Objective,
    ObjectiveUpdate,
    PostExitCheck,
    Review,
)

ANONYMISED_TEXT = "[anonymisé]"
ANONYMOUS_NAME = "Anonyme"
CLOSED_STAGES = (HouseholdStage.SORTIE.value, HouseholdStage.SUIVI_POST_SORTIE.value)


@dataclass(frozen=True)
class Declared:
    """A model holding data about a household: how to find its rows for one household
    (``parent``: the column pointing at a parent model's id, or None when the model has
    ``household_id``), and the String columns to clear besides every Text column."""

    model: type
    parent: tuple | None = None  # (column of this model, parent Declared model)
    strings: tuple[str, ...] = ()


# The explicit list. Every Text column of these models is cleared; ``strings`` adds the
# String columns holding names, contact details or free text. A test checks that each Text
# column of the application's household-linked models is covered.
DECLARED: tuple[Declared, ...] = (
    Declared(
        Household,
        strings=(
            "phone",
            "email",
            "current_address",
            "search_address",
            "housing_application_number",
        ),
    ),
    Declared(Member, strings=("first_name", "last_name", "search_name")),
    Declared(HouseholdTeamMember),
    Declared(Orientation, strings=("prescriber_detail",)),
    Declared(Diagnostic),
    Declared(Adhesion),
    Declared(Consent),
    Declared(StageTransition),
    Declared(Measure, strings=("type_detail",)),
    Declared(MeasureRenewal, parent=("measure_id", Measure)),
    Declared(IntensityChange, parent=("measure_id", Measure)),
    Declared(Objective, strings=("title",)),
    Declared(ObjectiveUpdate, parent=("objective_id", Objective)),
    Declared(Review),
    Declared(MeasureExit),
    Declared(PostExitCheck),
    Declared(Intervention, strings=("next_action",)),
    Declared(InterventionCorrection, parent=("intervention_id", Intervention)),
    Declared(Referral),
    Declared(ReferralStatusChange, parent=("referral_id", Referral)),
    Declared(TripartiteMeeting),
    Declared(Appointment, strings=("place",)),
    Declared(Occupancy, strings=("lease_reference", "lease_reference_key", "end_reason")),
    Declared(LeaseReview, parent=("occupancy_id", Occupancy)),
    Declared(RentAccountSnapshot, parent=("occupancy_id", Occupancy)),
    Declared(RepaymentPlan, parent=("occupancy_id", Occupancy)),
    Declared(GlaAction, parent=("occupancy_id", Occupancy)),
    Declared(ProcedureStage, parent=("occupancy_id", Occupancy), strings=("comment",)),
    Declared(Reminder, strings=("title",)),
    Declared(Document, strings=("title", "original_name")),
    Declared(HouseholdAid, strings=("label",)),
)


def household_condition(declared: Declared, household_id: int):
    """SQL condition on the rows of ``declared`` about the household ``household_id``."""
    model = declared.model
    if model is Household:
        return Household.id == household_id
    if declared.parent is None:
        return model.household_id == household_id
    column, parent = declared.parent
    return getattr(model, column).in_(select(parent.id).where(parent.household_id == household_id))


def household_rows(declared: Declared, household_id: int) -> list:
    model = declared.model
    return list(
        db.session.scalars(
            select(model).where(household_condition(declared, household_id)).order_by(model.id)
        ).unique()
    )


def cleared_columns(declared: Declared) -> list:
    columns = declared.model.__table__.columns
    return [c for c in columns if isinstance(c.type, Text) or c.name in declared.strings]


# --- retention ----------------------------------------------------------------------------


def retention_years() -> int:
    return int(current_app.config.get("RETENTION_YEARS", 2))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def end_of_support(household: Household) -> date | None:
    """The end of support of a closed file, or None while it is open: every measure closed,
    stage sortie or suivi après la sortie, the +12-month check date passed (or none).
    The end is the latest of the last closure, the entry into the current stage and the
    +12-month check date."""
    if household.stage not in CLOSED_STAGES:
        return None
    open_measures = db.session.scalar(
        select(func.count(Measure.id)).where(
            Measure.household_id == household.id, Measure.status == MeasureStatus.EN_COURS
        )
    )
    if open_measures:
        return None
    last_closed = db.session.scalar(
        select(func.max(Measure.closed_on)).where(Measure.household_id == household.id)
    )
    last_check = db.session.scalar(
        select(func.max(PostExitCheck.due_on)).where(
            PostExitCheck.household_id == household.id, PostExitCheck.months == 12
        )
    )
    return max(d for d in (last_closed, household.stage_since_on, last_check) if d)


def anonymisation_date(household: Household) -> date | None:
    end = end_of_support(household)
    return add_years(end, retention_years()) if end else None


def candidates(today: date) -> list[Household]:
    """Closed files whose retention period is over, not yet anonymised."""
    households = db.session.scalars(
        select(Household)
        .where(Household.anonymised_at.is_(None), Household.stage.in_(CLOSED_STAGES))
        .order_by(Household.id)
    ).unique()
    due = []
    for household in households:
        day = anonymisation_date(household)
        if day is not None and day <= today and household.stage_since_on <= today:
            due.append(household)
    return due


def anonymise(household: Household, now: datetime) -> int:
    """Clear names, contact details and free texts of one household; returns the number of
    fields changed. Never commits."""
    if household.anonymised_at is not None:
        return 0
    changed = 0
    for declared in DECLARED:
        columns = cleared_columns(declared)
        if not columns:
            continue
        for row in household_rows(declared, household.id):
            for column in columns:
                value = getattr(row, column.key)
                new = _cleared_value(declared.model, column)
                if value not in (None, "") and value != new:
                    setattr(row, column.key, new)
                    changed += 1
    for member in household.members:
        if member.birth_on is not None and (member.birth_on.month, member.birth_on.day) != (1, 1):
            member.birth_on = date(member.birth_on.year, 1, 1)  # the year only
            changed += 1
    # The documents' bytes leave the disk with the file (a content another household's live
    # document shares stays: it is stored once).
    destroy_household_files(household.id, document_store())
    household.anonymised_at = now
    return changed


def _cleared_value(model, column):
    if model is Member and column.key in ("first_name", "last_name"):
        return ANONYMOUS_NAME if column.key == "first_name" else ""
    if model is Member and column.key == "search_name":
        return "anonyme"
    if not column.nullable:
        return "" if column.key.startswith("search_") else ANONYMISED_TEXT
    return None


def run_retention(now: datetime) -> dict:
    """The daily job: anonymise every closed file past its retention period."""
    from app.formatting import PARIS

    today = now.astimezone(PARIS).date()
    ids = []
    fields = 0
    for household in candidates(today):
        fields += anonymise(household, now)
        ids.append(household.id)
    db.session.flush()
    if ids:
        record(
            None,
            "retention.anonymised",
            details={"households": len(ids), "household_ids": ids, "fields": fields},
            now=now,
        )
    return {"anonymised": len(ids), "household_ids": ids}
