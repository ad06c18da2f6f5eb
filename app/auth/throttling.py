"""Login throttling, counted in ``login_attempt`` (docs/security.md): password attempts per
e-mail and address, per address, per e-mail; second-factor codes; reset requests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import Factor, LoginAttempt
from app.db import db


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
