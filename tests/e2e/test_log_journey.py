"""With LOG_FORMAT=json, a full browser journey (a social worker searches a household by name,
opens its file, notes a visit with free text, opens the housing tab; landlord staff open their
dashboard and the same file) writes one JSON object a line, one line per request with its
request id, endpoint, status and duration, and no name, e-mail address, search term or typed
note anywhere in the log (app/logs.py)."""

from __future__ import annotations

import json
import logging

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.households.models import Household, Member
from app.households.queries import visible_households
from app.users.models import User
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.e2e

WORKER = "sophie.martin@traitdunion.demo"
LANDLORD_STAFF = "gestion@rhonehabitat.demo"
NOTE = "PHRASE-TEMOIN : confidences sur la santé de la famille"


@pytest.fixture
def app_config():
    return {"LOG_FORMAT": "json"}


@pytest.fixture
def no_dev_server_access_log():
    """The live server is Werkzeug's development server, whose access log (one line per
    request with its path) goes through our handler. Production serves with gunicorn and its
    access log off (``ancrage serve``, app/cli.py): silence the stand-in the same way, keeping
    its warnings and errors in the scanned log."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def journey(demo_data):
    """A household Sophie Martin follows that the landlord's staff also see, and the name
    she will type to find it. Plain values: no transaction stays open in the test thread."""
    worker = db.session.scalar(select(User).where(User.email == WORKER))
    staff = db.session.scalar(select(User).where(User.email == LANDLORD_STAFF))
    shared = set(db.session.scalars(visible_households(staff).with_only_columns(Household.id)))
    household = next(
        h
        for h in db.session.scalars(visible_households(worker).order_by(Household.id))
        if h.referent_id == worker.id and h.id in shared
    )
    head = db.session.scalars(
        select(Member).where(Member.household_id == household.id).order_by(Member.id)
    ).first()
    values = {
        "household_id": household.id,
        "reference": household.reference,
        "search": head.last_name,
        "worker_id": worker.id,
        "staff_id": staff.id,
    }
    db.session.rollback()
    return values


def _secrets() -> set[str]:
    """What must never reach a log line: people's names and the users' e-mail addresses."""
    values = {u.full_name for u in db.session.scalars(select(User))}
    values |= {u.email for u in db.session.scalars(select(User))}
    for member in db.session.scalars(select(Member)):
        values |= {member.first_name, member.last_name}
    db.session.rollback()
    return {value for value in values if value}


def test_a_browser_journey_logs_json_lines_without_names(
    no_dev_server_access_log, journey, live_server, page: Page, capsys
):
    capsys.readouterr()  # forget what loading the demo logged
    household_url = f"{live_server}/menages/{journey['household_id']}"

    # The social worker searches the household by name, opens it, notes a visit.
    log_in(page, live_server, WORKER)
    expect(page).to_have_url(f"{live_server}/agenda/")  # « Ma semaine »
    page.goto(f"{live_server}/menages/")
    page.get_by_label("Rechercher").fill(journey["search"])
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=journey["reference"], exact=True).click()
    expect(page).to_have_url(household_url)
    page.get_by_role("link", name="Noter une visite").click()
    page.get_by_label("Visite à domicile").check()
    page.get_by_label("Durée (minutes)").fill("30")
    page.get_by_label("Note de l'équipe").fill(NOTE)
    page.get_by_role("button", name="Enregistrer la visite").click()
    expect(page.get_by_text("Visite enregistrée.")).to_be_visible()
    page.get_by_role("navigation", name="Rubriques du dossier").get_by_role(
        "link", name="Logement"
    ).click()
    expect(page).to_have_url(f"{household_url}/logement")
    page.get_by_role("button", name="Se déconnecter").click()

    # Landlord staff: their dashboard, then the same file.
    log_in(page, live_server, LANDLORD_STAFF)
    expect(page).to_have_url(f"{live_server}/logements/")
    page.goto(household_url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()

    log = capsys.readouterr().err
    lines = [line for line in log.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert all(isinstance(entry, dict) for entry in entries)
    requests = [e for e in entries if e["logger"] == "ancrage.request"]
    assert requests == entries, "every line is a request line"
    for entry in requests:
        assert entry["request_id"]
        assert entry["endpoint"]
        assert isinstance(entry["status"], int)
        assert isinstance(entry["duration_ms"], int | float)

    # The journey is in the log: each page visited, by the right person.
    seen = {(e["method"], e["endpoint"], e["status"], e["user_id"]) for e in requests}
    worker, staff = journey["worker_id"], journey["staff_id"]
    assert {
        ("POST", "auth.login", 302, None),
        ("GET", "households.index", 200, worker),
        ("POST", "households.index", 302, worker),
        ("GET", "households.show", 200, worker),
        ("GET", "interventions.create", 200, worker),
        ("POST", "interventions.create", 302, worker),
        ("GET", "housing.household", 200, worker),
        ("GET", "housing.dashboard", 200, staff),
        ("GET", "households.show", 200, staff),
        ("POST", "auth.logout", 302, staff),
    } <= seen

    secrets = _secrets() | {journey["search"], NOTE, "PHRASE-TEMOIN"}
    leaked = sorted(value for value in secrets if value in log)
    assert leaked == []
