"""Test providers of figure tables, and the worlds the evaluation tests use.

While a test uses one of the provider fixtures, the registry holds that fixture's providers
ONLY (the real providers are set aside), so that every figure the test asserts is worked out
from here.

National export and comparison (``essai``, ``people``):
A small test provider of figure tables, registered for one test and removed after it, and
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

Bilan (``providers``, ``bilan_world``):
A small bilan fixture and test providers (the real providers are built elsewhere).

``households_entered``: the households of the scope's projects whose stage began in the
scope's year, by stage (Maintien, Accès), with a total row — real rows of the database.
``budget``: fixed amounts (2026: 12 000 € and 3 000 €; 2025: 10 000 €), a table that has
no previous-year row for its second line. Every figure asserted is worked out in the tests.

The world (hand-built):
- Projet A, 2026: 6 households in Maintien, 2 in Accès → 6, 2 (masked "< 5"), total 8.
- Projet A, 2025: 3 in Maintien, none in Accès → 3 (masked), 0, total 3 (masked).
- Projet C (the same coordinator), 2026: 4 in Maintien → the association's 2026: Maintien
  6 + 4 = 10, Accès 2 (masked), total 12.
- Projet B (another coordinator), 2026: 5 in Maintien: never in A's or the association's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.evaluation import tables
from app.evaluation.tables import Column, FigureTable, Kind, Row
from app.households.models import Household, HouseholdStage
from app.permissions import Role
from app.projects.models import Project
from tests.factories import (
    make_household,
    make_landlord,
    make_organisation,
    make_project,
    make_user,
)


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
def essai(app, monkeypatch):
    monkeypatch.setattr(tables, "_PROVIDERS", [essai_provider])
    return essai_provider


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


CALLS: list[int] = []


def households_entered(session, scope) -> list[FigureTable]:
    CALLS.append(scope.year)
    counts = dict(
        session.execute(
            select(Household.stage, func.count())
            .where(
                Household.project_id.in_(scope.project_ids),
                Household.stage_since_on.between(scope.start, scope.end),
            )
            .group_by(Household.stage)
        ).all()
    )
    maintien = counts.get(HouseholdStage.MAINTIEN.value, 0)
    acces = counts.get(HouseholdStage.ACCES.value, 0)
    return [
        FigureTable(
            key="test.households_entered",
            axis="publics",
            title="Ménages entrés dans l'étape",
            definition="evaluation-test-entered",
            columns=(Column("households", "Ménages", Kind.COUNT),),
            rows=(
                Row("maintien", "Maintien", (maintien,)),
                Row("acces", "Accès", (acces,)),
                Row("total", "Total", (maintien + acces,)),
            ),
            row_total=True,
        )
    ]


def budget(session, scope) -> list[FigureTable]:
    rows = [Row("state", "État (FNAVDL)", (Decimal("12000"),))]
    if scope.year == 2026:
        rows.append(Row("caf", "CAF", (Decimal("3000.50"),)))
    else:
        rows[0] = Row("state", "État (FNAVDL)", (Decimal("10000"),))
    return [
        FigureTable(
            key="test.budget",
            axis="cofinancing",
            title="Financements obtenus",
            definition="evaluation-test-budget",
            columns=(Column("granted", "Montant accordé", Kind.AMOUNT),),
            rows=tuple(rows),
        )
    ]


@pytest.fixture
def providers(monkeypatch):
    """The test providers, alone in the registry for one test."""
    monkeypatch.setattr(tables, "_PROVIDERS", [households_entered, budget])
    CALLS.clear()
    return CALLS


def _households(project, stage, count, on):
    for _ in range(count):
        make_household(project, stage=stage, stage_since_on=on)


@pytest.fixture
def bilan_world(app, providers):
    landlord = make_landlord(name="Bailleur du bilan")
    association = make_organisation(name="Association du bilan")
    a = make_project(lead_landlord=landlord, name="Projet A")
    b = make_project(lead_landlord=landlord, name="Projet B")
    c = make_project(lead_landlord=landlord, name="Projet C")
    coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[a, c])
    colleague = make_user(Role.COORDINATEUR, organisation=association, projects=[a])
    other = make_user(Role.COORDINATEUR, projects=[b])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[a])
    _households(a, HouseholdStage.MAINTIEN, 6, date(2026, 3, 1))
    _households(a, HouseholdStage.ACCES, 2, date(2026, 5, 1))
    _households(a, HouseholdStage.MAINTIEN, 3, date(2025, 9, 1))
    _households(c, HouseholdStage.MAINTIEN, 4, date(2026, 2, 1))
    _households(b, HouseholdStage.MAINTIEN, 5, date(2026, 2, 1))
    return SimpleNamespace(
        a=a,
        b=b,
        c=c,
        coordinator=coordinator,
        colleague=colleague,
        other=other,
        worker=worker,
        association=association,
        calls=providers,
        a_day=date(2026, 6, 1),
    )
