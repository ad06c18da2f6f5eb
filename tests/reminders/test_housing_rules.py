"""Landlord-side rules: arrears (CAF report, repayment plan), eviction-procedure deadlines,
winter truce, yearly insurance certificate."""

from __future__ import annotations

from datetime import date

import pytest

from app.db import db
from app.housing.models import GlaAction, ProcedureStage, RentAccountSnapshot, RepaymentPlan
from app.permissions import Role
from app.reminders.rules import truce_season
from tests.factories import make_household, make_tenancy
from tests.reminders.conftest import open_keys, reminders, sweep_on

RENT = 44_000  # rent and charges called each month, in cents


def _lease(team, **values):
    household = make_household(team.project, referent=team.worker)
    return household, make_tenancy(household, team.landlord, start_on=date(2024, 9, 1), **values)


def _accounts(occupancy, balances: dict[date, int], **values):
    for month, balance in balances.items():
        db.session.add(
            RentAccountSnapshot(
                occupancy_id=occupancy.id,
                month=month,
                balance_cents=balance,
                amount_due_cents=RENT,
                **values,
            )
        )
    db.session.flush()


def _stage(occupancy, stage: str, occurred_on: date, **values):
    db.session.add(
        ProcedureStage(occupancy_id=occupancy.id, stage=stage, occurred_on=occurred_on, **values)
    )
    db.session.flush()


def landlord(team):
    return (Role.PERSONNEL_BAILLEUR.value, team.landlord.id)


# arrears ------------------------------------------------------------------------------------


def test_arrears_reaching_twice_the_rent_ask_the_landlord_to_report_to_the_caf(app, team):
    household, occupancy = _lease(team)
    # Below twice the rent in March, at it in April (end of April): report before 1 July.
    _accounts(occupancy, {date(2025, 3, 1): RENT, date(2025, 4, 1): 2 * RENT})
    sweep_on(date(2025, 6, 16))
    assert open_keys("impaye_signalement_caf") == []
    sweep_on(date(2025, 6, 17))
    assert open_keys("impaye_signalement_caf") == [(household.id, date(2025, 7, 1), landlord(team))]


def test_the_run_of_arrears_restarts_after_a_month_below_the_threshold(app, team):
    household, occupancy = _lease(team)
    _accounts(
        occupancy,
        {
            date(2025, 1, 1): 3 * RENT,
            date(2025, 2, 1): RENT // 2,
            date(2025, 3, 1): 2 * RENT,
            date(2025, 4, 1): 3 * RENT,
        },
    )
    sweep_on(date(2025, 6, 1))
    assert open_keys("impaye_signalement_caf") == [(household.id, date(2025, 6, 1), landlord(team))]


def test_the_caf_report_on_a_snapshot_or_as_a_stage_resolves_it(app, team):
    _, reported = _lease(team)
    _accounts(reported, {date(2025, 4, 1): 2 * RENT})
    _, staged = _lease(team)
    _accounts(staged, {date(2025, 4, 1): 2 * RENT})
    sweep_on(date(2025, 6, 20))
    assert len(open_keys("impaye_signalement_caf")) == 2
    db.session.get(RentAccountSnapshot, 1).caf_reported_on = date(2025, 6, 21)
    _stage(staged, "signalement_caf", date(2025, 6, 21))
    assert sweep_on(date(2025, 6, 21))["rules"]["impaye_signalement_caf"] == [0, 2]


def test_paying_back_below_the_threshold_resolves_it(app, team):
    _, occupancy = _lease(team)
    _accounts(occupancy, {date(2025, 4, 1): 2 * RENT})
    sweep_on(date(2025, 6, 20))
    _accounts(occupancy, {date(2025, 5, 1): RENT})
    assert sweep_on(date(2025, 6, 20))["rules"]["impaye_signalement_caf"] == [0, 1]


