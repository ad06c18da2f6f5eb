"""Journey (d): the landlord's staff triage their inbox on a phone — a filter by type, two
reminders ticked, one note, one "fait" — and the inbox passes axe at 375 and 1280 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.reminders.models import Reminder
from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import sideways
from tests.factories import (
    PASSWORD,
    make_household,
    make_landlord,
    make_organisation,
    make_project,
    make_tenancy,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
INSURANCE = "Attestation d'assurance annuelle"


@pytest.fixture
def landlord_inbox(app):
    """Three housed households: a year of overdue insurance certificates for the first, one
    for each of the others, and a glissement date for the first."""
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord)
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=make_organisation(), projects=[project]
    )
    make_user(
        Role.PERSONNEL_BAILLEUR,
        organisation=landlord,
        projects=[project],
        email="gestion@test.demo",
        full_name="Marc Gestion",
    )
    today = today_paris()
    households = []
    for n in range(3):
        household = make_household(project, referent=worker, reference=f"M-2026-020{n}")
        make_tenancy(household, landlord)
        households.append(household)

    def remind(household, rule_code, title, days):
        db.session.add(
            Reminder(
                rule_code=rule_code,
                subject_id=household.id,
                household_id=household.id,
                title=title,
                due_on=today + timedelta(days=days),
                recipient_role="personnel_bailleur",
                recipient_organisation_id=landlord.id,
            )
        )

    for months in range(12):
        remind(households[0], "attestation_assurance", INSURANCE, -30 * months - 5)
    remind(households[1], "attestation_assurance", INSURANCE, -40)
    remind(households[2], "attestation_assurance", INSURANCE, -3)
    remind(households[0], "glissement_cible", "Date cible de glissement du bail", 20)
    db.session.commit()


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("gestion@test.demo")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Logged in: the logout button is in the page (folded in the menu on a phone).
    expect(page.locator("button", has_text="Se déconnecter")).to_be_attached()


def test_landlord_triages_the_inbox_with_a_filter_and_bulk_done_on_a_phone(
    landlord_inbox, live_server, browser, screenshots_dir
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server}/rappels/")
    expect(page.get_by_role("heading", name="Mes rappels", level=1)).to_be_visible()
    rows = page.locator("tbody tr")
    # A year of certificates of one household is one line, with the latest date.
    expect(rows.filter(has_text=INSURANCE)).to_have_count(3)
    expect(page.get_by_text("et 11 plus anciennes pour ce ménage")).to_be_visible()
    assert sideways(page) <= 0
    assert_accessible(page, "inbox, phone")
    page.screenshot(path=str(screenshots_dir / "triage-1-inbox-phone.png"), full_page=True)

    page.get_by_label("Type de rappel").select_option(label="Attestation d'assurance annuelle (3)")
    page.get_by_role("button", name="Afficher").click()
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Date cible de glissement du bail")).to_have_count(0)
    assert sideways(page) <= 0

    rows.filter(has_text="M-2026-0200").get_by_role("checkbox").check()
    rows.filter(has_text="M-2026-0201").get_by_role("checkbox").check()
    page.get_by_label("Note pour les rappels cochés (facultative)").fill("Attestations reçues")
    page.get_by_role("button", name="Marquer les rappels cochés comme faits").click()
    expect(page.get_by_text("2 rappels marqués comme fait.")).to_be_visible()
    # Still filtered, one line left: the third household's.
    expect(page.get_by_label("Type de rappel")).to_have_value("attestation_assurance")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("M-2026-0202")
    assert sideways(page) <= 0
    page.screenshot(path=str(screenshots_dir / "triage-2-after-bulk-phone.png"), full_page=True)
    context.close()
    # All thirteen certificates of the first two households are closed, with the note.
    db.session.rollback()  # a fresh read of what the server wrote
    closed = db.session.scalars(select(Reminder).where(Reminder.status == "fait")).all()
    assert len(closed) == 13 and {r.done_note for r in closed} == {"Attestations reçues"}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_inbox_is_accessible(landlord_inbox, live_server, browser, viewport):
    context = browser.new_context(**viewport)
    page = context.new_page()
    log_in(page, live_server)
    for path in ("/rappels/", "/rappels/?grouper=menage", "/rappels/?type=inconnu"):
        page.goto(f"{live_server}{path}")
        assert_accessible(page, path)
        assert sideways(page) <= 0, path
    context.close()
