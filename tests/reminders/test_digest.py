"""The daily digest over a real SMTP server on loopback (aiosmtpd): once per user and day."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.db import db
from app.reminders.models import DigestSent, Reminder
from app.scheduler import job_by_id, run_job
from tests.factories import make_household
from tests.reminders.conftest import at

TODAY = date(2026, 3, 10)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()


@pytest.fixture
def app_config():
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": PORT,
        "PUBLIC_BASE_URL": "https://ancrage.test",
    }


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=PORT)
    controller.start()
    yield inbox
    controller.stop()


def _remind(user, household, rule_code, due_on, title, **values):
    db.session.add(
        Reminder(
            rule_code=rule_code,
            subject_id=values.pop("subject_id", household.id),
            household_id=household.id,
            title=title,
            due_on=due_on,
            recipient_user_id=user.id,
            **values,
        )
    )
    db.session.flush()


def test_digest_arrives_once_with_references_and_links_only(app, team, smtp):
    household = make_household(team.project, referent=team.worker, reference="M-2026-0042")
    _remind(team.worker, household, "bilan_trimestriel", TODAY - timedelta(days=2), "Bilan")
    _remind(
        team.worker,
        household,
        "manuel",
        TODAY,
        "Accompagner au CMP (addictologie)",
        subject_id=None,
    )
    _remind(team.worker, household, "fin_de_mesure", TODAY + timedelta(days=5), "Plus tard")
    _remind(team.colleague, household, "contact_retard", TODAY, "Pas la colleague", status="fait")
    job = job_by_id("reminders.digest")
    assert run_job(job, at(TODAY, 7)) is True
    assert run_job(job, at(TODAY, 8)) is False  # the job ran twice: same day, same slot
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == [team.worker.email]
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "Ancrage · 2 rappel(s) à traiter, dont 1 en retard"
    body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "En retard (1) :\n- 08/03/2026 · Bilan de la mesure à faire · ménage M-2026-0042" in body
    assert "Aujourd'hui (1) :\n- 10/03/2026 · Rappel personnel · ménage M-2026-0042" in body
    assert f"https://ancrage.test/menages/{household.id}/rappels" in body
    for secret in ("CMP", "addictologie", "Plus tard", household.head.last_name):
        assert secret not in body
    assert db.session.scalar(select(func.count()).select_from(DigestSent)) == 1


def test_a_second_run_the_same_day_sends_nothing_even_outside_the_job_ledger(app, team, smtp):
    from app.reminders.jobs import send_digests

    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY, "Bilan")
    assert send_digests(at(TODAY, 7))["sent"] == 1
    assert send_digests(at(TODAY, 9))["sent"] == 0  # the per-user marker
    assert len(smtp.messages) == 1
    assert send_digests(at(TODAY + timedelta(days=1), 7))["sent"] == 1  # a new day


def test_a_refused_message_can_be_sent_by_a_later_run(app, team):
    from app.reminders.jobs import send_digests

    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY, "Bilan")
    # No SMTP server listens on PORT: the send fails and the marker goes away.
    assert send_digests(at(TODAY, 7)) == {"sent": 0, "failed": 1, "today": "2026-03-10"}
    assert db.session.scalar(select(func.count()).select_from(DigestSent)) == 0
