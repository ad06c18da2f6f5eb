"""Reads of the partner directory, referrals and tripartite meetings.

Referrals are social content (support team and coordinators); tripartite meetings are shared
with every viewer of the household, landlord staff included."""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import joinedload

from app.audience import can_read
from app.db import db
from app.formatting import format_date
from app.households.models import search_key
from app.households.queries import TimelineEvent
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
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.household_id == household.id)
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
            .options(
                *users_by_name(Referral),
                joinedload(Referral.partner).lazyload(Partner.contacts),
            )
        )
    )


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


# --- timeline -----------------------------------------------------------------------------


def timeline_events(household, viewer) -> list[TimelineEvent]:
    """Tripartite meetings for every viewer; referrals only for the support team and
    coordinators (never for landlord staff, whatever the partner)."""
    events = [_meeting_event(m) for m in household_meetings(household)]
    if can_read(viewer, Referral.reason):
        events.extend(_referral_event(r) for r in household_referrals(household))
    return events


def _meeting_event(meeting: TripartiteMeeting) -> TimelineEvent:
    lines = [f"Participants : {meeting.attendees}"]
    if meeting.decisions:
        lines.append(f"Décisions : {meeting.decisions}")
    if meeting.next_meeting_on:
        lines.append(f"Prochaine réunion : {format_date(meeting.next_meeting_on)}")
    return TimelineEvent(
        on=meeting.held_on,
        kind="partner",
        title="Réunion tripartite (ménage, bailleur, accompagnement)",
        summary=meeting.decisions or "",
        detail="\n".join(lines),
        author=meeting.author.full_name if meeting.author else None,
        at=meeting.created_at,
        icon="users",
    )


def _referral_event(referral: Referral) -> TimelineEvent:
    lines = [f"Motif : {referral.reason}"]
    lines.extend(
        f"{format_date(change.on)} : {change.status_label}"
        + (f" — {change.comment}" if change.comment else "")
        for change in referral.history
    )
    return TimelineEvent(
        on=referral.referred_on,
        kind="partner",
        title=f"Orientation vers {referral.partner.name}",
        summary=f"{referral.domain_label} · {referral.status_label}",
        detail="\n".join(lines),
        author=referral.author.full_name if referral.author else None,
        at=referral.created_at,
        icon="arrow-right",
    )
