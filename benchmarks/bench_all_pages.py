"""Every GET page of the url_map, timed and counted (issue #19): the list is generated from
``app.url_map``, not written by hand, so a new page is benchmarked without anyone
remembering it — and the run fails when a page cannot be reached.

    .venv/bin/python -m benchmarks.bench_all_pages --database-url URL (--manifest PATH | --demo) \
        [--repeat 10] [--warmup 1] [--output docs/perf-all-pages-<db>.md] [--json PATH]

For each GET rule: its arguments are filled with representative ids (the manifest's typical
household; for ``<x>_id``, rows of table ``x`` of that household, else the first rows; see
``ARGUMENTS``), then the page is requested as each role of the manifest in turn (social
worker, coordinator, landlord staff, administrator) until one gets a 200. Exports are
requested after the password confirmation they ask for. A rule that no role reaches, and
that is not in ``NOT_PAGES`` with its reason, makes the run fail (exit status 1) after the
table is written.

Measured per page, as in benchmarks/bench_pages.py (same login, same timer around the WSGI
app, same statement counter): p50 and p95 server time, SQL statements, bytes of the body.
The key pages' raw-SQL floors are in bench_pages.py; this run is the wide net.
Like bench_pages, it logs in (which writes): benchmarks/guard.py refuses a database not named
for benchmarks.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench_pages, guard  # after the path above (run as a script)
from benchmarks.machine import cpu_calibration_ms, describe_machine, load_average_text

# Downloads that compute the whole country, timed a few times only (with the reason).
FEW_REPEATS = {
    "reports.export_tenancies": (
        5,
        "streams every current lease of the viewer's scope (the largest landlord's 18,775 "
        "at national scale), 500 at a time",
    ),
    "evaluation_national.export_all": (
        3,
        "every project's yearly tables computed afresh (the comparison page reads them "
        "from the cache): tens of seconds per request at national scale",
    ),
}

# The targets for every page at national scale.
TARGET_P95_MS = 100
TARGET_QUERIES = 15

# Pages allowed more than TARGET_QUERIES statements, with the reason (the CI test
# tests/benchmarks/test_bench_all_pages.py fails when any other page sends more).
OVER_QUERY_TARGET = {
    "evaluation_national.export_all": "every project's yearly tables computed afresh, one "
    "set of queries per project (administrators, once a year)",
    "evaluation_national.export_project": "one project's yearly tables and their "
    "documents computed afresh (one query per table)",
    "reports.export_tenancies": "streams the viewer's whole stock, 500 leases per batch: "
    "its statements grow with the landlord's stock, never with the country",
}

ROLES = ("social_worker", "coordinator", "landlord_staff", "admin", "anonymous")

# GET rules that are not pages a person opens, with the reason; everything else must answer.
NOT_PAGES = {
    "static": "static files (served by nginx in production)",
    "home.index": "redirects each person to their home page (measured there)",
    "health.ready": "readiness probe: answers 503 without a running scheduler's heartbeat",
    "metrics.expose": "Prometheus scrape, behind its own token (tests/test_metrics.py)",
    "agenda.feed": "calendar feed, read with its secret token by calendar applications",
    "auth.reset_password": "opened from the e-mailed link, with its one-time token",
    "auth.second_factor": "a step of the login (bench_pages.py measures logins)",
    "auth.enrol_at_login": "a step of the first login of a coordinator or an administrator",
    "auth.logout": "ends the session the benchmark uses",
    "api_v1.get_tenancies": "JSON API, called with an API client's token (benchmarks/bench_api.py)",
    "housing.import_preview": "the preview of an uploaded extract, named by its hash "
    "(benchmarks/bench_portfolio.py times it on 200,000 rows)",
}
# Arguments that are not ids of a table named after them: name -> (table, column)
ARGUMENT_TABLES: dict[str, tuple[str, str]] = {
    "stage_id": ("procedure_stage", "id"),
    "plan_id": ("repayment_plan", "id"),
    "level_id": ("intensity_level", "id"),
    "check_id": ("post_exit_check", "id"),
    "action_id": ("gla_action", "id"),
    "review_id": ("lease_review", "id"),
    "line_id": ("project_budget_line", "id"),
    "aid_id": ("household_aid", "id"),
}
# Arguments whose rows are opened only while current: rows with these columns empty first
# (a document not replaced nor deleted: the national generator replaces some certificates).
CURRENT_ROWS: dict[str, tuple[str, ...]] = {"document_id": ("replaced_at", "deleted_at")}


@dataclass
class Outcome:
    endpoint: str
    rule: str
    url: str = ""
    user: str = ""
    status: int = 0
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: int = 0
    problem: str = ""
    first: float = 0.0  # seconds: the first request (templates compiled, caches empty)

    @property
    def p50(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else 0.0

    @property
    def p95(self) -> float:
        return bench_pages.percentile(self.times, 95) * 1000 if self.times else 0.0

    @property
    def query_range(self) -> str:
        if not self.queries:
            return ""
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


def get_rules(app) -> list:
    """The GET rules of the url_map, by rule text."""
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def model_tables() -> dict:
    """Tables by table name and by model name in snake case (``Measure`` -> ``measure`` for
    the table ``support_measure``): what ``<measure_id>`` in a URL means."""
    from app.db import db

    tables = dict(db.metadata.tables)
    for mapper in db.Model.registry.mappers:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", mapper.class_.__name__).lower()
        tables.setdefault(snake, mapper.local_table)
    return tables


def _table_of(tables, argument: str):
    table_name, column = ARGUMENT_TABLES.get(argument, (argument.removesuffix("_id"), "id"))
    table = tables.get(table_name)
    return (table, column) if table is not None and column in table.c else (None, None)


def _open_reminders(conn, tables, manifest) -> list[dict]:
    """Reminders one can postpone: open ones, the social worker's first."""
    from sqlalchemy import case, select

    reminder, user = tables["reminder"], tables["user"]
    worker = select(user.c.id).where(user.c.email == manifest.social_worker).scalar_subquery()
    ids = conn.execute(
        select(reminder.c.id)
        .where(reminder.c.status == "a_faire")
        .order_by(case((reminder.c.recipient_user_id == worker, 0), else_=1), reminder.c.id)
        .limit(8)
    ).scalars()
    return [{"reminder_id": i} for i in ids]


