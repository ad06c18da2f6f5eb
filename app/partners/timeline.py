"""Partners on the household file's timeline: tripartite meetings for every viewer of the file
(shared with the landlord's staff); referrals, with their status history, for the support
team and coordinators only (never selected for landlord staff, whatever the partner). Read as
branches of the page's one timeline query (``app.households.timeline``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import aliased

from app.audience import can_read
from app.formatting import format_date
from app.households.file_registry import TimelineEvent
from app.households.models import SupportDomain
from app.households.timeline import HOUSEHOLD_ID, Branch, branch
from app.partners.models import (
    Partner,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    TripartiteMeeting,
)
from app.users.models import User


def partner_branches(household, viewer) -> list[Branch]:
    meetings, referrals, changes = _branches()
    wanted = [meetings, referrals, changes] if can_read(viewer, Referral.reason) else [meetings]
    return [b.bind(household_id=household.id) for b in wanted]


@cache
def _branches() -> tuple[Branch, ...]:
    """Built once per process (``app.households.timeline``: the household is a parameter)."""
    by = aliased(User)
    branches = [
        branch(
            "partners.meeting",
            id=TripartiteMeeting.id,
            held_on=TripartiteMeeting.held_on,
            attendees=TripartiteMeeting.attendees,
            decisions=TripartiteMeeting.decisions,
            next_meeting_on=TripartiteMeeting.next_meeting_on,
            created_at=TripartiteMeeting.created_at,
            author=by.full_name,
        )
        .outerjoin(by, by.id == TripartiteMeeting.author_id)
        .where(TripartiteMeeting.household_id == HOUSEHOLD_ID)
    ]
    # Referrals and their history: selected for the support team only (partner_branches).
    by = aliased(User)
    branches.append(
        branch(
            "partners.referral",
            id=Referral.id,
            referred_on=Referral.referred_on,
            domain=Referral.domain,
            status=Referral.status,
            reason=Referral.reason,
            partner=Partner.name,
            created_at=Referral.created_at,
            author=by.full_name,
        )
        .join(Partner, Partner.id == Referral.partner_id)
        .outerjoin(by, by.id == Referral.author_id)
        .where(Referral.household_id == HOUSEHOLD_ID)
    )
    branches.append(
        branch(
            "partners.referral_change",
            id=ReferralStatusChange.id,
            referral_id=ReferralStatusChange.referral_id,
            status=ReferralStatusChange.status,
            on=ReferralStatusChange.on,
            comment=ReferralStatusChange.comment,
        )
        .join(Referral, Referral.id == ReferralStatusChange.referral_id)
        .where(Referral.household_id == HOUSEHOLD_ID)
    )
    return tuple(branches)


def partner_events(household, viewer, rows) -> list[TimelineEvent]:
    """Meetings, then referrals, each newest first."""

    def newest_first(kind, on):
        return sorted(rows.get(kind, ()), key=lambda r: (getattr(r, on), r.id), reverse=True)

    events = [_meeting_event(m) for m in newest_first("partners.meeting", "held_on")]
    if not can_read(viewer, Referral.reason):
        return events
    history: dict[int, list] = {}
    for change in sorted(rows.get("partners.referral_change", ()), key=lambda c: (c.on, c.id)):
        history.setdefault(change.referral_id, []).append(change)
    events.extend(
        _referral_event(r, history.get(r.id, []))
        for r in newest_first("partners.referral", "referred_on")
    )
    return events


def _meeting_event(meeting) -> TimelineEvent:
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
        author=meeting.author,
        at=meeting.created_at,
        icon="users",
    )


def _referral_event(referral, history: list) -> TimelineEvent:
    lines = [f"Motif : {referral.reason}"]
    lines.extend(
        f"{format_date(change.on)} : {ReferralStatus(change.status).label}"
        + (f" — {change.comment}" if change.comment else "")
        for change in history
    )
    return TimelineEvent(
        on=referral.referred_on,
        kind="partner",
        title=f"Orientation vers {referral.partner}",
        summary=f"{SupportDomain(referral.domain).label} · {ReferralStatus(referral.status).label}",
        detail="\n".join(lines),
        author=referral.author,
        at=referral.created_at,
        icon="arrow-right",
    )
