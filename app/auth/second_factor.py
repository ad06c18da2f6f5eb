"""Second factor at login: TOTP (RFC 6238) with encrypted secrets, and recovery codes.
Services never commit; the caller does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from app.audit.models import AuditOutcome
from app.audit.services import record
from app.auth.models import Factor, LoginAttempt, RecoveryCode, TotpCredential
from app.auth.throttling import _recent_failures
from app.db import db, utcnow
from app.errors import DomainError
from app.users.models import User, new_session_token


class SecondFactorRefused(DomainError):
    pass


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