def _coordinated_projects(conn, tables, manifest) -> list[dict]:
    """Projects the manifest's coordinator works on first (the bilan is theirs only)."""
    from sqlalchemy import case, select

    project, member, user = tables["project"], tables["project_member"], tables["user"]
    coordinator = select(user.c.id).where(user.c.email == manifest.coordinator).scalar_subquery()
    theirs = select(member.c.project_id).where(member.c.user_id == coordinator)
    ids = conn.execute(
        select(project.c.id)
        .order_by(case((project.c.id.in_(theirs), 0), else_=1), project.c.id)
        .limit(8)
    ).scalars()
    return [{"project_id": i} for i in ids]


def _own_appointments(conn, tables, manifest) -> list[dict]:
    """Appointments in the social worker's own agenda first, the typical household's and the
    planned ones before the others (an appointment opens to those who see its household)."""
    from sqlalchemy import case, select

    appointment, user = tables["appointment"], tables["user"]
    worker = select(user.c.id).where(user.c.email == manifest.social_worker).scalar_subquery()
    ids = conn.execute(
        select(appointment.c.id)
        .order_by(
            case((appointment.c.for_user_id == worker, 0), else_=1),
            case((appointment.c.household_id == manifest.typical_household_id, 0), else_=1),
            case((appointment.c.status == "prevu", 0), else_=1),
            appointment.c.id,
        )
        .limit(8)
    ).scalars()
    return [{"appointment_id": i} for i in ids]


# Arguments whose representative rows are chosen by a rule of their own.
ARGUMENT_QUERIES = {
    "reminder_id": _open_reminders,
    "project_id": _coordinated_projects,
    "appointment_id": _own_appointments,
}
# Arguments that are not ids, with their representative value (the bilan's year: this one).
FIXED_ARGUMENTS = {"year": lambda: datetime.now(UTC).year}


def _evaluation_drilldown(conn, tables, manifest) -> dict:
    """The cohort list of the coordinator's first project, this year (query arguments)."""
    from sqlalchemy import select

    from app.formatting import today_paris

    user, member = tables["user"], tables["project_member"]
    project = conn.scalar(
        select(member.c.project_id)
        .join(user, user.c.id == member.c.user_id)
        .where(user.c.email == manifest.coordinator)
        .order_by(member.c.project_id)
        .limit(1)
    )
    year = today_paris().year
    return {"table": "outcomes.status_exit", "row": "total", "projet": project, "year": year}


# Rules whose arguments are not ids (names, query strings): endpoint -> query giving one set.
ENDPOINT_ARGUMENTS = {"evaluation_drilldown.households": _evaluation_drilldown}


