"""Time one reminder sweep over 10,000 households and 500,000 interventions on SQLite.

    .venv/bin/python benchmarks/bench_sweep.py [--households 10000] [--interventions 50]

Builds the dataset in a temporary SQLite file with bulk inserts and a fixed seed (every
household supported, with a lease; a quarter in bail glissant; rent accounts for a year,
arrears and procedures for some), runs one sweep, then a second one (which must create
nothing), and prints the times. The figure goes into docs/reminders.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def build(households: int, per_household: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from app.db import db
    from app.households.models import Household
    from app.housing.models import (
        Dwelling,
        GlaAction,
        LeaseReview,
        Occupancy,
        ProcedureStage,
        RentAccountSnapshot,
    )
    from app.interventions.models import Intervention
    from app.organisations.models import Organisation
    from app.projects.models import Project
    from app.support.models import IntensityLevel, Measure
    from app.users.models import User, UserRole

    def bulk(model, rows):
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(model), rows[start : start + 20_000])

    bulk(Organisation, [{"id": 1, "name": "Bailleur", "kind": "bailleur"}])
    bulk(Organisation, [{"id": 2, "name": "Association", "kind": "association"}])
    bulk(
        Project,
        [
            {
                "id": 1,
                "name": "Projet",
                "territory": "Lyon",
                "lead_landlord_id": 1,
                "funding_call": "hlm_accompagnes",
                "convention_start_on": date(2024, 1, 1),
                "convention_end_on": date(2027, 12, 31),
                "target_households": households,
            }
        ],
    )
    workers = 250
    bulk(
        User,
        [
            {
                "id": i,
                "email": f"ts{i}@exemple.fr",
                "full_name": f"TS {i}",
                "organisation_id": 2,
                "password_hash": "x",
            }
            for i in range(1, workers + 1)
        ],
    )
    bulk(UserRole, [{"user_id": i, "role": "travailleur_social"} for i in range(1, workers + 1)])
    bulk(
        IntensityLevel,
        [
            {
                "id": 1,
                "project_id": 1,
                "name": "Renforcée",
                "contact_every_days": 7,
                "caseload_weight": 2,
            },
            {
                "id": 2,
                "project_id": 1,
                "name": "Soutenue",
                "contact_every_days": 14,
                "caseload_weight": 1.5,
            },
            {
                "id": 3,
                "project_id": 1,
                "name": "Modérée",
                "contact_every_days": 30,
                "caseload_weight": 1,
            },
        ],
    )
    ids = range(1, households + 1)
    bulk(
        Household,
        [
            {
                "id": h,
                "reference": f"M-{h:06d}",
                "project_id": 1,
                "referent_id": rng.randint(1, workers),
                "stage": "maintien",
                "stage_since_on": date(2024, 6, 1),
            }
            for h in ids
        ],
    )
    starts = {h: TODAY - timedelta(days=rng.randint(30, 700)) for h in ids}
    bulk(
        Measure,
        [
            {
                "id": h,
                "household_id": h,
                "type": "hlm_accompagnes",
                "referent_id": None,
                "intensity_level_id": rng.randint(1, 3),
                "start_on": starts[h],
                "planned_end_on": starts[h] + timedelta(days=rng.randint(300, 800)),
                "next_review_on": TODAY + timedelta(days=rng.randint(-20, 90)),
            }
            for h in ids
        ],
    )
    interventions = []
    for h in ids:
        span = (TODAY - starts[h]).days
        for _ in range(per_household):
            interventions.append(
                {
                    "household_id": h,
                    "occurred_on": starts[h] + timedelta(days=rng.randint(0, span)),
                    "mode": rng.choice(
                        ("visite_domicile", "telephone", "bureau", "rdv_non_honore")
                    ),
                    "author_id": 1,
                }
            )
    bulk(Intervention, interventions)
    bulk(
        Dwelling,
        [
            {
                "id": h,
                "landlord_id": 1,
                "address": f"{h} rue des Tilleuls",
                "postal_code": "69008",
                "city": "Lyon",
                "typology": "T2",
                "funding": "PLAI",
                "rent_cents": 38_000,
                "charges_cents": 6_000,
            }
            for h in ids
        ],
    )
    glissant = {h for h in ids if h % 4 == 0}
    bulk(
        Occupancy,
        [
            {
                "id": h,
                "household_id": h,
                "dwelling_id": h,
                "lease_type": "bail_glissant" if h in glissant else "bail_direct",
                "start_on": starts[h],
                "glissement_target_on": starts[h] + timedelta(days=730) if h in glissant else None,
            }
            for h in ids
        ],
    )
    bulk(
        LeaseReview,
        [
            {"occupancy_id": h, "held_on": starts[h] + timedelta(days=180), "decision": "poursuite"}
            for h in glissant
            if (TODAY - starts[h]).days > 190
        ],
    )
    months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(2, 14)]  # Mar 2025–Feb 2026
    snapshots = []
    for h in ids:
        debt = 0
        in_arrears = h % 10 == 0
        for month in months:
            debt = max(0, debt + (rng.randint(0, 30_000) if in_arrears else -10_000))
            snapshots.append(
                {
                    "occupancy_id": h,
                    "month": month,
                    "balance_cents": debt,
                    "amount_due_cents": 44_000,
                }
            )
    bulk(RentAccountSnapshot, snapshots)
    bulk(
        ProcedureStage,
        [
            {
                "occupancy_id": h,
                "stage": rng.choice(("commandement_payer", "assignation", "commandement_quitter")),
                "occurred_on": TODAY - timedelta(days=rng.randint(10, 120)),
            }
            for h in ids
            if h % 20 == 0
        ],
    )
    bulk(
        GlaAction,
        [
            {
                "occupancy_id": h,
                "kind": "attestation_assurance",
                "done_on": TODAY - timedelta(days=rng.randint(0, 400)),
            }
            for h in ids
            if h % 2 == 0
        ],
    )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--interventions", type=int, default=50, help="per household")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="ancrage-bench-")
    os.environ["ANCRAGE_INSTANCE_PATH"] = folder
    from sqlalchemy import func, select

    from app import create_app
    from app.db import db
    from app.reminders.jobs import sweep
    from app.reminders.models import Reminder

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-secret-key-long-enough-0123456789",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        }
    )
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        build(args.households, args.interventions, random.Random(20260310))  # noqa: S311
        built = time.perf_counter() - started
        total = args.households * args.interventions
        print(f"dataset: {args.households:,} households, {total:,} interventions ({built:.1f} s)")
        for label in ("first sweep", "second sweep (nothing new)"):
            started = time.perf_counter()
            summary = sweep(NOW)
            db.session.commit()
            elapsed = time.perf_counter() - started
            print(
                f"{label}: {elapsed:.2f} s — {summary['created']} created, "
                f"{summary['closed']} closed"
            )
        per_rule = db.session.execute(
            select(Reminder.rule_code, func.count()).group_by(Reminder.rule_code)
        ).all()
        print("reminders per rule: " + ", ".join(f"{code} {n}" for code, n in sorted(per_rule)))


if __name__ == "__main__":
    main()
