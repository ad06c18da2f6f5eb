"""Lock discipline: while another process holds the database's write lock, writes answer a
French 503 with Retry-After (never a 500) and change nothing, pages that only read answer
normally, and a page that records its read in the journal answers either normally WITH the
entry or 503 — never without it.

SQLite: a second process holds ``BEGIN IMMEDIATE`` (the write lock) for up to 15 s, released
as soon as the requests are done. PostgreSQL: a second connection holds every table in
EXCLUSIVE mode (reads pass, writes wait), and ``lock_timeout`` ends the wait.
The web busy timeout / lock timeout is lowered to 1 s here to keep the run short.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from app.audit.models import AuditEntry
from app.db import db, utcnow
from app.errors import is_database_busy
from app.formatting import today_paris
from app.households.models import Household
from app.scheduler import JobRun
from tests.conftest import IS_POSTGRES, page
from tests.factories import rent_account_csv
from tests.housing.import_steps import confirm, upload
from tests.world import build_world

BUSY = "Ancrage est très sollicité, réessayez dans quelques secondes"
HOLD_SECONDS = 15


@pytest.fixture
def app_config():
    return {"SQLITE_BUSY_TIMEOUT_MS": 1000, "DB_LOCK_TIMEOUT_MS": 1000}


@pytest.fixture
def w(app):
    world = build_world()
    db.session.commit()
    return world


# --- the second process / connection holding the write lock ----------------------------------

_SQLITE_HOLDER = textwrap.dedent(
    """
    import select, sqlite3, sys
    path, seconds, write = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "write"
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    if write:
        connection.execute(
            "INSERT INTO job_run (job_id, slot, started_at) "
            "VALUES ('lock-test', 'holder', '2026-01-01 00:00:00')"
        )
    print("locked", flush=True)
    select.select([sys.stdin], [], [], seconds)  # until told (a line) or the time is up
    connection.execute("COMMIT" if write else "ROLLBACK")
    print("released", flush=True)
    """
)


@contextmanager
def sqlite_write_lock(seconds: float = HOLD_SECONDS, *, write: bool = False):
    """Another process holds SQLite's write lock for ``seconds`` or until the block ends; with
    ``write`` it also inserts a ``job_run`` row and commits it when releasing."""
    mode = "write" if write else "read"
    holder = subprocess.Popen(
        [sys.executable, "-c", _SQLITE_HOLDER, db.engine.url.database, str(seconds), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        if holder.poll() is None:
            holder.stdin.write("release\n")
            holder.stdin.flush()
        out, _ = holder.communicate(timeout=HOLD_SECONDS + 10)
    assert "released" in out and holder.returncode == 0


@contextmanager
def postgres_write_lock():
    """A second connection holds every table in EXCLUSIVE mode: others may read, not write."""
    engine = create_engine(db.engine.url)
    connection = engine.connect()
    try:
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        connection.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
        yield connection
    finally:
        connection.rollback()
        connection.close()
        engine.dispose()


def write_lock():
    return postgres_write_lock() if IS_POSTGRES else sqlite_write_lock()


# --- helpers ---------------------------------------------------------------------------------


def _logged_in(make_client, user):
    client = make_client()
    client.login(user)
    client.csrf_token()  # fetched now: fetching it later would be a request under the lock
    return client


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _reads(household_id: int) -> int:
    return _count(
        AuditEntry, AuditEntry.action == "household.read", AuditEntry.household_id == household_id
    )


def _assert_busy_page(response) -> None:
    assert response.status_code == 503, page(response)[:500]
    assert int(response.headers["Retry-After"]) > 0
    body = page(response)
    assert BUSY in body
    assert "Erreur interne" not in body


# --- the tests -------------------------------------------------------------------------------


def test_under_a_held_write_lock_writes_get_503_and_reads_answer(w, make_client):
    worker = w.users["travailleur_social"]
    coordinator = w.users["coordinateur"]
    social = _logged_in(make_client, worker)
    coordination = _logged_in(make_client, coordinator)
    stranger = make_client()
    stranger.csrf_token()
    household_url = f"/menages/{w.household.id}"
    household_id = w.household.id
    new_household = {
        "project_id": w.project.id,
        "head_first_name": "Mamadou",
        "head_last_name": "Koné",
        "head_birth_on": "1979-07-14",
        "referent_id": worker.id,
    }
    login = {"email": worker.email, "password": "mot-de-passe-de-test"}
    households_before = _count(Household)
    reads_before = _reads(household_id)
    audit_before = _count(AuditEntry)
    db.session.commit()  # the test holds no transaction: on SQLite it would wait too

    with write_lock():
        created = social.post("/menages/nouveau", data=new_household)
        logged = stranger.post("/connexion", data=login)
        listed = social.get("/menages/")
        indicators = coordination.get("/pilotage/indicateurs?debut=2026-01-01&fin=2026-03-31")
        file_page = social.get(household_url)

    _assert_busy_page(created)
    assert "n'a pas été enregistré" in page(created)
    _assert_busy_page(logged)
    assert listed.status_code == 200 and w.household.reference in page(listed)
    # The indicators only read; keeping them in the cache is a bonus that may wait.
    assert indicators.status_code == 200 and "Chiffres calculés" in page(indicators)
    # The file records its read: shown with its journal entry, or not shown at all.
    assert file_page.status_code in (200, 503)
    if file_page.status_code == 200:
        assert _reads(household_id) == reads_before + 1
    else:
        _assert_busy_page(file_page)
        assert "Réessayer" in page(file_page)
        assert _reads(household_id) == reads_before
    # Nothing was written by the refused requests (no household, no login trace).
    assert _count(Household) == households_before
    assert _count(AuditEntry) == audit_before + (file_page.status_code == 200)

    # Once the lock is gone, the same requests go through.
    assert social.get(household_url).status_code == 200
    assert _reads(household_id) == reads_before + 1 + (file_page.status_code == 200)
    assert social.post("/menages/nouveau", data=new_household).status_code == 302
    assert _count(Household) == households_before + 1


def test_an_import_parsed_under_the_lock_answers_503_and_imports_nothing(w, make_client):
    """The rent-account import parses its file before taking the write lock
    (``takes_write_lock_late``: the upload and its preview, then "Importer", which reads the
    kept file again before the lock); when the lock stays taken, the write answers 503."""
    from app.housing.models import RentAccountSnapshot

    w.occupancy.lease_reference = "B-LOCK-1"
    staff = _logged_in(make_client, w.users["bailleur"])
    month = today_paris().replace(day=1) - timedelta(days=1)
    content = rent_account_csv(f"B-LOCK-1;{month:%Y-%m};100;400;;;")

    db.session.commit()
    preview = upload(staff, content)  # parsed and previewed: nothing to write yet
    assert "Importer</button>" in preview.get_data(as_text=True)
    with write_lock():
        refused = confirm(staff, preview)
    _assert_busy_page(refused)
    assert _count(RentAccountSnapshot) == 0
    assert _count(AuditEntry, AuditEntry.action.like("rent_accounts.%")) == 0
    done = confirm(staff, preview)
    assert "Import terminé" in page(done), page(done)[-3000:]
    assert _count(RentAccountSnapshot) == 1


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's deferred read upgraded to a write")
def test_a_read_that_records_waits_for_the_lock_instead_of_failing(w, make_client, app):
    """The household file reads first, then records ``household.read``. Another process
    holds the lock and commits a write meanwhile: the page's read snapshot is then stale, and
    a transaction that upgraded it in place would fail at once (SQLITE_BUSY_SNAPSHOT). The
    record is a transaction of its own begun IMMEDIATE: it waits, then succeeds."""
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 10000
    social = _logged_in(make_client, w.users["travailleur_social"])
    household_url = f"/menages/{w.household.id}"
    reads_before = _reads(w.household.id)
    household_id = w.household.id
    db.session.commit()

    with sqlite_write_lock(seconds=1.5, write=True):
        started = time.monotonic()
        response = social.get(household_url)
        waited = time.monotonic() - started

    assert response.status_code == 200, page(response)[:500]
    assert _reads(household_id) == reads_before + 1
    assert _count(JobRun, JobRun.job_id == "lock-test") == 1  # the other writer's row
    assert waited > 0.5  # it did wait for the other writer (released after 1.5 s)


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite transaction modes")
def test_only_requests_that_may_write_take_the_sqlite_write_lock(app):
    """A GET's transaction reads without the write lock; a POST's, a CLI's or a job's holds it
    from its first statement."""
    path = db.engine.url.database

    def lock_is_free() -> bool:
        other = __import__("sqlite3").connect(path, timeout=0.1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except Exception:
            return False
        finally:
            other.close()

    requests = (
        ("GET", "/", True),
        ("HEAD", "/", True),
        ("POST", "/", False),
        ("DELETE", "/", False),
        ("POST", "/menages/nouveau", False),
        # Marked takes_write_lock_late: the upload is parsed before the lock is taken.
        ("POST", "/logements/import", True),
        ("POST", "/logements/import/" + "0" * 64, True),
    )
    for method, url, free in requests:
        with app.test_request_context(url, method=method):
            db.session.execute(text("SELECT 1"))
            assert lock_is_free() is free, (method, url)
            db.session.rollback()
            db.session.remove()
    db.session.execute(text("SELECT 1"))  # outside a request: CLI commands, jobs
    assert lock_is_free() is False
    db.session.rollback()


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL per-transaction timeouts")
def test_postgres_web_transactions_carry_lock_and_statement_timeouts(app):
    app.config.update(DB_LOCK_TIMEOUT_MS=1500, DB_STATEMENT_TIMEOUT_MS=200)
    with app.test_request_context("/"):
        assert db.session.scalar(text("SHOW lock_timeout")) == "1500ms"
        assert db.session.scalar(text("SHOW statement_timeout")) == "200ms"
        with pytest.raises(OperationalError) as raised:
            db.session.execute(text("SELECT pg_sleep(2)"))
        assert is_database_busy(raised.value)  # the statement timeout: a 503, not a 500
        db.session.rollback()
        db.session.remove()
    # Outside a request (CLI, jobs): the server's settings, no limit by default.
    assert db.session.scalar(text("SHOW statement_timeout")) == "0"
    db.session.rollback()


# --- views that check a password or a code before they write ---------------------------------


def _lock_is_free(path: str) -> bool:
    """Whether another connection can take SQLite's write lock right now (no wait)."""
    import sqlite3

    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's write lock")
