"""API clients of a landlord organisation and the idempotency keys of their calls.

A client's secret is shown once, at creation; only its SHA-256 is stored, with a short
public prefix (``prefix``) that finds the row and names the client in the journal. Neither
table holds household data: every column is ``internal``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, db, utcnow

INTERNAL = {"audience": "internal"}


class Scope(StrEnum):
    RENT_ACCOUNTS_WRITE = "rent_accounts:write"
    TENANCIES_READ = "tenancies:read"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]


SCOPE_LABELS = {
    Scope.RENT_ACCOUNTS_WRITE: "Envoyer les comptes locataires",
    Scope.TENANCIES_READ: "Lire la situation locative des baux suivis",
}


class ApiClient(db.Model):
    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True, info=INTERNAL)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True, info=INTERNAL
    )
    name: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, info=INTERNAL)
    secret_hash: Mapped[str] = mapped_column(String(64), info=INTERNAL)
    scopes: Mapped[str] = mapped_column(String(120), info=INTERNAL)
    expires_on: Mapped[date] = mapped_column(Date, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info=INTERNAL)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info=INTERNAL
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=INTERNAL)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info=INTERNAL
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=INTERNAL)

    organisation = relationship("Organisation", lazy="joined")

    # The journal names a client as the actor of its calls (``app.audit.services.record``).
    is_api_client = True

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def scope_labels(self) -> list[str]:
        return [Scope(s).label for s in self.scope_list if s in Scope._value2member_map_]

    def has_scope(self, scope: Scope) -> bool:
        return scope.value in self.scope_list


class IdempotencyKey(db.Model):
    """A POST's Idempotency-Key: the hash of its body and the answer it got, replayed when
    the same key comes again with the same body."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotency_client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=INTERNAL)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), info=INTERNAL
    )
    key: Mapped[str] = mapped_column(String(255), info=INTERNAL)
    request_hash: Mapped[str] = mapped_column(String(64), info=INTERNAL)
    status: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    response: Mapped[dict] = mapped_column(JSON, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info=INTERNAL)
