"""The landlord's monthly extract: parsing (encodings, decimal comma, XLSX), validation with
line numbers, all or nothing, idempotent re-import, organisation scope, audit, web and CLI."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.housing import services
from app.housing.models import RentAccountSnapshot
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    RENT_ACCOUNT_HEADER,
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
    rent_account_csv,
)
from tests.housing.import_steps import confirm, upload

TODAY = date(2026, 11, 27)


@pytest.fixture
def leases(app):
    landlord = make_landlord(name="Bailleur importateur")
    other_landlord = make_landlord(name="Bailleur voisin")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    mine = {
        ref: make_occupancy(make_household(project), make_dwelling(landlord), lease_reference=ref)
        for ref in ("B-001", "B-002", "B-003")
    }
    foreign = make_occupancy(
        make_household(make_project(lead_landlord=other_landlord)),
        make_dwelling(other_landlord),
        lease_reference="V-999",
    )
    return {"landlord": landlord, "staff": staff, "mine": mine, "foreign": foreign}


def run_import(leases, content, month=None):
    return services.import_rent_accounts(
        leases["staff"], leases["landlord"], content=content, month=month, today=TODAY
    )


def snapshots() -> list[RentAccountSnapshot]:
    return list(db.session.scalars(select(RentAccountSnapshot).order_by(RentAccountSnapshot.id)))


def test_csv_with_decimal_comma_and_french_dates_is_imported(leases):
    report = run_import(
        leases,
        rent_account_csv(
            "B-001;2026-10;1 234,56;412,80;15/10/2026;maintenue;",
            "B-002;10/2026;-20,5;500;;suspendue;02/09/2026",
            "B-003;2026-10;0;389;03/10/2026;;",
        ),
    )
    assert (report.rows, report.created, report.updated) == (3, 3, 0)
    by_ref = {s.occupancy_id: s for s in snapshots()}
    first = by_ref[leases["mine"]["B-001"].id]
    assert first.month == date(2026, 10, 1)
    assert (first.balance_cents, first.amount_due_cents) == (123_456, 41_280)
    assert first.last_payment_on == date(2026, 10, 15) and first.apl_status == "maintenue"
    assert str(first.months_of_arrears) == "3.0"
    second = by_ref[leases["mine"]["B-002"].id]
    assert second.balance_cents == -2_050 and second.caf_reported_on == date(2026, 9, 2)
    assert second.apl_status == "suspendue"


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)]
)
def test_utf8_with_or_without_bom_and_windows_1252_are_read(leases, encoding, bom):
    content = rent_account_csv("B-001;2026-10;100;400;;;", encoding=encoding, bom=bom)
    report = run_import(leases, content)
    assert report.created == 1


def test_windows_1252_accents_in_headers_and_values_are_decoded(leases):
    content = rent_account_csv("B-001;2026-10;100;400;;Suspendue;", encoding="cp1252")
    assert b"R\xe9f\xe9rence" in content  # really Windows-1252
    run_import(leases, content)
    assert snapshots()[0].apl_status == "suspendue"


def test_xlsx_is_read_in_read_only_mode(leases):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(RENT_ACCOUNT_HEADER.split(";"))
    sheet.append(["B-001", "2026-10", 812.4, 406.2, date(2026, 10, 3), "maintenue", None])
    sheet.append(["B-002", date(2026, 10, 1), "0", "450,00", None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(leases, buffer.getvalue())
    assert report.file_format == "xlsx" and report.created == 2
    first = next(s for s in snapshots() if s.occupancy_id == leases["mine"]["B-001"].id)
    assert first.balance_cents == 81_240 and first.last_payment_on == date(2026, 10, 3)


def test_missing_columns_are_named_and_nothing_is_read(leases):
    content = rent_account_csv("B-001;2026-10", header="Référence du bail;Mois")
    with pytest.raises(services.ImportRejected) as rejected:
        run_import(leases, content)
    assert rejected.value.report.file_problems == [
        "Colonnes obligatoires absentes : Solde, Loyer et charges du mois."
    ]


def test_a_comma_separated_file_is_read_with_its_separator(leases):
    content = rent_account_csv(
        'B-001,2026-10,"1 234,50",412', header="Référence du bail,Mois,Solde,Quittancement"
    )
    report = run_import(leases, content)
    assert (report.rows, report.created) == (1, 1)
    assert snapshots()[0].balance_cents == 123_450


def test_every_bad_row_is_listed_with_its_line_and_nothing_is_written(leases):
    content = rent_account_csv(
        "B-001;2026-10;100;400;;;",  # line 2: fine
        "INCONNUE;2026-10;100;400;;;",  # 3: a lease Ancrage does not follow, set aside
        "V-999;2026-10;100;400;;;",  # 4: another landlord's lease: set aside like line 3
        "B-002;2026-10;douze;400;;;",  # 5
        "B-003;2026-10;100;400;31/02/2026;;",  # 6: impossible date
        "B-001;2026-10;150;400;;;",  # 7: duplicate of line 2
        ";2026-10;100;400;;;",  # 8
        "B-002;2026-13;100;-400;;peut-être;",  # 9
    )
    with pytest.raises(services.ImportRejected) as rejected:
        run_import(leases, content)
    problems = {p.line: p.reason for p in rejected.value.report.problems}
    assert set(problems) == {5, 6, 7, 8, 9}
    # Another landlord's lease is not named as such (that would confirm their tenant is
    # supported): to this landlord it is a lease Ancrage does not follow.
    assert rejected.value.report.out_of_programme == 2
    assert "solde illisible (« douze »" in problems[5]
    assert "date du dernier paiement illisible ou impossible" in problems[6]
    assert "ligne en double : ce bail et ce mois figurent déjà ligne 2" in problems[7]
    assert "référence du bail manquante" in problems[8]
    assert "mois illisible" in problems[9] and "APL illisible" in problems[9]
    assert "ne peuvent pas être négatifs" in problems[9]
    assert rejected.value.message.startswith("5 lignes à corriger : rien n'a été importé.")
    assert snapshots() == []


def test_another_landlords_lease_is_never_touched(leases):
    with pytest.raises(services.ImportRejected) as rejected:  # nothing of this landlord's
        run_import(leases, rent_account_csv("V-999;2026-10;5000;400;;;"))
    assert rejected.value.report.out_of_programme == 1
    assert not any("autre bailleur" in p.reason for p in rejected.value.report.problems)
    assert db.session.scalar(select(func.count(RentAccountSnapshot.id))) == 0


def test_the_chosen_month_applies_without_a_month_column_and_must_match_it(leases):
    header = "Référence du bail;Solde;Loyer et charges du mois"
    report = run_import(
        leases, rent_account_csv("B-001;100;400", header=header), month=date(2026, 9, 1)
    )
    assert report.months == (date(2026, 9, 1),)
    with pytest.raises(services.ImportRejected) as rejected:
        run_import(leases, rent_account_csv("B-001;2026-10;100;400;;;"), month=date(2026, 9, 1))
    assert "n'est pas le mois choisi" in rejected.value.report.problems[0].reason


def test_a_month_in_the_future_or_before_the_lease_is_refused(leases):
    with pytest.raises(services.ImportRejected) as rejected:
        run_import(leases, rent_account_csv("B-001;2026-12;100;400;;;", "B-002;2024-01;100;400;;;"))
    reasons = [p.reason for p in rejected.value.report.problems]
    assert "mois dans le futur" in reasons[0]
    assert "le bail commence le 1 février 2025" in reasons[1]


def test_importing_the_same_month_again_updates_instead_of_duplicating(leases):
    run_import(leases, rent_account_csv("B-001;2026-10;100;400;;;", "B-002;2026-10;0;400;;;"))
    report = run_import(
        leases, rent_account_csv("B-001;2026-10;250,5;400;;;", "B-003;2026-10;0;400;;;")
    )
    assert (report.created, report.updated) == (1, 1)
    rows = snapshots()
    assert len(rows) == 3
    first = next(s for s in rows if s.occupancy_id == leases["mine"]["B-001"].id)
    assert first.balance_cents == 25_050


def test_the_import_is_audited_with_counts_only(leases):
    run_import(leases, rent_account_csv("B-001;2026-10;987,65;400;;;"))
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "rent_accounts.imported")
    ).one()
    assert entry.actor_id == leases["staff"].id
    assert entry.details == {
        "format": "csv",
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "out_of_programme": 0,
        "months": 1,
        "via": "web",
    }
    assert "987" not in str(entry.details) and "B-001" not in str(entry.details)


# --- web page and CLI ------------------------------------------------------------------------


def test_web_import_with_a_bad_row_reports_it_imports_nothing_and_audits_the_refusal(
    client, leases
):
    client.login(leases["staff"])
    content = rent_account_csv("B-001;2026-10;100;400;;;", "B-002;2026-10;douze;400;;;")
    response = client.post(
        "/logements/import",
        data={"file": (io.BytesIO(content), "extrait.csv")},
        content_type="multipart/form-data",
    )
    text = page(response)
    assert "Rien ne sera importé tant qu'une ligne est à corriger" in text
    assert "B-002" in text and "solde illisible" in text
    assert snapshots() == []
    refused = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "rent_accounts.import_refused")
    ).one()
    assert refused.details["bad_rows"] == 1


def test_web_import_of_a_good_file_shows_the_counts(client, leases):
    client.login(leases["staff"])
    preview = upload(client, rent_account_csv("B-001;2026-10;100;400;;;"))
    assert snapshots() == []
    response = confirm(client, preview)
    assert "Import terminé (octobre 2026) : 1 ligne créée" in page(response)
    assert len(snapshots()) == 1


def test_web_import_without_a_file_asks_for_one(client, leases):
    client.login(leases["staff"])
    response = client.post("/logements/import", data={})
    assert "Choisissez le fichier à importer." in page(response)


def test_cli_import_for_an_organisation(app, leases, tmp_path):
    path = tmp_path / "extrait.csv"
    path.write_bytes(
        rent_account_csv(
            "B-001;2026-10;100;400;;;", "B-002;2026-10;0;400;;;", "HORS-1;2026-10;0;400;;;"
        )
    )
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["housing", "import-accounts", str(path), "--organisation", str(leases["landlord"].id)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "2 lignes importées (2 nouvelles, 0 mises à jour, 0 inchangées) ; "
        "1 ligne hors programme, ignorée." in result.output
    )
    assert len(snapshots()) == 2


def test_cli_import_with_a_bad_row_fails_and_lists_it(app, leases, tmp_path):
    path = tmp_path / "extrait.csv"
    path.write_bytes(rent_account_csv("B-001;2026-10;100;400;;;", "B-002;2026-10;douze;400;;;"))
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["housing", "import-accounts", str(path), "--organisation", str(leases["landlord"].id)]
    )
    assert result.exit_code != 0
    assert "Ligne 3 (B-002)" in result.output
    assert len(snapshots()) == 0
