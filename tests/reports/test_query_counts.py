"""The caseload and indicator pages issue the same number of SQL queries for 5 households as
for 60, and recomputing the indicators takes at most 15."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from app.db import db
from app.permissions import Role
from app.support.services import close_measure
from tests.factories import (
    make_dwelling,
    make_household,
    make_intensity_levels,
    make_intervention,
    make_landlord,
    make_measure,
    make_occupancy,
    make_procedure_stage,
    make_project,
    make_repayment_plan,
    make_snapshot,
    make_user,
)


def _populate(n: int):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    workers = [make_user(projects=[project]) for _ in range(3)]
    levels = make_intensity_levels(project)
    for i in range(n):
        household = make_household(project, referent=workers[i % 3], target_publics="sortie_rue")
        measure = make_measure(
            household,
            intensity_level_id=levels[i % 3].id,
            start_on=date(2024, 1 + i % 12, 1),
            planned_end_on=date(2027, 1, 1),
        )
        make_intervention(household, occurred_on=date(2025, 1 + i % 6, 3))
        occupancy = make_occupancy(household, make_dwelling(landlord))
        for month in (date(2025, 1, 1), date(2025, 4, 1)):
            make_snapshot(occupancy, month, 10_000 * (i % 4) * month.month)
        make_repayment_plan(occupancy, start_on=date(2025, 2, 1))
        make_procedure_stage(occupancy, "commandement_payer", date(2025, 3, 1))
        if i % 4 == 0:
            close_measure(
                workers[0],
                measure,
                version=measure.version,
                exit_on=date(2025, 5, 1),
                reason="fin_de_mesure",
                housing_situation="maintenu",
                is_lease_glissed=False,
                handover=None,
                today=date(2025, 5, 1),
            )
    return coordinator


def _count(client, url: str, status: int = 200) -> int:
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == status, url
    return len(statements)


PAGES = (
    "/pilotage/",
    "/pilotage/menages?indicateur=rythme",
    "/pilotage/dossiers-en-souffrance",
    "/pilotage/indicateurs?debut=2025-01-01&fin=2025-06-30",
)


@pytest.mark.parametrize("url", PAGES)
def test_query_count_does_not_grow_with_households(make_client, app, url):
    # The indicators are computed on every request here (no cache), which is what this test
    # counts; the cached page is counted in test_indicator_cache.py.
    app.config["INDICATOR_CACHE_SECONDS"] = 0
    counts = []
    for n in (5, 60):
        coordinator = _populate(n)
        client = make_client()
        client.login(coordinator)
        client.get(url)  # warm-up: first-request work (session, caches) is not the page's
        counts.append(_count(client, url))
    assert counts[0] == counts[1], counts


def test_recomputing_the_indicators_sends_at_most_15_queries(make_client, app):
    # "Recalculer maintenant": every indicator computed, the cache entry replaced, and the
    # redirect back (docs/performance.md: key pages at most 15 queries).
    coordinator = _populate(12)
    client = make_client()
    client.login(coordinator)
    url = "/pilotage/indicateurs?debut=2025-01-01&fin=2025-06-30&recalculer=1"
    client.get(url)  # warm-up
    assert _count(client, url, status=302) <= 15
