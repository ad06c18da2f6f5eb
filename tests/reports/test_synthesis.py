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


def test_landlord_staff_see_only_their_reminders_and_their_leases(make_client, app):
    """The synthesis's reminders and rent account follow the household's tabs: landlord staff
    read the reminders addressed to them (by name, or to their role within their
    organisation), and the rent account of the leases in their organisation's dwellings."""
    from datetime import date, timedelta

    from app.formatting import today_paris
    from app.permissions import Role
    from app.reminders.models import Reminder, ReminderStatus
    from tests.factories import make_occupancy, make_snapshot, make_user

    w = build_world()
    today = today_paris()

    def reminder(title, **recipient):
        db.session.add(
            Reminder(
                rule_code="manuel",
                household_id=w.household.id,
                title=title,
                due_on=today + timedelta(days=3),
                status=ReminderStatus.A_FAIRE,
                created_at=w.household.created_at,
                **recipient,
            )
        )

    reminder("Pour moi", recipient_user_id=w.users["bailleur"].id)
    reminder(
        "Pour mon organisation",
        recipient_role=Role.PERSONNEL_BAILLEUR.value,
        recipient_organisation_id=w.landlord.id,
    )
    reminder(
        "Pour l'autre bailleur",
        recipient_role=Role.PERSONNEL_BAILLEUR.value,
        recipient_organisation_id=w.other_landlord.id,
    )
    # An ended lease in the other landlord's stock, with the latest (and a large) debt.
    other_lease = make_occupancy(w.household, w.other_dwelling, end_on=date(2026, 1, 31))
    make_snapshot(other_lease, date(2099, 1, 1), balance_cents=987_654)
    db.session.commit()

    text = page(_synthesis(make_client, w.users["bailleur"], w.household))
    assert "Pour moi" in text and "Pour mon organisation" in text
    assert "Pour l'autre bailleur" not in text
    assert "Appeler le ménage" not in text  # the worker's own reminder
    assert "876,54" not in text and "janvier 2099" not in text

    # A colleague of the same landlord, next in the same process (whose statements are
    # built once): the organisation's reminder, not the one addressed to the first by name.
    colleague = make_user(Role.PERSONNEL_BAILLEUR, organisation=w.landlord)
    db.session.commit()
    text = page(_synthesis(make_client, colleague, w.household))
    assert "Pour mon organisation" in text
    assert "Pour moi" not in text and "Pour l'autre bailleur" not in text

    text = page(_synthesis(make_client, w.users["travailleur_social"], w.household))
    for title in ("Pour moi", "Pour mon organisation", "Pour l'autre bailleur"):
        assert title in text  # the support team sees the whole team's reminders
    assert "janvier 2099 : 9\u202f876,54" in text  # and every lease's account
