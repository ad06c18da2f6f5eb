"""Request-level hooks: request id, forced password change, security headers, template
globals."""

from __future__ import annotations

import logging
import mimetypes
import time
import uuid

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app import bounds
from app.audience import Audience, can_read, can_read_on_row, project
from app.navigation import navigation_for_current_user
from app.permissions import Permission, has_permission

# The web app manifest (static/manifest.webmanifest) is served with its registered type,
# whatever the host's mime.types says.
mimetypes.add_type("application/manifest+json", ".webmanifest")


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: only numbers that can be a record id (1 to 2^31 − 1, our
    INTEGER columns) match; a 24-digit or zero id is a 404 without touching the database
    (PostgreSQL would otherwise fail the query with a 500)."""

    def __init__(
        self, url_map, fixed_digits=0, min=bounds.ID.low, max=bounds.ID.high, signed=False
    ):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def int_arg(name: str, source=None) -> int | None:
    """An id or page number from the query string (or ``source``, e.g. ``request.values``):
    None when absent, unreadable or beyond any possible id (a 24-digit ``page`` or
    ``projet`` is an ignored filter, never a database error)."""
    raw = (request.args if source is None else source).get(name)
    return None if raw is None else bounds.id_or_none(raw)


def id_list(name: str) -> list[int]:
    """Ids posted under ``name`` (checkboxes); one that cannot exist becomes 0, which no
    record has, so the caller's "not in your scope" refusal applies."""
    return [bounds.id_or_none(v) or 0 for v in request.form.getlist(name)]


# A user with a temporary password may only reach these endpoints until they choose one.
_TEMPORARY_PASSWORD_ALLOWED = {"auth.change_password", "auth.logout", "static"}

request_log = logging.getLogger("ancrage.request")


def register_request_hooks(app) -> None:
    from app.uploads import register_upload_limits

    register_upload_limits(app)

    @app.before_request
    def _assign_request_id():
        g.request_id = str(uuid.uuid4())
        g.request_started = time.perf_counter()

    @app.before_request
    def _remember_user():
        # The logged-in user, for the request log and the submission keys (app.submissions).
        # Who edits a record is not read from here: services stamp it (app.db.act_as).
        g.user_id = current_user.id if current_user.is_authenticated else None

    @app.before_request
    def _refuse_nul_bytes():
        # Nobody types a NUL byte, and PostgreSQL text columns cannot store one (the write
        # would fail with a 500): a request carrying one is malformed.
        values = [*request.args.listvalues(), *request.form.listvalues()]
        if any("\x00" in value for listed in values for value in listed):
            abort(400)

    @app.before_request
    def _force_password_change():
        if (
            current_user.is_authenticated
            and current_user.is_password_temporary
            and request.endpoint not in _TEMPORARY_PASSWORD_ALLOWED
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        if app.config.get("SESSION_COOKIE_SECURE") and not (app.debug or app.testing):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.after_request
    def _log_request(response):
        # Identifiers only: never the path or query string (search terms, names), never the
        # user's name (app/logs.py).
        request_id = g.get("request_id")
        if request_id is None:  # a response made before the first hook ran
            return response
        response.headers["X-Request-Id"] = request_id
        duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        request_log.info(
            "%s %s %s",
            request.method,
            request.endpoint,
            response.status_code,
            extra={
                "fields": {
                    "request_id": request_id,
                    "user_id": g.get("user_id"),
                    "method": request.method,
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                }
            },
        )
        return response

    @app.context_processor
    def _template_globals():
        return {
            "Permission": Permission,
            "has_permission": lambda p: has_permission(current_user, p),
            "can_read_social_content": lambda: can_read(current_user, Audience.SOCIAL),
            # The audience declaration (app.audience): may the viewer read this column of
            # this record; the record as the viewer may read it (refuses anything else).
            "may_read": lambda record, key: can_read_on_row(current_user, record, key),
            "project": lambda record: project(current_user, record),
            "navigation": navigation_for_current_user,
            "has_endpoint": lambda name: name in app.view_functions,
        }
