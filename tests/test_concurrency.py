"""Two people saving the same record at the same moment: exactly one wins, the other gets the
stale-edit message (who saved, at what time) on the form, never a 500, and the data is the
winner's. On both databases, including the true race where both requests pass the version
check before either writes (``version_id_col`` then refuses the loser at its flush)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.db import commit_keeping_loaded, db
from app.errors import StaleEditError
from app.formatting import format_time
from app.interventions.models import Intervention, InterventionCorrection
from app.partners.models import Referral
from app.permissions import Role
from tests.conftest import IS_POSTGRES, page
from tests.factories import (
    make_household,
    make_intervention,
    make_landlord,
    make_project,
    make_referral,
    make_user,
)
from tests.threads import run_in_threads

STALE = "Cette fiche a été modifiée par"


@pytest.fixture
def people(app):
    project = make_project(lead_landlord=make_landlord())
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project], full_name="Awa Diallo")
    coordinator = make_user(Role.COORDINATEUR, projects=[project], full_name="Marc Petit")
    household = make_household(project, referent=worker)
    intervention = make_intervention(household, author=worker, note="Premier texte")
    return {
        "worker": worker,
        "coordinator": coordinator,
        "household": household,
        "intervention": intervention,
    }


# --- the lost race at the flush, on one thread ------------------------------------------------


def test_a_flush_that_lost_the_race_is_the_stale_edit_refusal(people):
    """The form's version check passed, then someone else committed before this flush: the
    ``UPDATE … WHERE version = ?`` matches nothing. That is the French refusal naming the
    winner, not SQLAlchemy's StaleDataError."""
    intervention_id, coordinator_id = people["intervention"].id, people["coordinator"].id
    db.session.commit()
    mine = db.session.get(Intervention, intervention_id)
    commit_keeping_loaded()  # my page is loaded; my transaction is over

    with Session(db.engine) as other:  # the other person's request saves first
        theirs = other.get(Intervention, intervention_id)
        theirs.note = "Texte du gagnant"
        theirs.updated_by_id = coordinator_id
        other.commit()
        won_at = theirs.updated_at

    mine.note = "Texte du perdant"
    with pytest.raises(StaleEditError) as refused:
        db.session.flush()
    assert f"{STALE} Marc Petit à {format_time(won_at)}" in refused.value.message
    db.session.rollback()
    assert db.session.get(Intervention, intervention_id).note == "Texte du gagnant"


def test_the_lost_race_at_the_commit_is_refused_the_same_way(people):
    intervention_id = people["intervention"].id
    db.session.commit()
    mine = db.session.get(Intervention, intervention_id)
    commit_keeping_loaded()
    with Session(db.engine) as other:
        other.get(Intervention, intervention_id).note = "Texte du gagnant"
        other.commit()
    mine.note = "Texte du perdant"
    with pytest.raises(StaleEditError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Intervention, intervention_id).note == "Texte du gagnant"


# --- two people, two threads, over HTTP -------------------------------------------------------


def _correct(client, form_url: str, version: int, note: str):
    return client.post(form_url, data={"expected_version": str(version), "note": note})


def _outcome(app, client, response, form_url: str) -> tuple[str, str]:
    """("won", …) for the success redirect, ("stale", text) for the refusal — shown on the
    form at once, or after the redirect back to the form — and ("other", …) otherwise."""
    if response.status_code == 302 and response.headers["Location"].endswith("/accompagnement"):
        return "won", ""
    if response.status_code == 302 and response.headers["Location"] == form_url:
        with app.app_context():
            response = client.get(form_url)
    text = page(response) if response.status_code == 200 else ""
    if STALE in text:
        return "stale", text
    return "other", f"{response.status_code} {text[:300]}"


def _two_editors(app, make_client, people):
    clients = {}
    for who in ("worker", "coordinator"):
        client = make_client()
        client.login(people[who])
        client.csrf_token()
        clients[who] = client
    return clients


