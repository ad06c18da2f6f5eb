"""Health checks for the operations team, without login and without personal data.

``/sante``: the process answers. ``/sante/pret`` (readiness): the database answers, its
schema is at the migrations' head, and the scheduler's heartbeat is younger than
``SCHEDULER_HEARTBEAT_MAX_AGE``. Both answer a small JSON document, 200 or 503.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app import project_folder
from app.db import db, utcnow
from app.scheduler import HEARTBEAT_ID, SchedulerHeartbeat

bp = Blueprint("health", __name__)
log = logging.getLogger("ancrage.health")

OK = "ok"


@bp.get("/sante")
def alive():
    return jsonify(statut=OK)


@bp.get("/sante/pret")
def ready():
    checks = {"base_de_donnees": _database()}
    if checks["base_de_donnees"] == OK:
        checks["migrations"] = _migrations()
        checks["planificateur"] = _scheduler()
    db.session.rollback()
    healthy = all(value == OK for value in checks.values())
    return jsonify(statut=OK if healthy else "indisponible", verifications=checks), (
        200 if healthy else 503
    )


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not reachable"; the detail goes to the log
        db.session.rollback()
        log.exception("readiness: the database does not answer")
        return "injoignable"
    return OK


def _migrations() -> str:
    from alembic.migration import MigrationContext

    current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    return OK if current == _script_heads() else "pas à jour"


@cache
def _script_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code (read once)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", project_folder("migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _scheduler() -> str:
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if row is None:
        return "jamais démarré"
    max_age = current_app.config["SCHEDULER_HEARTBEAT_MAX_AGE"]
    if utcnow() - row.beat_at > max_age:
        return "silencieux depuis plus de " + _hours(max_age)
    return OK


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"
