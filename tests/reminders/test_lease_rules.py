"""Bail glissant rules: the 6-monthly tripartite review and the glissement target date."""

from __future__ import annotations

from datetime import date

from app.db import db
from app.housing.models import LeaseReview
from app.permissions import Role
from app.reminders.models import ReminderSetting
from tests.factories import make_household, make_tenancy
from tests.reminders.conftest import open_keys, reminders, sweep_on


def _bail_glissant(team, referent=True, **values):
    household = make_household(team.project, referent=team.worker if referent else None)
    occupancy = make_tenancy(
        household, team.landlord, lease_type="bail_glissant", start_on=date(2025, 2, 1), **values
    )
    return household, occupancy


def test_review_is_due_six_months_after_the_lease_started(app, team):
    household, _ = _bail_glissant(team)
    sweep_on(date(2025, 6, 15))  # due 1 August: more than 30 days ahead
    assert open_keys("bail_glissant_bilan") == []
    sweep_on(date(2025, 7, 5))
    assert open_keys("bail_glissant_bilan") == [(household.id, date(2025, 8, 1), team.worker.id)]


def test_a_sweep_run_twice_creates_nothing_new(app, team):
    _bail_glissant(team)
    first = sweep_on(date(2025, 7, 5))
    second = sweep_on(date(2025, 7, 5))
    assert first["rules"]["bail_glissant_bilan"] == [1, 0]
    assert second["rules"]["bail_glissant_bilan"] == [0, 0]
    assert len(reminders("bail_glissant_bilan")) == 1


def test_recording_the_review_closes_the_reminder_and_sets_the_next_one(app, team):
    household, occupancy = _bail_glissant(team)
    sweep_on(date(2025, 7, 5))
    db.session.add(
        LeaseReview(
            occupancy_id=occupancy.id,
            held_on=date(2025, 7, 20),
            decision="poursuite",
            next_review_on=date(2026, 1, 15),
        )
    )
    db.session.flush()
    summary = sweep_on(date(2025, 7, 21))
    assert summary["rules"]["bail_glissant_bilan"] == [0, 1]
    (closed,) = reminders("bail_glissant_bilan")
    assert closed.status == "fait" and closed.is_resolved_automatically
    assert closed.closed_by_id is None
    # The next one comes with the date the review set, 30 days ahead.
    sweep_on(date(2025, 12, 20))
    assert open_keys("bail_glissant_bilan") == [(household.id, date(2026, 1, 15), team.worker.id)]


def test_a_review_without_next_date_means_six_months_later(app, team):
    household, occupancy = _bail_glissant(team)
    db.session.add(
        LeaseReview(occupancy_id=occupancy.id, held_on=date(2025, 8, 10), decision="poursuite")
    )
    db.session.flush()
    sweep_on(date(2026, 1, 20))
    assert open_keys("bail_glissant_bilan") == [(household.id, date(2026, 2, 10), team.worker.id)]


def test_without_referent_the_coordinators_get_it_and_a_new_referent_takes_it_over(app, team):
    household, _ = _bail_glissant(team, referent=False)
    sweep_on(date(2025, 7, 5))
    assert open_keys("bail_glissant_bilan") == [
        (household.id, date(2025, 8, 1), (Role.COORDINATEUR.value, None))
    ]
    household.referent_id = team.colleague.id
    db.session.flush()
    summary = sweep_on(date(2025, 7, 6))
    assert summary["rules"]["bail_glissant_bilan"] == [0, 0]
    assert open_keys("bail_glissant_bilan") == [(household.id, date(2025, 8, 1), team.colleague.id)]


def test_no_review_reminder_for_other_leases_or_ended_ones(app, team):
    make_tenancy(make_household(team.project, referent=team.worker), team.landlord)  # bail direct
    _bail_glissant(team, end_on=date(2025, 6, 30), end_reason="Départ")
    _bail_glissant(team, glissed_on=date(2025, 6, 1))
    sweep_on(date(2025, 7, 5))
    assert reminders("bail_glissant_bilan") == []


def test_an_administrator_can_change_the_rhythm_and_the_lead_time(app, team):
    household, _ = _bail_glissant(team)
    db.session.add_all(
        [
            ReminderSetting(key="lease_review_interval_months", value=4),
            ReminderSetting(key="lease_review_lead_days", value=10),
        ]
    )
    db.session.flush()
    sweep_on(date(2025, 5, 20))  # 1 June is 12 days ahead
    assert open_keys("bail_glissant_bilan") == []
    sweep_on(date(2025, 5, 22))
    assert open_keys("bail_glissant_bilan") == [(household.id, date(2025, 6, 1), team.worker.id)]


def test_glissement_target_reminds_the_landlord_staff_until_the_lease_slides(app, team):
    household, occupancy = _bail_glissant(team, glissement_target_on=date(2025, 9, 1))
    sweep_on(date(2025, 7, 1))  # 62 days ahead: not yet
    assert open_keys("glissement_cible") == []
    sweep_on(date(2025, 7, 3))
    assert open_keys("glissement_cible") == [
        (household.id, date(2025, 9, 1), (Role.PERSONNEL_BAILLEUR.value, team.landlord.id))
    ]
    sweep_on(date(2025, 9, 10))  # overdue: still there
    assert len(open_keys("glissement_cible")) == 1
    occupancy.glissed_on = date(2025, 9, 12)
    db.session.flush()
    sweep_on(date(2025, 9, 12))
    assert open_keys("glissement_cible") == []
    (closed,) = reminders("glissement_cible")
    assert closed.is_resolved_automatically


def test_a_reminder_marked_done_is_not_created_again(app, team):
    from app.reminders.services import mark_done

    _bail_glissant(team)
    sweep_on(date(2025, 7, 5))
    (reminder,) = reminders("bail_glissant_bilan")
    mark_done(team.worker, reminder, note="Bilan fixé au 28 juillet")
    db.session.flush()
    assert sweep_on(date(2025, 7, 6))["created"] == 0
    (same,) = reminders("bail_glissant_bilan")
    assert same.status == "fait" and not same.is_resolved_automatically
