"""Business rules of support measures, objectives, reviews and exits. Services never commit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app import bounds
from app.audit.services import record
from app.dates import add_months
from app.db import db
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.models import Household, StageCause, SupportDomain
from app.households.path import follow_work
from app.permissions import coordinates_project
from app.support.models import (
    DEFAULT_INTENSITY_LEVELS,
    POST_EXIT_CHECK_MONTHS,
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    MeasureExit,
    MeasureRenewal,
    MeasureStatus,
    MeasureType,
    Objective,
    ObjectiveStatus,
    ObjectiveUpdate,
    PostExitCheck,
    Review,
    ReviewKind,
)

REVIEW_EVERY_MONTHS = 3


def _require(value, message: str, field: str):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DomainError(message, field=field)
    return value


def _not_in_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise DomainError("Cette date est dans le futur : indiquez une date passée.", field=field)


# --- intensity levels ---------------------------------------------------------------------


def ensure_default_intensity_levels(project, actor=None) -> list[IntensityLevel]:
    """Create ``project``'s default levels that do not exist yet (by name); return every
    level of the project."""
    existing = {
        level.name: level
        for level in db.session.scalars(
            select(IntensityLevel).where(IntensityLevel.project_id == project.id)
        )
    }
    for name, days, weight in DEFAULT_INTENSITY_LEVELS:
        if name not in existing:
            level = IntensityLevel(
                project_id=project.id, name=name, contact_every_days=days, caseload_weight=weight
            )
            db.session.add(level)
            existing[name] = level
            record(
                actor,
                "intensity_level.created",
                target=level,
                details={"default": True, "project_id": project.id},
            )
    db.session.flush()
    return sorted(existing.values(), key=lambda level: level.contact_every_days)


def _check_level_values(
    project_id, name, contact_every_days, caseload_weight, *, exclude_id=None
) -> None:
    _require(name, "Indiquez le nom du niveau.", "name")
    # None is refused too: both are required (bounds.check lets None pass).
    bounds.CONTACT_DAYS.check(
        -1 if contact_every_days is None else contact_every_days, field="contact_every_days"
    )
    bounds.WEIGHT.check(
        Decimal(-1) if caseload_weight is None else caseload_weight, field="caseload_weight"
    )
    clash = select(IntensityLevel.id).where(
        IntensityLevel.project_id == project_id, func.lower(IntensityLevel.name) == name.lower()
    )
    if exclude_id is not None:
        clash = clash.where(IntensityLevel.id != exclude_id)
    if db.session.scalar(clash) is not None:
        raise DomainError("Un niveau de ce projet porte déjà ce nom.", field="name")


def _require_project_coordinator(actor, project_id) -> None:
    if not coordinates_project(actor, project_id):
        raise DomainError(
            "Choisissez un projet dont vous êtes coordinateur·rice.", field="project_id"
        )


def create_intensity_level(
    actor, *, project_id: int, name: str, contact_every_days: int, caseload_weight: Decimal
) -> IntensityLevel:
    """A new level for one project; only that project's coordinators create it."""
    _require_project_coordinator(actor, project_id)
    _check_level_values(project_id, name, contact_every_days, caseload_weight)
    level = IntensityLevel(
        project_id=project_id,
        name=name.strip(),
        contact_every_days=contact_every_days,
        caseload_weight=caseload_weight,
        updated_by_id=actor.id,
    )
    db.session.add(level)
    record(actor, "intensity_level.created", target=level, details={"project_id": project_id})
    return level


def update_intensity_level(
    actor,
    level: IntensityLevel,
    *,
    version,
    name: str,
    contact_every_days: int,
    caseload_weight: Decimal,
    is_active: bool,
) -> None:
    check_version(level, version)
    _require_project_coordinator(actor, level.project_id)
    _check_level_values(
        level.project_id, name, contact_every_days, caseload_weight, exclude_id=level.id
    )
    level.name = name.strip()
    level.contact_every_days = contact_every_days
    level.caseload_weight = caseload_weight
    level.is_active = is_active
    level.updated_by_id = actor.id
    record(actor, "intensity_level.updated", target=level, details={"project_id": level.project_id})


def _active_level(level_id, household_id: int) -> IntensityLevel:
    """An active level of the household's project (a level of another project is refused as
    if it did not exist)."""
    level = db.session.get(IntensityLevel, level_id) if level_id else None
    project_id = db.session.scalar(select(Household.project_id).where(Household.id == household_id))
    if level is None or not level.is_active or level.project_id != project_id:
        raise DomainError("Choisissez une intensité d'accompagnement.", field="intensity_level_id")
    return level


