"""Application logs: one JSON object a line with LOG_FORMAT=json, the request id echoed in
X-Request-Id, identifiers only — never a name, an e-mail address or typed text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import create_app
from app.config import ConfigurationError
from app.db import db
from app.demo import DEMO_PASSWORD
from app.households.models import Member
from app.households.queries import visible_households
from app.permissions import Role
from app.users.models import User
from tests.conftest import BASE_CONFIG


@pytest.fixture
def app_config():
    return {"LOG_FORMAT": "json"}


def _request_lines(stderr: str) -> dict[str, dict]:
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    return {e["request_id"]: e for e in entries if e["logger"] == "ancrage.request"}


def test_json_lines_carry_the_request_id_and_no_names(client, demo_data, capsys):
    worker = next(u for u in demo_data if u.has_role(Role.TRAVAILLEUR_SOCIAL))
    household = db.session.scalars(visible_households(worker)).first()
    member = db.session.scalar(select(Member).where(Member.household_id == household.id))
    capsys.readouterr()  # forget what loading the demo logged

    responses = [
        client.post("/connexion", data={"email": worker.email, "password": "mauvais-mot"}),
    ]
    client.login(worker, password=DEMO_PASSWORD)
    responses += [
        client.get("/accueil"),
        client.post("/menages/", data={"q": member.last_name}),  # a search for a name
        client.get(f"/menages/{household.id}"),
        client.get("/page-qui-n-existe-pas"),
    ]
    stderr = capsys.readouterr().err

    # Every line is one JSON object (json.loads fails on anything else).
    logged = _request_lines(stderr)
    for response in responses:
        request_id = response.headers["X-Request-Id"]
        entry = logged[request_id]
        assert entry["status"] == response.status_code
        assert entry["method"] in {"GET", "POST"}
        assert isinstance(entry["duration_ms"], int | float)
        assert set(entry) >= {"time", "level", "endpoint", "user_id"}
    visit = logged[responses[3].headers["X-Request-Id"]]
    assert (visit["endpoint"], visit["user_id"]) == ("households.show", worker.id)
    assert logged[responses[0].headers["X-Request-Id"]]["user_id"] is None

    names = {u.full_name for u in db.session.scalars(select(User))}
    names |= {m.first_name for m in db.session.scalars(select(Member))}
    names |= {m.last_name for m in db.session.scalars(select(Member))}
    emails = {u.email for u in db.session.scalars(select(User))}
    leaked = {value for value in names | emails if value and value in stderr}
    assert leaked == set()


def test_plain_text_lines_by_default(database_url, capsys):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    response = app.test_client().get("/sante")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert not line.startswith("{")
    assert " INFO ancrage.request GET health.alive 200 " in line
    assert f" request_id={response.headers['X-Request-Id']} user_id=None " in line


def test_an_unknown_log_format_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        create_app({**BASE_CONFIG, "DATABASE_URL": database_url, "LOG_FORMAT": "xml"})
