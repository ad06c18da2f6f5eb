"""Backups an operator can trust, on both databases: taken while the application keeps
writing, they restore into a fresh database with the same rows (SQLite: online backup API;
PostgreSQL: pg_dump/pg_restore); files are 0600 in a 0700 folder; encryption round-trips and
a wrong key restores nothing; rotation keeps exactly the right files; verify finds damage;
every failure is one French line with exit status 1, never a traceback.

PostgreSQL runs need pg_dump and pg_restore on PATH: without them these tests fail (the
French "introuvable" message), they are never skipped."""

import os
import stat
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.backups.encryption import MAGIC
from app.backups.services import (
    BackupError,
    create_backup,
    plan_rotation,
    restore_backup,
    rotate_backups,
    sqlite_integrity,
    table_counts,
    verify_backup,
)
from app.cli import backup as backup_command
from app.db import db
from app.permissions import Role
from app.scheduler import JobRun, build_scheduler, job_by_id, run_job
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
    with pytest.raises(BackupError, match=r"nouveau fichier|pas vide"):
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


# --- helpers -------------------------------------------------------------------------------

SUFFIX = ".dump" if IS_POSTGRES else ".sqlite3"
ARCHIVE = SUFFIX + ".tar"  # the default name of a backup with its documents


def _cli(app, *args):
    with app.app_context():
        result = CliRunner().invoke(backup_command, [str(arg) for arg in args])
    # Never a traceback: a clean exit status and the French message only.
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if result.exit_code == 1:  # one French line, not click's "Error:"
        assert result.output.startswith("Erreur : ") and "Error" not in result.output
    return result


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _restored_rows(target_url: str) -> dict[str, int]:
    if not IS_POSTGRES:
        path = Path(make_url(target_url).database)
        return table_counts(target_url) if path.exists() else {}
    return table_counts(target_url)


@pytest.fixture
def key_file(app, tmp_path):
    path = tmp_path / "keys" / "backup.key"
    result = _cli(app, "generate-key", path)
    assert result.exit_code == 0, result.output
    return path


# --- modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_backups_are_0600_in_a_0700_folder_whatever_the_umask(
    app, seeded, tmp_path, key_file, encrypted
):
    folder = tmp_path / "srv" / "backups"
    app.config["BACKUP_DIR"] = str(folder)
    previous = os.umask(0o022)  # the usual umask, under which files come out 0644
    try:
        args = ["create", "--key-file", key_file] if encrypted else ["create"]
        result = _cli(app, *args)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    files = sorted(folder.iterdir())
    backup_file = next(path for path in files if not path.name.endswith(".sha256"))
    assert backup_file.name.startswith("ancrage-")
    assert backup_file.name.endswith(ARCHIVE + (".enc" if encrypted else ""))
    assert [path.name for path in files] == [backup_file.name, backup_file.name + ".sha256"]
    assert _mode(folder) == 0o700
    for path in files:
        assert _mode(path) == 0o600, path.name
    assert _mode(key_file) == 0o600
    assert ("(chiffrée)" if encrypted else "(non chiffrée)") in result.output


def test_an_existing_folder_is_made_private(app, seeded, tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    create_backup(seeded, folder / f"b{SUFFIX}")
    assert _mode(folder) == 0o700


# --- encryption --------------------------------------------------------------------------------


def test_encrypted_backup_round_trip(app, seeded, fresh_target, tmp_path, key_file):
    archive = tmp_path / "out" / f"enc{SUFFIX}.enc"
    created = _cli(app, "create", "--output", archive, "--key-file", key_file)
    assert created.exit_code == 0, created.output
    content = archive.read_bytes()
    assert content.startswith(MAGIC)
    assert b"SQLite format 3" not in content and b"PGDMP" not in content
    assert b"audit_entry" not in content and b"household" not in content  # no clear schema

    verified = _cli(app, "verify", archive, "--key-file", key_file)
    assert verified.exit_code == 0, verified.output
    assert "Sauvegarde valide" in verified.output and "chiffrée" in verified.output

    # Without the key: a French message, not a traceback.
    no_key = _cli(app, "verify", archive)
    assert no_key.exit_code == 1
    assert "est chiffrée : indiquez le fichier de clé" in no_key.output

    restored = _cli(app, "restore", archive, "--into", fresh_target, "--key-file", key_file)
    assert restored.exit_code == 0, restored.output
    assert "household: 5" in restored.output
    assert _audit_rows(fresh_target) == _audit_rows(seeded)


def test_the_configured_key_file_encrypts_by_default(app, seeded, tmp_path, key_file):
    app.config.update(BACKUP_DIR=str(tmp_path / "bk"), BACKUP_KEY_FILE=str(key_file))
    result = _cli(app, "create")
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "bk").glob("*.enc")
    assert archive.read_bytes().startswith(MAGIC)
    assert verify_backup(archive, key=_key(key_file)).encrypted


def _key(path: Path) -> bytes:
    from app.backups.services import read_key_file

    return read_key_file(path)


