"""What time it is for the scheduler and its jobs: one function, one seam for tests.

``now()`` is the system's UTC time unless the application's ``CLOCK`` setting holds a clock
(anything with a ``now()`` returning an aware datetime). Tests set a ``FixedClock`` —
through ``create_app({"CLOCK": ...})``, or ``CLOCK = FixedClock(...)`` in the instance
``config.py`` of a scheduler they start as a process — so a job's slot and the ``now`` it
works for never depend on when the test happens to run. Production leaves ``CLOCK`` unset.

APScheduler itself keeps the real time: the clock decides what a run is *for* (its slot, its
Paris day), not *when* it fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context


def system_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """The current moment, aware, in UTC: the application's ``CLOCK`` when it has one."""
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock.now().astimezone(UTC) if clock is not None else system_now()


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests)."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at
