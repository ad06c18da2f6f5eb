"""Reminder rules, the sweep that applies them, and the daily digest.

A rule is one small unit: a code, a title, an audience, and one set-based query returning
the reminders that should exist today — columns ``household_id``, ``subject_id``, ``due_on``
(and ``landlord_id`` for the landlord's staff, ``title`` when the rule words it per row).
The sweep inserts what is missing (``ON CONFLICT DO NOTHING`` on the reminder's unique key,
so two sweeps never duplicate) and closes, as "résolu automatiquement", the open reminders
of the rule that the query no longer returns: the condition was resolved.

Rules never loop over households in Python; the queries scale with the number of reminders,
not of households (see ``benchmarks/bench_sweep.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Date, Select, case, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db, utcnow
from app.formatting import today_paris
from app.households.models import Household
from app.housing.models import Dwelling, LeaseReview, LeaseType, Occupancy
from app.permissions import Role
from app.reminders.models import OPEN_STATUSES, Reminder, ReminderStatus
from app.reminders.queries import current_settings

# --- date arithmetic that runs on SQLite and PostgreSQL ------------------------------------


def shift(expr, *, days: int = 0, months: int = 0):
    """``expr`` moved by whole months then days, as a SQL date. SQLite's ``date()`` rolls an
    overflowing day forward (31 Aug + 6 months = 3 Mar), PostgreSQL clamps it (28 Feb)."""
    if db.session.get_bind().dialect.name == "sqlite":
        modifiers = [f"{months:+d} months"] if months else []
        modifiers += [f"{days:+d} days"] if days else []
        return func.date(expr, *modifiers, type_=Date)
    return cast(expr + func.make_interval(0, months, 0, days), Date)


# --- rules -----------------------------------------------------------------------------------


class Audience(StrEnum):
    REFERENT = "referent"  # the household's référent (its coordinators when it has none)
    COORDINATEUR = "coordinateur"  # the coordinators of the household's project
    BAILLEUR = "bailleur"  # the staff of the dwelling's landlord


AUDIENCE_LABELS = {
    Audience.REFERENT: "Référent·e du ménage",
    Audience.COORDINATEUR: "Coordination du projet",
    Audience.BAILLEUR: "Personnel du bailleur",
}


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    audience: Audience
    query: Callable[[date, dict[str, int]], Select]
    description: str = ""

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]


def _current_bail_glissant():
    """Conditions of a bail glissant still running and not yet slid."""
    return (
        Occupancy.lease_type == LeaseType.BAIL_GLISSANT,
        Occupancy.end_on.is_(None),
        Occupancy.glissed_on.is_(None),
    )


def lease_review_due(today: date, s: dict[str, int]) -> Select:
    """Bail glissant: the tripartite review every N months — the date the last review set,
    else N months after the last review, else N months after the lease started."""
    months = s["lease_review_interval_months"]
    last = (
        select(
            LeaseReview.occupancy_id,
            func.max(LeaseReview.held_on).label("held_on"),
            func.max(LeaseReview.next_review_on).label("next_on"),
        )
        .group_by(LeaseReview.occupancy_id)
        .subquery()
    )
    due = case(
        (last.c.held_on.is_(None), shift(Occupancy.start_on, months=months)),
        (last.c.next_on > last.c.held_on, last.c.next_on),
        else_=shift(last.c.held_on, months=months),
    )
    candidates = (
        select(
            Occupancy.household_id.label("household_id"),
            Occupancy.id.label("subject_id"),
            due.label("due_on"),
        )
        .outerjoin(last, last.c.occupancy_id == Occupancy.id)
        .where(*_current_bail_glissant())
        .subquery()
    )
    horizon = today + timedelta(days=s["lease_review_lead_days"])
    return select(candidates).where(candidates.c.due_on <= horizon)


def glissement_target(today: date, s: dict[str, int]) -> Select:
    """Bail glissant: the target date of glissement approaches and the lease has not slid."""
    horizon = today + timedelta(days=s["glissement_lead_days"])
    return (
        select(
            Occupancy.household_id.label("household_id"),
            Occupancy.id.label("subject_id"),
            Occupancy.glissement_target_on.label("due_on"),
            Dwelling.landlord_id.label("landlord_id"),
        )
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(*_current_bail_glissant(), Occupancy.glissement_target_on <= horizon)
    )


# Every automatic rule, in the order the administration page lists them.
RULES: tuple[Rule, ...] = (
    Rule(
        "bail_glissant_bilan",
        "Bilan tripartite du bail glissant",
        Audience.REFERENT,
        lease_review_due,
        "Tous les 6 mois (réglable) après le début du bail ou le dernier bilan.",
    ),
    Rule(
        "glissement_cible",
        "Date cible de glissement du bail",
        Audience.BAILLEUR,
        glissement_target,
        "60 jours (réglable) avant la date cible, tant que le bail n'a pas glissé.",
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def rule_title(code: str) -> str:
    from app.reminders.models import MANUAL_RULE

    if code == MANUAL_RULE:
        return "Rappel personnel"
    rule = RULES_BY_CODE.get(code)
    return rule.title if rule else code


# --- the sweep ---------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    created: int = 0
    closed: int = 0
    readdressed: int = 0


def _recipient(rule: Rule, row) -> dict:
    if rule.audience == Audience.BAILLEUR:
        return {
            "recipient_user_id": None,
            "recipient_role": Role.PERSONNEL_BAILLEUR.value,
            "recipient_organisation_id": row.landlord_id,
        }
    if rule.audience == Audience.REFERENT and row.referent_id is not None:
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
        wanted[(row.subject_id, row.due_on)] = {
            "rule_code": rule.code,
            "household_id": row.household_id,
            "subject_id": row.subject_id,
            "due_on": row.due_on,
            "title": getattr(row, "title", None) or rule.title,
            **_recipient(rule, row),
        }
    return wanted


def _insert(rows: Iterable[dict], now: datetime) -> int:
    rows = [{**row, "status": ReminderStatus.A_FAIRE.value, "created_at": now} for row in rows]
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Reminder.__table__)
    statement = insert.on_conflict_do_nothing(
        index_elements=["rule_code", "subject_id", "due_on"]
    ).returning(Reminder.__table__.c.id)
    return len(db.session.execute(statement, rows).all())


RECIPIENT_FIELDS = ("recipient_user_id", "recipient_role", "recipient_organisation_id")


def apply_rule(
    rule: Rule,
    now: datetime,
    settings: dict[str, int] | None = None,
    *,
    household_id: int | None = None,
) -> RuleOutcome:
    """Bring the rule's reminders in line with the data (for one household, or all)."""
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
    outcome.created = _insert(wanted.values(), now)
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

    now = now or utcnow()
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


