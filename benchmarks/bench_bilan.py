"""The yearly bilan on the national dataset (issue #18): the bilan page of the largest
project computed and from the cache, its DOCX and PDF, the project's national export, the
administrators' comparison page and a drill-down, timed and counted.

    .venv/bin/python -m benchmarks.bench_bilan --database-url URL --manifest PATH \
        [--repeat 10] [--warmup 1] [--year 2026] [--output FILE.md]

The manifest's coordinator is the coordinator of the largest project (benchmarks/national.py
picks the project with the most households); the script checks it and stops otherwise.
Measured as bench_pages.py does (same login, same timer around the WSGI app, same statement
counter): p50 and p95 server time, SQL statements, body size.

- **computed**: the bilan page with the project's cache entries deleted before each request
  (outside the timer): every provider for the year and the previous year, the cache write,
  the render.
- **recalculer**: "Recalculer maintenant" (``?recalculer=1``): the same computation and
  cache write, then the redirect (no render).
- **cached**: the page again, its entry fresh.
- DOCX and PDF: from the fresh entry (a download after the page computes nothing).
- Then, outside any request, each provider timed apart for both years (``collect``'s
  parts): where the computed page's time goes.

It logs in and writes cache entries: benchmarks/guard.py wants a database named for
benchmarks.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench_all_pages, bench_pages, guard  # after the path above

SLOWEST = [0]


def _clear_cache(app) -> None:
    from sqlalchemy import delete

    from app.db import db
    from app.reports.models import IndicatorCache

    with app.app_context():
        db.session.execute(delete(IndicatorCache))
        db.session.commit()


def _measure(client, timer, engine, url, repeat, warmup, before=None, expected=200):
    from sqlalchemy import event

    counter = bench_pages.QueryCounter()
    times, queries, size = [], [], 0
    for _ in range(warmup):
        if before:
            before()
        client.get(url)
    event.listen(engine, "before_cursor_execute", counter)
    event.listen(engine, "after_cursor_execute", counter.finished)
    try:
        for _ in range(repeat):
            if before:
                before()
            counter.count = 0
            counter.statements.clear()
            response = client.get(url)
            if response.status_code != expected:
                raise SystemExit(f"{url}: {response.status_code}, expected {expected}")
            times.append(timer.last)
            queries.append(counter.count)
            size = len(response.get_data())
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        event.remove(engine, "after_cursor_execute", counter.finished)
    if SLOWEST[0]:  # --slowest N: the last request's slowest statements
        for line in sorted(counter.statements, reverse=True)[: SLOWEST[0]]:
            print("   ", " ".join(line.split())[:240])
    return times, queries, size


def _line(name, url, times, queries, size) -> dict:
    low, high = min(queries), max(queries)
    row = {
        "name": name,
        "url": url,
        "p50": statistics.median(times) * 1000,
        "p95": bench_pages.percentile(times, 95) * 1000,
        "queries": str(low) if low == high else f"{low}–{high}",
        "kb": size / 1024,
    }
    print(
        f"{name:38} p50 {row['p50']:8.1f} ms  p95 {row['p95']:8.1f} ms  "
        f"queries {row['queries']:<6} {row['kb']:8.1f} KB  {url}",
        flush=True,
    )
    return row


def largest_project(app) -> tuple[int, int]:
    from sqlalchemy import func, select

    from app.db import db
    from app.households.models import Household

    with app.app_context():
        return db.session.execute(
            select(Household.project_id, func.count())
            .group_by(Household.project_id)
            .order_by(func.count().desc(), Household.project_id)
            .limit(1)
        ).one()


def time_providers(app, project_id: int, year: int) -> list[str]:
    """Each registered provider alone, for the year and the previous one."""
    from app.db import db
    from app.evaluation import tables
    from app.formatting import today_paris

    lines = []
    with app.app_context():
        scope = tables.EvaluationScope((project_id,), year, today_paris())
        for func in tables._PROVIDERS:
            spent = []
            for s in (scope, scope.previous_year()):
                started = time.perf_counter()
                func(db.session, s)
                spent.append((time.perf_counter() - started) * 1000)
            name = f"{func.__module__}.{func.__name__}"
            lines.append(f"{name}: {spent[0]:.0f} ms ({year}) + {spent[1]:.0f} ms ({year - 1})")
            print(f"  provider {lines[-1]}", flush=True)
        db.session.rollback()
    return lines


def run(app, timer, manifest, project_id: int, year: int, repeat: int, warmup: int):
    from app.db import db

    with app.app_context():
        engine = db.engine
    coordinator = bench_pages.log_in(app, manifest.coordinator, manifest)
    bench_all_pages.confirm_password(coordinator, manifest)
    admin = bench_pages.log_in(app, manifest.admin, manifest)
    page = f"/evaluation/bilan/projet/{project_id}?annee={year}"
    rows = []

    def clear():
        _clear_cache(app)

    rows.append(
        _line(
            "bilan page, computed (cache empty)",
            page,
            *_measure(coordinator, timer, engine, page, repeat, warmup, before=clear),
        )
    )
    refresh = page + "&recalculer=1"
    rows.append(
        _line(
            "bilan, Recalculer (compute + 302)",
            refresh,
            *_measure(coordinator, timer, engine, refresh, repeat, warmup, expected=302),
        )
    )
    rows.append(
        _line("bilan page, cached", page, *_measure(coordinator, timer, engine, page, repeat, 1))
    )
    for fmt in ("docx", "pdf"):
        url = f"/evaluation/bilan/projet/{project_id}/{year}/bilan.{fmt}"
        rows.append(
            _line(
                f"bilan {fmt.upper()} (cached figures)",
                url,
                *_measure(coordinator, timer, engine, url, repeat, warmup),
            )
        )
    for label, y in (("last year, the default", year - 1), ("this year", year)):
        url = f"/evaluation/nationale/projets/{project_id}/export.zip?annee={y}"
        rows.append(
            _line(
                f"national export ({label})",
                url,
                *_measure(coordinator, timer, engine, url, repeat, warmup),
            )
        )
    url = "/evaluation/comparaison"
    rows.append(
        _line(
            "comparison page (admin, 6 projects)",
            url,
            *_measure(admin, timer, engine, url, repeat, warmup),
        )
    )
    url = f"/evaluation/menages/outcomes.status_exit/total?projet={project_id}&year={year}"
    rows.append(
        _line(
            "drill-down (exits, total)",
            url,
            *_measure(coordinator, timer, engine, url, repeat, warmup),
        )
    )
    return rows


def markdown(rows, header: dict, providers: list[str]) -> str:
    lines = [f"# Bilan benchmark — {header['db']}", ""]
    lines += [f"- {k}: {v}" for k, v in header.items() if k != "db"]
    lines += [
        "",
        "| request | URL | p50 ms | p95 ms | SQL queries | KB |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | `{r['url']}` | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['queries']} | {r['kb']:.1f} |"
        )
    lines += ["", "Providers alone (one run each):", ""]
    lines += [f"- {line}" for line in providers]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--manifest", required=True, help="the generator's manifest JSON")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--year", type=int, default=datetime.now(UTC).year)
    parser.add_argument("--output", help="Markdown file for the results table")
    parser.add_argument("--slowest", type=int, default=0, help="print N slowest statements")
    parser.add_argument("--secret-key", help="the generator's SECRET_KEY (default: manifest's)")
    guard.add_flag(parser, emptied=False)
    args = parser.parse_args(argv)
    args.demo = False
    SLOWEST[0] = args.slowest
    try:
        guard.check_benchmark_copy(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)
    app, timer = bench_all_pages.make_app(args)
    manifest = bench_pages.read_manifest(args.manifest)
    project_id, households = largest_project(app)
    theirs = (manifest.extra.get("coordinator") or {}).get("project_id")
    if theirs != project_id:
        raise SystemExit(
            f"the manifest's coordinator is of project {theirs}, "
            f"the largest is {project_id} ({households} households)"
        )
    load = os.getloadavg()
    print(f"project {project_id}: {households} households; load {load}", flush=True)
    started = time.perf_counter()
    rows = run(app, timer, manifest, project_id, args.year, args.repeat, args.warmup)
    providers = time_providers(app, project_id, args.year)
    _clear_cache(app)
    after = os.getloadavg()
    header = {
        "db": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
        "dataset": bench_pages.dataset_size(app),
        "project": f"{project_id} ({households:,} households), year {args.year}",
        "run": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.warmup} warm-up + "
        f"{args.repeat} timed requests each, in-process; whole run "
        f"{time.perf_counter() - started:.0f} s",
        "load average": f"{' '.join(f'{x:.2f}' for x in load)} before, "
        f"{' '.join(f'{x:.2f}' for x in after)} after",
    }
    text = markdown(rows, header, providers)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
