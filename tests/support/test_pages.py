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
    make_intervention,
    make_landlord,
    make_measure,
    make_objective,
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
    response = client.post(
        "/accompagnement/intensites/nouveau",
        data={"name": "Légère", "contact_every_days": "45", "caseload_weight": "0,5"},
    )
    assert response.status_code == 302
    level = db.session.scalar(select(IntensityLevel).where(IntensityLevel.name == "Légère"))
    assert level.contact_every_days == 45 and str(level.caseload_weight) == "0.5"
    body = page(client.get("/accompagnement/intensites/"))
    assert "Légère" in body and "Un contact tous les 45 jours" in body
    response = client.post(
        "/accompagnement/intensites/nouveau",
        data={"name": "Trop lente", "contact_every_days": "400", "caseload_weight": "1"},
    )
    assert "entre 1 et 365 jours" in page(response)
    assert count(IntensityLevel, IntensityLevel.name == "Trop lente") == 0
