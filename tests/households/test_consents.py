"""The Consentements tab as a grid (data categories × partner categories), one action per
cell, and the refusals that name the cell a consent is missing from and link to it."""

import re
from datetime import date

from sqlalchemy import func, select

from app.db import db
from app.households.consents import cell_id
from app.households.models import Consent, DataCategory, PartnerCategory
from app.households.queries import has_consent
from app.households.services import withdraw_consent
from tests.conftest import page
from tests.factories import make_consent, make_household

H = "/menages/{}"


def _client(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _cell(body: str, anchor: str) -> str:
    """The text of one cell of the grid (its <td>), tags removed."""
    match = re.search(rf'<td id="{anchor}"[^>]*>(.*?)</td>', body, re.S)
    assert match, f"no cell {anchor}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def _consents(household_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Consent).where(Consent.household_id == household_id)
    )


def test_the_grid_shows_every_cell_with_its_state(w, make_client):
    make_consent(w.household, "sante", "sante", given_on=date(2026, 1, 2))
    gone = make_consent(w.household, "emploi", "situation_sociale", given_on=date(2025, 6, 1))
    withdraw_consent(
        w.users["travailleur_social"], w.household, gone, withdrawn_on=date(2026, 2, 3)
    )
    db.session.commit()
    client = _client(make_client, w.users["travailleur_social"])
    response = client.get(H.format(w.household.id) + "/consentements")
    body = html = response.get_data(as_text=True)
    body = page(response)
    anchors = re.findall(r'<td id="(consentement-[a-z-]+)"', html)
    assert len(anchors) == len(DataCategory) * len(PartnerCategory) == len(set(anchors))
    assert "consentement-sante-partenaires-sante" in anchors
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    keys = re.findall(r'name="submission_key"[^>]*value="([0-9a-f]{32})"', html)
    assert len(set(keys)) == len(keys) >= 28  # one key per give form
    assert "consentement-situation-sociale-bailleur" in anchors
    # Headers: a column per partner category, a row header per data category.
    for partner in PartnerCategory:
        assert f'<th scope="col">{partner.label}</th>' in body
    for data in DataCategory:
        assert f'<th scope="row">{data.label}</th>' in body
    assert _cell(body, "consentement-sante-partenaires-sante").startswith(
        "Partenaires santé Donné le 02/01/2026 Retirer : Santé → Partenaires santé"
    )
    assert _cell(body, "consentement-situation-locative-bailleur").startswith(
        "Bailleur Donné le 01/01/2025"  # the world's consent
    )
    withdrawn = _cell(body, "consentement-situation-sociale-partenaires-emploi")
    assert withdrawn.startswith("Partenaires emploi et formation Retiré le 03/02/2026 Donner")
    never = _cell(body, "consentement-budget-partenaires-justice")
    assert never.startswith(
        "Partenaires justice Jamais demandé Donner : Ressources, budget et dettes → "
        "Partenaires justice"
    )
    # Each cell's date field is labelled with the cell it records.
    assert (
        '<label class="field__label" for="consentement-budget-partenaires-justice-date">'
        'Date du consentement<span class="visually-hidden"> : Ressources, budget et dettes → '
        "Partenaires justice</span></label>"
    ) in body


