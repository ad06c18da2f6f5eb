"""The release as an operations team installs it: build the wheel, install it in a fresh
virtual environment outside the checkout, migrate a fresh PostgreSQL database, start the web
server and the scheduler with the installed ``ancrage`` command, and get the login page and
the readiness check.

PostgreSQL only (the production database; CI's PostgreSQL pass runs it). Needs ``build``
(test extras) and access to the package index for the locked dependencies
(requirements/runtime.txt; pip's cache makes a second run fast)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL, _normalise

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not IS_POSTGRES,
        reason="the release test runs on PostgreSQL only: set TEST_DATABASE_URL to a "
        "postgresql+psycopg:// server (CI's PostgreSQL pass does)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def fresh_database():
    base = make_url(_normalise(TEST_DATABASE_URL))
    name = f"ancrage_wheel_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Top-level entries of the checkout a build does not need: the local environment, runtime
# and test output (and what a build leaves behind).
NOT_BUILT = {".git", ".venv", "instance", "screenshots", "dist", "build", "test-results"}


def _checkout_copy(target: Path) -> Path:
    """The checkout's files, copied: building writes ``ancrage.egg-info`` into the source
    folder, and the checkout is shared with the tests running meanwhile (the other xdist
    worker, CI's SQLite suite)."""

    def ignored(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == ROOT
        return {
            name
            for name in names
            if name in ("__pycache__", ".pytest_cache", ".ruff_cache")
            or (top and (name in NOT_BUILT or name.endswith(".egg-info")))
        }

    shutil.copytree(ROOT, target, ignore=ignored, symlinks=True)
    return target


@pytest.fixture
def installed(tmp_path):
    """The ``bin/`` folder of a fresh virtual environment holding the wheel built from (a copy
    of) the checkout."""
    dist = tmp_path / "dist"
    source = _checkout_copy(tmp_path / "source")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], timeout=300)
    (wheel,) = dist.glob("ancrage-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    # As docs/operations.md tells operators: the locked dependencies (hashes checked), then
    # the wheel alone.
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    lock = ROOT / "requirements" / "runtime.txt"
    _run([*pip, "--require-hashes", "-r", lock], timeout=600)
    _run([*pip, "--no-deps", wheel], timeout=300)
    _run([venv / "bin" / "python", "-m", "pip", "check"], timeout=120)
    return venv / "bin"


def _start(command: list, env: dict, tmp_path: Path) -> subprocess.Popen:
    """Start ``command`` from a folder outside the checkout; its output goes to a file
    (``process.log``), read back when it fails."""
    outside = tmp_path / "elsewhere"
    log = tmp_path / f"{command[1]}.log"
    with log.open("w") as output:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command, cwd=outside, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    process.log = log
    return process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


METRICS_TOKEN = "release-test-metrics-token-0123456789"


def _metrics_once_the_sweep_ran(base: str, seconds: float = 60) -> str:
    """/metrics once the scheduler's first sweep (run at its start) shows there: the
    scheduler's figures reach the web server's page through the shared folder."""
    deadline = time.monotonic() + seconds
    while True:
        status, text = _get(base + "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200
        if 'ancrage_scheduler_job_runs_total{job="reminders.sweep",outcome="done"}' in text:
            return text
        assert time.monotonic() < deadline, text
        time.sleep(1)


def _wait_for(url: str, status: int, processes: list, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args} exited:\n{process.log.read_text()}"
        try:
            last = _get(url)
            if last[0] == status:
                return last[1]
        except OSError as error:  # not listening yet
            last = error
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer {status} within {seconds} s (last: {last})")


def test_the_installed_wheel_migrates_serves_and_schedules(installed, fresh_database, tmp_path):
    outside = tmp_path / "elsewhere"  # not the checkout: nothing can come from it
    outside.mkdir()
    env = {
        "PATH": f"{installed}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "DATABASE_URL": fresh_database,
        "ANCRAGE_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "release-test-secret-key-long-enough-0123456789",
        "MAIL_SENDER": "Ancrage <ne-pas-repondre@example.org>",
        "LOG_FORMAT": "json",
        # Metrics of the two workers and the scheduler, added up (app/metrics.py).
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    ancrage = str(installed / "ancrage")

    located = _run(
        [installed / "python", "-c", "import app; print(app.__file__)"], cwd=outside, env=env
    )
    assert located.stdout.startswith(str(installed.parent)), located.stdout
    version = _run([ancrage, "--version"], cwd=outside, env=env).stdout
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert version.strip() == f"ancrage {project['version']}"
    help_text = _run([ancrage, "--help"], cwd=outside, env=env).stdout
    for command in ("db", "serve", "scheduler", "create-admin", "backup", "housing"):
        assert f"  {command} " in help_text, help_text

    _run([ancrage, "db", "upgrade"], cwd=outside, env=env, timeout=120)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [
        _start([ancrage, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env, tmp_path),
        _start([ancrage, "scheduler", "--max-seconds", "120"], env, tmp_path),
    ]
    try:
        assert json.loads(_wait_for(base + "/sante", 200, processes)) == {"statut": "ok"}
        ready = json.loads(_wait_for(base + "/sante/pret", 200, processes))
        assert ready == {
            "statut": "ok",
            "verifications": {"base_de_donnees": "ok", "migrations": "ok", "planificateur": "ok"},
        }
        status, login_page = _get(base + "/connexion")
        assert status == 200
        assert "<h1>Connexion</h1>" in login_page
        assert "/static/" in login_page  # templates and static files came with the wheel
        assert _get(base + "/metrics")[0] == 404  # without the token
        metrics = _metrics_once_the_sweep_ran(base)
        assert 'ancrage_http_requests_total{endpoint="auth.login",method="GET",status="200"}' in (
            metrics
        )
    finally:
        for process in processes:  # gunicorn's quick shutdown; the scheduler stops cleanly
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
