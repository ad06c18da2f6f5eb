"""Benchmark of the API's rent-account lines: 50,000 lines (one per lease) sent to
POST /api/v1/rent-account-lines in batches of 1,000, through the WSGI application (the whole
request: bearer token, rate limit, validation, the import's checks, bulk write, journal),
into a temporary SQLite database (or ``--database-url``).

    .venv/bin/python benchmarks/bench_api.py [--lines 50000] [--batch 1000] [--database-url URL]

``--database-url`` follows benchmarks/guard.py like bench_import.py (a database named for
benchmarks, emptied first only with ``--i-know-this-database-will-be-emptied``). The target
is under 60 s for the 50 batches (docs/performance.md)."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANCRAGE_INSTANCE_PATH", tempfile.mkdtemp(prefix="ancrage-bench-"))

from app import create_app
from app.db import db
from benchmarks import guard
from benchmarks.bench_import import build_leases


def batches(lines: int, size: int):
    for start in range(1, lines + 1, size):
        yield [
            {
                "lease_reference": f"BAIL-{i:07d}",
                "month": "2026-10",
                "balance_cents": (i % 7) * 48_012,
                "amount_due_cents": 48_000,
                "last_payment_on": f"2026-10-0{1 + i % 9}",
                "apl_status": "maintenue" if i % 5 else "suspendue",
            }
            for i in range(start, min(start + size, lines + 1))
        ]


def _cpu_seconds() -> float:
    """User + system CPU time of this process (the WSGI application runs in it; SQLite too,
    not a PostgreSQL server)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument(
        "--database-url", help="an empty database named for benchmarks (default: a new SQLite file)"
    )
    guard.add_flag(parser, emptied=True)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="ancrage-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    try:
        guard.check_new_dataset(url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)
    if args.allow_any_database:
        guard.empty_database(url)
    app = create_app(
        {
            "SECRET_KEY": "benchmark-" + "x" * 40,
            "MAIL_SENDER": "Ancrage benchmark <benchmark@localhost>",
            "DATABASE_URL": url,
            "API_RATE_LIMIT": "1000 per minute",
        }
    )
    with app.app_context():
        from app.api.services import create_client
        from app.formatting import today_paris

        db.create_all()
        started = time.perf_counter()
        landlord = build_leases(args.lines)
        token = create_client(
            None,
            landlord,
            name="Banc d'essai",
            scopes=["rent_accounts:write"],
            expires_on=today_paris() + timedelta(days=30),
            today=today_paris(),
        ).token
        db.session.commit()
        print(f"Préparation : {args.lines} baux créés en {time.perf_counter() - started:.1f} s")
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    load = os.getloadavg()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    slowest, sent = 0.0, 0
    for number, lines in enumerate(batches(args.lines, args.batch), start=1):
        one = time.perf_counter()
        response = client.post(
            "/api/v1/rent-account-lines",
            json={"lines": lines},
            headers={**headers, "Idempotency-Key": f"bench-{number}"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        slowest = max(slowest, time.perf_counter() - one)
        sent += response.json["lines"]
    total = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    print(
        f"{sent} lignes en {number} lots de {args.batch} : {total:.1f} s "
        f"({sent / total:,.0f} lignes/s, lot le plus lent {slowest:.2f} s), "
        f"temps CPU du processus {cpu:.1f} s ; "
        f"charge avant : {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"après : {' '.join(f'{x:.2f}' for x in os.getloadavg())} — {date.today()}"
    )
    with app.app_context():
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
