"""A household's file from end to end in headless Chromium: a social worker opens it, adds
its members, records orientation and diagnostic, gives it a bail glissant; the landlord's
staff see the lease but no social content; another landlord gets a 404."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.permissions import Role
from tests.factories import PASSWORD, make_dwelling, make_landlord, make_project, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(app):
    landlord = make_landlord(name="Rhône Habitat Solidaire")
    project = make_project(lead_landlord=landlord, name="HLM accompagnés Lyon Est")
    people = {
        "worker": make_user(
            Role.TRAVAILLEUR_SOCIAL,
            projects=[project],
            full_name="Sophie Martin",
            email="sophie@exemple.fr",
            phone="04 72 00 00 01",
        ),
        "landlord": make_user(
            Role.PERSONNEL_BAILLEUR,
            organisation=landlord,
            projects=[project],
            full_name="Marc Lefebvre",
            email="marc@exemple.fr",
        ),
        "other_landlord": make_user(
            Role.PERSONNEL_BAILLEUR, full_name="Hugo Bernard", email="hugo@exemple.fr"
        ),
    }
    make_dwelling(
        landlord,
        address="14 rue Marius Berliet",
        postal_code="69008",
        city="Lyon",
        typology="T3",
        landlord_reference="RHS-LGT-014",
    )
    db.session.commit()
    return people


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def _no_sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _add_member(page: Page, first: str, last: str, born: str, relation: str) -> None:
    page.get_by_role("link", name="Ajouter une personne").click()
    page.get_by_label("Prénom").fill(first)
    page.get_by_label(re.compile("^Nom")).fill(last)
    page.get_by_label("Date de naissance").fill(born)
    page.get_by_label("Lien avec le ménage").select_option(label=relation)
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_text(f"{first} {last} ajouté·e.")).to_be_visible()


def test_household_journey(people, live_server, page: Page, browser, screenshots_dir):
    today = date.today()
    # A social worker lands on their week, goes to the household list and opens a new file.
    log_in(page, live_server, "sophie@exemple.fr")
    expect(page).to_have_url(f"{live_server}/agenda/")
    page.get_by_role("link", name="Ménages").first.click()
    expect(page).to_have_url(f"{live_server}/menages/")
    expect(page.get_by_text("Aucun ménage suivi pour l'instant.")).to_be_visible()
    page.get_by_role("link", name="Nouveau ménage").first.click()
    page.get_by_label("Prénom").fill("Aïssatou")
    page.get_by_label(re.compile("^Nom")).fill("Diop")
    page.get_by_label("Date de naissance").fill("1987-05-04")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aïssatou Diop")
    expect(page.locator(".household-header")).to_contain_text("Sophie Martin")
    file_url = page.url

    # Three members: the head, her partner and a child.
    page.get_by_role("navigation", name="Rubriques du dossier").get_by_role(
        "link", name="Composition"
    ).click()
    _add_member(page, "Moussa", "Diop", "1984-11-20", "Conjoint·e")
    _add_member(page, "Awa", "Diop", "2016-02-09", "Enfant")
    expect(page.locator(".household-header")).to_contain_text("3 personnes")

    # Orientation.
    page.goto(file_url)
    page.get_by_role("link", name="Noter une orientation").click()
    page.get_by_label("Prescripteur").select_option(label="SIAO")
    page.get_by_label("Date d'orientation").fill((today - timedelta(days=40)).isoformat())
    page.get_by_label("Accès au logement").check()
    page.get_by_label("Motif de l'orientation").fill("Sortie de CHRS, hébergée depuis 2 ans")
    page.get_by_role("button", name="Enregistrer l'orientation").click()
    expect(page.get_by_text("Orientation enregistrée.")).to_be_visible()

    # Diagnostic: a missing level is explained in French, then recorded.
    page.get_by_role("link", name="Faire le diagnostic").click()
    page.get_by_label("Date du diagnostic").fill((today - timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Enregistrer le diagnostic").click()
    expect(page.get_by_role("alert")).to_contain_text("Choisissez un niveau.")
    for axis, level in (
        ("Pouvoir louer", "À travailler"),
        ("Savoir louer", "Partiellement acquis"),
        ("Savoir habiter", "Acquis"),
        ("S'adapter à l'environnement", "Acquis"),
    ):
        page.get_by_role("group", name=axis).get_by_label(level, exact=True).check()
    page.get_by_label("Commentaire (Pouvoir louer)").fill("Dette CAF de 900 €, budget serré")
    page.get_by_label("Budget et dettes").check()
    page.get_by_label("Intensité recommandée").select_option(label="Soutenue")
    page.get_by_role("button", name="Enregistrer le diagnostic").click()
    expect(page.get_by_text("Diagnostic enregistré.")).to_be_visible()

    # A dwelling with a bail glissant, through the housing pages.
    page.get_by_role("navigation", name="Rubriques du dossier").get_by_role(
        "link", name="Logement"
    ).click()
    page.goto(file_url + "/logement/bail/nouveau")
    page.get_by_label("Logement").select_option(index=1)
    page.get_by_label("Type de bail").select_option(label="Bail glissant")
    page.get_by_label("Début du bail").fill((today - timedelta(days=5)).isoformat())
    page.get_by_label("Référence du bail chez le bailleur").fill("RHS-BAIL-2026-117")
    page.get_by_label("Date cible du glissement").fill((today + timedelta(days=540)).isoformat())
    page.get_by_role("button", name="Enregistrer").last.click()
    expect(page.locator(".household-header")).to_contain_text("Bail glissant")

    # Every event is on the Parcours timeline, the newest first, expandable.
    page.goto(file_url)
    timeline = page.locator("ol.timeline")
    for title in (
        "Entrée dans le parcours : Orientation",
        "Personne ajoutée : Moussa Diop",
        "Personne ajoutée : Awa Diop",
        "Orientation par SIAO",
        "Diagnostic social",
    ):
        expect(timeline).to_contain_text(title)
    diagnostic = timeline.locator("details", has_text="Diagnostic social")
    diagnostic.locator("summary").click()
    expect(diagnostic).to_contain_text("Dette CAF de 900 €")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots_dir / "household-file-worker.png"), full_page=True)
    page.goto(f"{live_server}/menages/")
    expect(page.locator("table")).to_contain_text("Aïssatou Diop")
    expect(page.locator("table")).to_contain_text("Bail glissant")
    page.screenshot(path=str(screenshots_dir / "household-list-worker.png"), full_page=True)
    # A search by name finds her; the name is nowhere in the address bar, even after sorting.
    page.get_by_label("Rechercher").fill("aissatou diop")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("table")).to_contain_text("Aïssatou Diop")
    expect(page.get_by_label("Rechercher")).to_have_value("aissatou diop")
    page.get_by_role("link", name="Chef de ménage").click()
    expect(page.locator("table")).to_contain_text("Aïssatou Diop")
    assert "recherche=" in page.url and "diop" not in page.url.lower()
    page.go_back()
    expect(page.get_by_label("Rechercher")).to_have_value("aissatou diop")

    # The landlord's staff see the lease and the référent, never the diagnostic.
    landlord = browser.new_context()
    landlord_page = landlord.new_page()
    log_in(landlord_page, live_server, "marc@exemple.fr")
    landlord_page.goto(file_url)
    header = landlord_page.locator(".household-header")
    expect(header).to_contain_text("Bail glissant")
    expect(header).to_contain_text("14 rue Marius Berliet")
    expect(header).to_contain_text("Sophie Martin")
    body = landlord_page.locator("main")
    # The stage names of the path (« Étape Diagnostic ») are tenancy content; the diagnostic
    # itself is not.
    for secret in ("Diagnostic social", "Dette CAF", "SIAO", "CHRS", "Awa"):
        expect(body).not_to_contain_text(secret)
    landlord_page.screenshot(
        path=str(screenshots_dir / "household-file-landlord.png"), full_page=True
    )
    landlord.close()

    # Another landlord: the file does not exist for them.
    other = browser.new_context()
    other_page = other.new_page()
    log_in(other_page, live_server, "hugo@exemple.fr")
    response = other_page.goto(file_url)
    assert response.status == 404
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    other.close()

    # On a phone: the file, its forms and the list fit without sideways scrolling.
    phone = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    phone_page = phone.new_page()
    log_in(phone_page, live_server, "sophie@exemple.fr")
    for name, path in (
        ("file", file_url),
        ("members", file_url + "/composition"),
        ("diagnostic", file_url + "/diagnostic"),
        ("consents", file_url + "/consentements"),
        ("list", f"{live_server}/menages/"),
    ):
        phone_page.goto(path)
        phone_page.screenshot(
            path=str(screenshots_dir / f"phone-household-{name}.png"), full_page=True
        )
        overflow = _no_sideways_scroll(phone_page)
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
    phone.close()
