"""The scheduler process: one at a time (lock), jobs registered once, each slot run once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from app.db import db
from app.scheduler import JOBS, JobRun, build_scheduler, hourly_slot, job_by_id, run_job
from tests.conftest import IS_POSTGRES

ROOT = Path(__file__).resolve().parent.parent


# The scheduler processes of these tests work for this moment, whatever the wall clock says
# (app/clock.py): their slot never changes under them at the turn of an hour.
CLOCK_AT = datetime(2026, 3, 10, 8, 15, tzinfo=UTC)
SWEEP_DONE = f"job reminders.sweep: slot {hourly_slot(CLOCK_AT)} done"
SWEEP_SKIPPED = f"job reminders.sweep: slot {hourly_slot(CLOCK_AT)} already ran, skipped"


def _scheduler_env(database_url: str, instance: Path) -> dict:
    """The environment of a scheduler process; its instance folder's config.py fixes its
    clock at ``CLOCK_AT``."""
    (instance / "config.py").write_text(
        "from datetime import UTC, datetime\n"
        "from app.clock import FixedClock\n"
        f"CLOCK = FixedClock(datetime.fromisoformat({CLOCK_AT.isoformat()!r}))\n"
    )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        ANCRAGE_INSTANCE_PATH=str(instance),
        SECRET_KEY="scheduler-test-secret-key-long-enough-0123456789",
        MAIL_SENDER="Ancrage <ne-pas-repondre@ancrage.test>",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONFAULTHANDLER="1",  # a process that hangs is aborted with its threads' stacks
    )
    return env


def _scheduler_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"]


class Watched:
    """A process whose output (standard output and error, merged: our log lines go to
    standard error) is read line by line as it comes. Tests wait for a line saying what they
    wait for, never for a length of time."""

    def __init__(self, command: list[str], env: dict):
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, *texts: str, timeout: float = 60) -> str:
        """Wait for a line holding one of ``texts``; return the text found."""
        deadline = time.monotonic() + timeout
        while True:
            for text in texts:
                if any(text in line for line in self.lines):
                    return text
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"none of {texts!r} in {self.lines}"
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, f"exited without {texts!r}: {self.lines}"
            self.lines.append(line)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        try:
            returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Hung: SIGABRT makes faulthandler print every thread's stack, then fail with it.
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=10)
            raise AssertionError(
                f"still running after {timeout} s; output and stacks:\n{self._drain()}"
            ) from None
        return returncode, self._drain()

    def _drain(self) -> str:
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return "".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, str]:
        self.process.send_signal(signum)
        return self.finish(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _sweep_runs() -> int:
    db.session.rollback()
    count = db.session.scalar(
        select(func.count()).select_from(JobRun).where(JobRun.job_id == "reminders.sweep")
    )
    # Outside a request the test's session begins IMMEDIATE on SQLite: end the transaction so
    # that it does not hold the write lock against the next scheduler.
    db.session.rollback()
    return count


def test_two_schedulers_started_together_one_runs_the_other_exits(app, database_url, tmp_path):
    db.session.commit()
    env = _scheduler_env(database_url, tmp_path)
    pair = [Watched(_scheduler_command(), env), Watched(_scheduler_command(), env)]
    try:
        said = [w.wait_for("Planificateur démarré", "déjà en cours") for w in pair]
        assert sorted(said) == ["Planificateur démarré", "déjà en cours"], [w.lines for w in pair]
        running, refused = pair if said[0] == "Planificateur démarré" else pair[::-1]
        returncode, out = refused.finish()
        assert returncode == 3, out
        assert "Un autre planificateur Ancrage est déjà en cours" in out
        # The one that runs does the start-up sweep, once; then it is told to stop.
        running.wait_for(SWEEP_DONE)
        returncode, out = running.stop()
        assert returncode == 0, out
    finally:
        for watched in pair:
            watched.kill()
    assert _sweep_runs() == 1
    # The lock went with the process: a new scheduler starts, and skips the slot that ran.
    again = Watched(_scheduler_command(), env)
    try:
        again.wait_for(SWEEP_SKIPPED)
        returncode, out = again.stop()
    finally:
        again.kill()
    assert returncode == 0, out
    assert "déjà en cours" not in out
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
    assert set(jobs) == {
        "reminders.sweep",
        "reminders.digest",
        "retention.anonymise",
        "housing.staged_imports",
        "documents.sweep_orphans",
    }
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


def test_a_run_without_now_works_for_the_application_clock(app, clock):
    job = job_by_id("reminders.sweep")
    assert run_job(job) is True
    assert run_job(job) is False  # the clock has not moved: same slot
    clock.advance(hours=1)
    assert run_job(job) is True
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [r.slot for r in runs] == ["2026-03-10T08", "2026-03-10T09"]
    assert runs[1].summary["today"] == "2026-03-10"


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
