"""The monthly extract as landlord staff really send it, in headless Chromium: an extract
whose layout Ancrage does not know (two required columns under unfamiliar headers, most rows
for leases Ancrage does not follow) is mapped once on the preview, previewed and imported;
the next month the same layout goes straight to the counts. axe on the import page and the
preview (mapping, counts) at 1280 and 375 px; screenshots of each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.permissions import Role
from tests.e2e.a11y import assert_accessible
from tests.factories import (
    PASSWORD,
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
)
from tests.housing import extracts

pytestmark = pytest.mark.e2e


@pytest.fixture
def landlord_staff(app, tmp_path):
    app.config["RENT_IMPORT_STAGING_DIR"] = str(tmp_path / "staging")
    landlord = make_landlord(name="Rhône Habitat Extraits")
    project = make_project(lead_landlord=landlord, name="Projet extraits")
    make_user(
        Role.PERSONNEL_BAILLEUR,
        organisation=landlord,
        projects=[project],
        full_name="Nadia Gestion",
        email="nadia.gestion@exemple.fr",
    )
    for reference in extracts.FOLLOWED[:3]:
        make_occupancy(make_household(project), make_dwelling(landlord), lease_reference=reference)
    return "nadia.gestion@exemple.fr"


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def send(page: Page, base_url: str, path, name: str) -> None:
    page.goto(f"{base_url}/logements/import")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": path.read_bytes()}]
    )
    page.get_by_role("button", name="Voir l'aperçu").click()


def figure(page: Page, label: str):
    return page.locator(".keyfigure").filter(has_text=label).locator(".keyfigure__value")


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_an_unfamiliar_extract_is_mapped_once_then_imported_each_month(
    landlord_staff, live_server, browser, screenshots_dir, viewport
):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    size = "phone" if viewport[0] < 400 else "desktop"
    log_in(page, live_server, landlord_staff)
    page.goto(f"{live_server}/logements/import")
    assert_accessible(page, "import page")

    send(page, live_server, extracts.UNFAMILIAR, "octobre.csv")
    expect(
        page.get_by_text("Colonnes obligatoires absentes : Référence du bail, Solde.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Importer")).to_have_count(0)
    assert_accessible(page, "preview asking for the mapping")
    page.screenshot(path=str(screenshots_dir / f"import-mapping-{size}.png"), full_page=True)

    page.get_by_label("Référence du bail").select_option(label="Contrat locatif (colonne 1)")
    page.get_by_label("Solde").select_option(label="Reste à payer (colonne 4)")
    page.get_by_role("button", name="Mettre à jour l'aperçu").click()
    expect(figure(page, "comptes à créer")).to_have_text("3")
    expect(figure(page, "lignes hors programme")).to_have_text("6")
    expect(page.get_by_role("table", name="Premières lignes comprises")).to_contain_text("300,00")
    assert_accessible(page, "preview with counts")
    page.screenshot(path=str(screenshots_dir / f"import-preview-{size}.png"), full_page=True)
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("3 lignes créées")).to_be_visible()
    expect(page.get_by_text("6 lignes hors programme, ignorées")).to_be_visible()
    history = page.get_by_role("table", name="Imports précédents")
    expect(history).to_contain_text("octobre.csv")
    assert_accessible(page, "import page with history")
    page.screenshot(path=str(screenshots_dir / f"import-done-{size}.png"), full_page=True)

    # The next month: the same layout, no mapping asked.
    send(page, live_server, extracts.UNFAMILIAR_NEXT, "novembre.csv")
    expect(page.get_by_text("Colonnes obligatoires absentes")).to_have_count(0)
    expect(figure(page, "comptes à créer")).to_have_text("3")
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("Import terminé (novembre 2026) : 3 lignes créées")).to_be_visible()

    # The same file again: recognised, nothing changes.
    send(page, live_server, extracts.UNFAMILIAR_NEXT, "novembre-bis.csv")
    expect(page.locator("#file-error")).to_contain_text("Ce fichier a déjà été importé le")
    context.close()
