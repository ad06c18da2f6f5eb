"""The scheduler stops cleanly on SIGTERM and SIGINT: the running job finishes (or, past the
grace period, is abandoned with nothing of it committed), the lock is released, a French line
says so, the exit status is 0, and another scheduler can start at once. Real processes."""

from __future__ import annotations

import os
import signal
import sys
import textwrap

import pytest
from sqlalchemy import select

from app.db import db
from app.scheduler import JobRun
from tests.test_scheduler import SWEEP_DONE, Watched, _scheduler_command, _scheduler_env

# A scheduler whose only job, run at start after claiming its slot, blocks until the test
# releases it (by writing to the named pipe RELEASE_PIPE) — or forever, when it never does.
_SLOW_SCHEDULER = textwrap.dedent(
    """
    import os, sys
    import app.scheduler as scheduler

    def slow_job(now):
        print("slow job started", flush=True)
        with open(os.environ["RELEASE_PIPE"]) as pipe:  # blocks until the test writes
            return {"released": pipe.read()}

    scheduler.JOBS = (
        scheduler.ScheduledJob(
            "test.slow", "__main__:slow_job", {"minute": 0}, scheduler.hourly_slot,
            run_at_start=True,
        ),
    )
    from flask.cli import main
    sys.argv = ["flask", "--app", "wsgi", "scheduler"]
    main()
    """
)


def _slow_env(database_url, tmp_path, **extra) -> dict:
    pipe = tmp_path / "release"
    os.mkfifo(pipe)
    return {**_scheduler_env(database_url, tmp_path), "RELEASE_PIPE": str(pipe), **extra}


def _assert_a_new_scheduler_starts_at_once(env: dict) -> None:
    db.session.commit()  # on SQLite the test's open transaction would hold the write lock
    again = Watched(_scheduler_command(), env)
    try:
        assert again.wait_for("Planificateur démarré", "déjà en cours") == "Planificateur démarré"
        returncode, out = again.stop()
    finally:
        again.kill()
    assert returncode == 0, out
    assert "déjà en cours" not in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_scheduler_and_frees_the_lock(app, database_url, tmp_path, signum):
    db.session.commit()
    env = _scheduler_env(database_url, tmp_path)
    scheduler = Watched(_scheduler_command(), env)
    try:
        scheduler.wait_for(SWEEP_DONE)  # its first sweep runs at start
        returncode, out = scheduler.stop(signum, timeout=30)
    finally:
        scheduler.kill()
    assert returncode == 0, out
    assert f"Signal {signum.name} reçu : le planificateur s'arrête" in out
    assert "Planificateur arrêté, verrou libéré." in out
    _assert_a_new_scheduler_starts_at_once(env)


def test_the_running_job_finishes_before_the_scheduler_stops(app, database_url, tmp_path):
    db.session.commit()
    env = _slow_env(database_url, tmp_path)
    scheduler = Watched([sys.executable, "-c", _SLOW_SCHEDULER], env)
    try:
        scheduler.wait_for("slow job started")
        scheduler.process.send_signal(signal.SIGTERM)
        scheduler.wait_for("Tâche en cours (test.slow) : le planificateur attend sa fin")
        with open(env["RELEASE_PIPE"], "w") as pipe:  # the job may finish now
            pipe.write("yes")
        returncode, out = scheduler.finish(timeout=30)
    finally:
        scheduler.kill()
    assert returncode == 0, out
    assert "abandonnée" not in out
    assert "verrou libéré" in out
    db.session.rollback()
    run = db.session.scalar(select(JobRun).where(JobRun.job_id == "test.slow"))
    assert run is not None and run.finished_at is not None and run.summary == {"released": "yes"}
    _assert_a_new_scheduler_starts_at_once(env)


def test_a_job_past_the_grace_period_is_abandoned_and_leaves_nothing(app, database_url, tmp_path):
    db.session.commit()
    env = _slow_env(database_url, tmp_path, SCHEDULER_STOP_GRACE_SECONDS="1")
    scheduler = Watched([sys.executable, "-c", _SLOW_SCHEDULER], env)
    try:
        scheduler.wait_for("slow job started")  # and never released
        returncode, out = scheduler.stop(timeout=30)
    finally:
        scheduler.kill()
    assert returncode == 0, out
    assert "Tâche abandonnée (test.slow) : rien n'en est enregistré" in out
    assert "verrou libéré" in out
    db.session.rollback()
    # Its claim on the slot was never committed: the slot will run again.
    assert db.session.scalar(select(JobRun).where(JobRun.job_id == "test.slow")) is None
    _assert_a_new_scheduler_starts_at_once(env)


def test_a_job_the_pool_queued_never_starts_once_the_scheduler_stops(app):
    """A run-at-start job submitted just before the signal, not yet started when the
    scheduler looked at its running jobs, would otherwise run after the lock is released,
    beside the next scheduler."""
    from app.scheduler import _no_new_job, _run_in_context, _stopping

    db.session.commit()
    try:
        assert _no_new_job() == []
        _run_in_context(app, "reminders.sweep")
    finally:
        _stopping.clear()
    db.session.rollback()
    assert db.session.scalar(select(JobRun).where(JobRun.job_id == "reminders.sweep")) is None
