"""Scoped reads of households, and the household's own events and badges on its file.

``visible_households(user)`` is the single definition of who sees which household; every
channel (pages, search, exports, feeds) starts from it. ``get_household_or_404`` loads one
household through it, so a household outside the user's scope is a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import Select, case, exists, false, func, literal, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.audience import can_read, row_condition
from app.db import db
from app.households.file_registry import (  # noqa: F401 (importable from here too)
    TimelineEvent,
    file_header,
    file_page_loads,
    household_timeline,
    loaded_earlier,
    loaded_once,
)
from app.households.models import (
    Consent,
    Household,
    HouseholdStage,
    HouseholdTeamMember,
    Member,
    search_key,
)
from app.housing.models import Dwelling, Occupancy
from app.permissions import (
    Permission,
    Role,
    has_permission,
)
from app.search import contains
from app.users.models import User
from app.users.queries import user_by_name


def visible_households(user, *, include_anonymised: bool = False) -> Select:
    """``select(Household)`` restricted to what ``user`` may see.

    - coordinators: every household of their projects;
    - social workers: households they are référent of or support-team members of;
    - landlord staff: households with a current lease in one of their organisation's
      dwellings (and only tenancy columns: see ``app.audience``);
    - anyone else (administrators without another role): none.
    """
    query = select(Household)
    if not include_anonymised:
        # Anonymised files leave every page; only the aggregate indicators still count them.
        query = query.where(Household.anonymised_at.is_(None))
    if not has_permission(user, Permission.VIEW_HOUSEHOLDS):
        return query.where(false())
    conditions = []
    roles = user.roles
    if Role.COORDINATEUR in roles:
        conditions.append(Household.project_id.in_(user.project_ids or {-1}))
    if Role.TRAVAILLEUR_SOCIAL in roles:
        # One IN over a UNION rather than "référent OR team member": PostgreSQL turns a
        # top-level IN into a semi-join on the primary key, while the OR made it scan every
        # household of the country (300 ms for a social worker's search).
        conditions.append(
            Household.id.in_(
                select(Household.id)
                .where(Household.referent_id == user.id)
                .union(
                    select(HouseholdTeamMember.household_id).where(
                        HouseholdTeamMember.user_id == user.id
                    )
                )
            )
        )
    if Role.PERSONNEL_BAILLEUR in roles:
        conditions.append(Household.id.in_(landlord_household_ids(user.organisation_id)))
    if not conditions:
        return query.where(false())
    return query.where(conditions[0] if len(conditions) == 1 else or_(*conditions))


def landlord_household_ids(organisation_id: int) -> Select:
    """Ids of households holding a current lease in the organisation's dwellings."""
    return (
        select(Occupancy.household_id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.end_on.is_(None))
    )


# --- loader options for pages that show people by name (see app.users.queries) ------------


def household_for_display(path=None, *, one: bool = False) -> list:
    """Options for households loaded for a page (directly, or through ``path``): référent and
    team members by name, project joined, members (the head's name) as the relationship
    loads them. ``one``: a single household is loaded, so its members and team (a few rows
    each) come joined in the same query rather than in two more."""

    def start(attribute, loader):
        return getattr(path, loader.__name__)(attribute) if path is not None else loader(attribute)

    collection = joinedload if one else selectinload
    referent = start(Household.referent, joinedload)
    team_user = start(Household.team, collection).joinedload(HouseholdTeamMember.user)
    return [
        *user_by_name(referent),
        *user_by_name(team_user),
        start(Household.project, joinedload),
        *([start(Household.members, joinedload)] if one else []),
    ]


def get_household_or_404(user, household_id: int) -> Household:
    household = (
        db.session.execute(
            visible_households(user)
            .where(Household.id == household_id)
            .options(*household_for_display(one=True))
        )
        .unique()
        .scalar_one_or_none()
    )
    if household is None:
        abort(404)
    return household


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


# --- the household list ----------------------------------------------------------------------

PER_PAGE = 25


@dataclass(frozen=True)
class ListFilters:
    """What the list page asks for; every value is optional."""

    q: str = ""
    project_id: int | None = None
    stage: str | None = None
    referent_id: int | None = None
    landlord_id: int | None = None
    target_public: str | None = None
    sort: str = "reference"
    descending: bool = False


def _head_name_sort():
    head = aliased(Member)
    return (
        select(func.lower(head.last_name + " " + head.first_name))
        .where(head.household_id == Household.id, head.is_head.is_(True))
        .limit(1)
        .scalar_subquery()
    )


SORTS: dict[str, Callable] = {
    "reference": lambda: Household.reference,
    "name": _head_name_sort,
    "stage": lambda: case(
        {stage.value: i for i, stage in enumerate(HouseholdStage)}, value=Household.stage
    ),
    "since": lambda: Household.stage_since_on,
    "referent": lambda: func.lower(func.coalesce(User.full_name, "")),
}


