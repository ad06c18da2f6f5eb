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
from app.formatting import format_date, to_paris
from app.households.file_registry import (  # noqa: F401 (importable from here too)
    TimelineEvent,
    file_header,
    file_page_loads,
    household_timeline,
    loaded_earlier,
    loaded_once,
)
from app.households.models import (
    DIAGNOSTIC_AXES,
    Adhesion,
    Consent,
    DataCategory,
    Diagnostic,
    DiagnosticLevel,
    Household,
    HouseholdStage,
    HouseholdTeamMember,
    Member,
    Orientation,
    OrientationKind,
    PartnerCategory,
    Prescriber,
    StageCause,
    StageTransition,
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
from app.users.queries import user_by_name, users_by_name


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


# --- the path on the timeline ----------------------------------------------------------------


def _stage_label(value: str | None) -> str:
    return HouseholdStage(value).label if value else ""


def path_timeline_events(household: Household, viewer) -> list[TimelineEvent]:
    """Stage transitions for everyone who sees the file; orientation, diagnostic, adhésion,
    consents and members added for viewers who read their columns (declared social in
    ``app.audience``: not landlord staff), one query per kind of record, whatever their
    number, and none for a kind the viewer does not read."""
    events = [
        _transition_event(t, can_read(viewer, StageTransition.reason))
        for t in _rows(StageTransition, household)
    ]
    authors: dict[int, str] = {}

    def rows_for(column, model, *by):
        return _rows_naming(model, household, authors, *by) if can_read(viewer, column) else []

    orientations = rows_for(Orientation.reason, Orientation, Orientation.recorded_by_id)
    diagnostics = rows_for(Diagnostic.carried_out_on, Diagnostic, Diagnostic.author_id)
    adhesions = rows_for(Adhesion.objectives, Adhesion, Adhesion.recorded_by_id)
    consents = rows_for(
        Consent.given_on, Consent, Consent.recorded_by_id, Consent.withdrawal_recorded_by_id
    )
    events += [_orientation_event(o, authors) for o in orientations]
    # The names of the recommended intensities, once for all the diagnostics.
    intensities = _intensity_names() if any(d.recommended_intensity for d in diagnostics) else {}
    events += [_diagnostic_event(d, authors, intensities) for d in diagnostics]
    events += [_adhesion_event(a, authors) for a in adhesions]
    for consent in consents:
        events += _consent_events(consent, authors)
    events += [
        TimelineEvent(
            on=member.created_at.date(),
            at=member.created_at,
            kind="path",
            icon="plus",
            title=f"Personne ajoutée : {member.full_name}",
            summary=member.relation_label,
        )
        for member in household.members
        if member.created_at != household.created_at and can_read(viewer, Member.relation)
    ]
    return events


def _rows(model, household: Household):
    return db.session.scalars(
        select(model).where(model.household_id == household.id).options(*users_by_name(model))
    ).all()


def _rows_naming(model, household: Household, names: dict[int, str], *user_ids) -> list:
    """The household's records of ``model`` in the order they were entered; the names of the
    users their ``user_ids`` columns point at are added to ``names``, read in the same query
    (one outer join per column) rather than in one of their own."""
    users = [aliased(User) for _ in user_ids]
    query = select(model, *(column for user in users for column in (user.id, user.full_name)))
    for user, user_id in zip(users, user_ids, strict=True):
        query = query.outerjoin(user, user.id == user_id)
    rows = db.session.execute(
        query.where(model.household_id == household.id)
        .order_by(model.id)
        .options(*users_by_name(model))
    ).all()
    for row in rows:
        pairs = zip(row[1::2], row[2::2], strict=True)
        names.update((user_id, name) for user_id, name in pairs if user_id is not None)
    return [row[0] for row in rows]


def _transition_event(transition: StageTransition, social: bool) -> TimelineEvent:
    backward = transition.from_stage is not None and (
        list(HouseholdStage).index(HouseholdStage(transition.to_stage))
        < list(HouseholdStage).index(HouseholdStage(transition.from_stage))
    )
    if transition.from_stage is None:
        title = "Entrée dans le parcours : " + _stage_label(transition.to_stage)
    elif backward:
        title = "Retour à l'étape " + _stage_label(transition.to_stage)
    else:
        title = "Étape " + _stage_label(transition.to_stage)
    parts = [f"Depuis « {_stage_label(transition.from_stage)} »"] if transition.from_stage else []
    if transition.cause and social:  # « suite à : diagnostic réalisé » is support content
        parts.append("suite à : " + StageCause(transition.cause).label)
    if transition.at is not None and to_paris(transition.at).date() > transition.on:
        # Backdated (a file entered after the fact): when it was recorded is kept and shown.
        parts.append(f"saisi le {format_date(to_paris(transition.at).date())}")
    summary = " · ".join(parts)
    return TimelineEvent(
        on=transition.on,
        at=transition.at,
        kind="path",
        icon="undo" if backward else "arrow-right",
        title=title,
        summary=summary,
        # The reason for a move back may tell a social story: support team only.
        detail=transition.reason if social else None,
        author=transition.by.full_name if transition.by else None,
        tags=("retour",) if backward else (),
    )


def _orientation_event(orientation: Orientation, authors: dict[int, str]) -> TimelineEvent:
    prescriber = Prescriber(orientation.prescriber).label
    if orientation.prescriber_detail:
        prescriber += f" ({orientation.prescriber_detail})"
    return TimelineEvent(
        on=orientation.oriented_on,
        at=orientation.recorded_at,
        kind="social",
        icon="arrow-right",
        title=f"Orientation par {prescriber}",
        summary=OrientationKind(orientation.kind).label,
        detail=orientation.reason,
        author=authors.get(orientation.recorded_by_id),
    )


def _diagnostic_event(
    diagnostic: Diagnostic, authors: dict[int, str], intensities: dict[str, str]
) -> TimelineEvent:
    lines = []
    for axis, label in DIAGNOSTIC_AXES.items():
        level = DiagnosticLevel(getattr(diagnostic, f"{axis}_level")).label
        comment = getattr(diagnostic, f"{axis}_comment")
        lines.append(f"{label.split(' (')[0]} : {level}" + (f" — {comment}" if comment else ""))
    if diagnostic.need_list:
        lines.append("Besoins : " + ", ".join(n.label for n in diagnostic.need_list))
    code = diagnostic.recommended_intensity
    intensity = intensities.get(code, code) if code else None
    if intensity:
        lines.append(f"Intensité recommandée : {intensity}")
    to_work = sum(
        getattr(diagnostic, f"{axis}_level") == DiagnosticLevel.A_TRAVAILLER
        for axis in DIAGNOSTIC_AXES
    )
    return TimelineEvent(
        on=diagnostic.carried_out_on,
        at=diagnostic.recorded_at,
        kind="review",
        icon="target",
        title="Diagnostic social",
        summary=f"{to_work} axe{'s' if to_work > 1 else ''} à travailler sur 4"
        + (f" · intensité {intensity.lower()}" if intensity else ""),
        detail="\n".join(lines),
        author=authors.get(diagnostic.author_id),
    )


def _intensity_names() -> dict[str, str]:
    """Recommended-intensity code → the level's name (an unknown code shows as itself)."""
    from app.households.path import intensity_choices

    return dict(intensity_choices())


def _adhesion_event(adhesion: Adhesion, authors: dict[int, str]) -> TimelineEvent:
    return TimelineEvent(
        on=adhesion.signed_on,
        at=adhesion.recorded_at,
        kind="social",
        icon="sign",
        title="Adhésion signée",
        summary="Contrat d'accompagnement",
        detail=adhesion.objectives,
        author=authors.get(adhesion.recorded_by_id),
    )


def _consent_events(consent: Consent, authors: dict[int, str]) -> list[TimelineEvent]:
    what = (
        f"{DataCategory(consent.data_category).label} → "
        f"{PartnerCategory(consent.partner_category).label}"
    )
    events = [
        TimelineEvent(
            on=consent.given_on,
            kind="partner",
            icon="check",
            title="Consentement donné",
            summary=what,
            author=authors.get(consent.recorded_by_id),
        )
    ]
    if consent.withdrawn_on:
        events.append(
            TimelineEvent(
                on=consent.withdrawn_on,
                kind="alert",
                icon="x",
                title="Consentement retiré",
                summary=what + f" (donné le {format_date(consent.given_on)})",
                author=authors.get(consent.withdrawal_recorded_by_id),
            )
        )
    return events
