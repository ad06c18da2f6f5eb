"""The reminder jobs: the sweep that applies the rules, and the daily digest.

The rules themselves (which reminders are due) live in ``app.reminders.rules``; the digest's
message and its delivery records in ``app.reminders.digest``. The scheduler runs
``sweep`` hourly and ``send_digests`` from 07:30 (``app.scheduler.JOBS``).

The sweep inserts what is missing (``ON CONFLICT DO NOTHING`` on the reminder's unique key,
so two sweeps never duplicate) and closes, as "résolu automatiquement", the open reminders
of the rule that the query no longer returns: the condition was resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)

from app import clock
from app.db import db
from app.formatting import today_paris
from app.households.models import Household
from app.permissions import Role
from app.reminders.digest import (
    DIGEST_KEEP_DAYS,
    claim_digest,
    digest_content,
    digest_recipients,
    settle_digest,
    settled_digests,
    skip_digest,
)
from app.reminders.models import (
    OPEN_STATUSES,
    DigestDelivery,
    Reminder,
    ReminderStatus,
)
from app.reminders.queries import current_settings
from app.reminders.rules import RULES, Recipient, Rule
from app.sql import insert_new

# --- the sweep ---------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    created: int = 0
    closed: int = 0
    readdressed: int = 0


def _recipient(rule: Rule, row) -> dict:
    if rule.recipient == Recipient.BAILLEUR:
        return {
            "recipient_user_id": None,
            "recipient_role": Role.PERSONNEL_BAILLEUR.value,
            "recipient_organisation_id": row.landlord_id,
        }
    if rule.recipient == Recipient.REFERENT and row.referent_id is not None:
        return {
            "recipient_user_id": row.referent_id,
            "recipient_role": None,
            "recipient_organisation_id": None,
        }
    return {
        "recipient_user_id": None,
        "recipient_role": Role.COORDINATEUR.value,
        "recipient_organisation_id": None,
    }


def _wanted(rule: Rule, today: date, settings: dict[str, int], household_id: int | None):
    """The reminders the rule wants today, keyed by (subject_id, due_on)."""
    found = rule.query(today, settings).subquery()
    query = (
        select(found, Household.referent_id)
        .join(Household, Household.id == found.c.household_id)
        .where(Household.anonymised_at.is_(None))
    )
    if household_id is not None:
        query = query.where(Household.id == household_id)
    wanted = {}
    for row in db.session.execute(query):
        due_on, title = row.due_on, getattr(row, "title", None) or rule.title
        if rule.refine is not None:
            refined = rule.refine(row, today, settings)
            if refined is None:
                continue
            due_on, title = refined
        wanted[(row.subject_id, due_on)] = {
            "rule_code": rule.code,
            "household_id": row.household_id,
            "subject_id": row.subject_id,
            "due_on": due_on,
            "title": title,
            **_recipient(rule, row),
        }
    return wanted


def _insert(rows: Iterable[dict], now: datetime) -> int:
    rows = [{**row, "status": ReminderStatus.A_FAIRE.value, "created_at": now} for row in rows]
    if not rows:
        return 0
    statement = insert_new(Reminder.__table__, keys=("rule_code", "subject_id", "due_on"))
    statement = statement.returning(Reminder.__table__.c.id)
    return len(db.session.execute(statement, rows).all())


RECIPIENT_FIELDS = ("recipient_user_id", "recipient_role", "recipient_organisation_id")


def apply_rule(
    rule: Rule,
    now: datetime,
    settings: dict[str, int] | None = None,
    *,
    household_id: int | None = None,
    create: bool = True,
) -> RuleOutcome:
    """Bring the rule's reminders in line with the data (for one household, or all). With
    ``create=False`` it only closes what the data resolved and re-addresses what moved."""
    today = today_paris(now)
    settings = settings or current_settings()
    wanted = _wanted(rule, today, settings, household_id)
    outcome = RuleOutcome()
    open_query = select(
        Reminder.id,
        Reminder.subject_id,
        Reminder.due_on,
        Reminder.recipient_user_id,
        Reminder.recipient_role,
        Reminder.recipient_organisation_id,
    ).where(Reminder.rule_code == rule.code, Reminder.status.in_(OPEN_STATUSES))
    if household_id is not None:
        open_query = open_query.where(Reminder.household_id == household_id)
    resolved, readdress = [], []
    for row in db.session.execute(open_query):
        target = wanted.get((row.subject_id, row.due_on))
        if target is None:
            resolved.append(row.id)
        elif any(getattr(row, f) != target[f] for f in RECIPIENT_FIELDS):
            readdress.append((row.id, {f: target[f] for f in RECIPIENT_FIELDS}))
    outcome.created = _insert(wanted.values(), now) if create else 0
    outcome.closed = close_resolved(resolved, now)
    for reminder_id, recipient in readdress:  # a reassigned household: few rows
        db.session.execute(update(Reminder).where(Reminder.id == reminder_id).values(**recipient))
    outcome.readdressed = len(readdress)
    return outcome


def close_resolved(reminder_ids: list[int], now: datetime) -> int:
    if not reminder_ids:
        return 0
    closed = 0
    for start in range(0, len(reminder_ids), 500):
        chunk = reminder_ids[start : start + 500]
        closed += db.session.execute(
            update(Reminder)
            .where(Reminder.id.in_(chunk), Reminder.status.in_(OPEN_STATUSES))
            .values(
                status=ReminderStatus.FAIT.value,
                closed_at=now,
                closed_by_id=None,
                is_resolved_automatically=True,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return closed


def sweep(now: datetime | None = None) -> dict:
    """Apply every rule once. Returns counts per rule (kept in ``job_run.summary``)."""
    from app.audit.services import record

    now = now or clock.now()
    settings = current_settings()
    summary = {}
    for rule in RULES:
        outcome = apply_rule(rule, now, settings)
        summary[rule.code] = [outcome.created, outcome.closed]
    totals = {
        "created": sum(c for c, _ in summary.values()),
        "closed": sum(c for _, c in summary.values()),
    }
    record(None, "reminder.swept", details=totals, now=now)
    db.session.expire_all()
    return {**totals, "rules": summary, "today": today_paris(now).isoformat()}


def send_digests(now: datetime | None = None, *, day: date | None = None) -> dict:
    """E-mail each user what is due on ``day`` (by default the Paris day of ``now``) and
    overdue, at most once per user and day, retrying failed sends at later runs.

    Unlike other jobs this one commits, once per user: the delivery record is claimed
    (``pending``) and committed before the message leaves, and settled (``sent`` or
    ``failed``) after, so that the SMTP conversation never happens inside a database
    transaction and a crash never sends a message twice. One user's failure does not stop
    the others. Returns counts (kept in ``job_run.summary``)."""
    from flask import current_app

    from app.mail import build_message, error_label, send_message
    from app.reminders.queries import my_open_reminders, shown_on
    from app.users.models import User

    now = now or clock.now()
    day = day or today_paris(now)
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    db.session.execute(
        delete(DigestDelivery).where(DigestDelivery.day < day - timedelta(days=DIGEST_KEEP_DAYS))
    )
    earlier = db.session.scalar(select(func.count()).select_from(settled_digests(day).subquery()))
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for user_id in digest_recipients(day):
        user = db.session.get(User, user_id)
        due = db.session.scalars(my_open_reminders(user).where(shown_on <= day)).unique().all()
        if not due:
            counts["skipped"] += skip_digest(user_id, day, now)
            continue
        content = digest_content(user, due, day, base_url)
        message = build_message(user.email, content.subject, content.text, html=content.html)
        delivery_id = claim_digest(user_id, day, now, content.item_count)
        if delivery_id is None:
            continue
        # No database access from here until the outcome is written.
        try:
            send_message(message)
        except Exception as error:  # any failure is recorded, and retried by a later run
            label = error_label(error)
            current_app.logger.warning("digest to user %s not sent: %s", user_id, label)
            settle_digest(delivery_id, now, label)
            counts["failed"] += 1
        else:
            settle_digest(delivery_id, now, None)
            counts["sent"] += 1
    db.session.commit()
    # "earlier": users whose day was settled before this run (sent, nothing due, being sent,
    # or out of attempts), left alone.
    return {**counts, "earlier": earlier, "today": day.isoformat()}
