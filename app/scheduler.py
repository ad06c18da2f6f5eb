"""The scheduler process: one lock, one job registry, one ``job_run`` table.

Exactly one process runs jobs (``flask --app wsgi scheduler``). At start it takes a lock — a
``flock`` on ``instance/scheduler.lock`` on SQLite, ``pg_try_advisory_lock`` on a dedicated
connection on PostgreSQL — and a second scheduler exits with a clear message. Web workers
never import APScheduler (it is imported lazily below), so they cannot start it.

Every run claims a unique ``(job, slot)`` row in ``job_run`` in the same transaction as the
job's work: a second run for the same slot (a restart, a misfire, a second process despite
the lock) fails to insert and skips. Jobs are plain functions ``job(now)`` that change the
session and never commit; ``run_job`` commits once. ``now`` comes from ``app.clock``: the
system time, unless the ``CLOCK`` setting fixes it (tests); APScheduler fires on real time.

SIGTERM and SIGINT stop it cleanly: no new job starts, the running one may finish within
``SCHEDULER_STOP_GRACE_SECONDS`` (a second signal cuts the wait short), else it is abandoned
— its transaction, claim included, is never committed, so its slot stays free — then the
lock is released, a French line says what happened, and the process exits with status 0.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import JSON, String, UniqueConstraint, create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool
from werkzeug.utils import import_string

from app import clock, metrics
from app.db import UtcDateTime, db, utcnow

log = logging.getLogger("ancrage.scheduler")
PARIS = ZoneInfo("Europe/Paris")

# pg_try_advisory_lock key: an arbitrary constant ("ANCRSCHD"), the same for every process
# of this application. Advisory locks are scoped to the database, so two deployments on the
# same server do not block each other.
ADVISORY_LOCK_KEY = 0x414E4352_53434844
LOCK_FILE_NAME = "scheduler.lock"

ALREADY_RUNNING = (
    "Un autre planificateur Ancrage est déjà en cours d'exécution sur cette base de données ; "
    "celui-ci s'arrête."
)


class JobRun(db.Model):
    """One run of one job for one slot (the hour of a sweep, the day of a digest)."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(60))
    slot: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    summary: Mapped[dict | None] = mapped_column(JSON)


class SchedulerHeartbeat(db.Model):
    """One row, refreshed when the scheduler starts and after each job it runs (the hourly
    sweep at least): the readiness check (``/sante/pret``) reads its age."""

    __tablename__ = "scheduler_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)


HEARTBEAT_ID = 1


def beat(now: datetime | None = None, *, started: bool = False) -> None:
    """Record that the scheduler is alive (commits: called outside any job's transaction)."""
    now = now or utcnow()
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if row is None:
        row = SchedulerHeartbeat(id=HEARTBEAT_ID, started_at=now, beat_at=now)
        db.session.add(row)
    row.beat_at = now
    if started:
        row.started_at = now
    db.session.commit()


# --- slots -------------------------------------------------------------------------------


def hourly_slot(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


def daily_slot(now: datetime) -> str:
    """The Paris calendar day: a daily job belongs to the users' day, not to UTC's."""
    return now.astimezone(PARIS).date().isoformat()


# --- registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJob:
    """A job of the registry. ``target`` is ``"module:function"``, a function ``(now) ->
    dict | None`` (a summary kept in ``job_run``); ``cron`` holds APScheduler cron fields in
    Europe/Paris time."""

    id: str
    target: str
    cron: dict
    slot: Callable[[datetime], str]
    run_at_start: bool = False
    # A boolean setting that must be true for the job to be scheduled (None: always).
    enabled_by: str | None = None

    def enabled(self, config) -> bool:
        return self.enabled_by is None or bool(config.get(self.enabled_by))

    def function(self) -> Callable[[datetime], dict | None]:
        return import_string(self.target)


# The one place where jobs are registered.
JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        "reminders.sweep",
        "app.reminders.jobs:sweep",
        {"minute": 0},
        hourly_slot,
        run_at_start=True,
    ),
    # The digest goes out at 07:30; the later runs of the day (08:30 … 18:30) only send what
    # is still owed — failed sends (up to DIGEST_MAX_ATTEMPTS) and users added since.
    ScheduledJob(
        "reminders.digest",
        "app.reminders.jobs:send_digests",
        {"hour": "7-18", "minute": 30},
        hourly_slot,
    ),
    ScheduledJob(
        "retention.anonymise",
        "app.retention.jobs:anonymise_closed_files",
        {"hour": 2, "minute": 30},
        daily_slot,
    ),
    # Uploaded rent-account extracts never imported (RENT_IMPORT_STAGED_HOURS).
    ScheduledJob(
        "housing.staged_imports",
        "app.housing.jobs:remove_staged_imports",
        {"minute": 45},
        hourly_slot,
    ),
    # Files written by an upload whose row never committed (docs/documents.md).
    ScheduledJob(
        "documents.sweep_orphans",
        "app.documents.jobs:sweep_orphans",
        {"hour": 4, "minute": 10},
        daily_slot,
    ),
    # Off unless BACKUP_NIGHTLY is true (docs/security.md, "Backups").
    ScheduledJob(
        "backups.nightly",
        "app.backups.jobs:nightly",
        {"hour": 3, "minute": 15},
        daily_slot,
        enabled_by="BACKUP_NIGHTLY",
    ),
)


