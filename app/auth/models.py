from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UtcDateTime, db, utcnow


class Factor(StrEnum):
    """What an attempt tried: the password, a second-factor code, a reset request."""

    PASSWORD = "password"  # noqa: S105 - a factor name, not a credential
    TOTP = "totp"
    RESET = "reset"


class LoginAttempt(db.Model):
    """One login attempt. Kept in the database so throttling holds across server processes.

    ``is_throttled``: refused by the throttling before the password was checked. Such rows
    are kept for the record but count in no limit: only checked failures do, so refused
    attempts neither extend a refusal nor push the e-mail's delay further."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    is_success: Mapped[bool] = mapped_column(Boolean, default=False)
    is_throttled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    factor: Mapped[str] = mapped_column(
        String(10), default=Factor.PASSWORD, server_default=Factor.PASSWORD.value
    )


class TotpCredential(db.Model):
    """A user's TOTP secret, encrypted at rest (Fernet, key derived from SECRET_KEY).

    ``confirmed_at`` is None while the user is enrolling: the secret is shown but not yet
    proven. ``last_timecode`` is the 30-second step of the last accepted code: a code of that
    step or an earlier one is refused, so a code cannot be replayed.
    """

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), unique=True, index=True
    )
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_timecode: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(db.Model):
    """A single-use recovery code, stored as a SHA-256 hash (the code is random, 50 bits, and
    attempts are throttled, so a slow hash adds nothing)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasswordResetToken(db.Model):
    """A password-reset link: only the SHA-256 of its token is kept; single use; expires."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
