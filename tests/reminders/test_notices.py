"""Notices: reminders about no household, for coordinators (a new access to their project, a
proposed correction of their organisation's partner entry). They live with the other
reminders — inbox, nav count, done, postponed, digest — but never in the calendar feed."""

from __future__ import annotations

from datetime import timedelta

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.reminders.digest import digest_content
from app.reminders.models import Reminder
from app.reminders.services import create_calendar_feed, notify_project_access
from tests.conftest import page
from tests.factories import make_user


def _notice(team) -> Reminder:
    newcomer = make_user(Role.TRAVAILLEUR_SOCIAL, full_name="Nadia Nouvelle")
    admin = make_user(Role.ADMIN, full_name="Alain Admin")
    (notice,) = notify_project_access(admin, newcomer, [team.project])
    return notice


def test_a_notice_is_postponed_from_the_inbox_by_its_addressees_only(
    app, team, client, make_client
):
    notice = _notice(team)
    client.login(team.coordinator)
    inbox = page(client.get("/rappels/"))
    assert "donné à Nadia Nouvelle" in inbox and "accès donné par Alain Admin" in inbox
    form = client.get(f"/rappels/{notice.id}/reporter")
    assert form.status_code == 200 and "Ménage" not in page(form).split("<h1>")[1]
    later = today_paris() + timedelta(days=3)
    moved = client.post(
        f"/rappels/{notice.id}/reporter",
        data={"new_date": later.isoformat(), "reason": "Voir avec l'équipe", "back": "menage"},
    )
    assert moved.status_code == 302 and moved.headers["Location"] == "/rappels/"
    assert db.session.get(Reminder, notice.id).postponed_to == later
    # The worker of the project is not a coordinator: the notice is not theirs.
    worker = make_client()
    worker.login(team.worker)
    assert "Nadia Nouvelle" not in page(worker.get("/rappels/"))
    assert worker.get(f"/rappels/{notice.id}/reporter").status_code == 404


def test_the_calendar_feed_leaves_notices_out_and_the_digest_names_no_one(app, team, client):
    notice = _notice(team)
    token = create_calendar_feed(team.coordinator)
    feed = client.get(f"/calendrier/{token}.ics")
    assert feed.status_code == 200
    assert "Nadia" not in feed.get_data(as_text=True)
    content = digest_content(team.coordinator, [notice], notice.shown_on, "https://ancrage.test")
    for text in (content.text, content.html):
        assert "Nouvel accès à votre projet" in text
        assert "Nadia" not in text and "Alain" not in text and "/menages/" not in text
