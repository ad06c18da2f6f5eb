"""A social worker sees an overdue contact reminder, notes the visit, and the reminder is
gone; at phone width too."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.reminders.jobs import sweep
from tests.e2e.helpers import open_menu
from tests.factories import (
    PASSWORD,
    make_household,
    make_intervention,
    make_measure,
    make_project,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def overdue(app):
    """A household followed fortnightly whose last contact is five weeks old, swept."""
    project = make_project()
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL, projects=[project], email="karim@test.demo", full_name="Karim"
    )
    household = make_household(
        project, referent=worker, reference="M-2026-0107", first_name="Inès", last_name="Morel"
    )
    make_measure(
        household, start_on=date(2025, 3, 1), planned_end_on=today_paris() + timedelta(400)
    )
    make_intervention(household, worker, occurred_on=today_paris() - timedelta(days=35))
    sweep()
    household_id = household.id
    db.session.commit()  # the live server only sees committed data
    return household_id


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("karim@test.demo")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Logged in (the logout button is in the page, folded in the menu on a phone).
    expect(page.locator("button", has_text="Se déconnecter")).to_be_attached()


def no_sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_overdue_contact_reminder_disappears_once_the_visit_is_noted(
    overdue, live_server, browser, screenshots_dir, width
):
    context = browser.new_context(**PHONE) if width == "phone" else browser.new_context()
    page = context.new_page()
    log_in(page, live_server)
    open_menu(page)  # folded behind "Menu" on a phone
    nav = page.get_by_role("navigation", name="Navigation principale")
    inbox_link = nav.get_by_role("link", name=re.compile(r"^Rappels"))
    expect(inbox_link).to_have_accessible_name(re.compile(r"\d+ rappels à traiter"))
    inbox_link.click()
    expect(page.get_by_role("heading", name="Mes rappels", level=1)).to_be_visible()
    late = page.locator("section", has=page.get_by_role("heading", name="En retard"))
    card = late.get_by_role("row").filter(has_text="Contact en retard selon l'intensité")
    expect(card).to_contain_text("M-2026-0107")
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(screenshots_dir / f"reminders-1-inbox-{width}.png"), full_page=True)

    card.get_by_role("link", name="Noter une visite").click()
    expect(page.get_by_role("heading", name="Noter une visite")).to_be_visible()
    page.get_by_label("Téléphone").check()
    page.get_by_label("Note de l'équipe").fill("Point sur le budget.")
    page.get_by_role("button", name="Enregistrer la visite").click()
    expect(page.get_by_text("Visite enregistrée.")).to_be_visible()

    page.goto(f"{live_server}/rappels/")
    expect(page.get_by_text("Contact en retard selon l'intensité")).to_have_count(0)
    assert no_sideways_scroll(page) <= 0
    page.screenshot(
        path=str(screenshots_dir / f"reminders-2-after-visit-{width}.png"), full_page=True
    )

    page.goto(f"{live_server}/menages/{overdue}/rappels")
    closed = page.get_by_text("Rappels clos récemment")
    closed.click()
    expect(page.get_by_role("row").filter(has_text="Contact en retard")).to_contain_text(
        "Résolu automatiquement"
    )
    assert no_sideways_scroll(page) <= 0
    page.screenshot(
        path=str(screenshots_dir / f"reminders-3-household-{width}.png"), full_page=True
    )
    context.close()
