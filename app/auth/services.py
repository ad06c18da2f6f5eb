"""Authentication rules: password hashing and policy, login with database-backed throttling,
second factor (TOTP and recovery codes), password reset links, re-authentication, logout.
Services never commit; the caller does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.audit.models import AuditOutcome
from app.audit.services import record
from app.auth.models import (
    Factor,
    LoginAttempt,
    PasswordResetToken,
    RecoveryCode,
    TotpCredential,
)
from app.db import db, utcnow
from app.errors import DomainError
from app.search import forget_searches
from app.users.models import User, new_session_token

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Characters people add around a common word to pass a length rule ("soleil2024!").
_DECORATION = "0123456789!?.,;:*_-+=@#$%&€ "
_DUMMY_HASH: str | None = None


class LoginRefused(DomainError):
    pass


class SecondFactorRefused(DomainError):
    pass


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist (app/auth/common_passwords.txt: about 30,000 entries, sources in its
    header), lower-case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """True for a listed password, a listed one wrapped in digits or symbols
    ("motdepasse2024!"), or a listed one repeated ("azertyazerty")."""
    common = common_passwords()
    lowered = password.lower()
    if lowered in common:
        return True
    core = lowered.strip(_DECORATION)
    if core != lowered and (core in common or len(core) < 4):
        return True
    for size in range(1, len(core) // 2 + 1):
        if len(core) % size == 0 and core == core[:size] * (len(core) // size):
            return core[:size] in common or size < 4
    return False


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
    if len(set(lowered)) < 4 or is_common_password(password):
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


def _recent_failures(column, value, since: datetime, factor: Factor = Factor.PASSWORD) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value,
            LoginAttempt.at >= since,
            LoginAttempt.is_success.is_(False),
            LoginAttempt.factor == factor,
        )
    )


@dataclass(frozen=True)
class Throttle:
    """Why a login attempt is refused before its password is checked, and for how long.
    ``reason``: "pair" (this e-mail from this address), "address" (this address, whatever
    the e-mail) or "email" (this e-mail from every address: a delay, not a lock)."""

    reason: str
    retry_after: int  # seconds


def _checked_failures(*conditions, since: datetime):
    """Password failures whose password was checked (refused attempts count in no limit)."""
    return select(func.count(LoginAttempt.id)).where(
        *conditions,
        LoginAttempt.at >= since,
        LoginAttempt.is_success.is_(False),
        LoginAttempt.is_throttled.is_(False),
        LoginAttempt.factor == Factor.PASSWORD,
    )


def _is_known_address(email: str, ip: str | None, now: datetime) -> bool:
    """Whether this e-mail logged in with its password from ``ip`` within
    LOGIN_KNOWN_ADDRESS_TTL: the user's own address, spared the e-mail's delay."""
    if not ip:
        return False
    since = now - current_app.config["LOGIN_KNOWN_ADDRESS_TTL"]
    return (
        db.session.scalar(
            select(LoginAttempt.id)
            .where(
                LoginAttempt.email == email,
                LoginAttempt.ip == ip,
                LoginAttempt.at >= since,
                LoginAttempt.is_success.is_(True),
                LoginAttempt.factor == Factor.PASSWORD,
            )
            .limit(1)
        )
        is not None
    )


def login_throttle(email: str, ip: str | None, now: datetime) -> Throttle | None:
    """The throttling of password attempts, or None when this attempt may be checked.

    Failures are counted in LOGIN_WINDOW, three ways, so that a stranger cannot lock
    someone else out (docs/security.md):

    - per e-mail *and* address: LOGIN_MAX_FAILURES_PER_PAIR refuse that pair for the window;
      the same e-mail from another address is not refused;
    - per address: LOGIN_MAX_FAILURES_PER_IP refuse the address for the window, except for
      an e-mail that logged in from it (LOGIN_KNOWN_ADDRESS_TTL: a shared office address);
    - per e-mail from every address: past LOGIN_EMAIL_SLOWDOWN_AFTER failures, each attempt
      waits LOGIN_EMAIL_DELAY × (failures past the threshold + 1), at most
      LOGIN_EMAIL_DELAY_MAX, after the e-mail's last failure. A delay, never a lock; and an
      address this e-mail logged in from (LOGIN_KNOWN_ADDRESS_TTL) is spared it.

    Nothing here depends on whether the account exists: an unknown e-mail gets the same
    answers after the same queries."""
    cfg = current_app.config
    window = cfg["LOGIN_WINDOW"]
    since = now - window
    pair = db.session.scalar(
        _checked_failures(
            LoginAttempt.email == email,
            LoginAttempt.ip == ip if ip else LoginAttempt.ip.is_(None),
            since=since,
        )
    )
    if pair >= cfg["LOGIN_MAX_FAILURES_PER_PAIR"]:
        return Throttle("pair", int(window.total_seconds()))
    if (
        ip
        and db.session.scalar(_checked_failures(LoginAttempt.ip == ip, since=since))
        >= cfg["LOGIN_MAX_FAILURES_PER_IP"]
        # Behind a NAT or a proxy many users share one address: one that this e-mail logged
        # in from is spared the address limit (the pair limit still holds).
        and not _is_known_address(email, ip, now)
    ):
        return Throttle("address", int(window.total_seconds()))
    failures, last = db.session.execute(
        _checked_failures(LoginAttempt.email == email, since=since).add_columns(
            func.max(LoginAttempt.at)
        )
    ).one()
    threshold = cfg["LOGIN_EMAIL_SLOWDOWN_AFTER"]
    if failures < threshold or _is_known_address(email, ip, now):
        return None
    if last.tzinfo is None:  # SQLite returns the aggregate's value naive (UTC)
        last = last.replace(tzinfo=UTC)
    delay = min(cfg["LOGIN_EMAIL_DELAY"] * (failures - threshold + 1), cfg["LOGIN_EMAIL_DELAY_MAX"])
    remaining = (last + delay - now).total_seconds()
    return Throttle("email", math.ceil(remaining)) if remaining > 0 else None


def _throttle_message(throttle: Throttle) -> str:
    if throttle.reason == "email":
        return _(
            "Trop de tentatives, réessayez dans %(seconds)s secondes.",
            seconds=throttle.retry_after,
        )
    return _(
        "Trop de tentatives de connexion échouées. Pour votre sécurité, réessayez dans "
        "%(minutes)s minutes ou demandez à votre administrateur de vérifier votre compte.",
        minutes=max(1, throttle.retry_after // 60),
    )


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
    user.last_login_at = now
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
    # Roles joined to the user row: one query fewer on every request.
    user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows)])
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


# --- second factor: TOTP (RFC 6238) and recovery codes ---------------------------------------

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _fernet_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY with HKDF-SHA256 (a separate key per purpose)."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ancrage:totp-secret:v1"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    """Encrypts with SECRET_KEY; also decrypts with SECRET_KEY_FALLBACKS (key rotation: see
    docs/security.md and ``flask --app wsgi rotate-totp-keys``)."""
    keys = [
        current_app.config["SECRET_KEY"],
        *(current_app.config.get("SECRET_KEY_FALLBACKS") or []),
    ]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def encrypt_totp_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_totp_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:  # SECRET_KEY changed without a fallback
        raise RuntimeError(
            "TOTP secret cannot be decrypted: was SECRET_KEY changed without keeping the old "
            "one in SECRET_KEY_FALLBACKS?"
        ) from error


def rotate_totp_keys() -> int:
    """Re-encrypt every TOTP secret with the current SECRET_KEY; returns how many."""
    fernet = _fernet()
    credentials = db.session.scalars(select(TotpCredential)).all()
    for credential in credentials:
        credential.secret_encrypted = fernet.rotate(credential.secret_encrypted.encode()).decode()
    return len(credentials)


def requires_second_factor(user: User) -> bool:
    """Whether the user's roles make two-factor login mandatory (TOTP_REQUIRED_ROLES)."""
    required = current_app.config["TOTP_REQUIRED_ROLES"]
    if isinstance(required, str):
        required = [r.strip() for r in required.split(",")]
    return any(role in required for role in user.roles)


