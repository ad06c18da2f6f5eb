"""Reminder actions: manual reminders, done, postponed, thresholds, calendar address, and the
hook other domains call when they resolve a reminder's condition. Services never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import delete, select

from app import bounds
from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError
from app.formatting import today_paris
from app.permissions import Role
from app.reminders.models import (
    MANUAL_RULE,
    PARTNER_CORRECTION_RULE,
    PROJECT_ACCESS_RULE,
    SETTINGS,
    CalendarFeed,
    Reminder,
    ReminderSetting,
    ReminderStatus,
)

TITLE_MAX = 200


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def create_manual_reminder(
    actor, household, *, title: str, due_on: date, now: datetime | None = None
) -> Reminder:
    """A reminder the actor sets for themself about a household they can see (the view loads
    ``household`` through ``get_household_or_404``)."""
    now = now or utcnow()
    title = _clean(title)
    if title is None:
        raise DomainError("Indiquez ce qu'il faudra faire.", field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(f"{TITLE_MAX} caractères au plus.", field="title")
    if due_on is None:
        raise DomainError("Indiquez la date du rappel.", field="due_on")
    if due_on < today_paris(now):
        raise DomainError(
            "La date est passée : choisissez aujourd'hui ou une date à venir.", field="due_on"
        )
    bounds.check_planned(due_on, today_paris(now), field="due_on")
    reminder = Reminder(
        rule_code=MANUAL_RULE,
        household_id=household.id,
        subject_id=None,
        title=title,
        due_on=due_on,
        recipient_user_id=actor.id,
        status=ReminderStatus.A_FAIRE,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(reminder)
    record(actor, "reminder.created", household_id=household.id, target=reminder, now=now)
    return reminder


# --- notices for coordinators (no household) ------------------------------------------------


def _notice(actor, *, rule_code: str, title: str, body: str, now: datetime, **recipient):
    notice = Reminder(
        rule_code=rule_code,
        household_id=None,
        subject_id=None,  # NULLs never collide: each event leaves its own notice
        title=title[:TITLE_MAX],
        body=body,
        due_on=today_paris(now),
        recipient_role=Role.COORDINATEUR.value,
        status=ReminderStatus.A_FAIRE,
        created_at=now,
        created_by_id=actor.id,
        **recipient,
    )
    db.session.add(notice)
    return notice


def notify_project_access(
    actor, user, projects, *, added_roles=None, now: datetime | None = None
) -> list:
    """Tell the coordinators of each of ``projects`` that ``user`` was given access to it, or,
    with ``added_roles``, that ``user``'s access to it was widened by these new roles
    (called by ``app.users.services``; the notice is seen by the coordinators who work on
    the project, whatever their organisation)."""
    from app.organisations.models import Organisation
    from app.permissions import Role

    now = now or utcnow()
    organisation = db.session.get(Organisation, user.organisation_id)
    who = f"{user.full_name} ({organisation.name if organisation else '—'}, {user.role_labels})"
    if added_roles:
        labels = ", ".join(sorted(Role(role).label for role in added_roles))
        verb = "élargi pour"
        body = (
            f"{who} : rôle {labels} ajouté par {actor.full_name}. Si ce changement "
            "n'était pas prévu, signalez-le à l'administrateur."
        )
    else:
        verb = "donné à"
        body = (
            f"{who} : accès donné par {actor.full_name}. Si cet accès n'était pas prévu, "
            "signalez-le à l'administrateur."
        )
    notices = [
        _notice(
            actor,
            rule_code=PROJECT_ACCESS_RULE,
            title=f"Accès au projet « {project.name} » {verb} {user.full_name}",
            body=body,
            now=now,
            project_id=project.id,
        )
        for project in projects
    ]
    db.session.flush()
    return notices


def notify_partner_correction(actor, partner, message: str, *, now: datetime | None = None):
    """Tell the coordinators of the organisation that owns ``partner`` that ``actor``
    proposes a correction (called by ``app.partners.services.propose_correction``)."""
    now = now or utcnow()
    notice = _notice(
        actor,
        rule_code=PARTNER_CORRECTION_RULE,
        title=f"Correction proposée pour « {partner.name} » dans l'annuaire",
        body=f"Proposée par {actor.full_name} : {message}",
        now=now,
        recipient_organisation_id=partner.owner_organisation_id,
    )
    db.session.flush()
    return notice


def _require_open(reminder: Reminder) -> None:
    if not reminder.is_open:
        raise DomainError("Ce rappel est déjà clos.")


def mark_done(
    actor, reminder: Reminder, *, note: str | None = None, now: datetime | None = None
) -> Reminder:
    """Close a reminder by hand. A yearly insurance certificate closes the older open ones
    of the same household and addressee with it: the inbox shows them as one line, and the
    latest certificate received stands for the earlier years."""
    from app.reminders.triage import older_insurance

    now = now or utcnow()
    _require_open(reminder)
    older = older_insurance(reminder)
    for each in (reminder, *older):
        _close_by_hand(actor, each, _clean(note), now)
    details = {"rule": reminder.rule_code, "has_note": reminder.done_note is not None}
    if older:
        details["older_closed"] = len(older)
    record(
        actor,
        "reminder.done",
        household_id=reminder.household_id,
        target=reminder,
        details=details,
        now=now,
    )
    return reminder


def _close_by_hand(actor, reminder: Reminder, note: str | None, now: datetime) -> None:
    reminder.status = ReminderStatus.FAIT
    reminder.done_note = note
    reminder.closed_at = now
    reminder.closed_by_id = actor.id
    reminder.is_resolved_automatically = False


BULK_MAX = 200


def mark_many_done(actor, reminders: list[Reminder], requested: int, *, note=None, now=None) -> int:
    """Close several reminders at once, all or nothing: ``reminders`` are those of the
    ``requested`` ids that the view found in the actor's scope; if any is missing or already
    closed, nothing is changed."""
    now = now or utcnow()
    if requested == 0:
        raise DomainError("Cochez au moins un rappel.")
    if requested > BULK_MAX:
        raise DomainError(f"{BULK_MAX} rappels au plus à la fois.")
    if len(reminders) != requested or any(not r.is_open for r in reminders):
        raise DomainError(
            "Certains rappels cochés ne vous sont pas adressés ou sont déjà clos : "
            "rien n'a été modifié. Rechargez la page et recommencez."
        )
    if len(note := _clean(note) or "") > 1000:
        raise DomainError("1000 caractères au plus pour la note.", field="note")
    for reminder in reminders:
        if reminder.is_open:  # an older insurance reminder closed with its latest
            mark_done(actor, reminder, note=note, now=now)
    return len(reminders)


def postpone(
    actor,
    reminder: Reminder,
    *,
    new_date: date | None,
    reason: str | None,
    now: datetime | None = None,
) -> Reminder:
    """Move an open reminder to a later day; a reason is required."""
    now = now or utcnow()
    _require_open(reminder)
    if new_date is None:
        raise DomainError("Indiquez la nouvelle date.", field="new_date")
    if new_date <= today_paris(now):
        raise DomainError("Choisissez une date à venir (après aujourd'hui).", field="new_date")
    bounds.check_planned(new_date, today_paris(now), field="new_date")
    reason = _clean(reason)
    if reason is None:
        raise DomainError("Indiquez pourquoi le rappel est reporté.", field="reason")
    reminder.status = ReminderStatus.REPORTE
    reminder.postponed_to = new_date
    reminder.postpone_reason = reason
    record(
        actor,
        "reminder.postponed",
        household_id=reminder.household_id,
        target=reminder,
        details={"rule": reminder.rule_code, "postponed_to": new_date.isoformat()},
        now=now,
    )
    return reminder


def resolve_for_household(household_id: int, rule_codes=None, now: datetime | None = None) -> int:
    """Re-check the rules (``rule_codes``, or all) for one household at once, closing the
    reminders whose condition no longer holds. Other domains call it right after the action
    that resolves a condition — ``record_visit`` does — so the reminder is gone without
    waiting for the next hourly sweep. It never opens new reminders (the sweep's job), so
    entering a backlog of past visits leaves no trail of reminders opened and closed at
    once. Returns how many reminders it closed."""
    from app.reminders.jobs import apply_rule
    from app.reminders.queries import current_settings
    from app.reminders.rules import RULES

    now = now or utcnow()
    db.session.flush()
    settings = current_settings()
    return sum(
        apply_rule(rule, now, settings, household_id=household_id, create=False).closed
        for rule in RULES
        if rule_codes is None or rule.code in rule_codes
    )


# --- thresholds ------------------------------------------------------------------------


def update_settings(actor, values: dict[str, int], *, now: datetime | None = None) -> list[str]:
    """Save the thresholds that differ from what is in force; returns the changed keys."""
    from app.reminders.queries import current_settings

    now = now or utcnow()
    current = current_settings()
    specs = {spec.key: spec for spec in SETTINGS}
    changed = []
    for key, value in values.items():
        spec = specs[key]
        if value is None or not spec.minimum <= value <= spec.maximum:
            raise DomainError(f"Entre {spec.minimum} et {spec.maximum} {spec.unit}.", field=key)
        if value == current[key]:
            continue
        row = db.session.get(ReminderSetting, key)
        if row is None:
            row = ReminderSetting(key=key)
            db.session.add(row)
        row.value = value
        row.updated_at = now
        row.updated_by_id = actor.id
        changed.append(key)
    if changed:
        record(actor, "reminder.settings_changed", details={"keys": changed}, now=now)
    return changed


# --- calendar address ------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_calendar_feed(actor, *, now: datetime | None = None) -> str:
    """Give the actor a new secret calendar address (replacing any previous one) and return
    its token: it is shown once and only its hash is kept."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)  # 32 random bytes
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == actor.id))
    if feed is None:
        feed = CalendarFeed(user_id=actor.id)
        db.session.add(feed)
    feed.token_hash = token_hash(token)
    feed.created_at = now
    feed.last_used_at = None
    record(actor, "calendar.created", target=feed, now=now)
    return token


def revoke_calendar_feed(actor, *, now: datetime | None = None) -> bool:
    deleted = db.session.execute(
        delete(CalendarFeed).where(CalendarFeed.user_id == actor.id)
    ).rowcount
    if deleted:
        record(actor, "calendar.revoked", now=now or utcnow())
    return bool(deleted)