@pytest.mark.parametrize("rounds", [5])
def test_two_people_correcting_a_visit_at_the_same_moment(app, make_client, people, rounds):
    """Both post a correction of the same version at once (released together by a barrier):
    one is saved, the other is told who saved it and when; no 500, on both databases."""
    intervention_id = people["intervention"].id
    form_url = f"/menages/{people['household'].id}/visites/{intervention_id}/corriger"
    clients = _two_editors(app, make_client, people)
    for round_ in range(rounds):
        db.session.expire_all()
        version = db.session.get(Intervention, intervention_id).version
        db.session.commit()  # the test holds no transaction while the requests run
        start = threading.Barrier(2, timeout=30)

        def post(who, note, version=version, start=start):
            start.wait()
            response = _correct(clients[who], form_url, version, note)
            return _outcome(app, clients[who], response, form_url)

        notes = {"worker": f"Awa {round_}", "coordinator": f"Marc {round_}"}
        results = run_in_threads(
            app, [lambda w=who, n=note: post(w, n) for who, note in notes.items()]
        )
        kinds = sorted(kind for kind, _ in results)
        assert kinds == ["stale", "won"], results
        winner = "Awa Diallo" if results[0][0] == "won" else "Marc Petit"
        [loser_page] = [text for kind, text in results if kind == "stale"]
        assert f"{STALE} {winner} à " in loser_page
        db.session.expire_all()
        saved = db.session.get(Intervention, intervention_id)
        assert saved.version == version + 1
        assert saved.note == f"{winner.split()[0]} {round_}"


class _FlushGate:
    """Holds each request at its first flush that writes a versioned record of ``model`` until
    both requests got there: both have then passed the version check with the same version,
    the true race that only ``version_id_col`` can settle."""

    def __init__(self, model):
        self.model = model
        self.barrier = threading.Barrier(2, timeout=30)
        self.waited = threading.local()

    def __call__(self, session, _context, _instances):
        if getattr(self.waited, "done", False):
            return
        if any(isinstance(r, self.model) and session.is_modified(r) for r in session.dirty):
            self.waited.done = True
            self.barrier.wait()

    def __enter__(self):
        event.listen(Session, "before_flush", self)
        return self

    def __exit__(self, *_exc):
        event.remove(Session, "before_flush", self)


@pytest.mark.skipif(
    not IS_POSTGRES,
    reason="SQLite serialises writing transactions: a second request cannot pass the version "
    "check before the first commits (the lost flush is covered on SQLite by "
    "test_a_flush_that_lost_the_race_is_the_stale_edit_refusal)",
)
def test_ten_true_races_on_a_visit_correction_never_give_a_500(app, make_client, people):
    """Issue 13: on PostgreSQL the loser got a 500 (StaleDataError) in 8 rounds of 10."""
    intervention_id = people["intervention"].id
    form_url = f"/menages/{people['household'].id}/visites/{intervention_id}/corriger"
    worker, coordinator = people["worker"], people["coordinator"]
    names = {worker.id: worker.full_name, coordinator.id: coordinator.full_name}
    clients = _two_editors(app, make_client, people)
    for round_ in range(10):
        db.session.expire_all()
        version = db.session.get(Intervention, intervention_id).version
        db.session.commit()
        with _FlushGate(Intervention):
            results = run_in_threads(
                app,
                [
                    lambda who=who, r=round_, v=version: _outcome(
                        app,
                        clients[who],
                        _correct(clients[who], form_url, v, f"{who} {r}"),
                        form_url,
                    )
                    for who in ("worker", "coordinator")
                ],
            )
        assert sorted(kind for kind, _ in results) == ["stale", "won"], results
        [loser_page] = [text for kind, text in results if kind == "stale"]
        db.session.expire_all()
        saved = db.session.get(Intervention, intervention_id)
        winner = names[saved.updated_by_id]
        assert results[0 if winner == worker.full_name else 1][0] == "won"
        assert f"{STALE} {winner} à {format_time(saved.updated_at)}" in loser_page
        assert saved.version == version + 1
        corrections = db.session.scalar(
            select(func.count()).where(InterventionCorrection.intervention_id == intervention_id)
        )
        assert corrections == round_ + 1  # the loser's correction row was rolled back


@pytest.mark.skipif(not IS_POSTGRES, reason="see test_ten_true_races_on_a_visit_correction…")
def test_a_true_race_through_the_shared_submit_helper_shows_the_message_on_the_form(
    app, make_client, people
):
    """The views built on ``app.forms.submit`` show the refusal on the form they re-render."""
    referral = make_referral(people["household"], referred_on=date(2026, 1, 5))
    referral_id, version = referral.id, referral.version
    url = f"/menages/{people['household'].id}/partenaires/orientations/{referral_id}"
    clients = _two_editors(app, make_client, people)
    db.session.commit()

    def post(who, status):
        return clients[who].post(
            url, data={"expected_version": str(version), "status": status, "on": "2026-01-10"}
        )

    with _FlushGate(Referral):
        results = run_in_threads(
            app, [lambda: post("worker", "acceptee"), lambda: post("coordinator", "refusee")]
        )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 302], codes
    [refused] = [r for r in results if r.status_code == 200]
    assert STALE in page(refused)
    db.session.expire_all()
    assert db.session.get(Referral, referral_id).status in ("acceptee", "refusee")
