"""A visit's or contact's "Prochaine action" as a reminder for its author.

The interventions domain sits below reminders: it calls ``intervention_saved`` through the
household file registry (``provided("intervention_saved")``) each time an intervention is
recorded, corrected, marked or unmarked as a duplicate. Services never commit.

- A next action opens a reminder addressed to the intervention's author, due on its date —
  or, without a date, ``UNDATED_DAYS`` after the visit (never before today): a worker who
  writes down a next action expects to be reminded of it.
- It is closed by the next contact with the household (a later or same-day visit, call…;
  not a missed appointment), by hand, or when the intervention is marked as a duplicate or
  its next action removed (unmarking a duplicate does not reopen it). Editing the next
  action's date moves the open reminder; editing its text changes nothing more (the
  reminder shows the intervention's current text).
- Its title stays generic (``NEXT_ACTION_TITLE``): the text is social content, shown from
  the intervention only to those who may read it (``next_action_texts``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.db import db, utcnow
from app.formatting import today_paris
from app.interventions.models import Intervention, InterventionMode
from app.reminders.models import (
    NEXT_ACTION_RULE,
    NEXT_ACTION_TITLE,
    OPEN_STATUSES,
    Reminder,
    ReminderStatus,
)

# A next action written without a date comes back a week after the visit.
UNDATED_DAYS = 7


def due_on_for(intervention: Intervention, today: date) -> date | None:
    """When the next action's reminder is due, or None when there is nothing to remind."""
    if intervention.is_duplicate or not intervention.next_action:
        return None
    if intervention.next_action_on is not None:
        return intervention.next_action_on
    return max(intervention.occurred_on + timedelta(days=UNDATED_DAYS), today)


def _is_contact(intervention: Intervention) -> bool:
    return not intervention.is_duplicate and intervention.mode != InterventionMode.RDV_NON_HONORE


def _later_contact_exists(intervention: Intervention) -> bool:
    """A contact with the household after this intervention was already recorded (a backlog
    typed in after the fact): its next action has been dealt with."""
    query = select(Intervention.id).where(
        Intervention.household_id == intervention.household_id,
        Intervention.id != intervention.id,
        Intervention.occurred_on > intervention.occurred_on,
        Intervention.is_duplicate.is_(False),
        Intervention.mode != InterventionMode.RDV_NON_HONORE,
    )
    return db.session.scalar(query.limit(1)) is not None


def _reminders_of(intervention_id: int):
    return select(Reminder).where(
        Reminder.rule_code == NEXT_ACTION_RULE, Reminder.subject_id == intervention_id
    )


def close_by_contact(contact: Intervention, now: datetime) -> int:
    """A contact was recorded: close the household's open next-action reminders set by
    interventions up to that day (not the contact's own)."""
    earlier = select(Intervention.id).where(
        Intervention.household_id == contact.household_id,
        Intervention.id != contact.id,
        Intervention.occurred_on <= contact.occurred_on,
    )
    reminders = db.session.scalars(
        select(Reminder).where(
            Reminder.rule_code == NEXT_ACTION_RULE,
            Reminder.household_id == contact.household_id,
            Reminder.status.in_(OPEN_STATUSES),
            Reminder.subject_id.in_(earlier),
        )
    ).all()
    return _close(reminders, now)


def _close(reminders, now: datetime) -> int:
    """Close automatically (the few reminders of one household)."""
    for reminder in reminders:
        reminder.status = ReminderStatus.FAIT
        reminder.closed_at = now
        reminder.closed_by_id = None
        reminder.is_resolved_automatically = True
    return len(reminders)


def sync_reminder(actor, intervention: Intervention, now: datetime) -> Reminder | None:
    """Bring the intervention's next-action reminder in line with it: open, move or close."""
    today = today_paris(now)
    due = due_on_for(intervention, today)
    reminders = db.session.scalars(_reminders_of(intervention.id)).all()
    open_ones = [r for r in reminders if r.is_open]
    if due is None or intervention.author_id is None:
        _close(open_ones, now)
        return None
    same_day = next((r for r in reminders if r.due_on == due), None)
    if open_ones:
        kept = open_ones[0]
        if kept.due_on != due:
            if same_day is not None:  # back to a date closed before: reopen that one
                _close([kept], now)
                kept = _reopen(same_day)
            else:
                kept.due_on, kept.postponed_to, kept.postpone_reason = due, None, None
                kept.status = ReminderStatus.A_FAIRE
        _close([r for r in open_ones if r is not kept], now)
        return kept
    if same_day is not None or _later_contact_exists(intervention):
        return None  # done already for that date, or overtaken by a later contact
    reminder = Reminder(
        rule_code=NEXT_ACTION_RULE,
        household_id=intervention.household_id,
        subject_id=intervention.id,
        title=NEXT_ACTION_TITLE,
        due_on=due,
        recipient_user_id=intervention.author_id,
        status=ReminderStatus.A_FAIRE,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(reminder)
    return reminder


def _reopen(reminder: Reminder) -> Reminder:
    reminder.status = ReminderStatus.A_FAIRE
    reminder.closed_at = reminder.closed_by_id = None
    reminder.postponed_to = reminder.postpone_reason = None
    reminder.is_resolved_automatically = False
    return reminder


def intervention_saved(actor, intervention: Intervention, *, is_new: bool = False) -> None:
    """Called by the interventions domain after it recorded (``is_new``), corrected, or
    marked/unmarked an intervention (provided as ``intervention_saved``)."""
    now = utcnow()
    db.session.flush()
    if is_new and _is_contact(intervention):
        close_by_contact(intervention, now)
    sync_reminder(actor, intervention, now)
    db.session.flush()


def next_action_texts(user, reminders) -> dict[int, str]:
    """The next action's text for each next-action reminder of ``reminders`` — only when
    ``user`` may read it (never landlord staff): ``{reminder id: text}``."""
    from app.audience import can_read

    subjects = {r.subject_id: r.id for r in reminders if r.is_next_action and r.subject_id}
    if not subjects or not can_read(user, Intervention.next_action):
        return {}
    rows = db.session.execute(
        select(Intervention.id, Intervention.next_action).where(Intervention.id.in_(subjects))
    )
    return {subjects[id_]: text for id_, text in rows if text}
