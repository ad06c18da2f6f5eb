"""Sending e-mail over SMTP with the ``MAIL_*`` settings.

Every message the application sends is automatic: it carries ``Auto-Submitted:
auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress: All`` so that out-of-office
replies do not come back, a ``Date`` in Europe/Paris time with its offset, and a
``Message-ID`` on the domain of ``PUBLIC_BASE_URL``. ``MAIL_SENDER`` is required in
production (``app.config.check_config``).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app

PARIS = ZoneInfo("Europe/Paris")


def build_message(to: str, subject: str, text: str, *, html: str | None = None) -> EmailMessage:
    """A message with a text part, and an HTML alternative when ``html`` is given."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(PARIS))
    message["Message-ID"] = make_msgid(domain=message_id_domain(config["PUBLIC_BASE_URL"]))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def message_id_domain(public_base_url: str) -> str:
    return urlsplit(public_base_url).hostname or "localhost"


def send_message(message: EmailMessage) -> None:
    """Hand one message to the SMTP server; raises ``smtplib.SMTPException`` or ``OSError``
    on failure (the caller decides whether to retry).

    With ``MAIL_OUTBOX`` set (tests only: ``tests/outbox.py``), the message goes to that
    object's ``send(message)`` instead, in the same thread, and no connection is made."""
    config = current_app.config
    outbox = config.get("MAIL_OUTBOX")
    if outbox is not None:
        outbox.send(message)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def send_mail(to: str, subject: str, body: str, *, html: str | None = None) -> None:
    send_message(build_message(to, subject, body, html=html))


def error_label(error: BaseException) -> str:
    """A short, storable description of a send failure: the exception class and the SMTP
    code. Never the server's text, which may quote the recipient's address."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in error.recipients.values()})
        return f"{name} {','.join(codes)}"[:120]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name} {error.smtp_code}"
    return name[:120]
