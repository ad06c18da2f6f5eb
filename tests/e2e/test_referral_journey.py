"""A referral to a health partner is refused without the household's consent, then accepted
once the consent is recorded on the household's consent page."""

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.permissions import Role
from tests.factories import (
    PASSWORD,
    make_household,
    make_partner,
    make_project,
    make_user,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(app):
    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project], email="karim@test.demo")
    household = make_household(project, referent=worker, reference="M-2026-0077")
    make_partner(name="CMP Lyon 8e Mermoz", domain="sante", kind="CMP")
    household_id = household.id  # read before the commit: afterwards it would reopen a
    db.session.commit()  # transaction in the test that blocks the live server on SQLite
    return {"household_id": household_id}


def test_health_referral_refused_without_consent_then_accepted(
    world, live_server, page: Page, screenshots_dir
):
    base = f"{live_server}/menages/{world['household_id']}"
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("karim@test.demo")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    def refer() -> None:
        page.goto(f"{base}/partenaires")
        page.get_by_role("link", name="Orienter vers un partenaire").click()
        page.get_by_label("Partenaire").select_option(label="Santé · CMP Lyon 8e Mermoz (Lyon)")
        page.get_by_label("Domaine").select_option("sante")
        page.get_by_label("Motif de l'orientation").fill("Reprise d'un suivi psychiatrique")
        page.get_by_role("button", name="Enregistrer l'orientation").click()

    refer()
    expect(page.get_by_text("Orientation impossible", exact=False).first).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "referral-1-refused.png"), full_page=True)

    page.goto(f"{base}/consentements")
    page.get_by_label("Avec quels partenaires").select_option("sante")
    page.get_by_label("Quelles informations").select_option("situation_sociale")
    page.get_by_label("Date du consentement").fill("2026-01-02")
    page.get_by_role("button", name="Enregistrer le consentement").click()
    expect(page.get_by_text("Consentement enregistré.")).to_be_visible()

    refer()
    expect(page.get_by_text("Orientation enregistrée.")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("CMP Lyon 8e Mermoz")
    expect(table).to_contain_text("Envoyée")
    page.screenshot(path=str(screenshots_dir / "referral-2-accepted.png"), full_page=True)
