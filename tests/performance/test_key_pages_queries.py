"""The key pages of issue #9 send at most 15 SQL queries, and the same number with 4 and with
24 households behind them (no query per row): the reminders inbox, the household list with a
name search (social worker and coordinator), the caseloads page and the landlord dashboard.

The household file's Parcours page too (issue #19: its timeline is one query, whatever the
kinds of record), for each kind of viewer, the same with one record of each kind as with
many (no query per record), and « Ma semaine » for a social worker, a coordinator viewing a
worker and landlord staff. The indicators recomputed ("Recalculer maintenant") are counted
in tests/reports/test_query_counts.py."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from app.db import db
from app.households.models import HouseholdTeamMember
from app.permissions import Role
from app.reminders.models import Reminder
from tests.factories import (
    make_consent,
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
        "levels": make_intensity_levels(project),
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
    return len(statements_of(client, url))


def statements_of(client, url: str) -> list[str]:
    """Every SQL statement sent while the page at ``url`` is requested."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200, url
    return statements


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


# --- the household file ------------------------------------------------------------------------

# Every statement of one request (11 for the support team, 12 for landlord staff on SQLite;
# PostgreSQL sends no BEGIN): BEGIN, the viewer, their projects, the household, the audit entry
# of the read, BEGIN, the leases and their reviews (shared with the header), the timeline's
# one UNION ALL (every domain's records the viewer may read; the header's badges take what
# they need from it), the documents linked to the page's events (#17), the reminders count of
# the navigation. Landlord staff: one more, whether the household still consents to sharing
# the visits' summaries.
FILE_MAX_QUERIES = {"workers": MAX_QUERIES, "coordinator": MAX_QUERIES, "staff": MAX_QUERIES}


def add_file_records(w, household, n: int) -> None:
    """``n`` records of each kind on the household's file: visits, leases (one current in the
    landlord's dwellings, the others ended), rent accounts, procedure stages, repayment plans,
    GLA actions, lease reviews, measures (one closed with its exit), support reviews,
    referrals with their history, tripartite meetings, and the path's own records."""
    from app.households import services as household_services
    from app.housing.models import GlaAction, LeaseReview
    from app.support import services as support_services
    from tests.factories import (
        make_meeting,
        make_objective,
        make_partner,
        make_referral,
        make_tenancy,
    )

    worker = w["workers"][0]
    today = date.today()

    def close(measure):
        support_services.close_measure(
            worker,
            measure,
            version=measure.version,
            exit_on=date(2025, 6, 1),
            reason="fin_de_mesure",
            housing_situation="maintenu",
            is_lease_glissed=False,
            handover=None,
            today=today,
        )

    # The current lease and the open measure of an earlier call end: new ones come below.
    for occupancy in household_occupancies(household):
        occupancy.end_on = occupancy.end_on or date(2024, 12, 31)
    for measure in household_open_measures(household):
        close(measure)
    db.session.flush()
    for i in range(n):
        start = date(2020 + i % 4, 1 + i % 12, 1)
        end = None if i == n - 1 else start + timedelta(days=300)
        occupancy = make_tenancy(
            household, w["landlord"], lease_type="bail_glissant", start_on=start, end_on=end
        )
        make_snapshot(occupancy, date(2025, 1 + i % 12, 1), 30_000 * (i + 1))
        make_procedure_stage(occupancy, "commandement_payer", start, recorded_by_id=worker.id)
        make_repayment_plan(occupancy, start_on=start)
        db.session.add(
            GlaAction(occupancy_id=occupancy.id, kind="autre", done_on=start, author_id=worker.id)
        )
        db.session.add(
            LeaseReview(
                occupancy_id=occupancy.id,
                held_on=start,
                decision="poursuite",
                recorded_by_id=worker.id,
            )
        )
        make_intervention(household, author=worker, occurred_on=today - timedelta(days=i))
        make_meeting(household, held_on=start, author_id=worker.id)
        make_referral(household, make_partner(), author_id=worker.id)
        # A closed measure (reviewed, with its exit and checks) each time.
        measure = make_measure(household, intensity_level_id=w["levels"][i % 3].id)
        support_services.record_review(
            worker,
            measure,
            kind="trimestriel",
            held_on=date(2025, 4, 1),
            summary="Point d'étape",
            progress={make_objective(household).id: ("en_cours", None)},
            today=today,
        )
        close(measure)
        household_services.record_orientation(
            worker,
            household,
            prescriber="dalo",
            prescriber_detail=None,
            oriented_on=date(2024, 1, 10),
            kind="acces",
            reason="Hébergée chez un tiers",
            today=today,
        )
        household_services.record_diagnostic(
            worker,
            household,
            carried_out_on=date(2024, 2, 1),
            levels=dict.fromkeys(
                ("pouvoir_louer", "savoir_louer", "savoir_habiter", "environnement"), "acquis"
            ),
            comments={},
            needs=["budget_dettes"],
            recommended_intensity="renforcee",
            today=today,
        )
        household_services.record_adhesion(
            worker, household, signed_on=date(2024, 2, 15), objectives="Budget", today=today
        )
        make_consent(household, "bailleur", "situation_locative", given_on=start)
    make_measure(household, intensity_level_id=w["levels"][0].id)  # the open one
    db.session.flush()


