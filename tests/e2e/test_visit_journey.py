"""At phone width, a social worker opens a household from their list and notes a home visit
with a next action; the landlord then sees the shared summary only when it was ticked, and
never the restricted note."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from tests.factories import (
    PASSWORD,
    make_consent,
    make_household,
    make_landlord,
    make_measure,
    make_project,
    make_tenancy,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def world(app):
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord)
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        projects=[project],
        email="sophie@test.demo",
        full_name="Sophie Martin",
    )
    make_user(
        Role.PERSONNEL_BAILLEUR,
        organisation=landlord,
        projects=[project],
        email="gestion@test.demo",
        full_name="Marc Lefebvre",
    )
    household = make_household(
        project, referent=worker, reference="M-2026-0042", first_name="Fatou", last_name="Diallo"
    )
    make_tenancy(household, landlord)
    make_measure(household)
    make_consent(household, "bailleur", "situation_sociale")
    household_id = household.id  # read before the commit: afterwards it would reopen a
    db.session.commit()  # transaction in the test that blocks the live server on SQLite
    return {"household_id": household_id}


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def no_sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def note_visit(page: Page, *, note: str, summary: str, share: bool, next_action: str) -> None:
    page.get_by_role("link", name="Noter une visite").click()
    expect(page.get_by_role("heading", name="Noter une visite")).to_be_visible()
    assert no_sideways_scroll(page) <= 0
    page.get_by_label("Visite à domicile").check()
    page.get_by_label("Durée (minutes)").fill("45")
    page.get_by_label("Note de l'équipe").fill(note)
    if share:
        page.get_by_label("Partager un compte rendu avec le bailleur").check()
    page.get_by_label("Compte rendu pour le bailleur").fill(summary)
    page.get_by_label("Prochaine action", exact=True).fill(next_action)
    # To come, within the two-year planning horizon (app/bounds.py).
    soon = today_paris() + timedelta(days=40)
    page.get_by_label("Date de la prochaine action").fill(soon.isoformat())
    page.get_by_role("button", name="Enregistrer la visite").click()
    expect(page.get_by_text("Visite enregistrée.")).to_be_visible()


def test_phone_visit_then_landlord_sees_only_the_shared_summary(
    world, live_server, browser, screenshots_dir
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server, "sophie@test.demo")
    page.goto(f"{live_server}/menages/")
    page.get_by_role("link", name="M-2026-0042").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fatou Diallo")
    page.get_by_role("link", name="Accompagnement").click()
    sticky = page.get_by_role("link", name="Noter une visite")
    expect(sticky).to_be_visible()
    box = sticky.bounding_box()
    assert box["y"] + box["height"] > 740 - 100, "the action sticks to the bottom of the screen"
    page.screenshot(path=str(screenshots_dir / "visit-1-support-tab-phone.png"))

    page.get_by_role("link", name="Noter une visite").click()
    page.screenshot(path=str(screenshots_dir / "visit-2-form-phone.png"), full_page=True)
    page.go_back()
    note_visit(
        page,
        note="NOTE-RESERVEE : fatigue importante évoquée.",
        summary="Le ménage a repris ses paiements.",
        share=True,
        next_action="Accompagner au rendez-vous CAF",
    )
    timeline = page.get_by_role("list", name=re.compile("Événements du parcours"))
    expect(timeline.get_by_text("Visite à domicile").first).to_be_visible()
    expect(timeline).to_contain_text("Accompagner au rendez-vous CAF")
    page.screenshot(path=str(screenshots_dir / "visit-3-timeline-phone.png"), full_page=True)

    page.get_by_role("link", name="Accompagnement").click()
    note_visit(
        page,
        note="NOTE-RESERVEE-2",
        summary="RESUME-NON-COCHE",
        share=False,
        next_action="Rappeler la semaine prochaine",
    )
    context.close()

    landlord = browser.new_context(**PHONE)
    page = landlord.new_page()
    log_in(page, live_server, "gestion@test.demo")
    page.goto(f"{live_server}/menages/{world['household_id']}")
    body = page.locator("main")
    expect(body).to_contain_text("Le ménage a repris ses paiements.")
    expect(body).not_to_contain_text("RESUME-NON-COCHE")
    expect(body).not_to_contain_text("NOTE-RESERVEE")
    expect(body).not_to_contain_text("Accompagner au rendez-vous CAF")
    expect(page.get_by_role("link", name="Noter une visite")).to_have_count(0)
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(screenshots_dir / "visit-4-landlord-phone.png"), full_page=True)
    landlord.close()
