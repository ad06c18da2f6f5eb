"""Shared steps of the browser journeys."""

from __future__ import annotations

import pyotp
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD


def log_in(page: Page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> str | None:
    """Log in like a person: password, then the second factor when asked.

    - Forced enrolment (coordinators, administrators without TOTP yet): reads the secret shown
      on the page as a person would type it into an authenticator app, enters the code, then
      leaves the recovery-codes page. Returns the secret.
    - Enrolled user: computes the current code from the secret stored for the account (the
      test plays the user's phone).
    Returns None when no second factor was asked or the user was already enrolled.
    """
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    if "/connexion/double-authentification" in page.url:
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres affiché par l'application").fill(
            pyotp.TOTP(secret).now()
        )
        page.get_by_role("button", name="Activer").click()
        page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
        return secret
    if "/connexion/code" in page.url:
        page.get_by_label("Code à 6 chiffres ou code de secours").fill(_code_for(email))
        page.get_by_role("button", name="Valider").click()
        # (on a phone the logout button is folded in the site menu: read the banner's text)
        expect(page.get_by_role("banner")).to_contain_text("Se déconnecter")
    return None


def sideways(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the screen), once the page
    has loaded: a long page still being parsed on a loaded machine can be measured before
    its last rules and images are laid out."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def too_wide(page: Page) -> list[str]:
    """The elements that reach past the right edge of the screen (for a failure's message)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                && getComputedStyle(e.parentElement).overflowX === 'visible')
            .slice(0, 8)
            .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)"""
    )


def open_menu(page: Page) -> None:
    """Unfold the site menu when it is folded behind its "Menu" button (phone widths); on a
    wide screen the menu is already open and the button hidden."""
    # Only once the stylesheet applies: before it, the toggle shows at every width (and a
    # click would then wait for a button the wide layout hides).
    page.wait_for_load_state("load")
    toggle = page.locator(".topmenu > summary")
    if toggle.is_visible() and not page.locator(".topmenu[open]").count():
        toggle.click()
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()


def _code_for(email: str) -> str:
    from app.db import db
    from app.users.models import User
    from tests.conftest import totp_code

    user = db.session.scalar(select(User).where(User.email == email))
    code = totp_code(user)
    db.session.commit()  # never hold a transaction open while the browser drives the server
    return code
