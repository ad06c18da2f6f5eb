"""Appointments: planning (from the agenda and from the household file) and its validation,
held through the visit form, missed (an attempt), cancelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.agenda.models import Appointment
from app.db import db
from app.formatting import today_paris
from app.interventions.models import Intervention
from tests.conftest import page
from tests.factories import make_appointment
from tests.world import build_world


@pytest.fixture
def w(app):
    world = build_world()
    db.session.commit()
    return world


@pytest.fixture
def worker(w, client):
    client.login(w.users["travailleur_social"])
    return client


def _plan_data(w, **values):
    data = {
        "household_id": str(w.household.id),
        "day": (today_paris() + timedelta(days=2)).isoformat(),
        "at": "15:30",
        "duration_minutes": "45",
        "mode": "bureau",
        "with_whom": "menage",
        "note": "Dossier FSL",
    }
    data.update(values)
    return data


def test_plan_from_the_agenda(w, worker):
    response = worker.post("/agenda/rendez-vous/nouveau", data=_plan_data(w))
    assert response.status_code == 302
    day = today_paris() + timedelta(days=2)
    assert response.headers["Location"] == f"/agenda/?debut={day.isoformat()}"
    created = db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))
    assert created.for_user_id == w.users["travailleur_social"].id
    assert created.status == "prevu" and not created.is_tripartite
    # 15:30 in Paris, stored in UTC (an hour earlier in winter, two in summer).
    paris = created.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (paris.date(), paris.hour, paris.minute) == (day, 15, 30)
    assert created.starts_at.utcoffset() == timedelta(0)
    body = page(worker.get(response.headers["Location"]))
    assert "Rendez-vous planifié le" in body and "15:30" in body


def test_plan_from_the_household_file_a_tripartite_meeting(w, worker):
    response = worker.post(
        f"/menages/{w.household.id}/rendez-vous/nouveau",
        data=_plan_data(w, with_whom="bailleur", mode="autre_lieu", place="Agence Nord"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/menages/{w.household.id}/rendez-vous"
    created = db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))
    assert created.is_tripartite and created.place == "Agence Nord"
    tab = page(worker.get(response.headers["Location"]))
    assert "Rencontre tripartite · Autre lieu · Agence Nord" in tab


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"day": "2020-01-01"}, "Cette date est passée"),
        ({"day": "31/02/2026"}, "Indiquez une date valide"),
        ({"day": "1800-01-01"}, "Indiquez une date entre 1900 et 2100."),
        ({"day": (today_paris() + timedelta(days=900)).isoformat()}, "deux ans"),
        ({"at": "25:99"}, "Indiquez une heure valide"),
        ({"at": ""}, "Indiquez une heure valide"),
        ({"duration_minutes": "0"}, "entre 1 et 480"),
        ({"duration_minutes": "99999999999999999999"}, "entre 1 et 480"),
        ({"mode": "avion"}, "Not a valid choice"),
        ({"mode": "autre_lieu", "place": ""}, "Indiquez le lieu du rendez-vous."),
        ({"household_id": ""}, "Choisissez le ménage."),
    ],
)
def test_plan_validation_answers_in_french(w, worker, values, message):
    before = db.session.scalar(select(db.func.count(Appointment.id)))
    response = worker.post("/agenda/rendez-vous/nouveau", data=_plan_data(w, **values))
    body = page(response)
    assert response.status_code == 200
    if message == "Not a valid choice":
        assert "Not a valid choice" not in body and "Le formulaire contient" in body
    else:
        assert message in body, body[:3000]
    assert db.session.scalar(select(db.func.count(Appointment.id))) == before


def test_a_household_out_of_scope_cannot_be_chosen(w, client):
    client.login(w.users["travailleur_social"])
    data = _plan_data(w, household_id=str(w.other_household.id))
    assert client.post("/agenda/rendez-vous/nouveau", data=data).status_code == 404


def test_a_coordinator_plans_for_a_worker_of_the_team_only(w, client):
    client.login(w.users["coordinateur"])
    worker = w.users["travailleur_social"]
    form = page(client.get("/agenda/rendez-vous/nouveau"))
    assert "Dans l'agenda de" in form and worker.full_name in form
    done = client.post(
        "/agenda/rendez-vous/nouveau", data=_plan_data(w, for_user_id=str(worker.id))
    )
    assert done.status_code == 302
    created = db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))
    assert created.for_user_id == worker.id
    assert created.planned_by_id == w.users["coordinateur"].id


def test_noter_la_visite_prefills_the_form_and_the_visit_holds_the_appointment(w, worker):
    appointment = w.appointment
    form = page(
        worker.get(f"/menages/{w.household.id}/visites/nouvelle?rendez_vous={appointment.id}")
    )
    assert f'name="appointment_id" type="hidden" value="{appointment.id}"' in form
    assert 'value="60"' in form  # the duration
    assert f'value="{today_paris().isoformat()}"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="visite_domicile"', form)
    response = worker.post(
        f"/menages/{w.household.id}/visites/nouvelle",
        data={
            "occurred_on": today_paris().isoformat(),
            "mode": "visite_domicile",
            "duration_minutes": "60",
            "note": "Budget revu ensemble",
            "appointment_id": str(appointment.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    held = db.session.get(Appointment, appointment.id)
    visit = db.session.get(Intervention, held.intervention_id)
    assert held.status == "tenu" and visit.note == "Budget revu ensemble"
    body = page(worker.get(f"/agenda/rendez-vous/{appointment.id}"))
    assert "Tenu" in body and "Noter la visite" not in body


def test_an_unknown_appointment_opens_the_usual_visit_form(w, worker):
    other = make_appointment(w.other_household, w.users["autre_travailleur_social"])
    db.session.commit()
    for value in (str(other.id), "abc", "99999999999999999999999"):
        response = worker.get(f"/menages/{w.household.id}/visites/nouvelle?rendez_vous={value}")
        assert response.status_code == 200
        assert 'name="appointment_id" type="hidden" value=""' in page(response)


def test_non_honore_is_one_tap_and_counts_as_an_attempt(w, worker):
    appointment = w.appointment
    response = worker.post(
        f"/agenda/rendez-vous/{appointment.id}/non-honore",
        data={"expected_version": str(appointment.version), "depuis": "semaine"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/agenda/"
    db.session.expire_all()
    missed = db.session.get(Appointment, appointment.id)
    attempt = db.session.get(Intervention, missed.intervention_id)
    assert missed.status == "non_honore"
    assert attempt.mode == "rdv_non_honore" and attempt.occurred_on == today_paris()
    assert "une tentative de contact est notée" in page(worker.get("/agenda/"))
    # Once closed, nothing more can be done with it.
    again = worker.post(f"/agenda/rendez-vous/{appointment.id}/annuler", data={})
    assert "déjà clos (non honoré)" in page(worker.get(again.headers["Location"]))


def test_a_future_appointment_cannot_be_missed_yet(w, worker):
    appointment = w.tripartite_appointment  # tomorrow
    response = worker.post(f"/agenda/rendez-vous/{appointment.id}/non-honore", data={})
    assert "n'a pas encore eu lieu" in page(worker.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "prevu"


def test_cancel(w, worker):
    appointment = w.tripartite_appointment
    response = worker.post(
        f"/agenda/rendez-vous/{appointment.id}/annuler",
        data={"expected_version": str(appointment.version)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "annule"
    body = page(worker.get("/agenda/"))
    assert "Rendez-vous annulé." in body


def test_a_stale_button_is_refused(w, worker):
    appointment = w.appointment
    response = worker.post(
        f"/agenda/rendez-vous/{appointment.id}/annuler",
        data={"expected_version": str(appointment.version + 5)},
    )
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "prevu"
    assert "modifié" in page(worker.get(response.headers["Location"]))


def test_the_household_tab_shows_the_landlord_only_the_tripartite_appointment(w, make_client):
    landlord = make_client()
    landlord.login(w.users["bailleur"])
    tab = page(landlord.get(f"/menages/{w.household.id}/rendez-vous"))
    assert "Rencontre tripartite" in tab and "Au bureau" in tab
    assert "Au domicile" not in tab and "Préparer le dossier FSL" not in tab
    assert "Noter la visite" not in tab and "Annuler le rendez-vous" not in tab


def test_stored_times_are_utc(w):
    stored = db.session.get(Appointment, w.appointment.id).starts_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored > datetime(2000, 1, 1, tzinfo=UTC)
