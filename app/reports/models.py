"""The indicators' result cache: one row per scope and period, shared by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UtcDateTime, db


class IndicatorCache(db.Model):
    """The programme indicators computed for one scope and period (``app.reports.cache``).

    ``key`` is a hash of everything the figures depend on (the projects, the period and,
    when it changes the households counted, the viewer), so one scope's figures can never be
    served to another. ``payload`` is plain JSON, unmasked: small counts are masked when the
    page or the export is written."""

    __tablename__ = "indicator_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict] = mapped_column(JSON)
