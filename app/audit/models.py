from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UtcDateTime, db, utcnow


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"
    FAILURE = "failure"


class AuditEntry(db.Model):
    """Append-only trace of who read or changed what. Never holds the sensitive values.

    ``action`` is a dotted ``domain.verb`` name (``household.read``, ``auth.login_failed``);
    ``household_id`` is a plain integer, not a foreign key, so the trace outlives the file.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_household_at", "household_id", "at"),
        Index("ix_audit_entry_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    household_id: Mapped[int | None] = mapped_column(Integer)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10), default=AuditOutcome.SUCCESS)
    request_id: Mapped[str | None] = mapped_column(String(36))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict | None] = mapped_column(JSON)
