"""Authentication rules: password hashing, login with database-backed throttling, logout,
password change. Services never commit; the caller does."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.audit.models import AuditOutcome
from app.audit.services import record
from app.auth.models import LoginAttempt
from app.db import db, utcnow
from app.errors import DomainError
from app.users.models import User, new_session_token

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# A short list of the passwords most tried against French services; the complete check
# lives in ``password_problem``.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "azertyuiop12",
        "motdepasse12",
        "motdepasse123",
        "password1234",
        "qwertyuiop12",
        "azertyuiopqs",
        "000000000000",
        "111111111111",
        "123123123123",
        "soleil123456",
        "bonjour12345",
        "jetaime12345",
        "marseille1234",
        "doudou123456",
        "chouchou1234",
        "loulou123456",
        "ancrage12345",
        "ancrage123456",
        "administrateur",
        "passwordpassword",
        "motdepassemotdepasse",
        "azertyazerty",
        "qwertyqwerty",
    }
)
_DUMMY_HASH: str | None = None


class LoginRefused(DomainError):
    pass


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """The French reason a new password is refused, or None. No composition rules (ASVS
    V6.2, CNIL 2022-100): length and a blocklist."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Le mot de passe doit contenir au moins %(n)s caractères.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Le mot de passe ne doit pas dépasser %(n)s caractères.", n=MAX_PASSWORD_LENGTH)
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        return _("Ce mot de passe est trop courant ou trop simple : choisissez-en un autre.")
    if email and email.split("@")[0].lower() in lowered and len(email.split("@")[0]) >= 4:
        return _("Le mot de passe ne doit pas contenir votre adresse e-mail.")
    return None


def generate_temporary_password() -> str:
    return secrets.token_urlsafe(12)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _recent_failures(column, value, since: datetime) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.at >= since, LoginAttempt.is_success.is_(False)
        )
    )


def _throttled(email: str, ip: str | None, now: datetime) -> bool:
    cfg = current_app.config
    since = now - cfg["LOGIN_WINDOW"]
    if _recent_failures(LoginAttempt.email, email, since) >= cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]:
        return True
    return bool(ip) and (
        _recent_failures(LoginAttempt.ip, ip, since) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]
    )


def authenticate(email: str, password: str, *, ip: str | None, now: datetime | None = None) -> User:
    """Return the user for these credentials or raise ``LoginRefused``.

    The same message answers an unknown e-mail and a wrong password, and a dummy hash is
    verified for unknown e-mails, so the answer does not reveal whether an account exists.
    """
    global _DUMMY_HASH
    now = now or utcnow()
    email = email.strip().lower()
    if _throttled(email, ip, now):
        db.session.add(LoginAttempt(at=now, email=email, ip=ip, is_success=False))
        record(
            None,
            "auth.login_throttled",
            outcome=AuditOutcome.REFUSED,
            now=now,
            details={"email_domain": email.partition("@")[2]},
        )
        minutes = int(current_app.config["LOGIN_WINDOW"].total_seconds() // 60)
        raise LoginRefused(
            _(
                "Trop de tentatives de connexion échouées. Pour votre sécurité, réessayez dans "
                "%(minutes)s minutes ou demandez à votre administrateur de vérifier votre compte.",
                minutes=minutes,
            )
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        _verify(_DUMMY_HASH, password)
        ok = False
    else:
        ok = _verify(user.password_hash, password) and user.is_active
    db.session.add(LoginAttempt(at=now, email=email, ip=ip, is_success=ok))
    if not ok:
        record(user, "auth.login_failed", outcome=AuditOutcome.REFUSED, now=now, target=user)
        raise LoginRefused(_("Adresse e-mail ou mot de passe incorrect."))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    record(user, "auth.login", target=user, now=now)
    return user


def logout(user: User) -> None:
    """End every session of ``user``: the old cookie no longer matches the token."""
    user.session_token = new_session_token()
    record(user, "auth.logout", target=user)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    if not _verify(user.password_hash, current_password):
        raise DomainError(_("Le mot de passe actuel est incorrect."), field="current_password")
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise DomainError(problem, field="new_password")
    set_password(user, new_password)
    record(user, "auth.password_changed", target=user)


def set_password(user: User, password: str, *, is_temporary: bool = False) -> None:
    """Store a new hash and rotate the session token, which ends the user's other sessions."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.is_password_temporary = is_temporary
    user.session_token = new_session_token()


def load_user_from_cookie(cookie_id: str) -> User | None:
    """Flask-Login's user loader: the cookie holds ``<user id>:<session token>`` and the token
    must match the database, so logout, password change and deactivation end sessions."""
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Cette langue n'est pas disponible."), field="locale")
    user.locale = locale
    record(user, "auth.preferences_changed", target=user, details={"locale": locale})
