"""The daily retention job (registered in ``app.scheduler.JOBS``)."""

from __future__ import annotations

from datetime import datetime

from app.retention.services import run_retention


def anonymise_closed_files(now: datetime) -> dict:
    return run_retention(now)