def test_a_cell_is_given_then_withdrawn_from_its_own_form(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = H.format(w.household.id) + "/consentements"
    anchor = cell_id("sante", "sante")
    given = client.post(url + "/sante/sante", data={"given_on": "2026-01-10"})
    assert given.status_code == 302
    assert given.headers["Location"] == f"{url}#{anchor}"
    consent = db.session.scalar(
        select(Consent).where(
            Consent.household_id == w.household.id, Consent.partner_category == "sante"
        )
    )
    assert (consent.data_category, consent.given_on) == ("sante", date(2026, 1, 10))
    assert "Donné le 10/01/2026" in _cell(page(client.get(url)), anchor)

    prefix = f"retrait-{consent.id}-"
    too_early = client.post(
        f"{url}/{consent.id}/retrait", data={prefix + "withdrawn_on": "2026-01-05"}
    )
    assert too_early.status_code == 200
    assert "ne peut pas précéder le consentement" in _cell(page(too_early), anchor)
    done = client.post(f"{url}/{consent.id}/retrait", data={prefix + "withdrawn_on": "2026-02-01"})
    assert done.status_code == 302 and done.headers["Location"] == f"{url}#{anchor}"
    cell = _cell(page(client.get(url)), anchor)
    assert "Retiré le 01/02/2026" in cell and "Donner" in cell
    # Given again: a new row, the withdrawn one kept.
    again = client.post(url + "/sante/sante", data={"given_on": "2026-02-05"})
    assert again.status_code == 302
    assert "Donné le 05/02/2026" in _cell(page(client.get(url)), anchor)
    assert _consents(w.household.id) == 3  # with the world's consent


def test_a_consent_cannot_be_backdated_over_the_cells_last_withdrawal(w, make_client):
    """Given on 20 January after a withdrawal on 1 February, the new consent would say
    "given" on days the household had withdrawn it: refused, the cell unchanged; given on
    the day of the withdrawal or later, it is the cell's current consent."""
    gone = make_consent(w.household, "sante", "sante", given_on=date(2026, 1, 2))
    withdraw_consent(
        w.users["travailleur_social"], w.household, gone, withdrawn_on=date(2026, 2, 1)
    )
    db.session.commit()
    before = _consents(w.household.id)
    client = _client(make_client, w.users["travailleur_social"])
    url = H.format(w.household.id) + "/consentements"
    anchor = cell_id("sante", "sante")
    backdated = client.post(url + "/sante/sante", data={"given_on": "2026-01-20"})
    assert backdated.status_code == 200
    cell = _cell(page(backdated), anchor)
    assert "ne peut pas précéder le dernier retrait de ce consentement" in cell
    assert _consents(w.household.id) == before
    assert "Retiré le 01/02/2026" in _cell(page(client.get(url)), anchor)
    same_day = client.post(url + "/sante/sante", data={"given_on": "2026-02-01"})
    assert same_day.status_code == 302
    assert "Donné le 01/02/2026" in _cell(page(client.get(url)), anchor)
    assert has_consent(w.household.id, "sante", "sante", date(2026, 2, 1))
    assert has_consent(w.household.id, "sante", "sante", date(2026, 1, 31))  # the first one


def test_a_cell_refuses_bad_input_in_plain_words_and_keeps_nothing(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = H.format(w.household.id) + "/consentements"
    before = _consents(w.household.id)
    anchor = cell_id("budget", "social")
    future = client.post(url + "/budget/social", data={"given_on": "2099-01-01"})
    assert future.status_code == 200
    assert "la date ne peut pas être dans le futur" in _cell(page(future), anchor)
    already = client.post(
        url + "/situation_locative/bailleur",
        data={"given_on": "2026-01-10"},
    )
    assert "Ce consentement est déjà en cours depuis le 1 janvier 2025." in page(already)
    for path in ("/inconnu/sante", "/sante/inconnu"):
        assert client.post(url + path, data={}).status_code == 404
    assert _consents(w.household.id) == before


def test_cells_outside_the_scope_are_404_and_the_landlord_never_sees_the_tab(w, make_client):
    other = make_household(w.other_project, reference="M-2026-0999")
    foreign = make_consent(other, "sante", "sante")
    db.session.commit()
    worker = _client(make_client, w.users["travailleur_social"])
    assert worker.get(H.format(other.id) + "/consentements").status_code == 404
    assert worker.post(H.format(other.id) + "/consentements/sante/sante").status_code == 404
    url = H.format(w.household.id) + f"/consentements/{foreign.id}/retrait"
    assert (
        worker.post(url, data={f"retrait-{foreign.id}-withdrawn_on": "2026-02-01"}).status_code
        == 404
    )
    landlord = _client(make_client, w.users["bailleur"])
    assert landlord.get(H.format(w.household.id) + "/consentements").status_code == 403
    assert landlord.post(H.format(w.household.id) + "/consentements/sante/sante").status_code == 403
    assert ">Consentements</a>" not in page(landlord.get(H.format(w.household.id)))
    assert _consents(other.id) == 1
