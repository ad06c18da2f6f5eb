"""The situation the indicators count — publics, resources, APL, debts — asked at creation
(optional) and edited from the file header on every tab, then counted by the indicators."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.db import db
from app.households.models import Household
from app.reports.figures import Period
from app.reports.indicators import indicators
from tests.conftest import page
from tests.factories import make_measure
from tests.households.conftest import last_audit

BASE = {"head_first_name": "Mamadou", "head_last_name": "Koné", "referent_id": 0}


def _client(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _created(client, **data) -> Household:
    response = client.post("/menages/nouveau", data={**BASE, **data})
    assert response.status_code == 302, page(response)
    return db.session.scalar(select(Household).order_by(Household.id.desc()))


def test_the_creation_form_shows_the_situation_fields(w, make_client):
    body = page(_client(make_client, w.users["travailleur_social"]).get("/menages/nouveau"))
    for label in (
        "Publics",
        "Sortie de rue",
        "Ressources mensuelles du ménage (€)",
        "Montant mensuel de l'APL (€)",
        "APL versée directement au bailleur",
        "Montant total des dettes (€)",
        "Dossier de surendettement déposé",
    ):
        assert label in body
    assert "(facultatif)" in body


def test_a_household_is_created_without_its_situation(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    household = _created(client, project_id=w.project.id)
    assert household.target_publics == "" and household.monthly_income_cents is None
    assert household.apl_cents is None and household.debts_cents is None


def test_a_household_is_created_with_its_situation(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    household = _created(
        client,
        project_id=w.project.id,
        target_publics=["sortie_rue", "violences"],
        monthly_income_euros="1 234,56",
        income_sources=["rsa", "prestations_familiales"],
        apl_euros="216",
        is_apl_paid_to_landlord="y",
        debts_euros="3 400",
        has_overindebtedness_file="y",
    )
    assert household.target_publics == "sortie_rue,violences"
    assert household.monthly_income_cents == 123_456
    assert household.income_sources == "rsa,prestations_familiales"
    assert (household.apl_cents, household.is_apl_paid_to_landlord) == (21_600, True)
    assert (household.debts_cents, household.has_overindebtedness_file) == (340_000, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"apl_euros": "-5"}, "Indiquez un montant positif."),
        ({"debts_euros": "beaucoup"}, "montant"),
        ({"target_publics": ["inconnu"]}, "Publics"),
        ({"income_sources": ["loto"]}, "Sources de revenus"),
    ],
)
def test_a_bad_situation_at_creation_is_refused_in_french(w, make_client, data, message):
    client = _client(make_client, w.users["travailleur_social"])
    before = db.session.scalar(select(func.count()).select_from(Household))
    response = client.post("/menages/nouveau", data={**BASE, "project_id": w.project.id, **data})
    assert response.status_code == 200
    assert message in page(response)
    assert db.session.scalar(select(func.count()).select_from(Household)) == before


def test_the_header_leads_to_the_situation_on_every_tab(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = f"/menages/{w.household.id}/situation"
    for tab in ("", "/composition", "/equipe"):
        body = page(client.get(f"/menages/{w.household.id}{tab}"))
        assert f'<a href="{url}">Modifier la situation</a>' in body
    # Landlord staff neither see the link nor reach the form.
    landlord = _client(make_client, w.users["bailleur"])
    assert "Modifier la situation" not in page(landlord.get(f"/menages/{w.household.id}"))
    assert landlord.get(url).status_code == 403


def test_the_situation_is_edited_from_the_header(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = f"/menages/{w.household.id}/situation"
    form = page(client.get(url))
    version = re.search(r'name="expected_version" type="hidden" value="(\d+)"', form)[1]
    response = client.post(
        url,
        data={
            "expected_version": version,
            "target_publics": ["prioritaire_dalo"],
            "monthly_income_euros": "980",
            "apl_euros": "310,50",
            "debts_euros": "",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/menages/{w.household.id}")
    household = db.session.get(Household, w.household.id)
    assert household.target_publics == "prioritaire_dalo"
    assert (household.monthly_income_cents, household.apl_cents) == (98_000, 31_050)
    assert household.debts_cents is None
    entry = last_audit("household.updated")
    assert entry.household_id == household.id
    assert "target_publics" in entry.details["fields"] and "980" not in str(entry.details)
    # The form shows what was saved; a stale form is refused.
    again = page(client.get(url))
    assert re.search(r'<input checked[^>]*value="prioritaire_dalo"', again)
    assert re.search(r'name="apl_euros"[^>]*value="310[.,]50"', again)
    stale = client.post(url, data={"expected_version": version, "apl_euros": "1"})
    assert stale.status_code == 200
    assert db.session.get(Household, w.household.id).apl_cents == 31_050


def test_a_bad_amount_in_the_situation_is_refused_in_french(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = f"/menages/{w.household.id}/situation"
    version = re.search(
        r'name="expected_version" type="hidden" value="(\d+)"', page(client.get(url))
    )[1]
    response = client.post(url, data={"expected_version": version, "debts_euros": "-1"})
    assert response.status_code == 200
    assert "Indiquez un montant positif." in page(response)


def test_the_indicators_count_the_publics_given_at_creation(w, make_client):
    worker = w.users["travailleur_social"]
    client = _client(make_client, worker)
    household = _created(
        client, project_id=w.project.id, target_publics=["sortie_rue"], referent_id=worker.id
    )
    make_measure(household, worker, start_on=date(2026, 1, 10))
    db.session.commit()
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    figures = indicators(w.users["coordinateur"], [w.project.id], period).values()
    assert figures["public_sortie_rue"] == 1
    # w.household (its measure open in the period) has no public yet.
    assert figures["public_none"] == figures["supported"] - 1
