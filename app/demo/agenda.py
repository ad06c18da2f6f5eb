"""Demo appointments: Sophie Martin's week (a home visit today, an office appointment, a phone
call) and a tripartite meeting with Rhône Habitat at a household it houses."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from app.agenda.models import Appointment
from app.agenda.services import plan_appointment
from app.db import db
from app.formatting import today_paris
from app.households.models import Household
from app.households.queries import landlord_household_ids
from app.users.models import User

WORKER = "sophie.martin@traitdunion.demo"
LANDLORD = "gestion@rhonehabitat.demo"
# day offset, time, duration, mode, with whom, note
PLANNED = (
    (0, time(14, 0), 60, "domicile", "menage", "Point sur le budget et le dossier FSL."),
    (1, time(9, 30), 45, "bureau", "menage", "Préparer la demande de logement."),
    (3, time(11, 0), 30, "telephone", "menage", None),
)


def _agenda() -> None:
    """Idempotent: nothing is added once Sophie Martin has an appointment."""
    worker = _user(WORKER)
    landlord_user = _user(LANDLORD)
    if worker is None or _has_appointments(worker):
        return
    followed = list(
        db.session.scalars(
            select(Household)
            .where(Household.referent_id == worker.id, Household.anonymised_at.is_(None))
            .order_by(Household.reference)
        )
    )
    if not followed:
        return
    today = today_paris()
    for n, (offset, at, minutes, mode, with_whom, note) in enumerate(PLANNED):
        plan_appointment(
            worker,
            followed[n % len(followed)],
            day=today + timedelta(days=offset),
            at=at,
            duration_minutes=minutes,
            mode=mode,
            with_whom=with_whom,
            note=note,
            today=today,
        )
    housed = _housed_by(landlord_user, followed)
    if housed is not None:
        plan_appointment(
            worker,
            housed,
            day=today + timedelta(days=2),
            at=time(10, 0),
            duration_minutes=60,
            mode="domicile",
            with_whom="bailleur",
            note="Rencontre tripartite : point sur le plan d'apurement.",
            today=today,
        )


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _has_appointments(worker: User) -> bool:
    return (
        db.session.scalar(
            select(Appointment.id).where(Appointment.for_user_id == worker.id).limit(1)
        )
        is not None
    )


def _housed_by(landlord_user: User | None, households: list[Household]) -> Household | None:
    """The first of ``households`` with a current lease at the landlord user's organisation."""
    if landlord_user is None:
        return None
    housed = set(db.session.scalars(landlord_household_ids(landlord_user.organisation_id)))
    return next((h for h in households if h.id in housed), None)
