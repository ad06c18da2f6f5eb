"""The coordinators' one write: handing households over to another référent.

The view loads the households through ``queries.scoped_households`` (the viewer's scope) and
refuses the whole batch when a submitted id falls outside it; this service then names the
référent of each household through ``app.households.services.assign_referent`` (its rules
and its audit entry), records the reason once per household and leaves the new référent a
"prendre contact" reminder. It never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError
from app.formatting import today_paris
from app.households.services import assign_referent
from app.reminders.models import OPEN_STATUSES, REASSIGNMENT_RULE, Reminder, ReminderStatus
from app.users.models import User

REASON_MAX = 300
# The reminder left to the new référent: make contact within a week.
CONTACT_RULE = REASSIGNMENT_RULE
CONTACT_WITHIN_DAYS = 7
CONTACT_TITLE = "Prendre contact avec le ménage qui vous est confié"


def reassign_households(
    actor, households, *, new_referent_id: int | None, reason: str | None, now: datetime | None
):
    """Make ``new_referent_id`` the référent of every household in ``households``. Returns
    the households actually changed (those already followed by them are left as they are)."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not households:
        raise DomainError("Cochez au moins un ménage à réaffecter.", field="household_ids")
    if not reason:
        raise DomainError("Indiquez le motif de la réaffectation.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"{REASON_MAX} caractères au plus.", field="reason")
    referent = db.session.get(User, new_referent_id) if new_referent_id else None
    if referent is None:
        raise DomainError("Choisissez le ou la nouvelle référent·e.", field="new_referent_id")
    changed = []
    for household in households:
        previous = household.referent_id
        if previous == referent.id:
            continue
        assign_referent(actor, household, referent=referent, expected_version=household.version)
        reminder = _contact_reminder(actor, household, referent, now)
        record(
            actor,
            "reports.reassigned",
            household_id=household.id,
            target=household,
            details={
                "from_user_id": previous,
                "to_user_id": referent.id,
                "reason": reason,
                "batch_size": len(households),
                "reminder_id": reminder.id,
            },
            now=now,
        )
        changed.append(household)
    return changed


def _contact_reminder(actor, household, referent, now: datetime) -> Reminder:
    """The new référent's reminder to make contact. A household handed over twice the same
    day keeps one reminder, addressed to the last référent; an earlier one still open (the
    previous référent's) is closed, as it no longer concerns them."""
    due_on = today_paris(now) + timedelta(days=CONTACT_WITHIN_DAYS)
    earlier = db.session.scalars(
        select(Reminder).where(
            Reminder.rule_code == CONTACT_RULE,
            Reminder.subject_id == household.id,
            Reminder.status.in_(OPEN_STATUSES),
            Reminder.due_on != due_on,
        )
    )
    for reminder in earlier:
        reminder.status = ReminderStatus.FAIT
        reminder.closed_at = now
        reminder.is_resolved_automatically = True
    reminder = db.session.scalar(
        select(Reminder).where(
            Reminder.rule_code == CONTACT_RULE,
            Reminder.subject_id == household.id,
            Reminder.due_on == due_on,
        )
    )
    if reminder is None:
        reminder = Reminder(
            rule_code=CONTACT_RULE,
            household_id=household.id,
            subject_id=household.id,
            due_on=due_on,
            created_at=now,
            created_by_id=actor.id,
        )
        db.session.add(reminder)
    reminder.title = CONTACT_TITLE
    reminder.recipient_user_id = referent.id
    reminder.recipient_role = None
    reminder.recipient_organisation_id = None
    reminder.status = ReminderStatus.A_FAIRE
    reminder.postponed_to = None
    reminder.closed_at = None
    reminder.closed_by_id = None
    reminder.is_resolved_automatically = False
    db.session.flush()
    return reminder
