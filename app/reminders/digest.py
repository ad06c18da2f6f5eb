"""The daily digest's message and its delivery records (one per user and day).

``send_digests`` in ``app.reminders.jobs`` is the job; this module says what a user's
message holds and claims, settles or skips their delivery record for the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Select,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.db import db
from app.permissions import Role
from app.reminders.models import (
    DIGEST_MAX_ATTEMPTS,
    DigestDelivery,
    DigestState,
    Reminder,
)
from app.reminders.rules import rule_title

# Delivery records older than this are deleted by the next digest run: they only serve to
# keep a day to one message and to show recent failures.
DIGEST_KEEP_DAYS = 90
DIGEST_ROLES = (Role.COORDINATEUR, Role.TRAVAILLEUR_SOCIAL, Role.PERSONNEL_BAILLEUR)


@dataclass(frozen=True)
class DigestContent:
    subject: str
    text: str
    html: str
    item_count: int


def settled_digests(day: date) -> Select:
    """The users whose digest of ``day`` needs nothing more: sent, nothing due, being sent
    (a sender that died mid-way is not second-guessed), or failed too many times."""
    return select(DigestDelivery.user_id).where(
        DigestDelivery.day == day,
        or_(
            DigestDelivery.state != DigestState.FAILED,
            DigestDelivery.attempts >= DIGEST_MAX_ATTEMPTS,
        ),
    )


def digest_recipients(day: date) -> list[int]:
    """Active users who work with households and whose digest of ``day`` is still to be
    sent: no delivery record yet, or a failed one with attempts left."""
    from app.users.models import User, UserRole

    settled = settled_digests(day)
    return list(
        db.session.scalars(
            select(User.id)
            .where(
                User.is_active.is_(True),
                User.id.in_(
                    select(UserRole.user_id).where(
                        UserRole.role.in_([role.value for role in DIGEST_ROLES])
                    )
                ),
                User.id.not_in(settled),
            )
            .order_by(User.id)
        )
    )


def digest_content(user, due: list[Reminder], day: date, base_url: str) -> DigestContent:
    """The message: rule titles, household references, dates and links only — never a
    household member's name, a note or the free text of a manual reminder. ``due`` holds the
    user's open reminders shown on ``day`` or before (what they may see, through
    ``my_open_reminders``)."""
    from flask import render_template

    def item(reminder: Reminder) -> dict:
        if reminder.household_id is None:  # a notice to coordinators: no household
            return {
                "shown_on": reminder.shown_on,
                "title": rule_title(reminder.rule_code),
                "reference": None,
                "link": f"{base_url}/rappels/",
            }
        return {
            "shown_on": reminder.shown_on,
            "title": rule_title(reminder.rule_code),
            "reference": reminder.household.reference,
            "link": f"{base_url}/menages/{reminder.household_id}/rappels",
        }

    overdue = [item(r) for r in due if r.shown_on < day]
    due_today = [item(r) for r in due if r.shown_on >= day]
    subject = f"Ancrage · {len(due)} rappel(s) à traiter"
    if overdue:
        subject += f", dont {len(overdue)} en retard"
    context = {
        "user_name": user.full_name,
        "day": day,
        "overdue": overdue,
        "due_today": due_today,
        "inbox_link": f"{base_url}/rappels/",
    }
    return DigestContent(
        subject=subject,
        text=render_template("reminders/digest_email.txt", **context),
        html=render_template("reminders/digest_email.html", **context),
        item_count=len(due),
    )


def claim_digest(user_id: int, day: date, now: datetime, item_count: int) -> int | None:
    """Mark the user's digest of ``day`` as being sent, and commit, before it leaves: two
    runs at once never both send it. Returns the delivery id, or None when another run has
    it (or it is settled)."""
    existing = db.session.scalar(
        select(DigestDelivery.id).where(
            DigestDelivery.user_id == user_id, DigestDelivery.day == day
        )
    )
    if existing is None:
        delivery = DigestDelivery(
            user_id=user_id,
            day=day,
            state=DigestState.PENDING,
            attempts=1,
            item_count=item_count,
            updated_at=now,
        )
        try:
            with db.session.begin_nested():  # a lost race leaves the run's other work intact
                db.session.add(delivery)
        except IntegrityError:
            return None
        claimed = delivery.id
    else:
        retried = db.session.execute(
            update(DigestDelivery)
            .where(
                DigestDelivery.id == existing,
                DigestDelivery.state == DigestState.FAILED,
                DigestDelivery.attempts < DIGEST_MAX_ATTEMPTS,
            )
            .values(
                state=DigestState.PENDING,
                attempts=DigestDelivery.attempts + 1,
                item_count=item_count,
                updated_at=now,
            )
        )
        claimed = existing if retried.rowcount == 1 else None
    db.session.commit()
    return claimed


def settle_digest(delivery_id: int, now: datetime, error: str | None) -> None:
    values = (
        {"state": DigestState.SENT, "sent_at": now, "last_error": None}
        if error is None
        else {"state": DigestState.FAILED, "last_error": error}
    )
    db.session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(updated_at=now, **values)
    )
    db.session.commit()
    metrics.record_digest("sent" if error is None else "failed")


def skip_digest(user_id: int, day: date, now: datetime) -> bool:
    """Nothing due for this user on ``day``: say so, once (a failed record becomes skipped
    when what was due has been dealt with in the meantime). False when another run recorded
    it first."""
    changed = db.session.execute(
        update(DigestDelivery)
        .where(
            DigestDelivery.user_id == user_id,
            DigestDelivery.day == day,
            DigestDelivery.state == DigestState.FAILED,
        )
        .values(state=DigestState.SKIPPED, item_count=0, updated_at=now)
    ).rowcount
    recorded = bool(changed)
    if not changed:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DigestDelivery(
                        user_id=user_id,
                        day=day,
                        state=DigestState.SKIPPED,
                        attempts=0,
                        item_count=0,
                        updated_at=now,
                    )
                )
            recorded = True
        except IntegrityError:
            pass  # another run recorded this user's day first
    db.session.commit()
    return recorded
