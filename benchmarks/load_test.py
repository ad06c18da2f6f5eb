"""Load test over loopback: the product's gunicorn server (``flask serve``, as ``ancrage
serve``) on PostgreSQL or SQLite, 200 simulated users with the real role mix, a warm-up, then
a measured phase, and a measured answer to "what limits throughput" (issues #9 and #19).

    .venv/bin/python -m benchmarks.load_test --database-url URL --manifest PATH \\
        [--users 200] [--mix 70:20:10] [--warm-up 20] [--duration 60] \\
        [--workers N] [--threads 1] [--login-interval 0.1] [--think 1:3] \\
        [--port 8765] [--url http://127.0.0.1:PORT] [--output FILE]

**Users.** ``--users`` (200) simulated users, split by ``--mix`` (70:20:10) into social
workers : landlord staff : coordinators (largest remainders, so the counts add up). Each is
a thread with its own HTTP session (``requests``; connections reused within 1 s, see below),
logged in as a real account of the dataset: social workers who are the référent of at least
one household, active landlord staff, active coordinators (second factor: the manifest's
shared TOTP secret). Each simulated user gets a different account while the dataset has
enough; when it has fewer accounts of a role than asked, accounts are reused (a person with
two browsers) and the output says so. The logins of one account are made one at a time (two
simultaneous logins of one account race on its row, and the server sends the loser on
without a session) and each login is checked (``/`` must not lead back to the login form);
two logins of one TOTP account never send a code of the same 30-second step (a code is
accepted once).

**Phases.** Logins are staggered (one every ``--login-interval`` s, 0.1: 200 logins over
20 s; argon2 is meant to be slow) and not measured; each user starts acting as soon as it is
in. When every user is in, the **warm-up** (``--warm-up`` s, 20) lets them act without being
counted (templates compiled, statement caches filled, the coordinators' indicators cached),
then the **measured phase** (``--duration`` s, 60, at most 600) counts every HTTP request
*started* in it.

**Actions.** Each user picks read 70 % / search 20 % / save 10 % and thinks between actions
(1–3 s by default, a person reading the page; ``--think 0:0.2`` for a stress run):

- read: one of the user's pages — a household file of theirs, the list, the inbox;
  coordinators the caseloads, indicators or list; landlord staff their dashboard;
- search: the list's search form posted with a member's name from one of their files (CSRF
  token included), then the results page it redirects to;
- save: a social worker records a visit through the real form (GET the form, POST it with
  its CSRF token, follow the redirect to the file); other users read instead.

Every HTTP request is a sample (redirects followed one by one, as a browser does); an error
is a status other than 2xx/3xx or no answer, and the first ten are printed with their page
and message. A connection idle for more than 1 s is not reused: gunicorn closes idle
keep-alive connections after 2 s, and a request sent at that moment is reset (a browser
would resend it; counting it would blame the server for the client's timing).

**Server.** Without ``--url`` it starts ``python -m flask --app wsgi serve`` — the very
command behind ``ancrage serve`` (app/cli.py: gunicorn, sync workers, ``--timeout 60``) —
on 127.0.0.1, with its own instance folder (the manifest's ``SECRET_KEY``, which the TOTP
secrets are encrypted with) and its request log in that folder, and stops it at the end.
Sizing, from the product's own advice:

- Both databases: ``serve``'s defaults, 2 × cores + 1 single-threaded (sync) workers (5
  here). Threaded workers (``--threads 4``) crashed under this test (segmentation faults
  in the workers: docs/operations.md); ``--threads`` still measures them. On SQLite the
  product's lock settings are unchanged (WAL, writes ``BEGIN IMMEDIATE``, a request waits
  ``SQLITE_BUSY_TIMEOUT_MS`` = 5 s for the write lock, then gets the 503 « très sollicité »
  page; docs/development.md, "Lock discipline").

**What limits throughput.** During the measured phase, every second: the machine's CPU from
/proc/stat (busy % of all cores) and the share of the server (the gunicorn processes, and
on PostgreSQL the server's processes: this database's backends and the background
processes), of this client process and of everything else, from /proc/<pid>/stat
(utime + stime); the requests in flight on the client side (more than workers × threads:
requests wait for a gunicorn thread); on PostgreSQL the app's connections to the database
in ``pg_stat_activity`` by state and, for active ones, by ``wait_event_type`` (a separate
psycopg connection); on SQLite the 503 responses (the write lock not obtained in time). A
one-line verdict is computed from those figures (:func:`verdict`).

Also printed: the load average before and after, the number of CPUs and a CPU-calibration
time (benchmarks/machine.py), so runs on different days can be compared. The clients run on
the same cores as the server: their CPU is taken from it (the split above says how much).

The saves write real visits into the database: use a copy (``createdb -T ancrage_national
ancrage_load``; for SQLite a copy such as /tmp/load-test.sqlite3 made with SQLite's backup).
A database whose name (or file name) contains neither ``bench``, ``national`` nor ``load``
is refused (exit status 2; benchmarks/guard.py) unless
``--i-know-this-database-will-be-written`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import requests

from benchmarks import guard
from benchmarks.machine import describe_machine, load_average_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEFAULT_PASSWORD = "ancrage-bench-2026"  # noqa: S105 - the generated dataset's password

ROLES = ("worker", "landlord", "coordinator")  # the order of --mix
ROLE_NAMES = {
    "worker": "social workers",
    "landlord": "landlord staff",
    "coordinator": "coordinators",
}
DB_ROLES = {"worker": "travailleur_social", "landlord": "personnel_bailleur",
            "coordinator": "coordinateur"}  # fmt: skip
THREADS = 1  # serve's default (app/cli.py): sync workers (threaded ones crashed under load)
TARGET_P95_MS = 300
# gunicorn closes a keep-alive connection idle for 2 s (its default ``keepalive``, which
# ``serve`` keeps); a request sent on it at that moment gets no answer. A browser resends
# such a request on a new connection; this client instead never reuses a connection idle
# for longer than this, so that race is not counted as a server error.
IDLE_CONNECTION_SECONDS = 1.0

# Verdict thresholds (see verdict()).
CPU_SATURATED = 85.0  # % of the machine's cores busy, on average
WORKER_SATURATED = 85.0  # % of one core per gunicorn worker (the GIL's limit)
LOCK_WAITS = 0.5  # backends waiting on a lock, on average
CONNECTIONS_FULL = 0.9  # share of max_connections used
OTHER_PROCESSES = 15.0  # % of the machine taken by processes outside the test


# --- accounts ----------------------------------------------------------------------------------


@dataclass
class Account:
    email: str
    role: str  # worker, coordinator, landlord
    households: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def parse_mix(text: str) -> dict[str, int]:
    """``"70:20:10"`` → weights of social workers, landlord staff and coordinators."""
    parts = text.split(":")
    if len(parts) != len(ROLES) or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError("three whole numbers, e.g. 70:20:10")
    weights = dict(zip(ROLES, (int(p) for p in parts), strict=True))
    if not sum(weights.values()):
        raise argparse.ArgumentTypeError("at least one role must have users")
    return weights


def role_counts(users: int, mix: dict[str, int]) -> dict[str, int]:
    """How many simulated users of each role: ``users`` split by the weights, rounded by
    largest remainders (ties to the earlier role of ``ROLES``) so the counts add up."""
    total = sum(mix.values())
    exact = {role: users * mix[role] / total for role in ROLES}
    counts = {role: int(exact[role]) for role in ROLES}
    by_remainder = sorted(
        ROLES, key=lambda role: (-(exact[role] - counts[role]), ROLES.index(role))
    )
    for role in by_remainder[: users - sum(counts.values())]:
        counts[role] += 1
    return counts


def spread(distinct: list[Account], wanted: int) -> list[Account]:
    """``wanted`` accounts from ``distinct``: each once while there are enough, then again
    from the first, round-robin (reused as evenly as possible)."""
    if not distinct:
        return []
    return [distinct[i % len(distinct)] for i in range(wanted)]


def reuse_notes(counts: dict[str, int], distinct: dict[str, int]) -> list[str]:
    """A line per role whose simulated users had to share accounts."""
    notes = []
    for role in ROLES:
        wanted, have = counts[role], distinct.get(role, 0)
        if wanted > have > 0:
            notes.append(
                f"{ROLE_NAMES[role]}: {wanted} simulated users on the dataset's {have} accounts "
                f"(each used by up to {-(-wanted // have)} users at once)"
            )
    return notes


def pick_accounts(database_url: str, counts: dict[str, int]) -> tuple[list[Account], dict]:
    """Real users of the dataset, ``counts[role]`` of each role (reused when the dataset has
    fewer), and how many distinct accounts of each role were found."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    distinct: dict[str, list[Account]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                'SELECT u.id, u.email FROM "user" u JOIN user_role r ON r.user_id = u.id '
                "WHERE r.role = 'travailleur_social' AND u.is_active AND EXISTS "
                "(SELECT 1 FROM household h WHERE h.referent_id = u.id AND h.anonymised_at "
                "IS NULL) ORDER BY u.id LIMIT :n"
            ),
            {"n": counts["worker"]},
        ).all()
        distinct["worker"] = []
        for user_id, email in rows:
            households = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT id FROM household WHERE referent_id = :u AND anonymised_at "
                        "IS NULL ORDER BY id LIMIT 50"
                    ),
                    {"u": user_id},
                )
            ]
            names = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT DISTINCT m.last_name FROM household_member m JOIN household h "
                        "ON h.id = m.household_id WHERE h.referent_id = :u ORDER BY "
                        "m.last_name LIMIT 20"
                    ),
                    {"u": user_id},
                )
            ]
            distinct["worker"].append(Account(email, "worker", households, names or ["a"]))
        for role in ("landlord", "coordinator"):
            distinct[role] = [
                Account(email, role, names=["martin", "dupont", "bernard"])
                for (email,) in conn.execute(
                    text(
                        'SELECT u.email FROM "user" u JOIN user_role r ON r.user_id = u.id '
                        "WHERE r.role = :role AND u.is_active ORDER BY u.id LIMIT :n"
                    ),
                    {"role": DB_ROLES[role], "n": counts[role]},
                )
            ]
    engine.dispose()
    missing = [ROLE_NAMES[r] for r in ROLES if counts[r] and not distinct[r]]
    if missing:
        raise SystemExit(f"no usable account in the database for: {', '.join(missing)}")
    accounts = [account for role in ROLES for account in spread(distinct[role], counts[role])]
    return accounts, {role: len(found) for role, found in distinct.items()}


