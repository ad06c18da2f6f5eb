"""Server time of the key pages against the raw-SQL floor, plus the arrears import and one
reminder sweep, on a generated dataset (issue #9).

    .venv/bin/python -m benchmarks.bench_pages --database-url URL --manifest PATH \
        [--repeat 30] [--warmup 3] [--output docs/perf-results-<db>.md] [--skip-import] \
        [--skip-sweep] [--pages file,list,...]

The manifest is the JSON written by ``benchmarks.national generate`` (accounts, households and
the search term to use). ``--demo`` instead reads a database loaded by ``flask demo`` and
writes a manifest for it (it enrols the coordinators and the administrator in TOTP with one
secret, so it writes into that scratch database). Logins write too (last login time): a
database whose name contains neither ``bench``, ``national`` nor ``load`` is refused (exit
status 2; benchmarks/guard.py) unless ``--i-know-this-database-will-be-written`` is given —
copy the demo database to ``bench.sqlite3`` rather.

For each page: the app runs in this process and is driven by Flask's test client, logged in
as the user the page is for (password, then the TOTP code). After ``--warmup`` requests,
``--repeat`` timed ones; the time is taken around the WSGI application only (a middleware),
so the test client's own work is not counted. Every SQL statement the page sends is counted
through a ``before_cursor_execute`` listener. The floor: hand-written SQL (``text()``)
fetching the rows the page shows, nothing rendered, timed the same way (a connection from the
same pool, every row fetched). Ratio = page p50 / floor p50.

The import and the sweep run inside one transaction that is rolled back: the dataset stays as
it was generated (see docs/performance.md).
"""

# The floors build SQL from fixed fragments and ":p0, :p1…" placeholder lists; every value is
# a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANCRAGE_INSTANCE_PATH", tempfile.mkdtemp(prefix="ancrage-bench-"))

from benchmarks import guard  # after the path above (run as a script)

PASSWORD = "ancrage-bench-2026"  # noqa: S105 - the generated dataset's shared password
DEMO_PASSWORD = "ancrage-demo-2026"  # noqa: S105
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - scratch demo database only
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# --- the manifest ---------------------------------------------------------------------------


@dataclass
class Manifest:
    password: str
    totp_secret: str
    social_worker: str
    coordinator: str
    landlord_staff: str
    admin: str
    typical_household_id: int
    long_household_id: int
    project_id: int | None
    search_term: str
    extra: dict = field(default_factory=dict)


def _find(data, *words):
    """The first value whose (flattened, dotted) key holds every word: the generator's
    manifest is read by meaning, so a renamed key does not break the harness."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            flat[prefix.lower()] = value

    walk("", data)
    for key, value in flat.items():
        if all(w in key for w in words):
            return value
    return None


def read_manifest(path: str) -> Manifest:
    data = json.loads(Path(path).read_text())
    needed = {
        "totp_secret": ("totp",),
        "social_worker": ("social", "email"),
        "coordinator": ("coordinator", "email"),
        "landlord_staff": ("landlord", "email"),
        "admin": ("admin", "email"),
        "typical_household_id": ("typical", "id"),
        "long_household_id": ("long", "id"),
        "search_term": ("search",),
    }
    values = {name: _find(data, *words) for name, words in needed.items()}
    missing = [name for name, value in values.items() if value in (None, "")]
    if missing:
        raise SystemExit(f"manifest {path}: cannot find {missing} in {sorted(data)}")
    project = _find(data, "project", "id")
    return Manifest(
        password=_find(data, "password") or PASSWORD,
        project_id=int(project) if project else None,
        extra=data,
        **{
            k: (int(v) if k.endswith("_id") else str(v))
            for k, v in values.items()
            if k != "project_id"
        },
    )


def demo_manifest(app) -> Manifest:
    """A manifest for the demo data: the busiest social worker, their typical (median
    number of interventions) and longest file, the first coordinator, landlord staff and
    administrator, with one TOTP secret for the coordinators and administrators."""
    from sqlalchemy import func, select

    from app.auth.models import TotpCredential
    from app.auth.services import encrypt_totp_secret
    from app.db import db
    from app.households.models import Household, Member
    from app.interventions.models import Intervention
    from app.users.models import User, UserRole

    with app.app_context():

        def first_with(role):
            return db.session.scalar(
                select(User.email)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == role)
                .order_by(User.id)
            )

        worker_id = db.session.scalar(
            select(Household.referent_id)
            .where(Household.referent_id.is_not(None))
            .group_by(Household.referent_id)
            .order_by(func.count().desc())
        )
        worker = db.session.get(User, worker_id)
        files = db.session.execute(
            select(Household.id, func.count(Intervention.id))
            .outerjoin(Intervention, Intervention.household_id == Household.id)
            .where(Household.referent_id == worker_id)
            .group_by(Household.id)
            .order_by(func.count(Intervention.id))
        ).all()
        # A name from the worker's own typical file, so the search finds something of theirs
        # (as the national manifest's term does) and loads what a results page loads.
        term = db.session.scalar(
            select(Member.last_name)
            .where(Member.household_id == files[len(files) // 2][0])
            .order_by(Member.id)
        )
        for (user_id,) in db.session.execute(
            select(UserRole.user_id).where(UserRole.role.in_(["coordinateur", "admin"]))
        ):
            if db.session.scalar(select(TotpCredential).where(TotpCredential.user_id == user_id)):
                continue
            db.session.add(
                TotpCredential(
                    user_id=user_id,
                    secret_encrypted=encrypt_totp_secret(DEMO_TOTP_SECRET),
                    confirmed_at=datetime.now(UTC),
                )
            )
        db.session.commit()
        return Manifest(
            password=DEMO_PASSWORD,
            totp_secret=DEMO_TOTP_SECRET,
            social_worker=worker.email,
            coordinator=first_with("coordinateur"),
            landlord_staff=first_with("personnel_bailleur"),
            admin=first_with("admin"),
            typical_household_id=files[len(files) // 2][0],
            long_household_id=files[-1][0],
            project_id=None,
            search_term=term[:4].lower(),
        )


# --- measuring ------------------------------------------------------------------------------


class Timer:
    """WSGI middleware: the time spent in the application (body included) per request."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.last = 0.0

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = list(self.wsgi_app(environ, start_response))
        self.last = time.perf_counter() - started
        return body