def household_occupancies(household):
    from app.housing.models import Occupancy

    return db.session.scalars(select(Occupancy).where(Occupancy.household_id == household.id)).all()


def extra_statements(few: list[str], many: list[str]) -> str:
    """The statements sent for the larger file and not for the smaller (parameter lists of any
    length count as one), for the failure message."""

    def shape(statement: str) -> str:
        return re.sub(r"\((?:\?|%\(\w+\)s)(?:, (?:\?|%\(\w+\)s))*\)", "(…)", statement)[:150]

    extra = Counter(map(shape, many)) - Counter(map(shape, few))
    return "\n".join(f"{n} × {statement}" for statement, n in extra.items())


def household_open_measures(household):
    from app.support.models import Measure, MeasureStatus

    return db.session.scalars(
        select(Measure).where(
            Measure.household_id == household.id, Measure.status == MeasureStatus.EN_COURS
        )
    ).all()


def file_page_counts(world, make_client, who, page: str) -> tuple[list[str], list[str]]:
    """The statements of a page of a household file with one record of each kind, then
    with seven."""
    user = world["workers"][0] if who == "workers" else world[who]
    household = make_household(world["project"], referent=world["workers"][0])
    add_file_records(world, household, 1)
    client = make_client()
    client.login(user)
    url = f"/menages/{household.id}{page}"
    client.get(url)  # warm-up
    few = statements_of(client, url)
    add_file_records(world, household, 6)
    return few, statements_of(client, url)


@pytest.mark.parametrize("who", ["workers", "coordinator", "staff"])
def test_household_file_queries_do_not_grow_with_the_file(world, make_client, who):
    few, many = file_page_counts(world, make_client, who, "")
    assert len(few) == len(many), extra_statements(few, many)
    assert len(many) <= FILE_MAX_QUERIES[who], "\n".join(s[:120] for s in many)


# --- « Ma semaine » (issue #19) ---------------------------------------------------------------

# Every statement of the week: BEGIN, the viewer, their projects, the appointments (the week's
# and the overdue ones together), the reminders (with their next action's text), the tripartite
# meetings, the measures ending, the post-exit checks, the households' references and names,
# the navigation's reminder count. A coordinator looking at a worker adds the workers they may
# choose from and that worker (roles and projects joined); landlord staff read neither measures
# nor post-exit checks. (SQLite figures.)
WEEK_MAX_QUERIES = {"workers": 10, "coordinator": 12, "staff": 8}


