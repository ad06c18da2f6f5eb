"""Visits and contacts on the household file's timeline. The support team and coordinators
see every visit with its restricted note; anyone else who sees the household (landlord staff)
only the summaries shared with the landlord while the household consents, and nothing else is
selected for them. Read as a branch of the page's one timeline query
(``app.households.timeline``); the last contact, which the header's badge needs, is kept for
it (``remember``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import func
from sqlalchemy.orm import aliased

from app.audience import can_read
from app.formatting import format_date, today_paris
from app.households.file_registry import TimelineEvent, remember
from app.households.models import SupportDomain
from app.households.timeline import HOUSEHOLD_ID, Branch, branch
from app.interventions.models import (
    MODE_ICONS,
    Intervention,
    InterventionMode,
    counts_as_contact,
)
from app.interventions.queries import _counts, last_contact_key
from app.interventions.queries import _is_contact as contact_condition
from app.interventions.services import can_share_with_landlord
from app.users.models import User


def intervention_branches(household, viewer) -> list[Branch]:
    if can_read(viewer, Intervention.note):
        return [_full().bind(household_id=household.id)]
    if not can_share_with_landlord(household.id, today_paris()):
        return []  # a withdrawn consent hides what was shared before
    return [_shared().bind(household_id=household.id)]


def header_branches(household, viewer) -> list[Branch]:
    """The last contact (the support header's "no contact since" badge), on the pages
    without the timeline: for the support team, who read the visits."""
    if not can_read(viewer, Intervention.note):
        return []
    return [_last_contact().bind(household_id=household.id)]


def keep_for_the_header(household, viewer, rows) -> None:
    if can_read(viewer, Intervention.note):
        found = rows.get("interventions.last_contact", ())
        remember(last_contact_key(household, viewer), (found[0].on if found else None,))


@cache
def _last_contact() -> Branch:
    return branch("interventions.last_contact", on=func.max(Intervention.occurred_on)).where(
        Intervention.household_id == HOUSEHOLD_ID, contact_condition()
    )


@cache
def _shared() -> Branch:
    """What anyone else who sees the file reads: the summaries shared with the landlord."""
    by = aliased(User)
    return (
        branch(
            "interventions.shared",
            id=Intervention.id,
            occurred_on=Intervention.occurred_on,
            shared_summary=Intervention.shared_summary,
            created_at=Intervention.created_at,
            author=by.full_name,
        )
        .outerjoin(by, by.id == Intervention.author_id)
        .where(
            Intervention.household_id == HOUSEHOLD_ID,
            Intervention.is_summary_shared.is_(True),
            _counts(),
        )
    )


@cache
def _full() -> Branch:
    by = aliased(User)
    return (
        branch(
            "interventions.full",
            id=Intervention.id,
            occurred_on=Intervention.occurred_on,
            mode=Intervention.mode,
            duration_minutes=Intervention.duration_minutes,
            domains=Intervention.domains,
            note=Intervention.note,
            shared_summary=Intervention.shared_summary,
            is_summary_shared=Intervention.is_summary_shared,
            next_action=Intervention.next_action,
            next_action_on=Intervention.next_action_on,
            is_duplicate=Intervention.is_duplicate,
            created_at=Intervention.created_at,
            author=by.full_name,
        )
        .outerjoin(by, by.id == Intervention.author_id)
        .where(Intervention.household_id == HOUSEHOLD_ID)
    )


def intervention_events(household, viewer, rows) -> list[TimelineEvent]:
    """Newest first, as the visits list."""

    def newest_first(kind):
        return sorted(rows.get(kind, ()), key=lambda i: (i.occurred_on, i.id), reverse=True)

    if not can_read(viewer, Intervention.note):
        return [_shared_event(i) for i in newest_first("interventions.shared")]
    visits = newest_first("interventions.full")
    contacts = [i.occurred_on for i in visits if counts_as_contact(i.mode, i.is_duplicate)]
    remember(last_contact_key(household, viewer), (max(contacts, default=None),))
    return [_full_event(i) for i in visits]


def _shared_event(visit) -> TimelineEvent:
    return TimelineEvent(
        on=visit.occurred_on,
        kind="social",
        title="Compte rendu de l'accompagnement",
        summary=visit.shared_summary or "",
        author=visit.author,
        at=visit.created_at,
        icon="mail",
        record=("intervention", visit.id),
    )


def _full_event(visit) -> TimelineEvent:
    lines = []
    if visit.note:
        lines.append(f"Note réservée à l'équipe : {visit.note}")
    if visit.shared_summary:
        shared = "partagé" if visit.is_summary_shared else "non partagé"
        lines.append(f"Compte rendu ({shared} avec le bailleur) : {visit.shared_summary}")
    if visit.next_action:
        when = f" — le {format_date(visit.next_action_on)}" if visit.next_action_on else ""
        lines.append(f"Prochaine action : {visit.next_action}{when}")
    summary = ", ".join(d.label for d in SupportDomain.parse_list(visit.domains))
    if visit.duration_minutes:
        summary = f"{visit.duration_minutes} min" + (f" · {summary}" if summary else "")
    kind = "social" if counts_as_contact(visit.mode, visit.is_duplicate) else "reminder"
    if visit.is_duplicate:  # kept, struck through, counted nowhere
        kind, summary = "duplicate", "Saisie en double, ne compte pas"
    return TimelineEvent(
        on=visit.occurred_on,
        kind=kind,
        title=InterventionMode(visit.mode).label,
        summary=summary,
        detail="\n".join(lines) or None,
        author=visit.author,
        at=visit.created_at,
        icon=MODE_ICONS[visit.mode],
        tags=("Note réservée",) if visit.note else (),
        record=("intervention", visit.id),
    )
