"""Appointments: planning, cancelling, a missed appointment (an attempt) and a held one (the
visit recorded from it). Services take ``now``/``today``, check, change, audit, never commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app import bounds
from app.agenda.models import Appointment, AppointmentMode, AppointmentStatus, AppointmentWith
from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.formatting import PARIS, to_paris
from app.households.models import Household
from app.households.queries import visible_households
from app.interventions import services as interventions
from app.interventions.models import InterventionMode

# What a visit recorded from an appointment is, by the appointment's mode and company.
VISIT_MODES = {
    AppointmentMode.DOMICILE: InterventionMode.VISITE_DOMICILE,
    AppointmentMode.BUREAU: InterventionMode.BUREAU,
    AppointmentMode.TELEPHONE: InterventionMode.TELEPHONE,
    AppointmentMode.VISIO: InterventionMode.TELEPHONE,
    AppointmentMode.AUTRE_LIEU: InterventionMode.ACCOMPAGNEMENT_PHYSIQUE,
}


def paris_datetime(day: date, at: time) -> datetime:
    """A Paris wall-clock time as an aware UTC datetime (the stored form)."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _check_values(
    household, *, day, at, duration_minutes, mode, place, with_whom, for_user, today
) -> None:
    if day is None:
        raise DomainError("Indiquez la date du rendez-vous.", field="day")
    bounds.check_planned(day, today, field="day")
    if day < today:
        raise DomainError(
            "Cette date est passée : un rendez-vous se planifie à partir d'aujourd'hui.",
            field="day",
        )
    if at is None:
        raise DomainError("Indiquez l'heure du rendez-vous.", field="at")
    bounds.DURATION.check(duration_minutes, field="duration_minutes")
    if duration_minutes is None:
        raise DomainError("Indiquez la durée du rendez-vous.", field="duration_minutes")
    if mode not in AppointmentMode.__members__.values():
        raise DomainError("Choisissez le lieu ou le mode du rendez-vous.", field="mode")
    if with_whom not in AppointmentWith.__members__.values():
        raise DomainError("Choisissez avec qui a lieu le rendez-vous.", field="with_whom")
    if mode == AppointmentMode.AUTRE_LIEU and not _clean(place):
        raise DomainError("Indiquez le lieu du rendez-vous.", field="place")
    if for_user is None or not _sees(for_user, household):
        raise DomainError(
            "Cette personne ne suit pas ce ménage : choisissez un membre de son équipe.",
            field="for_user_id",
        )


def _sees(user, household) -> bool:
    query = visible_households(user).where(Household.id == household.id)
    return db.session.scalar(query.with_only_columns(Household.id)) is not None


def plan_appointment(
    actor,
    household,
    *,
    day: date | None,
    at: time | None,
    duration_minutes: int | None,
    mode: str | None,
    with_whom: str | None,
    place: str | None = None,
    note: str | None = None,
    for_user=None,
    today: date,
) -> Appointment:
    """Plan an appointment with ``household`` in ``for_user``'s agenda (the actor's own by
    default); a coordinator may plan one for a member of the household's team."""
    for_user = for_user or actor
    _check_values(
        household,
        day=day,
        at=at,
        duration_minutes=duration_minutes,
        mode=mode,
        place=place,
        with_whom=with_whom,
        for_user=for_user,
        today=today,
    )
    appointment = Appointment(
        household_id=household.id,
        starts_at=paris_datetime(day, at),
        duration_minutes=duration_minutes,
        mode=mode,
        place=_clean(place),
        with_whom=with_whom,
        is_tripartite=with_whom == AppointmentWith.BAILLEUR,
        status=AppointmentStatus.PREVU.value,
        note=_clean(note),
        planned_by_id=actor.id,
        for_user_id=for_user.id,
    )
    db.session.add(appointment)
    db.session.flush()
    record(
        actor,
        "appointment.planned",
        household_id=household.id,
        target=appointment,
        details={"mode": mode, "with": with_whom},
    )
    return appointment


def _check_planned(appointment: Appointment, version: int | None) -> None:
    if version is not None:
        check_version(appointment, version)
    if not appointment.is_planned:
        raise DomainError(f"Ce rendez-vous est déjà clos ({appointment.status_label.lower()}).")


def cancel_appointment(actor, appointment: Appointment, *, version: int | None = None) -> None:
    _check_planned(appointment, version)
    appointment.status = AppointmentStatus.ANNULE.value
    record(
        actor, "appointment.cancelled", household_id=appointment.household_id, target=appointment
    )


def local_day(appointment: Appointment) -> date:
    return to_paris(appointment.starts_at).date()


def mark_missed(
    actor, appointment: Appointment, *, today: date, version: int | None = None
) -> None:
    """The household did not come: the appointment is « non honoré » and a missed-appointment
    attempt is recorded on the household (it counts as an attempt, not as a contact)."""
    _check_planned(appointment, version)
    day = local_day(appointment)
    if day > today:
        raise DomainError(
            "Ce rendez-vous n'a pas encore eu lieu : annulez-le s'il ne se tiendra pas."
        )
    attempt = interventions.record_visit(
        actor,
        appointment.household,
        occurred_on=day,
        mode=InterventionMode.RDV_NON_HONORE.value,
        duration_minutes=None,
        today=today,
    )
    db.session.flush()
    appointment.status = AppointmentStatus.NON_HONORE.value
    appointment.intervention_id = attempt.id
    record(actor, "appointment.missed", household_id=appointment.household_id, target=appointment)


def visit_prefill(appointment: Appointment) -> dict:
    """The visit form's values for a visit recorded from ``appointment``."""
    mode = VISIT_MODES[AppointmentMode(appointment.mode)]
    if appointment.is_tripartite and appointment.mode == AppointmentMode.DOMICILE:
        mode = InterventionMode.VISITE_CONJOINTE
    return {
        "occurred_on": local_day(appointment),
        "mode": mode.value,
        "duration_minutes": appointment.duration_minutes,
    }


def mark_held(actor, household, appointment_id: int, intervention) -> Appointment | None:
    """A visit was recorded from a planned appointment of ``household``: it is held. An id
    that names no planned appointment of this household changes nothing."""
    appointment = db.session.scalar(
        select(Appointment).where(
            Appointment.id == appointment_id,
            Appointment.household_id == household.id,
            Appointment.status == AppointmentStatus.PREVU.value,
        )
    )
    if appointment is None:
        return None
    db.session.flush()
    appointment.status = AppointmentStatus.TENU.value
    appointment.intervention_id = intervention.id
    record(actor, "appointment.held", household_id=household.id, target=appointment)
    return appointment
