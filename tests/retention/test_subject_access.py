"""Right of access: the complete file of one household, as HTML and as JSON."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.services import record
from app.db import db
from app.permissions import Role
from tests.conftest import page
from tests.factories import make_project, make_user
from tests.retention.helpers import build_file


def _setup():
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household, markers = build_file(project, worker, closed=False)
    # An audit entry about a staff action on this household: not the household's data.
    record(worker, "household.read", household_id=household.id, details={"page": "SECRETSTAFF"})
    db.session.commit()
    return coordinator, worker, household, markers


def _exports():
    return [
        (e.household_id, e.details)
        for e in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "household.subject_access_export")
            .order_by(AuditEntry.id)
        )
    ]


def test_the_html_file_holds_every_field_including_restricted_notes(client):
    coordinator, _, household, markers = _setup()
    client.login(coordinator)
    response = client.get(f"/menages/{household.id}/droit-d-acces")
    assert response.status_code == 200
    text = page(response)
    missing = sorted(f for m, f in markers.items() if m not in text)
    assert missing == []
    assert "intervention.note" in markers.values()
    assert "SECRETSTAFF" not in text
    assert "1985-07-14" in text  # birth dates
    assert 'media="print"' in text
    assert _exports() == [
        (household.id, {"format": "html", "records": _exports()[0][1]["records"]})
    ]
    assert _exports()[0][1]["records"] > 20


def test_the_json_file_parses_and_holds_every_field(client):
    coordinator, _, household, markers = _setup()
    client.login(coordinator)
    response = client.get(f"/menages/{household.id}/droit-d-acces.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = json.loads(response.get_data(as_text=True))
    assert body["household_id"] == household.id
    raw = json.dumps(body, ensure_ascii=False)
    assert sorted(f for m, f in markers.items() if m not in raw) == []
    assert "SECRETSTAFF" not in raw
    tables = {s["table"] for s in body["sections"]}
    assert {"household", "household_member", "intervention", "referral"} <= tables
    assert [d["format"] for _, d in _exports()] == ["json"]


def test_the_social_worker_is_refused_and_nothing_is_exported(client):
    _, worker, household, _ = _setup()
    client.login(worker)
    assert client.get(f"/menages/{household.id}/droit-d-acces").status_code == 403
    assert client.get(f"/menages/{household.id}/droit-d-acces.json").status_code == 403
    assert _exports() == []


def test_a_coordinator_of_another_project_gets_404(client):
    _, _, household, _ = _setup()
    other = make_user(Role.COORDINATEUR, projects=[make_project()])
    db.session.commit()
    client.login(other)
    assert client.get(f"/menages/{household.id}/droit-d-acces").status_code == 404
    assert client.get(f"/menages/{household.id}/droit-d-acces.json").status_code == 404
    assert _exports() == []


def test_the_export_asks_for_the_password_again_after_a_while(client):
    coordinator, _, household, _ = _setup()
    client.login(coordinator)
    with client.session_transaction() as session:
        session["auth_fresh_at"] = 0
    for suffix in ("", ".json"):
        response = client.get(f"/menages/{household.id}/droit-d-acces{suffix}")
        assert response.status_code == 302
        assert "/mon-compte/confirmer" in response.headers["Location"]
    assert _exports() == []
