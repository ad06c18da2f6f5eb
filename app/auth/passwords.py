"""Passwords: the policy (length and a blocklist, no composition rules), argon2id hashing
and storing a new one. Part of the authentication rules (``app.auth.services``)."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from app.db import utcnow
from app.users.models import User, new_session_token

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Characters people add around a common word to pass a length rule ("soleil2024!").
_DECORATION = "0123456789!?.,;:*_-+=@#$%&€ "


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


def set_password(user: User, password: str, *, is_temporary: bool = False) -> None:
    """Store a new hash and rotate the session token, which ends the user's other sessions."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.is_password_temporary = is_temporary
    user.session_token = new_session_token()
