"""The agenda's part of the household file (registered by create_app): the Rendez-vous tab,
and the two functions the visit form calls when a visit is recorded from an appointment
(interventions sits below this domain and cannot import it)."""

from __future__ import annotations

from flask_login import current_user

from app.agenda import services
from app.agenda.models import Appointment, AppointmentStatus
from app.agenda.queries import visible_appointments
from app.db import db


def appointment_visit_prefill(household, appointment_id: int | None) -> dict | None:
    """The visit form's values for a planned appointment of ``household`` the viewer sees
    (``None``: no such appointment, the form opens as usual)."""
    if appointment_id is None:
        return None
    appointment = db.session.scalar(
        visible_appointments(current_user).where(
            Appointment.id == appointment_id,
            Appointment.household_id == household.id,
            Appointment.status == AppointmentStatus.PREVU.value,
        )
    )
    return None if appointment is None else services.visit_prefill(appointment)


def register(registry) -> None:
    registry.add_tab(45, "agenda.household", "Rendez-vous")
    registry.provide("appointment_visit_prefill", appointment_visit_prefill)
    registry.provide("appointment_held", services.mark_held)