def test_login_reauth_and_code_checks_do_not_hold_the_write_lock(w, make_client, monkeypatch):
    """While a login, a password confirmation or a second-factor code is being checked
    (argon2 is slow on purpose; the throttle counts run first), another connection can still
    take the write lock: these views are ``takes_write_lock_late``. Before, the POST held the
    lock from its first query, so every other writer waited for the hash."""
    from app.auth import second_factor
    from app.auth import services as auth_services
    from app.permissions import Role
    from tests.factories import PASSWORD, make_user

    path = db.engine.url.database
    seen: list[tuple[str, bool]] = []
    real_verify = auth_services._verify
    real_decrypt = second_factor.decrypt_totp_secret

    def verify(password_hash, password):
        seen.append(("password", _lock_is_free(path)))
        return real_verify(password_hash, password)

    def decrypt(token):
        seen.append(("code", _lock_is_free(path)))
        return real_decrypt(token)

    worker = w.users["travailleur_social"]
    enrolled = make_user(Role.TRAVAILLEUR_SOCIAL)
    auth_services.start_totp_enrolment(enrolled)
    db.session.flush()
    auth_services.totp_credential(enrolled).confirmed_at = utcnow()
    db.session.commit()
    monkeypatch.setattr(auth_services, "_verify", verify)
    monkeypatch.setattr(second_factor, "decrypt_totp_secret", decrypt)

    stranger = make_client()
    wrong = stranger.post("/connexion", data={"email": worker.email, "password": "pas le bon"})
    assert wrong.status_code == 401 and "Adresse e-mail ou mot de passe incorrect." in page(wrong)
    assert seen.pop() == ("password", True)

    social = make_client()
    social.login(worker)  # password step, then home: no second factor for this user
    assert seen.pop() == ("password", True)
    confirm = social.post("/mon-compte/confirmer", data={"password": PASSWORD, "next": ""})
    assert confirm.status_code == 302, page(confirm)[:500]
    assert seen.pop() == ("password", True)

    second = make_client()
    step = second.post("/connexion", data={"email": enrolled.email, "password": PASSWORD})
    assert step.headers["Location"].endswith("/connexion/code")
    seen.clear()
    bad = second.post("/connexion/code", data={"code": "000000"})
    assert bad.status_code == 401
    assert ("code", True) in seen
    # The failures and the successes were recorded all the same.
    from app.auth.models import LoginAttempt

    assert _count(LoginAttempt, LoginAttempt.is_success.is_(False)) == 2
    assert _count(LoginAttempt, LoginAttempt.is_success.is_(True)) == 3


