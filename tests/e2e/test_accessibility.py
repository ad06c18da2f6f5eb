"""The shared pages pass axe-core's WCAG 2.1 AA rules, on a desktop and on a phone."""

import pyotp
import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from tests.e2e.a11y import assert_accessible

pytestmark = pytest.mark.e2e

ADMIN_PAGES = (
    "/accueil",
    "/mon-compte/",
    "/mon-compte/mot-de-passe",
    "/admin/utilisateurs/",
    "/admin/utilisateurs/nouveau",
    "/admin/organisations/",
    "/admin/projets/nouveau",
    "/admin/nexiste-pas",
)
SECURITY_PAGES = (
    "/mon-compte/double-authentification",
    "/mon-compte/confirmer",
    "/admin/journal",
)


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_login_and_admin_pages_are_accessible(viewport, demo_data, live_server, browser):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{live_server}/connexion")
    assert_accessible(page, "login")
    page.get_by_role("button", name="Se connecter").click()  # empty form: errors shown
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "login with errors")
    page.get_by_label("Adresse e-mail").fill("admin@ancrage.demo")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Administrators must enrol a second factor at their first login: those pages too.
    # (Each check waits for the next page first: axe run while a click's navigation was
    # committing found no document, on CI's busy machine.)
    expect(page.locator("#totp-secret")).to_be_visible()
    assert_accessible(page, "two-factor enrolment")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_role("button", name="Activer").click()  # empty code: error shown
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "two-factor enrolment with errors")
    page.get_by_label("Code à 6 chiffres affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("link", name="J'ai noté mes codes, continuer")).to_be_visible()
    assert_accessible(page, "recovery codes")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    for path in ADMIN_PAGES + SECURITY_PAGES:
        page.goto(f"{live_server}{path}")
        assert_accessible(page, path)
    context.close()


def test_keyboard_only_login(demo_data, live_server, page):
    page.goto(f"{live_server}/connexion")
    # The e-mail field has the focus on arrival.
    expect(page.get_by_label("Adresse e-mail")).to_be_focused()
    page.keyboard.type("admin@ancrage.demo")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    # Enrolment of the second factor, keyboard only: the code field follows the secret.
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres affiché par l'application").focus()
    page.keyboard.type(pyotp.TOTP(secret).now())
    page.keyboard.press("Enter")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner")).to_contain_text("Camille Roussel")
    page.keyboard.press("Tab")  # the first stop on every page skips to the content
    # (expect(...) waits for the focus to move; a bare evaluate raced it on a busy machine)
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#contenu")).to_be_focused()
