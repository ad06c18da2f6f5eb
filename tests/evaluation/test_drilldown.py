"""The drill-down from an evaluation row to the households it counts: the same query as the
count (so as many households as the count, every row of every table), for the project's own
coordinators only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.db import db
from app.evaluation import axes, outcomes
from app.evaluation.tables import Kind
from app.evaluation.views_drilldown import row_households
from tests.conftest import page
from tests.evaluation.fixtures_outcomes import build_outcomes_world


@pytest.fixture
def world(app):
    return build_outcomes_world()


def _counted(table, row) -> int:
    """The households a row counts: its total column when it has one, else its first COUNT
    column (the convention docs/indicators.md states)."""
    if table.column_total:
        return row.values[-1]
    index = next(i for i, c in enumerate(table.columns) if c.kind is Kind.COUNT)
    return row.values[index]


def test_every_drilldown_lists_as_many_households_as_its_count(world):
    scope = world.scope
    tables = outcomes.outcomes(db.session, scope) + axes.axes(db.session, scope)
    checked = 0
    for table in tables:
        for row in table.rows:
            if row.drilldown is None:
                continue
            ids = row_households(
                world.coordinator,
                world.project.id,
                row.drilldown["table"],
                row.drilldown["row"],
                int(row.drilldown["year"]),
                scope.as_of,
            )
            assert ids is not None, (table.key, row.key)
            listed = db.session.scalar(select(func.count()).select_from(ids.subquery()))
            assert listed == _counted(table, row), (table.key, row.key)
            checked += 1
    # 4 status tables × 5 rows, delays 2, duration 1, path 4, publics 10, resources 10,
    # rhythm 1, adhesion 3, time to adhesion 1.
    assert checked == 4 * 5 + 2 + 1 + 4 + 10 + len(axes.IncomeSource) + 1 + 1 + 3 + 1


def test_the_coordinator_sees_the_cohort_with_links_to_the_files(client, world):
    client.login(world.coordinator)
    response = client.get(
        f"/evaluation/menages/outcomes.status_24m/2023?projet={world.project.id}"
        "&year=2025&as_of=2025-12-31"
    )
    assert response.status_code == 200
    html = page(response)
    # Cohort 2023: H1 and H5, in reference order, each linked to its file.
    assert "Situation 24 mois après" in html  # the table's title
    assert re.findall(r">(E-H\d)<", html) == ["E-H1", "E-H5"]
    assert f'href="/menages/{world.households["H1"].id}"' in html
    assert f'href="/menages/{world.households["H5"].id}"' in html


def test_a_coordinator_of_another_project_gets_404(client, world):
    client.login(world.other_coordinator)
    response = client.get(
        f"/evaluation/menages/outcomes.status_exit/total?projet={world.project.id}&year=2025"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/evaluation/menages/inconnu/total?projet={p}&year=2025",
        "/evaluation/menages/outcomes.status_exit/1999?projet={p}&year=2025",
        "/evaluation/menages/outcomes.status_exit/total?projet={p}&year=abc",
        "/evaluation/menages/outcomes.status_exit/total?projet={p}&year=2025&as_of=31/12",
        "/evaluation/menages/outcomes.status_exit/total?year=2025",
    ],
)
def test_unknown_tables_rows_or_arguments_are_404_never_500(client, world, path):
    client.login(world.coordinator)
    assert client.get(path.format(p=world.project.id)).status_code == 404


def test_the_list_is_paginated(client, world, monkeypatch):
    from app.evaluation import views_drilldown

    monkeypatch.setattr(views_drilldown, "PER_PAGE", 2)
    client.login(world.coordinator)
    base = f"/evaluation/menages/outcomes.status_exit/total?projet={world.project.id}&year=2025"
    first = page(client.get(base))
    # 7 households of cohorts 2022–2025, two a page: E-H1, E-H2 then E-H3, E-H4.
    assert re.findall(r">(E-H\d)<", first) == ["E-H1", "E-H2"]
    assert 'rel="next"' in first
    second = page(client.get(base + "&page=2"))
    assert re.findall(r">(E-H\d)<", second) == ["E-H3", "E-H4"]
