from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # An API call's actor (app/api): the client, a plain integer like ``household_id``.
    api_client_id: Mapped[int | None] = mapped_column(Integer)

    actor = relationship("User", lazy="joined", viewonly=True)


# --- append-only, enforced by the database ----------------------------------------------------
# The same SQL goes into the Alembic migration (see docs/security.md). PostgreSQL: TRUNCATE
# does not fire row triggers (the test suite's cleanup relies on that); production must also
# connect as a role that is not the table's owner and holds no TRUNCATE right on it.
APPEND_ONLY_MESSAGE = "audit_entry is append-only"

SQLITE_APPEND_ONLY_DDL = tuple(
    f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    for verb in ("UPDATE", "DELETE")
)
POSTGRESQL_APPEND_ONLY_DDL = (
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE}: ' || TG_OP || ' refused'; "
    "END; $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
)

for _statement in SQLITE_APPEND_ONLY_DDL:
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_APPEND_ONLY_DDL:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
