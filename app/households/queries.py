"""Scoped reads of households, and the household timeline.

``visible_households(user)`` is the single definition of who sees which household; every
channel (pages, search, exports, feeds) starts from it. ``get_household_or_404`` loads one
household through it, so a household outside the user's scope is a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import import_module

from flask import abort
from sqlalchemy import Select, false, or_, select

from app.db import db
from app.households.models import Consent, Household, HouseholdTeamMember
from app.housing.models import Dwelling, Occupancy
from app.permissions import Permission, Role, has_permission


def visible_households(user) -> Select:
    """``select(Household)`` restricted to what ``user`` may see.

    - coordinators: every household of their projects;
    - social workers: households they are référent of or support-team members of;
    - landlord staff: households with a current lease in one of their organisation's
      dwellings (and only tenancy fields: see ``app.permissions``);
    - anyone else (administrators without another role): none.
    """
    query = select(Household).where(Household.anonymised_at.is_(None))
    if not has_permission(user, Permission.VIEW_HOUSEHOLDS):
        return query.where(false())
    conditions = []
    roles = user.roles
    if Role.COORDINATEUR in roles:
        conditions.append(Household.project_id.in_(user.project_ids or {-1}))
    if Role.TRAVAILLEUR_SOCIAL in roles:
        conditions.append(Household.referent_id == user.id)
        conditions.append(
            Household.id.in_(
                select(HouseholdTeamMember.household_id).where(
                    HouseholdTeamMember.user_id == user.id
                )
            )
        )
    if Role.PERSONNEL_BAILLEUR in roles:
        conditions.append(Household.id.in_(landlord_household_ids(user.organisation_id)))
    if not conditions:
        return query.where(false())
    return query.where(or_(*conditions))


def landlord_household_ids(organisation_id: int) -> Select:
    """Ids of households holding a current lease in the organisation's dwellings."""
    return (
        select(Occupancy.household_id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.end_on.is_(None))
    )


def get_household_or_404(user, household_id: int) -> Household:
    household = db.session.scalar(visible_households(user).where(Household.id == household_id))
    if household is None:
        abort(404)
    return household


# --- timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    """One dated entry of the household's path, already filtered for its viewer.

    ``kind`` picks the colour and icon (path, social, housing, partner, review, reminder,
    alert); ``detail`` is the expandable text, ``None`` when there is nothing more to show.
    """

    on: date
    kind: str
    title: str
    summary: str = ""
    detail: str | None = None
    author: str | None = None
    at: datetime | None = None
    icon: str = "•"
    link: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sort_key(self):
        return (self.on, self.at.timestamp() if self.at else 0)


TimelineProvider = Callable[[Household, object], Iterable[TimelineEvent]]

# Each domain contributes its events with one function ``timeline_events(household, viewer)``
# in its queries module. A provider issues a fixed number of queries (never one per event)
# and returns only what the viewer may see.
TIMELINE_PROVIDERS: tuple[str, ...] = (
    "app.households.queries:path_timeline_events",
    "app.support.queries:timeline_events",
    "app.interventions.queries:timeline_events",
    "app.partners.queries:timeline_events",
)


def _providers() -> list[TimelineProvider]:
    found = []
    for dotted in TIMELINE_PROVIDERS:
        module_name, _, attribute = dotted.partition(":")
        found.append(getattr(import_module(module_name), attribute))
    return found


def household_timeline(household: Household, viewer) -> list[TimelineEvent]:
    """Every provider's events for this viewer, newest first."""
    events = [event for provider in _providers() for event in provider(household, viewer)]
    return sorted(events, key=lambda e: e.sort_key, reverse=True)


def path_timeline_events(household: Household, viewer) -> list[TimelineEvent]:
    """Placeholder replaced by the household domain's own events (stage transitions,
    orientation, diagnostic, adhésion, consents)."""
    return []


def has_consent(household_id: int, partner_category: str, data_category: str, on: date) -> bool:
    """Whether the household had consented, on ``on``, to share ``data_category`` with
    partners of ``partner_category`` (given on or before that day and not yet withdrawn)."""
    return (
        db.session.scalar(
            select(Consent.id)
            .where(
                Consent.household_id == household_id,
                Consent.partner_category == partner_category,
                Consent.data_category == data_category,
                Consent.given_on <= on,
                or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > on),
            )
            .limit(1)
        )
        is not None
    )
