"""One-time submission keys: a create form posted twice (a double tap, a reloaded POST, two
requests racing over a slow network) creates once, and the second answer shows the first
result. On both databases."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.db import db
from app.formatting import today_paris
from app.interventions.models import Intervention
from app.permissions import Role
from app.submissions import (
    ALREADY_SAVED,
    DuplicateSubmission,
    FormSubmission,
    new_submission_key,
    remember_submission_key,
)
from tests.conftest import IS_POSTGRES, page
from tests.factories import make_household, make_landlord, make_project, make_user
from tests.test_permission_matrix import MATRIX
from tests.threads import run_in_threads
from tests.world import build_world

_KEY_INPUT = re.compile(r'name="submission_key"[^>]*value="([0-9a-f]{32})"')


def form_key(response) -> str:
    match = _KEY_INPUT.search(response.get_data(as_text=True))
    assert match, "the form carries no submission key"
    return match.group(1)


@pytest.fixture
def people(app):
    project = make_project(lead_landlord=make_landlord())
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    return {
        "worker": worker,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "household": household,
    }


def visits(household_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(Intervention.household_id == household_id))


def _visit_data(key: str | None, **values) -> dict:
    data = {"occurred_on": today_paris().isoformat(), "mode": "telephone", "note": "Appel"}
    if key is not None:
        data["submission_key"] = key
    return {**data, **values}


def test_the_visit_form_posted_twice_records_one_visit_and_shows_the_first(client, people):
    household_id = people["household"].id
    client.login(people["worker"])
    form_url = f"/menages/{household_id}/visites/nouvelle"
    key = form_key(client.get(form_url))

    first = client.post(form_url, data=_visit_data(key))
    second = client.post(form_url, data=_visit_data(key))

    assert first.status_code == 302 and first.headers["Location"] == f"/menages/{household_id}"
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert ALREADY_SAVED in page(client.get(second.headers["Location"]))
    assert visits(household_id) == 1
    recorded = select(func.count()).where(AuditEntry.action == "intervention.recorded")
    assert db.session.scalar(recorded) == 1


def test_a_refused_form_keeps_its_key_and_the_corrected_post_is_saved(client, people):
    household_id = people["household"].id
    client.login(people["worker"])
    form_url = f"/menages/{household_id}/visites/nouvelle"
    key = form_key(client.get(form_url))
    tomorrow = (today_paris() + timedelta(days=1)).isoformat()

    refused = client.post(form_url, data=_visit_data(key, occurred_on=tomorrow))
    assert refused.status_code == 200 and "dans le futur" in page(refused)
    assert form_key(refused) == key and visits(household_id) == 0

    assert client.post(form_url, data=_visit_data(key)).status_code == 302
    assert visits(household_id) == 1


def test_a_post_without_a_key_is_accepted(client, people):
    """Forms rendered before the keys existed (or a hand-made POST) still work: the key
    protects against repeats, it is not a permission."""
    household_id = people["household"].id
    client.login(people["worker"])
    form_url = f"/menages/{household_id}/visites/nouvelle"
    for _ in range(2):
        assert client.post(form_url, data=_visit_data(None)).status_code == 302
    assert visits(household_id) == 2


def test_a_malformed_key_is_ignored_not_an_error(client, people):
    household_id = people["household"].id
    client.login(people["worker"])
    form_url = f"/menages/{household_id}/visites/nouvelle"
    response = client.post(form_url, data=_visit_data("x" * 5000))
    assert response.status_code == 302 and visits(household_id) == 1
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 0


def test_keys_belong_to_their_user(make_client, people):
    household_id = people["household"].id
    form_url = f"/menages/{household_id}/visites/nouvelle"
    worker, coordinator = make_client(), make_client()
    worker.login(people["worker"])
    coordinator.login(people["coordinator"])
    key = form_key(worker.get(form_url))
    assert worker.post(form_url, data=_visit_data(key)).status_code == 302
    assert coordinator.post(form_url, data=_visit_data(key)).status_code == 302
    assert visits(household_id) == 2


def test_a_users_expired_keys_are_deleted_when_they_record_a_new_one(client, people):
    worker = people["worker"]
    old = FormSubmission(
        user_id=worker.id,
        key=new_submission_key(),
        created_at=datetime.now(UTC) - timedelta(days=3),
    )
    recent = FormSubmission(
        user_id=worker.id, key=new_submission_key(), created_at=datetime.now(UTC)
    )
    db.session.add_all([old, recent])
    db.session.flush()
    old_id, recent_id = old.id, recent.id
    client.login(worker)
    form_url = f"/menages/{people['household'].id}/visites/nouvelle"
    client.post(form_url, data=_visit_data(form_key(client.get(form_url))))
    kept = set(db.session.scalars(select(FormSubmission.id)))
    assert old_id not in kept and recent_id in kept and len(kept) == 2


def test_a_creation_whose_key_was_committed_meanwhile_is_rolled_back(app, people):
    """The unique (user, key) is what settles two requests racing: the one that commits
    second fails on the key and its creation goes with it."""
    worker_id, household_id = people["worker"].id, people["household"].id
    key = new_submission_key()
    db.session.commit()
    with Session(db.engine) as other:  # the first request's commit
        other.add(FormSubmission(user_id=worker_id, key=key))
        other.commit()
    with app.test_request_context(method="POST"):
        g.user_id = worker_id
        remember_submission_key(key)
        db.session.add(
            Intervention(household_id=household_id, occurred_on=date(2026, 1, 5), mode="bureau")
        )
        with pytest.raises(DuplicateSubmission):
            db.session.commit()
        db.session.rollback()
    assert visits(household_id) == 0


class _CreationGate:
    """Holds each request at its flush of a new visit until both got there: both passed the
    "already saved?" check before either committed (the true double tap)."""

    def __init__(self):
        self.barrier = threading.Barrier(2, timeout=30)

    def __call__(self, session, _context, _instances):
        if any(isinstance(record, Intervention) for record in session.new):
            self.barrier.wait()

    def __enter__(self):
        event.listen(Session, "before_flush", self)
        return self

    def __exit__(self, *_exc):
        event.remove(Session, "before_flush", self)


@pytest.mark.parametrize("gate", ["at_the_request", "at_the_flush"])
def test_two_posts_of_the_same_form_racing_create_one_visit(app, make_client, people, gate):
    """A double tap over a slow network: both POSTs leave before either answer comes back.
    Released together, or (PostgreSQL) held until both are about to write: one visit, and
    both answers lead to the household file, never a 500."""
    if gate == "at_the_flush" and not IS_POSTGRES:
        pytest.skip(
            "SQLite serialises writing transactions: the second request only starts once the "
            "first committed (covered by test_a_creation_whose_key_was_committed_meanwhile…)"
        )
    household_id = people["household"].id
    form_url = f"/menages/{household_id}/visites/nouvelle"
    client = make_client()
    client.login(people["worker"])
    key = form_key(client.get(form_url))
    client.csrf_token()
    db.session.commit()
    start = threading.Barrier(2, timeout=30)

    def post():
        if gate == "at_the_request":
            start.wait()
        return client.post(form_url, data=_visit_data(key))

    if gate == "at_the_flush":
        with _CreationGate():
            answers = run_in_threads(app, [post, post])
    else:
        answers = run_in_threads(app, [post, post])
    assert [a.status_code for a in answers] == [302, 302]
    assert {a.headers["Location"] for a in answers} == {f"/menages/{household_id}"}
    assert visits(household_id) == 1


# Every page that shows a create form, as a role that may use it (see the permission matrix).
CREATE_PAGES = (
    "organisations.create",
    "projects.create",
    "users.create",
    "households.create",
    "households.add_member",
    "households.orientation",
    "households.diagnostic",
    "households.adhesion",
    "households.consents",
    "households.team",
    "housing.create_dwelling",
    "housing.start_occupancy",
    "housing.record_lease_review",
    "housing.record_gla_action",
    "housing.record_procedure_stage",
    "housing.start_repayment_plan",
    "support.open_measure",
    "support.add_objective",
    "support.record_review",
    "support.create_intensity_level",
    "interventions.create",
    "partners.create",
    "partners.detail",
    "partners.refer",
    "partners.create_meeting",
    "reminders.household",
    "agenda.plan",
    "agenda.plan_for_household",
)


def test_every_create_form_carries_a_submission_key(app, make_client):
    world = build_world()
    missing = []
    for endpoint in CREATE_PAGES:
        case = MATRIX[f"{endpoint} GET"]
        role = next(r for r, status in case.expect.items() if status == 200)
        client = make_client()
        client.login(world.users[role])
        response = client.get(case.path.format(w=world))
        assert response.status_code == 200, endpoint
        if not _KEY_INPUT.search(response.get_data(as_text=True)):
            missing.append(endpoint)
    assert missing == []
