"""The Accompagnement tab and its forms, through the web client."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.support.models import IntensityLevel, Measure, MeasureRenewal, PostExitCheck
from tests.conftest import page
from tests.factories import (
    make_household,
    make_intensity_levels,
    make_intervention,
    make_landlord,
    make_measure,
    make_objective,
    make_organisation,
    make_project,
    make_tenancy,
    make_user,
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def people(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    make_tenancy(household, landlord)
    return {
        "household": household,
        "worker": worker,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "landlord": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project]),
    }


def test_the_tab_shows_measures_objectives_and_restricted_notes(people, client):
    household = people["household"]
    make_measure(household, type="avdl")
    make_objective(household, title="Constituer le dossier FSL")
    make_intervention(household, author=people["worker"], note="NOTE-EQUIPE")
    for who in ("worker", "coordinator"):
        client.login(people[who])
        body = page(client.get(f"/menages/{household.id}/accompagnement"))
        assert "AVDL" in body and "Constituer le dossier FSL" in body
        assert "NOTE-EQUIPE" in body and "Noter une visite" in body
        client.logout()


def test_the_header_warns_of_an_overdue_review_to_the_support_team_only(
    people, client, make_client
):
    household = people["household"]
    make_measure(household, start_on=today_paris() - timedelta(days=200))
    client.login(people["worker"])
    body = page(client.get(f"/menages/{household.id}"))
    assert "Bilan en retard" in body and "Aucun contact depuis 200 j" in body
    landlord = make_client()
    landlord.login(people["landlord"])
    body = page(landlord.get(f"/menages/{household.id}"))
    assert "Bilan en retard" not in body and "contact depuis" not in body


def test_opening_a_measure_ending_before_it_starts_is_refused(people, client):
    client.login(people["worker"])
    levels = client.get(f"/menages/{people['household'].id}/accompagnement/mesures/nouvelle")
    assert levels.status_code == 200
    level_id = db.session.scalar(select(IntensityLevel.id))  # defaults created on first use
    response = client.post(
        f"/menages/{people['household'].id}/accompagnement/mesures/nouvelle",
        data={
            "type": "asll",
            "intensity_level_id": str(level_id),
            "start_on": "2026-03-01",
            "planned_end_on": "2026-02-01",
        },
    )
    assert response.status_code == 200
    assert "La fin prévue doit être postérieure à la date de début." in page(response)
    assert count(Measure) == 0


def test_a_renewal_without_justification_changes_nothing(people, client):
    measure = make_measure(people["household"])
    client.login(people["worker"])
    url = f"/menages/{people['household'].id}/accompagnement/mesures/{measure.id}/renouveler"
    response = client.post(
        url, data={"expected_version": measure.version, "new_end_on": "2027-06-01"}
    )
    assert response.status_code == 200
    assert "Le renouvellement doit être justifié." in page(response)
    assert count(MeasureRenewal) == 0
    db.session.refresh(measure)
    assert measure.planned_end_on == date(2026, 9, 1)


def test_a_measure_of_another_household_is_not_found(people, client):
    stranger = make_measure(make_household(people["household"].project, referent=make_user()))
    client.login(people["worker"])
    url = f"/menages/{people['household'].id}/accompagnement/mesures/{stranger.id}/renouveler"
    assert client.get(url).status_code == 404


def test_an_exit_through_the_form_schedules_the_checks_once(people, client):
    household = people["household"]
    measure = make_measure(household, type="bail_glissant")
    client.login(people["worker"])
    url = f"/menages/{household.id}/accompagnement/mesures/{measure.id}/sortie"
    data = {
        "expected_version": measure.version,
        "exit_on": today_paris().isoformat(),
        "reason": "objectifs_atteints",
        "housing_situation": "maintenu",
        "is_lease_glissed": "y",
        "handover": "CCAS",
    }
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 200  # closed: refused, nothing added
    assert count(PostExitCheck) == 2
    body = page(client.get(f"/menages/{household.id}/accompagnement"))
    assert "Vérification à 6 mois" in body and "Vérification à 12 mois" in body
    check = db.session.scalar(select(PostExitCheck).where(PostExitCheck.months == 6))
    response = client.post(
        f"/menages/{household.id}/accompagnement/verifications/{check.id}",
        data={
            "expected_version": check.version,
            "done_on": today_paris().isoformat(),
            "is_still_housed": "oui",
            "is_rent_up_to_date": "inconnu",
        },
    )
    assert response.status_code == 302
    db.session.refresh(check)
    assert (check.is_still_housed, check.is_rent_up_to_date) == (True, None)


def test_coordinators_configure_intensity_levels(people, client):
    client.login(people["coordinator"])
    project_id = str(people["household"].project_id)
    response = client.post(
        "/accompagnement/intensites/nouveau",
        data={
            "project_id": project_id,
            "name": "Légère",
            "contact_every_days": "45",
            "caseload_weight": "0,5",
        },
    )
    assert response.status_code == 302
    level = db.session.scalar(select(IntensityLevel).where(IntensityLevel.name == "Légère"))
    assert level.contact_every_days == 45 and str(level.caseload_weight) == "0.5"
    assert level.project_id == people["household"].project_id
    body = page(client.get("/accompagnement/intensites/"))
    assert "Légère" in body and "Un contact tous les 45 jours" in body
    response = client.post(
        "/accompagnement/intensites/nouveau",
        data={
            "project_id": project_id,
            "name": "Trop lente",
            "contact_every_days": "400",
            "caseload_weight": "1",
        },
    )
    assert "entre 1 et 365 jours" in page(response)
    assert count(IntensityLevel, IntensityLevel.name == "Trop lente") == 0


def test_a_coordinator_changes_only_the_levels_of_their_own_projects(people, client):
    """Another association's coordinator, on another project, neither sees, edits nor adds
    to this project's levels; this project's measures never take their levels."""
    household = people["household"]
    ours = make_intensity_levels(household.project)
    other_project = make_project(name="Projet d'une autre association")
    theirs = make_intensity_levels(other_project)
    outsider = make_user(
        Role.COORDINATEUR, organisation=make_organisation(), projects=[other_project]
    )
    client.login(outsider)
    body = page(client.get("/accompagnement/intensites/"))
    assert "Projet d'une autre association" in body and household.project.name not in body
    edit = f"/accompagnement/intensites/{ours[0].id}/modifier"
    assert client.get(edit).status_code == 404
    refused = client.post(
        edit,
        data={
            "name": "Piratée",
            "contact_every_days": "365",
            "caseload_weight": "0,1",
            "is_active": "y",
            "expected_version": str(ours[0].version),
        },
    )
    assert refused.status_code == 404
    refused = client.post(
        "/accompagnement/intensites/nouveau",
        data={
            "project_id": str(household.project_id),
            "name": "Intruse",
            "contact_every_days": "10",
            "caseload_weight": "1",
        },
    )
    assert refused.status_code == 200
    assert count(IntensityLevel, IntensityLevel.name.in_(("Piratée", "Intruse"))) == 0
    db.session.refresh(ours[0])
    assert (ours[0].name, ours[0].contact_every_days) == ("Renforcée", 7)
    # Their own project's levels they do change.
    done = client.post(
        f"/accompagnement/intensites/{theirs[0].id}/modifier",
        data={
            "name": "Renforcée",
            "contact_every_days": "5",
            "caseload_weight": "2",
            "is_active": "y",
            "expected_version": str(theirs[0].version),
        },
    )
    assert done.status_code == 302
    db.session.refresh(theirs[0])
    assert theirs[0].contact_every_days == 5
    db.session.refresh(ours[0])
    assert ours[0].contact_every_days == 7
    # A measure of this project refuses the other project's level.
    client.logout()
    client.login(people["worker"])
    form = page(client.get(f"/menages/{household.id}/accompagnement/mesures/nouvelle"))
    assert f'value="{ours[1].id}"' in form and f'value="{theirs[1].id}"' not in form
    refused = client.post(
        f"/menages/{household.id}/accompagnement/mesures/nouvelle",
        data={
            "type": "asll",
            "intensity_level_id": str(theirs[1].id),
            "start_on": "2026-03-01",
            "planned_end_on": "2026-09-01",
        },
    )
    assert refused.status_code == 200 and count(Measure) == 0


def test_two_first_visits_at_once_create_the_levels_once_and_both_answer(people, client):
    """A project made before its levels came with it: the first visit to the open-measure
    form creates them. Another visit commits the same levels between this one's check and
    its insert (simulated by a second connection at the moment of the flush): the unique
    (project, name) key refuses the second set, and the page still answers with the
    winner's levels instead of a 500."""
    from sqlalchemy import create_engine, event, insert

    from app.support.models import DEFAULT_INTENSITY_LEVELS

    household = people["household"]
    project_id = household.project_id
    client.login(people["worker"])
    db.session.commit()
    other = create_engine(db.engine.url)
    raced = []

    def other_visit_commits_first(session, _context, _instances):
        if raced or not any(isinstance(o, IntensityLevel) for o in session.new):
            return
        raced.append(True)
        with other.begin() as connection:
            for name, days, weight in DEFAULT_INTENSITY_LEVELS:
                connection.execute(
                    insert(IntensityLevel).values(
                        project_id=project_id,
                        name=name,
                        contact_every_days=days,
                        caseload_weight=weight,
                        is_active=True,
                    )
                )

    from sqlalchemy.orm import Session

    event.listen(Session, "before_flush", other_visit_commits_first)
    try:
        response = client.get(f"/menages/{household.id}/accompagnement/mesures/nouvelle")
    finally:
        event.remove(Session, "before_flush", other_visit_commits_first)
        other.dispose()
    assert raced
    assert response.status_code == 200, page(response)[:500]
    assert "Renforcée" in page(response)
    assert count(IntensityLevel, IntensityLevel.project_id == project_id) == 3
