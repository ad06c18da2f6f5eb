"""Scoped reads of reminders, and the thresholds in force.

A user sees a reminder when it is addressed to them — to them by name, or to one of their
roles (within their organisation when the reminder names one) — and only about households
they may see (``visible_households``). A notice (no household) is seen by its addressees, and
when it names a project, only by those of them who work on that project. On a household's own
tab, the support team (``READ_SOCIAL_CONTENT``) also sees the reminders addressed to its
colleagues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import abort
from sqlalchemy import Integer, Select, and_, bindparam, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.db import db
from app.households.models import Household
from app.households.queries import household_for_display, visible_households
from app.permissions import Permission, can_read_social_content, has_permission
from app.reminders.models import (
    OPEN_STATUSES,
    SETTING_DEFAULTS,
    Reminder,
    ReminderSetting,
)

shown_on = func.coalesce(Reminder.postponed_to, Reminder.due_on)


def current_settings() -> dict[str, int]:
    """Defaults from the code, overridden by what an administrator saved."""
    saved = dict(db.session.execute(select(ReminderSetting.key, ReminderSetting.value)).all())
    return {key: saved.get(key, default) for key, default in SETTING_DEFAULTS.items()}


def addressed_to(user):
    """SQL condition: the reminder is addressed to ``user``."""
    roles = [role.value for role in user.roles]
    return or_(
        Reminder.recipient_user_id == user.id,
        and_(
            Reminder.recipient_role.in_(roles or ["-"]),
            or_(
                Reminder.recipient_organisation_id.is_(None),
                Reminder.recipient_organisation_id == user.organisation_id,
            ),
        ),
    )


# ``addressed_to`` for a statement built once per process: the viewer as bind parameters,
# given for each page by ``viewer_values(user)``.
VIEWER_ID = bindparam("viewer_id", type_=Integer)
VIEWER_ROLES = bindparam("viewer_roles", expanding=True)
VIEWER_ORGANISATION_ID = bindparam("viewer_organisation_id", type_=Integer)


def addressed_to_viewer():
    """SQL condition: the reminder is addressed to the viewer given by ``viewer_values`` (the
    rule of ``addressed_to``)."""
    return or_(
        Reminder.recipient_user_id == VIEWER_ID,
        and_(
            Reminder.recipient_role.in_(VIEWER_ROLES),
            or_(
                Reminder.recipient_organisation_id.is_(None),
                Reminder.recipient_organisation_id == VIEWER_ORGANISATION_ID,
            ),
        ),
    )


def viewer_values(user) -> dict:
    """The values of ``addressed_to_viewer``'s parameters for ``user``."""
    return {
        "viewer_id": user.id,
        "viewer_roles": [role.value for role in user.roles] or ["-"],
        "viewer_organisation_id": user.organisation_id,
    }


def _about_a_visible_household(user):
    """SQL condition: the reminder's household is one ``user`` may see, as a correlated
    EXISTS. (``household_id IN (visible households)`` sits under an OR with the notices, so
    PostgreSQL could not make it a join and hashed every visible household for each count:
    a landlord's whole stock, 57 ms of the navigation bar at 100,000 households, 3× that at
    300,000.)"""
    return (
        visible_households(user)
        .with_only_columns(Household.id)
        .where(Household.id == Reminder.household_id)
        .correlate(Reminder)  # only the reminder: a query may also join its household
        .exists()
    )


def my_reminders(user) -> Select:
    """Reminders addressed to ``user`` about households they can see, and their notices."""
    if not has_permission(user, Permission.VIEW_REMINDERS):
        return select(Reminder).where(false())
    notice = and_(
        Reminder.household_id.is_(None),
        or_(Reminder.project_id.is_(None), Reminder.project_id.in_(user.project_ids or [-1])),
    )
    return select(Reminder).where(
        addressed_to(user),
        or_(_about_a_visible_household(user), notice),
    )


def my_open_reminders(user) -> Select:
    return (
        my_reminders(user)
        .where(Reminder.status.in_(OPEN_STATUSES))
        .order_by(shown_on, Reminder.id)
        .options(*household_for_display(joinedload(Reminder.household)))
    )


def count_due(user, today: date) -> int:
    """Open reminders addressed to ``user`` that are due today or overdue (the nav count)."""
    query = my_reminders(user).where(Reminder.status.in_(OPEN_STATUSES), shown_on <= today)
    return db.session.scalar(query.with_only_columns(func.count(Reminder.id))) or 0


def get_my_reminder_or_404(user, reminder_id: int) -> Reminder:
    reminder = db.session.scalar(my_reminders(user).where(Reminder.id == reminder_id))
    if reminder is None:
        abort(404)
    return reminder


def household_reminders(user, household: Household) -> Select:
    """The household's reminders for its tab: the support team sees the whole team's; others
    only those addressed to them. ``household`` was loaded through ``get_household_or_404``."""
    query = select(Reminder).where(Reminder.household_id == household.id)
    if not can_read_social_content(user):
        query = query.where(addressed_to(user))
    return query


@dataclass
class Inbox:
    overdue: list[Reminder] = field(default_factory=list)
    today: list[Reminder] = field(default_factory=list)
    this_week: list[Reminder] = field(default_factory=list)
    later: list[Reminder] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.this_week) + len(self.later)

    def groups(self):
        return (
            ("en-retard", "En retard", self.overdue, "danger"),
            ("aujourd-hui", "Aujourd'hui", self.today, "warning"),
            ("cette-semaine", "Cette semaine", self.this_week, "info"),
            ("plus-tard", "Plus tard", self.later, "neutral"),
        )


def group_by_date(reminders, today: date) -> Inbox:
    """En retard / aujourd'hui / cette semaine (the next 7 days) / plus tard."""
    inbox = Inbox()
    week_end = today + timedelta(days=7)
    for reminder in reminders:
        day = reminder.shown_on
        if day < today:
            inbox.overdue.append(reminder)
        elif day == today:
            inbox.today.append(reminder)
        elif day <= week_end:
            inbox.this_week.append(reminder)
        else:
            inbox.later.append(reminder)
    return inbox