def household_candidates(conn, tables, manifest) -> list[int]:
    """The manifest's typical and long files, then households with a current lease and with
    a support measure (pages of the file that need one)."""
    from sqlalchemy import select

    found = [manifest.typical_household_id, manifest.long_household_id]
    # At national scale the social worker's files are in none of the coordinator's projects
    # and none of the landlord staff's dwellings: a file of each, for their pages.
    household, user = tables["household"], tables["user"]
    member, occupancy, dwelling = tables["project_member"], tables["occupancy"], tables["dwelling"]
    coordinator = select(user.c.id).where(user.c.email == manifest.coordinator).scalar_subquery()
    found += conn.execute(
        select(household.c.id)
        .where(
            household.c.project_id.in_(
                select(member.c.project_id).where(member.c.user_id == coordinator)
            ),
            household.c.anonymised_at.is_(None),
        )
        .order_by(household.c.id)
        .limit(2)
    ).scalars()
    staff = select(user.c.organisation_id).where(user.c.email == manifest.landlord_staff)
    found += conn.execute(
        select(occupancy.c.household_id)
        .join(dwelling, dwelling.c.id == occupancy.c.dwelling_id)
        .where(occupancy.c.end_on.is_(None), dwelling.c.landlord_id == staff.scalar_subquery())
        .order_by(occupancy.c.id)
        .limit(2)
    ).scalars()
    for table_name, condition in (("occupancy", "end_on"), ("measure", None)):
        table = tables[table_name]
        query = select(table.c.household_id).order_by(table.c.id).limit(3)
        if condition:
            query = query.where(table.c[condition].is_(None))
        found += conn.execute(query).scalars()
    return list(dict.fromkeys(found))


def _id_sets(conn, tables, manifest, argument: str, households: list[int], with_household):
    """[{argument: id}] or, when the page is under a household and the table has a
    household_id, [{household_id, argument}] pairs (the typical household's rows first)."""
    from sqlalchemy import case, select

    table, column = _table_of(tables, argument)
    if table is None:
        return []
    if with_household and "household_id" in table.c:
        # Rows of the candidate households first (the typical one before the others), then
        # of the social worker's own households: rows a role of the manifest may open.
        household, user = tables["household"], tables["user"]
        worker = select(user.c.id).where(user.c.email == manifest.social_worker)
        mine = select(household.c.id).where(household.c.referent_id == worker.scalar_subquery())
        first = case(
            *((table.c.household_id == h, rank) for rank, h in enumerate(households)),
            (table.c.household_id.in_(mine), len(households)),
            else_=len(households) + 1,
        )
        current = [
            case((table.c[name].is_(None), 0), else_=1) for name in CURRENT_ROWS.get(argument, ())
        ]
        rows = conn.execute(
            select(table.c.household_id, table.c[column])
            .order_by(first, *current, table.c[column])
            .limit(8)
        ).all()
        return [{"household_id": h, argument: value} for h, value in rows]
    query = select(table.c[column])
    if "project_id" in table.c:  # the coordinator's projects' rows first
        user, member = tables["user"], tables["project_member"]
        coordinator = select(user.c.id).where(user.c.email == manifest.coordinator)
        theirs = select(member.c.project_id).where(
            member.c.user_id == coordinator.scalar_subquery()
        )
        query = query.order_by(case((table.c.project_id.in_(theirs), 0), else_=1))
    if "landlord_id" in table.c:  # the landlord staff's own first
        user = tables["user"]
        staff_org = select(user.c.organisation_id).where(user.c.email == manifest.landlord_staff)
        query = query.order_by(
            case((table.c.landlord_id == staff_org.scalar_subquery(), 0), else_=1)
        )
    values = conn.execute(query.order_by(table.c[column]).limit(8)).scalars()
    return [{argument: value} for value in values]


def argument_sets(app, rule, manifest) -> list[dict]:
    """A few complete sets of arguments for ``rule``; [] when one cannot be filled."""
    from app.db import db

    if rule.endpoint in ENDPOINT_ARGUMENTS:
        with app.app_context(), db.engine.connect() as conn:
            return [ENDPOINT_ARGUMENTS[rule.endpoint](conn, model_tables(), manifest)]
    fixed, ids = {}, []
    for name in sorted(rule.arguments):
        converter = rule._converters[name]
        words = getattr(converter, "items", None)  # AnyConverter: its words
        if words:
            fixed[name] = sorted(words)[0]
        elif name.endswith("_id"):
            ids.append(name)
        elif name in FIXED_ARGUMENTS:
            fixed[name] = FIXED_ARGUMENTS[name]()
        else:
            return []
    with app.app_context(), db.engine.connect() as conn:
        tables = model_tables()
        households = household_candidates(conn, tables, manifest)
        with_household = "household_id" in ids
        others = [name for name in ids if name != "household_id"]
        sets = [{"household_id": h} for h in households] if with_household else [{}]
        for name in others:
            if name in ARGUMENT_QUERIES and not with_household:
                options = ARGUMENT_QUERIES[name](conn, tables, manifest)
            else:
                options = _id_sets(conn, tables, manifest, name, households, with_household)
            if not options:
                return []
            if with_household:  # the pairs already hold a household of that row
                sets = options
                with_household = False
            else:
                sets = [{**base, **option} for base in sets for option in options][:10]
    return [{**fixed, **values} for values in sets]