# --- every route, under a held lock ----------------------------------------------------------

WALK_WINDOW_SECONDS = 12  # each hold is at most HOLD_SECONDS; a new one starts after


def _raw_counts(path: str) -> dict[str, int]:
    """Every table's row count, read by a plain connection (a WAL reader never waits)."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        return {
            table.name: connection.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
            for table in db.metadata.sorted_tables
        }
    finally:
        connection.close()


def _walk_role(expect: dict[str, int]) -> str:
    """The role that reaches the route's real work: one expected to get 200, else a redirect
    of a logged-in user, else whoever comes first."""
    for wanted in (200, 302):
        for role, status in expect.items():
            if status == wanted and role != "anonyme":
                return role
    return "anonyme" if expect.get("anonyme") == 200 else next(iter(expect))


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's write lock held by another process")
def test_every_route_under_a_held_write_lock(app, make_client):
    """The url_map, walked while a second process holds SQLite's write lock (in windows of
    at most 15 s, the web busy timeout lowered to 200 ms), each route as a role that reaches
    its real work (ids from tests/world.py, as the permission matrix does):

    - GET: never 500; the same status as when the lock is gone (every GET is replayed
      then), except that a page that writes (its journal entry, an enrolment's secret) may
      answer the 503 busy page without writing; shown, it has its journal entry;
    - POST: the 503 busy page, or a 4xx refusal (a ``takes_write_lock_late`` view may also
      answer before its first write), writing nothing: every table's row count, logs
      included, unchanged."""
    from tests.test_permission_matrix import MATRIX
    from tests.world import ROLES

    assert set(MATRIX) == {
        f"{rule.endpoint} {method}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    world = build_world()
    db.session.commit()
    path = db.engine.url.database
    clients = {}
    for role in ROLES:
        clients[role] = make_client()
        if role != "anonyme":
            clients[role].login(world.users[role])
        clients[role].csrf_token()
    # Every URL now: formatting one later would reload an expired world object in the test's
    # own session, which (outside a request) waits for the lock like a CLI command.
    urls = {route: case.path.format(w=world) for route, case in MATRIX.items()}
    db.session.commit()
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 200
    routes = sorted(MATRIX, key=lambda route: route.endswith(" POST"))  # GETs first
    pending = list(routes)
    under_lock: dict[str, tuple[int, dict[str, int], str]] = {}
    windows = 0
    while pending:
        windows += 1
        with sqlite_write_lock(seconds=HOLD_SECONDS):
            opened = time.monotonic()
            while pending and time.monotonic() - opened < WALK_WINDOW_SECONDS:
                route = pending.pop(0)
                case = MATRIX[route]
                role = _walk_role(case.expect)
                client = clients[role]
                url = urls[route]
                before = _raw_counts(path)
                if route.endswith(" GET"):
                    response = client.get(url)
                else:
                    data = {"csrf_token": client.csrf_token(), **(case.data or {})}
                    response = client.post(url, data=data, csrf=False)
                after = _raw_counts(path)
                changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
                # Only a 503's body is read (the busy page); a 200 may be a download (a
                # document, a PDF: not text) when the request outlived the lock's hold.
                body = page(response) if response.status_code == 503 else ""
                under_lock[route] = (response.status_code, changed, body)

    # Once the lock is gone: each GET's normal answer, and what it writes (a journal entry,
    # the secret an enrolment page shows…).
    replayed = {}
    for route in routes:
        if route.endswith(" GET"):
            before = _raw_counts(path)
            status = clients[_walk_role(MATRIX[route].expect)].get(urls[route]).status_code
            after = _raw_counts(path)
            replayed[route] = (status, {t for t in after if after[t] != before[t]})

    late = {
        f"{endpoint} POST"
        for endpoint, view in app.view_functions.items()
        if getattr(view, "takes_write_lock_late", False)
    }
    problems = []
    for route, (status, changed, body) in under_lock.items():
        if status == 500:
            problems.append(f"{route}: 500")
        elif route.endswith(" GET"):
            normal, writes = replayed[route]
            if status == 503 and normal != 503:
                if not writes:
                    problems.append(f"{route}: a page that only reads answered 503")
                if BUSY not in body or changed:
                    problems.append(f"{route}: 503 without the busy page, or wrote {changed}")
            elif status != normal:
                problems.append(f"{route}: {status} under the lock, {normal} without")
            elif "audit_entry" in writes and "audit_entry" not in changed:
                problems.append(f"{route}: shown without its journal entry")
            elif set(changed) - {"audit_entry"}:
                problems.append(f"{route}: wrote {changed}")
        elif status == 503:
            if BUSY not in body or changed:
                problems.append(f"{route}: 503 without the busy page, or wrote {changed}")
        else:
            # A refusal, or a takes_write_lock_late view answering before its first write
            # (a form shown again, a logged-in user sent home).
            if not (400 <= status < 500 or route in late):
                problems.append(f"{route}: {status} under the lock")
            if changed:
                problems.append(f"{route}: {status} but wrote {changed}")
    statuses = sorted({status for status, _changed, _body in under_lock.values()})
    print(f"\n{len(under_lock)} routes in {windows} lock windows, statuses {statuses}")
    assert not problems, "\n".join(problems)
    assert len(under_lock) == len(MATRIX)
