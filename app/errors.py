"""Domain errors raised by services, a command's failure, and the French error pages."""

from __future__ import annotations

import click
from flask import render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


class CommandError(click.ClickException):
    """A command's failure: "Erreur : …" on stderr (click says "Error:"), status 1."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


class DomainError(Exception):
    """A business rule refused the action; ``message`` is shown to the user as is (French)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    pass


class StaleEditError(DomainError):
    """The form was opened on an older version of the record."""


def check_version(record, submitted_version, *, who: str | None = None) -> None:
    """Refuse an edit prepared on an older version of ``record``.

    Never assign the submitted version to the record: SQLAlchemy would then write it and
    move the version backwards. ``version_id_col`` still catches the short race between this
    check and the flush; ``app.db.GuardedSession`` turns that into the same refusal.
    """
    try:
        submitted = int(submitted_version)
    except (TypeError, ValueError):
        submitted = -1
    if submitted != record.version:
        raise StaleEditError(
            stale_edit_message(
                who or _editor_name(getattr(record, "updated_by_id", None)),
                getattr(record, "updated_at", None),
            )
        )


def stale_edit_message(author: str | None, updated_at) -> str:
    from app.formatting import format_time

    by = f" par {author}" if author else ""
    at = f" à {format_time(updated_at)}" if updated_at else ""
    return (
        f"Cette fiche a été modifiée{by}{at} depuis que vous l'avez ouverte. "
        "Vos modifications n'ont pas été enregistrées : rechargez la page pour voir la "
        "version actuelle, puis refaites votre saisie."
    )


def stale_edit_after_race(watched) -> StaleEditError:
    """The refusal for a flush that lost a race: ``watched`` lists the versioned records it
    was writing as ``(class, identity, version)``. The session's transaction is already
    rolled back, so the winner's name and time are read on a connection of their own."""
    from sqlalchemy import inspect, select

    from app.db import db

    with db.engine.connect() as connection:
        for model, identity, version in watched:
            table = model.__table__
            keys = inspect(model).primary_key
            current = connection.execute(
                select(table.c.version, table.c.updated_by_id, table.c.updated_at).where(
                    *(key == value for key, value in zip(keys, identity, strict=True))
                )
            ).first()
            if current is None:
                return StaleEditError(stale_edit_message(None, None))
            if current.version != version:
                author = _editor_name(current.updated_by_id, connection)
                return StaleEditError(stale_edit_message(author, current.updated_at))
    return StaleEditError(stale_edit_message(None, None))


def _editor_name(editor_id: int | None, connection=None) -> str | None:
    from sqlalchemy import select

    from app.db import db
    from app.users.models import User

    if not editor_id:
        return None
    if connection is not None:
        return connection.scalar(select(User.full_name).where(User.id == editor_id))
    editor = db.session.get(User, editor_id)
    return editor.full_name if editor else None


ERROR_TITLES = {
    400: (
        _l("Requête invalide"),
        _l("La demande n'a pas pu être traitée. Revenez en arrière et réessayez."),
    ),
    403: (_l("Accès refusé"), _l("Vous n'avez pas les droits nécessaires pour cette action.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou vous n'y avez pas accès.")),
    405: (_l("Action non permise"), _l("Cette action n'est pas possible sur cette page.")),
    409: (_l("Modification refusée"), _l("La fiche a été modifiée entre-temps.")),
    413: (_l("Fichier trop volumineux"), _l("Le fichier envoyé dépasse la taille autorisée.")),
    429: (_l("Trop de tentatives"), _l("Patientez quelques minutes avant de réessayer.")),
    500: (
        _l("Erreur interne"),
        _l("Une erreur inattendue est survenue. L'équipe technique est prévenue."),
    ),
}


def render_error(code: int, description: str | None = None):
    title, default = ERROR_TITLES.get(code, ERROR_TITLES[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=description or default
        ),
        code,
    )


