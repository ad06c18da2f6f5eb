"""Landlord staff create an API client (the token shown once), find it on the list and
revoke it; the pages pass axe at 1280 and 375 px. Screenshots of each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.e2e

LANDLORD = "gestion@rhonehabitat.demo"


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_landlord_staff_create_and_revoke_an_api_client(
    viewport, demo_data, live_server, browser, screenshots_dir
):
    width = viewport[0]
    context = browser.new_context(viewport={"width": width, "height": viewport[1]})
    page = context.new_page()
    log_in(page, live_server, LANDLORD)
    page.goto(f"{live_server}/logements/clients-api/")
    expect(page.get_by_role("heading", name="Clients de l'API")).to_be_visible()
    assert_accessible(page, "api clients, empty")
    page.get_by_role("link", name="Créer un client").first.click()
    expect(page.get_by_role("heading", name="Nouveau client de l'API")).to_be_visible()
    assert_accessible(page, "new api client")
    page.screenshot(path=str(screenshots_dir / f"api-client-form-{width}.png"), full_page=True)
    page.get_by_role("button", name="Créer le client").click()  # no name: refused
    expect(page.get_by_text("Donnez un nom au client.").first).to_be_visible()
    assert_accessible(page, "new api client with errors")
    page.get_by_label("Nom du client").fill("Logiciel de gestion locative")
    page.get_by_role("button", name="Créer le client").click()
    token = page.locator("code.temporary-password").inner_text()
    assert token.startswith("anc_")
    assert_accessible(page, "api client created")
    page.screenshot(path=str(screenshots_dir / f"api-client-created-{width}.png"), full_page=True)
    page.get_by_role("link", name="Retour aux clients de l'API").click()
    row = page.get_by_role("row", name="Logiciel de gestion locative")
    expect(row).to_contain_text("Jamais")
    expect(row).to_contain_text("Actif")
    assert token not in page.content()  # shown once
    page.screenshot(path=str(screenshots_dir / f"api-clients-{width}.png"), full_page=True)
    row.get_by_role("button", name="Révoquer").click()
    expect(page.get_by_text("est révoqué").first).to_be_visible()
    expect(page.get_by_role("row", name="Logiciel de gestion locative")).to_contain_text("Révoqué")
    assert_accessible(page, "api clients, revoked")
    page.goto(f"{live_server}/api/v1/")
    assert_accessible(page, "api reference")
    page.screenshot(path=str(screenshots_dir / f"api-reference-{width}.png"), full_page=True)
    context.close()
