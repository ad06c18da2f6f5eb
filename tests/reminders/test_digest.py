"""The daily digest: one delivery record per user and day, retries after a refusal, the
message's headers and parts, the command. Messages go to the in-process outbox
(tests/outbox.py), which refuses the way a server does when told to; one test goes through
a real SMTP server on loopback (aiosmtpd) to show that the wire gives the same outcomes."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.db import db
from app.permissions import Role
from app.reminders.models import DIGEST_MAX_ATTEMPTS, DigestDelivery, Reminder
from app.scheduler import job_by_id, run_job
from tests.factories import make_household, make_tenancy, make_user
from tests.reminders.conftest import at

TODAY = date(2026, 3, 10)
SENDER = "Ancrage <ne-pas-repondre@ancrage.test>"


class Inbox:
    """A real SMTP server's handler (aiosmtpd) that keeps what it accepts. ``refuse_data``
    holds the answers to give to the next DATA commands (e.g. "451 …"), ``refuse_rcpt``
    addresses to refuse for good; ``attempts`` counts every message offered, accepted or
    not."""

    def __init__(self):
        self.messages = []
        self.refuse_data: list[str] = []
        self.refuse_rcpt: set[str] = set()
        self.attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            self.attempts += 1
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse_data:
            return self.refuse_data.pop(0)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for recipients, message in self.messages if recipients == [address]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_config():
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_SENDER": SENDER,
        "PUBLIC_BASE_URL": "https://ancrage.test",
    }


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback, for the one test that goes over the wire, on a port
    the kernel said was free just before (aiosmtpd needs a number; another process — an xdist
    worker, CI's other suite — may take it in between: then another one); the app sends there."""
    inbox = Inbox()
    for attempt in range(5):
        controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    app.config["MAIL_PORT"] = controller.port
    yield inbox
    controller.stop()


def _remind(user, household, rule_code, due_on, title="Titre", **values):
    db.session.add(
        Reminder(
            rule_code=rule_code,
            subject_id=values.pop("subject_id", household.id),
            household_id=household.id,
            title=title,
            due_on=due_on,
            recipient_user_id=values.pop("recipient_user_id", user.id if user else None),
            **values,
        )
    )
    db.session.flush()


def _deliveries(**filters) -> list[DigestDelivery]:
    db.session.expire_all()
    query = select(DigestDelivery).order_by(DigestDelivery.user_id, DigestDelivery.day)
    for name, value in filters.items():
        query = query.where(getattr(DigestDelivery, name) == value)
    return list(db.session.scalars(query))


def _delivery(user) -> DigestDelivery:
    (delivery,) = _deliveries(user_id=user.id)
    return delivery


def _parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _send(now):
    from app.reminders.jobs import send_digests

    return send_digests(now)


# --- content and headers -------------------------------------------------------------------


def test_digest_arrives_once_with_references_and_links_only(app, team, outbox):
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
    assert run_job(job, at(TODAY, 7).replace(minute=30)) is True
    assert run_job(job, at(TODAY, 7).replace(minute=45)) is False  # same run slot
    assert run_job(job, at(TODAY, 8).replace(minute=30)) is True  # a later run: nothing owed
    assert len(outbox.messages) == 1
    recipients, message = outbox.messages[0]
    assert recipients == [team.worker.email]
    assert message["Subject"] == "Ancrage · 2 rappel(s) à traiter, dont 1 en retard"
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert "En retard (1) :\n- 08/03/2026 · Bilan de la mesure à faire · ménage M-2026-0042" in text
    assert "Aujourd'hui (1) :\n- 10/03/2026 · Rappel personnel · ménage M-2026-0042" in text
    assert f"https://ancrage.test/menages/{household.id}/rappels" in text
    assert "Tous vos rappels : https://ancrage.test/rappels/" in text
    assert f'href="https://ancrage.test/menages/{household.id}/rappels"' in html
    assert 'href="https://ancrage.test/rappels/"' in html
    assert "Rappel personnel" in html and "M-2026-0042" in html
    for part in (text, html):
        for secret in ("CMP", "addictologie", "Plus tard", household.head.last_name):
            assert secret not in part
    delivery = _delivery(team.worker)
    assert (delivery.user_id, delivery.day, delivery.state) == (team.worker.id, TODAY, "sent")
    assert (delivery.attempts, delivery.item_count, delivery.last_error) == (1, 2, None)


