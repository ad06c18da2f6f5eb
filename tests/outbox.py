"""An in-process mail outbox: what the application sent, without an SMTP server.

Set as ``MAIL_OUTBOX`` (the ``outbox`` fixture in ``tests/conftest.py``), it receives every
message ``app.mail.send_message`` would have handed to the server, in the sending thread:
once the code under test has returned, the outbox holds everything it sent, so a test proves
that nothing more arrived by looking, not by waiting. Messages are kept as the server would
receive them (serialised to bytes, then parsed).

It can refuse like a server, raising what ``smtplib`` raises for those answers:
``refuse_data`` holds the answers to give to the next messages (e.g. "451 4.3.0 Try again
later": ``SMTPDataError``), ``refuse_rcpt`` addresses refused for good
(``SMTPRecipientsRefused``). The one real-SMTP test (``tests/reminders/test_digest.py``)
shows that a real server's answers give the same exceptions.
"""

from __future__ import annotations

import smtplib
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

# Threads the application sends from outside the request (app/auth/views.py).
BACKGROUND_SENDERS = ("reset-mail",)


class Outbox:
    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse_data: list[str] = []
        self.refuse_rcpt: set[str] = set()
        # Every message offered, accepted or refused.
        self.attempts = 0
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        recipients = [
            address
            for _, address in getaddresses(
                message.get_all("To", []) + message.get_all("Cc", []) + message.get_all("Bcc", [])
            )
        ]
        with self._lock:
            self.attempts += 1
            refused = {
                a: (550, b"5.1.1 Mailbox unavailable") for a in recipients if a in self.refuse_rcpt
            }
            if refused and len(refused) == len(recipients):
                raise smtplib.SMTPRecipientsRefused(refused)
            if self.refuse_data:
                code, _, text = self.refuse_data.pop(0).partition(" ")
                raise smtplib.SMTPDataError(int(code), text)
            received = message_from_bytes(message.as_bytes(), policy=policy.default)
            self.messages.append(([a for a in recipients if a not in refused], received))

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if recipients == [address]]

    def settle(self, timeout: float = 10) -> list[tuple[list[str], EmailMessage]]:
        """Wait for the application's background senders to finish (they run for an instant:
        a message goes to the outbox, not over the network); then nothing more can arrive."""
        for thread in threading.enumerate():
            if thread.name in BACKGROUND_SENDERS:
                thread.join(timeout)
                assert not thread.is_alive(), f"{thread.name} still sending after {timeout} s"
        return self.messages
