"""The yearly bilan, on a phone, with the real figures: a coordinator enters the year's budget
lines and places, writes the bilan's context, and downloads the Word document, which holds
the text and the co-financing figures just entered."""

from __future__ import annotations

import re
from datetime import date

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from app.db import db
from app.households.models import HouseholdStage
from app.permissions import Role
from tests.e2e.helpers import log_in, open_menu, sideways, too_wide
from tests.factories import (
    PASSWORD,
    make_household,
    make_landlord,
    make_measure,
    make_project,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
CONTEXT = "Une année de montée en charge : 6 ménages entrés, un partenariat CAF signé."


@pytest.fixture
def world(app):
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord, name="Projet Lyon Est")
    make_user(Role.COORDINATEUR, projects=[project], email="coordination@test.demo")
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    for _ in range(6):  # six households supported since March, still supported today
        household = make_household(
            project, referent=worker, stage=HouseholdStage.MAINTIEN, stage_since_on=date(2026, 3, 1)
        )
        make_measure(
            household, start_on=date(2026, 3, 1), planned_end_on=date(2027, 3, 1), actor=worker
        )
    db.session.commit()
    return project.id


def _spaced(text: str) -> str:
    """French numbers are grouped with (narrow) no-break spaces: compare with plain ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _add_line(page: Page, funder: str, granted: str, received: str) -> None:
    page.get_by_label("Financeur", exact=True).select_option(label=funder)
    page.get_by_label("Montant accordé (€)").fill(granted)
    page.get_by_label("Montant reçu (€)").fill(received)
    page.get_by_role("button", name="Ajouter la ligne").click()


def test_a_coordinator_enters_the_budget_writes_the_bilan_and_downloads_the_docx_on_a_phone(
    world, live_server, browser, screenshots_dir
):
    year = date.today().year
    context = browser.new_context(**PHONE, accept_downloads=True)
    page: Page = context.new_page()
    log_in(page, live_server, "coordination@test.demo", PASSWORD)
    page.goto(f"{live_server}/")
    open_menu(page)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Évaluation"
    ).click()

    # The year's money: two budget lines and the places agreed.
    page.get_by_role("link", name=f"Financements {year} · Projet Lyon Est").click()
    _add_line(page, "État / FNAVDL", "120000", "60000")
    _add_line(page, "CAF", "30000", "30000")
    page.get_by_role("spinbutton", name=re.compile("^Places conventionnées")).fill("10")
    page.get_by_role("button", name="Enregistrer les places").click()
    lines = page.get_by_role("region", name=f"Lignes de financement {year}")
    total = lines.locator("tr", has=page.get_by_role("rowheader", name="Total"))
    expect(total).to_contain_text(re.compile(r"150\s000"))
    expect(page.get_by_role("spinbutton", name=re.compile("^Places conventionnées"))).to_have_value(
        "10"
    )
    assert sideways(page) == 0, too_wide(page)
    page.screenshot(path=str(screenshots_dir / "bilan-0-funding-phone.png"), full_page=True)

    # The bilan: its figures come from what was just entered; the context is written.
    page.goto(f"{live_server}/evaluation/")
    page.get_by_role("link", name=f"Bilan {year} · Projet Lyon Est").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Bilan annuel {year}")
    expect(page.locator("main")).to_contain_text(re.compile(r"150\s000"))
    assert sideways(page) == 0, too_wide(page)
    page.get_by_label("Contexte").fill(CONTEXT)
    page.get_by_role("button", name="Enregistrer « Contexte »").click()
    expect(page.get_by_text("Section « Contexte » enregistrée.")).to_be_visible()
    expect(page.get_by_label("Contexte")).to_have_value(CONTEXT)
    assert sideways(page) == 0, too_wide(page)
    page.screenshot(path=str(screenshots_dir / "bilan-1-phone.png"), full_page=True)

    with page.expect_download() as caught:
        page.get_by_role("link", name="Télécharger (Word)").click()
    download = caught.value
    assert download.suggested_filename == f"bilan-projet-{world}-{year}.docx"
    document = Document(str(download.path()))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[paragraphs.index("Contexte") + 1] == CONTEXT
    cells = [
        _spaced(cell.text) for table in document.tables for row in table.rows for cell in row.cells
    ]
    # The funders' table: 120 000 € from the State, 30 000 € from the CAF, 150 000 € in all.
    assert "120 000 €" in cells and "30 000 €" in cells and "150 000 €" in cells
    # Cost per household supported: 150 000 € / 6 households = 25 000 €.
    assert "25 000 €" in cells
    context.close()
