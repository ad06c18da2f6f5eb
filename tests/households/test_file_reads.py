"""Every page of the household file records that it was read: one ``household.read`` entry
per GET, whichever domain renders the page (they all load the household through
``app.households.file.open_household_file``).

The routes are read from the url_map, so a new page under ``/menages/<id>/`` is checked as
soon as it exists (its path and who may open it come from the permission matrix)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from tests.test_permission_matrix import MATRIX
from tests.world import build_world

PREFIX = "/menages/<int:household_id>"


def _file_get_routes(app) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        in_file = rule.rule.startswith(PREFIX + "/") or rule.rule == PREFIX
        if in_file and "GET" in rule.methods:
            routes.append(f"{rule.endpoint} GET")
    return sorted(routes)


def _reads(household_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "household.read", AuditEntry.household_id == household_id)
    )


def test_the_file_has_pages_in_several_domains(app):
    routes = _file_get_routes(app)
    domains = {route.split(".")[0] for route in routes}
    assert {"households", "housing", "support", "partners", "reminders"} <= domains
    assert len(routes) > 20


def test_every_get_under_a_household_writes_one_read(app, make_client):
    world = build_world()
    household_id = world.household.id
    checked, wrong = [], {}
    for route in _file_get_routes(app):
        case = MATRIX[route]
        allowed = [role for role, status in case.expect.items() if status in (200, 302)]
        allowed = [role for role in allowed if role != "anonyme"]
        assert allowed, f"{route}: nobody may open it in the permission matrix"
        role = next((r for r in allowed if case.expect[r] == 200), allowed[0])
        client = make_client()
        client.login(world.users[role])
        before = _reads(household_id)
        response = client.get(case.path.format(w=world))
        assert response.status_code == case.expect[role], route
        written = _reads(household_id) - before
        checked.append(route)
        if written != 1:
            wrong[route] = written
    assert not wrong, f"household.read entries per GET (expected 1): {wrong}"
    assert len(checked) == len(_file_get_routes(app))


def test_a_post_records_no_read(w, make_client):
    """A button or a form post changes the file; it is audited by its service, not as a
    read (the page it redirects to records the read)."""
    client = make_client()
    client.login(w.users["travailleur_social"])
    before = _reads(w.household.id)
    response = client.post(
        f"/menages/{w.household.id}/etape", data={"csrf_token": client.csrf_token()}
    )
    assert response.status_code == 200  # the form shown again with its errors
    assert _reads(w.household.id) == before
