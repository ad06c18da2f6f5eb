"""The key pages of issue #9 send at most 15 SQL queries, and the same number with 4 and with
24 households behind them (no query per row): the reminders inbox, the household list with a
name search (social worker and coordinator), the caseloads page and the landlord dashboard.

The household file and the indicators page are above 15 by design (one query per kind of
record on the timeline; one per indicator section): see docs/performance.md. Their counts
are still checked not to grow with the data (tests/interventions, tests/reports)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from app.db import db
from app.households.models import HouseholdTeamMember
from app.permissions import Role
from app.reminders.models import Reminder
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

MAX_QUERIES = 15


@pytest.fixture
def world(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    return {
        "landlord": landlord,
        "project": project,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "workers": [make_user(projects=[project]) for _ in range(3)],
        "staff": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord),
        "levels": make_intensity_levels(),
    }


def add_households(w, n: int) -> None:
    today = date.today()
    for i in range(n):
        workers = w["workers"]
        household = make_household(w["project"], referent=workers[i % 3])
        # A colleague on the support team: team members are users too.
        db.session.add(
            HouseholdTeamMember(
                household_id=household.id, user_id=workers[(i + 1) % 3].id, added_on=today
            )
        )
        make_measure(household, intensity_level_id=w["levels"][i % 3].id)
        make_intervention(household, author=workers[(i + 2) % 3], occurred_on=date(2025, 5, 2))
        occupancy = make_occupancy(household, make_dwelling(w["landlord"]))
        for month in (date(2025, 1, 1), date(2025, 4, 1)):
            make_snapshot(occupancy, month, 20_000 * (i % 3))
        if i % 3 == 1:
            make_repayment_plan(occupancy, start_on=date(2025, 2, 1))
        if i % 3 == 2:
            make_procedure_stage(
                occupancy, "commandement_payer", date(2025, 3, 1), recorded_by_id=workers[1].id
            )
        for worker in workers:
            db.session.add(
                Reminder(
                    rule_code="manuel",
                    household_id=household.id,
                    title="Rappeler le ménage",
                    due_on=today + timedelta(days=i % 10 - 3),
                    recipient_user_id=worker.id,
                    created_by_id=workers[0].id,
                )
            )
    db.session.flush()


def count(client, url: str) -> int:
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200, url
    return len(statements)


def search_url(client, term: str) -> str:
    """The list's search form posts the term and redirects to its results."""
    response = client.post("/menages/", data={"q": term})
    assert response.status_code == 302
    return response.headers["Location"]


PAGES = (
    ("workers", "/rappels/"),
    ("workers", "search"),
    ("coordinator", "search"),
    ("coordinator", "/pilotage/"),
    ("staff", "/logements/"),
)


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_key_page_queries_are_few_and_do_not_grow(world, make_client, who, url):
    user = world["workers"][0] if who == "workers" else world[who]
    add_households(world, 4)
    client = make_client()
    client.login(user)
    if url == "search":
        url = search_url(client, "ménage")
    client.get(url)  # warm-up: first-request work (session, caches) is not the page's
    few = count(client, url)
    add_households(world, 20)
    many = count(client, url)
    assert few == many, (few, many)
    assert many <= MAX_QUERIES, many
