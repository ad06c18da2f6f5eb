"""Test fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
a test client that speaks CSRF like a browser, and a live server for browser tests.

SQLite: the schema is built once, then each test gets its own copy of that file.
PostgreSQL: each test run creates its own database (so parallel runs never collide), and
tables are truncated after each test.

With pytest-xdist (``make test WORKERS=2``, as CI runs), each worker is a test run of its own
here: its own instance folder, temporary folder (under the run's), SQLite template or
PostgreSQL database (named after the worker: ``ancrage_test_gw0_…``), browser and live
servers (ephemeral ports).
"""

from __future__ import annotations

import atexit
import html
import os
import re
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.db import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
# Tests never read the developer's instance/config.py, and a run never shares its instance
# folder with another run (CI runs two suites side by side from one checkout, each over two
# xdist workers, each importing this module): an empty folder of its own, removed at exit.
# The ``app`` fixture gives each test its own as well.
_INSTANCE = tempfile.mkdtemp(prefix="ancrage-tests-instance-")
atexit.register(shutil.rmtree, _INSTANCE, ignore_errors=True)
os.environ["ANCRAGE_INSTANCE_PATH"] = _INSTANCE
IS_POSTGRES = TEST_DATABASE_URL.startswith("postgres")

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-the-checks",
    "SESSION_COOKIE_SECURE": False,
    # argon2id still, at a cost that keeps the suite fast.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
    "SERVER_NAME": None,
}


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}"


def _postgres_admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Create the schema once per run; yield how to reach it."""
    if IS_POSTGRES:
        base = _normalise(TEST_DATABASE_URL)
        # The xdist worker's id in the name says whose it is, should one be left behind.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"ancrage_test_{worker}_{uuid.uuid4().hex[:10]}"
        admin = create_engine(_postgres_admin_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        app = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{path}"})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield path


@pytest.fixture
def database_url(database_template, tmp_path):
    if IS_POSTGRES:
        yield database_template
        engine = create_engine(database_template)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config():
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(database_url, app_config, tmp_path):
    # Each test's app has its own instance folder (staged extracts, the scheduler's lock,
    # backups) and documents folder: CI runs the SQLite and PostgreSQL suites side by side
    # from one checkout, and tests/instance/ would be shared by both.
    instance = tmp_path / "instance"
    instance.mkdir()
    documents = str(tmp_path / "documents")
    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": database_url, "DOCUMENTS_FOLDER": documents, **app_config},
        instance_path=str(instance),
    )
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class CsrfClient(FlaskClient):
    """A test client that behaves like a browser with our forms.

    Before each request it commits the test's pending writes (a request only sees committed
    data, and on SQLite an open write transaction would block it). POSTs carry the CSRF token
    of the current session unless ``csrf=False``.
    """

    _csrf_token: str | None = None

    def open(self, *args, **kwargs):
        db.session.commit()
        # Buffered: a streamed response (the exports) is read to its end inside the request,
        # as a browser reads it, and its request is closed before the test goes on.
        kwargs.setdefault("buffered", True)
        # A fresh application context per request, as in production: otherwise the request
        # would share the test's ``g`` (Flask-Login caches the user there) and session.
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        if self._csrf_token is None:
            body = self.open("/connexion", method="GET").get_data(as_text=True)
            match = _CSRF_INPUT.search(body)
            if match is None:  # logged in: the login page redirects; any page has the logout form
                body = self.open("/accueil", follow_redirects=True).get_data(as_text=True)
                match = _CSRF_INPUT.search(body)
            self._csrf_token = match.group(1)
        return self._csrf_token

    # These pages start a new session (session.clear()): the CSRF token changes.
    _NEW_SESSION_PATHS = (
        "/connexion",
        "/deconnexion",
        "/mon-compte/mot-de-passe",
        "/mon-compte/double-authentification/",
        "/mot-de-passe-oublie/",
    )

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            kwargs["data"] = {"csrf_token": self.csrf_token(), **(data or {})}
        response = super().post(*args, **kwargs)
        if args and str(args[0]).startswith(self._NEW_SESSION_PATHS):
            self._csrf_token = None
        return response

    def login(self, user, password: str = "mot-de-passe-de-test"):
        """Log in like the user would: password, then the second factor when asked — the
        forced enrolment of coordinators and administrators (reading the secret shown on the
        page) or the code of an enrolled user (computed from their stored secret)."""
        response = self.post("/connexion", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        step = response.headers["Location"]
        if step.endswith("/connexion/double-authentification"):
            shown = page(self.get(step))
            secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', shown).group(1)
            response = self.post(step, data={"code": totp_code(user, secret.replace(" ", ""))})
            assert response.status_code == 200, response.get_data(as_text=True)[:2000]
            assert "codes de secours" in page(response)
        elif step.endswith("/connexion/code"):
            response = self.post(step, data={"code": totp_code(user)})
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def logout(self):
        return self.post("/deconnexion")


def totp_code(user, secret: str | None = None) -> str:
    """A TOTP code the server will accept for ``user`` now: the current 30-second step, or
    the next one when the current was already used (codes cannot be replayed). A test that
    logs the same user in more than twice within 30 seconds stands for one who waited for
    the next code: its last accepted step is moved back."""
    import pyotp
    from sqlalchemy import update

    from app.auth.models import TotpCredential
    from app.auth.services import decrypt_totp_secret, totp_credential

    credential = totp_credential(user)
    secret = secret or decrypt_totp_secret(credential.secret_encrypted)
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    last = credential.last_timecode if credential is not None else None
    if last is not None and last >= current + 1:
        db.session.execute(
            update(TotpCredential)
            .where(TotpCredential.id == credential.id)
            .values(last_timecode=current - 1)
        )
        last = current - 1
    step = current if last is None or last < current else current + 1
    return totp.generate_otp(step)


@pytest.fixture
def outbox(app):
    """Mail goes to an in-process outbox instead of an SMTP server (tests/outbox.py)."""
    from tests.outbox import Outbox

    box = Outbox()
    app.config["MAIL_OUTBOX"] = box
    yield box
    box.settle()


@pytest.fixture
def clock(app):
    """The application's clock, fixed at 10 March 2026 09:15 Paris time until the test moves
    it (``clock.advance(hours=1)``): the scheduler and jobs read it (app/clock.py)."""
    from app.clock import FixedClock

    fixed = FixedClock(datetime(2026, 3, 10, 8, 15, tzinfo=UTC))
    app.config["CLOCK"] = fixed
    return fixed


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def make_client(app):
    """Several independent browsers (sessions) on the same app."""
    return app.test_client


# --- browser tests -------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install the distribution package "
            "(apt-get install -y chromium) to run the browser tests."
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " REQUIRE_BROWSER=1 forbids skipping them.")
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """No base URL: the browser tests build theirs from ``live_server``. Declared here because
    pytest-playwright's own fallback ``base_url`` fixture is an instance method, a fixture style
    pytest 10 removes (a PytestRemovedIn10Warning, an error under pyproject's filterwarnings)."""
    return None


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    db.session.commit()
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def demo_data(app):
    """The demo dataset, committed (browser tests: the live server only sees committed data,
    and on SQLite an open write transaction in the test would block it)."""
    from app.demo import load_demo

    accounts = load_demo()
    db.session.commit()
    return accounts


@pytest.fixture
def screenshots_dir():
    path = Path(os.environ.get("SCREENSHOTS_DIR", "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def page(response) -> str:
    """The response body as a person reads it (HTML entities decoded)."""
    return html.unescape(response.get_data(as_text=True))