class AccountLocks:
    """One lock per account: two simulated users of one account never log in at the same
    moment. (A person with two browsers does not either; and two simultaneous logins of one
    account race on the user's row — its version, bumped by ``last_login_at`` — and the
    loser is sent on as if logged in, without a session: see :meth:`User.log_in`.)"""

    def __init__(self):
        self.locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self.lock = threading.Lock()

    def __call__(self, email: str) -> threading.Lock:
        with self.lock:
            return self.locks[email]


class TotpCodes:
    """Second-factor codes for the simulated users: a code is accepted once per account and
    only for a later 30-second step than the last accepted one (app/auth/second_factor.py),
    so two logins of one account use successive steps — the current one, then the next
    (accepted one step early) — and a third waits for the clock. The logins of one account
    are serialised (:class:`AccountLocks`), so the steps reach the server in order."""

    def __init__(self, secret: str):
        import pyotp

        self.totp = pyotp.TOTP(secret)
        self.last: dict[str, int] = {}
        self.lock = threading.Lock()

    def next_code(self, email: str) -> str:
        """The code of the earliest step not yet used by ``email`` and still accepted; waits
        for the clock when both are used."""
        while True:
            now = datetime.now(UTC)
            current = self.totp.timecode(now)
            with self.lock:
                step = max(current, self.last.get(email, current - 1) + 1)
                if step <= current + 1:
                    self.last[email] = step
                    return self.totp.generate_otp(step)
            time.sleep(self.totp.interval - now.timestamp() % self.totp.interval + 0.05)


