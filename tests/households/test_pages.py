"""The household pages as people use them: the file, its forms, stale edits and bad input."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.db import db
from app.households.file_registry import EXTENSION
from app.households.models import Diagnostic, Household, Member, Orientation
from tests.conftest import page
from tests.households.conftest import last_audit

H = "/menages/{}"


def _client(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _version(body: str) -> str:
    return re.search(r'name="expected_version" type="hidden" value="(\d+)"', body).group(1)


# --- the file --------------------------------------------------------------------------------


def test_the_file_header_shows_the_essentials_and_the_read_is_audited(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    body = page(client.get(H.format(w.household.id)))
    assert "Ménage M-2026-0001 · Projet A" in body
    assert w.household.display_name in body
    assert "2 personnes" in body
    assert "Maintien" in body
    assert w.users["travailleur_social"].full_name in body
    assert w.occupancy.dwelling.full_address in body and "Bail glissant" in body
    for tab in ("Parcours", "Composition", "Consentements", "Équipe"):
        assert f">{tab}</a>" in body
    entry = last_audit("household.read")
    assert entry.household_id == w.household.id
    assert entry.actor_id == w.users["travailleur_social"].id
    assert entry.details == {"page": "households.show"}


def test_landlord_staff_see_the_lease_and_the_referent_but_no_social_content(w, make_client):
    from app.households import services

    services.record_diagnostic(
        w.users["travailleur_social"],
        w.household,
        carried_out_on=date(2026, 1, 10),
        levels=dict.fromkeys(
            ("pouvoir_louer", "savoir_louer", "savoir_habiter", "environnement"), "partiel"
        ),
        comments={"savoir_habiter": "Syndrome de Diogène"},
        needs=["sante"],
        recommended_intensity="renforcee",
    )
    w.household.target_publics = "violences"
    w.household.debts_cents = 123_456
    db.session.commit()
    client = _client(make_client, w.users["bailleur"])
    body = page(client.get(H.format(w.household.id)))
    assert "Bail glissant" in body and w.users["travailleur_social"].email in body
    for secret in ("Diagnostic", "Diogène", "Renforcée", "violences", "1 234,56"):
        assert secret not in body
    assert ">Consentements</a>" not in body  # tab hidden: consents are social content
    members = page(client.get(H.format(w.household.id) + "/composition"))
    assert "Inès" not in members and "2015" not in members
    assert "Nombre de personnes" in members
    assert client.get(H.format(w.household.id) + "/consentements").status_code == 403


def test_header_alerts_and_tabs_are_registries(app, w, make_client, monkeypatch):
    registry = app.extensions[EXTENSION]
    monkeypatch.setattr(registry, "badges", registry.badges)
    monkeypatch.setattr(registry, "tabs", registry.tabs)
    registry.add_badge(5, "test", _test_alerts)
    registry.add_tab(15, "nowhere.household", "Onglet absent")
    registry.add_tab(15, "households.team", "Onglet ajouté")
    w.household.referent_id = None
    db.session.commit()
    body = page(_client(make_client, w.users["coordinateur"]).get(H.format(w.household.id)))
    assert "Impayé 2 mois" in body and "badge--danger" in body
    assert "Sans référent·e" in body
    assert "Onglet absent" not in body  # its endpoint is not registered
    # Tabs follow their order numbers, whichever module registered them first.
    nav = body.split('aria-label="Rubriques du dossier"')[1].split("</nav>")[0]
    tabs = re.findall(r'<a href="[^"]+"(?: aria-current="page")?>([^<]+)</a>', nav)
    assert tabs[:3] == ["Parcours", "Onglet ajouté", "Accompagnement"]


def _test_alerts(household, viewer):
    return [("Impayé 2 mois", "danger")]


def test_timeline_on_the_page_expands_with_details(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    response = client.post(
        H.format(w.household.id) + "/orientation",
        data={
            "prescriber": "siao",
            "prescriber_detail": "SIAO 69",
            "oriented_on": "2026-01-15",
            "kind": "acces",
            "reason": "Sortie de CHRS",
        },
    )
    assert response.status_code == 302
    body = page(client.get(H.format(w.household.id)))
    assert '<ol class="timeline"' in body
    assert "timeline__item--social" in body
    assert '<summary><span class="timeline__title">Orientation par SIAO (SIAO 69)</span>' in body
    assert "Sortie de CHRS" in body


# --- creation and members --------------------------------------------------------------------


def test_a_social_worker_creates_a_household_and_becomes_its_referent(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    form = page(client.get("/menages/nouveau"))
    assert 'type="date"' in form
    response = client.post(
        "/menages/nouveau",
        data={
            "project_id": w.project.id,
            "head_first_name": "Mamadou",
            "head_last_name": "Koné",
            "head_birth_on": "1979-07-14",
            "phone": "06 01 02 03 04",
            "referent_id": w.users["travailleur_social"].id,
        },
    )
    assert response.status_code == 302
    household = db.session.scalar(select(Household).order_by(Household.id.desc()))
    assert response.location.endswith(f"/menages/{household.id}")
    assert household.display_name == "Mamadou Koné"
    assert household.referent_id == w.users["travailleur_social"].id


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"head_first_name": ""}, "Indiquez le prénom."),
        ({"head_birth_on": "2026-02-30"}, "Indiquez une date valide"),
        ({"head_birth_on": "2099-01-01"}, "la date ne peut pas être dans le futur"),
        ({"head_last_name": "x" * 81}, "80 caractères au plus."),
        ({"project_id": "999999"}, "Choisissez un de vos projets."),
    ],
)
def test_creation_refuses_bad_input_in_french_and_creates_nothing(w, make_client, data, message):
    client = _client(make_client, w.users["travailleur_social"])
    before = _count(Household), _count(Member)
    values = {
        "project_id": w.project.id,
        "head_first_name": "Mamadou",
        "head_last_name": "Koné",
        "head_birth_on": "1979-07-14",
        "referent_id": 0,
        **data,
    }
    response = client.post("/menages/nouveau", data=values)
    assert response.status_code == 200
    assert message in page(response)
    assert (_count(Household), _count(Member)) == before


def test_adding_a_duplicate_member_is_refused_on_the_page(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    response = client.post(
        H.format(w.household.id) + "/composition/ajouter",
        data={
            "first_name": "ines",
            "last_name": w.member.last_name.upper(),
            "birth_on": "2015-04-02",
            "relation": "enfant",
        },
    )
    assert response.status_code == 200
    assert "fait déjà partie du ménage" in page(response)
    assert len(db.session.get(Household, w.household.id).members) == 2


def test_members_are_added_edited_and_removed(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    base = H.format(w.household.id) + "/composition"
    assert (
        client.post(
            base + "/ajouter",
            data={
                "first_name": "Sami",
                "last_name": "Haddad",
                "birth_on": "2018-09-30",
                "relation": "enfant",
            },
        ).status_code
        == 302
    )
    sami = db.session.scalar(select(Member).where(Member.first_name == "Sami"))
    edit_form = page(client.get(f"{base}/{sami.id}/modifier"))
    response = client.post(
        f"{base}/{sami.id}/modifier",
        data={
            "expected_version": _version(edit_form),
            "first_name": "Samy",
            "last_name": "Haddad",
            "birth_on": "2018-09-30",
            "relation": "enfant",
        },
    )
    assert response.status_code == 302
    db.session.refresh(sami)
    assert sami.search_name == "samy haddad"
    sami_id = sami.id
    response = client.post(
        f"{base}/{sami_id}/retirer", data={"expected_version": str(sami.version)}
    )
    assert response.status_code == 302
    assert db.session.get(Member, sami_id) is None
    assert "ne fait plus partie du ménage" in page(client.get(base))


# --- stale edits -----------------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_keeps_the_other_persons_data(w, make_client):
    first = _client(make_client, w.users["travailleur_social"])
    second = _client(make_client, w.users["coordinateur"])
    url = H.format(w.household.id) + "/modifier"
    opened = page(first.get(url))
    assert 'inputmode="decimal"' in opened
    second_form = page(second.get(url))
    saved = second.post(
        url,
        data={
            "expected_version": _version(second_form),
            "phone": "04 78 00 00 00",
            "monthly_income_euros": "1 050,50",
        },
    )
    assert saved.status_code == 302
    refused = first.post(
        url,
        data={
            "expected_version": _version(opened),
            "phone": "06 99 99 99 99",
            "monthly_income_euros": "10",
        },
    )
    assert refused.status_code == 200
    body = page(refused)
    coordinator = w.users["coordinateur"].full_name
    assert re.search(rf"Cette fiche a été modifiée par {coordinator} à \d\d:\d\d", body)
    household = db.session.get(Household, w.household.id)
    assert household.phone == "04 78 00 00 00"
    assert household.monthly_income_cents == 105_050


def test_a_stale_stage_move_is_refused(w, make_client):
    first = _client(make_client, w.users["travailleur_social"])
    second = _client(make_client, w.users["coordinateur"])
    url = H.format(w.household.id) + "/etape"
    opened = page(first.get(url))
    second_form = page(second.get(url))
    assert (
        second.post(
            url,
            data={
                "expected_version": _version(second_form),
                "to_stage": "sortie",
                "on": date.today().isoformat(),
            },
        ).status_code
        == 302
    )
    body = page(
        first.post(
            url,
            data={
                "expected_version": _version(opened),
                "to_stage": "installation",
                "on": date.today().isoformat(),
                "reason": "Erreur",
            },
        )
    )
    assert "Cette fiche a été modifiée par" in body
    assert db.session.get(Household, w.household.id).stage == "sortie"


# --- other forms -----------------------------------------------------------------------------


def test_diagnostic_form_records_and_refuses_missing_levels(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = H.format(w.household.id) + "/diagnostic"
    form = page(client.get(url))
    assert "Renforcée" in form and "Soutenue" in form and "Modérée" in form
    incomplete = client.post(url, data={"carried_out_on": "2026-01-10"})
    assert incomplete.status_code == 200 and "Choisissez un niveau." in page(incomplete)
    assert _count(Diagnostic) == 0
    data = {
        "carried_out_on": "2026-01-10",
        "pouvoir_louer_level": "a_travailler",
        "savoir_louer_level": "partiel",
        "savoir_habiter_level": "acquis",
        "environnement_level": "acquis",
        "needs": ["budget_dettes", "sante"],
        "recommended_intensity": "soutenue",
    }
    assert client.post(url, data=data).status_code == 302
    assert _count(Diagnostic) == 1
    # The next diagnostic starts from this one.
    again = page(client.get(url))
    assert re.search(
        r'<input checked[^>]*name="pouvoir_louer_level"[^>]*value="a_travailler"', again
    )


def test_orientation_refuses_an_impossible_date(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    response = client.post(
        H.format(w.household.id) + "/orientation",
        data={"prescriber": "siao", "oriented_on": "2026-13-01", "kind": "acces"},
    )
    assert "Indiquez une date valide" in page(response)
    assert _count(Orientation) == 0


def test_only_coordinators_name_the_referent(w, make_client):
    colleague = w.team_colleague
    coordinator = _client(make_client, w.users["coordinateur"])
    team = page(coordinator.get(H.format(w.household.id) + "/equipe"))
    response = coordinator.post(
        H.format(w.household.id) + "/referent",
        data={"expected_version": _version(team), "referent_id": colleague.id},
    )
    assert response.status_code == 302
    assert db.session.get(Household, w.household.id).referent_id == colleague.id
    worker_team = page(_client(make_client, colleague).get(H.format(w.household.id) + "/equipe"))
    assert "Changer de référent·e" not in worker_team


# --- home ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("travailleur_social", "/agenda/"),  # « Ma semaine »
        ("coordinateur", "/menages/"),
        ("admin", "/admin/utilisateurs/"),
    ],
)
def test_home_sends_each_role_to_its_work(w, make_client, role, target):
    response = _client(make_client, w.users[role]).get("/")
    assert response.status_code == 302 and response.location.endswith(target)


def test_landlord_staff_land_on_the_housing_dashboard_or_the_households(w, make_client, app):
    response = _client(make_client, w.users["bailleur"]).get("/")
    expected = "/logements" if "housing.dashboard" in app.view_functions else "/menages/"
    assert response.location.startswith(expected) or expected in response.location
