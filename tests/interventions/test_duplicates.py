"""A visit entered twice by mistake: its author or a coordinator marks it "saisie en double";
it stays in the file, struck through, and leaves every count (contacts, contact rhythms and
their reminders, caseloads, indicators). Visits are never deleted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError, NotAllowed
from app.households.models import HouseholdTeamMember
from app.interventions import services
from app.interventions.models import Intervention
from app.interventions.queries import last_contact_on, shared_summaries
from app.permissions import Role
from app.reports.queries import Period, caseloads, indicators
from app.support.queries import contacts_overdue
from tests.conftest import page
from tests.factories import (
    make_consent,
    make_household,
    make_intervention,
    make_landlord,
    make_measure,
    make_organisation,
    make_project,
    make_tenancy,
    make_user,
)

TODAY = date(2026, 3, 12)
QUARTER = Period(date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def file(app):
    """A household of the worker's, followed at the 14-day rhythm since 2025: a visit on 20
    February, and one on 10 March entered twice."""
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    make_tenancy(household, landlord)
    colleague = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    db.session.add(
        HouseholdTeamMember(household_id=household.id, user_id=colleague.id, added_on=TODAY)
    )
    make_measure(household, start_on=date(2025, 3, 1))  # soutenue: every 14 days
    earlier = make_intervention(household, author=worker, occurred_on=date(2026, 2, 20))
    visit = make_intervention(household, author=worker, occurred_on=date(2026, 3, 10))
    again = make_intervention(household, author=worker, occurred_on=date(2026, 3, 10))
    return {
        "household": household,
        "worker": worker,
        "colleague": colleague,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "landlord": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project]),
        "stranger": make_user(
            Role.TRAVAILLEUR_SOCIAL,
            organisation=make_organisation(),
            projects=[make_project(lead_landlord=make_landlord())],
        ),
        "earlier": earlier,
        "visit": visit,
        "again": again,
        "project": project,
    }


def _url(file, visit=None) -> str:
    visit = visit or file["again"]
    return f"/menages/{file['household'].id}/visites/{visit.id}/doublon"


def _contacts_in_quarter(file) -> int:
    return indicators(file["coordinator"], [file["project"].id], QUARTER).values()["contacts"]


def _households_late(file) -> int:
    rows = caseloads(file["coordinator"], [file["project"].id], TODAY).rows
    return sum(row.contact_overdue for row in rows)


def test_the_author_marks_a_visit_entered_twice_and_it_stops_counting(client, file):
    household = file["household"]
    # The real visit of 10 March keeps the household on rhythm; mark the real one as the
    # duplicate to see every count move.
    assert (_contacts_in_quarter(file), _households_late(file)) == (3, 0)
    client.login(file["worker"])

    confirm = client.get(_url(file, file["visit"]))
    assert confirm.status_code == 200 and "Confirmer : saisie en double" in page(confirm)
    response = client.post(_url(file, file["visit"]))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/menages/{household.id}/accompagnement"
    assert "elle ne compte plus" in page(client.get(response.headers["Location"]))
    assert _contacts_in_quarter(file) == 2

    client.post(_url(file))  # both visits of 10 March were the same mistake
    db.session.expire_all()
    assert _contacts_in_quarter(file) == 1
    assert last_contact_on(household.id) == date(2026, 2, 20)
    [late] = contacts_overdue(TODAY)
    assert (late.household_id, late.due_on) == (household.id, date(2026, 3, 6))
    assert _households_late(file) == 1

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "intervention.marked_duplicate")
    ).all()
    assert sorted(e.target_id for e in entries) == sorted([file["visit"].id, file["again"].id])
    assert {(e.actor_id, e.household_id) for e in entries} == {(file["worker"].id, household.id)}


def test_the_marked_visit_stays_in_the_file_struck_through(client, file):
    client.login(file["worker"])
    client.post(_url(file))
    support_tab = page(client.get(f"/menages/{file['household'].id}/accompagnement"))
    assert support_tab.count("timeline__item--duplicate") == 1
    assert "Saisie en double</strong> : ne compte pas" in support_tab
    assert "Annuler le marquage" in support_tab
    timeline = page(client.get(f"/menages/{file['household'].id}"))
    assert timeline.count("timeline__item--duplicate") == 1
    assert db.session.get(Intervention, file["again"].id) is not None


def test_a_coordinator_may_mark_a_workers_visit(client, file):
    client.login(file["coordinator"])
    assert client.post(_url(file)).status_code == 302
    db.session.expire_all()
    marked = db.session.get(Intervention, file["again"].id)
    assert marked.is_duplicate and marked.duplicate_marked_by_id == file["coordinator"].id


@pytest.mark.parametrize(
    ("who", "status"), [("colleague", 403), ("landlord", 403), ("stranger", 404)]
)
def test_nobody_else_may_mark_it(make_client, file, who, status):
    """A colleague on the team (not the author), landlord staff (no social content) and a
    worker of another organisation (the household is out of their scope)."""
    client = make_client()
    client.login(file[who])
    assert client.get(_url(file)).status_code == status
    assert client.post(_url(file)).status_code == status
    assert client.post(_url(file) + "/annuler").status_code == status
    db.session.expire_all()
    assert not db.session.get(Intervention, file["again"].id).is_duplicate
    marked = select(AuditEntry).where(AuditEntry.action == "intervention.marked_duplicate")
    assert db.session.scalars(marked).all() == []


def test_the_marking_can_be_undone_and_the_visit_counts_again(client, file):
    client.login(file["worker"])
    client.post(_url(file))
    assert _contacts_in_quarter(file) == 2
    response = client.post(_url(file) + "/annuler")
    assert response.status_code == 302
    db.session.expire_all()
    assert _contacts_in_quarter(file) == 3
    assert not db.session.get(Intervention, file["again"].id).is_duplicate
    undone = select(AuditEntry).where(AuditEntry.action == "intervention.duplicate_unmarked")
    assert db.session.scalars(undone).one().target_id == file["again"].id


def test_the_rules_of_the_service(file):
    again = file["again"]
    with pytest.raises(NotAllowed):
        services.mark_duplicate(file["colleague"], again)
    services.mark_duplicate(file["worker"], again)
    with pytest.raises(DomainError, match="déjà marquée"):
        services.mark_duplicate(file["coordinator"], again)
    services.unmark_duplicate(file["coordinator"], again)
    with pytest.raises(DomainError, match="n'est pas marquée"):
        services.unmark_duplicate(file["worker"], again)


def test_the_landlord_no_longer_reads_the_summary_of_a_duplicate(file):
    household = file["household"]
    make_consent(household, "bailleur", "situation_sociale")
    shared = make_intervention(
        household,
        author=file["worker"],
        occurred_on=date(2026, 3, 10),
        shared_summary="Le ménage a repris ses paiements.",
        is_summary_shared=True,
    )
    assert shared in shared_summaries(household)
    services.mark_duplicate(file["worker"], shared)
    db.session.flush()
    assert shared not in shared_summaries(household)
