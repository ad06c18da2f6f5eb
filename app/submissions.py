"""One-time submission keys: a create form posted twice creates once.

Every create form (``app.forms.OnceForm``) carries a random key drawn when it is rendered.
When a request that validated such a form commits a creation, the key is recorded for its
user in the same transaction (``form_submission``, unique per user and key); the page the
request then redirects to is added to the row. A later POST with the same key is answered
with that page and "Cette saisie a déjà été enregistrée." before its view runs. Two POSTs
racing (a double tap over a slow network) both run their view, but the second one's commit
fails on the unique key and is rolled back: it creates nothing either.

A POST without a key (a page rendered before this existed) is accepted as before. Keys are
kept ``KEY_MAX_AGE``, far longer than a form's CSRF token lives; a user's older keys are
deleted when they record a new one.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import flash, g, has_request_context, redirect, request, url_for
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import UtcDateTime, db, utcnow

SUBMISSION_KEY_FIELD = "submission_key"
KEY_MAX_AGE = timedelta(days=2)
ALREADY_SAVED = "Cette saisie a déjà été enregistrée."
_KEY = re.compile(r"[0-9a-f]{32}")


class FormSubmission(db.Model):
    """A create form's key, once its creation committed, and the page it led to."""

    __tablename__ = "form_submission"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(32), nullable=False)
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=utcnow, index=True
    )


class DuplicateSubmission(Exception):
    """The same form's creation was committed by another request a moment ago."""


def new_submission_key() -> str:
    return secrets.token_hex(16)


def _user_id() -> int | None:
    """The logged-in user's id during a request (set by ``app.http``), else None."""
    return g.get("user_id") if has_request_context() else None


def _valid(key) -> str | None:
    return key if isinstance(key, str) and _KEY.fullmatch(key) else None


def remember_submission_key(key) -> None:
    """Called when a create form validates: this request's creation will record ``key``."""
    if has_request_context():
        g.submission_key = _valid(key)


def _first_result(user_id: int, key: str) -> FormSubmission | None:
    return db.session.scalar(
        select(FormSubmission).where(FormSubmission.user_id == user_id, FormSubmission.key == key)
    )


def _show_first_result(submission: FormSubmission | None):
    flash(ALREADY_SAVED, "info")
    if submission is not None and submission.result_url:
        return redirect(submission.result_url)
    household_id = (request.view_args or {}).get("household_id")
    if isinstance(household_id, int):
        return redirect(url_for("households.show", household_id=household_id))
    return redirect(url_for("home.index"))


def register_submission_hooks(app) -> None:
    @app.before_request
    def _refuse_a_second_submission():
        if request.method != "POST":
            return None
        key = _valid(request.form.get(SUBMISSION_KEY_FIELD))
        user_id = _user_id()
        if key is None or user_id is None:
            return None
        submission = _first_result(user_id, key)
        return None if submission is None else _show_first_result(submission)

    @app.after_request
    def _keep_the_result_page(response):
        recorded = g.pop("submission_recorded", None)
        location = response.headers.get("Location", "")
        # 201: an upload sent by a script, told where to go (app/documents/views.py).
        if recorded and response.status_code in (201, 302, 303) and _is_local(location):
            try:
                db.session.execute(
                    update(FormSubmission)
                    .where(FormSubmission.user_id == recorded[0], FormSubmission.key == recorded[1])
                    .values(result_url=location)
                )
                db.session.commit()
            except Exception:  # the creation stands; a replay then lands on the fallback page
                app.logger.exception("Could not keep the page of a submission")
                db.session.rollback()
        return response

    @app.errorhandler(DuplicateSubmission)
    def _duplicate(_error):
        db.session.rollback()
        key = _valid(request.form.get(SUBMISSION_KEY_FIELD))
        user_id = _user_id()
        return _show_first_result(_first_result(user_id, key) if key and user_id else None)


def _is_local(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and len(location) <= 500


# --- recording the key in the creation's transaction ----------------------------------------


@event.listens_for(Session, "after_flush")
def _note_creation(session, _flush_context) -> None:
    from app.audit.models import AuditEntry

    if any(not isinstance(record, AuditEntry | FormSubmission) for record in session.new):
        session.info["created"] = True


@event.listens_for(Session, "before_commit")
def _record_submission(session) -> None:
    if not has_request_context() or not g.get("submission_key"):
        return
    user_id = _user_id()
    if user_id is None:
        return
    session.flush()  # the creation's own rows first, so that only the key can fail below
    if not session.info.get("created"):
        return
    key = g.pop("submission_key")
    session.execute(
        delete(FormSubmission).where(
            FormSubmission.user_id == user_id, FormSubmission.created_at < utcnow() - KEY_MAX_AGE
        )
    )
    session.add(FormSubmission(user_id=user_id, key=key))
    try:
        session.flush()
    except IntegrityError as error:
        raise DuplicateSubmission from error
    g.submission_recorded = (user_id, key)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_creation(session) -> None:
    session.info.pop("created", None)
