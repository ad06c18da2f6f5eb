"""Realistic extracts imported through the preview, as landlord staff do: a whole-portfolio
CSV in cp1252 with ERP headers (5 % of its rows followed in Ancrage), a tab-separated UTF-8
file, a workbook with numbers stored as text and Excel dates; then the amounts and dates on
the landlord dashboard and the household page. Also: the import profile reused the next
month, a file sent again, another landlord's lease, the staged file kept server-side."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.db import db
from app.formatting import format_money
from app.housing import rent_import
from app.housing.models import RentAccountSnapshot
from app.housing.rent_import import RentImport, RentImportProfile
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
)
from tests.housing import extracts
from tests.housing.import_steps import confirm, figures, preview_url, upload


@pytest.fixture(autouse=True)
def staging(app, tmp_path):
    app.config["RENT_IMPORT_STAGING_DIR"] = str(tmp_path / "staging")
    return tmp_path / "staging"


@pytest.fixture
def portfolio(app):
    landlord = make_landlord(name="Rhône Habitat Portefeuille")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    households = {}
    for reference in extracts.FOLLOWED:
        household = make_household(project, reference=f"M-{reference}")
        make_occupancy(household, make_dwelling(landlord), lease_reference=reference)
        households[reference] = household
    other = make_landlord(name="Autre bailleur")
    make_occupancy(
        make_household(make_project(lead_landlord=other)),
        make_dwelling(other),
        lease_reference="AUTRE-0042",
    )
    return {"landlord": landlord, "staff": staff, "households": households, "project": project}


def stored() -> dict[str, RentAccountSnapshot]:
    from app.housing.models import Occupancy

    rows = db.session.execute(
        select(Occupancy.lease_reference, RentAccountSnapshot).join(
            Occupancy, Occupancy.id == RentAccountSnapshot.occupancy_id
        )
    )
    return {reference: snapshot for reference, snapshot in rows}


def check_stored(count: int, month: date) -> None:
    snapshots = stored()
    assert len(snapshots) == count
    for index, reference in enumerate(extracts.FOLLOWED[:count]):
        want = extracts.expected(index)
        got = snapshots[reference]
        assert got.month == month, reference
        assert got.balance_cents == want["balance_cents"], reference
        assert got.amount_due_cents == want["amount_due_cents"], reference
        assert got.last_payment_on == want["last_payment_on"], reference


def test_whole_portfolio_csv_in_cp1252_with_erp_headers(client, portfolio):
    client.login(portfolio["staff"])
    preview = upload(client, extracts.PORTFOLIO_CSV.read_bytes(), "portefeuille.csv")
    text = page(preview)
    assert "CSV, séparateur point-virgule, encodage Windows-1252" in text
    assert figures(preview) == {
        "comptes à créer": "20",
        "à mettre à jour": "0",
        "inchangés": "0",
        "lignes hors programme, ignorées": "380",
        "lignes à corriger": "0",
    }
    assert "Premières lignes comprises" in text and "rh-01000" in text
    assert stored() == {}  # the preview writes nothing
    done = page(confirm(client, preview))
    assert "20 lignes créées" in done and "380 lignes hors programme, ignorées" in done
    check_stored(20, date(2026, 10, 1))
    # The dashboard and the household page show what was imported.
    dashboard = page(client.get("/logements/"))
    assert format_money(125_458) in dashboard  # RH-1002, written "RH-\xa01002"
    assert format_money(126_459) in dashboard  # RH-1003, written "Rh-001003"
    household = portfolio["households"]["RH-1002"]
    file = page(client.get(f"/menages/{household.id}/logement"))
    assert f"{format_money(125_458)} dus" in file and "3 octobre 2026" in file
    credit = portfolio["households"]["RH-1001"]  # written "1 244,57-": a credit
    assert f"{format_money(124_457)} d'avance" in page(client.get(f"/menages/{credit.id}/logement"))


def test_tab_separated_utf8_with_thin_spaces(client, portfolio):
    client.login(portfolio["staff"])
    preview = upload(client, extracts.TAB_SEPARATED.read_bytes(), "extrait.tsv")
    assert "séparateur tabulation, encodage UTF-8" in page(preview)
    assert figures(preview)["lignes hors programme, ignorées"] == "30"
    confirm(client, preview)
    check_stored(20, date(2026, 10, 1))


def test_workbook_with_text_numbers_and_excel_dates(client, portfolio):
    client.login(portfolio["staff"])
    preview = upload(client, extracts.WORKBOOK.read_bytes(), "extrait.xlsx")
    assert "Classeur Excel (.xlsx)" in page(preview)
    assert figures(preview)["comptes à créer"] == "20"
    confirm(client, preview)
    check_stored(20, date(2026, 10, 1))
    household = portfolio["households"]["RH-1003"]
    assert "4 octobre 2026" in page(client.get(f"/menages/{household.id}/logement"))


def test_an_unfamiliar_layout_is_mapped_once_then_reused(client, portfolio):
    client.login(portfolio["staff"])
    first = upload(client, extracts.UNFAMILIAR.read_bytes(), "octobre.csv")
    text = page(first)
    assert "Colonnes obligatoires absentes : Référence du bail, Solde." in text
    assert "Importer</button>" not in text and stored() == {}
    url = preview_url(first)
    mapped = client.get(
        url,
        query_string={
            "carte": "1",
            "col_reference": "0",
            "col_month": "1",
            "col_amount_due": "2",
            "col_balance": "3",
            "nom": "octobre.csv",
        },
    )
    assert figures(mapped)["comptes à créer"] == "3"
    assert figures(mapped)["lignes hors programme, ignorées"] == "6"
    confirm(client, mapped)
    assert stored()["RH-1002"].balance_cents == 30_000
    profile = db.session.scalars(select(RentImportProfile)).one()
    assert profile.columns["reference"] == "contrat locatif"
    # The next month, the same layout goes straight to the counts.
    second = upload(client, extracts.UNFAMILIAR_NEXT.read_bytes(), "novembre.csv")
    assert "Colonnes obligatoires absentes" not in page(second)
    assert figures(second)["comptes à créer"] == "3"
    done = page(confirm(client, second))
    assert "3 lignes créées" in done and "6 lignes hors programme, ignorées" in done
    assert db.session.scalar(select(func.count(RentAccountSnapshot.id))) == 6


def test_the_same_file_sent_again_changes_nothing(client, portfolio):
    client.login(portfolio["staff"])
    content = extracts.TAB_SEPARATED.read_bytes()
    confirm(client, upload(client, content, "extrait.tsv"))
    again = page(upload(client, content, "extrait-copie.tsv"))
    assert "Ce fichier a déjà été importé le " in again
    assert "rien n'a changé" in again
    history = db.session.scalars(select(RentImport)).one()
    assert (history.file_name, history.created, history.out_of_programme) == ("extrait.tsv", 20, 30)
    assert history.file_hash == rent_import.staging.digest_of(content)
    assert history.user_id == portfolio["staff"].id
    listed = page(client.get("/logements/import"))
    assert "Imports précédents" in listed and "extrait.tsv" in listed


def test_the_same_month_with_other_bytes_counts_unchanged_and_updated(client, portfolio):
    client.login(portfolio["staff"])
    confirm(client, upload(client, extracts.TAB_SEPARATED.read_bytes(), "a.tsv"))
    changed = extracts.TAB_SEPARATED.read_bytes().replace(b"412,80", b"499,00") + b"\n"
    preview = upload(client, changed, "b.tsv")
    assert figures(preview)["à mettre à jour"] == "1"
    assert figures(preview)["inchangés"] == "19"


def test_another_landlords_lease_is_set_aside_without_saying_whose_it_is(client, portfolio):
    """An error would confirm that another landlord's tenant is supported in Ancrage."""
    client.login(portfolio["staff"])
    key = "lignes hors programme, ignorées"
    before = figures(upload(client, extracts.PORTFOLIO_CSV.read_bytes(), "portefeuille.csv"))
    content = extracts.PORTFOLIO_CSV.read_bytes() + b"autre-042;01.10.2026;1,00;0;0;1,00;;\r\n"
    preview = upload(client, content, "portefeuille2.csv")
    assert "autre bailleur" not in page(preview)
    assert figures(preview)["lignes à corriger"] == before["lignes à corriger"]
    assert (
        int(figures(preview)[key].replace("\u202f", ""))
        == int(before[key].replace("\u202f", "")) + 1
    )
    assert stored() == {}


def test_the_staged_file_stays_on_the_server_and_is_removed_once_imported(
    client, portfolio, staging
):
    client.login(portfolio["staff"])
    content = extracts.WORKBOOK.read_bytes()
    preview = upload(client, content, "extrait.xlsx")
    kept = list(staging.iterdir())
    assert [p.read_bytes() for p in kept] == [content]
    cookie = client.get_cookie("session")
    assert cookie is None or len(cookie.value) < 1000
    confirm(client, preview)
    assert list(staging.iterdir()) == []
    assert client.get(preview_url(preview)).status_code == 404


def test_another_landlords_staff_cannot_reach_a_staged_file(client, make_client, portfolio):
    client.login(portfolio["staff"])
    url = preview_url(upload(client, extracts.WORKBOOK.read_bytes(), "extrait.xlsx"))
    other = make_landlord(name="Voisin")
    client = make_client()
    client.login(make_user(Role.PERSONNEL_BAILLEUR, organisation=other))
    assert client.get(url).status_code == 404
    assert client.post(url, data={}).status_code == 404
    assert client.get("/logements/import/pas-un-hash").status_code == 404
