"""Landlord staff's export of their followed tenancies: the dashboard's columns, typed
cells, their own leases only, audited."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.permissions import Role
from app.reports.views_tenancies import TENANCY_COLUMNS
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_snapshot,
    make_user,
)


def _world():
    landlord, other = make_landlord(name="Bailleur A"), make_landlord(name="Bailleur B")
    project = make_project(lead_landlord=landlord)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project], full_name="Léa Référente")
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    household = make_household(project, referent=worker, reference="M-EXP-1", last_name="Durand")
    lease = make_occupancy(household, make_dwelling(landlord), lease_reference="EXP-0001")
    make_snapshot(lease, date(2026, 2, 1), balance_cents=123_456, amount_due_cents=45_000)
    other_household = make_household(make_project(lead_landlord=other), reference="M-EXP-9")
    make_occupancy(other_household, make_dwelling(other), lease_reference="EXP-AUTRE")
    return staff


def test_csv_is_french_excel_with_numbers_and_own_leases_only(client):
    staff = _world()
    client.login(staff)
    response = client.get("/logements/export.csv")
    assert response.status_code == 200
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == TENANCY_COLUMNS
    assert len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["Référence du bail"] == "EXP-0001"
    assert line["Impayé"] == "1234,56"
    assert line["Mois du dernier compte"] == "01/02/2026"
    assert line["Référent·e"] == "Léa Référente"
    assert "EXP-AUTRE" not in raw.decode("utf-8-sig")
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "housing.tenancies_export")
    )
    assert entry.actor_id == staff.id and entry.details == {
        "format": "csv",
        "rows": 1,
        "filtered": False,
    }


def test_xlsx_cells_are_typed(client):
    client.login(_world())
    response = client.get("/logements/export.xlsx?statut=impaye")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    values = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert values["Impayé"].value == 1234.56
    assert values["Impayé"].number_format == '#,##0.00 "€"'
    assert values["Mois du dernier compte"].number_format == "mm/yyyy"
    assert sheet.max_row == 2
    assert client.get("/logements/export.xlsx?statut=procedure").status_code == 200
