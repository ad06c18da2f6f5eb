"""Benchmark of the rent-account import: 50,000 rows (one per lease) into a temporary SQLite
database (or ``--database-url``), timing parse + validate and the bulk write separately.

    .venv/bin/python benchmarks/bench_import.py [--rows 50000] [--xlsx] [--database-url URL]

``--database-url`` must name an empty database named for benchmarks (``ancrage_bench``,
``bench.sqlite3``…; see benchmarks/guard.py): anything else is refused (exit status 2) unless
``--i-know-this-database-will-be-emptied`` is given, which drops every table in it first.

It creates the leases first (bulk inserts, not timed), writes the landlord's CSV extract
(French headers, ``;``, decimal comma, Windows-1252), then imports it twice: the first run
creates the snapshots, the second updates them (the same month again, every balance one cent
different: the very same file sent again is recognised and changes nothing)."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANCRAGE_INSTANCE_PATH", tempfile.mkdtemp(prefix="ancrage-bench-"))

from sqlalchemy import insert, select

from app import create_app
from app.db import db
from benchmarks import guard

MONTH = date(2026, 10, 1)
TODAY = date(2026, 11, 27)


def build_leases(rows: int):
    from app.households.models import Household
    from app.housing.models import Dwelling, Occupancy
    from app.organisations.models import Organisation, OrganisationKind
    from app.projects.models import Project

    landlord = Organisation(name="Bailleur du banc d'essai", kind=OrganisationKind.BAILLEUR)
    db.session.add(landlord)
    db.session.flush()
    project = Project(
        name="Projet du banc d'essai",
        territory="Lyon",
        lead_landlord_id=landlord.id,
        funding_call="hlm_accompagnes",
    )
    db.session.add(project)
    db.session.flush()
    db.session.execute(
        insert(Household),
        [
            {
                "id": i,
                "reference": f"B-{i:06d}",
                "project_id": project.id,
                "stage": "maintien",
                "stage_since_on": date(2025, 1, 1),
            }
            for i in range(1, rows + 1)
        ],
    )
    db.session.execute(
        insert(Dwelling),
        [
            {
                "id": i,
                "landlord_id": landlord.id,
                "address": f"{i} rue du Banc",
                "postal_code": "69008",
                "city": "Lyon",
                "typology": "T3",
                "funding": "PLUS",
                "rent_cents": 41_000,
                "charges_cents": 7_000,
            }
            for i in range(1, rows + 1)
        ],
    )
    db.session.execute(
        insert(Occupancy),
        [
            {
                "household_id": i,
                "dwelling_id": i,
                "lease_type": "bail_direct",
                "lease_reference": f"BAIL-{i:07d}",
                "start_on": date(2024, 1, 1),
            }
            for i in range(1, rows + 1)
        ],
    )
    db.session.commit()
    return db.session.scalar(select(Organisation).where(Organisation.id == landlord.id))


def extract_csv(rows: int, shift: int = 0) -> bytes:
    lines = [
        "Référence du bail;Mois;Solde;Loyer et charges du mois;Date du dernier paiement;APL;"
        "Date de signalement CAF"
    ]
    for i in range(1, rows + 1):
        debt = (i % 7) * 480
        lines.append(
            f"BAIL-{i:07d};2026-10;{debt:_}".replace("_", " ")
            + f",{(i + shift) % 100:02d};480,00;0{1 + i % 9}/10/2026;"
            + ("maintenue" if i % 5 else "suspendue")
            + (";15/10/2026" if debt >= 960 else ";")
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def extract_xlsx(rows: int, shift: int = 0) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Référence du bail", "Mois", "Solde", "Loyer et charges du mois"])
    for i in range(1, rows + 1):
        sheet.append([f"BAIL-{i:07d}", "2026-10", (i % 7) * 480.5 + shift / 100, 480.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--xlsx", action="store_true", help="import an XLSX file instead of CSV")
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
        from app.housing import services

        db.create_all()
        started = time.perf_counter()
        landlord = build_leases(args.rows)
        print(f"Préparation : {args.rows} baux créés en {time.perf_counter() - started:.1f} s")
        extract = extract_xlsx if args.xlsx else extract_csv
        kind = "XLSX" if args.xlsx else "CSV Windows-1252"
        # The second extract moves every balance by one cent: re-sending the very same file
        # is recognised and changes nothing, so it would measure nothing.
        for shift, label in ((0, "Premier import (création)"), (1, "Second import (mise à jour)")):
            content = extract(args.rows, shift)
            print(f"Fichier {kind} : {len(content) / 1e6:.1f} Mo, {args.rows} lignes")
            started = time.perf_counter()
            report, _values = services.read_rent_accounts(
                landlord.id, content, month=MONTH, today=TODAY
            )
            parse = time.perf_counter() - started
            assert report.is_valid, report.problems[:5] or report.file_problems
            started = time.perf_counter()
            report = services.import_rent_accounts(
                None, landlord, content=content, month=MONTH, today=TODAY, via="benchmark"
            )
            db.session.commit()
            total = time.perf_counter() - started
            print(
                f"{label} : {total:.2f} s au total (lecture + validation {parse:.2f} s, "
                f"écriture ≈ {total - parse:.2f} s) — {report.created} créées, "
                f"{report.updated} mises à jour"
            )
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
