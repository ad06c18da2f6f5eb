"""Backups taken while the application keeps writing restore into a fresh database with the
same rows and a sound structure (SQLite: online backup API; PostgreSQL: pg_dump/pg_restore)."""

import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.backups.services import (
    BackupError,
    create_backup,
    restore_backup,
    sqlite_integrity,
    table_counts,
)
from app.cli import backup as backup_command
from app.db import db
from app.permissions import Role
from tests.conftest import IS_POSTGRES, _postgres_admin_url
from tests.factories import make_household, make_project, make_user


class Writer(threading.Thread):
    """Inserts audit entries through its own connection until stopped, as a busy app would."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.stop = threading.Event()
        self.written = 0

    def run(self):
        while not self.stop.is_set():
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO audit_entry (at, action, outcome) "
                        "VALUES (:at, 'test.write', 'success')"
                    ),
                    {"at": datetime.now(UTC).replace(tzinfo=None)},
                )
            self.written += 1
            time.sleep(0.002)

    def finish(self) -> int:
        self.stop.set()
        self.join(timeout=10)
        self.engine.dispose()
        return self.written


@pytest.fixture
def seeded(app, database_url):
    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    for _ in range(5):
        make_household(project, referent=worker)
    db.session.commit()
    db.session.remove()
    return database_url


@pytest.fixture
def fresh_target(tmp_path):
    """An empty database to restore into."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"ancrage_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        _postgres_admin_url(db.engine.url.render_as_string(False)), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield (
        make_url(db.engine.url.render_as_string(False))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _audit_rows(url: str) -> int:
    return table_counts(url)["audit_entry"]


def test_backup_during_writes_restores_identically(seeded, fresh_target, tmp_path):
    before = table_counts(seeded)
    writer = Writer(seeded)
    writer.start()
    while writer.written < 20:  # writes are under way
        time.sleep(0.01)
    archive = tmp_path / ("backup.sqlite3" if not IS_POSTGRES else "backup.dump")
    result = create_backup(seeded, archive)
    written = writer.finish()
    assert written > 20
    after = table_counts(seeded)

    restored = restore_backup(archive, fresh_target)
    # Every table the application does not write meanwhile is identical...
    for table, count in before.items():
        if table != "audit_entry":
            assert restored[table] == count == after[table], table
    # ...and the table being written holds a snapshot between the two moments.
    assert before["audit_entry"] + 20 <= restored["audit_entry"] <= after["audit_entry"]
    if not IS_POSTGRES:
        assert result.counts == restored
        assert sqlite_integrity(archive) == "ok"
        assert sqlite_integrity(Path(make_url(fresh_target).database)) == "ok"
    # The restored database is usable: the households are there, and the audit trail is
    # still append-only.
    engine = create_engine(fresh_target)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM household")).scalar_one() == 5
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(seeded, tmp_path):
    archive = tmp_path / ("b.sqlite3" if not IS_POSTGRES else "b.dump")
    create_backup(seeded, archive)
    with pytest.raises(BackupError, match=r"new|not empty"):
        restore_backup(archive, seeded)


def test_cli_creates_and_restores(app, seeded, fresh_target, tmp_path):
    archive = tmp_path / ("cli.sqlite3" if not IS_POSTGRES else "cli.dump")
    runner = CliRunner()
    with app.app_context():
        created = runner.invoke(backup_command, ["create", "--output", str(archive)])
    assert created.exit_code == 0, created.output
    assert "Sauvegarde écrite" in created.output
    with app.app_context():
        restored = runner.invoke(backup_command, ["restore", str(archive), "--into", fresh_target])
    assert restored.exit_code == 0, restored.output
    assert "household: 5" in restored.output
    assert _audit_rows(fresh_target) == _audit_rows(seeded)
