"""Load test over loopback: gunicorn (4 workers) on PostgreSQL, simulated users for a bounded
time, a mix of 70 % reads, 20 % searches and 10 % saves (issue #9).

    .venv/bin/python -m benchmarks.load_test --database-url URL [--manifest PATH] \
        [--users 50] [--duration 60] [--workers 4] [--port 8765] [--url http://127.0.0.1:PORT]

Without ``--url`` it starts ``gunicorn --workers 4`` on 127.0.0.1 against ``--database-url``
(its own instance folder, the generator's ``SECRET_KEY`` from the manifest or $SECRET_KEY)
and stops it at the end. Each simulated user is a thread with its own HTTP session
(``requests``, keep-alive where the server keeps it), logged in as a different real user of
the dataset: social workers (the référent of at least one household) and, when the
manifest gives the TOTP secret, a few coordinators; a few landlord staff too.

- read (70 %): one of the user's pages — a household file of theirs, the list, the inbox;
  coordinators the caseloads or indicators; landlord staff their dashboard;
- search (20 %): the list's search form posted with a member's name from one of their
  files (CSRF token included), then the results page it redirects to;
- save (10 %): a social worker records a visit through the real form (GET the form, POST
  it with its CSRF token, follow the redirect to the file); other users read instead.

Every HTTP request is a sample (redirects followed one by one, as a browser does); an error
is a status other than 2xx/3xx or an exception. Each user thinks between actions: 1–3 s by
default (a person reading a page; ``--think 0:0.2`` for a stress run).
The clients run on the same 2 cores as the server: their CPU is taken from it.

The saves write real visits into the database: use a copy
(``createdb -T ancrage_national ancrage_load``). A database whose name contains neither
``bench``, ``national`` nor ``load`` is refused (exit status 2; benchmarks/guard.py) unless
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEFAULT_PASSWORD = "ancrage-bench-2026"  # noqa: S105 - the generated dataset's password


@dataclass
class Account:
    email: str
    role: str  # worker, coordinator, landlord
    households: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass
class Stats:
    samples: list[tuple[str, float, int]] = field(default_factory=list)  # kind, seconds, status
    pages: dict = field(default_factory=lambda: defaultdict(list))  # "GET /menages/<n>": [s]
    errors: Counter = field(default_factory=Counter)
    actions: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int, page: str = "") -> None:
        with self.lock:
            self.samples.append((kind, seconds, status))
            if page:
                self.pages[page].append(seconds)
            if not 200 <= status < 400:
                self.errors[f"{kind} HTTP {status}"] += 1


def pick_accounts(
    database_url: str, users: int, with_coordinators: bool, workers_only: bool = False
) -> list[Account]:
    """Real users of the dataset: social workers with files, a few coordinators and
    landlord staff (about 80 / 10 / 10 %)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    coordinators = users // 10 if with_coordinators and not workers_only else 0
    landlords = 0 if workers_only else users // 10
    workers = users - coordinators - landlords
    accounts = []
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                'SELECT u.id, u.email FROM "user" u JOIN user_role r ON r.user_id = u.id '
                "WHERE r.role = 'travailleur_social' AND u.is_active AND EXISTS "
                "(SELECT 1 FROM household h WHERE h.referent_id = u.id AND h.anonymised_at "
                "IS NULL) ORDER BY u.id LIMIT :n"
            ),
            {"n": workers},
        ).all()
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
                        "ON h.id = m.household_id WHERE h.referent_id = :u LIMIT 20"
                    ),
                    {"u": user_id},
                )
            ]
            accounts.append(Account(email, "worker", households, names or ["a"]))
        for role, n, kind in (
            ("coordinateur", coordinators, "coordinator"),
            ("personnel_bailleur", landlords, "landlord"),
        ):
            for (email,) in conn.execute(
                text(
                    'SELECT u.email FROM "user" u JOIN user_role r ON r.user_id = u.id '
                    "WHERE r.role = :role AND u.is_active ORDER BY u.id LIMIT :n"
                ),
                {"role": role, "n": n},
            ):
                accounts.append(Account(email, kind, names=["martin", "dupont", "bernard"]))
    engine.dispose()
    return accounts


