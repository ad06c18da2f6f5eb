"""The inbox, a household's tab, postponing, the thresholds page, the calendar address and
feed, and the sweep command, as users meet them."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from app.db import db
from app.formatting import today_paris
from app.reminders.models import Reminder
from tests.conftest import IS_POSTGRES, page
from tests.factories import make_household, make_intervention, make_meeting, make_tenancy


def _remind(user, household, title, days_from_today: int, **values) -> Reminder:
    """A reminder addressed to ``user``, due ``days_from_today`` (negative: overdue)."""
    reminder = Reminder(
        rule_code=values.pop("rule_code", "manuel"),
        household_id=household.id,
        title=title,
        due_on=today_paris() + timedelta(days=days_from_today),
        recipient_user_id=user.id if user else None,
        **values,
    )
    db.session.add(reminder)
    db.session.flush()
    return reminder


@pytest.fixture
def files(team):
    """Two households followed by the worker (one housed by the landlord), and one of
    another worker that the first may not see."""
    mine = make_household(team.project, referent=team.worker, reference="M-0001")
    housed = make_household(team.project, referent=team.worker, reference="M-0002")
    make_tenancy(housed, team.landlord)
    hidden = make_household(team.project, referent=team.colleague, reference="M-0003")
    return mine, housed, hidden


def test_inbox_groups_what_is_due_and_shows_only_the_users_own(client, team, files):
    mine, housed, hidden = files
    _remind(team.worker, mine, "Bilan en retard", -3)
    _remind(team.worker, housed, "Appeler la CAF", 0)
    _remind(team.worker, mine, "Préparer le FSL", 4)
    _remind(team.worker, mine, "Renouveler la mesure", 20)
    _remind(team.colleague, mine, "Rappel d'une collègue", 0)
    _remind(team.worker, hidden, "Ménage d'un autre référent", 0)  # not visible to the worker
    _remind(team.worker, mine, "Déjà fait", -1, status="fait")
    client.login(team.worker)
    body = page(client.get("/rappels/"))
    sections = {
        name: body.split(f'id="{anchor}"')[1].split("</section>")[0]
        for name, anchor in (
            ("retard", "en-retard"),
            ("jour", "aujourd-hui"),
            ("semaine", "cette-semaine"),
            ("tard", "plus-tard"),
        )
    }
    assert "Bilan en retard" in sections["retard"]
    assert "Appeler la CAF" in sections["jour"] and "M-0002" in sections["jour"]
    assert "Préparer le FSL" in sections["semaine"]
    assert "Renouveler la mesure" in sections["tard"]
    for absent in ("Rappel d'une collègue", "Ménage d'un autre référent", "Déjà fait"):
        assert absent not in body
    # The navigation counts what is due today or overdue.
    assert '2 rappels à traiter">2</span>' in body


def test_landlord_staff_see_reminders_for_their_organisation_only(client, team, files):
    _, housed, _ = files
    staff = Reminder(
        rule_code="attestation_assurance",
        subject_id=1,
        household_id=housed.id,
        title="Attestation d'assurance annuelle",
        due_on=today_paris(),
        recipient_role="personnel_bailleur",
        recipient_organisation_id=team.landlord.id,
    )
    db.session.add(staff)
    _remind(team.worker, housed, "Rappel du référent", 0)
    client.login(team.landlord_staff)
    body = page(client.get("/rappels/"))
    assert "Attestation d'assurance annuelle" in body and "Rappel du référent" not in body
    body = page(client.get(f"/menages/{housed.id}/rappels"))
    assert "Attestation d'assurance annuelle" in body and "Rappel du référent" not in body


def test_mark_done_from_the_inbox(client, team, files):
    reminder = _remind(team.worker, files[0], "Appeler le ménage", 0)
    client.login(team.worker)
    response = client.post(f"/rappels/{reminder.id}/fait", data={"note": "Joint ce matin"})
    assert response.status_code == 302 and response.location.endswith("/rappels/")
    db.session.refresh(reminder)
    assert reminder.status == "fait" and reminder.done_note == "Joint ce matin"
    body = page(client.get("/rappels/"))
    assert "Rappel « Appeler le ménage » marqué comme fait." in body
    assert f'id="rappel-{reminder.id}"' not in body


def test_someone_elses_reminder_is_a_404(client, team, files):
    reminder = _remind(team.colleague, files[0], "Pas pour moi", 0)
    client.login(team.worker)
    assert client.post(f"/rappels/{reminder.id}/fait").status_code == 404
    assert client.get(f"/rappels/{reminder.id}/reporter").status_code == 404


def test_postpone_asks_for_a_reason_then_moves_the_reminder_later(client, team, files):
    reminder = _remind(team.worker, files[0], "Visite à domicile", 0)
    client.login(team.worker)
    later = (today_paris() + timedelta(days=12)).isoformat()
    response = client.post(f"/rappels/{reminder.id}/reporter", data={"new_date": later})
    assert response.status_code == 200
    assert "Indiquez pourquoi le rappel est reporté." in page(response)
    response = client.post(
        f"/rappels/{reminder.id}/reporter",
        data={"new_date": later, "reason": "Ménage hospitalisé", "back": "menage"},
    )
    assert response.location.endswith(f"/menages/{files[0].id}/rappels")
    body = page(client.get("/rappels/"))
    assert "Visite à domicile" in body.split('id="plus-tard"')[1]
    assert "reporté au" in body


def test_household_tab_adds_a_manual_reminder_and_lists_closed_ones(client, team, files):
    mine = files[0]
    client.login(team.worker)
    response = client.post(f"/menages/{mine.id}/rappels", data={"title": "", "due_on": ""})
    assert "Indiquez ce qu'il faudra faire." in page(response)
    due = (today_paris() + timedelta(days=3)).isoformat()
    response = client.post(
        f"/menages/{mine.id}/rappels", data={"title": "Relancer le FSL", "due_on": due}
    )
    assert response.status_code == 302
    reminder = db.session.scalar(select(Reminder).where(Reminder.title == "Relancer le FSL"))
    assert reminder.recipient_user_id == team.worker.id
    closed = _remind(
        team.worker, mine, "Bilan fait", -5, status="fait", is_resolved_automatically=True
    )
    closed.closed_at = closed.created_at
    body = page(client.get(f"/menages/{mine.id}/rappels"))
    assert "Relancer le FSL" in body and "Résolu automatiquement" in body


def test_household_tab_of_a_household_out_of_scope_is_a_404(client, team, files):
    client.login(team.worker)
    assert client.get(f"/menages/{files[2].id}/rappels").status_code == 404


def test_the_administrator_changes_a_threshold(client, app, team):
    from app.permissions import Role
    from tests.factories import make_user

    admin = make_user(Role.ADMIN, organisation=team.association)
    client.login(admin)
    body = page(client.get("/admin/rappels"))
    assert "Alerte « sans contact depuis »" in body
    from app.reminders.queries import current_settings

    data = {key: str(value) for key, value in current_settings().items()}
    data["no_contact_weeks"] = "0"
    assert "Entre 1 et 52." in page(client.post("/admin/rappels", data=data))
    data["no_contact_weeks"] = "10"
    assert client.post("/admin/rappels", data=data).status_code == 302
    assert current_settings()["no_contact_weeks"] == 10


# --- calendar ------------------------------------------------------------------------------


def _feed_url(client) -> str:
    body = page(client.post("/rappels/calendrier"))
    return body.split('id="adresse" type="url" readonly value="')[1].split('"')[0]


def test_calendar_feed_parses_and_holds_no_restricted_text(client, team, files):
    mine, housed, _ = files
    _remind(team.worker, mine, "Texte libre : suivi au CMP pour dépression", 2)
    _remind(team.worker, housed, "Bilan", 1, rule_code="bilan_trimestriel", subject_id=9)
    make_intervention(
        mine,
        team.worker,
        occurred_on=today_paris(),
        note="Note réservée : addiction",
        next_action="Accompagner au CSAPA",
        next_action_on=today_paris() + timedelta(days=5),
    )
    make_meeting(
        housed,
        held_on=today_paris() - timedelta(days=30),
        next_meeting_on=today_paris() + timedelta(days=10),
        decisions="Plan d'apurement de 50 € par mois",
    )
    client.login(team.worker)
    url = _feed_url(client)
    path = url.split("http://localhost", 1)[-1]
    client.logout()  # calendar applications have no session
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type.startswith("text/calendar")
    text = response.get_data(as_text=True)
    calendar = icalendar.Calendar.from_ical(text)
    summaries = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    # The visit's next_action_on is not read by the feed: next actions arrive as
    # « prochaine_action » reminders (tests/agenda/test_feed.py).
    assert summaries == [
        "Bilan de la mesure à faire · ménage M-0002",
        "Rappel personnel · ménage M-0001",
        "Réunion tripartite · ménage M-0002",
    ]
    for restricted in ("CMP", "dépression", "addiction", "CSAPA", "apurement", "Aïcha"):
        assert restricted not in text
    for head in (mine.head, housed.head):
        assert head.last_name not in text


def test_landlord_calendar_has_no_planned_visits(client, team, files):
    _, housed, _ = files
    make_intervention(
        housed, team.landlord_staff, next_action="x", next_action_on=today_paris() + timedelta(1)
    )
    client.login(team.landlord_staff)
    path = _feed_url(client).split("http://localhost", 1)[-1]
    calendar = icalendar.Calendar.from_ical(client.get(path).get_data())
    assert [e for e in calendar.walk("VEVENT") if "Action" in str(e["SUMMARY"])] == []


def test_a_revoked_or_replaced_address_is_a_404(client, team, files):
    client.login(team.worker)
    first = _feed_url(client).split("http://localhost", 1)[-1]
    assert client.get(first).status_code == 200
    second = _feed_url(client).split("http://localhost", 1)[-1]
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert client.post("/rappels/calendrier/revoquer").status_code == 302
    assert client.get(second).status_code == 404
    assert client.get("/calendrier/nimporte-quoi.ics").status_code == 404


def test_the_feed_notes_its_use_at_most_hourly_and_answers_while_the_database_is_busy(
    client, team, files, app
):
    """The feed only reads: noting ``last_used_at`` is best-effort (once an hour) and a
    second process holding SQLite's write lock does not turn it into a 503."""
    from app.reminders.models import CalendarFeed
    from tests.test_db_locking import sqlite_write_lock

    client.login(team.worker)
    path = _feed_url(client).split("http://localhost", 1)[-1]
    client.logout()
    assert client.get(path).status_code == 200
    feed = db.session.scalar(select(CalendarFeed))
    first_use = feed.last_used_at
    assert first_use is not None
    assert client.get(path).status_code == 200
    db.session.refresh(feed)
    assert feed.last_used_at == first_use  # within the hour: not written again
    feed.last_used_at = first_use - timedelta(hours=2)
    db.session.commit()
    if IS_POSTGRES:
        return  # the busy case below is SQLite's write lock
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 200
    with sqlite_write_lock(seconds=15):
        during = client.get(path)
    assert during.status_code == 200, during.get_data(as_text=True)[:300]
    assert icalendar.Calendar.from_ical(during.get_data()).walk("VEVENT") is not None
    db.session.refresh(feed)
    assert feed.last_used_at == first_use - timedelta(hours=2)  # not noted this time
    assert client.get(path).status_code == 200
    db.session.refresh(feed)
    assert feed.last_used_at > first_use  # noted at the next fetch


# --- command line -------------------------------------------------------------------------


def test_sweep_command_runs_one_sweep_at_the_given_date(app, team):
    household = make_household(team.project, referent=team.worker)
    make_tenancy(household, team.landlord, lease_type="bail_glissant", start_on=date(2025, 2, 1))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "sweep", "--now", "2025-07-05"])
    assert result.exit_code == 0, result.output
    assert "Passage du 2025-07-05" in result.output and "1 rappel(s) créé(s)" in result.output
    again = runner.invoke(args=["reminders", "sweep", "--now", "2025-07-05"])
    assert "0 rappel(s) créé(s)" in again.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1
    bad = runner.invoke(args=["reminders", "sweep", "--now", "hier"])
    assert bad.exit_code != 0
