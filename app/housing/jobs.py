"""The hourly removal of uploaded extracts left unimported (registered in
``app.scheduler.JOBS`` as ``housing.staged_imports``)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.housing.rent_import import staging


def remove_staged_imports(now: datetime) -> dict:
    """Remove the staged extracts older than ``RENT_IMPORT_STAGED_HOURS`` at ``now``; the
    count is kept in ``job_run.summary`` (never a file name: it holds a landlord's id)."""
    removed = staging.sweep_staged(now.timestamp())
    return {"removed": removed, "hours": current_app.config["RENT_IMPORT_STAGED_HOURS"]}
