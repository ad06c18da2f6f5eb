"""The scheduler stops cleanly on SIGTERM and SIGINT: the running job finishes (or, past the
grace period, is abandoned with nothing of it committed), the lock is released, a French line
says so, the exit status is 0, and another scheduler can start at once. Real processes."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import select

from app.db import db
from app.scheduler import JobRun
from tests.test_scheduler import ROOT, _scheduler_env, _start_scheduler

# A scheduler whose only job sleeps SLOW_JOB_SECONDS, run at start, after claiming its slot.
_SLOW_SCHEDULER = textwrap.dedent(
    """
    import os, sys, time
    import app.scheduler as scheduler

    def slow_job(now):
        print("slow job started", flush=True)
        time.sleep(float(os.environ["SLOW_JOB_SECONDS"]))
        return {"slept": os.environ["SLOW_JOB_SECONDS"]}

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


class Watched:
    """A process whose standard output is read line by line as it comes."""

    def __init__(self, command: list[str], env: dict):
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.lines}"
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, f"exited without {text!r}: {self.lines} {self.stderr()}"
            self.lines.append(line)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        returncode = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return returncode, "".join(self.lines)

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.poll() is not None else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _assert_a_new_scheduler_starts_at_once(env: dict) -> None:
    db.session.commit()  # on SQLite the test's open transaction would hold the write lock
    again = _start_scheduler(env, 2)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, (out, err)
    assert "Planificateur démarré" in out and "déjà en cours" not in err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_scheduler_and_frees_the_lock(app, database_url, tmp_path, signum):
    db.session.commit()
    env = _scheduler_env(database_url, tmp_path)
    scheduler = Watched([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], env)
    try:
        scheduler.wait_for("Planificateur démarré")
        time.sleep(1)  # its first sweep runs at start
        scheduler.process.send_signal(signum)
        returncode, out = scheduler.finish(timeout=30)
    finally:
        scheduler.kill()
    assert returncode == 0, (out, scheduler.stderr())
    assert f"Signal {signum.name} reçu : le planificateur s'arrête" in out
    assert "Planificateur arrêté, verrou libéré." in out
    _assert_a_new_scheduler_starts_at_once(env)


def test_the_running_job_finishes_before_the_scheduler_stops(app, database_url, tmp_path):
    db.session.commit()
    env = {**_scheduler_env(database_url, tmp_path), "SLOW_JOB_SECONDS": "2"}
    scheduler = Watched([sys.executable, "-c", _SLOW_SCHEDULER], env)
    try:
        scheduler.wait_for("slow job started")
        scheduler.process.send_signal(signal.SIGTERM)
        returncode, out = scheduler.finish(timeout=30)
    finally:
        scheduler.kill()
    assert returncode == 0, (out, scheduler.stderr())
    assert "Tâche en cours (test.slow) : le planificateur attend sa fin" in out
    assert "abandonnée" not in out
    assert "verrou libéré" in out
    db.session.rollback()
    run = db.session.scalar(select(JobRun).where(JobRun.job_id == "test.slow"))
    assert run is not None and run.finished_at is not None and run.summary == {"slept": "2"}
    _assert_a_new_scheduler_starts_at_once(env)


def test_a_job_past_the_grace_period_is_abandoned_and_leaves_nothing(app, database_url, tmp_path):
    db.session.commit()
    env = {
        **_scheduler_env(database_url, tmp_path),
        "SLOW_JOB_SECONDS": "120",
        "SCHEDULER_STOP_GRACE_SECONDS": "1",
    }
    scheduler = Watched([sys.executable, "-c", _SLOW_SCHEDULER], env)
    try:
        scheduler.wait_for("slow job started")
        scheduler.process.send_signal(signal.SIGTERM)
        returncode, out = scheduler.finish(timeout=30)  # not the job's 120 s
    finally:
        scheduler.kill()
    assert returncode == 0, (out, scheduler.stderr())
    assert "Tâche abandonnée (test.slow) : rien n'en est enregistré" in out
    assert "verrou libéré" in out
    db.session.rollback()
    # Its claim on the slot was never committed: the slot will run again.
    assert db.session.scalar(select(JobRun).where(JobRun.job_id == "test.slow")) is None
    _assert_a_new_scheduler_starts_at_once(env)
