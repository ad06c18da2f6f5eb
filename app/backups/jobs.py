"""The nightly backup job (registered in ``app.scheduler.JOBS``; scheduled only when
``BACKUP_NIGHTLY`` is true)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.backups.services import nightly_backup


def nightly(now: datetime) -> dict:
    return nightly_backup(current_app.config, current_app.instance_path, now)
