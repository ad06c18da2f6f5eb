"""Demo reminders: next actions on the latest visits, then one sweep over the demo data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.formatting import today_paris
from app.interventions.models import Intervention, InterventionMode
from app.reminders.jobs import sweep
from app.reminders.next_actions import sync_reminder

DEMO_NEXT_ACTIONS = (
    "Rappeler le ménage pour le dossier FSL",
    "Accompagner à la CAF pour la mise à jour de l'APL",
    "Vérifier l'envoi de l'attestation d'assurance",
    "Préparer le bilan avec le bailleur",
    "Relancer la demande d'aide au mobilier",
)


def _reminders() -> None:
    """A next action on the latest contact of every third household (some overdue, some
    today, most ahead), each opening its reminder; then one reminder sweep, so every account
    opens an inbox that matches the data (the scheduler started by ``make run`` keeps it
    current). Idempotent: a second run adds nothing."""
    _next_actions()
    sweep()


def _next_actions() -> None:
    now = utcnow()
    today = today_paris(now)
    latest = (
        select(func.max(Intervention.id))
        .where(
            Intervention.is_duplicate.is_(False),
            Intervention.mode != InterventionMode.RDV_NON_HONORE,
            Intervention.author_id.is_not(None),
        )
        .group_by(Intervention.household_id)
    )
    visits = db.session.scalars(
        select(Intervention).where(Intervention.id.in_(latest)).order_by(Intervention.household_id)
    ).all()
    for index, visit in enumerate(visits[::3]):
        if visit.next_action is None:
            visit.next_action = DEMO_NEXT_ACTIONS[index % len(DEMO_NEXT_ACTIONS)]
            visit.next_action_on = max(visit.occurred_on, today + timedelta(days=index % 12 - 2))
        sync_reminder(None, visit, now)
    db.session.flush()