# --- measurements -------------------------------------------------------------------------------


@dataclass
class Stats:
    samples: list[tuple[str, float, int]] = field(default_factory=list)  # kind, seconds, status
    pages: dict = field(default_factory=lambda: defaultdict(list))  # page: [(seconds, status)]
    errors: Counter = field(default_factory=Counter)
    actions: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    measuring: bool = False
    in_flight: int = 0
    failures: list[str] = field(default_factory=list)  # the first few, with their message

    def note(self, failure: str) -> None:
        with self.lock:
            if len(self.failures) < 10:
                self.failures.append(failure)

    def add(self, kind: str, seconds: float, status: int, page: str, failure: str = "") -> None:
        """One request; ``status`` 0 when there was no answer (``failure`` says why)."""
        with self.lock:
            self.samples.append((kind, seconds, status))
            self.statuses[status] += 1
            self.pages[page].append((seconds, status))
            if not 200 <= status < 400:
                self.errors[f"{kind} {failure or f'HTTP {status}'}"] += 1


def read_cpu_ticks(stat_text: str) -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs from /proc/stat's first line (idle and iowait
    are not busy; guest time is already in user)."""
    fields = [int(v) for v in stat_text.splitlines()[0].split()[1:9]]
    total = sum(fields)
    return total - fields[3] - fields[4], total


def process_ticks(pid: int) -> int | None:
    """utime + stime of a process (all its threads), in clock ticks; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (gunicorn's master and workers)."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


@dataclass
class Limits:
    """What the monitor measured, averaged over the measured phase (CPU in % of all the
    machine's cores; None when not measured)."""

    backend: str  # postgresql, sqlite
    cpus: int
    workers: int | None
    threads: int | None
    samples: int = 0
    cpu_busy: float = 0.0
    cpu_busy_max: float = 0.0
    cpu_gunicorn: float | None = None
    cpu_postgres: float | None = None
    cpu_client: float = 0.0
    worker_core: float | None = None  # % of one core per gunicorn worker
    in_flight: float = 0.0
    in_flight_max: int = 0
    pg_states: dict[str, float] = field(default_factory=dict)  # mean connections by state
    pg_waits: dict[str, float] = field(default_factory=dict)  # mean active by wait type
    pg_connections_max: int | None = None
    pg_max_connections: int | None = None
    requests: int = 0
    busy_503: int = 0

    @property
    def cpu_other(self) -> float:
        known = self.cpu_client + (self.cpu_gunicorn or 0) + (self.cpu_postgres or 0)
        return max(0.0, self.cpu_busy - known)

    @property
    def capacity(self) -> int | None:
        return self.workers * self.threads if self.workers and self.threads else None


def verdict(limits: Limits) -> str:
    """One line, in French, naming what limits throughput — derived from the measures, in
    this order: SQLite's write lock (503 answers), PostgreSQL lock waits, the machine's CPU,
    the gunicorn workers' CPU (one core each), gunicorn's threads (requests waiting for one),
    PostgreSQL's connections; otherwise nothing saturated: the users' demand. When other
    processes took a noticeable share of the machine, it says so: the run was disturbed."""
    line = _limit(limits)
    if limits.cpu_gunicorn is not None and limits.cpu_other >= OTHER_PROCESSES:
        line += (
            f" (mesure perturbée : d'autres processus ont pris {limits.cpu_other:.0f} % de la "
            "machine)"
        )
    return line


def _limit(m: Limits) -> str:
    split = (
        f"dont serveur {(m.cpu_gunicorn or 0) + (m.cpu_postgres or 0):.0f} %, "
        f"client de test {m.cpu_client:.0f} %, autres {m.cpu_other:.0f} %"
        if m.cpu_gunicorn is not None
        else f"dont client de test {m.cpu_client:.0f} %"
    )
    if m.busy_503:
        share = 100 * m.busy_503 / max(1, m.requests)
        return (
            f"verrou d'écriture SQLite : {m.busy_503} réponses 503 « très sollicité » "
            f"({share:.1f} % des requêtes ; CPU {m.cpu_busy:.0f} %) : le débit est limité "
            "par le verrou d'écriture"
        )
    lock_waits = m.pg_waits.get("Lock", 0.0)
    if lock_waits >= LOCK_WAITS:
        return (
            f"attentes de verrous PostgreSQL : {lock_waits:.1f} connexions en attente d'un "
            f"verrou en moyenne (CPU {m.cpu_busy:.0f} %) : le débit est limité par les verrous"
        )
    if m.cpu_busy >= CPU_SATURATED:
        return (
            f"CPU saturée ({m.cpu_busy:.0f} % en moyenne des {m.cpus} cœurs, {split}) : "
            "le débit est limité par le processeur"
        )
    if m.worker_core is not None and m.worker_core >= WORKER_SATURATED:
        who = f"chacun des {m.workers} workers" if (m.workers or 1) > 1 else "le worker"
        return (
            f"workers gunicorn saturés : {who} utilise {m.worker_core:.0f} % "
            f"d'un cœur (un processus Python n'en utilise qu'un) alors que la machine est à "
            f"{m.cpu_busy:.0f} % : le débit est limité par le nombre de workers"
        )
    if m.capacity and m.in_flight >= m.capacity:
        return (
            f"fils gunicorn tous occupés : {m.in_flight:.1f} requêtes en cours en moyenne pour "
            f"{m.capacity} fils ({m.workers} × {m.threads}), CPU {m.cpu_busy:.0f} % : le débit "
            "est limité par le nombre de fils (les requêtes attendent un fil)"
        )
    if (
        m.pg_connections_max is not None
        and m.pg_max_connections
        and m.pg_connections_max >= CONNECTIONS_FULL * m.pg_max_connections
    ):
        return (
            f"connexions PostgreSQL : {m.pg_connections_max} ouvertes sur "
            f"{m.pg_max_connections} permises : le débit est limité par les connexions"
        )
    return (
        f"aucune saturation (CPU {m.cpu_busy:.0f} % en moyenne, {split} ; "
        f"{m.in_flight:.1f} requêtes en cours en moyenne"
        + (f" pour {m.capacity} fils" if m.capacity else "")
        + ") : le débit suit la demande des utilisateurs simulés (leur temps de réflexion)"
    )


class Monitor(threading.Thread):
    """Samples the machine every ``interval`` s while running (see the module's docstring)."""

    def __init__(self, stats: Stats, server_pid: int | None, pg_url: str | None, interval=1.0):
        super().__init__(daemon=True)
        self.stats, self.server_pid, self.interval = stats, server_pid, interval
        self.stop_event = threading.Event()
        self.rows: list[dict] = []
        self.ticks: dict[int, int] = {}
        self.pg = self.pg_database = None
        self.max_connections = None
        if pg_url:
            import psycopg
            from sqlalchemy.engine import make_url

            url = make_url(pg_url)
            self.pg_database = url.database
            self.pg = psycopg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False),
                autocommit=True,
            )
            self.max_connections = int(self.pg.execute("SHOW max_connections").fetchone()[0])

    def _delta(self, pids) -> int:
        total = 0
        for pid in pids:
            now = process_ticks(pid)
            if now is None:
                continue
            before = self.ticks.get(pid)
            self.ticks[pid] = now
            if before is not None:
                total += now - before
        return total

    def _postgres(self) -> tuple[list[int], Counter, Counter, int]:
        rows = self.pg.execute(
            "SELECT pid, datname, backend_type, state, wait_event_type FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid()"
        ).fetchall()
        pids, states, waits, connections = [], Counter(), Counter(), 0
        for pid, datname, backend_type, state, wait_type in rows:
            ours = datname == self.pg_database and backend_type == "client backend"
            if ours or backend_type != "client backend":
                pids.append(pid)  # this database's backends, and the background processes
            if ours:
                connections += 1
                states[state or "?"] += 1
                if state == "active":
                    waits[wait_type or "CPU"] += 1
        return pids, states, waits, connections

    def sample(self, first: bool = False) -> None:
        busy, total = read_cpu_ticks(Path("/proc/stat").read_text())
        server = descendants(self.server_pid) if self.server_pid else []
        pg_pids, states, waits, connections = self._postgres() if self.pg else ([], {}, {}, 0)
        gunicorn = self._delta(server)
        workers = len(server) - 1
        postgres = self._delta(pg_pids)
        client = self._delta([os.getpid()])
        if not first:
            busy_delta, total_delta = busy - self.last[0], total - self.last[1]
            share = 100 / total_delta if total_delta else 0
            self.rows.append(
                {
                    "busy": busy_delta * share,
                    "gunicorn": gunicorn * share if self.server_pid else None,
                    "postgres": postgres * share if self.pg else None,
                    "client": client * share,
                    "worker_core": (
                        gunicorn * share * (os.cpu_count() or 1) / workers if workers > 0 else None
                    ),
                    "in_flight": self.stats.in_flight,
                    "states": states,
                    "waits": waits,
                    "connections": connections,
                }
            )
        self.last = (busy, total)

    def run(self) -> None:
        self.sample(first=True)
        while not self.stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        """Stop sampling, with a last sample up to now."""
        self.stop_event.set()
        self.join(timeout=10)
        self.sample()
        if self.pg is not None:
            self.pg.close()

    def limits(self, backend: str, workers, threads, stats: Stats) -> Limits:
        rows = self.rows

        def mean(key):
            values = [row[key] for row in rows if row[key] is not None]
            return statistics.fmean(values) if values else None

        def mean_counts(key):
            names = {name for row in rows for name in row[key]}
            return {n: statistics.fmean(row[key].get(n, 0) for row in rows) for n in sorted(names)}

        return Limits(
            backend=backend,
            cpus=os.cpu_count() or 1,
            workers=workers,
            threads=threads,
            samples=len(rows),
            cpu_busy=mean("busy") or 0.0,
            cpu_busy_max=max((row["busy"] for row in rows), default=0.0),
            cpu_gunicorn=mean("gunicorn"),
            cpu_postgres=mean("postgres"),
            cpu_client=mean("client") or 0.0,
            worker_core=mean("worker_core"),
            in_flight=mean("in_flight") or 0.0,
            in_flight_max=max((row["in_flight"] for row in rows), default=0),
            pg_states=mean_counts("states") if self.pg else {},
            pg_waits=mean_counts("waits") if self.pg else {},
            pg_connections_max=(
                max((row["connections"] for row in rows), default=0) if self.pg else None
            ),
            pg_max_connections=self.max_connections,
            requests=len(stats.samples),
            busy_503=stats.statuses.get(503, 0),
        )


