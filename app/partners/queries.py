"""Reads of the partner directory, referrals and tripartite meetings.

Referrals are social content (support team and coordinators); tripartite meetings are shared
with every viewer of the household, landlord staff included."""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import joinedload

from app.db import db
from app.households.models import search_key
from app.partners.models import Partner, Referral, TripartiteMeeting
from app.search import contains
from app.users.queries import users_by_name


def search_partners(q: str | None = None, domain: str | None = None, *, active_only=True) -> Select:
    """The directory, filtered by words of the name, kind or city (accents and case ignored)
    and by domain."""
    query = select(Partner).order_by(Partner.domain, Partner.name)
    if active_only:
        query = query.where(Partner.is_active.is_(True))
    if domain:
        query = query.where(Partner.domain == domain)
    for word in search_key(q).split():
        query = query.where(contains(Partner.search_text, word))
    return query


def get_partner_or_404(partner_id: int) -> Partner:
    return db.session.get(Partner, partner_id) or abort(404)


def get_referral_or_404(household, referral_id: int) -> Referral:
    """A referral of the household, with what its page shows: its history and the people by
    name, its partner's name (not the partner's contacts)."""
    referral = db.session.scalar(
        select(Referral)
        .where(Referral.id == referral_id, Referral.household_id == household.id)
        .options(*_as_shown())
    )
    if referral is None:
        abort(404)
    return referral


def household_referrals(household) -> list[Referral]:
    """The household's referrals, newest first, with their history and their partner's name
    (not the partner's contacts, which neither the file nor its Partenaires tab shows)."""
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.household_id == household.id)
            .order_by(Referral.referred_on.desc(), Referral.id.desc())
            .options(*_as_shown())
        )
    )


def _as_shown() -> list:
    """A referral as the file shows it: its history, the people by name, the partner's name."""
    return [*users_by_name(Referral), joinedload(Referral.partner).lazyload(Partner.contacts)]


def household_meetings(household) -> list[TripartiteMeeting]:
    return list(
        db.session.scalars(
            select(TripartiteMeeting)
            .where(TripartiteMeeting.household_id == household.id)
            .order_by(TripartiteMeeting.held_on.desc(), TripartiteMeeting.id.desc())
            .options(*users_by_name(TripartiteMeeting))
        )
    )


# --- helpers for other domains ------------------------------------------------------------


def next_meetings(today: date) -> Select:
    """One row per household: ``household_id, next_meeting_on``, the earliest planned
    tripartite meeting from ``today`` on (a meeting dated in the future, or the next meeting
    announced by a past one)."""
    planned = union_all(
        select(TripartiteMeeting.household_id, TripartiteMeeting.held_on.label("on")).where(
            TripartiteMeeting.held_on >= today
        ),
        select(TripartiteMeeting.household_id, TripartiteMeeting.next_meeting_on.label("on")).where(
            TripartiteMeeting.next_meeting_on >= today
        ),
    ).subquery()
    return select(planned.c.household_id, func.min(planned.c.on).label("next_meeting_on")).group_by(
        planned.c.household_id
    )


def next_meeting_on(household_id: int, today: date) -> date | None:
    rows = next_meetings(today).subquery()
    return db.session.scalar(
        select(rows.c.next_meeting_on).where(rows.c.household_id == household_id)
    )
