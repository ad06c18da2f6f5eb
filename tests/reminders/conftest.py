"""Helpers for reminder tests: sweeps at a given Paris day, reading back what exists."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import db
from app.reminders.jobs import sweep
from app.reminders.models import Reminder

PARIS = ZoneInfo("Europe/Paris")


def at(day: date, hour: int = 9) -> datetime:
    """A moment of that Paris day (sweeps and services take ``now``)."""
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def sweep_on(day: date) -> dict:
    summary = sweep(at(day))
    db.session.flush()
    return summary


def reminders(rule_code: str | None = None, **filters) -> list[Reminder]:
    query = select(Reminder).order_by(Reminder.due_on, Reminder.id)
    if rule_code:
        query = query.where(Reminder.rule_code == rule_code)
    for name, value in filters.items():
        query = query.where(getattr(Reminder, name) == value)
    db.session.expire_all()
    return list(db.session.scalars(query))


def open_keys(rule_code: str) -> list[tuple]:
    """(household, due date, recipient) of the rule's open reminders."""
    return [
        (
            r.household_id,
            r.due_on,
            r.recipient_user_id or (r.recipient_role, r.recipient_organisation_id),
        )
        for r in reminders(rule_code)
        if r.is_open
    ]


@pytest.fixture
def team():
    """A project with a social worker, a coordinator and a landlord with one staff member."""
    from types import SimpleNamespace

    from app.permissions import Role
    from tests.factories import make_landlord, make_organisation, make_project, make_user

    t = SimpleNamespace()
    t.landlord = make_landlord(name="Rhône Habitat Test")
    t.association = make_organisation(name="Association Test")
    t.project = make_project(lead_landlord=t.landlord)
    t.worker = make_user(Role.TRAVAILLEUR_SOCIAL, organisation=t.association, projects=[t.project])
    t.colleague = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=t.association, projects=[t.project]
    )
    t.coordinator = make_user(Role.COORDINATEUR, organisation=t.association, projects=[t.project])
    t.landlord_staff = make_user(
        Role.PERSONNEL_BAILLEUR, organisation=t.landlord, projects=[t.project]
    )
    return t
