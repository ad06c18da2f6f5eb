from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app import bounds
from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.organisations.models import Organisation, OrganisationKind
from app.projects.models import FundingCall, Project, TargetPublic


def _validated(values: dict, *, exclude_id: int | None = None) -> dict:
    name = values["name"].strip()
    query = select(Project.id).where(func.lower(Project.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Project.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise DomainError("Un projet porte déjà ce nom.", field="name")
    start: date | None = values.get("convention_start_on")
    end: date | None = values.get("convention_end_on")
    if start and end and end < start:
        raise DomainError(
            "La fin de la convention doit suivre son début.", field="convention_end_on"
        )
    landlord = db.session.get(Organisation, values["lead_landlord_id"])
    if landlord is None or landlord.kind != OrganisationKind.BAILLEUR:
        raise DomainError(
            "Le bailleur chef de file doit être un bailleur HLM.", field="lead_landlord_id"
        )
    partner_ids = set(values.get("partner_ids") or ())
    partners = (
        db.session.scalars(select(Organisation).where(Organisation.id.in_(partner_ids))).all()
        if partner_ids
        else []
    )
    if len(partners) != len(partner_ids):
        raise DomainError("Un des partenaires choisis n'existe pas.", field="partner_ids")
    bounds.COUNT.check(values.get("target_households"), field="target_households")
    bounds.MONEY.check(values.get("grant_cents"), field="grant_euros")
    return {
        "name": name,
        "territory": values["territory"].strip(),
        "lead_landlord_id": landlord.id,
        "funding_call": FundingCall(values["funding_call"]),
        "convention_start_on": start,
        "convention_end_on": end,
        "target_households": values.get("target_households"),
        "grant_cents": values.get("grant_cents"),
        "target_publics": ",".join(TargetPublic(v) for v in values.get("target_publics") or ()),
        "partners": partners,
    }


def create_project(actor, **values) -> Project:
    from app.support.services import ensure_default_intensity_levels

    project = Project(**_validated(values))
    db.session.add(project)
    db.session.flush()
    record(actor, "project.created", target=project)
    # Its default intensity levels come with it, so that no page has to create them.
    ensure_default_intensity_levels(project, actor)
    return project


def update_project(actor, project: Project, *, version, **values) -> Project:
    check_version(project, version)
    cleaned = _validated(values, exclude_id=project.id)
    for key, value in cleaned.items():
        setattr(project, key, value)
    record(actor, "project.updated", target=project)
    return project
