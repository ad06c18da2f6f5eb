"""« Ma semaine »: what each role sees in a week, the coordinator's view of a worker, the week
navigation, and the home page of social workers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db, utcnow
from app.formatting import today_paris
from app.reminders.services import create_manual_reminder
from tests.conftest import page
from tests.factories import make_appointment
from tests.world import build_world


@pytest.fixture
def w(app):
    world = build_world()
    db.session.commit()
    return world


def _week(make_client, user, path="/agenda/"):
    client = make_client()
    client.login(user)
    response = client.get(path)
    return response.status_code, page(response)


def test_a_social_worker_lands_on_their_week(w, make_client):
    client = make_client()
    client.login(w.users["travailleur_social"])
    assert client.get("/").headers["Location"] == "/agenda/"
    body = page(client.get("/agenda/"))
    ref = w.household.reference
    assert "<h1>Ma semaine</h1>" in body
    today = body.split("Aujourd'hui ·")[1].split("<h2")[0]
    assert f"Rendez-vous · ménage {ref}" in today and "14:00" in today
    assert "Appeler le ménage" in today  # their reminder due today
    assert "Noter la visite" in today and "Non honoré" in today
    tomorrow = body.split("Aujourd'hui ·")[1].split("<h2")[1]
    assert f"Rencontre tripartite · ménage {ref}" in tomorrow and "10:00" in tomorrow
    # Coordinators still start from their households.
    coordinator = make_client()
    coordinator.login(w.users["coordinateur"])
    assert coordinator.get("/").headers["Location"].startswith("/menages")


def test_overdue_items_come_first(w, make_client):
    worker = w.users["travailleur_social"]
    late = create_manual_reminder(
        worker,
        w.household,
        title="Relancer la CAF",
        due_on=today_paris() - timedelta(days=3),
        now=utcnow() - timedelta(days=3),
    )
    make_appointment(
        w.household, worker, day=today_paris() - timedelta(days=2), note="Oubli de saisie"
    )
    db.session.commit()
    _status, body = _week(make_client, worker)
    overdue = body.split('id="en-retard"')[1].split("Aujourd'hui ·")[0]
    assert late.title in overdue and "Oubli de saisie" in overdue
    assert body.index('id="en-retard"') < body.index("Aujourd'hui ·")
    # A week that does not hold today has no overdue section.
    later = (today_paris() + timedelta(days=14)).isoformat()
    _status, body = _week(make_client, worker, f"/agenda/?debut={later}")
    assert 'id="en-retard"' not in body and "Relancer la CAF" not in body


def test_measures_ending_and_post_exit_checks_are_in_the_worker_s_week(w, make_client):
    w.measure.planned_end_on = today_paris() + timedelta(days=2)
    w.post_exit_check.due_on = today_paris() + timedelta(days=4)
    w.post_exit_check.done_on = None
    db.session.commit()
    _status, body = _week(make_client, w.users["travailleur_social"])
    assert "Fin de mesure prévue" in body
    assert f"Suivi après la sortie ({w.post_exit_check.months} mois)" in body
    # Landlord staff see neither.
    _status, body = _week(make_client, w.users["bailleur"])
    assert "Fin de mesure" not in body and "Suivi après la sortie" not in body


def test_a_coordinator_looks_at_one_worker_s_week(w, make_client):
    worker = w.users["travailleur_social"]
    coordinator = w.users["coordinateur"]
    _status, own = _week(make_client, coordinator)
    assert "Rendez-vous · ménage" not in own  # the appointments are in the worker's agenda
    assert f'<option value="{worker.id}"' in own
    status, theirs = _week(make_client, coordinator, f"/agenda/?personne={worker.id}")
    assert status == 200 and f"Semaine de {worker.full_name}" in theirs
    assert f"Rendez-vous · ménage {w.household.reference}" in theirs
    assert "Appeler le ménage" in theirs
    # A worker of another organisation, or an unknown id: 404.
    other = w.users["autre_travailleur_social"]
    assert _week(make_client, coordinator, f"/agenda/?personne={other.id}")[0] == 404
    assert _week(make_client, coordinator, "/agenda/?personne=999999")[0] == 404
    # A social worker cannot look at someone else's week.
    assert _week(make_client, worker, f"/agenda/?personne={coordinator.id}")[0] == 404


def test_landlord_staff_see_only_tripartite_meetings_and_their_reminders(w, make_client):
    landlord = w.users["bailleur"]
    create_manual_reminder(
        landlord, w.household, title="Relancer l'assurance", due_on=today_paris()
    )
    w.meeting.next_meeting_on = today_paris() + timedelta(days=3)
    db.session.commit()
    status, body = _week(make_client, landlord)
    ref = w.household.reference
    assert status == 200
    assert f"Rencontre tripartite · ménage {ref}" in body
    assert f"Réunion tripartite · ménage {ref}" in body
    assert "Relancer l'assurance" in body
    assert f"Rendez-vous · ménage {ref}" not in body  # the home visit
    assert "Appeler le ménage" not in body  # the worker's reminder
    assert "Préparer le dossier FSL" not in body  # an appointment's note
    assert "Au domicile" not in body
    assert "Noter la visite" not in body and "Planifier un rendez-vous" not in body


def test_another_organisation_sees_nothing_of_the_household(w, make_client):
    for role in ("autre_travailleur_social", "autre_bailleur"):
        status, body = _week(make_client, w.users[role])
        assert status == 200 and w.household.reference not in body
        client = make_client()
        client.login(w.users[role])
        assert client.get(f"/agenda/rendez-vous/{w.appointment.id}").status_code == 404
        assert client.get(f"/agenda/rendez-vous/{w.tripartite_appointment.id}").status_code == 404


@pytest.mark.parametrize("value", ["2026-13-45", "hier", "1800-01-01", "9999-12-31", "2026-02-30"])
def test_a_bad_week_date_is_answered_in_french(w, make_client, value):
    status, body = _week(make_client, w.users["travailleur_social"], f"/agenda/?debut={value}")
    assert status == 200
    assert "La date demandée n'est pas valide" in body
    assert "Aujourd'hui ·" in body  # the current week is shown


def test_week_navigation(w, make_client):
    start = today_paris() + timedelta(days=7)
    status, body = _week(make_client, w.users["travailleur_social"], f"/agenda/?debut={start}")
    assert status == 200
    assert f"?debut={start - timedelta(days=7)}" in body
    assert f"?debut={start + timedelta(days=7)}" in body
    assert "Aujourd'hui ·" not in body


def test_the_week_names_households_as_their_file_does(w):
    from app.agenda.week import household_labels
    from tests.factories import make_household

    headless = make_household(w.project)
    for member in headless.members:
        member.is_head = False
    db.session.flush()
    db.session.expire_all()
    labels = household_labels({w.household.id, headless.id})
    for household in (w.household, headless):
        label = labels[household.id]
        assert label.reference == household.reference
        assert label.display_name == household.display_name
    assert labels[headless.id].display_name == headless.reference
    assert labels[w.household.id].display_name != w.household.reference
