"""/sante and /sante/pret: no login, a small JSON answer, 503 for each failing condition."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import text

from app import create_app
from app.db import db, utcnow
from app.scheduler import SchedulerHeartbeat, _run_in_context, beat
from tests.conftest import BASE_CONFIG, IS_POSTGRES

ALL_OK = {"base_de_donnees": "ok", "migrations": "ok", "planificateur": "ok"}


@pytest.fixture
def stamped(app):
    """The test database (built from the models) recorded as migrated to the head, as
    ``ancrage db upgrade`` leaves a real one."""
    db.session.commit()
    stamp(revision="head")
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


def _ready(client):
    response = client.get("/sante/pret")
    return response.status_code, response.get_json()


def test_alive_answers_without_login(client):
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json() == {"statut": "ok"}


def test_ready_when_the_database_is_migrated_and_the_scheduler_beats(client, stamped):
    beat(utcnow() - timedelta(minutes=5))
    assert _ready(client) == (200, {"statut": "ok", "verifications": ALL_OK})


def test_not_ready_when_the_migrations_are_not_at_head(app, client, stamped):
    beat()
    config = app.extensions["migrate"].migrate.get_config()
    previous = ScriptDirectory.from_config(config).get_revision("head").down_revision
    db.session.commit()
    stamp(revision=previous)
    status, body = _ready(client)
    assert status == 503
    assert body == {
        "statut": "indisponible",
        "verifications": {**ALL_OK, "migrations": "pas à jour"},
    }


def test_not_ready_when_the_database_was_never_migrated(client):
    beat()
    status, body = _ready(client)
    assert (status, body["verifications"]["migrations"]) == (503, "pas à jour")


def test_not_ready_before_the_scheduler_ever_ran(client, stamped):
    status, body = _ready(client)
    assert status == 503
    assert body["verifications"] == {**ALL_OK, "planificateur": "jamais démarré"}


def test_not_ready_when_the_heartbeat_is_older_than_two_hours(client, stamped):
    beat(utcnow() - timedelta(hours=2, minutes=1))
    status, body = _ready(client)
    assert status == 503
    assert body["verifications"] == {**ALL_OK, "planificateur": "silencieux depuis plus de 2 h"}
    beat(utcnow() - timedelta(hours=1, minutes=59))
    assert _ready(client)[0] == 200


def test_not_ready_when_the_database_does_not_answer(tmp_path):
    unreachable = (
        "postgresql+psycopg://postgres@127.0.0.1:1/ancrage?connect_timeout=2"
        if IS_POSTGRES
        else f"sqlite:///{tmp_path / 'no-such-folder' / 'ancrage.sqlite3'}"
    )
    app = create_app({**BASE_CONFIG, "DATABASE_URL": unreachable})
    response = app.test_client().get("/sante/pret")
    assert response.status_code == 503
    # The driver's message (host, file path) stays in the log.
    assert response.get_json() == {
        "statut": "indisponible",
        "verifications": {"base_de_donnees": "injoignable"},
    }
    assert app.test_client().get("/sante").status_code == 200


def test_the_scheduler_beats_after_each_job_it_runs(app):
    assert db.session.get(SchedulerHeartbeat, 1) is None
    db.session.commit()  # the job runs in its own session (SQLite: one writer at a time)
    before = utcnow()
    _run_in_context(app, "reminders.sweep")
    db.session.rollback()
    row = db.session.get(SchedulerHeartbeat, 1)
    assert row is not None and row.beat_at >= before