# --- the simulated users ------------------------------------------------------------------------


class User(threading.Thread):
    def __init__(self, base, account, password, codes, stats, deadline, rng, think, locks=None):
        super().__init__(daemon=True)
        self.base, self.account, self.password = base, account, password
        self.codes, self.stats, self.deadline, self.rng = codes, stats, deadline, rng
        self.think = think
        self.login_lock = (locks or AccountLocks())(account.email)
        self.http = requests.Session()
        self.last_answer = 0.0
        self.ready = threading.Event()
        self.failed: str | None = None

    def send(self, method, url, **options):
        """One HTTP request, on a new connection when the last one has been idle for more
        than ``IDLE_CONNECTION_SECONDS`` (see there)."""
        if time.monotonic() - self.last_answer > IDLE_CONNECTION_SECONDS:
            self.http.close()  # the connection pool empties; the next request opens one
        try:
            return self.http.request(method, url, allow_redirects=False, **options)
        finally:
            self.last_answer = time.monotonic()

    # --- HTTP, one sample per request started in the measured phase ------------------------

    def request(self, kind, method, path, data=None):
        url = path if path.startswith("http") else self.base + path
        counted = self.stats.measuring
        with self.stats.lock:
            self.stats.in_flight += 1
        started = time.perf_counter()
        try:
            response = self.send(method, url, data=data, timeout=30)
        except requests.RequestException as error:
            if counted:
                seconds = time.perf_counter() - started
                self.stats.add(kind, seconds, 0, _page(method, url), type(error).__name__)
                self.stats.note(f"{kind} {method} {url}: {error}")
            return None
        finally:
            with self.stats.lock:
                self.stats.in_flight -= 1
        if counted:
            page = _page(method, url)
            self.stats.add(kind, time.perf_counter() - started, response.status_code, page)
            if not 200 <= response.status_code < 400:
                self.stats.note(f"{kind} {page}: HTTP {response.status_code}")
        return response

    def follow(self, kind, response):
        while response is not None and response.status_code in (301, 302, 303):
            response = self.request(kind, "GET", response.headers["Location"])
        return response

    def csrf(self, response) -> str:
        match = CSRF_INPUT.search(response.text) if response is not None else None
        return match.group(1) if match else ""

    # --- logging in (not measured) --------------------------------------------------------

    def log_in(self) -> None:
        """Password, then the TOTP code when asked; one login of an account at a time. The
        session is then checked (``/`` must not send back to the login form): a login the
        server refused after the password — such as the loser of two simultaneous logins of
        one account, which the server sends on like a success — is an error here."""
        with self.login_lock:
            self._log_in()
        check = self.send("GET", self.base + "/", timeout=60)
        if "/connexion" in check.headers.get("Location", "/connexion"):
            raise RuntimeError(f"login {self.account.email}: no session afterwards")

    def _log_in(self) -> None:
        self.http.cookies.clear()  # a new session (after a failed attempt too)
        page = self.send("GET", self.base + "/connexion", timeout=60)
        response = self.send(
            "POST",
            self.base + "/connexion",
            data={
                "csrf_token": self.csrf(page),
                "email": self.account.email,
                "password": self.password,
            },
            timeout=60,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login {self.account.email}: HTTP {response.status_code}")
        if response.headers["Location"].endswith("/connexion/code"):
            if self.codes is None:
                raise RuntimeError(f"{self.account.email} needs a TOTP code: no secret given")
            form = self.send("GET", self.base + "/connexion/code", timeout=60)
            response = self.send(
                "POST",
                self.base + "/connexion/code",
                data={
                    "csrf_token": self.csrf(form),
                    "code": self.codes.next_code(self.account.email),
                },
                timeout=60,
            )
            if response.status_code != 302:
                raise RuntimeError(f"TOTP {self.account.email}: HTTP {response.status_code}")

    # --- the mix ------------------------------------------------------------------------------

    def read(self) -> None:
        a = self.account
        if a.role == "worker":
            choice = self.rng.random()
            if choice < 0.6:
                path = f"/menages/{self.rng.choice(a.households)}"
            elif choice < 0.8:
                path = "/menages/"
            else:
                path = "/rappels/"
        elif a.role == "coordinator":
            path = self.rng.choice(("/pilotage/", "/pilotage/indicateurs", "/menages/"))
        else:
            path = "/logements/"
        self.follow("read", self.request("read", "GET", path))

    def search(self) -> None:
        page = self.request("search", "GET", "/menages/")
        if page is None:  # no form, nothing to post (the failure is counted)
            return
        term = self.rng.choice(self.account.names)[:5]
        response = self.request(
            "search", "POST", "/menages/", data={"csrf_token": self.csrf(page), "q": term}
        )
        self.follow("search", response)

    def save(self) -> None:
        if self.account.role != "worker":
            self.read()
            return
        household = self.rng.choice(self.account.households)
        path = f"/menages/{household}/visites/nouvelle"
        form = self.request("save", "GET", path)
        if form is None:
            return
        counted = self.stats.measuring
        response = self.request(
            "save",
            "POST",
            path,
            data={
                "csrf_token": self.csrf(form),
                "occurred_on": date.today().isoformat(),
                "mode": self.rng.choice(("visite_domicile", "telephone", "bureau")),
                "duration_minutes": "45",
                "note": "Point sur le budget et les démarches (test de charge).",
            },
        )
        if counted and response is not None and response.status_code == 200:
            with self.stats.lock:  # the form came back: a validation error, not a save
                self.stats.errors["save refused (form re-shown)"] += 1
        self.follow("save", response)

    def run(self) -> None:
        for attempt in range(3):
            try:
                self.log_in()
                break
            except Exception as error:  # a busy server during the logins: try again
                self.failed = str(error)
                time.sleep(2 + attempt * 3)
        else:
            self.ready.set()
            return
        self.failed = None
        self.ready.set()
        time.sleep(self.rng.uniform(*self.think))
        while time.monotonic() < self.deadline[0]:
            draw = self.rng.random()
            action = "read" if draw < 0.7 else "search" if draw < 0.9 else "save"
            if self.stats.measuring:
                with self.stats.lock:
                    self.stats.actions[action] += 1
            getattr(self, action)()
            time.sleep(self.rng.uniform(*self.think))


def _think_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    low, high = float(low), float(high or low)
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError("MIN:MAX with 0 <= MIN <= MAX")
    return low, high


# --- the server ---------------------------------------------------------------------------------


def server_size(backend: str, workers: int | None, threads: int | None) -> tuple[int, int]:
    """(workers, threads) for gunicorn: the options, or ``serve``'s defaults (module
    docstring). ``backend`` is kept for callers naming the database."""
    from app.cli import default_workers  # serve's default: 2 × cores + 1

    return workers or default_workers(), threads or THREADS


def start_server(args, secret_key: str):
    """``flask --app wsgi serve`` (the command behind ``ancrage serve``) on 127.0.0.1, its
    own instance folder, its request log in ``server.log`` there."""
    instance = Path(tempfile.mkdtemp(prefix="ancrage-load-"))
    (instance / "config.py").write_text(
        f"SECRET_KEY = {secret_key!r}\nSESSION_COOKIE_SECURE = False\n"
        "MAIL_SENDER = 'Ancrage benchmark <benchmark@localhost>'\n"
    )
    env = {**os.environ, "ANCRAGE_INSTANCE_PATH": str(instance), "DATABASE_URL": args.database_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = instance / "server.log"
    log = log_path.open("w")  # one line per request (app/logs.py): out of the report
    process = subprocess.Popen(  # noqa: S603 - our own venv's flask
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve",
         "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--threads", str(args.threads), "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(120):
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise SystemExit(f"the server stopped (status {process.returncode}):\n{tail}")
        try:
            requests.get(base + "/connexion", timeout=2)
            return process, base, log_path
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("the server did not answer within 60 s")


# --- the report ---------------------------------------------------------------------------------


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def _page(method: str, url: str) -> str:
    """``GET /menages/<n>``: the route, ids and query string left out."""
    path = url.split("://", 1)[-1].partition("/")[2].partition("?")[0]
    return f"{method.upper()} /" + re.sub(r"/\d+", "/<n>", path)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _row(name: str, values: list[float], errors: int) -> str:
    return (
        f"| {name} | {len(values):,} | {errors} | {statistics.median(values) * 1000:.0f} | "
        f"{percentile(values, 95) * 1000:.0f} | {max(values) * 1000:.0f} |"
    )


def pages_table(stats: Stats) -> list[str]:
    """Per page: requests, errors, p50 / p95 / max ms, with the overall row first."""
    lines = [
        "| page | requests | errors | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    everything = [s for _, s, _ in stats.samples]
    if everything:
        failed = sum(1 for _, _, status in stats.samples if not 200 <= status < 400)
        lines.append(_row("**all pages**", everything, failed))
    for page, rows in sorted(stats.pages.items(), key=lambda item: -len(item[1])):
        failed = sum(1 for _, status in rows if not 200 <= status < 400)
        lines.append(_row(f"`{page}`", [s for s, _ in rows], failed))
    return lines


def limits_lines(m: Limits) -> list[str]:
    def pct(value):
        return "—" if value is None else f"{value:.0f} %"

    lines = [
        f"- samples: {m.samples} (every 1 s of the measured phase)",
        f"- CPU, % of the machine's {m.cpus} cores: busy {m.cpu_busy:.0f} % mean, "
        f"{m.cpu_busy_max:.0f} % max; gunicorn {pct(m.cpu_gunicorn)}"
        + (f", PostgreSQL {pct(m.cpu_postgres)}" if m.backend == "postgresql" else "")
        + f", load-test client {pct(m.cpu_client)}, other processes {pct(m.cpu_other)}",
    ]
    if m.workers:
        lines.append(
            f"- gunicorn: {_plural(m.workers, 'worker')} × {m.threads} threads; each worker "
            f"{pct(m.worker_core)} of a core on average; requests in flight (client side) "
            f"{m.in_flight:.1f} mean, {m.in_flight_max} max, for {m.capacity} threads"
        )
    else:
        lines.append(
            f"- requests in flight (client side): {m.in_flight:.1f} mean, {m.in_flight_max} max"
        )
    if m.backend == "postgresql":
        states = ", ".join(f"{k} {v:.1f}" for k, v in m.pg_states.items()) or "none"
        waits = ", ".join(f"{k} {v:.1f}" for k, v in m.pg_waits.items()) or "none"
        lines.append(
            f"- PostgreSQL, the app's connections (mean by state): {states}; "
            f"{m.pg_connections_max} max of max_connections {m.pg_max_connections}; active "
            f"ones by wait_event_type (mean, CPU = not waiting): {waits}"
        )
    else:
        lines.append(
            f"- SQLite: 503 « très sollicité » answers (write lock not obtained within "
            f"SQLITE_BUSY_TIMEOUT_MS): {m.busy_503} of {m.requests:,} requests"
        )
    lines.append(f"- **verdict: {verdict(m)}**")
    return lines


def report(stats: Stats, elapsed: float, args, context: dict, limits: Limits) -> str:
    times = [s for _, s, _ in stats.samples]
    errors = sum(stats.errors.values())
    p95 = percentile(times, 95) * 1000 if times else float("nan")
    met = errors == 0 and p95 < TARGET_P95_MS
    lines = [
        f"- database: {context['backend']}; server: {context['server']}",
        f"- machine before: {context['machine']}; load average after: {context['load_after']}",
        f"- users: {context['logged_in']} logged in of {args.users} "
        f"({context['mix_text']}); logins took {context['login_seconds']:.0f} s, "
        f"then {args.warm_up:g} s of warm-up, not counted",
        *(f"- accounts reused: {note}" for note in context["reuse"]),
        f"- measured: {elapsed:.0f} s, think time {args.think[0]:g}–{args.think[1]:g} s",
        f"- actions: {dict(stats.actions)}",
        f"- requests: {len(times):,} ({len(times) / elapsed:.1f} req/s), "
        f"errors: {errors}" + (f" {dict(stats.errors)}" if errors else ""),
        *(f"  - {failure}" for failure in stats.failures),
        f"- target 0 errors and p95 < {TARGET_P95_MS} ms: "
        + ("met" if met else "MISSED")
        + f" (p95 {p95:.0f} ms)",
        "",
        "| kind | requests | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    by_kind = defaultdict(list)
    for kind, seconds, _ in stats.samples:
        by_kind[kind].append(seconds)
    for kind, values in sorted(by_kind.items()):
        lines.append(
            f"| {kind} | {len(values):,} | {statistics.median(values) * 1000:.0f} | "
            f"{percentile(values, 95) * 1000:.0f} | {max(values) * 1000:.0f} |"
        )
    lines += ["", *pages_table(stats), "", "What limits throughput:", "", *limits_lines(limits)]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL or SQLite (a copy: it writes)"
    )
    parser.add_argument("--manifest", help="the generator's manifest (TOTP secret, SECRET_KEY)")
    parser.add_argument("--url", help="a running server instead of starting gunicorn")
    parser.add_argument("--users", type=int, default=200, help="simulated users (200)")
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=parse_mix("70:20:10"),
        help="social workers : landlord staff : coordinators (default 70:20:10)",
    )
    parser.add_argument(
        "--warm-up", type=float, default=20, help="seconds of load not counted (default 20)"
    )
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (60)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: serve's, 2 × cores + 1)"
    )
    parser.add_argument("--threads", type=int, help=f"threads per worker (default {THREADS})")
    parser.add_argument(
        "--login-interval", type=float, default=0.1, help="seconds between two logins (0.1)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY"))
    parser.add_argument("--output", help="append the results (Markdown) to this file")
    parser.add_argument(
        "--think",
        type=_think_range,
        default=(1.0, 3.0),
        help="seconds a user waits between actions, MIN:MAX (default 1:3)",
    )
    guard.add_flag(parser, emptied=False)
    args = parser.parse_args()
    if args.duration > 600 or args.warm_up > 600:
        raise SystemExit("--duration and --warm-up are bounded to 600 s")
    try:
        guard.check_benchmark_copy(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)
    from sqlalchemy.engine import make_url

    backend = make_url(args.database_url).get_backend_name()
    args.workers, args.threads = server_size(backend, args.workers, args.threads)

    manifest = json.loads(Path(args.manifest).read_text()) if args.manifest else {}
    from benchmarks.bench_pages import _find

    password = _find(manifest, "password") or DEFAULT_PASSWORD
    totp_secret = _find(manifest, "totp")
    secret_key = args.secret_key or _find(manifest, "secret_key") or "benchmark-" + "x" * 40
    counts = role_counts(args.users, args.mix)
    if counts["coordinator"] and not totp_secret:
        raise SystemExit(
            "coordinators log in with a TOTP code: give the --manifest that holds the secret, "
            "or a --mix without coordinators (e.g. 80:20:0)"
        )
    accounts, distinct = pick_accounts(args.database_url, counts)
    reuse = reuse_notes(counts, distinct)
    mix_text = ", ".join(
        f"{counts[r]} {ROLE_NAMES[r]} on {min(counts[r], distinct[r])} accounts"
        for r in ROLES
        if counts[r]
    )
    machine = describe_machine()
    print(f"machine: {machine}", flush=True)
    for note in reuse:
        print(f"accounts reused: {note}", flush=True)

    process = log_path = None
    if args.url:
        base = args.url.rstrip("/")
        server = f"{base} (given; workers unknown)"
        args.workers = args.threads = None
    else:
        process, base, log_path = start_server(args, secret_key)
        server = (
            f"flask serve (as ancrage serve: gunicorn "
            f"{'gthread' if args.threads > 1 else 'sync'}), "
            f"{_plural(args.workers, 'worker')} × {args.threads} threads, timeout 60 s"
            + (
                "; SQLITE_BUSY_TIMEOUT_MS "
                + os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "5000 (default)")
                if backend == "sqlite"
                else ""
            )
        )
    monitor = None
    try:
        stats = Stats()
        deadline = [float("inf")]
        rng = random.Random(args.seed)  # noqa: S311 - a load mix, not a secret
        codes = TotpCodes(totp_secret) if totp_secret else None
        locks = AccountLocks()
        order = list(accounts)
        rng.shuffle(order)  # roles interleaved in the logins
        users = [
            User(base, account, password, codes, stats, deadline,
                 random.Random(rng.random()), args.think, locks)  # noqa: S311
            for account in order
        ]  # fmt: skip
        print(f"{server}\nlogging {len(users)} users in on {base} ({mix_text})…", flush=True)
        login_started = time.monotonic()
        for user in users:
            user.start()
            time.sleep(args.login_interval)
        for user in users:
            user.ready.wait(timeout=max(1.0, login_started + 600 - time.monotonic()))
        login_seconds = time.monotonic() - login_started
        failed = [u for u in users if u.failed or not u.ready.is_set()]
        for user in failed:
            print("  login failed:", user.failed or f"{user.account.email}: no answer")
        print(
            f"{len(users) - len(failed)} users in after {login_seconds:.0f} s; warm-up "
            f"{args.warm_up:g} s…",
            flush=True,
        )
        time.sleep(args.warm_up)
        monitor = Monitor(
            stats, process.pid if process else None,
            args.database_url if backend == "postgresql" else None,
        )  # fmt: skip
        monitor.start()
        print(f"measuring {args.duration:g} s…", flush=True)
        started = time.monotonic()
        deadline[0] = started + args.duration
        stats.measuring = True
        time.sleep(args.duration)
        stats.measuring = False
        elapsed = time.monotonic() - started
        monitor.stop()
        for user in users:
            user.join(timeout=max(1.0, deadline[0] + 60 - time.monotonic()))
        limits = monitor.limits(backend, args.workers, args.threads, stats)
        context = {
            "backend": backend,
            "server": server,
            "machine": machine,
            "load_after": load_average_text(),
            "logged_in": len(users) - len(failed),
            "mix_text": mix_text,
            "login_seconds": login_seconds,
            "reuse": reuse,
        }
        text = report(stats, elapsed, args, context, limits)
        print(text)
        if log_path is not None:
            print(f"(server log: {log_path})")
        if args.output:
            with open(args.output, "a") as out:
                out.write(f"\n## Load test {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n")
                out.write(text + "\n")
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
