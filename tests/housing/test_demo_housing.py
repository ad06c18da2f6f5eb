"""The demo's housing section: dwellings of the three landlords, leases for the housed demo
households with a year of rent accounts, and idempotence."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import db
from app.demo import load_demo
from app.households.models import Household
from app.housing.models import (
    Dwelling,
    Occupancy,
    ProcedureStage,
    RentAccountSnapshot,
    RepaymentPlan,
)
from app.projects.models import Project
from tests.factories import make_household


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count(model.id)))
        for model in (Dwelling, Occupancy, RentAccountSnapshot, RepaymentPlan, ProcedureStage)
    }


def test_demo_housing_is_realistic_and_idempotent(app):
    load_demo()
    if not db.session.scalar(select(func.count(Household.id))):
        # The households section may not be there yet: house a few demo-like households.
        for project in db.session.scalars(select(Project).order_by(Project.id)):
            for n in range(8):
                make_household(project, reference=f"D-{project.id}-{n:02d}", stage="maintien")
    load_demo()
    first = counts()
    load_demo()
    assert counts() == first
    assert first["Dwelling"] == 74 and first["Occupancy"] > 0
    assert first["RentAccountSnapshot"] >= 10 * first["Occupancy"]
    in_arrears = db.session.scalar(
        select(func.count(func.distinct(RentAccountSnapshot.occupancy_id))).where(
            RentAccountSnapshot.balance_cents > 0
        )
    )
    assert 0 < in_arrears < first["Occupancy"] / 2 + 1  # a minority
    assert first["ProcedureStage"] > 0 and first["RepaymentPlan"] > 0
    rents = db.session.execute(select(Dwelling.rent_cents, Dwelling.surface_m2)).all()
    assert all(abs(rent / 100 / float(surface) - 6.3) < 0.01 for rent, surface in rents)


def test_the_example_file_imports_against_the_demo(app):
    """The downloadable example matches the demo's Rhône Habitat Solidaire leases."""
    from pathlib import Path

    from app.dates import add_months, first_of_month
    from app.formatting import today_paris
    from app.housing import services
    from app.organisations.models import Organisation

    load_demo()
    if not db.session.scalar(select(func.count(Household.id))):
        for project in db.session.scalars(select(Project).order_by(Project.id)):
            for n in range(8):
                make_household(project, reference=f"D-{project.id}-{n:02d}", stage="maintien")
        load_demo()
    landlord = db.session.scalar(
        select(Organisation).where(Organisation.name == "Rhône Habitat Solidaire")
    )
    example = Path(app.static_folder, "examples", "exemple-comptes-locataires.csv").read_bytes()
    month = add_months(first_of_month(today_paris()), -1)
    report, rows = services.read_rent_accounts(landlord.id, example, month=month)
    assert report.is_valid, report.problems
    assert len(rows) == 4
