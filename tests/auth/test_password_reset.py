"""Password reset by e-mail. The message is sent from a background thread (the answer takes
the same time whether an account exists or not); the outbox (tests/outbox.py) waits for that
thread, so what it holds afterwards is all that was sent."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import PasswordResetToken
from app.db import db
from app.permissions import Role
from tests.conftest import page
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "une phrase assez longue et rare"
SAME_ANSWER = "Si un compte actif correspond à cette adresse"


@pytest.fixture(autouse=True)
def _links_on_the_public_address(app):
    app.config.update(PUBLIC_BASE_URL="https://ancrage.test")


def _ask(client, email: str):
    return client.post("/mot-de-passe-oublie", data={"email": email}, follow_redirects=True)


def _link(message) -> str:
    body = message.get_content()
    return re.search(r"https://ancrage\.test(/mot-de-passe-oublie/[\w-]+)", body).group(1)


def test_same_answer_for_known_and_unknown_addresses(client, outbox):
    user = make_user(email="connue@exemple.fr")
    known = _ask(client, user.email)
    unknown = _ask(client, "inconnue@exemple.fr")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in page(known) and SAME_ANSWER in page(unknown)
    messages = outbox.settle()
    assert [to for to, _ in messages] == [["connue@exemple.fr"]]  # nothing for the unknown one
    mail = messages[0][1]
    assert mail["Subject"] == "Ancrage : réinitialisation de votre mot de passe"
    assert "ne fonctionne qu'une fois" in mail.get_content()


def test_link_resets_once_ends_sessions_and_keeps_the_second_factor(client, make_client, outbox):
    user = make_user(Role.COORDINATEUR)
    other_device = make_client()
    other_device.login(user)  # enrols TOTP
    _ask(client, user.email)
    link = _link(outbox.settle()[0][1])
    assert client.get(link).status_code == 200
    done = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/connexion")
    assert other_device.get("/accueil").status_code == 302  # every session ended
    assert client.get("/accueil").status_code == 302  # the reset does not log in
    # Used once: the link is dead.
    again = client.post(
        link, data={"new_password": NEW_PASSWORD + "!", "confirm": NEW_PASSWORD + "!"}
    )
    assert again.status_code == 400
    assert "plus valide" in page(again)
    # The new password leads to the second factor, not straight in.
    step = client.post("/connexion", data={"email": user.email, "password": NEW_PASSWORD})
    assert step.headers["Location"].endswith("/connexion/code")
    assert (
        client.post("/connexion", data={"email": user.email, "password": PASSWORD}).status_code
        == 401
    )
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"auth.password_reset_requested", "auth.password_reset"} <= actions


def test_only_the_hash_of_the_token_is_stored(client, outbox):
    user = make_user()
    _ask(client, user.email)
    token = _link(outbox.settle()[0][1]).rsplit("/", 1)[1]
    [row] = db.session.scalars(select(PasswordResetToken))
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_link_expires(client, outbox):
    user = make_user()
    _ask(client, user.email)
    link = _link(outbox.settle()[0][1])
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        expired = client.get(link)
    assert expired.status_code == 400
    assert "plus valide" in page(expired)


def test_weak_new_password_is_refused_and_link_stays_usable(client, outbox):
    user = make_user()
    _ask(client, user.email)
    link = _link(outbox.settle()[0][1])
    weak = client.post(link, data={"new_password": "azertyuiop123", "confirm": "azertyuiop123"})
    assert weak.status_code == 400
    assert "trop courant" in page(weak)
    ok = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert ok.status_code == 302


def test_requests_are_throttled_silently(client, outbox, app):
    user = make_user()
    for _ in range(app.config["PASSWORD_RESET_MAX_PER_EMAIL"] + 2):
        assert SAME_ANSWER in page(_ask(client, user.email))
    assert len(outbox.settle()) == app.config["PASSWORD_RESET_MAX_PER_EMAIL"]


def test_inactive_accounts_get_no_link(client, outbox):
    user = make_user(is_active=False)
    assert SAME_ANSWER in page(_ask(client, user.email))
    assert outbox.settle() == []