# --- the daily digest ------------------------------------------------------------------------


def _digest_recipients(today: date):
    """Active users who work with households and have not had today's digest yet."""
    from app.reminders.models import DigestSent
    from app.users.models import User, UserRole

    roles = [Role.COORDINATEUR.value, Role.TRAVAILLEUR_SOCIAL.value, Role.PERSONNEL_BAILLEUR.value]
    already = select(DigestSent.user_id).where(DigestSent.sent_on == today)
    return db.session.scalars(
        select(User)
        .where(
            User.is_active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))),
            User.id.not_in(already),
        )
        .order_by(User.id)
    ).all()


def digest_text(user, overdue: list[Reminder], due_today: list[Reminder], base_url: str) -> str:
    """The message: references, rule titles and dates only — never a name, a note or the free
    text of a manual reminder."""

    def line(reminder: Reminder) -> str:
        link = f"{base_url}/menages/{reminder.household_id}/rappels"
        return (
            f"- {reminder.shown_on:%d/%m/%Y} · {rule_title(reminder.rule_code)} · "
            f"ménage {reminder.household.reference}\n  {link}"
        )

    parts = [f"Bonjour {user.full_name},", ""]
    if overdue:
        parts += [f"En retard ({len(overdue)}) :", *map(line, overdue), ""]
    if due_today:
        parts += [f"Aujourd'hui ({len(due_today)}) :", *map(line, due_today), ""]
    parts += [
        f"Tous vos rappels : {base_url}/rappels/",
        "",
        "Ce message ne contient volontairement aucun détail sur les ménages : "
        "connectez-vous à Ancrage pour les consulter.",
    ]
    return "\n".join(parts)


def send_digests(now: datetime | None = None) -> dict:
    """E-mail each user what is due today and overdue, at most once per user and per day.

    Each user's marker (``reminder_digest_sent``) is committed *before* the message leaves,
    so a second run the same day — or a crash after sending — never sends it twice; if the
    SMTP server refuses, the marker is removed so a later run may try again."""
    from flask import current_app
    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError

    from app.mail import send_mail
    from app.reminders.models import DigestSent
    from app.reminders.queries import my_open_reminders, shown_on

    now = now or utcnow()
    today = today_paris(now)
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    sent = failed = 0
    for user in _digest_recipients(today):
        due = db.session.scalars(my_open_reminders(user).where(shown_on <= today)).all()
        if not due:
            continue
        overdue = [r for r in due if r.shown_on < today]
        due_today = [r for r in due if r.shown_on == today]
        marker = DigestSent(user_id=user.id, sent_on=today, sent_at=now, item_count=len(due))
        db.session.add(marker)
        try:
            db.session.commit()
        except IntegrityError:  # another run claimed this user today
            db.session.rollback()
            continue
        subject = f"Ancrage · {len(due)} rappel(s) à traiter"
        if overdue:
            subject += f", dont {len(overdue)} en retard"
        try:
            send_mail(user.email, subject, digest_text(user, overdue, due_today, base_url))
        except Exception:
            current_app.logger.exception("digest to user %s not sent", user.id)
            db.session.execute(delete(DigestSent).where(DigestSent.id == marker.id))
            db.session.commit()
            failed += 1
        else:
            sent += 1
    return {"sent": sent, "failed": failed, "today": today.isoformat()}
