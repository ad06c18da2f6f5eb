"""Handing households over to another référent: scope, reason, audit, reminder."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.formatting import today_paris
from app.households.models import Household
from app.reminders.models import Reminder
from tests.conftest import page


def _referents(*households):
    db.session.expire_all()
    return [db.session.get(Household, h.id).referent_id for h in households]


def _audit(action):
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _post(client, households, referent, reason="Rééquilibrage des portefeuilles", **extra):
    data = {
        "household_ids": [str(h.id) for h in households],
        "new_referent_id": str(referent.id),
        "reason": reason,
        "source": "list",
        **extra,
    }
    return client.post("/pilotage/reaffecter", data=data)


def test_reassigning_two_households(client, caseload):
    k3, k4 = caseload.households["K3"], caseload.households["K4"]
    client.login(caseload.coordinator)
    response = _post(client, [k3, k4], caseload.w1, indicateur="menages")
    assert response.status_code == 302
    assert "/pilotage/menages" in response.headers["Location"]
    assert _referents(k3, k4) == [caseload.w1.id, caseload.w1.id]
    entries = _audit("reports.reassigned")
    assert sorted(e.household_id for e in entries) == sorted([k3.id, k4.id])
    assert {e.details["reason"] for e in entries} == {"Rééquilibrage des portefeuilles"}
    assert {e.details["from_user_id"] for e in entries} == {caseload.w2.id}
    assert {e.actor_id for e in entries} == {caseload.coordinator.id}
    assert len(_audit("household.referent_assigned")) == 2
    reminders = list(
        db.session.scalars(select(Reminder).where(Reminder.rule_code == "reaffectation"))
    )
    assert sorted(r.household_id for r in reminders) == sorted([k3.id, k4.id])
    assert {r.recipient_user_id for r in reminders} == {caseload.w1.id}
    assert {r.due_on for r in reminders} == {today_paris() + timedelta(days=7)}
    assert {r.status for r in reminders} == {"a_faire"}
    followed = page(client.get(response.headers["Location"]))
    assert "2 ménages confiés à Wassim Un, qui a un rappel pour prendre contact." in followed


def test_reassigning_again_moves_the_contact_reminder(client, caseload):
    k3 = caseload.households["K3"]
    client.login(caseload.coordinator)
    _post(client, [k3], caseload.w1)
    _post(client, [k3], caseload.coordinator, reason="Situation à reprendre en coordination")
    reminders = list(
        db.session.scalars(select(Reminder).where(Reminder.rule_code == "reaffectation"))
    )
    assert [(r.recipient_user_id, r.status) for r in reminders] == [
        (caseload.coordinator.id, "a_faire")
    ]


def test_the_reason_is_required(client, caseload):
    k3 = caseload.households["K3"]
    client.login(caseload.coordinator)
    response = _post(client, [k3], caseload.w1, reason="  ")
    assert response.status_code == 200
    assert "Indiquez le motif de la réaffectation." in page(response)
    assert _referents(k3) == [caseload.w2.id]
    assert _audit("reports.reassigned") == []


def test_a_forged_household_outside_the_scope_changes_nothing(client, caseload, programme):
    k3 = caseload.households["K3"]
    foreign = programme.households["H1"]  # Projet A: not this coordinator's project
    client.login(caseload.coordinator)
    response = _post(client, [k3, foreign], caseload.w1)
    assert response.status_code == 200
    assert "ne font pas partie de vos projets : aucun ménage n'a été réaffecté." in page(response)
    assert _referents(k3, foreign) == [caseload.w2.id, programme.w1.id]
    assert _audit("reports.reassigned") == []
    assert db.session.scalar(select(Reminder).where(Reminder.rule_code == "reaffectation")) is None


def test_the_new_referent_must_work_on_the_project(client, caseload):
    k3 = caseload.households["K3"]
    client.login(caseload.coordinator)
    response = _post(client, [k3], caseload.outsider)
    assert response.status_code == 200
    assert "ne travaille pas sur ce projet" in page(response)
    assert _referents(k3) == [caseload.w2.id]


def test_no_household_ticked(client, caseload):
    client.login(caseload.coordinator)
    response = _post(client, [], caseload.w1)
    assert response.status_code == 200
    assert "Cochez au moins un ménage à réaffecter." in page(response)


def test_social_workers_cannot_reassign(client, caseload):
    client.login(caseload.w2)
    response = _post(client, [caseload.households["K3"]], caseload.w1)
    assert response.status_code == 403
    assert _referents(caseload.households["K3"]) == [caseload.w2.id]


def test_the_list_pages_through_the_caseload_and_reassigning_returns_to_the_page(
    client, caseload, app
):
    app.config["PAGE_SIZE"] = 2
    client.login(caseload.coordinator)
    first = page(client.get("/pilotage/menages"))
    second = page(client.get("/pilotage/menages", query_string={"page": 2}))
    assert "Ménages 1 à 2 · page 1" in first and 'rel="next"' in first
    assert "Ménages 3 à 4 · page 2" in second and 'rel="prev"' in second
    references = sorted(h.reference for h in caseload.households.values())
    shown = [ref for ref in references if ref in first or ref in second]
    assert shown == references[:4]  # pages follow the references' order, without overlap
    assert not {ref for ref in references if ref in first} & {
        ref for ref in references if ref in second
    }
    k3, k4 = caseload.households["K3"], caseload.households["K4"]
    response = _post(client, [k3, k4], caseload.w1, indicateur="menages", page="2")
    assert response.status_code == 302
    assert "page=2" in response.headers["Location"]
    beyond = page(client.get("/pilotage/menages", query_string={"page": 99}))
    assert "Cette page est au-delà de la fin de la liste." in beyond
