"""The JSON API's machinery: flask-smorest (the OpenAPI 3.1 document is generated from the
views and schemas of ``app.api.v1``), the bearer-token guard (``client_required``: no
cookie, no CSRF, every call journaled with the client as actor), the per-client rate limit
(Flask-Limiter's storage and strategy: Redis when ``RATELIMIT_STORAGE_URI`` names one,
memory otherwise) and problem+json for every error on an /api/ path."""

from __future__ import annotations

import re
from functools import wraps

from flask import Flask, current_app, g, make_response, request
from flask_limiter import Limiter
from flask_smorest import Api
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException

from app.api.problems import is_api_request, problem, validation_errors
from app.api.schemas import ProblemSchema
from app.api.services import AuthenticationFailed, authenticate, note_use
from app.audit.models import AuditOutcome
from app.audit.services import record
from app.db import db, utcnow
from app.formatting import today_paris

API_EXTENSION = "ancrage_api"
LIMITER_EXTENSION = "ancrage_api_limiter"
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class AncrageApi(Api):
    """flask-smorest without its app-wide error handler: the application's French pages stay
    everywhere else, and /api/ paths answer problem+json (``_wrap_error_handlers``)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        return None


def init_api(app: Flask) -> None:
    from app.api import v1
    from app.extensions import csrf

    app.config.setdefault("API_TITLE", "API Ancrage")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    api = AncrageApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Échanges avec le système d'information des bailleurs : "
                "comptes locataires et situation locative des baux suivis (docs/api.md)."
            },
            "servers": [{"url": "/"}],
            "security": [{"jeton": []}],
        },
    )
    api.spec.components.security_scheme(
        "jeton", {"type": "http", "scheme": "bearer", "description": "anc_<préfixe>_<secret>"}
    )
    api.register_blueprint(v1.blp)
    csrf.exempt(v1.blp)
    app.register_blueprint(v1.docs)
    app.extensions[API_EXTENSION] = api
    # flask-smorest's ``openapi`` command (English help) would sit among the French ones; the
    # document is served at /api/v1/openapi.json.
    app.cli.commands.pop("openapi", None)
    _check_limits(app)
    app.extensions[LIMITER_EXTENSION] = Limiter(
        key_func=lambda: "-", app=app, default_limits=[], headers_enabled=False
    )
    _wrap_error_handlers(app)


def _check_limits(app: Flask) -> None:
    """A malformed limit would make every API call a 500: refuse to start instead."""
    from app.config import ConfigurationError

    for name in ("API_RATE_LIMIT", "API_FAILED_AUTH_LIMIT"):
        try:
            parse_limit(str(app.config[name]))
        except ValueError:
            raise ConfigurationError(
                f"{name} illisible (« {app.config[name]} ») : attendu par exemple "
                "« 120 per minute » ou « 20 per 10 minute »."
            ) from None


def openapi_document() -> dict:
    """The OpenAPI document, errors declared as application/problem+json."""
    document = current_app.extensions[API_EXTENSION].spec.to_dict()
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if (status == "default" or status >= "4") and "content" in response:
                    response["content"] = {
                        "application/problem+json": next(iter(response["content"].values()))
                    }
    for response in document.get("components", {}).get("responses", {}).values():
        if "content" in response:
            response["content"] = {
                "application/problem+json": next(iter(response["content"].values()))
            }
    return document


# --- errors -------------------------------------------------------------------------------


def http_problem(error: HTTPException):
    status = error.code or 500
    if status == 422:
        return problem(422, errors=validation_errors(error))
    if status == 400 and getattr(error, "data", None):
        return problem(400, "Le corps de la requête n'est pas du JSON valide.")
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(status if status in range(400, 600) else 500, headers=headers)


def _wrap_error_handlers(app: Flask) -> None:
    """On /api/ paths, answer problem+json instead of the French HTML pages: for Werkzeug's
    own errors (unknown path, method, body too large) and unexpected ones alike."""
    from app.errors import database_busy, is_database_busy

    handlers = app.error_handler_spec[None][None]
    page_http, page_any = handlers[HTTPException], handlers[Exception]

    def on_http(error):
        if is_api_request():
            return http_problem(error)
        return page_http(error)

    def on_any(error):
        if not is_api_request():
            return page_any(error)
        db.session.rollback()
        if is_database_busy(error):
            database_busy(app, error)  # logs and rolls back; the body is the problem's
            retry = str(int(app.config.get("BUSY_RETRY_AFTER_SECONDS", 5)))
            return problem(503, headers={"Retry-After": retry})
        app.logger.exception("Unhandled API error", exc_info=error)
        return problem(500)

    handlers[HTTPException] = on_http
    handlers[Exception] = on_any


# --- the guard ----------------------------------------------------------------------------


def _keys(*parts: str) -> tuple[str, ...]:
    """A counter's identifiers, under ``RATELIMIT_KEY_PREFIX`` (Flask-Limiter adds it only to
    its own decorators' keys): two instances, or two test runs, sharing a Redis never share
    a counter."""
    return (current_app.config["RATELIMIT_KEY_PREFIX"], *parts)


def _retry_after(item, *identifiers) -> int:
    """Seconds until the window of ``item`` for ``identifiers`` lets a call through."""
    limiter = current_app.extensions[LIMITER_EXTENSION]
    reset, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
    return max(1, int(reset - utcnow().timestamp()) + 1)


def _limited(client):
    """None, or the 429 problem when the client is past its rate limit."""
    limiter = current_app.extensions[LIMITER_EXTENSION]
    item = parse_limit(current_app.config["API_RATE_LIMIT"])
    if limiter.limiter.hit(item, *_keys("api", client.prefix)):
        return None
    wait = _retry_after(item, *_keys("api", client.prefix))
    return problem(
        429,
        f"Limite de {current_app.config['API_RATE_LIMIT']} atteinte pour ce client : "
        f"réessayez dans {wait} s.",
        headers={"Retry-After": str(wait)},
    )


# Failed authentications are counted per address (``request.remote_addr``: the client's
# own behind the proxy when PROXY_FIX is set), in Flask-Limiter's storage.
FAILED_AUTH = "api-auth-failed"


def _address() -> str:
    return request.remote_addr or "-"


def _auth_blocked():
    """None, or the 429 problem when this address has failed authentication
    ``API_FAILED_AUTH_LIMIT`` times in the window: the token is then not even checked, so
    guessing goes no further, while other addresses (valid clients) are not affected."""
    limiter = current_app.extensions[LIMITER_EXTENSION]
    item = parse_limit(current_app.config["API_FAILED_AUTH_LIMIT"])
    if limiter.limiter.test(item, *_keys(FAILED_AUTH, _address())):
        return None
    wait = _retry_after(item, *_keys(FAILED_AUTH, _address()))
    return problem(
        429,
        "Trop d'échecs d'authentification depuis cette adresse : réessayez dans "
        f"{wait} s avec un jeton valide.",
        headers={"Retry-After": str(wait)},
    )


def _note_auth_failure() -> None:
    limiter = current_app.extensions[LIMITER_EXTENSION]
    item = parse_limit(current_app.config["API_FAILED_AUTH_LIMIT"])
    limiter.limiter.hit(item, *_keys(FAILED_AUTH, _address()))


def _body_problem():
    """None, or the 413/415 problem of a POST's body (checked before it is read)."""
    limit = current_app.config["API_MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return problem(413, f"Le corps dépasse {limit // 1024} Kio.")
    request.max_content_length = limit
    if not request.is_json:
        return problem(415)
    return None


def _journal(client, status: int, refused: bool = False) -> None:
    """The call's journal entry (the client as actor) and its last use, in a short
    transaction of their own."""
    try:
        note_use(client, now=utcnow())
        record(
            client,
            "api.call",
            outcome=AuditOutcome.REFUSED if refused else AuditOutcome.SUCCESS,
            details={
                "route": request.url_rule.rule if request.url_rule else request.path[:80],
                "method": request.method,
                "status": status,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _journal_refused_auth(reason: str, *, throttled: bool = False) -> None:
    details = {"route": request.url_rule.rule, "reason": reason}
    if throttled:
        details["throttled"] = True
    record(None, "api.auth_refused", outcome=AuditOutcome.REFUSED, details=details)
    db.session.commit()


def client_required(scope):
    """The view answers only a valid bearer token holding ``scope`` (401/403/429
    otherwise); its call is journaled, refusals included."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            blocked = _auth_blocked()
            if blocked is not None:
                _journal_refused_auth("Trop d'échecs d'authentification.", throttled=True)
                return blocked
            try:
                client = authenticate(request.headers.get("Authorization"), today=today_paris())
            except AuthenticationFailed as failed:
                _note_auth_failure()
                _journal_refused_auth(failed.reason)
                return problem(401, failed.reason, headers={"WWW-Authenticate": "Bearer"})
            response = _limited(client)
            if response is None and not client.has_scope(scope):
                response = problem(403, f"Ce client n'a pas le droit « {scope.label} ».")
            if response is None and request.method == "POST":
                response = _body_problem()
            if response is None:
                g.api_client = client
                try:
                    response = make_response(view(*args, **kwargs))
                except HTTPException as error:
                    db.session.rollback()
                    response = http_problem(error)
            _journal(client, response.status_code, refused=response.status_code >= 400)
            return response

        return wrapped

    return decorator
