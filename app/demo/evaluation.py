"""Demo money of the projects (budget lines by funder and places, last year and this year)
and a few financial aids of Sophie Martin's households. Idempotent: a project that has a
budget line keeps its own; aids are added only while no household has one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.demo.agenda import WORKER, _user
from app.evaluation.models import HouseholdAid, ProjectBudgetLine, ProjectPlaces
from app.formatting import today_paris
from app.households.models import Household
from app.projects.models import Project

# funder, label, granted (€), share received last year, share received this year
LINES = (
    ("etat", None, 120_000, 1, 0.6),
    ("bailleur", None, 45_000, 1, 0.5),
    ("departement", None, 30_000, 1, 0.5),
    ("caf", None, 12_000, 1, 0),
    ("commune", None, 8_000, 1, 1),
)
# kind, label, status, requested (€), granted (€), days ago requested, days to decide
AIDS = (
    ("fsl_maintien", None, "accordee", 1_450, 1_200, 120, 35),
    ("fsl_acces", None, "accordee", 900, 900, 300, 20),
    ("caf", None, "demandee", 400, None, 15, None),
    ("commune", None, "refusee", 300, None, 80, 25),
    ("autre", "Fondation Abbé Pierre", "demandee", 600, None, 10, None),
)


def _evaluation() -> None:
    today = today_paris()
    for rank, project in enumerate(db.session.scalars(select(Project).order_by(Project.id))):
        has_lines = db.session.scalar(
            select(ProjectBudgetLine.id).where(ProjectBudgetLine.project_id == project.id).limit(1)
        )
        if has_lines is not None:
            continue
        scale = 1 + rank / 2  # the projects differ a little
        for year, received_column in ((today.year - 1, 3), (today.year, 4)):
            for spec in LINES:
                granted = int(spec[2] * scale * (1 if year == today.year else 0.95)) * 100
                db.session.add(
                    ProjectBudgetLine(
                        project_id=project.id,
                        year=year,
                        funder=spec[0],
                        label=spec[1],
                        granted_cents=granted,
                        received_cents=int(granted * spec[received_column]),
                    )
                )
            places = project.target_households or 40
            db.session.add(ProjectPlaces(project_id=project.id, year=year, places=places))
    _aids(today)


def _aids(today) -> None:
    worker = _user(WORKER)
    if worker is None or db.session.scalar(select(HouseholdAid.id).limit(1)) is not None:
        return
    followed = db.session.scalars(
        select(Household)
        .where(Household.referent_id == worker.id, Household.anonymised_at.is_(None))
        .order_by(Household.reference)
    ).all()
    for n, (kind, label, status, asked, given, ago, decide) in enumerate(AIDS):
        if not followed:
            return
        requested_on = today - timedelta(days=ago)
        db.session.add(
            HouseholdAid(
                household_id=followed[n % min(3, len(followed))].id,
                kind=kind,
                label=label,
                status=status,
                requested_cents=asked * 100,
                granted_cents=None if given is None else given * 100,
                requested_on=requested_on,
                decided_on=None if decide is None else requested_on + timedelta(days=decide),
                created_by_id=worker.id,
                updated_by_id=worker.id,
            )
        )