def test_no_repayment_plan_six_months_after_the_arrears_asks_the_referent_for_the_fsl(app, team):
    household, occupancy = _lease(team)
    _accounts(occupancy, {date(2025, 1, 1): 2 * RENT, date(2025, 6, 1): 4 * RENT})
    sweep_on(date(2025, 7, 17))  # due 1 August (end of January + 6 months), 15 days ahead
    assert open_keys("impaye_sans_plan") == []
    sweep_on(date(2025, 7, 18))
    assert open_keys("impaye_sans_plan") == [(household.id, date(2025, 8, 1), team.worker.id)]
    db.session.add(
        RepaymentPlan(occupancy_id=occupancy.id, start_on=date(2025, 7, 20), monthly_cents=5000)
    )
    db.session.flush()
    assert sweep_on(date(2025, 7, 20))["rules"]["impaye_sans_plan"] == [0, 1]


def test_a_broken_plan_does_not_count(app, team):
    household, occupancy = _lease(team)
    _accounts(occupancy, {date(2025, 1, 1): 2 * RENT})
    db.session.add(
        RepaymentPlan(
            occupancy_id=occupancy.id,
            start_on=date(2025, 3, 1),
            monthly_cents=5000,
            status="rompu",
        )
    )
    db.session.flush()
    sweep_on(date(2025, 8, 1))
    assert open_keys("impaye_sans_plan") == [(household.id, date(2025, 8, 1), team.worker.id)]


# procedure ------------------------------------------------------------------------------------


def test_commandement_de_payer_gives_six_weeks(app, team):
    household, occupancy = _lease(team)
    _stage(occupancy, "commandement_payer", date(2025, 5, 5))
    sweep_on(date(2025, 6, 1))  # 16 June is 15 days ahead
    assert open_keys("procedure_echeance") == []
    sweep_on(date(2025, 6, 2))
    assert open_keys("procedure_echeance") == [(household.id, date(2025, 6, 16), team.worker.id)]
    (reminder,) = reminders("procedure_echeance")
    assert reminder.title == "Fin du délai du commandement de payer (6 semaines)"


def test_the_next_stage_replaces_the_previous_deadline(app, team):
    household, occupancy = _lease(team)
    _stage(occupancy, "commandement_payer", date(2025, 5, 5))
    sweep_on(date(2025, 6, 10))
    _stage(occupancy, "assignation", date(2025, 6, 20), hearing_on=date(2025, 9, 18))
    summary = sweep_on(date(2025, 9, 5))
    assert summary["rules"]["procedure_echeance"] == [1, 1]
    assert open_keys("procedure_echeance") == [(household.id, date(2025, 9, 18), team.worker.id)]
    (_, current) = reminders("procedure_echeance")
    assert current.title == "Diagnostic social et financier à remettre avant l'audience"


def test_order_to_leave_waits_for_the_end_of_the_winter_truce(app, team):
    household, occupancy = _lease(team)
    _stage(occupancy, "commandement_quitter", date(2025, 12, 1))  # +2 months: in the truce
    sweep_on(date(2026, 3, 20))
    assert open_keys("procedure_echeance") == [(household.id, date(2026, 4, 1), team.worker.id)]


def test_a_closed_procedure_or_an_ended_lease_has_no_deadline(app, team):
    _, closed = _lease(team)
    _stage(closed, "commandement_payer", date(2025, 5, 5))
    _stage(closed, "cloture", date(2025, 5, 20))
    _, ended = _lease(team, end_on=date(2025, 5, 31), end_reason="Départ")
    _stage(ended, "commandement_payer", date(2025, 5, 5))
    sweep_on(date(2025, 6, 10))
    assert reminders("procedure_echeance") == []


# winter truce -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "season"),
    [
        (date(2025, 6, 1), (date(2025, 11, 1), date(2026, 3, 31))),
        (date(2025, 12, 1), (date(2025, 11, 1), date(2026, 3, 31))),
        (date(2026, 2, 1), (date(2025, 11, 1), date(2026, 3, 31))),
    ],
)
def test_truce_season(today, season):
    assert truce_season(today) == season