def totp_credential(user: User) -> TotpCredential | None:
    return db.session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))


def has_totp(user: User) -> bool:
    credential = totp_credential(user)
    return credential is not None and credential.confirmed_at is not None


def needs_second_factor_step(user: User) -> bool:
    """After the password: a code (enrolled users) or a forced enrolment (mandatory roles)."""
    return has_totp(user) or requires_second_factor(user)


def start_totp_enrolment(user: User) -> str:
    """The secret being enrolled: a new one from the CSPRNG (160 bits), or the one already
    shown if enrolment was started and not finished."""
    credential = totp_credential(user)
    if credential is not None and credential.confirmed_at is not None:
        raise DomainError(_("La double authentification est déjà activée."))
    if credential is None:
        secret = pyotp.random_base32(32)
        db.session.add(
            TotpCredential(user_id=user.id, secret_encrypted=encrypt_totp_secret(secret))
        )
        return secret
    return decrypt_totp_secret(credential.secret_encrypted)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TOTP_ISSUER"]
    )


def qr_code_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code, an SVG ``data:`` URI (allowed by the CSP's img-src)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _accept_totp(credential: TotpCredential, code: str, now: datetime) -> bool:
    """Check a 6-digit code against the previous, current and next 30-second steps and accept
    it only if its step is later than the last accepted one (no replay). The conditional
    UPDATE makes two simultaneous uses of one code accept only one of them."""
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(decrypt_totp_secret(credential.secret_encrypted))
    current = totp.timecode(now)
    for timecode in (current - 1, current, current + 1):
        if not hmac.compare_digest(totp.generate_otp(timecode), code):
            continue
        accepted = db.session.execute(
            update(TotpCredential)
            .where(
                TotpCredential.id == credential.id,
                or_(
                    TotpCredential.last_timecode.is_(None),
                    TotpCredential.last_timecode < timecode,
                ),
            )
            .values(last_timecode=timecode)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(credential)
        return accepted == 1
    return False


def _normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace the user's recovery codes with 10 new ones; returns them (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw), created_at=now))
    return codes


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    normalised = _normalise_recovery_code(code)
    if len(normalised) != 10:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return used == 1


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def confirm_totp_enrolment(user: User, code: str, *, now: datetime | None = None) -> list[str]:
    """Finish enrolment with a first valid code; returns the recovery codes to show once.
    Rotates the session token: the user's other sessions end (ASVS V7.4.3)."""
    now = now or utcnow()
    credential = totp_credential(user)
    if credential is None or credential.confirmed_at is not None:
        raise DomainError(_("Recommencez l'activation de la double authentification."))
    if not _accept_totp(credential, _digits(code), now):
        raise DomainError(
            _("Ce code n'est pas valide. Vérifiez l'heure de votre téléphone et réessayez."),
            field="code",
        )
    credential.confirmed_at = now
    codes = _new_recovery_codes(user, now)
    user.session_token = new_session_token()
    record(user, "auth.totp_enabled", target=user, now=now)
    return codes


def _digits(code: str) -> str:
    return "".join(c for c in (code or "") if not c.isspace())


def verify_second_factor(user: User, code: str, *, ip: str | None, now: datetime | None = None):
    """Check a TOTP code or a recovery code at login. Bad codes are counted in
    ``login_attempt`` (factor "totp") and refused past TOTP_MAX_FAILURES in LOGIN_WINDOW."""
    now = now or utcnow()
    cfg = current_app.config
    since = now - cfg["LOGIN_WINDOW"]
    if (
        _recent_failures(LoginAttempt.email, user.email, since, Factor.TOTP)
        >= cfg["TOTP_MAX_FAILURES"]
    ):
        record(user, "auth.totp_throttled", outcome=AuditOutcome.REFUSED, now=now, target=user)
        minutes = int(cfg["LOGIN_WINDOW"].total_seconds() // 60)
        raise SecondFactorRefused(
            _(
                "Trop de codes erronés. Pour votre sécurité, réessayez dans %(minutes)s minutes.",
                minutes=minutes,
            )
        )
    credential = totp_credential(user)
    code = _digits(code)
    used_recovery = False
    if credential is None or credential.confirmed_at is None:
        ok = False
    elif code.isdigit():
        ok = _accept_totp(credential, code, now)
    else:
        ok = used_recovery = _use_recovery_code(user, code, now)
    db.session.add(LoginAttempt(at=now, email=user.email, ip=ip, is_success=ok, factor=Factor.TOTP))
    if not ok:
        record(user, "auth.totp_failed", outcome=AuditOutcome.REFUSED, now=now, target=user)
        raise SecondFactorRefused(
            _("Ce code n'est pas valide ou a déjà été utilisé."), field="code"
        )
    if used_recovery:
        record(
            user,
            "auth.recovery_code_used",
            target=user,
            now=now,
            details={"remaining": remaining_recovery_codes(user)},
        )


def regenerate_recovery_codes(user: User, *, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    if not has_totp(user):
        raise DomainError(_("Activez d'abord la double authentification."))
    codes = _new_recovery_codes(user, now)
    record(user, "auth.recovery_codes_regenerated", target=user, now=now)
    return codes


def _remove_second_factor(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    user.session_token = new_session_token()


def disable_totp(user: User) -> None:
    """Optional two-factor login only: mandatory roles cannot turn it off."""
    if requires_second_factor(user):
        raise DomainError(_("La double authentification est obligatoire pour votre rôle."))
    if not has_totp(user):
        raise DomainError(_("La double authentification n'est pas activée."))
    _remove_second_factor(user)
    record(user, "auth.totp_disabled", target=user)


def reset_second_factor(admin: User, user: User) -> None:
    """An administrator removes a user's second factor (lost phone and recovery codes): the
    user enrols again at next login. Ends the user's sessions."""
    if totp_credential(user) is None:
        raise DomainError(_("Ce compte n'a pas de double authentification."))
    _remove_second_factor(user)
    record(admin, "auth.totp_reset", target=user)


# --- password reset by e-mail ----------------------------------------------------------------


def _reset_throttled(email: str, ip: str | None, now: datetime) -> bool:
    cfg = current_app.config
    since = now - cfg["PASSWORD_RESET_WINDOW"]

    def requests(column, value) -> int:
        return db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                column == value, LoginAttempt.at >= since, LoginAttempt.factor == Factor.RESET
            )
        )

    if requests(LoginAttempt.email, email) >= cfg["PASSWORD_RESET_MAX_PER_EMAIL"]:
        return True
    return bool(ip) and requests(LoginAttempt.ip, ip) >= cfg["PASSWORD_RESET_MAX_PER_IP"]


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
