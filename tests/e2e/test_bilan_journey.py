"""Journey, at phone width: a coordinator opens the bilan of their project from the menu,
writes the context, saves it, and downloads the DOCX, which holds the text and the tables.
The page never scrolls sideways (its tables scroll in their own frame). The evaluation
figures come from the small test providers of tests/evaluation (the real ones are other
modules')."""

from __future__ import annotations

from datetime import date

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from app.db import db
from app.evaluation import tables
from app.households.models import HouseholdStage
from app.permissions import Role
from tests.e2e.helpers import log_in, open_menu, sideways
from tests.evaluation.conftest import budget, households_entered
from tests.factories import PASSWORD, make_household, make_landlord, make_project, make_user

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
CONTEXT = "Une année de montée en charge : 8 ménages entrés, un partenariat CAF signé."


@pytest.fixture
def world(app):
    added = [tables.provider(households_entered), tables.provider(budget)]
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord, name="Projet Lyon Est")
    make_user(Role.COORDINATEUR, projects=[project], email="coordination@test.demo")
    for _ in range(6):
        make_household(project, stage=HouseholdStage.MAINTIEN, stage_since_on=date(2026, 3, 1))
    db.session.commit()
    yield project.id
    for func in added:
        tables._PROVIDERS.remove(func)


def test_a_coordinator_writes_the_context_and_downloads_the_docx_on_a_phone(
    world, live_server, browser, screenshots_dir
):
    context = browser.new_context(**PHONE, accept_downloads=True)
    page: Page = context.new_page()
    log_in(page, live_server, "coordination@test.demo", PASSWORD)
    page.goto(f"{live_server}/")
    open_menu(page)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Évaluation"
    ).click()
    page.get_by_role("link", name="Bilan 2026 · Projet Lyon Est").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan annuel 2026")
    assert sideways(page) == 0

    page.get_by_label("Contexte").fill(CONTEXT)
    page.get_by_role("button", name="Enregistrer « Contexte »").click()
    expect(page.get_by_text("Section « Contexte » enregistrée.")).to_be_visible()
    expect(page.get_by_label("Contexte")).to_have_value(CONTEXT)
    assert sideways(page) == 0
    page.screenshot(path=str(screenshots_dir / "bilan-1-phone.png"), full_page=True)

    with page.expect_download() as caught:
        page.get_by_role("link", name="Télécharger (Word)").click()
    download = caught.value
    assert download.suggested_filename == f"bilan-projet-{world}-2026.docx"
    document = Document(str(download.path()))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[paragraphs.index("Contexte") + 1] == CONTEXT
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Maintien" in cells and "6" in cells  # 6 households entered in Maintien in 2026
    context.close()