def enabled_jobs(app) -> list[ScheduledJob]:
    return [job for job in JOBS if job.enabled(app.config)]


def job_by_id(job_id: str) -> ScheduledJob:
    return next(job for job in JOBS if job.id == job_id)


def run_job(job: ScheduledJob, now: datetime | None = None) -> bool:
    """Run ``job`` for the slot of ``now`` (by default the application's clock,
    ``app.clock``) unless that slot already ran. Returns whether it ran. The claim and the
    work share one transaction: a failed run leaves no claim, so the slot can be retried.
    ``started_at`` and ``finished_at`` record the real time of the run."""
    now = now or clock.now()
    slot = job.slot(now)
    run = JobRun(job_id=job.id, slot=slot, started_at=utcnow())
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("job %s: slot %s already ran, skipped", job.id, slot)
        metrics.record_job(job.id, "skipped", 0.0)
        return False
    started = time.perf_counter()
    try:
        summary = job.function()(now)
    except Exception:
        db.session.rollback()
        log.exception("job %s failed for slot %s", job.id, slot)
        metrics.record_job(job.id, "failed", time.perf_counter() - started)
        raise
    run.summary = summary
    run.finished_at = utcnow()
    db.session.commit()
    metrics.record_job(job.id, "done", time.perf_counter() - started)
    log.info("job %s: slot %s done %s", job.id, slot, summary or "")
    return True


# --- the lock ----------------------------------------------------------------------------


class SchedulerAlreadyRunning(RuntimeError):
    pass


class FileLock:
    """``flock`` on a file in the instance folder: released by the kernel when the process
    dies, so a crash never leaves a stale lock behind."""

    def __init__(self, path: Path):
        self.path = path
        self._file = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise SchedulerAlreadyRunning(ALREADY_RUNNING) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a dedicated connection outside the pool, kept open for the
    process lifetime: the session-level lock goes when the connection does."""

    def __init__(self, url: str):
        self.url = url
        self._engine = None
        self._connection = None

    def acquire(self) -> None:
        self._engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._connection = self._engine.connect()
        got = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        if not got:
            self.release()
            raise SchedulerAlreadyRunning(ALREADY_RUNNING)

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def scheduler_lock(app) -> FileLock | AdvisoryLock:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        return AdvisoryLock(url)
    return FileLock(Path(app.instance_path) / LOCK_FILE_NAME)


# --- the process -------------------------------------------------------------------------


def build_scheduler(app):
    """A BlockingScheduler with every enabled job of ``JOBS``, each in an app context."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BlockingScheduler(
        timezone=PARIS,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )
    for job in enabled_jobs(app):
        # Without next_run_time the trigger decides; with it the job also runs at start.
        at_start = {"next_run_time": datetime.now(PARIS)} if job.run_at_start else {}
        scheduler.add_job(
            _run_in_context,
            CronTrigger(timezone=PARIS, **job.cron),
            args=(app, job.id),
            id=job.id,
            name=job.id,
            **at_start,
        )
    return scheduler


# Jobs running now, in the scheduler's worker threads (for a clean stop). Once the scheduler
# stops, ``_stopping`` is set under the same lock: a job the pool had queued but not started
# never starts (it would run after the lock is released, beside the next scheduler).
_running: set[str] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def running_jobs() -> list[str]:
    with _running_lock:
        return sorted(_running)


def _no_new_job() -> list[str]:
    """Let no queued job start from now on; return the jobs already running."""
    with _running_lock:
        _stopping.set()
        return sorted(_running)


def _run_in_context(app, job_id: str) -> None:
    with _running_lock:
        if _stopping.is_set():
            log.info("job %s not started: the scheduler is stopping", job_id)
            return
        _running.add(job_id)
    try:
        with app.app_context():
            try:
                run_job(job_by_id(job_id))
            except Exception:  # noqa: S110 - logged by run_job; the scheduler keeps going
                pass
            finally:
                db.session.remove()
            _beat_safely()  # alive, whatever the job's outcome (a failed job is in the log)
    finally:
        with _running_lock:
            _running.discard(job_id)


