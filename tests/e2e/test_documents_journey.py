"""Documents journey at phone width (issue #17, "Done when"): a social worker photographs a
CAF letter from the visit form and it is linked to the visit; landlord staff upload an
insurance certificate from their dashboard (through the progress script) and the insurance
reminder leaves their inbox; the social worker sees the certificate; landlord staff cannot
list, open or guess the CAF letter (404). axe on the Documents tab at 375 and 1280 px."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from app.reminders.models import Reminder
from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import sideways
from tests.factories import (
    PASSWORD,
    PDF_BYTES,
    make_household,
    make_landlord,
    make_project,
    make_tenancy,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
INSURANCE = "Attestation d'assurance annuelle"
NOTE = "Madame montre le courrier de la CAF sur son APL."


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (240, 240, 230)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(app):
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord)
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL, projects=[project], email="sophie@test.demo", full_name="Sophie"
    )
    make_user(
        Role.PERSONNEL_BAILLEUR,
        organisation=landlord,
        projects=[project],
        email="gestion@test.demo",
        full_name="Marc Gestion",
    )
    household = make_household(
        project, referent=worker, reference="M-2026-0042", first_name="Fatou", last_name="Diallo"
    )
    make_tenancy(household, landlord, start_on=today_paris() - timedelta(days=500))
    household_id = household.id
    db.session.add(
        Reminder(
            rule_code="attestation_assurance",
            subject_id=household_id,
            household_id=household_id,
            title=INSURANCE,
            due_on=today_paris() - timedelta(days=40),
            recipient_role="personnel_bailleur",
            recipient_organisation_id=landlord.id,
        )
    )
    db.session.commit()
    return {"household_id": household_id}


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("button", has_text="Se déconnecter")).to_be_attached()


def test_documents_from_the_visit_form_and_the_landlord_dashboard(
    world, live_server, browser, screenshots_dir
):
    household = f"{live_server}/menages/{world['household_id']}"

    # 1. The social worker, on her phone, notes a visit and photographs the CAF letter.
    worker_context = browser.new_context(**PHONE)
    worker = worker_context.new_page()
    log_in(worker, live_server, "sophie@test.demo")
    worker.goto(f"{household}/visites/nouvelle")
    worker.get_by_label("Note de l'équipe").fill(NOTE)
    worker.get_by_text("Joindre un document (facultatif)").click()
    worker.get_by_label("Prendre une photo").set_input_files(
        {"name": "CAF-courrier.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}
    )
    worker.get_by_label("Catégorie du document").select_option("ressources")
    worker.screenshot(path=str(screenshots_dir / "documents-visit-form-375.png"), full_page=True)
    assert sideways(worker) <= 0
    worker.get_by_role("button", name="Enregistrer la visite").click()
    expect(worker.get_by_text("Visite enregistrée, avec 1 document(s) joint(s).")).to_be_visible()
    # The timeline shows the letter under the visit.
    letter = worker.locator(".timeline__documents a", has_text="CAF-courrier")
    expect(letter).to_have_count(1)
    letter_url = letter.get_attribute("href")
    assert re.fullmatch(r"/menages/\d+/documents/\d+", letter_url), letter_url
    worker.screenshot(path=str(screenshots_dir / "documents-timeline-375.png"), full_page=True)

    # 2. Landlord staff: the reminder is in the inbox, the dashboard says no certificate.
    landlord_context = browser.new_context(**PHONE)
    landlord = landlord_context.new_page()
    log_in(landlord, live_server, "gestion@test.demo")
    landlord.goto(f"{live_server}/rappels/")
    reminder = landlord.locator("strong", has_text=INSURANCE)
    expect(reminder).to_have_count(1)
    landlord.goto(f"{live_server}/logements/")
    expect(landlord.get_by_text("Pas d'attestation à jour")).to_be_visible()
    landlord.screenshot(path=str(screenshots_dir / "documents-dashboard-375.png"), full_page=True)
    landlord.get_by_role("link", name="Déposer une attestation pour").click()
    expect(landlord.get_by_label("Catégorie")).to_have_value("assurance")
    landlord.get_by_label("Ou choisir des fichiers").set_input_files(
        {"name": "attestation-2027.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    until = today_paris() + timedelta(days=365)
    landlord.get_by_label("Valable jusqu'au").fill(until.isoformat())
    landlord.get_by_role("button", name="Envoyer").click()  # the progress script sends it
    expect(landlord.get_by_text("1 document(s) ajouté(s).")).to_be_visible()
    expect(landlord.get_by_role("link", name="attestation-2027")).to_be_visible()
    # The landlord never sees the CAF letter, neither listed nor opened nor guessed.
    expect(landlord.get_by_text("CAF-courrier")).to_have_count(0)
    landlord.screenshot(path=str(screenshots_dir / "documents-landlord-375.png"), full_page=True)
    assert landlord.goto(f"{live_server}{letter_url}").status == 404
    for guessed in (f"{letter_url}/remplacer", f"{letter_url}/supprimer"):
        assert landlord.goto(f"{live_server}{guessed}").status == 404
    letter_id = letter_url.rsplit("/", 1)[1]
    assert landlord.goto(f"{live_server}/menages/999/documents/{letter_id}").status == 404
    landlord.goto(household)
    expect(landlord.get_by_text("CAF-courrier")).to_have_count(0)
    # The reminder left the inbox; the dashboard says the certificate is on file.
    landlord.goto(f"{live_server}/rappels/")
    expect(landlord.get_by_role("heading", name="Mes rappels", level=1)).to_be_visible()
    expect(reminder).to_have_count(0)
    landlord.goto(f"{live_server}/logements/")
    expect(landlord.locator(".insurance-on-file")).to_contain_text("Attestation à jour")

    # 3. The social worker sees the certificate in the Documents tab.
    worker.goto(f"{household}/documents")
    expect(worker.get_by_role("link", name="attestation-2027")).to_be_visible()
    expect(worker.get_by_role("link", name="CAF-courrier")).to_be_visible()
    assert sideways(worker) <= 0
    worker.screenshot(path=str(screenshots_dir / "documents-tab-375.png"), full_page=True)
    assert_accessible(worker, "Documents tab at 375 px")

    desktop_context = browser.new_context(**DESKTOP)
    desktop = desktop_context.new_page()
    log_in(desktop, live_server, "sophie@test.demo")
    desktop.goto(f"{household}/documents")
    assert_accessible(desktop, "Documents tab at 1280 px")
    desktop.screenshot(path=str(screenshots_dir / "documents-tab-1280.png"), full_page=True)
    for context in (worker_context, landlord_context, desktop_context):
        context.close()
