"""Login throttling that a stranger cannot turn into a lockout of someone else.

Before, five wrong passwords for an e-mail, from any address, locked it for 15 minutes: anyone
who knew a colleague's e-mail could keep them out. Now failures are counted per (e-mail,
address) pair and per address, which refuse for the window, and per e-mail from every
address, which only imposes a growing delay — one that the user's own address (where the
e-mail logged in before) does not even see. Time is passed to the service (``now``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from app.auth.models import LoginAttempt
from app.auth.services import LoginRefused, authenticate
from app.db import db
from tests.conftest import page
from tests.factories import PASSWORD, make_user

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOME = "192.0.2.10"  # the user's own address
STRANGER = "203.0.113.66"
WRONG = "mauvais-mdp-123"


def _try(email: str, password: str, ip: str | None, now: datetime) -> str:
    """ "ok", or the message of the refusal."""
    try:
        authenticate(email, password, ip=ip, now=now)
    except LoginRefused as refusal:
        return refusal.message
    return "ok"


def _hammer(email: str, *, addresses: list[str], per_address: int, start: datetime) -> datetime:
    """Wrong passwords from each address, one second apart; returns the last attempt's time."""
    now = start
    for ip in addresses:
        for _ in range(per_address):
            _try(email, WRONG, ip, now)
            now += timedelta(seconds=1)
    return now - timedelta(seconds=1)


def _strangers(n: int) -> list[str]:
    return [f"198.51.100.{i}" for i in range(1, n + 1)]


@pytest.fixture
def user(app):
    user = make_user(email="camille@exemple.fr")
    db.session.commit()
    return user


def test_a_stranger_hammering_from_one_address_does_not_keep_the_owner_out(user):
    last = _hammer(user.email, addresses=[STRANGER], per_address=200, start=T0)
    # The stranger's own address is refused (the pair limit) even with the right password…
    assert "Trop de tentatives" in _try(user.email, PASSWORD, STRANGER, last)
    # …the owner, from their own address, gets in at once, even one never used before.
    assert _try(user.email, PASSWORD, HOME, last) == "ok"


def test_a_stranger_hammering_from_many_addresses_does_not_keep_the_owner_out(user):
    assert _try(user.email, PASSWORD, HOME, T0 - timedelta(days=3)) == "ok"  # their address
    last = _hammer(user.email, addresses=_strangers(40), per_address=5, start=T0)
    # 200 failures from 40 addresses: the e-mail is slowed down, but not for its own address.
    assert "Trop de tentatives, réessayez dans" in _try(user.email, WRONG, "192.0.2.99", last)
    assert _try(user.email, PASSWORD, HOME, last) == "ok"


def test_the_pair_limit_refuses_that_address_only_and_for_the_window(app, user):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        assert _try(user.email, WRONG, STRANGER, T0) == "Adresse e-mail ou mot de passe incorrect."
    refused = _try(user.email, PASSWORD, STRANGER, T0)
    assert refused.startswith("Trop de tentatives de connexion échouées")
    assert "15 minutes" in refused
    assert _try(user.email, PASSWORD, HOME, T0) == "ok"
    # Refused attempts do not extend the refusal: the window runs from the checked failures.
    for second in range(1, 100):
        _try(user.email, PASSWORD, STRANGER, T0 + timedelta(seconds=second))
    assert "Trop de tentatives" in _try(user.email, PASSWORD, STRANGER, T0 + timedelta(minutes=14))
    assert _try(user.email, PASSWORD, STRANGER, T0 + timedelta(minutes=15, seconds=1)) == "ok"


def test_the_address_limit_refuses_one_address_trying_many_emails(app, user):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP"]
    for i in range(limit):
        _try(f"personne{i}@exemple.fr", WRONG, STRANGER, T0)
    assert "Trop de tentatives" in _try(user.email, PASSWORD, STRANGER, T0)
    assert _try(user.email, PASSWORD, HOME, T0) == "ok"


def test_the_address_limit_spares_an_email_that_logged_in_from_that_address(app, user):
    """One office behind one NAT address: a colleague (or an intruder on the same network)
    exhausting the address limit does not keep out the users who log in from there."""
    office = "192.0.2.200"
    assert _try(user.email, PASSWORD, office, T0 - timedelta(days=2)) == "ok"
    newcomer = make_user(email="nadia@exemple.fr")
    db.session.commit()
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_IP"]):
        _try(f"personne{i}@exemple.fr", WRONG, office, T0)
    assert _try(user.email, PASSWORD, office, T0) == "ok"  # known at this address
    # An e-mail never seen at this address is still refused, and the pair limit still holds.
    assert "Trop de tentatives" in _try(newcomer.email, PASSWORD, office, T0)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        _try(user.email, WRONG, office, T0)
    assert "Trop de tentatives" in _try(user.email, PASSWORD, office, T0)


