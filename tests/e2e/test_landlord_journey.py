"""Landlord journey in headless Chromium: a CSV with one bad row is previewed with its report
and nothing can be imported; the fixed file imports and the dashboard shows the arrears; the social
worker sees the arrears trend on the household file. Desktop and 375 px screenshots."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.dates import add_months, first_of_month
from app.db import db
from app.formatting import today_paris
from app.housing.models import RentAccountSnapshot
from app.permissions import Role
from tests.e2e.helpers import open_menu
from tests.factories import (
    PASSWORD,
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_snapshot,
    make_user,
)

pytestmark = pytest.mark.e2e

LAST_MONTH = add_months(first_of_month(today_paris()), -1)
HEADER = "Référence du bail;Mois;Solde;Loyer et charges du mois;Date du dernier paiement;APL"


@pytest.fixture
def journey(app):
    landlord = make_landlord(name="Rhône Habitat Parcours")
    project = make_project(lead_landlord=landlord, name="Projet parcours bailleur")
    make_user(
        Role.PERSONNEL_BAILLEUR,
        organisation=landlord,
        projects=[project],
        full_name="Marc Gestionnaire",
        email="marc.gestion@exemple.fr",
    )
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        projects=[project],
        full_name="Sophie Référente",
        email="sophie.referente@exemple.fr",
        phone="06 11 22 33 44",
    )
    household = make_household(
        project,
        referent=worker,
        reference="M-2026-0042",
        first_name="Aïcha",
        last_name="Benmansour",
    )
    occupancy = make_occupancy(
        household,
        make_dwelling(
            landlord, address="14 rue Professeur Beauvisage", rent_cents=41_580, charges_cents=7_920
        ),
        lease_reference="RHS-BAIL-042",
        start_on=date(2024, 9, 1),
    )
    # Eleven months of history: the debt starts growing four months ago.
    for offset in range(11, 0, -1):
        month = add_months(LAST_MONTH, -offset)
        debt = max(0, 4 - offset) * 24_750
        make_snapshot(occupancy, month, balance_cents=debt, amount_due_cents=49_500)
    neighbour = make_household(project, reference="M-2026-0043", last_name="Durand")
    make_occupancy(neighbour, make_dwelling(landlord), lease_reference="RHS-BAIL-043")
    db.session.commit()
    # Plain ids: touching an expired object later would open a transaction in the test thread.
    return {"household_id": household.id}


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def upload(page: Page, base_url: str, rows: list[str]) -> None:
    page.goto(f"{base_url}/logements/import")
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1252")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "extrait.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Voir l'aperçu").click()


def no_horizontal_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_landlord_imports_and_social_worker_sees_the_trend(
    journey, live_server, page: Page, browser, screenshots_dir
):
    month = LAST_MONTH.strftime("%Y-%m")
    log_in(page, live_server, "marc.gestion@exemple.fr")
    bad_rows = [
        f"RHS-BAIL-042;{month};1 237,50;495,00;02/{LAST_MONTH:%m/%Y};maintenue",
        f"RHS-BAIL-043;{month};douze;410,00;03/{LAST_MONTH:%m/%Y};maintenue",
        f"RHS-BAIL-999;{month};0,00;410,00;03/{LAST_MONTH:%m/%Y};maintenue",  # not followed
    ]
    upload(page, live_server, bad_rows)
    expect(
        page.get_by_text("Rien ne sera importé tant qu'une ligne est à corriger")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Importer")).to_have_count(0)
    report = page.get_by_role("table", name="Lignes à corriger")
    expect(report).to_contain_text("3")
    expect(report).to_contain_text("RHS-BAIL-043")
    expect(report).to_contain_text("solde illisible")
    page.screenshot(path=str(screenshots_dir / "housing-import-refused.png"), full_page=True)
    imported = db.session.scalar(
        select(func.count(RentAccountSnapshot.id)).where(RentAccountSnapshot.month == LAST_MONTH)
    )
    db.session.rollback()  # on SQLite an open transaction here would block the server
    assert imported == 0

    fixed = [bad_rows[0], f"RHS-BAIL-043;{month};0,00;410,00;03/{LAST_MONTH:%m/%Y};maintenue"]
    upload(page, live_server, fixed)
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("2 lignes créées, 0 mise à jour, 0 inchangée.")).to_be_visible()
    page.get_by_role("link", name="Locataires suivis").click()
    row = page.get_by_role("row").filter(has_text="M-2026-0042")
    expect(row).to_contain_text("Impayé")
    expect(row).to_contain_text("1 237,50 €")
    expect(row).to_contain_text("2,5 mois")
    expect(row).to_contain_text("Sophie Référente")
    page.screenshot(path=str(screenshots_dir / "housing-dashboard.png"), full_page=True)
    page.get_by_role("button", name="Se déconnecter").click()

    log_in(page, live_server, "sophie.referente@exemple.fr")
    page.goto(f"{live_server}/menages/{journey['household_id']}/logement")
    chart = page.locator("figure.chart")
    expect(chart).to_contain_text("Impayé en fin de mois, sur 12 mois")
    expect(chart.locator(".bar")).to_have_count(12)
    expect(chart.locator(".bar").last).to_contain_text("1 238 €")
    expect(chart.locator(".bar--danger")).to_have_count(1)  # 2.5 months (2 or more)
    expect(chart.locator(".bar--warning")).to_have_count(3)  # 0.5, 1 and 1.5 months
    page.get_by_text("Voir le tableau des 12 mois").click()
    expect(page.get_by_role("table", name="Compte locataire, 12 derniers mois")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "housing-household-trend.png"), full_page=True)

    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    mobile = phone.new_page()
    for email, paths in (
        (
            "sophie.referente@exemple.fr",
            [f"/menages/{journey['household_id']}/logement", "/logements/"],
        ),
        ("marc.gestion@exemple.fr", ["/logements/", "/logements/import", "/logements/parc"]),
    ):
        log_in(mobile, live_server, email)
        for path in paths:
            mobile.goto(f"{live_server}{path}")
            name = path.strip("/").replace("/", "-")
            mobile.screenshot(
                path=str(screenshots_dir / f"phone-{email.split('@')[0]}-{name}.png"),
                full_page=True,
            )
            assert no_horizontal_scroll(mobile) <= 0, f"{path} scrolls sideways at 375 px"
        open_menu(mobile)  # folded behind "Menu" on a phone
        mobile.get_by_role("button", name="Se déconnecter").click()
    phone.close()