class User(threading.Thread):
    def __init__(self, base, account, password, totp_secret, stats, deadline, rng):
        super().__init__(daemon=True)
        self.base, self.account, self.password = base, account, password
        self.totp_secret, self.stats, self.deadline, self.rng = totp_secret, stats, deadline, rng
        self.http = requests.Session()
        self.ready = threading.Event()
        self.failed: str | None = None

    # --- HTTP, one sample per request -------------------------------------------------------

    def request(self, kind, method, path, data=None):
        url = path if path.startswith("http") else self.base + path
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, data=data, allow_redirects=False, timeout=30)
        except requests.RequestException as error:
            self.stats.add(kind, time.perf_counter() - started, 0)
            with self.stats.lock:
                self.stats.errors[f"{kind} {type(error).__name__}"] += 1
            return None
        self.stats.add(
            kind, time.perf_counter() - started, response.status_code, _page(method, url)
        )
        return response

    def follow(self, kind, response):
        while response is not None and response.status_code in (301, 302, 303):
            response = self.request(kind, "GET", response.headers["Location"])
        return response

    def csrf(self, response) -> str:
        match = CSRF_INPUT.search(response.text) if response is not None else None
        return match.group(1) if match else ""

    # --- logging in (not timed in the results) --------------------------------------------

    def log_in(self) -> None:
        page = self.http.get(self.base + "/connexion", timeout=60)
        response = self.http.post(
            self.base + "/connexion",
            data={
                "csrf_token": self.csrf(page),
                "email": self.account.email,
                "password": self.password,
            },
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login {self.account.email}: HTTP {response.status_code}")
        step = response.headers["Location"]
        if step.endswith("/connexion/code"):
            import pyotp

            form = self.http.get(self.base + "/connexion/code", timeout=60)
            code = pyotp.TOTP(self.totp_secret).now()
            response = self.http.post(
                self.base + "/connexion/code",
                data={"csrf_token": self.csrf(form), "code": code},
                allow_redirects=False,
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
        if response is not None and response.status_code == 200:
            with self.stats.lock:  # the form came back: a validation error, not a save
                self.stats.errors["save refused (form re-shown)"] += 1
        self.follow("save", response)

    def run(self) -> None:
        try:
            self.log_in()
        except Exception as error:
            self.failed = str(error)
            self.ready.set()
            return
        self.ready.set()
        self.start_gate.wait()
        while time.monotonic() < self.deadline[0]:
            draw = self.rng.random()
            action = "read" if draw < 0.7 else "search" if draw < 0.9 else "save"
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


def start_gunicorn(args, secret_key: str):
    instance = tempfile.mkdtemp(prefix="ancrage-load-")
    Path(instance, "config.py").write_text(
        f"SECRET_KEY = {secret_key!r}\nSESSION_COOKIE_SECURE = False\n"
        "MAIL_SENDER = 'Ancrage benchmark <benchmark@localhost>'\n"
    )
    env = {
        **os.environ,
        "ANCRAGE_INSTANCE_PATH": instance,
        "DATABASE_URL": args.database_url,
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [
            gunicorn,
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(120):
        try:
            requests.get(base + "/connexion", timeout=2)
            return process, base
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def _page(method: str, url: str) -> str:
    """``GET /menages/<n>``: the route, ids and query string left out."""
    path = url.split("://", 1)[-1].partition("/")[2].partition("?")[0]
    return f"{method.upper()} /" + re.sub(r"/\d+", "/<n>", path)


def report(stats: Stats, elapsed: float, args, logged_in: int) -> str:
    times = [s for _, s, _ in stats.samples]
    errors = sum(stats.errors.values())
    lines = [
        f"- {logged_in} simulated users logged in, {args.workers} gunicorn workers, "
        f"{elapsed:.0f} s of load, think time {args.think[0]:g}–{args.think[1]:g} s",
        f"- actions: {dict(stats.actions)}",
        f"- requests: {len(times):,} ({len(times) / elapsed:.1f} req/s), "
        f"errors: {errors}" + (f" {dict(stats.errors)}" if errors else ""),
        "",
        "| kind | requests | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    by_kind = defaultdict(list)
    for kind, seconds, _ in stats.samples:
        by_kind[kind].append(seconds)
    for kind, values in [("all", times), *sorted(by_kind.items())]:
        if values:
            lines.append(
                f"| {kind} | {len(values):,} | {statistics.median(values) * 1000:.0f} | "
                f"{percentile(values, 95) * 1000:.0f} | {max(values) * 1000:.0f} |"
            )
    lines += [
        "",
        "| page | requests | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for page, values in sorted(stats.pages.items(), key=lambda item: -len(item[1])):
        lines.append(
            f"| `{page}` | {len(values):,} | {statistics.median(values) * 1000:.0f} | "
            f"{percentile(values, 95) * 1000:.0f} | {max(values) * 1000:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL (a copy: it writes)")
    parser.add_argument("--manifest", help="the generator's manifest (TOTP secret, SECRET_KEY)")
    parser.add_argument("--url", help="a running server instead of starting gunicorn")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY"))
    parser.add_argument("--output", help="append the results (Markdown) to this file")
    parser.add_argument(
        "--workers-only",
        action="store_true",
        help="social workers only (no coordinator's indicators, no landlord dashboard)",
    )
    parser.add_argument(
        "--think",
        type=_think_range,
        default=(1.0, 3.0),
        help="seconds a user waits between actions, MIN:MAX (default 1:3)",
    )
    guard.add_flag(parser, emptied=False)
    args = parser.parse_args()
    if args.duration > 600:
        raise SystemExit("--duration is bounded to 600 s")
    try:
        guard.check_benchmark_copy(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)

    manifest = json.loads(Path(args.manifest).read_text()) if args.manifest else {}
    from benchmarks.bench_pages import _find

    password = _find(manifest, "password") or DEFAULT_PASSWORD
    totp_secret = _find(manifest, "totp")
    secret_key = args.secret_key or _find(manifest, "secret_key") or "benchmark-" + "x" * 40
    accounts = pick_accounts(
        args.database_url, args.users, bool(totp_secret), workers_only=args.workers_only
    )
    if not accounts:
        raise SystemExit("no usable account in the database")
    process = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        process, base = start_gunicorn(args, secret_key)
    try:
        stats = Stats()
        deadline = [float("inf")]
        gate = threading.Event()
        rng = random.Random(args.seed)  # noqa: S311 - a load mix, not a secret
        users = []
        for account in accounts:
            user = User(
                base,
                account,
                password,
                totp_secret,
                stats,
                deadline,
                random.Random(rng.random()),  # noqa: S311
            )
            user.start_gate = gate
            user.think = args.think
            users.append(user)
        print(f"logging {len(users)} users in on {base}…", flush=True)
        for user in users:  # a few at a time: argon2 is meant to be slow
            user.start()
            time.sleep(0.05)
        for user in users:
            user.ready.wait(timeout=120)
        failed = [u for u in users if u.failed]
        for user in failed:
            print("  login failed:", user.failed)
        started = time.monotonic()
        deadline[0] = started + args.duration
        gate.set()
        for user in users:
            user.join(timeout=args.duration + 60)
        elapsed = time.monotonic() - started
        text = report(stats, elapsed, args, len(users) - len(failed))
        print(text)
        if args.output:
            with open(args.output, "a") as out:
                out.write(f"\n## Load test {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n")
                out.write(text + "\n")
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
