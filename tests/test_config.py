import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.config import ConfigurationError
from app.db import db
from tests.conftest import IS_POSTGRES


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for weak in ("", "dev", "change-me", "short"):
        with pytest.raises(ConfigurationError, match="SECRET_KEY"):
            create_app({"SECRET_KEY": weak, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


SENDER = "Ancrage <ne-pas-repondre@ancrage.example.org>"


def test_production_refuses_to_start_without_a_mail_sender(monkeypatch, tmp_path):
    monkeypatch.delenv("MAIL_SENDER", raising=False)
    for missing in ("", "Ancrage", "ne-pas-repondre"):
        with pytest.raises(ConfigurationError, match="MAIL_SENDER"):
            create_app(
                {
                    "SECRET_KEY": "x" * 48,
                    "MAIL_SENDER": missing,
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                }
            )
    with pytest.raises(ConfigurationError, match="MAIL_SENDER"):  # no default either
        create_app({"SECRET_KEY": "x" * 48, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_starts_with_a_strong_secret_key(tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "x" * 48,
            "MAIL_SENDER": SENDER,
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_environment_overrides_defaults_with_the_right_type(monkeypatch, tmp_path):
    monkeypatch.setenv("PAGE_SIZE", "50")
    monkeypatch.setenv("PROXY_FIX", "true")
    monkeypatch.setenv("DATABASE_URL", "postgresql://ancrage@db.internal/ancrage")
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 48})
    assert app.config["PAGE_SIZE"] == 50
    assert app.config["PROXY_FIX"] is True
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ancrage@db.internal/ancrage"
    )


def test_default_database_is_the_sqlite_file_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 48})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == f"sqlite:///{Path(app.instance_path) / 'ancrage.sqlite3'}"


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite connection settings; this run is on PostgreSQL")
def test_sqlite_connections_use_wal_foreign_keys_and_begin_immediate(app):
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        # Outside a request (CLI, jobs, this test) the transaction opened by that read is
        # already a write transaction (IMMEDIATE): another writer must wait for it instead of
        # failing later on a stale snapshot. Requests: tests/test_db_locking.py.
        other = sqlite3.connect(db.engine.url.database, timeout=0.2, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_tests_and_debug_runs_get_a_local_mail_sender(monkeypatch):
    monkeypatch.delenv("MAIL_SENDER", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 48})
    assert app.config["MAIL_SENDER"] == "Ancrage <ne-pas-repondre@localhost>"
