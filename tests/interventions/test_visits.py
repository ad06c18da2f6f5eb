"""Visits: the rules of the quick form, corrections, contact reads, and what each role sees."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.formatting import today_paris
from app.interventions import services
from app.interventions.models import Intervention, InterventionCorrection
from app.interventions.queries import last_contact_on, last_contacts
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_consent,
    make_household,
    make_intervention,
    make_landlord,
    make_measure,
    make_project,
    make_tenancy,
    make_user,
)

TODAY = date(2026, 3, 12)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    make_tenancy(household, landlord)
    return {
        "household": household,
        "worker": worker,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "landlord": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project]),
    }


def visit(people, **values):
    values.setdefault("occurred_on", TODAY)
    values.setdefault("mode", "visite_domicile")
    values.setdefault("today", TODAY)
    return services.record_visit(people["worker"], people["household"], **values)


# --- rules -----------------------------------------------------------------------------------


def test_a_visit_is_recorded_with_its_audit_entry(people):
    recorded = visit(
        people,
        duration_minutes=45,
        domains=["sante", "budget_dettes"],
        note="Madame évoque des difficultés de sommeil.",
        next_action="Appeler le CMP",
        next_action_on=TODAY + timedelta(days=7),
    )
    db.session.flush()
    assert recorded.domains == "budget_dettes,sante" and recorded.is_contact
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "intervention.recorded")
    ).all()
    assert entry.target_id == recorded.id and entry.details == {
        "mode": "visite_domicile",
        "shared": False,
    }
    assert "sommeil" not in str(entry.details)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"duration_minutes": 0}, "duration_minutes", "entre 1 et 480 minutes"),
        ({"duration_minutes": 481}, "duration_minutes", "entre 1 et 480 minutes"),
        ({"occurred_on": TODAY + timedelta(days=1)}, "occurred_on", "dans le futur"),
        (
            {"next_action": "Relancer", "next_action_on": TODAY - timedelta(days=1)},
            "next_action_on",
            "est passée",
        ),
        ({"next_action_on": TODAY + timedelta(days=3)}, "next_action", "Précisez la prochaine"),
        ({"mode": "pigeon_voyageur"}, "mode", "type de contact"),
    ],
)
def test_bad_input_is_refused_in_french_and_records_nothing(people, values, field, message):
    with pytest.raises(DomainError, match=message) as refused:
        visit(people, **values)
    assert refused.value.field == field
    assert count(Intervention) == 0


def test_a_summary_is_shared_with_the_landlord_only_with_consent(app, people):
    with pytest.raises(DomainError) as refused:
        visit(people, shared_summary="Le ménage a repris ses paiements.", share_with_landlord=True)
    assert refused.value.message.startswith(
        "Consentement requis : Situation sociale et accompagnement → Bailleur."
    )
    assert refused.value.field == "share_with_landlord"
    with app.test_request_context():  # the link is built when the message is shown
        html = refused.value.message.__html__()
    assert (
        f'<a href="/menages/{people["household"].id}/consentements'
        '#consentement-situation-sociale-bailleur">'
    ) in html
    assert count(Intervention) == 0
    make_consent(people["household"], "bailleur", "situation_sociale", given_on=date(2026, 1, 1))
    shared = visit(
        people, shared_summary="Le ménage a repris ses paiements.", share_with_landlord=True
    )
    assert shared.is_summary_shared


def test_a_consent_to_share_the_tenancy_only_does_not_allow_a_shared_summary(people):
    make_consent(people["household"], "bailleur", "situation_locative")
    with pytest.raises(DomainError, match="Consentement requis : Situation sociale"):
        visit(people, shared_summary="Paiements repris.", share_with_landlord=True)


def test_a_correction_keeps_the_previous_text_who_and_when(people):
    recorded = visit(people, note="Premier jet", next_action="Rappeler")
    db.session.flush()
    coordinator = people["coordinator"]
    services.correct_intervention(
        coordinator,
        recorded,
        version=recorded.version,
        note="Texte corrigé",
        shared_summary=None,
        share_with_landlord=False,
        next_action="Rappeler",
        next_action_on=None,
        today=TODAY,
    )
    db.session.flush()
    [correction] = db.session.scalars(select(InterventionCorrection)).all()
    assert (correction.field, correction.previous_text) == ("note", "Premier jet")
    assert correction.corrected_by_id == coordinator.id and correction.corrected_at is not None
    assert recorded.note == "Texte corrigé"
    assert db.session.scalar(
        select(func.count()).where(AuditEntry.action == "intervention.corrected")
    )
    with pytest.raises(DomainError, match="Aucune modification"):
        services.correct_intervention(
            coordinator,
            recorded,
            version=recorded.version,
            note="Texte corrigé",
            shared_summary=None,
            share_with_landlord=False,
            next_action="Rappeler",
            next_action_on=None,
            today=TODAY,
        )


# --- reads for other domains ---------------------------------------------------------------


def test_a_missed_appointment_is_an_attempt_not_a_contact(people):
    household = people["household"]
    make_intervention(household, occurred_on=date(2026, 2, 1))
    make_intervention(household, occurred_on=date(2026, 3, 1), mode="rdv_non_honore")
    assert last_contact_on(household.id) == date(2026, 2, 1)
    rows = db.session.execute(last_contacts()).all()
    assert [(r.household_id, r.last_contact_on) for r in rows] == [(household.id, date(2026, 2, 1))]


# --- pages ----------------------------------------------------------------------------------


def test_the_form_offers_sharing_only_when_the_household_consented(people, client):
    household = people["household"]
    client.login(people["worker"])
    url = f"/menages/{household.id}/visites/nouvelle"
    body = page(client.get(url))
    assert "Noter une visite" in body and 'name="share_with_landlord"' not in body
    assert f'value="{today_paris().isoformat()}"' in body  # today by default
    # The landlord summary is replaced by the consent that brings it, linked to its cell.
    html = client.get(url).get_data(as_text=True)
    assert (
        '<p class="field__hint" id="landlord-summary-unavailable">Consentement requis : '
        f'<a href="/menages/{household.id}/consentements#consentement-situation-sociale-bailleur">'
        "Situation sociale et accompagnement → Bailleur</a>. Le résumé partagé avec le bailleur "
        "n&#39;est proposé qu&#39;avec cet accord du ménage.</p>"
    ) in html
    make_consent(household, "bailleur", "situation_sociale")
    body = page(client.get(url))
    assert 'name="share_with_landlord"' in body and "Consentement requis" not in body


def test_posting_a_visit_then_the_landlord_sees_only_the_ticked_summary(
    people, client, make_client
):
    household = people["household"]
    make_consent(household, "bailleur", "situation_sociale")
    client.login(people["worker"])
    url = f"/menages/{household.id}/visites/nouvelle"
    today = today_paris().isoformat()
    for note, summary, shared in (
        ("NOTE-RESERVEE-1", "RESUME-PARTAGE", "y"),
        ("NOTE-RESERVEE-2", "RESUME-NON-COCHE", ""),
    ):
        data = {
            "occurred_on": today,
            "mode": "visite_domicile",
            "duration_minutes": "40",
            "note": note,
            "shared_summary": summary,
            "next_action": "Accompagner à la CAF",
            "next_action_on": today,
        }
        if shared:
            data["share_with_landlord"] = shared
        response = client.post(url, data=data)
        assert response.status_code == 302, page(response)[:3000]
    assert count(Intervention) == 2

    worker_view = page(client.get(f"/menages/{household.id}"))
    assert "NOTE-RESERVEE-1" in worker_view and "RESUME-NON-COCHE" in worker_view

    landlord = make_client()
    landlord.login(people["landlord"])
    landlord_view = page(landlord.get(f"/menages/{household.id}"))
    assert "RESUME-PARTAGE" in landlord_view
    assert "RESUME-NON-COCHE" not in landlord_view
    assert "NOTE-RESERVEE" not in landlord_view and "Accompagner à la CAF" not in landlord_view
    assert landlord.get(f"/menages/{household.id}/accompagnement").status_code == 403


def test_bad_input_through_the_form_shows_the_french_message_and_saves_nothing(people, client):
    household = people["household"]
    client.login(people["worker"])
    yesterday = (today_paris() - timedelta(days=1)).isoformat()
    response = client.post(
        f"/menages/{household.id}/visites/nouvelle",
        data={
            "occurred_on": today_paris().isoformat(),
            "mode": "telephone",
            "duration_minutes": "900",
            "next_action": "Relancer",
            "next_action_on": yesterday,
        },
    )
    assert response.status_code == 200
    assert "La durée doit être comprise entre 1 et 480 minutes." in page(response)
    assert count(Intervention) == 0
    response = client.post(
        f"/menages/{household.id}/visites/nouvelle",
        data={
            "occurred_on": today_paris().isoformat(),
            "mode": "telephone",
            "next_action": "Relancer",
            "next_action_on": yesterday,
        },
    )
    assert "La date de la prochaine action est passée" in page(response)
    assert count(Intervention) == 0


def test_the_correction_page_shows_the_history(people, client):
    recorded = make_intervention(people["household"], author=people["worker"], note="Avant")
    client.login(people["worker"])
    url = f"/menages/{people['household'].id}/visites/{recorded.id}/corriger"
    response = client.post(url, data={"expected_version": recorded.version, "note": "Après"})
    assert response.status_code == 302
    body = page(client.get(url))
    assert "Historique des corrections" in body and "Avant" in body
    assert people["worker"].full_name in body


def test_a_visit_of_another_household_is_not_found(people, client):
    stranger = make_intervention(make_household(people["household"].project))
    client.login(people["worker"])
    url = f"/menages/{people['household'].id}/visites/{stranger.id}/corriger"
    assert client.get(url).status_code == 404


def _count_queries(client, url) -> int:
    statements = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(statements)


@pytest.mark.parametrize("path", ["", "/accompagnement"])
def test_file_pages_issue_a_fixed_number_of_queries(people, client, path):
    household = people["household"]
    make_measure(household)
    make_intervention(household, author=people["worker"], note="n")
    client.login(people["worker"])
    url = f"/menages/{household.id}{path}"
    few = _count_queries(client, url)
    for day in range(30):
        make_intervention(
            household,
            author=make_user(),
            occurred_on=date(2025, 1, 1) + timedelta(days=day),
            note="n",
            next_action="a",
        )
    assert _count_queries(client, url) == few