class _StopRequest:
    """What the SIGTERM/SIGINT handler saw. A Python signal handler runs in the main thread
    between two bytecodes, possibly while that thread holds a lock (APScheduler's, or the
    one ``Thread.start`` takes while the pool starts a worker): taking a lock or starting a
    thread there can deadlock. So the handler only records the signal and writes a byte to a
    pipe; a thread started beforehand reads it and asks the scheduler to stop (from another
    thread, as APScheduler wants), waiting if need be until ``start()`` has set it running.
    The main thread does the rest once ``start()`` has returned."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.signals: list[str] = []
        self.returned = threading.Event()  # set once start() has returned
        self._read_fd, self._write_fd = os.pipe()

    def __call__(self, signum, _frame) -> None:
        self.signals.append(signal.Signals(signum).name)
        if len(self.signals) == 1:
            os.write(self._write_fd, b"s")

    def _stopper(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        os.read(self._read_fd, 1)
        _no_new_job()  # a job the pool queued (or starts at start) never runs from now on
        while not self.returned.is_set():
            try:
                self.scheduler.shutdown(wait=False)
                return
            except SchedulerNotRunningError:  # not started yet, or already stopped
                time.sleep(0.02)

    def time_is_up(self) -> None:
        """--max-seconds: stop as a signal would, without recording one."""
        os.write(self._write_fd, b"t")

    def install(self) -> None:
        threading.Thread(target=self._stopper, name="scheduler-stop", daemon=True).start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self)


def _finish_or_abandon(stop: _StopRequest, grace: float) -> list[str]:
    """Start no queued job; wait up to ``grace`` seconds for the running ones (a second
    signal ends the wait); return those still running, which are abandoned."""
    running = _no_new_job()
    if not running:
        return []
    click.echo(
        f"Tâche en cours ({', '.join(running)}) : le planificateur attend sa fin, au plus "
        f"{grace:g} s."
    )
    deadline = time.monotonic() + grace
    while running_jobs() and time.monotonic() < deadline and len(stop.signals) < 2:
        time.sleep(0.1)
    return running_jobs()


def _beat_safely(*, started: bool = False) -> None:
    """A heartbeat that cannot be written (database busy or down) is logged and never stops
    the scheduler: the next job beats again, and readiness reports the silence meanwhile."""
    try:
        beat(started=started)
    except Exception:
        db.session.rollback()
        log.exception("scheduler heartbeat could not be written")
    finally:
        db.session.remove()


@click.command(
    "scheduler",
    help="Lancer le planificateur des tâches (un seul processus ; un second s'arrête).",
)
@click.option(
    "--max-seconds",
    type=float,
    default=None,
    help="S'arrêter après ce nombre de secondes (tests) ; par défaut, tourner jusqu'à l'arrêt.",
)
@with_appcontext
def scheduler_command(max_seconds: float | None) -> None:
    """Run the job scheduler (one process only; a second one exits). SIGTERM or SIGINT stop it
    cleanly (exit status 0)."""
    app = current_app._get_current_object()
    logging.getLogger("apscheduler").setLevel(logging.INFO)  # its job runs, in our log format
    lock = scheduler_lock(app)
    try:
        lock.acquire()
    except SchedulerAlreadyRunning as error:
        click.echo(str(error), err=True)
        raise SystemExit(3) from None
    _beat_safely(started=True)
    scheduler = build_scheduler(app)
    _stopping.clear()
    stop = _StopRequest(scheduler)
    if max_seconds is not None:  # shutdown() from another thread is the documented way
        stopper = threading.Timer(max_seconds, stop.time_is_up)
        stopper.daemon = True
        stopper.start()
    abandoned: list[str] = []
    try:
        # Signals are handled from here on: a SIGTERM right after the line below stops the
        # scheduler cleanly (tests wait for that line, then signal).
        stop.install()
        click.echo(
            "Planificateur démarré : "
            + ", ".join(f"{job.id} ({_cron_label(job.cron)})" for job in enabled_jobs(app))
        )
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop.returned.set()
        if stop.signals:
            click.echo(
                f"Signal {stop.signals[0]} reçu : le planificateur s'arrête, aucune nouvelle "
                "tâche ne démarre."
            )
        # Whatever stopped it (a signal, --max-seconds), no job outlives the lock.
        grace = float(app.config.get("SCHEDULER_STOP_GRACE_SECONDS", 20))
        abandoned = _finish_or_abandon(stop, grace)
        lock.release()
    if abandoned:
        click.echo(
            f"Tâche abandonnée ({', '.join(abandoned)}) : rien n'en est enregistré, elle pourra "
            "être refaite."
        )
    click.echo("Planificateur arrêté, verrou libéré.")
    if abandoned:
        # The job's thread cannot be stopped; leaving now ends it with its transaction
        # uncommitted (the database rolls it back when the connection goes).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _cron_label(cron: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in cron.items()) + " Europe/Paris"
