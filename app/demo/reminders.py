"""Demo reminders: one sweep over the demo data."""

from __future__ import annotations

from app.reminders.jobs import sweep


def _reminders() -> None:
    """One reminder sweep over the demo data, so every account opens an inbox that matches
    it (the scheduler started by ``make run`` keeps it current). Idempotent: a second sweep
    creates nothing."""
    sweep()