def confirm_password(client, manifest) -> None:
    """Exports ask for the password again: confirm it once per session."""
    token = bench_pages._csrf(client, "/mon-compte/confirmer")
    client.post("/mon-compte/confirmer", data={"csrf_token": token, "password": manifest.password})


def reach(app, clients: dict, rule, manifest, timer=None) -> Outcome:
    """The first (role, arguments) for which the page answers 200 (that request's time is
    the page's ``first``: a cached page computes there)."""
    outcome = Outcome(rule.endpoint, rule.rule)
    sets = argument_sets(app, rule, manifest)
    if not sets:
        outcome.problem = "no representative value for " + ", ".join(sorted(rule.arguments))
        return outcome
    seen = set()
    with app.test_request_context():
        from flask import url_for

        urls = [url_for(rule.endpoint, **values) for values in sets]
    for role in ROLES:
        client = clients[role]
        for url in urls:
            status = client.get(url).status_code
            seen.add(status)
            if status == 200:
                outcome.url, outcome.user = url, role
                outcome.first = timer.last if timer is not None else 0.0
                return outcome
    outcome.problem = f"no role got a 200 (answers: {sorted(seen)})"
    outcome.url = urls[0]
    return outcome


def measure(client, timer, engine, outcome: Outcome, warmup: int, repeat: int) -> None:
    from sqlalchemy import event

    counter = bench_pages.QueryCounter()
    for _ in range(warmup):
        client.get(outcome.url)
    event.listen(engine, "before_cursor_execute", counter)
    event.listen(engine, "after_cursor_execute", counter.finished)
    try:
        for _ in range(repeat):
            counter.count = 0
            counter.statements.clear()
            response = client.get(outcome.url)
            outcome.times.append(timer.last)
            outcome.queries.append(counter.count)
            outcome.status = response.status_code
            outcome.size = len(response.get_data())
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        event.remove(engine, "after_cursor_execute", counter.finished)


