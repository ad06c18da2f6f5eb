"""Authentication rules: login with database-backed throttling, re-authentication, logout,
password change, the session cookie's user. Services never commit; the caller does.

The rest lives beside it, one module per concern, and is importable from here as before:
``app.auth.passwords`` (policy, hashing), ``app.auth.throttling`` (attempt limits),
``app.auth.second_factor`` (TOTP, recovery codes), ``app.auth.password_reset`` (reset links).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.models import AuditOutcome
from app.audit.services import record
from app.auth.models import LoginAttempt
from app.auth.password_reset import (
    request_password_reset,
    reset_email,
    reset_password,
    valid_reset_token,
)
from app.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    _hasher,
    _verify,
    common_passwords,
    generate_temporary_password,
    hash_password,
    is_common_password,
    password_problem,
    set_password,
)
from app.auth.second_factor import (
    SecondFactorRefused,
    confirm_totp_enrolment,
    decrypt_totp_secret,
    disable_totp,
    encrypt_totp_secret,
    has_totp,
    needs_second_factor_step,
    provisioning_uri,
    qr_code_data_uri,
    regenerate_recovery_codes,
    remaining_recovery_codes,
    requires_second_factor,
    reset_second_factor,
    rotate_totp_keys,
    start_totp_enrolment,
    totp_credential,
    verify_second_factor,
)
from app.auth.throttling import Throttle, _throttle_message, login_throttle
from app.db import db, utcnow
from app.errors import DomainError
from app.search import forget_searches
from app.users.models import User, new_session_token

# Importable from here, as before the split.
__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "LoginRefused",
    "SecondFactorRefused",
    "Throttle",
    "authenticate",
    "change_password",
    "common_passwords",
    "complete_login",
    "confirm_totp_enrolment",
    "decrypt_totp_secret",
    "disable_totp",
    "encrypt_totp_secret",
    "generate_temporary_password",
    "has_totp",
    "hash_password",
    "is_common_password",
    "load_user_from_cookie",
    "login_throttle",
    "logout",
    "needs_second_factor_step",
    "password_problem",
    "provisioning_uri",
    "qr_code_data_uri",
    "reauthenticate",
    "regenerate_recovery_codes",
    "remaining_recovery_codes",
    "request_password_reset",
    "requires_second_factor",
    "reset_email",
    "reset_password",
    "reset_second_factor",
    "rotate_totp_keys",
    "set_password",
    "start_totp_enrolment",
    "totp_credential",
    "valid_reset_token",
    "verify_second_factor",
]

_DUMMY_HASH: str | None = None


class LoginRefused(DomainError):
    pass


def authenticate(email: str, password: str, *, ip: str | None, now: datetime | None = None) -> User:
    """Return the user for these credentials or raise ``LoginRefused``.

    The same message answers an unknown e-mail and a wrong password, and a dummy hash is
    verified for unknown e-mails, so the answer does not reveal whether an account exists.
    A throttled attempt (``login_throttle``) is refused without checking the password.
    """
    global _DUMMY_HASH
    now = now or utcnow()
    email = email.strip().lower()
    throttle = login_throttle(email, ip, now)
    if throttle is not None:
        db.session.add(
            LoginAttempt(at=now, email=email, ip=ip, is_success=False, is_throttled=True)
        )
        record(
            None,
            "auth.login_throttled",
            outcome=AuditOutcome.REFUSED,
            now=now,
            details={"email_domain": email.partition("@")[2], "reason": throttle.reason},
        )
        raise LoginRefused(_throttle_message(throttle))
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
    if needs_second_factor_step(user):
        record(user, "auth.password_verified", target=user, now=now)
    return user


def complete_login(user: User, *, second_factor: bool, now: datetime | None = None) -> None:
    """The user is now authenticated (password, and the second factor when they have one)."""
    now = now or utcnow()
    # Not through the versioned row: two logins of one account at once (a double click, two
    # devices) would otherwise race on its version and the loser get no session, and a
    # login would make an administrator's open edit of the account stale.
    table = User.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == user.id)
        .values(last_login_at=now, updated_at=table.c.updated_at)  # not an edit of the account
    )
    set_committed_value(user, "last_login_at", now)
    record(user, "auth.login", target=user, now=now, details={"second_factor": second_factor})


def reauthenticate(user: User, password: str, *, ip: str | None, now: datetime | None = None):
    """Confirm the password of a logged-in user before a sensitive action. Shares the login
    throttling: failures here count as failed logins of the account."""
    now = now or utcnow()
    throttle = login_throttle(user.email, ip, now)
    if throttle is not None:
        record(
            user,
            "auth.login_throttled",
            outcome=AuditOutcome.REFUSED,
            now=now,
            target=user,
            details={"reason": throttle.reason},
        )
        message = (
            _throttle_message(throttle)
            if throttle.reason == "email"
            else _("Trop de tentatives échouées. Réessayez dans quelques minutes.")
        )
        raise LoginRefused(message, field="password")
    ok = _verify(user.password_hash, password)
    db.session.add(LoginAttempt(at=now, email=user.email, ip=ip, is_success=ok))
    if not ok:
        record(user, "auth.reauth_failed", outcome=AuditOutcome.REFUSED, now=now, target=user)
        raise LoginRefused(_("Mot de passe incorrect."), field="password")
    record(user, "auth.reauthenticated", target=user, now=now)


def logout(user: User) -> None:
    """End every session of ``user``: the old cookie no longer matches the token. The terms
    they typed in search boxes are deleted."""
    user.session_token = new_session_token()
    forget_searches(user)
    record(user, "auth.logout", target=user)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    if not _verify(user.password_hash, current_password):
        raise DomainError(_("Le mot de passe actuel est incorrect."), field="current_password")
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise DomainError(problem, field="new_password")
    set_password(user, new_password)
    record(user, "auth.password_changed", target=user)


def load_user_from_cookie(cookie_id: str) -> User | None:
    """Flask-Login's user loader: the cookie holds ``<user id>:<session token>`` and the token
    must match the database, so logout, password change and deactivation end sessions."""
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    # Roles joined to the user row: one query fewer on every request.
    user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows)])
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user