def add_week_items(w, n: int) -> None:
    """``n`` households followed by the first worker, each with a full file and one item of
    every kind in the current week: appointments (a home visit, a tripartite meeting, one
    overdue), a tripartite meeting held and the next one announced, a measure ending, a
    post-exit check due, reminders for the worker (one a visit's next action) and for the
    landlord's staff."""
    from app.formatting import today_paris
    from app.support.models import PostExitCheck
    from tests.factories import make_appointment, make_meeting

    worker, staff = w["workers"][0], w["staff"]
    today = today_paris()
    for i in range(n):
        household = make_household(w["project"], referent=worker)
        add_file_records(w, household, 1)
        make_appointment(household, worker, day=today + timedelta(days=i % 5))
        make_appointment(household, worker, day=today - timedelta(days=2))
        make_appointment(household, worker, day=today + timedelta(days=1), with_whom="bailleur")
        make_meeting(household, held_on=today, next_meeting_on=today + timedelta(days=3))
        for measure in household_open_measures(household):
            measure.planned_end_on = today + timedelta(days=2)
        check = db.session.scalars(
            select(PostExitCheck).where(PostExitCheck.household_id == household.id)
        ).first()
        check.due_on = today + timedelta(days=4)
        visit = make_intervention(
            household, author=worker, next_action=f"Accompagner à la CAF {household.reference}"
        )
        db.session.add_all(
            [
                # Addressed to landlord staff too, so that their week shows the reminder
                # but never the next action's text (defence in depth: the real rule
                # addresses its author only).
                *(
                    Reminder(
                        rule_code="prochaine_action",
                        subject_id=visit.id,
                        household_id=household.id,
                        title="Prochaine action prévue",
                        due_on=today + timedelta(days=days),  # one per day and subject
                        recipient_user_id=user.id,
                    )
                    for user, days in ((worker, 1), (staff, 2))
                ),
                *(
                    Reminder(
                        rule_code="manuel",
                        household_id=household.id,
                        title="Rappeler le ménage",
                        due_on=today,
                        recipient_user_id=user.id,
                        created_by_id=user.id,
                    )
                    for user in (worker, staff)
                ),
            ]
        )
    db.session.flush()


WEEK_KINDS = {
    "workers": {"rendez-vous", "rappel", "reunion", "fin-mesure", "suivi-sortie"},
    "coordinator": {"rendez-vous", "rappel", "reunion", "fin-mesure", "suivi-sortie"},
    "staff": {"rendez-vous", "rappel", "reunion"},
}


@pytest.mark.parametrize("who", ["workers", "coordinator", "staff"])
def test_week_queries_do_not_grow_with_its_items(world, make_client, who):
    worker = world["workers"][0]
    user = worker if who == "workers" else world[who]
    url = f"/agenda/?personne={worker.id}" if who == "coordinator" else "/agenda/"
    add_week_items(world, 1)
    client = make_client()
    client.login(user)
    client.get(url)  # warm-up
    few = statements_of(client, url)
    few_cards = re.findall(r"agenda-item--([\w-]+)", client.get(url).get_data(as_text=True))
    add_week_items(world, 8)
    many = statements_of(client, url)
    body = client.get(url).get_data(as_text=True)
    many_cards = re.findall(r"agenda-item--([\w-]+)", body)
    # The larger week really shows more of every kind the viewer may see, and nothing else.
    assert set(many_cards) == WEEK_KINDS[who]
    assert all(many_cards.count(k) > few_cards.count(k) for k in WEEK_KINDS[who])
    assert ("Accompagner à la CAF" in body) == (who != "staff")
    assert "Prochaine action prévue" in body
    assert len(few) == len(many), extra_statements(few, many)
    assert len(many) <= WEEK_MAX_QUERIES[who], "\n".join(s[:120] for s in many)


# The printable synthesis (issue #19): its dates, reminders, rent account, plan and procedure
# in one UNION ALL; the lease without its reviews; the measures, objectives and last review
# without their history. 13 statements on SQLite for the support team, 10 for landlord staff.
SYNTHESIS_MAX_QUERIES = {"workers": 15, "coordinator": 15, "staff": 15}


@pytest.mark.parametrize("who", ["workers", "coordinator", "staff"])
def test_synthesis_queries_do_not_grow_with_the_file(world, make_client, who):
    few, many = file_page_counts(world, make_client, who, "/synthese")
    assert len(few) == len(many), extra_statements(few, many)
    assert len(many) <= SYNTHESIS_MAX_QUERIES[who], "\n".join(s[:120] for s in many)