class QueryCounter:
    """Counts statements (``before_cursor_execute``) and, with ``finished`` on
    ``after_cursor_execute``, keeps each one with its duration for ``--show-queries``."""

    def __init__(self):
        self.count = 0
        self.statements: list[str] = []
        self._started = 0.0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self._started = time.perf_counter()

    def finished(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = (time.perf_counter() - self._started) * 1000
        self.statements.append(f"{elapsed:7.1f} ms  {statement}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Result:
    name: str
    url: str
    user: str
    times: list[float]
    queries: list[int]
    floor_times: list[float]
    status: int
    floor_rows: int = 0
    statements: list[str] = field(default_factory=list)

    @property
    def p50(self):
        return statistics.median(self.times) * 1000

    @property
    def p95(self):
        return percentile(self.times, 95) * 1000

    @property
    def floor_p50(self):
        return statistics.median(self.floor_times) * 1000 if self.floor_times else None

    @property
    def ratio(self):
        return self.p50 / self.floor_p50 if self.floor_p50 else None


# --- logging in -----------------------------------------------------------------------------


def _csrf(client, url="/connexion") -> str:
    body = client.get(url).get_data(as_text=True)
    match = CSRF_INPUT.search(body)
    if match is None:
        body = client.get("/accueil", follow_redirects=True).get_data(as_text=True)
        match = CSRF_INPUT.search(body)
    return match.group(1)


def totp_code(secret: str, email: str) -> str:
    """A code the server accepts now: the lowest step in (current-1 … current+1) above the
    last one this account used (codes cannot be replayed), waiting for the next step when
    all three were used (the harness logs the same person in several times)."""
    import pyotp
    from sqlalchemy import select

    from app.auth.models import TotpCredential
    from app.db import db
    from app.users.models import User

    totp = pyotp.TOTP(secret)
    while True:
        last = db.session.scalar(
            select(TotpCredential.last_timecode)
            .join(User, User.id == TotpCredential.user_id)
            .where(User.email == email)
        )
        db.session.rollback()
        current = totp.timecode(datetime.now(UTC))
        for step in (current - 1, current, current + 1):
            if last is None or step > last:
                return totp.generate_otp(step)
        time.sleep(2)


def log_in(app, email: str, manifest: Manifest):
    client = app.test_client()
    token = _csrf(client)
    response = client.post(
        "/connexion",
        data={"csrf_token": token, "email": email, "password": manifest.password},
    )
    if response.status_code != 302:
        raise SystemExit(f"login refused for {email}: {response.status_code}")
    step = response.headers["Location"]
    if step.endswith("/connexion/code"):
        with app.app_context():
            code = totp_code(manifest.totp_secret, email)
        token = _csrf(client, step)
        response = client.post(step, data={"csrf_token": token, "code": code})
        if response.status_code != 302:
            raise SystemExit(f"TOTP refused for {email}: {response.status_code}")
    elif "double-authentification" in step:
        raise SystemExit(f"{email} has no TOTP credential: the manifest's secret cannot be used")
    return client


# --- the floors: hand-written SQL -------------------------------------------------------------


def _user_id(conn, email):
    from sqlalchemy import text

    return conn.execute(text('SELECT id FROM "user" WHERE email = :e'), {"e": email}).scalar()


def _project_ids(conn, user_id):
    from sqlalchemy import text

    return [
        r[0]
        for r in conn.execute(
            text("SELECT project_id FROM project_member WHERE user_id = :u"), {"u": user_id}
        )
    ]


def _in(name, values):
    values = list(values) or [-1]
    return ", ".join(f":{name}{i}" for i in range(len(values))), {
        f"{name}{i}": v for i, v in enumerate(values)
    }


def floor_file(conn, ctx, household_id):
    """The household, its members, current lease, and every dated record of the Parcours
    timeline with its author's name."""
    from sqlalchemy import text

    p = {"h": household_id}
    rows = 0
    for sql in (
        "SELECT * FROM household WHERE id = :h AND anonymised_at IS NULL",
        "SELECT * FROM household_member WHERE household_id = :h",
        "SELECT o.*, d.* FROM occupancy o JOIN dwelling d ON d.id = o.dwelling_id "
        "WHERE o.household_id = :h",
        "SELECT * FROM stage_transition WHERE household_id = :h",
        'SELECT i.*, u.full_name FROM intervention i LEFT JOIN "user" u ON u.id = i.author_id '
        "WHERE i.household_id = :h ORDER BY i.occurred_on DESC, i.id DESC",
        "SELECT * FROM support_measure WHERE household_id = :h",
        "SELECT s.* FROM rent_account_snapshot s JOIN occupancy o ON o.id = s.occupancy_id "
        "WHERE o.household_id = :h",
        "SELECT ps.* FROM procedure_stage ps JOIN occupancy o ON o.id = ps.occupancy_id "
        "WHERE o.household_id = :h",
        "SELECT * FROM referral WHERE household_id = :h",
    ):
        rows += len(conn.execute(text(sql), p).all())
    return rows


def floor_list(conn, ctx, term, as_coordinator):
    """The households in the viewer's scope whose reference, address or a member's name holds
    the term: the count and the first page of 25 with the head's name and the référent."""
    from sqlalchemy import text

    if as_coordinator:
        ids, params = _in("p", ctx["coordinator_projects"])
        scope = f"h.project_id IN ({ids})"
    else:
        params = {"u": ctx["worker_id"]}
        scope = (
            "h.id IN (SELECT id FROM household WHERE referent_id = :u UNION "
            "SELECT household_id FROM household_team_member WHERE user_id = :u)"
        )
    params["like"] = f"%{term.lower()}%"
    where = (
        f"{scope} AND h.anonymised_at IS NULL AND ("
        "lower(h.reference) LIKE :like OR h.search_address LIKE :like OR EXISTS (SELECT 1 FROM "
        "household_member m WHERE m.household_id = h.id AND m.search_name LIKE :like))"
    )
    total = conn.execute(text(f"SELECT count(*) FROM household h WHERE {where}"), params).scalar()
    rows = conn.execute(
        text(
            "SELECT h.id, h.reference, h.stage, h.stage_since_on, u.full_name, m.first_name, "
            'm.last_name FROM household h LEFT JOIN "user" u ON u.id = h.referent_id '
            "LEFT JOIN household_member m ON m.household_id = h.id AND m.is_head "
            f"WHERE {where} ORDER BY h.reference LIMIT 25"
        ),
        params,
    ).all()
    return total + len(rows)


def floor_caseloads(conn, ctx, today):
    """Per référent of the coordinator's projects: households, weight (heaviest open
    measure), overdue contacts (last contact older than the measure's rhythm)."""
    from sqlalchemy import text

    ids, params = _in("p", ctx["coordinator_projects"])
    days = (
        "(julianday(:today) - julianday(coalesce(c.last_on, ms.since)))"
        if ctx["sqlite"]
        else "(CAST(:today AS date) - coalesce(c.last_on, ms.since))"
    )
    params["today"] = today.isoformat() if ctx["sqlite"] else today
    sql = f"""
        WITH scope AS (SELECT id, referent_id FROM household
                       WHERE project_id IN ({ids}) AND anonymised_at IS NULL),
        ms AS (SELECT m.household_id, max(l.caseload_weight) AS weight,
                      min(l.contact_every_days) AS every, min(m.start_on) AS since
               FROM support_measure m JOIN intensity_level l ON l.id = m.intensity_level_id
               WHERE m.status = 'en_cours' AND m.household_id IN (SELECT id FROM scope)
               GROUP BY m.household_id),
        c AS (SELECT household_id, max(occurred_on) AS last_on FROM intervention
              WHERE household_id IN (SELECT id FROM scope) AND mode <> 'rdv_non_honore'
              GROUP BY household_id)
        SELECT s.referent_id, u.full_name, count(*), sum(coalesce(ms.weight, 1)),
               sum(CASE WHEN ms.household_id IS NOT NULL AND {days} > ms.every THEN 1 ELSE 0 END)
        FROM scope s LEFT JOIN ms ON ms.household_id = s.id
        LEFT JOIN c ON c.household_id = s.id
        LEFT JOIN "user" u ON u.id = s.referent_id
        GROUP BY s.referent_id, u.full_name"""
    return len(conn.execute(text(sql), params).all())


def floor_dashboard(conn, ctx):
    """Landlord staff: the key figures over every current lease in the organisation's
    dwellings (one aggregate), then the first page (50 leases, most at risk first, ordered in
    SQL from each lease's latest rent account, running plan and latest procedure stage) with
    the head's name and référent."""
    from sqlalchemy import text

    p = {"org": ctx["landlord_org"]}
    facts = (
        "SELECT o.id, h.reference, h.referent_id, "
        "COALESCE(s.balance_cents, 0) AS balance, COALESCE(s.amount_due_cents, 0) AS due, "
        "(SELECT ps.stage FROM procedure_stage ps WHERE ps.occupancy_id = o.id "
        " ORDER BY ps.occurred_on DESC, ps.id DESC LIMIT 1) AS stage, "
        "EXISTS (SELECT 1 FROM repayment_plan rp WHERE rp.occupancy_id = o.id "
        " AND rp.status = 'en_cours') AS plan "
        "FROM occupancy o JOIN dwelling d ON d.id = o.dwelling_id "
        "JOIN household h ON h.id = o.household_id "
        "LEFT JOIN rent_account_snapshot s ON s.id = (SELECT s2.id FROM rent_account_snapshot s2 "
        " WHERE s2.occupancy_id = o.id ORDER BY s2.month DESC LIMIT 1) "
        "WHERE o.end_on IS NULL AND d.landlord_id = :org AND h.anonymised_at IS NULL"
    )
    judicial = (
        "stage IN ('commandement_payer', 'assignation', 'diagnostic_social_financier', "
        "'audience', 'jugement', 'commandement_quitter', 'concours_force_publique')"
    )
    rows = len(
        conn.execute(
            text(
                f"SELECT count(*), sum(CASE WHEN balance > 0 THEN balance ELSE 0 END), "
                f"sum(CASE WHEN {judicial} THEN 1 ELSE 0 END) FROM ({facts}) f"
            ),
            p,
        ).all()
    )
    ids = [
        r[0]
        for r in conn.execute(
            text(
                f"SELECT id FROM ({facts}) f ORDER BY CASE WHEN {judicial} THEN 3 "
                "WHEN plan THEN 1 WHEN balance > 0 THEN 2 ELSE 0 END DESC, "
                "CASE WHEN balance > 0 AND due > 0 THEN round(1.0 * balance / due, 1) "
                "ELSE 0 END DESC, balance DESC, reference LIMIT 50"
            ),
            p,
        )
    ]
    in_ids, q = _in("o", ids)
    for sql in (
        "SELECT o.*, d.*, h.reference, h.stage, m.first_name, m.last_name, u.full_name, u.phone "
        "FROM occupancy o JOIN dwelling d ON d.id = o.dwelling_id "
        "JOIN household h ON h.id = o.household_id "
        "LEFT JOIN household_member m ON m.household_id = h.id AND m.is_head "
        'LEFT JOIN "user" u ON u.id = h.referent_id '
        f"WHERE o.id IN ({in_ids})",
        "SELECT s.* FROM rent_account_snapshot s JOIN (SELECT occupancy_id, max(month) AS month "
        f"FROM rent_account_snapshot WHERE occupancy_id IN ({in_ids}) GROUP BY occupancy_id) l "
        "ON l.occupancy_id = s.occupancy_id AND l.month = s.month",
        f"SELECT * FROM repayment_plan WHERE status = 'en_cours' AND occupancy_id IN ({in_ids})",
        f"SELECT * FROM procedure_stage ps WHERE ps.occupancy_id IN ({in_ids}) "
        "ORDER BY ps.occupancy_id, ps.occurred_on DESC",
    ):
        rows += len(conn.execute(text(sql), q).all())
    return rows


def floor_inbox(conn, ctx):
    """The social worker's open reminders about the households they follow."""
    from sqlalchemy import text

    sql = """
        SELECT r.*, h.reference FROM reminder r JOIN household h ON h.id = r.household_id
        WHERE r.status IN ('a_faire', 'reporte') AND h.anonymised_at IS NULL
          AND (r.recipient_user_id = :u OR (r.recipient_role = 'travailleur_social'
               AND (r.recipient_organisation_id IS NULL OR r.recipient_organisation_id = :org)))
          AND h.id IN (SELECT id FROM household WHERE referent_id = :u
               UNION SELECT household_id FROM household_team_member WHERE user_id = :u)
        ORDER BY coalesce(r.postponed_to, r.due_on), r.id"""
    return len(conn.execute(text(sql), {"u": ctx["worker_id"], "org": ctx["worker_org"]}).all())


def floor_indicators(conn, ctx, start, end):
    """The headline aggregates for the coordinator's projects over the period: households
    supported, entries, exits, contacts, households in arrears at their latest account, by
    target public and by month of entry. (The page computes about fifty figures; this floor
    computes the main ones, so the ratio flatters the floor.)"""
    from sqlalchemy import text

    ids, params = _in("p", ctx["coordinator_projects"])
    params.update(start=start, end=end)
    scope = f"SELECT id FROM household WHERE project_id IN ({ids})"
    rows = 0
    for sql in (
        "SELECT count(DISTINCT household_id), "
        "sum(CASE WHEN start_on BETWEEN :start AND :end THEN 1 ELSE 0 END) "
        f"FROM support_measure WHERE household_id IN ({scope}) AND start_on <= :end",
        "SELECT count(*), count(DISTINCT household_id) FROM intervention "
        f"WHERE household_id IN ({scope}) AND occurred_on BETWEEN :start AND :end",
        "SELECT e.reason, count(*) FROM support_measure_exit e JOIN support_measure m "
        f"ON m.id = e.measure_id WHERE m.household_id IN ({scope}) "
        "AND e.exit_on BETWEEN :start AND :end GROUP BY e.reason",
        "SELECT count(*), sum(s.balance_cents) FROM rent_account_snapshot s JOIN "
        "(SELECT occupancy_id, max(month) AS month FROM rent_account_snapshot "
        "WHERE occupancy_id IN (SELECT id FROM occupancy WHERE household_id IN "
        f"({scope})) GROUP BY occupancy_id) l ON l.occupancy_id = s.occupancy_id "
        "AND l.month = s.month WHERE s.balance_cents > 0",
        f"SELECT target_publics, count(*) FROM household WHERE id IN ({scope}) "
        "GROUP BY target_publics",
    ):
        rows += len(conn.execute(text(sql), params).all())
    return rows


# --- the run --------------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    name: str
    user: str  # manifest attribute
    url: str
    floor: object  # callable(conn, ctx) -> rows
    search: str | None = None  # posted once to the list, whose results page is then timed
    status: int = 200  # what the timed request answers (a recompute redirects to the page)


def pages(manifest: Manifest, app, today: date) -> list[Page]:
    start = date(today.year, 1, 1)
    term = manifest.search_term
    return [
        Page(
            "file",
            "Dossier ménage (typique)",
            "social_worker",
            f"/menages/{manifest.typical_household_id}",
            lambda c, x: floor_file(c, x, manifest.typical_household_id),
        ),
        Page(
            "file-long",
            "Dossier ménage (long)",
            "social_worker",
            f"/menages/{manifest.long_household_id}",
            lambda c, x: floor_file(c, x, manifest.long_household_id),
        ),
        Page(
            "list",
            "Liste des ménages + recherche nom (TS)",
            "social_worker",
            "/menages/",
            lambda c, x: floor_list(c, x, term, as_coordinator=False),
            search=term,
        ),
        Page(
            "list-coord",
            "Liste des ménages + recherche nom (coord.)",
            "coordinator",
            "/menages/",
            lambda c, x: floor_list(c, x, term, as_coordinator=True),
            search=term,
        ),
        Page(
            "caseloads",
            "Pilotage : charges (caseloads)",
            "coordinator",
            "/pilotage/",
            lambda c, x: floor_caseloads(c, x, today),
        ),
        Page(
            "dashboard",
            "Tableau de bord bailleur",
            "landlord_staff",
            "/logements/",
            floor_dashboard,
        ),
        Page("inbox", "Rappels (boîte)", "social_worker", "/rappels/", floor_inbox),
        # The figures are kept 10 minutes (app/reports/cache.py): after the warm-up every
        # timed view reads the cache. "Recalculer maintenant" computes them every time.
        Page(
            "indicators",
            "Indicateurs (année en cours, chiffres en cache)",
            "coordinator",
            "/pilotage/indicateurs",
            lambda c, x: floor_indicators(c, x, start, today),
        ),
        Page(
            "indicators-compute",
            "Indicateurs : recalcul (« Recalculer maintenant »)",
            "coordinator",
            "/pilotage/indicateurs?recalculer=1",
            lambda c, x: floor_indicators(c, x, start, today),
            status=302,
        ),
    ]


def context(app, manifest: Manifest) -> dict:
    from sqlalchemy import text

    from app.db import db

    with app.app_context(), db.engine.connect() as conn:
        coordinator = _user_id(conn, manifest.coordinator)
        worker = _user_id(conn, manifest.social_worker)
        staff = _user_id(conn, manifest.landlord_staff)
        org = 'SELECT organisation_id FROM "user" WHERE id = :u'
        return {
            "sqlite": db.engine.dialect.name == "sqlite",
            "coordinator_projects": _project_ids(conn, coordinator),
            "worker_id": worker,
            "worker_org": conn.execute(text(org), {"u": worker}).scalar(),
            "landlord_org": conn.execute(text(org), {"u": staff}).scalar(),
        }


def check_files(app, manifest: Manifest, ctx) -> None:
    """The manifest's typical and long files must be in the social worker's caseload; if
    they are not (a manifest from another run of the generator), take the worker's files
    with the median and the largest number of interventions instead, and say so."""
    from sqlalchemy import text

    from app.db import db

    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT h.id, (SELECT count(*) FROM intervention i WHERE i.household_id = h.id) "
                "AS n FROM household h WHERE h.anonymised_at IS NULL AND (h.referent_id = :u "
                "OR h.id IN (SELECT household_id FROM household_team_member WHERE user_id = :u))"
                " ORDER BY n, h.id"
            ),
            {"u": ctx["worker_id"]},
        ).all()
    mine = {row.id for row in rows}
    if not rows:
        raise SystemExit(f"{manifest.social_worker} has no household in this database")
    for attribute, pick in (("typical_household_id", len(rows) // 2), ("long_household_id", -1)):
        if getattr(manifest, attribute) not in mine:
            chosen = rows[pick]
            print(
                f"warning: manifest {attribute} {getattr(manifest, attribute)} is not in "
                f"{manifest.social_worker}'s caseload; using {chosen.id} ({chosen.n} "
                "interventions)",
                flush=True,
            )
            setattr(manifest, attribute, chosen.id)


def measure_page(app, timer, client, page: Page, ctx, warmup: int, repeat: int) -> Result:
    from sqlalchemy import event

    from app.db import db

    counter = QueryCounter()
    with app.app_context():
        engine = db.engine

    if page.search is not None:
        # The search form posts (the term stays out of the URL) and redirects to the results
        # (``?recherche=<token>``); a list that still searches by GET takes ``?q=``.
        methods = {m for r in app.url_map.iter_rules() if r.rule == page.url for m in r.methods}
        if "POST" in methods:
            response = client.post(
                page.url, data={"csrf_token": _csrf(client, page.url), "q": page.search}
            )
            assert response.status_code == 302, response.status_code
            page.url = response.headers["Location"]
        else:
            page.url = f"{page.url}?q={page.search}"

    def request():
        return client.get(page.url)

    for _ in range(warmup):
        response = request()
        if response.status_code != page.status:
            raise SystemExit(f"{page.url}: HTTP {response.status_code} during warm-up")
    times, queries = [], []
    event.listen(engine, "before_cursor_execute", counter)
    event.listen(engine, "after_cursor_execute", counter.finished)
    try:
        for _ in range(repeat):
            counter.count = 0
            counter.statements.clear()
            response = request()
            times.append(timer.last)
            queries.append(counter.count)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        event.remove(engine, "after_cursor_execute", counter.finished)
    floor_times, rows = [], 0
    with app.app_context():
        for i in range(warmup + repeat):
            started = time.perf_counter()
            with db.engine.connect() as conn:
                rows = page.floor(conn, ctx)
                conn.rollback()
            if i >= warmup:
                floor_times.append(time.perf_counter() - started)
    return Result(
        page.name,
        page.url,
        page.user,
        times,
        queries,
        floor_times,
        response.status_code,
        rows,
        list(counter.statements),
    )


def time_import(app, target_rows: int, today: date) -> str:
    """Import a new month of rent accounts for ``target_rows`` current leases of the dataset,
    landlord by landlord (one extract per landlord, the biggest first), in one transaction
    rolled back at the end."""
    from sqlalchemy import func, select

    from app.db import db
    from app.housing import services
    from app.housing.models import Dwelling, Occupancy, RentAccountSnapshot
    from app.organisations.models import Organisation

    with app.app_context():
        latest = db.session.scalar(select(func.max(RentAccountSnapshot.month)))
        month = (
            date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
            if latest
            else date(today.year, today.month, 1)
        )
        import_today = max(today, date(month.year, month.month, 27))
        landlords = db.session.execute(
            select(Dwelling.landlord_id, func.count())
            .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
            .where(Occupancy.end_on.is_(None), Occupancy.lease_reference.is_not(None))
            .group_by(Dwelling.landlord_id)
            .order_by(func.count().desc())
        ).all()
        done, files, parse, total = 0, 0, 0.0, 0.0
        created = updated = 0
        for landlord_id, _count in landlords:
            if done >= target_rows:
                break
            references = db.session.scalars(
                select(Occupancy.lease_reference)
                .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
                .where(
                    Dwelling.landlord_id == landlord_id,
                    Occupancy.end_on.is_(None),
                    Occupancy.lease_reference.is_not(None),
                )
                .order_by(Occupancy.id)
                .limit(target_rows - done)
            ).all()
            content = extract(references, month)
            organisation = db.session.get(Organisation, landlord_id)
            started = time.perf_counter()
            report, _ = services.read_rent_accounts(
                landlord_id, content, month=month, today=import_today
            )
            parse += time.perf_counter() - started
            if not report.is_valid:
                db.session.rollback()
                return f"import refused: {report.file_problems or report.problems[:3]}"
            report = services.import_rent_accounts(
                None,
                organisation,
                content=content,
                month=month,
                today=import_today,
                via="benchmark",
            )
            db.session.flush()
            total += time.perf_counter() - started
            created += report.created
            updated += report.updated
            done += len(references)
            files += 1
        db.session.rollback()
        return (
            f"{done:,} rows in {files} landlord file(s), month {month:%Y-%m}: "
            f"{total:.1f} s in all (read + validate {parse:.1f} s, write ≈ {total - parse:.1f} s)"
            f"; {created:,} created, {updated:,} updated; rolled back"
        )


def extract(references: list[str], month: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Référence du bail", "Mois", "Solde", "Loyer et charges du mois"])
    for i, reference in enumerate(references):
        debt = (i % 7) * 480
        writer.writerow([reference, f"{month:%Y-%m}", f"{debt},{i % 100:02d}", "480,00"])
    return out.getvalue().encode("cp1252")


def time_sweep(app) -> str:
    from app.db import db
    from app.reminders.jobs import sweep

    with app.app_context():
        started = time.perf_counter()
        summary = sweep(datetime.now(UTC))
        db.session.flush()
        elapsed = time.perf_counter() - started
        db.session.rollback()
    return (
        f"{elapsed:.1f} s — {summary['created']:,} reminders created, "
        f"{summary['closed']:,} closed; rolled back"
    )


def dataset_size(app) -> str:
    from sqlalchemy import text

    from app.db import db

    parts = []
    with app.app_context(), db.engine.connect() as conn:
        for table in (
            "project",
            "user",
            "household",
            "intervention",
            "rent_account_snapshot",
            "reminder",
        ):
            n = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
            parts.append(f"{n:,} {table}")
    return ", ".join(parts)


def markdown(results: list[Result], header: dict, extras: list[str]) -> str:
    lines = [f"# Page benchmark — {header['db']}", ""]
    lines += [f"- {k}: {v}" for k, v in header.items() if k != "db"]
    lines += [
        "",
        "| page | URL | user | p50 ms | p95 ms | SQL queries | floor p50 ms | page/floor |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        q = sorted(set(r.queries))
        queries = str(q[0]) if len(q) == 1 else f"{q[0]}–{q[-1]}"
        lines.append(
            f"| {r.name} | `{r.url}` | {r.user} | {r.p50:.1f} | {r.p95:.1f} | {queries} | "
            f"{r.floor_p50:.1f} | {r.ratio:.1f} |"
        )
    lines += ["", *[f"- {e}" for e in extras], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--manifest", help="the generator's manifest JSON")
    parser.add_argument("--demo", action="store_true", help="demo data: build the manifest")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--output", help="Markdown file for the results table")
    parser.add_argument("--pages", help="comma-separated keys: " + "file,file-long,list,...")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument(
        "--secret-key",
        default=os.environ.get("SECRET_KEY"),
        help="the generator's SECRET_KEY (TOTP secrets are encrypted with it); default: the "
        "manifest's, else $SECRET_KEY",
    )
    parser.add_argument("--show-queries", action="store_true", help="print each page's SQL")
    guard.add_flag(parser, emptied=False)
    args = parser.parse_args()
    try:
        guard.check_benchmark_copy(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)

    from flask import Flask  # noqa: F401 - fail early without the venv

    from app import create_app
    from app.formatting import today_paris

    manifest_data = json.loads(Path(args.manifest).read_text()) if args.manifest else {}
    secret_key = args.secret_key or _find(manifest_data, "secret_key") or "benchmark-" + "x" * 40
    app = create_app(
        {
            "SECRET_KEY": secret_key,
            "MAIL_SENDER": "Ancrage benchmark <benchmark@localhost>",
            "DATABASE_URL": args.database_url,
            "SESSION_COOKIE_SECURE": False,
            "SERVER_NAME": None,
        }
    )
    timer = Timer(app.wsgi_app)
    app.wsgi_app = timer
    if args.demo:
        manifest = demo_manifest(app)
    elif args.manifest:
        manifest = read_manifest(args.manifest)
    else:
        raise SystemExit("--manifest PATH or --demo")
    with app.app_context():
        today = today_paris()
    ctx = context(app, manifest)
    check_files(app, manifest, ctx)
    chosen = set(args.pages.split(",")) if args.pages else None
    clients = {}
    results = []
    for page in pages(manifest, app, today):
        if chosen and page.key not in chosen:
            continue
        email = getattr(manifest, page.user)
        if email not in clients:
            clients[email] = log_in(app, email, manifest)
        result = measure_page(app, timer, clients[email], page, ctx, args.warmup, args.repeat)
        results.append(result)
        q = sorted(set(result.queries))
        print(
            f"{page.key:11} p50 {result.p50:7.1f} ms  p95 {result.p95:7.1f} ms  "
            f"queries {q[0]}{'' if len(q) == 1 else '-' + str(q[-1]):<4} "
            f"floor p50 {result.floor_p50:6.1f} ms  ratio {result.ratio:5.1f}  ({page.url})",
            flush=True,
        )
        if args.show_queries:
            for statement in result.statements:
                print("    " + " ".join(statement.split())[:300])
    extras = []
    if not args.skip_import:
        line = time_import(app, args.import_rows, today)
        print("import:", line, flush=True)
        extras.append("Arrears import: " + line)
    if not args.skip_sweep:
        line = time_sweep(app)
        print("sweep:", line, flush=True)
        extras.append("Reminder sweep: " + line)
    from app.db import db

    with app.app_context():
        dialect = db.engine.dialect.name
        version = db.session.execute(
            __import__("sqlalchemy").text(
                "SELECT sqlite_version()" if dialect == "sqlite" else "SHOW server_version"
            )
        ).scalar()
    header = {
        "db": f"{'SQLite' if dialect == 'sqlite' else 'PostgreSQL'} {version}",
        "dataset": dataset_size(app),
        "run": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.warmup} warm-up + "
        f"{args.repeat} timed requests per page, in-process (Flask test client), "
        "server time = the WSGI app",
    }
    if args.output:
        Path(args.output).write_text(markdown(results, header, extras))
        print("written:", args.output)


if __name__ == "__main__":
    main()
