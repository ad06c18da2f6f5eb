"""Scoped reads of dwellings: landlord staff see their organisation's; coordinators those of
their projects' landlords (lead landlord and partner organisations of kind bailleur)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, or_, select

from app.db import db
from app.housing.models import Dwelling, Occupancy
from app.organisations.models import Organisation, OrganisationKind
from app.permissions import Permission, Role, can_read_social_content, has_permission
from app.projects.models import Project, project_partner


def is_landlord_viewer(user) -> bool:
    """Landlord staff without a support role: limited to their organisation's tenancies."""
    return Role.PERSONNEL_BAILLEUR in user.roles and not can_read_social_content(user)


def project_landlord_ids(project_ids) -> Select:
    """Landlords of projects: their lead landlord and their partner organisations of kind
    bailleur."""
    ids = list(project_ids) or [-1]
    lead = select(Project.lead_landlord_id).where(Project.id.in_(ids))
    partners = (
        select(project_partner.c.organisation_id)
        .join(Organisation, Organisation.id == project_partner.c.organisation_id)
        .where(
            project_partner.c.project_id.in_(ids),
            Organisation.kind == OrganisationKind.BAILLEUR,
        )
    )
    return lead.union(partners)


def dwelling_landlords(user) -> Select:
    """Landlord organisations whose dwellings ``user`` may see and manage."""
    query = select(Organisation).where(Organisation.kind == OrganisationKind.BAILLEUR)
    if not has_permission(user, Permission.MANAGE_DWELLINGS):
        return query.where(false())
    conditions = []
    if Role.PERSONNEL_BAILLEUR in user.roles:
        conditions.append(Organisation.id == user.organisation_id)
    if Role.COORDINATEUR in user.roles:
        conditions.append(Organisation.id.in_(project_landlord_ids(user.project_ids)))
    if not conditions:
        return query.where(false())
    return query.where(or_(*conditions)).order_by(Organisation.name)


def visible_dwellings(user) -> Select:
    return select(Dwelling).where(
        Dwelling.landlord_id.in_(dwelling_landlords(user).with_only_columns(Organisation.id))
    )


def get_dwelling_or_404(user, dwelling_id: int) -> Dwelling:
    dwelling = db.session.scalar(visible_dwellings(user).where(Dwelling.id == dwelling_id))
    if dwelling is None:
        abort(404)
    return dwelling


def assignable_dwellings(user, household, *, include_occupied: bool = False) -> Select:
    """Dwellings ``user`` may give ``household`` a lease on: those of the household's project
    landlords, limited to the user's own organisation for landlord staff, free by default."""
    query = select(Dwelling).where(
        Dwelling.landlord_id.in_(project_landlord_ids([household.project_id]))
    )
    if is_landlord_viewer(user):
        query = query.where(Dwelling.landlord_id == user.organisation_id)
    if not include_occupied:
        # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN (subquery) once per dwelling when
        # the current leases do not fit in work_mem (30 s at 300,000 households).
        current = select(Occupancy.id).where(
            Occupancy.dwelling_id == Dwelling.id, Occupancy.end_on.is_(None)
        )
        query = query.where(~current.exists())
    return query.order_by(Dwelling.city, Dwelling.address)


def dwelling_occupants(dwelling_ids: list[int]) -> dict[int, Occupancy]:
    """Current occupancy of each dwelling (one query)."""
    if not dwelling_ids:
        return {}
    rows = db.session.scalars(
        select(Occupancy).where(Occupancy.dwelling_id.in_(dwelling_ids), Occupancy.end_on.is_(None))
    )
    return {o.dwelling_id: o for o in rows}