def household_search(user, term: str):
    """The condition "``term`` (a ``search_key``) appears in a field ``user`` may read".

    Everyone who sees a household searches its reference, its head of household's name,
    its current dwelling's address and its current lease reference. Holders of
    READ_SOCIAL_CONTENT also search every member's name and the household's own address
    (the "Situation" they alone read): each column is searched on the rows where its
    declared audience lets ``user`` read it (``app.audience.row_condition``). Landlord staff
    therefore cannot find a household by the name of a member their pages hide. ``term`` is
    matched literally (``contains``)."""
    current_lease = (
        Occupancy.household_id == Household.id,
        Occupancy.end_on.is_(None),
        Dwelling.id == Occupancy.dwelling_id,
    )
    # Correlated (EXISTS), so only the viewer's households are tried: as an IN list it
    # matched the pattern against every current lease of the country.
    conditions = [
        contains(func.lower(Household.reference), term),
        exists().where(
            Member.household_id == Household.id,
            contains(Member.search_name, term),
            row_condition(user, Member.search_name),
        ),
        exists().where(
            *current_lease,
            or_(
                contains(Dwelling.search_address, term),
                contains(func.lower(Occupancy.lease_reference), term),
            ),
        ),
    ]
    if can_read(user, Household.search_address):
        conditions.append(contains(Household.search_address, term))
    return or_(*conditions)


def household_list(user, filters: ListFilters) -> Select:
    """The list and its search, always built on ``visible_households(user)``: a search never
    reaches a household the list would not show, nor matches a field the user may not read
    (``household_search``). Target-public filtering is social content and ignored for
    viewers who may not read it."""
    query = visible_households(user).outerjoin(User, User.id == Household.referent_id)
    term = search_key(filters.q)
    if term:
        query = query.where(household_search(user, term))
    if filters.project_id:
        query = query.where(Household.project_id == filters.project_id)
    if filters.stage:
        query = query.where(Household.stage == filters.stage)
    if filters.referent_id:
        query = query.where(Household.referent_id == filters.referent_id)
    if filters.landlord_id:
        query = query.where(Household.id.in_(landlord_household_ids(filters.landlord_id)))
    if filters.target_public and can_read(user, Household.target_publics):
        padded = literal(",") + Household.target_publics + literal(",")
        query = query.where(contains(padded, f",{filters.target_public},"))
    sort = SORTS.get(filters.sort, SORTS["reference"])()
    order = sort.desc() if filters.descending else sort.asc()
    return query.order_by(order, Household.reference.asc()).options(*household_for_display())


def current_occupancies(household_ids: Iterable[int]) -> dict[int, Occupancy]:
    """The current lease of each household (one query for a whole page)."""
    ids = list(household_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Occupancy).where(Occupancy.household_id.in_(ids), Occupancy.end_on.is_(None))
    )
    return {occupancy.household_id: occupancy for occupancy in rows}


def referent_choices(user) -> list[tuple[int, str]]:
    """Référents of the households ``user`` sees (list filter)."""
    visible = visible_households(user).with_only_columns(Household.referent_id).subquery()
    rows = db.session.execute(
        select(User.id, User.full_name)
        .where(User.id.in_(select(visible.c.referent_id)))
        .order_by(User.full_name)
    )
    return [(row.id, row.full_name) for row in rows]


def landlord_choices(user) -> list[tuple[int, str]]:
    """Landlords housing the households ``user`` sees (list filter)."""
    from app.organisations.models import Organisation

    visible = visible_households(user).with_only_columns(Household.id).subquery()
    rows = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(
            Organisation.id.in_(
                select(Dwelling.landlord_id)
                .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
                .where(Occupancy.end_on.is_(None), Occupancy.household_id.in_(select(visible.c.id)))
            )
        )
        .order_by(Organisation.name)
    )
    return [(row.id, row.name) for row in rows]


def team_candidates(project_id: int) -> list[User]:
    """Active social workers and coordinators of a project: who may be référent or join a
    household's support team."""
    from app.users.models import UserRole, project_member

    return list(
        db.session.scalars(
            select(User)
            .join(project_member, project_member.c.user_id == User.id)
            .where(
                project_member.c.project_id == project_id,
                User.is_active.is_(True),
                User.id.in_(
                    select(UserRole.user_id).where(
                        UserRole.role.in_([Role.TRAVAILLEUR_SOCIAL, Role.COORDINATEUR])
                    )
                ),
            )
            .order_by(User.full_name)
        )
    )


# --- the household domain's own contributions to the file (see households/file.py) -----------


def path_header_alerts(household: Household, viewer) -> list[tuple[str, str]]:
    """The household domain's own badges: a file without référent is nobody's job."""
    closed = {HouseholdStage.SORTIE, HouseholdStage.SUIVI_POST_SORTIE}
    if household.referent_id is None and household.stage not in closed:
        return [("Sans référent·e", "warning")]
    return []
