"""A social worker creates a household with its situation, edits the situation from the file
header, moves the stage back in time and sees the path follow an adhésion: every page passes
axe-core's WCAG 2.1 AA rules at 1280 px and 375 px, without sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.e2e

WORKER = "sophie.martin@traitdunion.demo"


def _no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_creation_situation_and_path_pages(viewport, demo_data, live_server, browser):
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    log_in(page, live_server, WORKER)
    page.goto(f"{live_server}/menages/nouveau")
    assert_accessible(page, f"creation {width}")
    assert _no_sideways_scroll(page) <= 0
    page.locator("#head_first_name").fill("Lina")
    page.locator("#head_last_name").fill(f"Essai{width}")
    page.get_by_label("Sortie de rue").check()
    page.get_by_label("Montant mensuel de l'APL (€)").fill("-3")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_text("Indiquez un montant positif.").first).to_be_visible()
    assert_accessible(page, f"creation with errors {width}")
    page.get_by_label("Montant mensuel de l'APL (€)").fill("216")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Lina Essai{width}")
    # The situation, from the header.
    page.get_by_role("link", name="Modifier la situation").click()
    expect(page.get_by_label("Sortie de rue")).to_be_checked()
    assert_accessible(page, f"situation {width}")
    assert _no_sideways_scroll(page) <= 0
    page.get_by_label("Montant total des dettes (€)").fill("1200")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Situation du ménage enregistrée.")).to_be_visible()
    # A file entered after the fact: its diagnostic dates from before its creation.
    page.get_by_role("link", name="Changer d'étape").click()
    expect(page.get_by_label("Nouvelle étape")).to_be_visible()
    assert_accessible(page, f"stage form {width}")
    page.get_by_label("Nouvelle étape").select_option("diagnostic")
    page.get_by_label("Date du changement").fill("2019-05-02")
    page.get_by_role("button", name="Enregistrer le changement").click()
    expect(page.get_by_text("Diagnostic depuis le 2 mai 2019")).to_be_visible()
    # The adhésion moves the path by itself.
    page.get_by_role("link", name="Noter l'adhésion").click()
    page.get_by_label("Date de signature du contrat").fill("2019-06-10")
    page.get_by_label("Objectifs convenus avec le ménage").fill("Accéder à un logement")
    page.get_by_role("button", name=re.compile("Enregistrer")).click()
    expect(page.get_by_text("Adhésion depuis le 10 juin 2019")).to_be_visible()
    expect(page.get_by_text(re.compile("suite à : adhésion signée")).first).to_be_visible()
    assert_accessible(page, f"path {width}")
    assert _no_sideways_scroll(page) <= 0
    context.close()
