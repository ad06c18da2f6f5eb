"""Journey (b), at phone width: whatever a social worker taps on the visit form, the note she
is typing is never lost. No other button submits or reloads the form (the sticky "Noter une
visite" bar is not on the form page); leaving the page asks first (beforeunload), and saying
"stay" keeps the text. The form starts on the first screen with the focus on its first field,
which the keyboard reaches in two Tabs. The page passes axe at 375 and 1280 px."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.permissions import Role
from tests.e2e.a11y import assert_accessible
from tests.factories import PASSWORD, make_household, make_project, make_user

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
NOTE = "Madame explique que le chauffe-eau est en panne depuis lundi."


@pytest.fixture
def world(app):
    project = make_project()
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL, projects=[project], email="sophie@test.demo", full_name="Sophie"
    )
    household = make_household(
        project, referent=worker, reference="M-2026-0042", first_name="Fatou", last_name="Diallo"
    )
    household_id = household.id  # read before the commit (see test_visit_journey.py)
    db.session.commit()
    return {"household_id": household_id}


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("sophie@test.demo")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Logged in: the logout button is in the page (folded in the menu on a phone).
    expect(page.locator("button", has_text="Se déconnecter")).to_be_attached()


def _focus_top_of_page(page: Page) -> None:
    """Put the keyboard back at the start of the document, as on arrival without autofocus."""
    page.evaluate(
        "() => { document.body.tabIndex = -1; document.body.focus();"
        " document.body.removeAttribute('tabindex'); }"
    )


def _controls(page: Page) -> list[dict]:
    """Every link and button of the page but the form's own submit: how to find it again."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href], button')).map((el, index) => ({
              index,
              label: (el.textContent || '').trim().replace(/\\s+/g, ' '),
              href: el.getAttribute('href'),
              ownSubmit: el.tagName === 'BUTTON' && el.type === 'submit'
                && el.form !== null && el.form.hasAttribute('data-warn-unsaved'),
           }))"""
    )


def test_nothing_on_the_visit_form_loses_the_typed_note(world, live_server, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server)
    url = f"{live_server}/menages/{world['household_id']}/visites/nouvelle"
    page.goto(url)

    # The form first: focus on its first field, its top on the first screen, no sticky bar.
    expect(page.get_by_role("textbox", name="Date (obligatoire)")).to_be_focused()
    form_top = page.locator("form[data-warn-unsaved]").bounding_box()["y"]
    assert 0 < form_top < 740 - 100, f"the form starts at {form_top} px"
    expect(page.locator(".sticky-action")).to_have_count(0)
    expect(page.get_by_role("link", name="Noter une visite")).to_have_count(0)
    header = page.locator(".household-header")
    assert header.bounding_box()["height"] < 80, "the file header is one line"
    expect(header).to_contain_text("M-2026-0042")

    # Keyboard: the first field within two Tabs from the top of the page.
    _focus_top_of_page(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au formulaire")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Date (obligatoire)")).to_be_focused()

    # She types a note, as a person does (a tap, then the keyboard).
    note = page.get_by_label("Note de l'équipe")
    note.tap()
    page.keyboard.type(NOTE)
    expect(note).to_have_value(NOTE)

    controls = [c for c in _controls(page) if not c["ownSubmit"]]
    labels = [c["label"] for c in controls]
    assert "Annuler" in labels and "Se déconnecter" in labels, labels
    tried = []
    page.on("dialog", lambda dialog: dialog.dismiss())  # "stay on the page", at once
    for control in controls:
        element = page.locator("a[href], button").nth(control["index"])
        if control["href"] and control["href"].startswith("#"):
            # A skip link stays on the page: nothing to confirm.
            element.focus()
            page.keyboard.press("Enter")
        elif not element.is_visible():
            continue  # folded away (a menu): not something a person can tap now
        else:
            with page.expect_event("dialog") as leaving:
                element.tap()
            assert leaving.value.type == "beforeunload", control
        tried.append(control["label"])
        expect(page).to_have_url(re.compile(re.escape(url) + "(#[a-z_]+)?$"))
        expect(note).to_have_value(NOTE)
    assert len(tried) >= 5, tried

    # The form's own button saves without asking.
    page.get_by_role("button", name="Enregistrer la visite").tap()
    expect(page.get_by_text("Visite enregistrée.")).to_be_visible()
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_the_visit_form_is_accessible(viewport, world, live_server, browser):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server}/menages/{world['household_id']}/visites/nouvelle")
    assert_accessible(page, "visit form")
    page.get_by_role("textbox", name="Date (obligatoire)").fill("")
    page.get_by_role("button", name="Enregistrer la visite").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # The focus goes to the field in error (static/js/forms.js).
    expect(page.get_by_role("textbox", name="Date (obligatoire)")).to_be_focused()
    assert_accessible(page, "visit form with errors")
    context.close()
