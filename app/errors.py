"""Domain errors raised by services, and the French error pages."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


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
    check and the flush.
    """
    from app.formatting import format_time

    try:
        submitted = int(submitted_version)
    except (TypeError, ValueError):
        submitted = -1
    if submitted != record.version:
        author = who or _editor_name(record)
        when = format_time(record.updated_at) if getattr(record, "updated_at", None) else ""
        by = f" par {author}" if author else ""
        at = f" à {when}" if when else ""
        raise StaleEditError(
            f"Cette fiche a été modifiée{by}{at} depuis que vous l'avez ouverte. "
            "Vos modifications n'ont pas été enregistrées : rechargez la page pour voir la "
            "version actuelle, puis refaites votre saisie."
        )


def _editor_name(record) -> str | None:
    from app.db import db
    from app.users.models import User

    editor_id = getattr(record, "updated_by_id", None)
    editor = db.session.get(User, editor_id) if editor_id else None
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

    from app.uploads import too_large_message

    back = request.path if request.url_rule and "GET" in request.url_rule.methods else None
    title, _default = ERROR_TITLES[413]
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
