"""A small test provider of figure tables, registered for one test and removed after it, and
two projects with their coordinators and an administrator.

The provider reads the database: the "maintenus" of cohort 2024 is the project's
``target_households`` (40 by default), so changing that input changes the export. Its tables
(every expected figure of the tests is worked out from here):

``essai.devenir`` (outcomes, row and column totals) for year Y::

               maintenus  reloges | total
    2024           40         3   |  43
    2025           12         9   |  21
    total          52        12   |  64

``essai.couts`` (cofinancing)::

        menages  cout (€)   delai (j)  part     libelle (TEXT)
    a      2     1234.5     12.25      0.5      "texte libre"
    b     15     99.999     None       1/3      "autre texte"
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.evaluation import tables as registry
from app.evaluation.tables import Column, FigureTable, Kind, Row
from app.permissions import Role
from app.projects.models import Project
from tests.factories import make_organisation, make_project, make_user


def outcome_table(target: int) -> FigureTable:
    return FigureTable(
        key="essai.devenir",
        axis="outcomes",
        title="Devenir des ménages (essai)",
        definition="essai-devenir",
        columns=(
            Column("maintenus", "Maintenus", Kind.COUNT),
            Column("reloges", "Relogés", Kind.COUNT),
            Column("total", "Total", Kind.COUNT),
        ),
        rows=(
            Row("2024", "Cohorte 2024", (target, 3, target + 3)),
            Row("2025", "Cohorte 2025", (12, 9, 21)),
            Row("total", "Total", (target + 12, 12, target + 24)),
        ),
        row_total=True,
        column_total=True,
    )


def cost_table() -> FigureTable:
    return FigureTable(
        key="essai.couts",
        axis="cofinancing",
        title="Coûts (essai)",
        definition="essai-couts",
        columns=(
            Column("menages", "Ménages", Kind.COUNT),
            Column("cout", "Coût par ménage", Kind.AMOUNT),
            Column("delai", "Délai médian", Kind.DAYS),
            Column("part", "Part", Kind.RATIO),
            Column("libelle", "Commentaire", Kind.TEXT),
        ),
        rows=(
            Row("a", "Groupe A", (2, Decimal("1234.5"), 12.25, 0.5, "texte libre")),
            Row("b", "Groupe B", (15, Decimal("99.999"), None, 1 / 3, "autre texte")),
        ),
    )


def essai_provider(session, scope):
    projects = list(
        session.scalars(
            select(Project).where(Project.id.in_(scope.project_ids)).order_by(Project.id)
        )
    )
    if not projects:
        return []
    return [outcome_table(projects[0].target_households or 0), cost_table()]


@pytest.fixture
def essai(app):
    registry.provider(essai_provider)
    yield essai_provider
    registry._PROVIDERS.remove(essai_provider)


@pytest.fixture
def people(app):
    """Projet A and Projet B, a coordinator of each, an administrator, a social worker."""
    association = make_organisation()
    p = SimpleNamespace()
    p.a = make_project(name="Projet A")
    p.b = make_project(name="Projet B", target_households=25)
    p.coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[p.a])
    p.other_coordinator = make_user(Role.COORDINATEUR, projects=[p.b])
    p.admin = make_user(Role.ADMIN, organisation=association)
    p.social_worker = make_user(Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[p.a])
    return p