def test_a_wrong_key_is_refused_and_nothing_is_restored(
    app, seeded, fresh_target, tmp_path, key_file
):
    archive = tmp_path / f"enc{SUFFIX}.enc"
    create_backup(seeded, archive, key=_key(key_file))
    other = tmp_path / "other.key"
    assert _cli(app, "generate-key", other).exit_code == 0

    restored = _cli(app, "restore", archive, "--into", fresh_target, "--key-file", other)
    assert restored.exit_code == 1
    assert "Mauvaise clé" in restored.output and "Rien n'a été restauré" in restored.output
    assert _restored_rows(fresh_target) == {}

    verified = _cli(app, "verify", archive, "--key-file", other)
    assert verified.exit_code == 1 and "Mauvaise clé" in verified.output


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (None, 0o600, "Fichier de clé introuvable"),
        ("not a key\n", 0o600, "ne contient pas une clé valide"),
        ("directory", 0o700, "Fichier de clé illisible"),
        ("shared", 0o644, "accessible à d'autres utilisateurs"),
    ],
    ids=["missing", "invalid", "unreadable", "shared"],
)
def test_bad_key_files_give_a_french_message(
    app, seeded, tmp_path, key_file, content, mode, message
):
    path = tmp_path / "bad.key"
    if content == "directory":
        path.mkdir()
    elif content == "shared":
        path.write_bytes(key_file.read_bytes())
    elif content is not None:
        path.write_text(content)
    if path.exists():
        path.chmod(mode)
    result = _cli(app, "create", "--output", tmp_path / f"x{SUFFIX}.enc", "--key-file", path)
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / f"x{SUFFIX}.enc").exists()


# --- verify ---------------------------------------------------------------------------------


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_accepts_a_sound_backup_and_reports_its_rows(app, seeded, tmp_path):
    archive = tmp_path / f"ok{SUFFIX}"
    create_backup(seeded, archive)
    result = _cli(app, "verify", archive)
    assert result.exit_code == 0, result.output
    assert "Sauvegarde valide" in result.output
    if not IS_POSTGRES:
        assert "household: 5" in result.output


@pytest.mark.parametrize(
    "damage", ["flipped byte", "truncated, no checksum", "encrypted, flipped, no checksum"]
)
def test_verify_detects_a_damaged_backup(app, seeded, tmp_path, key_file, damage):
    encrypted = damage.startswith("encrypted")
    archive = tmp_path / f"bad{SUFFIX}{'.enc' if encrypted else ''}"
    create_backup(seeded, archive, key=_key(key_file) if encrypted else None)
    assert verify_backup(archive, key=_key(key_file)).path == archive  # sound before
    if "no checksum" in damage:  # the content itself must tell
        archive.with_name(archive.name + ".sha256").unlink()
    if "truncated" in damage:
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    else:
        _flip_middle_byte(archive)
    result = _cli(app, "verify", archive, "--key-file", key_file)
    assert result.exit_code == 1
    assert "Sauvegarde endommagée" in result.output


def test_a_damaged_backup_is_not_restored(app, seeded, fresh_target, tmp_path):
    archive = tmp_path / f"bad{SUFFIX}"
    create_backup(seeded, archive)
    _flip_middle_byte(archive)
    result = _cli(app, "restore", archive, "--into", fresh_target)
    assert result.exit_code == 1 and "Sauvegarde endommagée" in result.output
    assert _restored_rows(fresh_target) == {}


