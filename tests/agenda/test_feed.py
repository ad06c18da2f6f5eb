"""The calendar feed, read by a real parser (``icalendar``) and, when installed, imported
into calcurse: appointments are timed events in Europe/Paris with the zone's VTIMEZONE,
reminders and meetings stay all-day, an overdue reminder is shown on today, UIDs carry the
installation's host, and landlord staff receive nothing social."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, datetime, time, timedelta

import icalendar
import pytest

from app.db import db, utcnow
from app.formatting import today_paris
from app.reminders.models import Reminder
from app.reminders.services import create_calendar_feed, create_manual_reminder
from tests.factories import make_appointment
from tests.world import build_world

HOST = "ancrage.exemple.fr"


@pytest.fixture
def app_config():
    return {"PUBLIC_BASE_URL": f"https://{HOST}/"}


@pytest.fixture
def w(app):
    world = build_world()
    worker = world.users["travailleur_social"]
    # A next action written on a visit, as the reminders domain stores it.
    world.next_action = Reminder(
        rule_code="prochaine_action",
        household_id=world.household.id,
        subject_id=world.intervention.id,
        title="Accompagner au rendez-vous FSL",
        due_on=today_paris() + timedelta(days=3),
        recipient_user_id=worker.id,
    )
    db.session.add(world.next_action)
    # The visit's own next-action date is not read by the feed any more.
    world.intervention.next_action = "Texte libre de la visite"
    world.intervention.next_action_on = today_paris() + timedelta(days=5)
    world.overdue = create_manual_reminder(
        worker,
        world.household,
        title="Relancer la CAF",
        due_on=today_paris() - timedelta(days=4),
        now=utcnow() - timedelta(days=4),
    )
    # A summer appointment: Paris is UTC+2 then.
    summer = date(today_paris().year + 1, 7, 15)
    world.summer = make_appointment(world.household, worker, day=summer, at=time(10, 0))
    world.cancelled = make_appointment(world.household, worker, status="annule")
    db.session.commit()
    return world


def _feed(client, token) -> icalendar.Calendar:
    response = client.get(f"/calendrier/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.get_data())


def _events(calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_timed_appointments_all_day_reminders_and_unique_uids(w, client):
    calendar = _feed(client, w.calendar_token)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Paris"
    events = _events(calendar)
    uids = [str(e["UID"]) for e in calendar.walk("VEVENT")]
    assert len(uids) == len(set(uids))
    assert all(uid.endswith(f"@{HOST}") for uid in uids)

    visit = events[f"rendez-vous-{w.appointment.id}@{HOST}"]
    start = visit["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert isinstance(start.dt, datetime)
    assert (start.dt.date(), start.dt.hour, start.dt.minute) == (today_paris(), 14, 0)
    assert visit["DTEND"].dt - start.dt == timedelta(minutes=60)
    assert str(visit["SUMMARY"]) == f"Rendez-vous · ménage {w.household.reference}"
    summer = events[f"rendez-vous-{w.summer.id}@{HOST}"]["DTSTART"].dt
    assert (summer.hour, summer.utcoffset()) == (10, timedelta(hours=2))
    assert f"rendez-vous-{w.cancelled.id}@{HOST}" not in events
    tripartite = events[f"rendez-vous-{w.tripartite_appointment.id}@{HOST}"]
    assert str(tripartite["SUMMARY"]).startswith("Rencontre tripartite · ménage")

    reminder = events[f"rappel-{w.reminder.id}@{HOST}"]
    assert reminder["DTSTART"].params.get("VALUE") == "DATE"
    assert not isinstance(reminder["DTSTART"].dt, datetime)
    assert reminder["DTSTART"].dt == today_paris()
    assert reminder["DTEND"].dt == today_paris() + timedelta(days=1)


def test_next_actions_come_from_reminders_and_overdue_ones_are_on_today(w, client):
    events = _events(_feed(client, w.calendar_token))
    action = events[f"rappel-{w.next_action.id}@{HOST}"]
    assert str(action["SUMMARY"]) == f"Action prévue · ménage {w.household.reference}"
    assert action["DTSTART"].dt == today_paris() + timedelta(days=3)
    # The visit's next_action_on is not read directly: one event for that action only.
    summaries = [str(e["SUMMARY"]) for e in events.values()]
    assert summaries.count(f"Action prévue · ménage {w.household.reference}") == 1
    assert not any(uid.startswith("action-") for uid in events)
    late = events[f"rappel-{w.overdue.id}@{HOST}"]
    assert late["DTSTART"].dt == today_paris()
    assert str(late["SUMMARY"]).startswith("En retard · Rappel personnel · ménage")
    assert "Relancer la CAF" not in "".join(summaries)  # free text never leaves


def test_landlord_staff_receive_tripartite_appointments_and_nothing_social(w, client):
    landlord = w.users["bailleur"]
    token = create_calendar_feed(landlord)
    w.meeting.next_meeting_on = today_paris() + timedelta(days=6)
    db.session.commit()
    response = client.get(f"/calendrier/{token}.ics")
    text = response.get_data(as_text=True)
    events = _events(icalendar.Calendar.from_ical(response.get_data()))
    assert f"rendez-vous-{w.tripartite_appointment.id}@{HOST}" in events
    assert f"rendez-vous-{w.appointment.id}@{HOST}" not in events
    assert f"rappel-{w.next_action.id}@{HOST}" not in events
    assert any(str(e["SUMMARY"]).startswith("Réunion tripartite") for e in events.values())
    assert "Action prévue" not in text and "Rendez-vous ·" not in text


def test_the_feed_imports_into_calcurse(w, client, tmp_path):
    calcurse = shutil.which("calcurse")
    if calcurse is None:
        pytest.skip("calcurse n'est pas installé (apt-get install calcurse) : import non vérifié")
    feed = tmp_path / "ancrage.ics"
    feed.write_bytes(client.get(f"/calendrier/{w.calendar_token}.ics").get_data())
    data = tmp_path / "data"
    data.mkdir()
    base = [calcurse, "-D", str(data), "-C", str(data)]
    # A user in Paris: calcurse shows the times in its local zone.
    env = {**os.environ, "TZ": "Europe/Paris"}
    imported = subprocess.run(
        [*base, "-i", str(feed)], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "/ 0 skipped" in imported.stdout, imported.stdout  # every event understood
    today = today_paris()
    listed = subprocess.run(
        [*base, "-Q", "--from", today.strftime("%m/%d/%Y"), "--days", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert f"Rendez-vous · ménage {w.household.reference}" in out
    assert "14:00 -> 15:00" in out  # the Paris time and the duration of the appointment
    assert f"Rappel personnel · ménage {w.household.reference}" in out
