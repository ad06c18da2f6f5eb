"""A coordinator enrols two-factor login, logs out, logs back in with password and code,
and reads who consulted a household file."""

import pyotp
import pytest
from playwright.sync_api import Page, expect

from app.audit.services import record
from app.db import db
from app.permissions import Role
from tests.factories import PASSWORD, make_household, make_project, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(app):
    project = make_project(name="Projet Rhône")
    make_user(
        Role.COORDINATEUR, email="nadia@exemple.fr", full_name="Nadia Benali", projects=[project]
    )
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        email="sophie@exemple.fr",
        full_name="Sophie Martin",
        projects=[project],
    )
    household = make_household(project, referent=worker, reference="M-2026-0042")
    for _ in range(3):
        record(worker, "household.read", household_id=household.id, target=household)
    household_id = household.id
    # Committed, and nothing read afterwards in this thread: on SQLite a transaction opened
    # here (BEGIN IMMEDIATE) would block the live server.
    db.session.commit()
    return household_id


def _password(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("nadia@exemple.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_coordinator_enrols_logs_in_with_a_code_and_reads_the_access_log(
    world, live_server, page: Page, screenshots_dir
):
    household_id = world
    _password(page, live_server)

    # Forced enrolment: the secret is shown as text (and as a QR code).
    expect(page.get_by_role("heading", name="Activer la double authentification")).to_be_visible()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "totp-enrolment.png"), full_page=True)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code à 6 chiffres affiché par l'application").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("Ce code n'est pas valide")
    page.get_by_label("Code à 6 chiffres affiché par l'application").fill(totp.now())
    page.get_by_role("button", name="Activer").click()

    # Ten recovery codes, shown once.
    expect(page.get_by_role("heading", name="Double authentification activée")).to_be_visible()
    expect(page.get_by_role("list", name="Codes de secours").get_by_role("listitem")).to_have_count(
        10
    )
    page.screenshot(path=str(screenshots_dir / "totp-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page.get_by_role("banner")).to_contain_text("Nadia Benali")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()

    # Password, then the code. The code just used for enrolment is refused (no replay).
    _password(page, live_server)
    expect(page.get_by_role("heading", name="Deuxième étape : votre code")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "totp-second-step.png"), full_page=True)
    page.get_by_label("Code à 6 chiffres ou code de secours").fill(totp.now())
    page.get_by_role("button", name="Valider").click()
    # Wait for the answer (signed in, or the code refused) before reading where we are.
    signed_in = page.get_by_role("banner").filter(has_text="Nadia Benali")
    expect(signed_in.or_(page.get_by_role("alert"))).to_be_visible()
    if "/connexion/code" in page.url:  # the same 30-second step: wait for the next code
        expect(page.get_by_role("alert")).to_contain_text("déjà été utilisé")
        current = totp.now()
        page.wait_for_timeout(1000)
        while totp.now() == current:
            page.wait_for_timeout(1000)
        page.get_by_label("Code à 6 chiffres ou code de secours").fill(totp.now())
        page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("banner")).to_contain_text("Nadia Benali")

    # Who consulted the file.
    page.goto(f"{live_server}/menages/{household_id}/consultations")
    expect(page.get_by_role("heading", name="Qui a consulté ce dossier")).to_be_visible()
    readers = page.get_by_role("table", name="Personnes ayant consulté le dossier")
    row = readers.get_by_role("row").filter(has_text="Sophie Martin")
    expect(row).to_contain_text("3")
    page.screenshot(path=str(screenshots_dir / "household-consultations.png"), full_page=True)
