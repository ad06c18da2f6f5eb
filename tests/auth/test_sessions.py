"""Session lifetime (idle and absolute timeouts), re-authentication, cookie flags and the
security headers on every response."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Blueprint
from sqlalchemy import select

from app import create_app
from app.audit.models import AuditEntry
from app.auth.views import reauth_required
from app.db import db
from app.permissions import Role
from tests.conftest import BASE_CONFIG, page
from tests.factories import PASSWORD, make_user


def _later(**delta):
    return time_machine.travel(datetime.now(UTC) + timedelta(**delta), tick=False)


def _expired_reasons() -> list[str]:
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.session_expired")
    )
    return [e.details["reason"] for e in entries]


def test_idle_session_ends_after_the_idle_timeout(client):
    client.login(make_user())
    with _later(minutes=29):
        assert client.get("/accueil").status_code == 200
    with _later(minutes=29 + 31):
        response = client.get("/accueil")
    assert response.status_code == 302
    assert response.headers["Location"] == "/connexion?next=/accueil"
    assert client.get("/accueil").status_code == 302  # really logged out
    assert _expired_reasons() == ["idle"]


def test_activity_keeps_the_session_until_the_absolute_timeout(client):
    client.login(make_user())
    for minutes in range(25, 10 * 60, 25):  # a request every 25 minutes for ten hours
        with _later(minutes=minutes):
            assert client.get("/accueil").status_code == 200, minutes
    with _later(hours=10, minutes=5):
        assert client.get("/accueil").status_code == 302
    assert _expired_reasons() == ["absolute"]


def test_a_session_without_login_time_is_refused(client):
    client.login(make_user())
    with client.session_transaction() as session:
        del session["auth_login_at"]
    assert client.get("/accueil").status_code == 302


def test_timeouts_follow_the_configuration(client, app):
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=5)
    client.login(make_user())
    with _later(minutes=6):
        assert client.get("/accueil").status_code == 302


@pytest.fixture
def export_app(database_url):
    """An app with an export-like route protected by ``reauth_required``."""
    from tests.conftest import CsrfClient

    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    demo = Blueprint("demo_export", __name__)

    @demo.route("/test-export")
    @reauth_required(max_age=timedelta(minutes=10))
    def export():
        return "EXPORT OK"

    app.register_blueprint(demo)
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_reauth_required_asks_for_the_password_then_returns(export_app):
    client = export_app.test_client()
    user = make_user()
    assert client.get("/test-export").status_code == 302  # anonymous → login
    client.login(user)
    assert page(client.get("/test-export")) == "EXPORT OK"  # just logged in
    with _later(minutes=11):
        response = client.get("/test-export?format=csv")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/mon-compte/confirmer?next=")
        form = client.get(response.headers["Location"])
        assert "Confirmez votre mot de passe" in page(form)
        back = client.post(
            "/mon-compte/confirmer",
            data={"password": PASSWORD, "next": "/test-export?format=csv"},
        )
        assert back.headers["Location"] == "/test-export?format=csv"
        assert page(client.get("/test-export?format=csv")) == "EXPORT OK"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "auth.reauthenticated" in actions


def test_reauth_refuses_a_foreign_next(client):
    client.login(make_user())
    response = client.post(
        "/mon-compte/confirmer", data={"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/mon-compte/"


def test_failed_reauthentications_count_as_failed_logins(client, app):
    user = make_user()
    client.login(user)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        assert (
            client.post("/mon-compte/confirmer", data={"password": "faux-mot-de-passe"}).status_code
            == 401
        )
    refused = client.post("/mon-compte/confirmer", data={"password": PASSWORD})
    assert "Trop de tentatives" in page(refused)


# --- cookies ---------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = client.post("/connexion", data={"email": make_user().email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ancrage_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookie_is_secure_with_the_host_prefix(database_url):
    config = {**BASE_CONFIG, "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": True}
    app = create_app(config)
    from tests.conftest import CsrfClient

    app.test_client_class = CsrfClient
    with app.app_context():
        # The login form puts its CSRF token in the session: the cookie is set.
        response = app.test_client().get("/connexion", base_url="https://localhost")
        [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "ancrage_session=" in c]
        assert cookie.startswith("__Host-ancrage_session=")
        for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            assert flag in cookie
        assert "Domain=" not in cookie
        db.session.remove()
        db.engine.dispose()


# --- headers ---------------------------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    directives = response.headers["Content-Security-Policy"].split(";")
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in directives}


@pytest.mark.parametrize(
    "path",
    ["/connexion", "/mot-de-passe-oublie", "/accueil", "/nexiste-pas", "/static/css/ancrage.css"],
)
def test_every_response_carries_the_security_headers(client, path):
    client.login(make_user(Role.TRAVAILLEUR_SOCIAL))
    response = client.get(path)
    csp = _csp(response)
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if not path.startswith("/static/"):
        assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # tests run over HTTP


def test_hsts_in_production_only(database_url):
    app = create_app(
        {
            **BASE_CONFIG,
            "TESTING": False,
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": True,
            "MAIL_SENDER": "Ancrage <ne-pas-repondre@example.org>",
        }
    )
    with app.app_context():
        response = app.test_client().get("/connexion", base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )
        db.engine.dispose()
