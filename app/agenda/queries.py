"""Scoped reads of appointments, and the week of a user (``week.py`` builds it).

A user sees an appointment when they see its household (``visible_households``) and may read
it: the support team and coordinators (``READ_SOCIAL_CONTENT``) every appointment of those
households; landlord staff only the tripartite ones (``is_tripartite``, the row flag that
opens their columns to the tenancy audience).
"""

from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload, lazyload

from app.agenda.models import Appointment, AppointmentStatus
from app.audience import can_read
from app.db import db
from app.households.models import Household, HouseholdTeamMember
from app.households.queries import visible_households
from app.users.models import User
from app.users.queries import users_by_name


def visible_appointments(user) -> Select:
    """``select(Appointment)`` restricted to what ``user`` may see."""
    households = visible_households(user).with_only_columns(Household.id)
    query = select(Appointment).where(Appointment.household_id.in_(households))
    if not can_read(user, Appointment.note):
        query = query.where(Appointment.is_tripartite.is_(True))
    return query


def get_appointment_or_404(user, appointment_id: int) -> Appointment:
    appointment = db.session.scalar(
        visible_appointments(user).where(Appointment.id == appointment_id)
    )
    if appointment is None:
        abort(404)
    return appointment


def week_appointments(
    user, start: datetime, end: datetime, *, for_user_id=None, overdue_for=None
) -> list:
    """In one query: the appointments of ``for_user_id``'s agenda (every visible one when
    None) starting in ``[start, end)`` and, with ``overdue_for``, that person's planned
    appointments before ``start`` whose outcome was never recorded (held, missed or
    cancelled). In time order, without their household or users: the week names its
    households in one query of its own."""
    in_week = [Appointment.starts_at >= start, Appointment.starts_at < end]
    if for_user_id is not None:
        in_week.append(Appointment.for_user_id == for_user_id)
    wanted = and_(*in_week)
    if overdue_for is not None:
        overdue = and_(
            Appointment.for_user_id == overdue_for,
            Appointment.status == AppointmentStatus.PREVU.value,
            Appointment.starts_at < start,
        )
        wanted = or_(wanted, overdue)
    query = (
        visible_appointments(user)
        .where(wanted)
        .order_by(Appointment.starts_at, Appointment.id)
        .options(lazyload("*"))
    )
    return list(db.session.scalars(query))


def household_appointments(user, household: Household) -> list:
    """A household's appointments for its file (``household`` already loaded in scope)."""
    query = (
        visible_appointments(user)
        .where(Appointment.household_id == household.id)
        # The household is already loaded; the agenda's owner is named only.
        .options(lazyload(Appointment.household), *users_by_name(Appointment))
    )
    return list(db.session.scalars(query.order_by(Appointment.starts_at.desc(), Appointment.id)))


def agenda_owners(user) -> list[tuple[int, str]]:
    """The workers whose week a coordinator may look at: the référents and team members of
    the households of their scope, themselves included."""
    visible = visible_households(user).with_only_columns(Household.id)
    referents = select(Household.referent_id).where(Household.id.in_(visible))
    members = select(HouseholdTeamMember.user_id).where(
        HouseholdTeamMember.household_id.in_(visible)
    )
    rows = db.session.execute(
        select(User.id, User.full_name)
        .where(
            User.is_active.is_(True),
            (User.id == user.id) | User.id.in_(referents) | User.id.in_(members),
        )
        .order_by(User.full_name, User.id)
    )
    return [(id_, name) for id_, name in rows]


def agenda_owner(user_id: int) -> User | None:
    """The worker whose week is shown (already checked against ``agenda_owners``), with the
    roles and projects their reminders are chosen by, in one query."""
    return db.session.get(
        User, user_id, options=[joinedload(User.role_rows), joinedload(User.projects)]
    )
