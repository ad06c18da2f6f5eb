"""A visit's "Prochaine action" comes back as a reminder for its author: opened when the
visit is recorded, moved when the date is corrected, closed by the next contact, by hand or
when the visit is marked as a duplicate; never shown to the landlord's staff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db
from app.formatting import today_paris
from app.interventions import services as visits
from app.reminders.models import NEXT_ACTION_RULE
from tests.conftest import page
from tests.factories import make_household, make_tenancy
from tests.reminders.conftest import reminders

TEXT = "Appeler la CAF pour le dossier APL"


@pytest.fixture(autouse=True)
def _app(app):
    return app


@pytest.fixture
def housed(team):
    household = make_household(team.project, referent=team.worker, reference="PA-0001")
    make_tenancy(household, team.landlord)
    return household


def _visit(team, household, *, days_ago=0, action=TEXT, in_days=5, mode="visite_domicile"):
    today = today_paris()
    return visits.record_visit(
        team.worker,
        household,
        occurred_on=today - timedelta(days=days_ago),
        mode=mode,
        next_action=action,
        next_action_on=today + timedelta(days=in_days) if in_days is not None else None,
    )


def test_a_next_action_opens_a_reminder_for_its_author_on_its_date(team, housed):
    visit = _visit(team, housed)
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.is_open and reminder.recipient_user_id == team.worker.id
    assert reminder.due_on == today_paris() + timedelta(days=5)
    assert (reminder.subject_id, reminder.household_id) == (visit.id, housed.id)
    assert reminder.title == "Prochaine action prévue" and TEXT not in reminder.title
    assert reminder.body is None


def test_without_a_date_it_comes_back_a_week_after_the_visit(team, housed):
    _visit(team, housed, days_ago=2, in_days=None)
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.due_on == today_paris() + timedelta(days=5)


def test_without_a_next_action_there_is_no_reminder(team, housed):
    _visit(team, housed, action=None, in_days=None)
    assert reminders(NEXT_ACTION_RULE) == []


def test_correcting_the_date_moves_the_open_reminder_and_removing_it_closes_it(team, housed):
    visit = _visit(team, housed)
    later = today_paris() + timedelta(days=12)
    visits.correct_intervention(
        team.worker,
        visit,
        version=visit.version,
        note=None,
        shared_summary=None,
        share_with_landlord=False,
        next_action=TEXT,
        next_action_on=later,
    )
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.is_open and reminder.due_on == later
    visits.correct_intervention(
        team.worker,
        visit,
        version=visit.version,
        note=None,
        shared_summary=None,
        share_with_landlord=False,
        next_action=None,
        next_action_on=None,
    )
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert not reminder.is_open and reminder.is_resolved_automatically


def test_the_next_contact_closes_it_but_a_missed_appointment_does_not(team, housed):
    _visit(team, housed, days_ago=3)
    _visit(team, housed, mode="rdv_non_honore", action=None, in_days=None)
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.is_open
    _visit(team, housed, mode="telephone", action=None, in_days=None)
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert not reminder.is_open and reminder.is_resolved_automatically


def test_a_contact_with_its_own_next_action_closes_the_old_one_and_opens_its_own(team, housed):
    first = _visit(team, housed, days_ago=3)
    second = _visit(team, housed, in_days=9, action="Accompagner au CCAS")
    by_subject = {r.subject_id: r for r in reminders(NEXT_ACTION_RULE)}
    assert not by_subject[first.id].is_open and by_subject[second.id].is_open


def test_an_old_visit_typed_in_afterwards_neither_closes_nor_reopens(team, housed):
    _visit(team, housed, days_ago=1)
    # A visit of last month, typed in from paper: it is no later contact, and its own next
    # action was dealt with by the visits since.
    _visit(team, housed, days_ago=30, in_days=2, action="Ancienne action")
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.is_open and reminder.due_on == today_paris() + timedelta(days=5)


def test_marking_the_visit_a_duplicate_closes_it(team, housed):
    visit = _visit(team, housed)
    visits.mark_duplicate(team.worker, visit)
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert not reminder.is_open


def test_done_by_hand_from_the_inbox_with_its_text_shown(client, team, housed):
    _visit(team, housed)
    db.session.commit()
    [reminder] = reminders(NEXT_ACTION_RULE)
    client.login(team.worker)
    body = page(client.get("/rappels/"))
    assert "Prochaine action prévue" in body and TEXT in body
    body = page(client.get(f"/menages/{housed.id}/rappels"))
    assert TEXT in body and f"Pour : {team.worker.full_name}" in body
    response = client.post(f"/rappels/{reminder.id}/fait", data={"note": "Fait au téléphone"})
    assert response.status_code == 302
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert reminder.status == "fait" and reminder.closed_by_id == team.worker.id


def test_landlord_staff_never_see_it_nor_its_text(client, make_client, team, housed):
    _visit(team, housed, in_days=0)
    db.session.commit()
    client.login(team.landlord_staff)
    for path in ("/rappels/", f"/menages/{housed.id}/rappels", "/rappels/?type=prochaine_action"):
        body = page(client.get(path))
        assert TEXT not in body and "Prochaine action prévue" not in body, path
    [reminder] = reminders(NEXT_ACTION_RULE)
    assert client.post(f"/rappels/{reminder.id}/fait").status_code == 404
    # The household's Rappels tab says, for the team, whose reminder it is.
    coordinator = make_client()
    coordinator.login(team.coordinator)
    response = coordinator.get(f"/menages/{housed.id}/rappels")
    assert response.status_code == 200
    body = page(response)
    assert f"Pour : {team.worker.full_name}" in body
