"""Benchmark of a whole-portfolio extract: 200,000 rows (the landlord's whole stock, as its
ERP's reporting tool exports it) of which 20,000 are leases followed in Ancrage, into a
temporary SQLite database (or ``--database-url``). Prints the figures; not a timed test.

    .venv/bin/python benchmarks/bench_portfolio.py [--rows 200000] [--followed 20000]
        [--database-url URL] [--tracemalloc]

The extract is the realistic one: Windows-1252, ``;``, ERP headers (N° contrat, Période,
Quittancement, Solde débiteur…), references in another case or with leading zeros, amounts
with no-break spaces and negatives as ``123,45-`` or ``(123,45)``, dates ``dd.mm.yyyy`` or
with a time. Three runs, as landlord staff go: the preview (read, validate, count: what the
preview page does before any lock), the import of the same file (read and validate again,
then the bulk write: what "Importer" does), and the next month's file. The worker's peak
memory is ``resource.getrusage`` (whole process, high-water mark), or with
``--tracemalloc`` the Python allocations' peak of each run (slower). ``--database-url``
follows benchmarks/guard.py like bench_import."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANCRAGE_INSTANCE_PATH", tempfile.mkdtemp(prefix="ancrage-bench-"))

from app import create_app
from app.db import db
from benchmarks import guard
from benchmarks.bench_import import build_leases

TODAY = date(2026, 12, 7)


def _euros(cents: int, n: int) -> str:
    whole, rest = divmod(abs(cents), 100)
    text = f"{whole:,}".replace(",", "\u00a0") + f",{rest:02d}"
    if cents >= 0:
        return text
    return (f"-{text}", f"{text}-", f"({text})")[n % 3]


def portfolio_csv(rows: int, followed: int, month: int) -> bytes:
    every = max(rows // followed, 1)
    lines = [
        "N° contrat;Nom du locataire;Période;Quittancement;Règlements;Solde débiteur;"
        "Date dernier règlement;APL"
    ]
    lease = 0
    for n in range(rows):
        if n % every == 0 and lease < followed:
            lease += 1
            reference = (f"bail-{lease:07d}", f"BAIL-{lease:09d}", f" BAIL-{lease:07d} ")[n % 3]
        else:
            reference = f"RH-{n:07d}"
        balance = (n * 7919 + month) % 300_000 - 30_000
        period = f"01.{month:02d}.2026" if n % 2 else f"{28:02d}/{month:02d}/2026 00:00:00"
        lines.append(
            f"{reference};Locataire {n};{period};{_euros(48_000 + n % 500, n)};"
            f"{_euros(20_000, n)};{_euros(balance, n)};0{1 + n % 9}.{month:02d}.2026;"
            + ("oui" if n % 4 else "non")
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(label: str, action, traced: bool):
    if traced:
        tracemalloc.start()
    started, cpu = time.perf_counter(), _cpu()
    result = action()
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    traced_peak = tracemalloc.get_traced_memory()[1] / 1e6 if traced else None
    if traced:
        tracemalloc.stop()
    memory = f"pic Python {traced_peak:.0f} Mo" if traced else f"pic RSS {_peak_mb():.0f} Mo"
    print(f"{label} : {elapsed:.2f} s, dont {cpu:.2f} s de CPU du processus ({memory})")
    print(f"    charge de la machine : {os.getloadavg()[0]:.1f}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--followed", type=int, default=20_000)
    parser.add_argument("--tracemalloc", action="store_true")
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
        }
    )
    with app.app_context():
        from app.housing import rent_import, services

        db.create_all()
        started = time.perf_counter()
        landlord = build_leases(args.followed)
        print(f"Préparation : {args.followed} baux suivis en {time.perf_counter() - started:.1f} s")
        print(f"Charge de la machine (1, 5, 15 min) : {os.getloadavg()}, {os.cpu_count()} CPU")
        print(f"Mémoire au départ : pic RSS {_peak_mb():.0f} Mo")
        for month in (10, 11):
            content = portfolio_csv(args.rows, args.followed, month)
            size = f"{len(content) / 1e6:.1f} Mo"
            print(f"Extrait {month:02d}/2026 : {args.rows} lignes, CSV Windows-1252, {size}")
            report = _run(
                "  Aperçu (lecture, validation, comptes)",
                lambda content=content: rent_import.preview_rent_accounts(
                    landlord, content, today=TODAY
                ),
                args.tracemalloc,
            )
            assert report.is_valid, report.problems[:3] or report.file_problems
            report = _run(
                "  Import (lecture, validation, écriture, commit)",
                lambda content=content: (
                    services.import_rent_accounts(
                        None, landlord, content=content, today=TODAY, via="benchmark"
                    ),
                    db.session.commit(),
                )[0],
                args.tracemalloc,
            )
            print(
                f"  {report.created} créés, {report.updated} mis à jour, "
                f"{report.unchanged} inchangés, {report.out_of_programme} hors programme"
            )
        db.session.remove()
        db.engine.dispose()
    print(f"Pic mémoire du processus (RSS) : {_peak_mb():.0f} Mo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