def register_error_handlers(app) -> None:
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(
            400,
            _l("Le formulaire a expiré ou n'est pas valide. Rechargez la page et recommencez."),
        )

    @app.errorhandler(StaleEditError)
    def stale_edit(error: StaleEditError):
        """A stale edit that reached the commit outside the view's ``except DomainError``
        (a lost race, seen at the flush): nothing was saved; the form page says why."""
        from flask import flash, redirect

        from app.db import db

        db.session.rollback()
        flash(error.message, "error")
        return redirect(back_to_form())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (403, 404):
            _record_refusal(app, error.code)
        if error.code == 413:
            return _too_large()
        if error.code in ERROR_TITLES:
            return render_error(error.code)
        return error

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if is_database_busy(error):
            return database_busy(app, error)
        app.logger.exception("Unhandled error", exc_info=error)
        from app.db import db

        db.session.rollback()
        return render_error(500)


def _too_large():
    """The body was refused unread: say the limit, and offer the form again."""
    from flask import request

    from app.uploads import too_large_message, too_large_title

    back = request.path if request.url_rule and "GET" in request.url_rule.methods else None
    title = too_large_title()
    page = render_template(
        "errors/error.html", code=413, title=title, message=too_large_message(), back_url=back
    )
    return page, 413


# SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included (BUSY_SNAPSHOT...).
_SQLITE_BUSY_CODES = {5, 6}
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# serialization_failure, deadlock_detected.
_POSTGRES_BUSY_STATES = {"55P03", "57014", "40001", "40P01"}


def is_database_busy(error: BaseException) -> bool:
    """Whether ``error`` means "the database stayed busy past its wait": worth a 503 and a
    retry, not a 500."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY_CODES
        return "locked" in str(original) or "busy" in str(original)
    return getattr(original, "sqlstate", None) in _POSTGRES_BUSY_STATES


BUSY_MESSAGE = "Ancrage est très sollicité, réessayez dans quelques secondes."


def database_busy(app, error: BaseException):
    """The 503 page: the transaction is rolled back, a warning logged (the error's kind, never
    the statement or its values), and the page is built without touching the database — the
    user, the navigation and the translations all would — so it cannot fail the same way."""
    from flask import request

    from app.db import db

    try:
        db.session.rollback()
    except Exception:  # the page must still be answered
        app.logger.exception("Rollback after a busy database failed")
    original = getattr(error, "orig", error)
    app.logger.warning(
        "Database busy, answered 503: %s %s (%s %s)",
        request.method,
        request.url_rule.rule if request.url_rule else "-",
        type(original).__name__,
        getattr(original, "sqlstate", None) or str(original)[:80].split("\n")[0],
    )
    body = app.jinja_env.get_template("errors/busy.html").render(message=BUSY_MESSAGE)
    retry_after = str(int(app.config.get("BUSY_RETRY_AFTER_SECONDS", 5)))
    return body, 503, {"Retry-After": retry_after}


def back_to_form() -> str:
    """Where to send a POST that was refused after its view ran: the same page when it can
    be shown (the form, reloaded on the current data), else the page the form was on when
    it is ours, else the home page."""
    from urllib.parse import urlsplit

    from flask import request, url_for

    if request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("home.index")


def _record_refusal(app, status: int) -> None:
    """Audit a logged-in user's 403, or 404 on a real route (a record that does not exist or
    lies outside their scope, as in an identifier tried by hand). The route's template is
    kept, never the URL itself nor its query string; unmatched URLs are not recorded."""
    from flask import request
    from flask_login import current_user

    from app.audit.models import AuditOutcome
    from app.audit.services import record
    from app.db import db

    if request.url_rule is None or request.endpoint == "static":
        return
    if not current_user.is_authenticated:
        return
    household_id = (request.view_args or {}).get("household_id")
    try:
        db.session.rollback()  # the refused request changes nothing
        record(
            current_user,
            "access.refused",
            household_id=household_id if isinstance(household_id, int) else None,
            outcome=AuditOutcome.REFUSED,
            details={
                "route": request.url_rule.rule,
                "method": request.method,
                "status": status,
            },
        )
        db.session.commit()
    except Exception:  # the refusal stands even if its trace cannot be written
        app.logger.exception("Could not record an access refusal")
        db.session.rollback()