def test_headers_say_automatic_with_a_real_date_sender_and_message_id(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    before = datetime.now(UTC)
    assert _send(at(TODAY, 7))["sent"] == 1
    (message,) = [m for _, m in outbox.messages]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert parseaddr(message["From"]) == ("Ancrage", "ne-pas-repondre@ancrage.test")
    assert message["To"] == team.worker.email
    sent_at = parsedate_to_datetime(message["Date"])
    assert sent_at.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Paris, not -0000
    assert not message["Date"].endswith("-0000")
    assert before - timedelta(seconds=1) <= sent_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@ancrage.test>")


def test_the_html_part_escapes_what_it_shows(app, team, outbox):
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        organisation=team.association,
        projects=[team.project],
        full_name="Zoé <b>Martin</b>",
    )
    household = make_household(team.project, referent=worker)
    _remind(worker, household, "bilan_trimestriel", TODAY)
    assert _send(at(TODAY, 7))["sent"] == 1
    text, html = _parts(outbox.to(worker.email)[0])
    assert "Bonjour Zoé &lt;b&gt;Martin&lt;/b&gt;," in html
    assert "<b>Martin" not in html
    assert "Bonjour Zoé <b>Martin</b>," in text  # plain text is not HTML


def test_landlord_staff_get_only_the_reminders_addressed_to_their_landlord(app, team, outbox):
    household = make_household(team.project, referent=team.worker, reference="M-2026-0077")
    make_tenancy(household, team.landlord)
    _remind(
        None,
        household,
        "attestation_assurance",
        TODAY,
        recipient_role=Role.PERSONNEL_BAILLEUR.value,
        recipient_organisation_id=team.landlord.id,
    )
    _remind(team.worker, household, "bilan_trimestriel", TODAY - timedelta(days=1))
    assert _send(at(TODAY, 7))["sent"] == 2
    (message,) = outbox.to(team.landlord_staff.email)
    text, html = _parts(message)
    assert message["Subject"] == "Ancrage · 1 rappel(s) à traiter"
    assert "10/03/2026 · Attestation d'assurance annuelle · ménage M-2026-0077" in text
    assert "ménage M-2026-0077" in text
    assert "Bilan" not in text and "Bilan" not in html
    assert "En retard" not in text


def test_over_a_real_smtp_server_refusals_are_recorded_and_the_message_arrives_whole(
    app, team, smtp
):
    """The one test through a real SMTP server: what the outbox simulates (refusals, the
    message as received) is what the wire gives."""
    household = make_household(team.project, referent=team.worker, reference="M-2026-0042")
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    theirs = make_household(team.project, referent=team.colleague)
    _remind(team.colleague, theirs, "contact_retard", TODAY)
    smtp.refuse_data = ["451 4.3.0 Try again later"]
    smtp.refuse_rcpt = {team.colleague.email}
    job = job_by_id("reminders.digest")
    assert run_job(job, at(TODAY, 7).replace(minute=30)) is True
    assert smtp.messages == []
    assert _delivery(team.worker).last_error == "SMTPDataError 451"  # no address, no text
    refused = _delivery(team.colleague)
    assert (refused.state, refused.last_error) == ("failed", "SMTPRecipientsRefused 550")
    assert run_job(job, at(TODAY, 8).replace(minute=30)) is True
    (message,) = smtp.to(team.worker.email)
    assert message["Subject"] == "Ancrage · 1 rappel(s) à traiter"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@ancrage.test>")
    text, html = _parts(message)
    assert "ménage M-2026-0042" in text and "M-2026-0042" in html
    delivery = _delivery(team.worker)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 2, None)


# --- one record per user and day, retries ----------------------------------------------------


