"""Configuration: defaults here, then ``instance/config.py``, then environment variables.

Every setting can be given as an environment variable of the same name; ``DATABASE_URL``
selects the database (``postgresql+psycopg://…``), else the SQLite file in ``instance/``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

INSECURE_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret"}
LOCAL_MAIL_SENDER = "Ancrage <ne-pas-repondre@localhost>"


class DefaultConfig:
    SECRET_KEY = ""
    DATABASE_URL = ""
    # hide_parameters: a database error logged with its traceback never shows the values
    # (names, notes) of the statement that failed.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Lock discipline (app/db.py): how long a web request waits for the database before the
    # 503 page, and how long CLI commands and scheduler jobs wait (SQLite); PostgreSQL's
    # lock_timeout and statement_timeout for every transaction of a web request (0: none).
    SQLITE_BUSY_TIMEOUT_MS = 5000
    SQLITE_CLI_BUSY_TIMEOUT_MS = 30000
    DB_LOCK_TIMEOUT_MS = 5000
    DB_STATEMENT_TIMEOUT_MS = 30000
    # The 503 page's Retry-After header, in seconds.
    BUSY_RETRY_AFTER_SECONDS = 5
    # On SIGTERM/SIGINT the scheduler lets a running job finish for this long, then abandons
    # it (its transaction is never committed; its slot runs again). Keep it below the service
    # manager's stop timeout (systemd: TimeoutStopSec, 90 s by default).
    SCHEDULER_STOP_GRACE_SECONDS = 20

    # Sessions: Flask-Login "alternative tokens" (see app.auth) make logout final.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "ancrage_session"
    REMEMBER_COOKIE_DURATION = timedelta(0)
    # Flask refuses a session cookie signed longer ago than this; load_config() sets it to
    # SESSION_ABSOLUTE_TIMEOUT so that app.auth.views can tell (and log) idle and absolute
    # expiry itself.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=10)
    # The indicators page reuses its figures (shared by every worker) for this many seconds;
    # "Recalculer maintenant" recomputes them at once. 0: always recompute.
    INDICATOR_CACHE_SECONDS = 600
    # Exports and account-security changes ask for the password again past this age.
    REAUTH_MAX_AGE = timedelta(minutes=10)
    # Closed files are anonymised this many years after the end of support (CNIL référentiel
    # 2021-028: "durée de l'accompagnement puis 2 ans"); each controller's DPO confirms it.
    RETENTION_YEARS = 2
    # /sante/pret reports the scheduler as down when its heartbeat (refreshed after each job,
    # the hourly sweep at least) is older than this.
    SCHEDULER_HEARTBEAT_MAX_AGE = timedelta(hours=2)
    # Backups (app/backups): the folder (empty: instance/backups), the key file that encrypts
    # them (empty: not encrypted), how many daily and weekly backups rotation keeps, and the
    # scheduler's nightly backup at 03:15 Paris time (off unless true).
    BACKUP_DIR = ""
    BACKUP_KEY_FILE = ""
    BACKUP_KEEP_DAILY = 7
    BACKUP_KEEP_WEEKLY = 4
    BACKUP_NIGHTLY = False
    # Application logs on stderr: "text" (one readable line) or "json" (one object a line).
    LOG_FORMAT = "text"
    # GET /metrics (Prometheus format) answers only with "Authorization: Bearer <token>";
    # empty: /metrics is a 404 (app/metrics.py).
    METRICS_TOKEN = ""
    # Between the password and the second-factor code (the "half-authenticated" state).
    LOGIN_PENDING_TIMEOUT = timedelta(minutes=5)

    # Two-factor login (TOTP, RFC 6238): mandatory for these roles, optional for the others.
    TOTP_REQUIRED_ROLES = ("admin", "coordinateur")
    TOTP_ISSUER = "Ancrage"
    TOTP_MAX_FAILURES = 5  # bad codes per account within LOGIN_WINDOW

    # Password reset by e-mail: link lifetime and how many requests per window.
    PASSWORD_RESET_TTL = timedelta(hours=1)
    PASSWORD_RESET_WINDOW = timedelta(hours=1)
    PASSWORD_RESET_MAX_PER_EMAIL = 3
    PASSWORD_RESET_MAX_PER_IP = 20

    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Failed-login throttling, counted in the database so it holds across processes, built so
    # that a stranger cannot lock someone else out (app.auth.throttling.login_throttle,
    # docs/security.md). Within LOGIN_WINDOW: failures per e-mail *and* client address, then
    # per address, refuse for the window; failures per e-mail from every address only impose
    # a growing delay after the last one (LOGIN_EMAIL_DELAY × failures past the threshold,
    # at most LOGIN_EMAIL_DELAY_MAX), which an address the e-mail logged in from within
    # LOGIN_KNOWN_ADDRESS_TTL is spared.
    LOGIN_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_PAIR = 5
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_EMAIL_SLOWDOWN_AFTER = 20
    LOGIN_EMAIL_DELAY = timedelta(seconds=10)
    LOGIN_EMAIL_DELAY_MAX = timedelta(minutes=5)
    LOGIN_KNOWN_ADDRESS_TTL = timedelta(days=30)

    # argon2id cost (argon2-cffi defaults); tests lower them to keep the suite fast.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"

    PAGE_SIZE = 25

    # Request bodies (see docs/security.md): past MAX_CONTENT_LENGTH the French 413 page;
    # routes taking a file raise it for themselves (app.uploads.upload_limit). Werkzeug's
    # bounds on the text fields of a form, spelled out: 500 kB in memory, 1,000 parts.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500_000
    MAX_FORM_PARTS = 1000
    # The rent-account import (app.housing.rent_import.ImportLimits; docs/housing.md): file
    # size, lines, columns, characters per cell, seconds of reading, and the size an .xlsx
    # (a zip) may unzip to. The first one exceeded refuses the file before any write. Sized
    # for a whole-portfolio extract of 250,000 rows: ~20 MB as CSV, ~100 MB unzipped as .xlsx
    # (8 columns); the import route's body limit and nginx's follow RENT_IMPORT_MAX_BYTES.
    RENT_IMPORT_MAX_BYTES = 32 * 1024 * 1024
    RENT_IMPORT_MAX_ROWS = 250_000
    RENT_IMPORT_MAX_COLUMNS = 60
    RENT_IMPORT_MAX_CELL_CHARS = 200
    RENT_IMPORT_MAX_SECONDS = 20
    RENT_IMPORT_MAX_UNZIPPED_BYTES = 160 * 1024 * 1024
    # An uploaded extract waits this long for its "Importer" (instance/rent-imports), then the
    # hourly job housing.staged_imports removes it (app/housing/jobs.py).
    RENT_IMPORT_STAGED_HOURS = 24
    # Documents of the household file (docs/documents.md): the folder of the stored files
    # (None: instance/documents; shared storage when several servers run), the size of one
    # file, the files of one upload, and the body of an upload request (every file at once).
    DOCUMENTS_FOLDER = None
    DOCUMENTS_MAX_BYTES = 10 * 1024 * 1024
    DOCUMENTS_MAX_FILES = 10
    DOCUMENTS_MAX_REQUEST_BYTES = 100 * 1024 * 1024
    PROXY_FIX = False
    # The JSON API (app/api, docs/api.md): calls per client (a limits string), body size of
    # a POST; Flask-Limiter's storage ("memory://", or "redis://host:6379/0" shared by every
    # worker — memory counts per worker process).
    API_RATE_LIMIT = "120 per minute"
    # Failed authentications (no, unknown, revoked or expired token) per address: past it,
    # the address gets 429 until the window frees a call, valid token or not.
    API_FAILED_AUTH_LIMIT = "20 per 10 minute"
    API_MAX_BODY_BYTES = 1024 * 1024
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "ancrage"

    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    # Required outside development and tests (check_config): e.g.
    # "Ancrage <ne-pas-repondre@ancrage.example.org>", on a domain whose SPF/DKIM allow the
    # MAIL_SERVER to send for it. ``make run`` sets a local one.
    MAIL_SENDER = ""
    # Absolute links in e-mails and calendar feeds; its host names the Message-ID domain.
    # ``make run`` sets it from PORT.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def _coerce(current, raw: str):
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, timedelta):
        return timedelta(seconds=int(raw))
    return raw


def load_config(app, overrides: dict | None = None) -> None:
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile(str(Path(app.instance_path) / "config.py"), silent=True)
    for key in list(app.config):
        if key.isupper() and key in os.environ:
            app.config[key] = _coerce(app.config[key], os.environ[key])
    for key in ("DATABASE_URL", "SECRET_KEY"):
        if key in os.environ:
            app.config[key] = os.environ[key]
    if overrides:
        app.config.update(overrides)
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    if not app.config["MAIL_SENDER"] and (app.debug or app.testing):
        # Debug runs and tests send to local servers only; production names its own sender
        # (check_config refuses to start without one).
        app.config["MAIL_SENDER"] = LOCAL_MAIL_SENDER
    # Over HTTPS the session cookie takes the __Host- prefix: the browser then refuses it
    # unless it is Secure, host-only and for path / (ASVS V3.3.3).
    if app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"] == (
        DefaultConfig.SESSION_COOKIE_NAME
    ):
        app.config["SESSION_COOKIE_NAME"] = "__Host-" + DefaultConfig.SESSION_COOKIE_NAME

    url = app.config.get("DATABASE_URL") or (
        f"sqlite:///{Path(app.instance_path) / 'ancrage.sqlite3'}"
    )
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql") and not _gss_chosen(url):
        # libpq tries GSSAPI (Kerberos) encryption first by default, and its GSS set-up is
        # not thread-safe: under load, a gthread worker connecting while its other threads
        # query crashed with a segmentation fault or "double free or corruption" (the load
        # test found it; psycopg/psycopg#1213). A deployment that does use Kerberos says so
        # with ?gssencmode= in DATABASE_URL or PGGSSENCMODE.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"gssencmode": "disable", **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _gss_chosen(url: str) -> bool:
    return "gssencmode=" in url or bool(os.environ.get("PGGSSENCMODE"))


class ConfigurationError(RuntimeError):
    pass


def check_config(app) -> None:
    """Refuse to run in production with settings that would be unsafe."""
    if app.debug or app.testing:
        return
    key = app.config.get("SECRET_KEY") or ""
    if key.strip().lower() in INSECURE_SECRET_KEYS or len(key) < 32:
        raise ConfigurationError(
            "SECRET_KEY manquante ou trop faible : définissez une clé aléatoire d'au moins "
            "32 caractères dans instance/config.py ou la variable d'environnement SECRET_KEY "
            "(par exemple : python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    _, sender_address = parseaddr(app.config.get("MAIL_SENDER") or "")
    if "@" not in sender_address:
        raise ConfigurationError(
            "MAIL_SENDER manquant : définissez l'expéditeur des e-mails d'Ancrage dans "
            "instance/config.py ou la variable d'environnement MAIL_SENDER (par exemple : "
            "MAIL_SENDER='Ancrage <ne-pas-repondre@votre-domaine.fr>'), sur un domaine que "
            "votre serveur de messagerie (MAIL_SERVER) est autorisé à utiliser."
        )