def test_the_email_delay_grows_is_not_a_lock_and_skips_the_password(app, user):
    after = app.config["LOGIN_EMAIL_SLOWDOWN_AFTER"]
    step = app.config["LOGIN_EMAIL_DELAY"]
    addresses = _strangers(after // app.config["LOGIN_MAX_FAILURES_PER_PAIR"])
    last = _hammer(user.email, addresses=addresses, per_address=5, start=T0)
    # The user on the move: addresses they never logged in from (a success makes an address
    # known, hence the next one each time).
    new_address = "192.0.2.200"
    # At the threshold: wait one step after the last failure; the right password is not even
    # checked meanwhile, and attempts while waiting do not push the delay further.
    wait = int(step.total_seconds())
    assert _try(user.email, PASSWORD, new_address, last) == (
        f"Trop de tentatives, réessayez dans {wait} secondes."
    )
    assert _try(user.email, PASSWORD, new_address, last + step / 2) == (
        f"Trop de tentatives, réessayez dans {wait // 2} secondes."
    )
    refused = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.is_throttled.is_(True))
    )
    assert refused == 2
    assert _try(user.email, PASSWORD, new_address, last + step) == "ok"
    # Five more failures (however they got in): the delay is now six steps.
    last = _failures(user.email, 5, start=last + step)
    new_address = "192.0.2.201"
    assert _try(user.email, WRONG, new_address, last + 5 * step).endswith(
        f"réessayez dans {int(step.total_seconds())} secondes."
    )
    assert _try(user.email, PASSWORD, new_address, last + 6 * step) == "ok"
    # Capped: however many failures, the wait never exceeds LOGIN_EMAIL_DELAY_MAX.
    last = _failures(user.email, 200, start=last + 6 * step)
    new_address = "192.0.2.202"
    cap = int(app.config["LOGIN_EMAIL_DELAY_MAX"].total_seconds())
    assert _try(user.email, WRONG, new_address, last).endswith(f"dans {cap} secondes.")
    assert _try(user.email, PASSWORD, new_address, last + app.config["LOGIN_EMAIL_DELAY_MAX"]) == (
        "ok"
    )


def _failures(email: str, n: int, *, start: datetime) -> datetime:
    """``n`` checked failures of ``email`` from as many addresses, one second apart (as a
    botnet would make them, each address waiting its turn); returns the last one's time."""
    for i in range(n):
        db.session.add(
            LoginAttempt(
                at=start + timedelta(seconds=i), email=email, ip=f"10.0.{i // 250}.{i % 250}"
            )
        )
    db.session.flush()
    return start + timedelta(seconds=n - 1)


def _statements(action) -> tuple[str, int]:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        result = action()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return result, count


def test_an_unknown_email_gets_the_same_answers_after_the_same_work(app, user):
    """Same messages; the throttled answers run the same SQL statements (no account lookup
    before the throttling answers), so they take the same time. (A checked wrong password
    verifies a dummy hash for an unknown e-mail, which dominates that answer's time.)"""
    answers = {}
    for email in (user.email, "inconnu@exemple.fr"):
        seen = [_statements(lambda e=email: _try(e, WRONG, STRANGER, T0))]
        for _ in range(4):
            _try(email, WRONG, STRANGER, T0)
        seen.append(_statements(lambda e=email: _try(e, WRONG, STRANGER, T0)))
        last = _hammer(email, addresses=_strangers(3), per_address=5, start=T0)
        seen.append(_statements(lambda e=email, t=last: _try(e, WRONG, "192.0.2.7", t)))
        db.session.flush()
        answers[email] = seen
    known, unknown = answers[user.email], answers["inconnu@exemple.fr"]
    messages = [message for message, _ in known]
    assert messages == [message for message, _ in unknown]
    assert messages[0] == "Adresse e-mail ou mot de passe incorrect."
    assert messages[1].startswith("Trop de tentatives de connexion échouées")
    assert messages[2] == "Trop de tentatives, réessayez dans 10 secondes."
    assert [n for _, n in known[1:]] == [n for _, n in unknown[1:]]


def test_through_the_pages_the_owner_logs_in_while_a_stranger_hammers(make_client, user):
    stranger, owner = make_client(), make_client()
    stranger.environ_base["REMOTE_ADDR"] = STRANGER
    owner.environ_base["REMOTE_ADDR"] = HOME
    for _ in range(30):
        response = stranger.post("/connexion", data={"email": user.email, "password": WRONG})
        assert response.status_code == 401
    assert "Trop de tentatives" in page(
        stranger.post("/connexion", data={"email": user.email, "password": PASSWORD})
    )
    owner.login(user)
    assert owner.get("/accueil").status_code == 200
