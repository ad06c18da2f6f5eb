"""Reads of visits and contacts.

A missed appointment (``rdv_non_honore``) is an attempt, not a contact: every "last contact"
read below leaves it out. Helpers for other domains return ``Select``s built on SQL aggregates
(one row per household); see docs/development.md.
"""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import Select, func, select

from app.db import db
from app.formatting import today_paris
from app.interventions.models import NOT_A_CONTACT, Intervention
from app.interventions.services import can_share_with_landlord
from app.users.queries import users_by_name


def get_intervention_or_404(household, intervention_id: int) -> Intervention:
    intervention = db.session.scalar(
        select(Intervention).where(
            Intervention.id == intervention_id, Intervention.household_id == household.id
        )
    )
    if intervention is None:
        abort(404)
    return intervention


def _counts():
    """A visit marked as entered twice counts nowhere (contacts, attempts, next actions)."""
    return Intervention.is_duplicate.is_(False)


def _is_contact():
    return Intervention.mode.not_in([str(m) for m in NOT_A_CONTACT]) & _counts()


def household_interventions(household, *, limit: int | None = None) -> list[Intervention]:
    query = (
        select(Intervention)
        .where(Intervention.household_id == household.id)
        .order_by(Intervention.occurred_on.desc(), Intervention.id.desc())
        .options(*users_by_name(Intervention))
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def shared_summaries(household) -> list[Intervention]:
    """The summaries the landlord may read: ticked as shared, and the household still consents
    today (a withdrawn consent hides what was shared before)."""
    if not can_share_with_landlord(household.id, today_paris()):
        return []
    return list(
        db.session.scalars(
            select(Intervention)
            .where(
                Intervention.household_id == household.id,
                Intervention.is_summary_shared.is_(True),
                _counts(),
            )
            .order_by(Intervention.occurred_on.desc(), Intervention.id.desc())
        )
    )


# --- helpers for other domains ------------------------------------------------------------


def last_contacts() -> Select:
    """One row per household: ``household_id, last_contact_on`` (missed appointments
    excluded). Join it to ``support.queries.household_intensity()`` for contact rhythms."""
    return (
        select(
            Intervention.household_id,
            func.max(Intervention.occurred_on).label("last_contact_on"),
        )
        .where(_is_contact())
        .group_by(Intervention.household_id)
    )


def last_contact_on(household_id: int) -> date | None:
    """The date of the household's last real contact (a missed appointment does not count)."""
    return db.session.scalar(
        select(func.max(Intervention.occurred_on)).where(
            Intervention.household_id == household_id, _is_contact()
        )
    )


def file_last_contact_on(household, viewer) -> date | None:
    """``last_contact_on`` for a page of the household file: taken from the visits its
    timeline loaded for this viewer (every visit, see ``timeline_events``), else one query."""
    from app.households.queries import loaded_earlier

    read = loaded_earlier(last_contact_key(household, viewer))
    return last_contact_on(household.id) if read is None else read[0]


def last_contact_key(household, viewer) -> tuple:
    """Where the timeline keeps the last contact it read for this page (``(date,)``)."""
    return ("last_contact_on", household.id, viewer.id)


def contact_count(household_id, start_on: date, end_on: date):
    """The number of contacts (missed appointments excluded) between two dates included of
    the household ``household_id`` — a column of the enclosing query: a correlated count,
    one index range (``household_id, occurred_on``) per household."""
    return (
        select(func.count())
        .where(
            Intervention.household_id == household_id,
            _is_contact(),
            Intervention.occurred_on >= start_on,
            Intervention.occurred_on <= end_on,
        )
        .scalar_subquery()
    )
