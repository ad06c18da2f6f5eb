"""Password reset by e-mail: a single-use link that expires, limited per e-mail and address.
Services never commit; the caller does."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.audit.models import AuditOutcome
from app.audit.services import record
from app.auth.models import Factor, LoginAttempt, PasswordResetToken
from app.auth.passwords import password_problem, set_password
from app.auth.second_factor import _hash_code
from app.auth.throttling import _reset_throttled
from app.db import db, utcnow
from app.errors import DomainError
from app.users.models import User


def request_password_reset(
    email: str, *, ip: str | None, now: datetime | None = None
) -> tuple[User, str] | None:
    """A reset link for an active account, or None (unknown e-mail, inactive account or too
    many requests). The caller answers the same in every case and e-mails the link."""
    now = now or utcnow()
    email = email.strip().lower()
    if _reset_throttled(email, ip, now):
        record(
            None,
            "auth.password_reset_throttled",
            outcome=AuditOutcome.REFUSED,
            now=now,
            details={"email_domain": email.partition("@")[2]},
        )
        return None
    db.session.add(LoginAttempt(at=now, email=email, ip=ip, factor=Factor.RESET))
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return None
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_hash_code(token),
            created_at=now,
            expires_at=now + current_app.config["PASSWORD_RESET_TTL"],
        )
    )
    record(user, "auth.password_reset_requested", target=user, now=now)
    return user, token


def valid_reset_token(token: str, *, now: datetime | None = None) -> PasswordResetToken | None:
    now = now or utcnow()
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash_code(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = db.session.get(User, row.user_id)
    return row if user is not None and user.is_active else None


def reset_password(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set a new password from a reset link: single use, expires, ends every session of the
    user. It does not log in: the user then logs in with the password and their second factor
    (a reset never bypasses two-factor login)."""
    now = now or utcnow()
    row = valid_reset_token(token, now=now)
    if row is None:
        raise DomainError(_("Ce lien n'est plus valide. Demandez un nouveau lien."))
    user = db.session.get(User, row.user_id)
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise DomainError(problem, field="new_password")
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:  # used meanwhile by a simultaneous request
        raise DomainError(_("Ce lien n'est plus valide. Demandez un nouveau lien."))
    set_password(user, new_password)
    record(user, "auth.password_reset", target=user, now=now)
    return user


def reset_email(user: User, link: str) -> tuple[str, str]:
    """Subject and body of the reset e-mail (plain French)."""
    minutes = int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 60)
    subject = "Ancrage : réinitialisation de votre mot de passe"
    body = (
        f"Bonjour {user.full_name},\n\n"
        "Une demande de réinitialisation du mot de passe de votre compte Ancrage a été faite.\n"
        f"Pour choisir un nouveau mot de passe, ouvrez ce lien dans les {minutes} minutes :\n\n"
        f"{link}\n\n"
        "Le lien ne fonctionne qu'une fois. Si vous n'êtes pas à l'origine de cette demande, "
        "ignorez ce message : votre mot de passe actuel reste valable.\n\n"
        "L'équipe Ancrage\n"
    )
    return subject, body
