"""The household list: coordinators can show the closed files due for anonymisation."""

from __future__ import annotations

from datetime import timedelta

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.retention.services import add_years
from tests.conftest import page
from tests.factories import make_project, make_user
from tests.retention.helpers import build_file


def _setup():
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    today = today_paris()
    # An exit three years before "in 30 days": its +12-month check (the end of support) is
    # two years before, so the anonymisation falls in 30 days; the other one in 90 days.
    soon_exit = add_years(today + timedelta(days=30), -3)
    later_exit = add_years(today + timedelta(days=90), -3)
    soon, _ = build_file(project, worker, exit_on=soon_exit)
    later, _ = build_file(project, worker, exit_on=later_exit)
    open_file, _ = build_file(project, worker, closed=False)
    db.session.commit()
    return coordinator, worker, soon, later, open_file


def test_coordinators_filter_the_files_due_within_60_days(client):
    coordinator, _, soon, later, open_file = _setup()
    client.login(coordinator)
    everything = page(client.get("/menages/"))
    assert all(h.reference in everything for h in (soon, later, open_file))
    assert "À anonymiser dans les 60 jours" in everything
    assert everything.count("Anonymisation le ") == 1
    due = page(client.get("/menages/?anonymisation=60j"))
    assert soon.reference in due
    assert later.reference not in due
    assert open_file.reference not in due


def test_the_filter_is_ignored_for_social_workers(client):
    _, worker, soon, later, open_file = _setup()
    client.login(worker)
    text = page(client.get("/menages/?anonymisation=60j"))
    assert "À anonymiser" not in text
    assert "Anonymisation le " not in text
    assert all(h.reference in text for h in (soon, later, open_file))
