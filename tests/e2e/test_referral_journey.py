"""At phone width, a referral to a health partner is refused for a missing consent; the link
in the message leads to the exact cell of the Consentements grid, the worker records the
consent there, and the referral then succeeds. The grid passes axe at 375 and 1280 px."""

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.permissions import Role
from tests.e2e.a11y import assert_accessible
from tests.factories import (
    PASSWORD,
    make_consent,
    make_household,
    make_partner,
    make_project,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
CELL = "consentement-sante-partenaires-sante"


@pytest.fixture
def world(app):
    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project], email="karim@test.demo")
    household = make_household(project, referent=worker, reference="M-2026-0077")
    make_partner(name="CMP Lyon 8e Mermoz", domain="sante", kind="CMP")
    # The old rule asked for this one: it must not be the one that counts.
    make_consent(household, "sante", "situation_sociale")
    make_consent(household, "bailleur", "situation_locative")
    household_id = household.id  # read before the commit: afterwards it would reopen a
    db.session.commit()  # transaction in the test that blocks the live server on SQLite
    return {"household_id": household_id}


def _log_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("karim@test.demo")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Logged in: the logout button is in the page (folded in the menu on a phone).
    expect(page.locator("button", has_text="Se déconnecter")).to_be_attached()


def _sideways(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_a_refused_referral_leads_to_its_consent_cell_then_succeeds(
    world, live_server, browser, screenshots_dir
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    base = f"{live_server}/menages/{world['household_id']}"
    _log_in(page, live_server)

    def refer() -> None:
        page.goto(f"{base}/partenaires")
        page.get_by_role("link", name="Orienter vers un partenaire").click()
        page.get_by_label("Partenaire").select_option(label="Santé · CMP Lyon 8e Mermoz (Lyon)")
        page.get_by_label("Domaine").select_option("sante")
        page.get_by_label("Motif de l'orientation").fill("Reprise d'un suivi psychiatrique")
        page.get_by_role("button", name="Enregistrer l'orientation").click()

    refer()
    error = page.locator(".field__error", has_text="Consentement requis")
    expect(error).to_contain_text("Consentement requis : Santé → Partenaires santé.")
    page.screenshot(path=str(screenshots_dir / "referral-1-refused-375.png"), full_page=True)
    assert_accessible(page, "referral refused for consent")

    error.get_by_role("link", name="Santé → Partenaires santé").click()
    page.wait_for_url(f"**/consentements#{CELL}")
    cell = page.locator(f"#{CELL}")
    expect(cell).to_be_in_viewport()
    expect(cell).to_contain_text("Jamais demandé")
    assert _sideways(page) <= 0, "the consent grid scrolls sideways at 375 px"

    cell.get_by_text("Donner").click()
    expect(cell.get_by_label("Date du consentement : Santé → Partenaires santé")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "referral-2-consent-cell-375.png"))
    assert_accessible(page, "consent cell open")
    cell.get_by_role(
        "button", name="Enregistrer le consentement : Santé → Partenaires santé"
    ).click()
    expect(page.get_by_text("Consentement enregistré.")).to_be_visible()
    cell = page.locator(f"#{CELL}")
    expect(cell).to_contain_text("Donné le")
    expect(cell.get_by_text("Retirer")).to_be_visible()

    refer()
    expect(page.get_by_text("Orientation enregistrée.")).to_be_visible()
    expect(page.get_by_text("CMP Lyon 8e Mermoz").first).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "referral-3-accepted-375.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_the_consent_grid_is_accessible(viewport, world, live_server, browser, screenshots_dir):
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    _log_in(page, live_server)
    page.goto(f"{live_server}/menages/{world['household_id']}/consentements")
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(page, f"consents grid {width}px")
    assert _sideways(page) <= 0, f"the consent grid scrolls sideways at {width} px"
    page.locator(f"#{CELL} summary").click()  # an open cell form, too
    assert_accessible(page, f"consents grid with a form open {width}px")
    page.screenshot(path=str(screenshots_dir / f"consents-grid-{width}.png"), full_page=True)
    context.close()