def test_a_refused_message_is_retried_by_a_later_run_the_same_day(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    outbox.refuse_data = ["451 4.3.0 Try again later"]
    job = job_by_id("reminders.digest")
    assert run_job(job, at(TODAY, 7).replace(minute=30)) is True
    assert outbox.messages == []
    delivery = _delivery(team.worker)
    assert (delivery.state, delivery.attempts, delivery.sent_at) == ("failed", 1, None)
    assert delivery.last_error == "SMTPDataError 451"  # no address, no server text
    assert run_job(job, at(TODAY, 8).replace(minute=30)) is True
    assert [recipients for recipients, _ in outbox.messages] == [[team.worker.email]]
    delivery = _delivery(team.worker)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 2, None)
    assert delivery.sent_at == at(TODAY, 8).replace(minute=30)
    assert run_job(job, at(TODAY, 9).replace(minute=30)) is True
    assert len(outbox.messages) == 1  # sent means done for the day


def test_one_refused_recipient_does_not_stop_the_others(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    theirs = make_household(team.project, referent=team.colleague)
    _remind(team.colleague, theirs, "contact_retard", TODAY)
    _remind(team.coordinator, household, "sans_contact", TODAY)
    outbox.refuse_rcpt = {team.colleague.email}
    summary = _send(at(TODAY, 7))
    assert (summary["sent"], summary["failed"]) == (2, 1)
    assert {tuple(r) for r, _ in outbox.messages} == {
        (team.worker.email,),
        (team.coordinator.email,),
    }
    refused = _delivery(team.colleague)
    assert (refused.state, refused.last_error) == ("failed", "SMTPRecipientsRefused 550")
    assert team.colleague.email not in refused.last_error


def test_a_failing_digest_is_given_up_after_the_maximum_attempts(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    outbox.refuse_rcpt = {team.worker.email}
    for hour in range(7, 7 + DIGEST_MAX_ATTEMPTS + 2):
        _send(at(TODAY, hour))
    assert outbox.attempts == DIGEST_MAX_ATTEMPTS
    delivery = _delivery(team.worker)
    assert (delivery.state, delivery.attempts) == ("failed", DIGEST_MAX_ATTEMPTS)
    outbox.refuse_rcpt = set()
    assert _send(at(TODAY + timedelta(days=1), 7))["sent"] == 1  # a new day starts afresh


@pytest.fixture
def nobody_listening(app):
    """The app sends to a loopback port that refuses connections: bound by this socket, which
    never listens, so no other process (an xdist worker's live server…) can take it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        app.config["MAIL_PORT"] = held.getsockname()[1]
        yield


def test_an_unreachable_server_is_recorded_and_retried(app, team, nobody_listening):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    # No SMTP server listens on MAIL_PORT: the connection is refused.
    summary = _send(at(TODAY, 7))
    assert (summary["sent"], summary["failed"]) == (0, 1)
    delivery = _delivery(team.worker)
    assert (delivery.state, delivery.last_error) == ("failed", "ConnectionRefusedError")
    assert _send(at(TODAY, 8))["failed"] == 1
    assert _delivery(team.worker).attempts == 2


def test_one_record_per_user_and_day_whatever_the_number_of_runs(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    first = _send(at(TODAY, 7))
    assert (first["sent"], first["failed"], first["skipped"], first["earlier"]) == (1, 0, 3, 0)
    again = _send(at(TODAY, 9))
    assert (again["sent"], again["failed"], again["skipped"], again["earlier"]) == (0, 0, 0, 4)
    assert len(outbox.messages) == 1
    rows = _deliveries()
    assert len(rows) == 4 == len({(r.user_id, r.day) for r in rows})
    assert {r.user_id: r.state for r in rows} == {
        team.worker.id: "sent",
        team.colleague.id: "skipped",
        team.coordinator.id: "skipped",
        team.landlord_staff.id: "skipped",
    }
    assert _send(at(TODAY + timedelta(days=1), 7))["sent"] == 1  # a new day, a new record
    assert len(_deliveries(user_id=team.worker.id)) == 2


def test_two_runs_at_the_same_moment_send_each_digest_once(app, team, outbox):
    """The scheduler and the command started together: the claim (unique record, or a
    conditional update of a failed one) lets only one of them send each message."""
    from app.reminders.jobs import send_digests

    for user in (team.worker, team.colleague, team.coordinator):
        _remind(user, make_household(team.project, referent=user), "bilan_trimestriel", TODAY)
    db.session.commit()
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait(timeout=10)
                results.append(send_digests(at(TODAY, 7)))
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r["sent"] for r in results) == 3
    assert sum(r["skipped"] for r in results) == 1  # counted by the run that recorded it
    assert sorted(r[0] for r, _ in outbox.messages) == sorted(
        u.email for u in (team.worker, team.colleague, team.coordinator)
    )
    assert len(_deliveries()) == 4


def test_a_digest_claimed_by_a_run_that_died_is_not_sent_again(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    db.session.add(
        DigestDelivery(
            user_id=team.worker.id, day=TODAY, state="pending", attempts=1, updated_at=at(TODAY, 7)
        )
    )
    db.session.flush()
    assert _send(at(TODAY, 9))["sent"] == 0
    assert outbox.messages == []  # at most once: the first run may have sent it


def test_old_delivery_records_are_pruned(app, team, outbox):
    old = TODAY - timedelta(days=91)
    db.session.add(
        DigestDelivery(
            user_id=team.worker.id, day=old, state="sent", attempts=1, updated_at=at(old)
        )
    )
    db.session.flush()
    _send(at(TODAY, 7))
    assert _deliveries(day=old) == []


def test_inactive_users_get_no_digest_and_no_record(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    team.worker.is_active = False
    db.session.flush()
    summary = _send(at(TODAY, 7))
    assert (summary["sent"], summary["skipped"]) == (0, 3)
    assert outbox.messages == []
    assert _deliveries(user_id=team.worker.id) == []
    assert db.session.scalar(select(func.count()).select_from(DigestDelivery)) == 3


# --- the command -----------------------------------------------------------------------------


def test_the_command_sends_the_day_by_hand_and_is_safe_to_run_again(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "digest", "--date", "2026-03-10"])
    assert result.exit_code == 0, result.output
    assert result.output == "Résumé du 10 mars 2026 : 1 envoyé, 0 en échec, 3 sans rappel\n"
    again = runner.invoke(args=["reminders", "digest", "--date", "2026-03-10"])
    assert again.exit_code == 0, again.output
    assert again.output == (
        "Résumé du 10 mars 2026 : 0 envoyé, 0 en échec, 0 sans rappel\n"
        "Déjà traités plus tôt ce jour-là (non renvoyés) : 4\n"
    )
    assert len(outbox.messages) == 1


def test_the_command_reports_failures_with_a_non_zero_status(app, team, outbox):
    household = make_household(team.project, referent=team.worker)
    _remind(team.worker, household, "bilan_trimestriel", TODAY)
    theirs = make_household(team.project, referent=team.colleague)
    _remind(team.colleague, theirs, "contact_retard", TODAY)
    db.session.commit()
    outbox.refuse_data = ["550 5.7.1 Refused"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "digest", "--date", "2026-03-10"])
    assert result.exit_code == 1
    assert "Résumé du 10 mars 2026 : 1 envoyé, 1 en échec, 2 sans rappel" in result.output
    retry = runner.invoke(args=["reminders", "digest", "--date", "2026-03-10"])
    assert retry.exit_code == 0, retry.output
    assert retry.output.startswith("Résumé du 10 mars 2026 : 1 envoyé, 0 en échec, 0 sans rappel")
    assert len(outbox.messages) == 2


def test_the_command_help_is_in_french(app):
    result = app.test_cli_runner().invoke(args=["reminders", "digest", "--help"])
    assert result.exit_code == 0
    assert "Envoyer à la main le résumé quotidien des rappels" in result.output
    assert "Jour du résumé (AAAA-MM-JJ)" in result.output
