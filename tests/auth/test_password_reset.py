"""Password reset by e-mail, through a real SMTP server on loopback."""

import email
import email.policy
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import PasswordResetToken
from app.db import db
from app.permissions import Role
from tests.conftest import page
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "une phrase assez longue et rare"
SAME_ANSWER = "Si un compte actif correspond à cette adresse"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(app):
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_BASE_URL="https://ancrage.test"
    )
    yield handler
    controller.stop()


def _ask(client, email: str):
    return client.post("/mot-de-passe-oublie", data={"email": email}, follow_redirects=True)


def _parse(message: str):
    return email.message_from_string(message, policy=email.policy.default)


def _link(message: str) -> str:
    body = _parse(message).get_content()
    return re.search(r"https://ancrage\.test(/mot-de-passe-oublie/[\w-]+)", body).group(1)


def test_same_answer_for_known_and_unknown_addresses(client, inbox):
    user = make_user(email="connue@exemple.fr")
    known = _ask(client, user.email)
    unknown = _ask(client, "inconnue@exemple.fr")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in page(known) and SAME_ANSWER in page(unknown)
    messages = inbox.wait(1)
    time.sleep(0.3)  # nothing else arrives
    assert [to for to, _ in inbox.messages] == [["connue@exemple.fr"]]
    mail = _parse(messages[0][1])
    assert mail["Subject"] == "Ancrage : réinitialisation de votre mot de passe"
    assert "ne fonctionne qu'une fois" in mail.get_content()


def test_link_resets_once_ends_sessions_and_keeps_the_second_factor(client, make_client, inbox):
    user = make_user(Role.COORDINATEUR)
    other_device = make_client()
    other_device.login(user)  # enrols TOTP
    _ask(client, user.email)
    link = _link(inbox.wait(1)[0][1])
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


def test_only_the_hash_of_the_token_is_stored(client, inbox):
    user = make_user()
    _ask(client, user.email)
    token = _link(inbox.wait(1)[0][1]).rsplit("/", 1)[1]
    [row] = db.session.scalars(select(PasswordResetToken))
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_link_expires(client, inbox):
    user = make_user()
    _ask(client, user.email)
    link = _link(inbox.wait(1)[0][1])
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        expired = client.get(link)
    assert expired.status_code == 400
    assert "plus valide" in page(expired)


def test_weak_new_password_is_refused_and_link_stays_usable(client, inbox):
    user = make_user()
    _ask(client, user.email)
    link = _link(inbox.wait(1)[0][1])
    weak = client.post(link, data={"new_password": "azertyuiop123", "confirm": "azertyuiop123"})
    assert weak.status_code == 400
    assert "trop courant" in page(weak)
    ok = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert ok.status_code == 302


def test_requests_are_throttled_silently(client, inbox, app):
    user = make_user()
    for _ in range(app.config["PASSWORD_RESET_MAX_PER_EMAIL"] + 2):
        assert SAME_ANSWER in page(_ask(client, user.email))
    inbox.wait(app.config["PASSWORD_RESET_MAX_PER_EMAIL"])
    time.sleep(0.3)
    assert len(inbox.messages) == app.config["PASSWORD_RESET_MAX_PER_EMAIL"]


def test_inactive_accounts_get_no_link(client, inbox):
    user = make_user(is_active=False)
    assert SAME_ANSWER in page(_ask(client, user.email))
    time.sleep(0.3)
    assert inbox.messages == []