def markdown(outcomes: list[Outcome], header: dict) -> str:
    lines = [f"# All pages — {header['db']}", ""]
    lines += [f"- {k}: {v}" for k, v in header.items() if k != "db"]
    lines += [
        "",
        "| endpoint | URL | user | p50 ms | p95 ms | first ms | SQL queries | KB |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        if o.problem:
            lines.append(f"| {o.endpoint} | `{o.rule}` | — | — | — | — | — | {o.problem} |")
            continue
        lines.append(
            f"| {o.endpoint} | `{o.url}` | {o.user} | {o.p50:.1f} | {o.p95:.1f} | "
            f"{o.first * 1000:.0f} | {o.query_range} | {o.size / 1024:.1f} |"
        )
    missed = [o for o in outcomes if not o.problem and _misses(o)]
    lines += [
        "",
        f"Pages over the targets (p95 < {TARGET_P95_MS} ms, ≤ {TARGET_QUERIES} queries): "
        f"{len(missed)} of {sum(1 for o in outcomes if not o.problem)}",
        "",
    ]
    lines += [f"- {o.endpoint}: {', '.join(_misses(o))}" for o in missed]
    lines += ["", "Timed fewer times (no warm-up beyond the first request), with the reason:", ""]
    lines += [f"- `{name}`: {n} requests; {reason}" for name, (n, reason) in FEW_REPEATS.items()]
    lines += ["", "Not benchmarked, with the reason:", ""]
    lines += [f"- `{endpoint}`: {reason}" for endpoint, reason in NOT_PAGES.items()]
    return "\n".join(lines) + "\n"


def _misses(outcome: Outcome) -> list[str]:
    misses = []
    if outcome.p95 >= TARGET_P95_MS:
        misses.append(f"p95 {outcome.p95:.0f} ms")
    if max(outcome.queries, default=0) > TARGET_QUERIES:
        reason = OVER_QUERY_TARGET.get(outcome.endpoint)
        misses.append(f"{outcome.query_range} queries" + (f" ({reason})" if reason else ""))
    return misses


def log_everyone_in(app, manifest) -> dict:
    clients = {"anonymous": app.test_client()}  # the login pages
    for role in ROLES[:-1]:
        clients[role] = bench_pages.log_in(app, getattr(manifest, role), manifest)
        confirm_password(clients[role], manifest)
    return clients


def run(app, timer, manifest, warmup: int, repeat: int, only: set | None = None):
    from app.db import db

    with app.app_context():
        engine = db.engine
    clients = log_everyone_in(app, manifest)
    outcomes = []
    for rule in get_rules(app):
        if rule.endpoint in NOT_PAGES or (only and rule.endpoint not in only):
            continue
        outcome = reach(app, clients, rule, manifest, timer)
        if not outcome.problem:
            few = FEW_REPEATS.get(rule.endpoint)
            times = (0, min(repeat, few[0])) if few else (warmup, repeat)
            measure(clients[outcome.user], timer, engine, outcome, *times)
            print(
                f"{outcome.endpoint:40} p50 {outcome.p50:7.1f} ms  p95 {outcome.p95:7.1f} ms  "
                f"first {outcome.first * 1000:7.0f} ms  "
                f"queries {outcome.query_range:<6} {outcome.size / 1024:8.1f} KB  {outcome.url}",
                flush=True,
            )
        else:
            print(f"{outcome.endpoint:40} MISSING: {outcome.problem} ({rule.rule})", flush=True)
        outcomes.append(outcome)
    return outcomes


def make_app(args):
    from app import create_app

    manifest_data = json.loads(Path(args.manifest).read_text()) if args.manifest else {}
    secret_key = (
        args.secret_key or bench_pages._find(manifest_data, "secret_key") or "benchmark-" + "x" * 40
    )
    config = {
        "SECRET_KEY": secret_key,
        "MAIL_SENDER": "Ancrage benchmark <benchmark@localhost>",
        "DATABASE_URL": args.database_url,
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": None,
    }
    documents = bench_pages._find(manifest_data, "documents", "folder")
    if documents:  # the national dataset's document files (benchmarks/national.py)
        config["DOCUMENTS_FOLDER"] = documents
    app = create_app(config)
    timer = bench_pages.Timer(app.wsgi_app)
    app.wsgi_app = timer
    logging.getLogger("ancrage").setLevel(logging.WARNING)  # one line per request otherwise
    return app, timer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--manifest", help="the generator's manifest JSON")
    parser.add_argument("--demo", action="store_true", help="demo data: build the manifest")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--output", help="Markdown file for the results table")
    parser.add_argument("--json", help="JSON file: endpoint -> url, user, p50, p95, queries")
    parser.add_argument("--endpoints", help="comma-separated endpoints (default: all)")
    parser.add_argument("--secret-key", help="the generator's SECRET_KEY (default: manifest's)")
    guard.add_flag(parser, emptied=False)
    args = parser.parse_args(argv)
    try:
        guard.check_benchmark_copy(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)
    app, timer = make_app(args)
    if args.demo:
        manifest = bench_pages.demo_manifest(app)
    elif args.manifest:
        manifest = bench_pages.read_manifest(args.manifest)
    else:
        raise SystemExit("--manifest PATH or --demo")
    only = set(args.endpoints.split(",")) if args.endpoints else None
    machine_before = describe_machine()
    print(f"machine before: {machine_before}", flush=True)
    started = time.perf_counter()
    outcomes = run(app, timer, manifest, args.warmup, args.repeat, only)
    elapsed = time.perf_counter() - started
    header = {
        "db": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
        "dataset": bench_pages.dataset_size(app),
        "run": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.warmup} warm-up + "
        f"{args.repeat} timed requests per page, in-process; whole run "
        f"{elapsed:.0f} s",
        "machine before": machine_before,
        "machine after": f"load average {load_average_text()}, CPU calibration "
        f"{cpu_calibration_ms():.0f} ms (compare runs by page time / calibration)",
    }
    if args.output:
        Path(args.output).write_text(markdown(outcomes, header))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    o.endpoint: {
                        "url": o.url,
                        "user": o.user,
                        "p50_ms": round(o.p50, 2),
                        "p95_ms": round(o.p95, 2),
                        "first_ms": round(o.first * 1000, 2),
                        "queries": o.queries,
                        "bytes": o.size,
                        "problem": o.problem,
                    }
                    for o in outcomes
                },
                indent=1,
                sort_keys=True,
            )
        )
    missing = [o for o in outcomes if o.problem]
    if missing:
        print(f"{len(missing)} page(s) not reached: " + ", ".join(o.endpoint for o in missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
