"""The scheduler process: one at a time (lock), jobs registered once, each slot run once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from app.db import db
from app.scheduler import JOBS, JobRun, build_scheduler, hourly_slot, job_by_id, run_job
from tests.conftest import IS_POSTGRES

ROOT = Path(__file__).resolve().parent.parent


def _scheduler_env(database_url: str, instance: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        ANCRAGE_INSTANCE_PATH=str(instance),
        SECRET_KEY="scheduler-test-secret-key-long-enough-0123456789",
        MAIL_SENDER="Ancrage <ne-pas-repondre@ancrage.test>",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _start_scheduler(env: dict, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "scheduler",
            "--max-seconds",
            str(seconds),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sweep_runs() -> int:
    db.session.rollback()
    count = db.session.scalar(
        select(func.count()).select_from(JobRun).where(JobRun.job_id == "reminders.sweep")
    )
    # Outside a request the test's session begins IMMEDIATE on SQLite: end the transaction so
    # that it does not hold the write lock against the next scheduler.
    db.session.rollback()
    return count


def _clear_of_the_hour(margin_seconds: float = 60) -> None:
    """Wait until the next ``margin_seconds`` hold no change of hour: a scheduler running
    across ``:00`` also runs the new hour's sweep, which is right but not what is counted."""
    now = datetime.now(UTC)
    seconds_left = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
    if seconds_left < margin_seconds:
        time.sleep(seconds_left + 1)


def test_two_schedulers_started_together_one_runs_the_other_exits(app, database_url, tmp_path):
    db.session.commit()
    _clear_of_the_hour()
    env = _scheduler_env(database_url, tmp_path)
    started_slot = hourly_slot(datetime.now(UTC))
    first, second = _start_scheduler(env, 6), _start_scheduler(env, 6)
    results = []
    for process in (first, second):
        out, err = process.communicate(timeout=60)
        results.append((process.returncode, out, err))
    ran = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert len(ran) == 1 and len(refused) == 1, results
    assert "Planificateur démarré" in ran[0][1]
    assert refused[0][0] == 3
    assert "Un autre planificateur Ancrage est déjà en cours" in refused[0][2]
    assert "Another Ancrage scheduler is already running" in refused[0][2]
    # The one that ran did the start-up sweep, once.
    assert _sweep_runs() == 1
    # The lock went with the process: a new scheduler starts, and skips the hour's slot.
    assert hourly_slot(datetime.now(UTC)) == started_slot, "the test outran its margin"
    again = _start_scheduler(env, 2)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert _sweep_runs() == 1


def test_the_lock_is_where_the_architecture_says(app, tmp_path):
    from app.scheduler import AdvisoryLock, FileLock, scheduler_lock

    lock = scheduler_lock(app)
    if IS_POSTGRES:
        assert isinstance(lock, AdvisoryLock)
    else:
        assert isinstance(lock, FileLock)
        assert lock.path == Path(app.instance_path) / "scheduler.lock"


def test_the_lock_refuses_a_second_holder_in_the_same_process(app, tmp_path):
    from app.scheduler import FileLock, SchedulerAlreadyRunning, scheduler_lock

    def lock():  # on SQLite, a lock file of this test rather than the shared instance folder
        return scheduler_lock(app) if IS_POSTGRES else FileLock(tmp_path / "scheduler.lock")

    first, second = lock(), lock()
    first.acquire()
    try:
        started = time.monotonic()
        try:
            second.acquire()
        except SchedulerAlreadyRunning as error:
            assert "déjà en cours" in str(error)
        else:
            second.release()
            raise AssertionError("a second lock holder was accepted")
        assert time.monotonic() - started < 2, "the lock must be tried, never waited for"
    finally:
        first.release()
    second.acquire()  # free again once released
    second.release()


def test_jobs_are_registered_once_with_safe_defaults(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"reminders.sweep", "reminders.digest", "retention.anonymise"}
    # The nightly backup is registered but off unless BACKUP_NIGHTLY (tests/backups).
    assert set(jobs) == {j.id for j in JOBS if j.enabled_by is None}
    retention = {f.name: str(f) for f in jobs["retention.anonymise"].trigger.fields}
    assert (retention["hour"], retention["minute"]) == ("2", "30")
    digest = jobs["reminders.digest"]
    fields = {f.name: str(f) for f in digest.trigger.fields}
    # 07:30, then hourly until 18:30 to retry failed sends (see docs/reminders.md).
    assert (fields["hour"], fields["minute"]) == ("7-18", "30")
    assert str(digest.trigger.timezone) == "Europe/Paris"
    sweep = jobs["reminders.sweep"]
    assert {f.name: str(f) for f in sweep.trigger.fields}["minute"] == "0"
    assert sweep.next_run_time is not None  # the sweep also runs at start
    # Jobs pick these up when the scheduler starts (pending jobs carry no defaults yet).
    assert scheduler._job_defaults == {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 15 * 60,
    }


def test_running_a_job_twice_for_the_same_slot_runs_it_once(app):
    now = datetime(2026, 3, 10, 8, 15, tzinfo=UTC)
    job = job_by_id("reminders.sweep")
    assert run_job(job, now) is True
    assert run_job(job, now.replace(minute=50)) is False  # same hour: same slot
    assert run_job(job, now.replace(hour=9)) is True
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job_id, r.slot) for r in runs] == [
        ("reminders.sweep", "2026-03-10T08"),
        ("reminders.sweep", "2026-03-10T09"),
    ]
    assert all(r.finished_at is not None for r in runs)
    assert runs[0].summary["created"] == 0


def test_daily_slots_are_the_paris_day_and_the_digest_runs_each_hour(app):
    job = job_by_id("retention.anonymise")
    # 23:30 UTC on 9 March is already 10 March in Paris.
    assert job.slot(datetime(2026, 3, 9, 23, 30, tzinfo=UTC)) == "2026-03-10"
    digest = job_by_id("reminders.digest")
    assert digest.slot(datetime(2026, 3, 10, 6, 30, tzinfo=UTC)) == "2026-03-10T06"
    assert digest.slot(datetime(2026, 3, 10, 7, 30, tzinfo=UTC)) == "2026-03-10T07"


def test_the_web_application_never_imports_the_scheduler_library():
    code = (
        "import sys; from app import create_app; "
        "create_app({'TESTING': True, 'SECRET_KEY': 'x' * 40}); "
        "print('apscheduler' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