def test_truce_start_and_end_for_households_in_judicial_procedure(app, team):
    household, occupancy = _lease(team)
    _stage(occupancy, "commandement_payer", date(2025, 9, 1))
    _, amicable = _lease(team)  # arrears stage only: not a judicial procedure
    _stage(amicable, "impaye_constitue", date(2025, 9, 1))
    sweep_on(date(2025, 10, 16))
    assert open_keys("treve_debut") == []
    sweep_on(date(2025, 10, 17))
    assert open_keys("treve_debut") == [(household.id, date(2025, 11, 1), landlord(team))]
    assert open_keys("treve_fin") == []
    sweep_on(date(2026, 3, 16))
    assert open_keys("treve_fin") == [(household.id, date(2026, 3, 31), team.worker.id)]
    sweep_on(date(2026, 4, 1))  # the truce is over: its start no longer matters
    assert open_keys("treve_debut") == []
    assert reminders("treve_debut")[0].is_resolved_automatically
    sweep_on(date(2026, 5, 1))
    assert open_keys("treve_fin") == []


# insurance ------------------------------------------------------------------------------------


def test_insurance_certificate_every_year(app, team):
    household, occupancy = _lease(team)  # lease started 1 September 2024
    sweep_on(date(2025, 8, 16))
    assert open_keys("attestation_assurance") == []
    sweep_on(date(2025, 8, 17))  # 15 days ahead
    assert open_keys("attestation_assurance") == [(household.id, date(2025, 9, 1), landlord(team))]
    db.session.add(
        GlaAction(occupancy_id=occupancy.id, kind="attestation_assurance", done_on=date(2025, 9, 3))
    )
    db.session.flush()
    sweep_on(date(2025, 9, 3))
    assert open_keys("attestation_assurance") == []
    sweep_on(date(2026, 8, 20))
    assert open_keys("attestation_assurance") == [(household.id, date(2026, 9, 3), landlord(team))]


def test_an_uploaded_certificate_with_its_validity_end_closes_the_reminder(app, team):
    from app.documents.services import StoredFile, add_documents

    household, _ = _lease(team)  # lease started 1 September 2024
    sweep_on(date(2025, 8, 17))
    assert open_keys("attestation_assurance") == [(household.id, date(2025, 9, 1), landlord(team))]
    staff = team.landlord_staff
    certificate = StoredFile("attestation.pdf", "application/pdf", 10, "a" * 64)
    # Without a validity end the reminder stays (nothing says until when it is insured).
    add_documents(
        staff,
        household,
        category="assurance",
        title=None,
        document_on=None,
        valid_until=None,
        files=[certificate],
    )
    assert open_keys("attestation_assurance") != []
    add_documents(
        staff,
        household,
        category="assurance",
        title=None,
        document_on=date(2025, 8, 18),
        valid_until=date(2026, 10, 31),
        files=[certificate],
    )
    assert open_keys("attestation_assurance") == []
    assert reminders("attestation_assurance")[0].is_resolved_automatically
    sweep_on(date(2026, 9, 1))  # the yearly date alone (1 September) no longer counts
    assert open_keys("attestation_assurance") == []
    sweep_on(date(2026, 10, 16))  # 15 days before the certificate's end
    assert open_keys("attestation_assurance") == [
        (household.id, date(2026, 10, 31), landlord(team))
    ]


# social-housing application -----------------------------------------------------------------


def test_an_expiring_housing_application_reminds_the_referent_until_renewed_or_housed(app, team):
    household = make_household(team.project, referent=team.worker)
    household.housing_application_number = "069042512345678901"
    household.housing_application_expires_on = date(2025, 6, 30)
    db.session.flush()
    sweep_on(date(2025, 5, 30))  # 31 days ahead: not yet
    assert open_keys("demande_logement") == []
    sweep_on(date(2025, 5, 31))  # a month ahead
    assert open_keys("demande_logement") == [(household.id, date(2025, 6, 30), team.worker.id)]
    sweep_on(date(2025, 5, 31))
    assert len(reminders("demande_logement")) == 1  # a second sweep adds nothing
    household.housing_application_expires_on = date(2026, 6, 30)  # renewed
    db.session.flush()
    sweep_on(date(2025, 6, 2))
    assert open_keys("demande_logement") == []
    household.housing_application_expires_on = date(2025, 7, 15)
    db.session.flush()
    sweep_on(date(2025, 7, 1))
    assert len(open_keys("demande_logement")) == 1
    make_tenancy(household, team.landlord, start_on=date(2025, 7, 2))  # housed: no need
    sweep_on(date(2025, 7, 2))
    assert open_keys("demande_logement") == []