# --- measures -----------------------------------------------------------------------------


def open_measure(
    actor,
    household,
    *,
    type: str,
    type_detail: str | None = None,
    intensity_level_id: int,
    start_on: date,
    planned_end_on: date,
) -> Measure:
    """Open a support measure; its référent is the household's référent."""
    if type not in MeasureType.__members__.values():
        raise DomainError("Choisissez le type de mesure.", field="type")
    if type == MeasureType.AUTRE and not (type_detail or "").strip():
        raise DomainError("Précisez de quelle mesure il s'agit.", field="type_detail")
    _require(start_on, "Indiquez la date de début.", "start_on")
    _require(planned_end_on, "Indiquez la date de fin prévue.", "planned_end_on")
    if planned_end_on <= start_on:
        raise DomainError(
            "La fin prévue doit être postérieure à la date de début.", field="planned_end_on"
        )
    level = _active_level(intensity_level_id, household.id)
    if household.referent_id is None:
        raise DomainError(
            "Ce ménage n'a pas encore de référent·e : nommez-le ou la dans la fiche du ménage "
            "avant d'ouvrir une mesure."
        )
    already_open = db.session.scalar(
        select(Measure.id).where(
            Measure.household_id == household.id,
            Measure.type == type,
            Measure.status == MeasureStatus.EN_COURS,
        )
    )
    if already_open is not None:
        raise DomainError(
            f"Une mesure « {MeasureType(type).label} » est déjà en cours pour ce ménage : "
            "renouvelez-la ou clôturez-la plutôt que d'en ouvrir une seconde.",
            field="type",
        )
    measure = Measure(
        household_id=household.id,
        type=type,
        type_detail=(type_detail or "").strip() or None if type == MeasureType.AUTRE else None,
        referent_id=household.referent_id,
        intensity_level_id=level.id,
        start_on=start_on,
        planned_end_on=planned_end_on,
        next_review_on=add_months(start_on, REVIEW_EVERY_MONTHS),
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(measure)
    db.session.flush()
    db.session.add(
        IntensityChange(
            measure_id=measure.id, changed_on=start_on, to_level_id=level.id, by_id=actor.id
        )
    )
    record(
        actor,
        "measure.opened",
        household_id=household.id,
        target=measure,
        details={"type": type, "intensity_level_id": level.id},
    )
    follow_work(actor, household, cause=StageCause.MEASURE_OPENED, on=start_on)
    return measure


def _require_open(measure: Measure) -> None:
    if not measure.is_open:
        raise DomainError("Cette mesure est clôturée : elle ne peut plus être modifiée.")


def renew_measure(
    actor,
    measure: Measure,
    *,
    version,
    new_end_on: date,
    justification: str | None,
    renewed_on: date | None = None,
) -> MeasureRenewal:
    check_version(measure, version)
    _require_open(measure)
    _require(new_end_on, "Indiquez la nouvelle date de fin.", "new_end_on")
    if new_end_on <= measure.planned_end_on:
        raise DomainError(
            "La nouvelle fin doit être postérieure à la fin actuelle "
            f"({format_date(measure.planned_end_on)}).",
            field="new_end_on",
        )
    _require(
        justification,
        "Expliquez pourquoi l'accompagnement est prolongé : le renouvellement doit être justifié.",
        "justification",
    )
    renewal = MeasureRenewal(
        measure_id=measure.id,
        renewed_on=renewed_on or today_paris(),
        previous_end_on=measure.planned_end_on,
        new_end_on=new_end_on,
        justification=justification.strip(),
        by_id=actor.id,
    )
    db.session.add(renewal)
    measure.planned_end_on = new_end_on
    measure.updated_by_id = actor.id
    record(
        actor,
        "measure.renewed",
        household_id=measure.household_id,
        target=measure,
        details={"fields": ["planned_end_on", "justification"]},
    )
    return renewal


def change_intensity(
    actor,
    measure: Measure,
    *,
    version,
    intensity_level_id: int,
    changed_on: date,
    reason: str | None = None,
    today: date | None = None,
) -> IntensityChange:
    check_version(measure, version)
    _require_open(measure)
    level = _active_level(intensity_level_id, measure.household_id)
    if level.id == measure.intensity_level_id:
        raise DomainError(
            "C'est déjà l'intensité de cette mesure : choisissez un autre niveau.",
            field="intensity_level_id",
        )
    _require(changed_on, "Indiquez la date du changement.", "changed_on")
    if changed_on < measure.start_on:
        raise DomainError(
            "Le changement ne peut pas précéder le début de la mesure.", field="changed_on"
        )
    _not_in_future(changed_on, today or today_paris(), "changed_on")
    change = IntensityChange(
        measure_id=measure.id,
        changed_on=changed_on,
        from_level_id=measure.intensity_level_id,
        to_level_id=level.id,
        reason=(reason or "").strip() or None,
        by_id=actor.id,
    )
    db.session.add(change)
    measure.intensity_level_id = level.id
    measure.intensity = level
    measure.updated_by_id = actor.id
    record(
        actor,
        "measure.intensity_changed",
        household_id=measure.household_id,
        target=measure,
        details={"from": change.from_level_id, "to": level.id},
    )
    return change


# --- objectives and reviews ---------------------------------------------------------------


def _check_objective_status(status: str, field: str = "status") -> None:
    if status not in ObjectiveStatus.__members__.values():
        raise DomainError("Choisissez un statut.", field=field)


def add_objective(
    actor, household, *, domain: str, title: str, status: str, set_on: date
) -> Objective:
    if domain not in SupportDomain.__members__.values():
        raise DomainError("Choisissez le domaine de l'objectif.", field="domain")
    _require(title, "Décrivez l'objectif en quelques mots.", "title")
    _check_objective_status(status)
    _require(set_on, "Indiquez la date.", "set_on")
    objective = Objective(
        household_id=household.id,
        domain=domain,
        title=title.strip(),
        status=status,
        set_on=set_on,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(objective)
    db.session.flush()
    db.session.add(
        ObjectiveUpdate(objective_id=objective.id, on=set_on, status=status, by_id=actor.id)
    )
    record(
        actor,
        "objective.created",
        household_id=household.id,
        target=objective,
        details={"domain": domain, "status": status},
    )
    return objective


def update_objective(
    actor,
    objective: Objective,
    *,
    version,
    status: str,
    comment: str | None,
    on: date,
    today: date | None = None,
) -> ObjectiveUpdate:
    check_version(objective, version)
    _check_objective_status(status)
    _require(on, "Indiquez la date.", "on")
    _not_in_future(on, today or today_paris(), "on")
    if status == objective.status and not (comment or "").strip():
        raise DomainError(
            "Changez le statut ou décrivez l'avancée : rien ne serait enregistré.",
            field="comment",
        )
    update = ObjectiveUpdate(
        objective_id=objective.id,
        on=on,
        status=status,
        comment=(comment or "").strip() or None,
        by_id=actor.id,
    )
    db.session.add(update)
    objective.status = status
    objective.updated_by_id = actor.id
    record(
        actor,
        "objective.updated",
        household_id=objective.household_id,
        target=objective,
        details={"status": status},
    )
    return update


def record_review(
    actor,
    measure: Measure,
    *,
    kind: str,
    held_on: date,
    summary: str | None,
    progress: dict[int, tuple[str, str | None]],
    today: date | None = None,
) -> Review:
    """Record a bilan of an open measure with the progress of each objective of the household
    (``progress`` maps objective id → (status, comment)). A final review ends the review
    rhythm; any other sets the next one three months later."""
    _require_open(measure)
    if kind not in ReviewKind.__members__.values():
        raise DomainError("Choisissez le type de bilan.", field="kind")
    _require(held_on, "Indiquez la date du bilan.", "held_on")
    _not_in_future(held_on, today or today_paris(), "held_on")
    if held_on < measure.start_on:
        raise DomainError("Le bilan ne peut pas précéder le début de la mesure.", field="held_on")
    objectives = {
        o.id: o
        for o in db.session.scalars(
            select(Objective).where(Objective.household_id == measure.household_id)
        )
    }
    unknown = set(progress) - set(objectives)
    if unknown:
        raise DomainError("Un des objectifs n'appartient pas à ce ménage.")
    for status, _comment in progress.values():
        _check_objective_status(status, field=None)
    review = Review(
        household_id=measure.household_id,
        measure_id=measure.id,
        kind=kind,
        held_on=held_on,
        summary=(summary or "").strip() or None,
        author_id=actor.id,
    )
    db.session.add(review)
    db.session.flush()
    for objective_id, (status, comment) in progress.items():
        objective = objectives[objective_id]
        db.session.add(
            ObjectiveUpdate(
                objective_id=objective_id,
                on=held_on,
                status=status,
                comment=(comment or "").strip() or None,
                review_id=review.id,
                by_id=actor.id,
            )
        )
        objective.status = status
        objective.updated_by_id = actor.id
    measure.next_review_on = (
        None if kind == ReviewKind.FINAL else add_months(held_on, REVIEW_EVERY_MONTHS)
    )
    measure.updated_by_id = actor.id
    record(
        actor,
        "review.recorded",
        household_id=measure.household_id,
        target=review,
        details={"kind": kind, "objectives": len(progress)},
    )
    return review


# --- exit and post-exit checks --------------------------------------------------------------


def close_measure(
    actor,
    measure: Measure,
    *,
    version,
    exit_on: date,
    reason: str,
    housing_situation: str,
    is_lease_glissed: bool,
    handover: str | None,
    today: date | None = None,
) -> MeasureExit:
    """Close the measure (sortie) and create its +6 and +12-month checks."""
    check_version(measure, version)
    _require_open(measure)
    _require(exit_on, "Indiquez la date de sortie.", "exit_on")
    if exit_on < measure.start_on:
        raise DomainError("La sortie ne peut pas précéder le début de la mesure.", field="exit_on")
    _not_in_future(exit_on, today or today_paris(), "exit_on")
    if reason not in ExitReason.__members__.values():
        raise DomainError("Choisissez le motif de sortie.", field="reason")
    if housing_situation not in HousingAtExit.__members__.values():
        raise DomainError(
            "Indiquez la situation de logement à la sortie.", field="housing_situation"
        )
    exit_ = MeasureExit(
        measure_id=measure.id,
        household_id=measure.household_id,
        exit_on=exit_on,
        reason=reason,
        housing_situation=housing_situation,
        is_lease_glissed=bool(is_lease_glissed),
        handover=(handover or "").strip() or None,
        by_id=actor.id,
    )
    db.session.add(exit_)
    measure.status = MeasureStatus.CLOTUREE
    measure.closed_on = exit_on
    measure.next_review_on = None
    measure.updated_by_id = actor.id
    db.session.flush()
    ensure_post_exit_checks(exit_)
    record(
        actor,
        "measure.closed",
        household_id=measure.household_id,
        target=measure,
        details={"reason": reason, "housing_situation": housing_situation},
    )
    if not db.session.scalar(select(Measure.id).where(*_open_measures(measure.household_id))):
        household = db.session.get(Household, measure.household_id)
        follow_work(actor, household, cause=StageCause.MEASURE_CLOSED, on=exit_on, today=today)
    return exit_


def _open_measures(household_id: int):
    """The household's measures still open: the last one closed is its exit (sortie)."""
    return Measure.household_id == household_id, Measure.status == MeasureStatus.EN_COURS


def ensure_post_exit_checks(exit_: MeasureExit) -> list[PostExitCheck]:
    """Create the +6 and +12-month checks of an exit that are missing (idempotent; a unique
    constraint on (exit, months) backs it)."""
    existing = set(
        db.session.scalars(select(PostExitCheck.months).where(PostExitCheck.exit_id == exit_.id))
    )
    for months in POST_EXIT_CHECK_MONTHS:
        if months not in existing:
            db.session.add(
                PostExitCheck(
                    exit_id=exit_.id,
                    household_id=exit_.household_id,
                    months=months,
                    due_on=add_months(exit_.exit_on, months),
                )
            )
    db.session.flush()
    db.session.expire(exit_, ["checks"])
    return exit_.checks


def record_post_exit_check(
    actor,
    check: PostExitCheck,
    *,
    version,
    done_on: date,
    is_still_housed: bool | None,
    is_rent_up_to_date: bool | None,
    comment: str | None,
    today: date | None = None,
) -> None:
    check_version(check, version)
    _require(done_on, "Indiquez la date de la vérification.", "done_on")
    _not_in_future(done_on, today or today_paris(), "done_on")
    if is_still_housed is None:
        raise DomainError(
            "Indiquez si le ménage est toujours logé.",
            field="is_still_housed",
        )
    check.done_on = done_on
    check.is_still_housed = is_still_housed
    check.is_rent_up_to_date = is_rent_up_to_date
    check.comment = (comment or "").strip() or None
    check.updated_by_id = actor.id
    record(
        actor,
        "post_exit_check.recorded",
        household_id=check.household_id,
        target=check,
        details={"months": check.months},
    )
