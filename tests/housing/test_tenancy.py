"""Landlord-side records on a lease: GLA actions, repayment plans, procedure stages (rules,
French refusals, audit), the Logement tab, header alerts and timeline events."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.households.queries import household_timeline
from app.housing import services
from app.housing.models import GlaAction, ProcedureStage, RepaymentPlan
from app.housing.queries import header_alerts
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_procedure_stage,
    make_project,
    make_snapshot,
    make_user,
)

TODAY = date(2026, 11, 27)


@pytest.fixture
def lease(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    occupancy = make_occupancy(household, make_dwelling(landlord), start_on=date(2025, 3, 1))
    return {"staff": staff, "worker": worker, "household": household, "occupancy": occupancy}


def last_audit() -> AuditEntry:
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def test_gla_action_is_recorded_with_its_author_and_audited(lease):
    action = services.record_gla_action(
        lease["staff"],
        lease["occupancy"],
        kind="contact_impaye",
        done_on=date(2026, 11, 2),
        outcome="Rendez-vous fixé.",
        today=TODAY,
    )
    assert action.author_id == lease["staff"].id
    entry = last_audit()
    assert entry.action == "gla_action.recorded" and entry.details == {"kind": "contact_impaye"}
    assert entry.household_id == lease["household"].id


@pytest.mark.parametrize(
    ("done_on", "message"),
    [(date(2026, 12, 1), "dans le futur"), (date(2025, 1, 1), "précède le début du bail")],
)
def test_gla_action_dates_are_checked(lease, done_on, message):
    with pytest.raises(DomainError, match=message):
        services.record_gla_action(
            lease["staff"], lease["occupancy"], kind="autre", done_on=done_on, today=TODAY
        )


def test_repayment_plan_rules_and_status(lease):
    with pytest.raises(DomainError, match="La mensualité doit être supérieure à 0 €"):
        services.start_repayment_plan(
            lease["staff"], lease["occupancy"], start_on=date(2026, 6, 1), monthly_cents=0
        )
    plan = services.start_repayment_plan(
        lease["staff"],
        lease["occupancy"],
        start_on=date(2026, 6, 1),
        monthly_cents=5_000,
        debt_cents=90_000,
    )
    assert last_audit().action == "repayment_plan.started"
    with pytest.raises(DomainError, match="déjà en cours"):
        services.start_repayment_plan(
            lease["staff"], lease["occupancy"], start_on=date(2026, 7, 1), monthly_cents=4_000
        )
    services.set_repayment_plan_status(
        lease["staff"],
        plan,
        version=plan.version,
        status="rompu",
        household_id=lease["household"].id,
    )
    assert plan.status == "rompu"
    assert last_audit().details == {"status": "rompu"}


def test_procedure_stage_hearing_date_only_where_it_belongs(lease):
    with pytest.raises(DomainError, match="date d'audience se saisit avec l'assignation"):
        services.record_procedure_stage(
            lease["staff"],
            lease["occupancy"],
            stage="commandement_payer",
            occurred_on=date(2026, 10, 1),
            hearing_on=date(2026, 12, 1),
            today=TODAY,
        )
    stage = services.record_procedure_stage(
        lease["staff"],
        lease["occupancy"],
        stage="assignation",
        occurred_on=date(2026, 10, 1),
        hearing_on=date(2027, 1, 12),
        today=TODAY,
    )
    assert stage.hearing_on == date(2027, 1, 12)
    assert last_audit().action == "procedure_stage.recorded"


def test_landlord_records_a_gla_action_from_the_tab(client, lease):
    household = lease["household"]
    client.login(lease["staff"])
    response = client.post(
        f"/menages/{household.id}/logement/gla/nouvelle",
        data={"kind": "visite_technique", "done_on": "2026-11-02", "outcome": "Fuite réparée."},
    )
    assert response.status_code == 302
    tab = page(client.get(f"/menages/{household.id}/logement"))
    assert "Visite technique" in tab and "Fuite réparée." in tab


def test_a_future_gla_date_on_the_form_changes_nothing(client, lease):
    household = lease["household"]
    client.login(lease["staff"])
    response = client.post(
        f"/menages/{household.id}/logement/gla/nouvelle",
        data={"kind": "autre", "done_on": "2099-01-01"},
    )
    assert "Cette date est dans le futur." in page(response)
    assert db.session.scalar(select(func.count(GlaAction.id))) == 0


def test_negative_monthly_amount_on_the_plan_form_changes_nothing(client, lease):
    client.login(lease["staff"])
    response = client.post(
        f"/menages/{lease['household'].id}/logement/plan/nouveau",
        data={"start_on": "2026-06-01", "monthly": "-50"},
    )
    assert "La mensualité doit être supérieure à 0 €." in page(response)
    assert db.session.scalar(select(func.count(RepaymentPlan.id))) == 0


def test_the_social_worker_sees_the_procedure_and_its_deadline_but_cannot_record_one(client, lease):
    make_procedure_stage(lease["occupancy"], "commandement_quitter", date(2026, 9, 15))
    client.login(lease["worker"])
    tab = page(client.get(f"/menages/{lease['household'].id}/logement"))
    assert "Commandement de quitter les lieux" in tab
    assert "Expulsion possible à partir du 1 avril 2027 (reporté après la trêve hivernale)" in tab
    assert "Noter une étape" not in tab
    response = client.post(
        f"/menages/{lease['household'].id}/logement/procedure/nouvelle",
        data={"stage": "jugement", "occurred_on": "2026-10-01"},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(ProcedureStage.id))) == 1


def test_header_alerts_name_the_months_of_arrears_and_the_procedure(lease):
    occupancy = lease["occupancy"]
    make_snapshot(occupancy, date(2026, 9, 1), balance_cents=20_000, amount_due_cents=44_000)
    make_snapshot(occupancy, date(2026, 10, 1), balance_cents=88_000, amount_due_cents=44_000)
    assert header_alerts(lease["household"], lease["staff"]) == [("Impayé 2 mois", "danger")]
    make_procedure_stage(occupancy, "commandement_payer", date(2026, 10, 20))
    assert header_alerts(lease["household"], lease["worker"]) == [
        ("Impayé 2 mois", "danger"),
        ("Procédure : commandement de payer", "danger"),
    ]


def test_tenancy_events_on_the_timeline(lease):
    make_procedure_stage(lease["occupancy"], "commandement_payer", date(2026, 10, 20))
    services.record_gla_action(
        lease["staff"],
        lease["occupancy"],
        kind="contact_impaye",
        done_on=date(2026, 10, 2),
        today=TODAY,
    )
    titles = {e.title for e in household_timeline(lease["household"], lease["worker"])}
    assert "Procédure : Commandement de payer" in titles
    assert "Action de GLA : Contact au sujet de l'impayé" in titles