def test_verify_of_a_file_that_is_not_a_backup(app, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("bonjour")
    result = _cli(app, "verify", other)
    assert result.exit_code == 1 and "n'est pas une sauvegarde d'Ancrage" in result.output
    missing = _cli(app, "verify", tmp_path / "nothing.dump")
    assert missing.exit_code == 1 and "Sauvegarde introuvable" in missing.output


# --- failures -------------------------------------------------------------------------------


def test_a_missing_database_gives_a_french_message_and_status_1(app, tmp_path):
    if IS_POSTGRES:
        missing = make_url(db.engine.url.render_as_string(False)).set(
            database=f"ancrage_missing_{uuid.uuid4().hex[:8]}"
        )
    else:
        missing = make_url(f"sqlite:///{tmp_path / 'absent' / 'ancrage.sqlite3'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = missing.render_as_string(hide_password=False)
    output = tmp_path / "bk" / f"x{SUFFIX}"
    result = _cli(app, "create", "--output", output)
    assert result.exit_code == 1
    assert "Base de données introuvable" in result.output
    assert not output.exists()  # no empty or partial file left behind
    assert list(output.parent.iterdir()) == []


def test_missing_pg_tools_give_a_french_message(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackupError, match="pg_dump est introuvable : installez le client"):
        create_backup("postgresql+psycopg://postgres@127.0.0.1/x", tmp_path / "x.dump")
    assert not (tmp_path / "x.dump").exists()


def test_an_existing_output_is_never_overwritten(app, seeded, tmp_path):
    archive = tmp_path / f"x{SUFFIX}"
    archive.write_text("précieux")
    result = _cli(app, "create", "--output", archive)
    assert result.exit_code == 1 and "existe déjà" in result.output
    assert archive.read_text() == "précieux"


def test_pg_tools_are_installed_for_postgresql_runs():
    """The PostgreSQL pass must not pass without pg_dump/pg_restore (fails, never skips)."""
    import shutil

    if IS_POSTGRES:
        assert shutil.which("pg_dump") and shutil.which("pg_restore"), (
            "install postgresql-client: the backup tests need pg_dump and pg_restore"
        )


# --- rotation --------------------------------------------------------------------------------


def _make_backups(folder: Path, stamps: list[str], suffix: str = ".sqlite3") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stamp in stamps:
        (folder / f"ancrage-{stamp}{suffix}").write_bytes(b"x")
        (folder / f"ancrage-{stamp}{suffix}.sha256").write_text("0  x\n")


def test_rotation_keeps_the_newest_of_the_last_days_and_weeks(tmp_path):
    folder = tmp_path / "bk"
    # Two backups a day from Sunday 1 November to Monday 7 December 2026.
    stamps = []
    for offset in range(37):
        day = datetime(2026, 11, 1, tzinfo=UTC).toordinal() + offset
        label = datetime.fromordinal(day).strftime("%Y%m%d")
        stamps += [f"{label}-020000", f"{label}-140000"]
    assert stamps[-1] == "20261207-140000"
    _make_backups(folder, stamps)
    (folder / "notes.txt").write_text("not a backup")

    result = rotate_backups(folder, keep_daily=3, keep_weekly=3)

    kept = {path.name for path in result.kept}
    assert kept == {
        "ancrage-20261207-140000.sqlite3",  # today (a Monday: this week too)
        "ancrage-20261206-140000.sqlite3",  # yesterday (and last week's newest)
        "ancrage-20261205-140000.sqlite3",  # the day before
        "ancrage-20261129-140000.sqlite3",  # the week before last (Sunday, its newest)
    }
    remaining = {path.name for path in folder.iterdir()}
    assert remaining == kept | {name + ".sha256" for name in kept} | {"notes.txt"}
    assert len(result.deleted) == 74 - 4


def test_rotation_counts_days_that_have_a_backup(tmp_path):
    """A fortnight without backups (the job failed) does not delete the last good ones."""
    names = [
        Path(f"ancrage-{stamp}.dump.enc")
        for stamp in ["20261101-031500", "20261102-031500", "20261103-031500", "20261120-031500"]
    ]
    keep = plan_rotation(names, keep_daily=3, keep_weekly=0)
    assert {path.name[8:16] for path in keep} == {"20261120", "20261103", "20261102"}
    assert plan_rotation(names, keep_daily=1, keep_weekly=0) == {names[-1]}


def test_rotate_command_uses_the_configuration(app, tmp_path):
    folder = tmp_path / "bk"
    _make_backups(folder, ["20261201-031500", "20261202-031500", "20261203-031500"], SUFFIX)
    app.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP_DAILY=2, BACKUP_KEEP_WEEKLY=0)
    result = _cli(app, "rotate")
    assert result.exit_code == 0, result.output
    assert "2 sauvegarde(s) gardée(s), 1 supprimée(s)" in result.output
    assert not (folder / f"ancrage-20261201-031500{SUFFIX}").exists()
    refused = _cli(app, "rotate", "--daily", "0")
    assert refused.exit_code == 1 and "au moins 1 sauvegarde quotidienne" in refused.output


# --- the nightly job ----------------------------------------------------------------------------


def test_the_nightly_job_is_off_unless_configured(app):
    assert "backups.nightly" not in {job.id for job in build_scheduler(app).get_jobs()}
    app.config["BACKUP_NIGHTLY"] = True
    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    fields = {f.name: str(f) for f in jobs["backups.nightly"].trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("3", "15")


def test_the_nightly_job_backs_up_rotates_and_runs_once_a_night(app, seeded, tmp_path, key_file):
    folder = tmp_path / "nightly"
    _make_backups(folder, ["20261101-031500", "20261102-031500"], SUFFIX + ".enc")  # older
    app.config.update(
        BACKUP_NIGHTLY=True,
        BACKUP_DIR=str(folder),
        BACKUP_KEY_FILE=str(key_file),
        BACKUP_KEEP_DAILY=2,
        BACKUP_KEEP_WEEKLY=0,
    )
    job = job_by_id("backups.nightly")
    night = datetime(2026, 12, 7, 2, 15, tzinfo=UTC)  # 03:15 in Paris
    assert run_job(job, night) is True
    assert run_job(job, night.replace(minute=40)) is False  # same night: same slot
    made = folder / f"ancrage-20261207-021500{ARCHIVE}.enc"
    assert verify_backup(made, key=_key(key_file)).encrypted
    assert sorted(path.name for path in folder.iterdir() if path.suffix != ".sha256") == [
        f"ancrage-20261102-031500{SUFFIX}.enc",
        made.name,
    ]
    run = db.session.query(JobRun).filter_by(job_id="backups.nightly").one()
    assert run.slot == "2026-12-07"
    assert run.summary["file"] == made.name
    assert (run.summary["encrypted"], run.summary["kept"], run.summary["deleted"]) == (True, 2, 1)
