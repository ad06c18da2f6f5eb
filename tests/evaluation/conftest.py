"""A small bilan fixture and test providers (the real providers are built elsewhere).

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
from tests.factories import (
    make_household,
    make_landlord,
    make_organisation,
    make_project,
    make_user,
)

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
def providers():
    """Register the test providers for one test, then remove them."""
    added = [tables.provider(households_entered), tables.provider(budget)]
    CALLS.clear()
    yield CALLS
    for func_ in added:
        tables._PROVIDERS.remove(func_)


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
