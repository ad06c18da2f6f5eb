"""The printable synthesis follows the household's visibility and field rules."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from tests.conftest import page
from tests.world import build_world


def _synthesis(make_client, user, household):
    client = make_client()
    client.login(user)
    return client.get(f"/menages/{household.id}/synthese")


def test_support_team_sees_the_whole_synthesis(make_client, app):
    w = build_world()
    for role in ("coordinateur", "travailleur_social"):
        response = _synthesis(make_client, w.users[role], w.household)
        assert response.status_code == 200
        text = page(response)
        assert "Synthèse pour la réunion de suivi · ménage M-2026-0001" in text
        assert "Inès" in text  # members
        assert w.objective.title in text
        assert "10 000 logements HLM accompagnés" in text  # open measure
        assert "Contacts récents" in text and "Visite à domicile" in text
        assert "Situation locative" in text
        assert "Appeler le ménage" in text  # the worker's reminder (open, seen by the team)
        assert "Note réservée" not in text  # restricted notes never go on paper
        assert 'href="/static/css/print.css"' in text and 'media="print"' in text


def test_landlord_staff_get_the_tenancy_only_synthesis(make_client, app):
    w = build_world()
    response = _synthesis(make_client, w.users["bailleur"], w.household)
    assert response.status_code == 200
    text = page(response)
    assert "Situation locative" in text
    assert "Bail glissant" in text
    assert "Comptes rendus partagés avec le bailleur" in text
    for social in ("Inès", w.objective.title, "Objectifs", "Mesure et intensité", "Dernier bilan"):
        assert social not in text, social
    assert "Visite à domicile" not in text


def test_outside_the_scope_it_does_not_exist(make_client, app):
    w = build_world()
    for role in ("autre_bailleur", "autre_travailleur_social"):
        assert _synthesis(make_client, w.users[role], w.household).status_code == 404
    assert _synthesis(make_client, w.users["admin"], w.household).status_code == 403


def test_printing_is_audited(make_client, app):
    w = build_world()
    _synthesis(make_client, w.users["bailleur"], w.household)
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "household.read", AuditEntry.household_id == w.household.id
        )
    )
    assert entry.actor_id == w.users["bailleur"].id
    assert entry.details == {"page": "reports.household_synthesis", "export": "print"}
