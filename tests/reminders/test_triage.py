"""Triage of the inbox: filters by kind and household (a wrong value is explained, never an
error page), grouping by household, bulk "fait" with a note (all or nothing), the yearly
insurance certificates as one line per household for the landlord's staff, and pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.db import db
from app.formatting import today_paris
from app.reminders.models import Reminder
from app.reminders.triage import PAGE_SIZE
from tests.conftest import page
from tests.factories import make_household, make_tenancy
from tests.reminders.conftest import reminders

INSURANCE = "Attestation d'assurance annuelle"


@pytest.fixture(autouse=True)
def _app(app):
    return app


@pytest.fixture
def homes(team):
    first = make_household(team.project, referent=team.worker, reference="TR-0001")
    second = make_household(team.project, referent=team.worker, reference="TR-0002")
    for household in (first, second):
        make_tenancy(household, team.landlord)
    return first, second


def _staff_reminder(team, household, rule_code, title, days, subject=None):
    reminder = Reminder(
        rule_code=rule_code,
        subject_id=subject or household.id,
        household_id=household.id,
        title=title,
        due_on=today_paris() + timedelta(days=days),
        recipient_role="personnel_bailleur",
        recipient_organisation_id=team.landlord.id,
    )
    db.session.add(reminder)
    db.session.flush()
    return reminder


def _insurance_backlog(team, homes):
    """Twelve monthly-overdue certificates for the first home, one for the second, and a
    glissement reminder for the first."""
    first, second = homes
    backlog = [
        _staff_reminder(team, first, "attestation_assurance", INSURANCE, -30 * n) for n in range(12)
    ]
    other = _staff_reminder(team, second, "attestation_assurance", INSURANCE, -3)
    glissement = _staff_reminder(team, first, "glissement_cible", "Date cible de glissement", 10)
    db.session.commit()
    return backlog, other, glissement


def _rows(body: str) -> list[str]:
    return [part.split("</tr>")[0] for part in body.split('<tr id="rappel-')[1:]]


def test_insurance_certificates_are_one_line_per_household_with_the_latest_date(
    client, team, homes
):
    backlog, other, _ = _insurance_backlog(team, homes)
    client.login(team.landlord_staff)
    body = page(client.get("/rappels/"))
    rows = _rows(body)
    assert len(rows) == 3
    insurance_rows = [row for row in rows if INSURANCE in row]
    assert len(insurance_rows) == 2
    latest = backlog[0]  # due today, the most recent
    assert any(row.startswith(f'{latest.id}"') for row in rows)
    assert "et 11 plus anciennes pour ce ménage" in body
    # Marking the line done closes the household's older ones too, not the other household's.
    response = client.post(f"/rappels/{latest.id}/fait", data={"note": "Reçue le 3/12"})
    assert response.status_code == 302
    assert [r.id for r in reminders("attestation_assurance") if r.is_open] == [other.id]
    assert {r.done_note for r in reminders("attestation_assurance") if not r.is_open} == {
        "Reçue le 3/12"
    }


def test_filter_by_kind_and_household_and_group_by_household(client, team, homes):
    _first, second = homes
    _, other, glissement = _insurance_backlog(team, homes)
    client.login(team.landlord_staff)
    body = page(client.get("/rappels/?type=glissement_cible"))
    assert [row.split('"')[0] for row in _rows(body)] == [str(glissement.id)]
    assert "Date cible de glissement du bail (1)" in body  # the kinds, with their counts
    body = page(client.get(f"/rappels/?menage={second.id}"))
    assert [row.split('"')[0] for row in _rows(body)] == [str(other.id)]
    body = page(client.get("/rappels/?grouper=menage"))
    assert body.index("Ménage TR-0001") < body.index("Ménage TR-0002")
    assert 'id="en-retard"' not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=inconnu", "Ce type de rappel n'existe pas"),
        ("type=%27%3Bdrop", "Ce type de rappel n'existe pas"),
        ("menage=abc", "Ce ménage n'a pas de rappel pour vous"),
        ("menage=999999", "Ce ménage n'a pas de rappel pour vous"),
        ("menage=99999999999999999999", "Ce ménage n'a pas de rappel pour vous"),
        ("page=-1", "Numéro de page invalide"),
    ],
)
def test_a_wrong_filter_is_explained_in_french(client, team, homes, query, message):
    _insurance_backlog(team, homes)
    client.login(team.landlord_staff)
    response = client.get(f"/rappels/?{query}")
    assert response.status_code == 200
    body = page(response)
    assert message in body and len(_rows(body)) == 3  # the filter is dropped


def test_a_household_out_of_scope_is_not_a_filter(client, team, homes):
    hidden = make_household(team.project, referent=team.colleague, reference="TR-0009")
    _staff_reminder(team, hidden, "glissement_cible", "Date cible de glissement", 1)
    db.session.commit()
    client.login(team.worker)
    body = page(client.get(f"/rappels/?menage={hidden.id}"))
    assert "Ce ménage n'a pas de rappel pour vous" in body and "TR-0009" not in body


def test_bulk_done_with_a_note(client, team, homes):
    _backlog, other, glissement = _insurance_backlog(team, homes)
    client.login(team.landlord_staff)
    response = client.post(
        "/rappels/fait",
        data={"ids": [str(other.id), str(glissement.id)], "note": "Vu en CAL", "type": ""},
    )
    assert response.status_code == 302 and response.location.endswith("/rappels/")
    closed = {r.id: r for r in reminders() if not r.is_open}
    assert set(closed) == {other.id, glissement.id}
    assert {r.done_note for r in closed.values()} == {"Vu en CAL"}
    assert {r.closed_by_id for r in closed.values()} == {team.landlord_staff.id}
    assert "2 rappels marqués comme fait." in page(client.get("/rappels/"))


def test_bulk_done_keeps_the_filters(client, team, homes):
    _, other, _ = _insurance_backlog(team, homes)
    client.login(team.landlord_staff)
    response = client.post(
        "/rappels/fait",
        data={"ids": [str(other.id)], "type": "attestation_assurance", "grouper": "menage"},
    )
    assert response.location.endswith("/rappels/?type=attestation_assurance&grouper=menage")


def test_bulk_done_refuses_ids_out_of_scope_and_changes_nothing(client, team, homes):
    first, _ = homes
    _, other, glissement = _insurance_backlog(team, homes)
    worker_reminder = Reminder(
        rule_code="manuel",
        household_id=first.id,
        title="Rappel du référent",
        due_on=today_paris(),
        recipient_user_id=team.worker.id,
    )
    db.session.add(worker_reminder)
    db.session.commit()
    client.login(team.landlord_staff)
    for ids in (
        [other.id, worker_reminder.id],  # not addressed to them
        [other.id, 987654],  # does not exist
        [other.id, "abc"],  # not an id
        [],  # nothing ticked
    ):
        response = client.post("/rappels/fait", data={"ids": [str(i) for i in ids]})
        assert response.status_code == 302
        body = page(client.get("/rappels/"))
        assert "rien n'a été modifié" in body or "Cochez au moins un rappel" in body
        assert all(r.is_open for r in reminders()), ids
    # Already closed: refused too.
    client.post(f"/rappels/{glissement.id}/fait")
    client.post("/rappels/fait", data={"ids": [str(other.id), str(glissement.id)]})
    assert reminders(id=other.id)[0].is_open


def test_the_inbox_is_paginated(client, team, homes):
    first, _ = homes
    for n in range(PAGE_SIZE + 5):
        db.session.add(
            Reminder(
                rule_code="manuel",
                household_id=first.id,
                title=f"Rappel n° {n:03d}",
                due_on=today_paris() + timedelta(days=n % 40),
                recipient_user_id=team.worker.id,
            )
        )
    db.session.commit()
    client.login(team.worker)
    body = page(client.get("/rappels/"))
    assert len(_rows(body)) == PAGE_SIZE and "page 1 sur 2" in body
    body = page(client.get("/rappels/?page=2"))
    assert len(_rows(body)) == 5
    body = page(client.get("/rappels/?page=9"))  # past the end: the last page
    assert len(_rows(body)) == 5


def test_the_addressee_rule_is_the_same_with_the_viewer_as_parameters(app):
    """``addressed_to_viewer`` (statements built once per process, the viewer bound at each
    page) and ``addressed_to`` (built per call) pick the same reminders, for people of every
    kind of addressing: by name, by role with or without an organisation, and none."""
    from sqlalchemy import select

    from app.permissions import Role
    from app.reminders.queries import addressed_to, addressed_to_viewer, viewer_values
    from tests.factories import make_landlord, make_user

    landlord, other_landlord = make_landlord(), make_landlord()
    people = [
        make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord),
        make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord),
        make_user(Role.PERSONNEL_BAILLEUR, organisation=other_landlord),
        make_user(Role.TRAVAILLEUR_SOCIAL),
        make_user(Role.COORDINATEUR),
    ]
    addressees = [{"recipient_user_id": person.id} for person in people] + [
        {"recipient_role": Role.PERSONNEL_BAILLEUR.value, "recipient_organisation_id": landlord.id},
        {"recipient_role": Role.PERSONNEL_BAILLEUR.value},
        {"recipient_role": Role.TRAVAILLEUR_SOCIAL.value},
        {"recipient_role": Role.COORDINATEUR.value, "recipient_organisation_id": landlord.id},
    ]
    for n, addressee in enumerate(addressees):
        db.session.add(
            Reminder(rule_code="manuel", title=f"R{n}", due_on=date(2026, 3, 1), **addressee)
        )
    db.session.flush()
    for person in people:
        by_call = set(db.session.scalars(select(Reminder.title).where(addressed_to(person))))
        bound = set(
            db.session.scalars(
                select(Reminder.title).where(addressed_to_viewer()), viewer_values(person)
            )
        )
        assert by_call == bound and by_call, (person.email, by_call, bound)
