"""Metrics in the Prometheus text format (prometheus-client), for the operations team.

What is measured, with labels that are names of code (endpoints, jobs, outcomes) or HTTP
statuses only — never an id, a name, a path or free text:

- ``ancrage_http_requests_total{endpoint,method,status}`` and
  ``ancrage_http_request_duration_seconds{endpoint,method,status}``: every request
  (``endpoint`` is the Flask endpoint, ``unmatched`` when no route matched);
- ``ancrage_db_query_duration_seconds``: the database time, query by query (web, scheduler
  and commands alike);
- ``ancrage_scheduler_job_runs_total{job,outcome}`` (done, skipped, failed) and
  ``ancrage_scheduler_job_duration_seconds{job,outcome}``: the scheduler's jobs;
- ``ancrage_imports_total{kind,outcome}``: rent-account imports, imported or refused;
- ``ancrage_digest_emails_total{outcome}``: daily digests sent or failed;
- ``ancrage_sessions_open``: accounts that logged in within the absolute session lifetime
  (sessions live in signed cookies, so this is the number that can still be open; read from
  the database when the metrics are read).

Several processes (gunicorn's workers, the scheduler, one-off commands) share the figures
through prometheus-client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` names a
folder (set by the systemd units; it must be in the environment before this module is
imported). ``ancrage serve`` removes the files of processes that are gone when it starts and
tells prometheus-client when a worker exits. Without it (``make run``, tests) each process
counts for itself.

``GET /metrics`` answers only with ``Authorization: Bearer <METRICS_TOKEN>``; without a
configured token, or with another, it is a 404 like any unknown page. docs/operations.md,
"Metrics".
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, request

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    # prometheus-client writes one file per process and metric type there; the folder must
    # exist before the first value is created.
    Path(MULTIPROC_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)

from prometheus_client import (  # noqa: E402 - after the folder exists
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

# Our metrics live in their own registry (not prometheus-client's global one, which also
# carries the process's own figures): what /metrics shows is exactly what is listed above.
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "ancrage_http_requests_total",
    "Requêtes HTTP traitées, par point d'entrée, méthode et statut.",
    ("endpoint", "method", "status"),
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "ancrage_http_request_duration_seconds",
    "Durée de traitement des requêtes HTTP (secondes).",
    ("endpoint", "method", "status"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
DB_DURATION = Histogram(
    "ancrage_db_query_duration_seconds",
    "Durée des requêtes à la base de données (secondes).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "ancrage_scheduler_job_runs_total",
    "Exécutions des tâches du planificateur, par tâche et issue (done, skipped, failed).",
    ("job", "outcome"),
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "ancrage_scheduler_job_duration_seconds",
    "Durée des tâches du planificateur (secondes).",
    ("job", "outcome"),
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
    registry=REGISTRY,
)
IMPORTS = Counter(
    "ancrage_imports_total",
    "Imports de fichiers, par type et issue (imported, refused).",
    ("kind", "outcome"),
    registry=REGISTRY,
)
DIGESTS = Counter(
    "ancrage_digest_emails_total",
    "Courriels de synthèse quotidienne, par issue (sent, failed).",
    ("outcome",),
    registry=REGISTRY,
)

SESSIONS_OPEN = "ancrage_sessions_open"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# prometheus-client's multiprocess files: <type>_<pid>.db (gauges: gauge_<mode>_<pid>.db).
_PID_FILE = re.compile(r"_(\d+)\.db$")

bp = Blueprint("metrics", __name__)
log = logging.getLogger("ancrage.metrics")


def record_job(job_id: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job_id, outcome).inc()
    JOB_DURATION.labels(job_id, outcome).observe(seconds)


def record_import(kind: str, outcome: str) -> None:
    IMPORTS.labels(kind, outcome).inc()


def record_digest(outcome: str) -> None:
    DIGESTS.labels(outcome).inc()


def register_metrics(app) -> None:
    """Time every request and every database query; serve ``/metrics``."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    app.register_blueprint(bp)

    @app.after_request
    def _count_request(response):
        # Set by app/http.py's first before_request hook: requests that another hook answers
        # early (a refused body, a forced password change) are counted too.
        started = g.get("request_started")
        if started is not None:
            labels = (
                request.endpoint or "unmatched",
                request.method if request.method in METHODS else "other",
                str(response.status_code),
            )
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)
        return response

    if not getattr(Engine, "_ancrage_metrics", False):  # once per process, every engine
        Engine._ancrage_metrics = True
        event.listen(Engine, "before_cursor_execute", _query_started)
        event.listen(Engine, "after_cursor_execute", _query_finished)


def _query_started(conn, *_cursor_statement_parameters_context_executemany):
    conn.info.setdefault("ancrage_query_started", []).append(time.perf_counter())


def _query_finished(conn, *_cursor_statement_parameters_context_executemany):
    started = conn.info.get("ancrage_query_started")
    if started:
        DB_DURATION.observe(time.perf_counter() - started.pop())


@bp.get("/metrics")
def expose():
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(404)
    return Response(generate_latest(_scrape_registry()), mimetype=CONTENT_TYPE_LATEST)


def _scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=MULTIPROC_DIR)
    else:
        registry.register(_ThisProcess())
    registry.register(_OpenSessions(current_app._get_current_object()))
    return registry


class _ThisProcess:
    def collect(self):
        return REGISTRY.collect()


class _OpenSessions:
    def __init__(self, app):
        self.app = app

    def collect(self):
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        from app.db import db, utcnow
        from app.users.models import User

        lifetime: timedelta = self.app.config["SESSION_ABSOLUTE_TIMEOUT"]
        try:
            count = db.session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.is_active.is_(True), User.last_login_at > utcnow() - lifetime)
            )
        except SQLAlchemyError:  # the database is down: the other figures still answer
            log.warning("metrics: open sessions not counted (database unavailable)")
            return
        finally:
            db.session.rollback()
        yield GaugeMetricFamily(
            SESSIONS_OPEN,
            "Comptes connectés depuis moins que la durée maximale d'une session "
            "(sessions pouvant être encore ouvertes).",
            value=count or 0,
        )


# --- gunicorn (ancrage serve) ------------------------------------------------------------


def forget_dead_processes() -> None:
    """Remove the multiprocess files of processes that no longer run (an earlier server,
    one-off commands): called by ``ancrage serve`` before it starts its workers. The running
    scheduler's files stay."""
    if not MULTIPROC_DIR:
        return
    for path in Path(MULTIPROC_DIR).glob("*.db"):
        match = _PID_FILE.search(path.name)
        if match and not _running(int(match.group(1))):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True


def worker_exited(_server, worker) -> None:
    """gunicorn's ``child_exit`` hook: the worker's live gauges stop counting."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(worker.pid)
