"""The landlord dashboard's derived per-lease figures (``tenancy_figures``) follow their
sources whichever way those are written: the ORM (services, demo data), the rent-account
import (bulk upsert) — and the dashboard reads them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from app.db import db
from app.housing import services
from app.housing.models import (
    Occupancy,
    ProcedureStage,
    TenancyFigures,
    _figures_select,
)
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_procedure_stage,
    make_project,
    make_repayment_plan,
    make_snapshot,
    make_user,
    rent_account_csv,
)

TODAY = date(2026, 11, 27)


@pytest.fixture
def lease(app):
    landlord = make_landlord(name="Bailleur chiffres")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    household = make_household(project, reference="FIG-0001")
    occupancy = make_occupancy(household, make_dwelling(landlord), lease_reference="FIG-B1")
    return {"landlord": landlord, "staff": staff, "occupancy": occupancy}


def stored(occupancy_id: int) -> tuple | None:
    db.session.expire_all()
    row = db.session.get(TenancyFigures, occupancy_id)
    if row is None:
        return None
    return (row.balance_cents, row.amount_due_cents, row.procedure_stage, row.has_running_plan)


def recomputed(occupancy_id: int) -> tuple:
    row = db.session.execute(_figures_select([occupancy_id])).one()
    return (row[1], row[2], row[3], bool(row[4]))


def test_orm_writes_keep_the_figures_of_their_lease(lease):
    occupancy = lease["occupancy"]
    make_snapshot(occupancy, date(2026, 9, 1), balance_cents=10_000, amount_due_cents=45_000)
    make_snapshot(occupancy, date(2026, 10, 1), balance_cents=88_000, amount_due_cents=45_000)
    assert stored(occupancy.id) == (88_000, 45_000, None, False)

    plan = make_repayment_plan(occupancy)
    make_procedure_stage(occupancy, "commandement_payer", date(2026, 10, 20))
    make_procedure_stage(occupancy, "saisine_ccapex", date(2026, 8, 20))
    assert stored(occupancy.id) == (88_000, 45_000, "commandement_payer", True)

    services.set_repayment_plan_status(
        lease["staff"], plan, version=plan.version, status="rompu", household_id=1
    )
    assert stored(occupancy.id)[3] is False

    # A deleted stage (e.g. recorded by mistake and removed by an administrator).
    latest = db.session.scalar(
        select(ProcedureStage).where(ProcedureStage.stage == "commandement_payer")
    )
    db.session.delete(latest)
    db.session.flush()
    assert stored(occupancy.id) == (88_000, 45_000, "saisine_ccapex", False)
    assert stored(occupancy.id) == recomputed(occupancy.id)


def test_the_import_refreshes_the_figures_and_the_dashboard_shows_them(client, lease):
    occupancy = lease["occupancy"]
    make_snapshot(occupancy, date(2026, 9, 1), balance_cents=0)
    db.session.commit()
    client.login(lease["staff"])
    assert "FIG-0001" in page(client.get("/logements/?statut=a_jour"))
    assert "FIG-0001" not in page(client.get("/logements/?statut=impaye"))

    content = rent_account_csv("FIG-B1;2026-10;1320,50;440;;;")
    services.import_rent_accounts(lease["staff"], lease["landlord"], content=content, today=TODAY)
    db.session.commit()
    assert stored(occupancy.id) == (132_050, 44_000, None, False)
    assert "FIG-0001" not in page(client.get("/logements/?statut=a_jour"))
    in_arrears = page(client.get("/logements/?statut=impaye"))
    assert "FIG-0001" in in_arrears and "3 mois" in in_arrears  # 1,320.50 € for 440 € a month


def test_every_lease_of_the_demo_data_has_its_figures_right(app):
    from app.demo import load_demo

    load_demo()
    db.session.commit()
    ids = list(db.session.scalars(select(Occupancy.id)))
    assert ids
    expected = {
        row[0]: (row[1], row[2], row[3], bool(row[4]))
        for row in db.session.execute(_figures_select(ids))
    }
    actual = {
        f.occupancy_id: (f.balance_cents, f.amount_due_cents, f.procedure_stage, f.has_running_plan)
        for f in db.session.scalars(select(TenancyFigures))
    }
    some_debt = [v for v in expected.values() if (v[0] or 0) > 0]
    assert some_debt, "the demo data should hold leases in arrears"
    assert actual == {k: v for k, v in expected.items() if k in actual}
    # Leases with no rent account, stage or plan may have no row: the dashboard reads zeros.
    assert all(expected[k] == (None, None, None, False) for k in set(expected) - set(actual))


def test_without_figures_a_lease_shows_as_up_to_date(client, lease):
    db.session.execute(delete(TenancyFigures))
    db.session.commit()
    client.login(lease["staff"])
    assert "FIG-0001" in page(client.get("/logements/?statut=a_jour"))
