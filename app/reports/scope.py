"""The households a coordinator's reports cover: their projects, then the visible households
of those projects (built on ``visible_households``)."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.db import db
from app.households.models import Household
from app.households.queries import visible_households
from app.permissions import Permission, Role, has_permission
from app.projects.models import Project


def coordinator_projects(user) -> list[Project]:
    """The projects the coordinator works on (the project selector)."""
    ids = user.project_ids
    if not ids:
        return []
    return list(
        db.session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.name))
    )


def covers_whole_projects(user, project_ids) -> bool:
    """Whether ``user`` sees every household of ``project_ids``: a coordinator of each of
    them (``visible_households``). Their reports' scope is then the projects' households,
    whoever the viewer is."""
    return (
        has_permission(user, Permission.VIEW_HOUSEHOLDS)
        and Role.COORDINATEUR in user.roles
        and set(project_ids) <= user.project_ids
    )


def scope_ids(user, project_ids, *, include_anonymised: bool = False) -> Select:
    """Ids of the households of ``project_ids`` that ``user`` may see. The indicators include
    anonymised files: anonymisation keeps the dates, categories and amounts they count."""
    return (
        visible_households(user, include_anonymised=include_anonymised)
        .with_only_columns(Household.id)
        .where(Household.project_id.in_(list(project_ids) or [-1]))
    )


def scoped_households(user, household_ids) -> list[Household]:
    """The households among ``household_ids`` that ``user`` may see (the reassignment
    re-checks every submitted id through this)."""
    ids = list(household_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            visible_households(user).where(Household.id.in_(ids)).order_by(Household.reference)
        ).unique()
    )
