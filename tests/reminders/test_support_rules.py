"""Support rules: contact rhythm, no contact for N weeks, reviews, end of measure, post-exit
checks. Measures, reviews and exits go through the support services, as users create them."""

from __future__ import annotations

from datetime import date

from app.db import db
from app.permissions import Role
from app.reminders.models import ReminderSetting
from app.support import services as support
from tests.factories import make_household, make_intensity_levels, make_intervention
from tests.reminders.conftest import open_keys, reminders, sweep_on

COORDINATORS = (Role.COORDINATEUR.value, None)


def _supported(team, *, level: int = 1, start_on=date(2025, 3, 1), end_on=date(2026, 3, 1)):
    """A household with an open measure: levels are Renforcée (7 days), Soutenue (14 days),
    Modérée (30 days)."""
    levels = make_intensity_levels(team.project)
    household = make_household(team.project, referent=team.worker)
    measure = support.open_measure(
        team.worker,
        household,
        type="hlm_accompagnes",
        intensity_level_id=levels[level].id,
        start_on=start_on,
        planned_end_on=end_on,
    )
    db.session.flush()
    return household, measure


# contact rhythm -------------------------------------------------------------------------------


def test_contact_is_overdue_after_the_rhythm_and_the_tolerance(app, team):
    household, _ = _supported(team, level=1)  # a contact every 14 days
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 2))
    sweep_on(date(2025, 6, 18))  # due 16 June, 2 days late: within the 3-day tolerance
    assert open_keys("contact_retard") == []
    sweep_on(date(2025, 6, 19))
    assert open_keys("contact_retard") == [(household.id, date(2025, 6, 16), team.worker.id)]


def test_without_any_contact_the_rhythm_counts_from_the_start_of_support(app, team):
    household, _ = _supported(team, level=0, start_on=date(2025, 3, 1))  # weekly
    sweep_on(date(2025, 3, 11))
    assert open_keys("contact_retard") == [(household.id, date(2025, 3, 8), team.worker.id)]


def test_a_missed_appointment_is_not_a_contact(app, team):
    household, _ = _supported(team, level=1)
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 2))
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 17), mode="rdv_non_honore")
    sweep_on(date(2025, 6, 20))
    assert open_keys("contact_retard") == [(household.id, date(2025, 6, 16), team.worker.id)]


def test_logging_a_contact_closes_the_overdue_reminder(app, team):
    household, _ = _supported(team, level=1)
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 2))
    sweep_on(date(2025, 6, 20))
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 20), mode="telephone")
    summary = sweep_on(date(2025, 6, 20))
    assert summary["rules"]["contact_retard"] == [0, 1]
    assert open_keys("contact_retard") == []
    (closed,) = reminders("contact_retard")
    assert closed.is_resolved_automatically and closed.closed_at is not None


def test_the_hook_closes_it_at_once_for_one_household(app, team):
    from app.reminders.services import resolve_for_household
    from tests.reminders.conftest import at

    household, _ = _supported(team, level=1)
    other, _ = _supported(team, level=1)
    for h in (household, other):
        make_intervention(h, team.worker, occurred_on=date(2025, 6, 2))
    sweep_on(date(2025, 6, 20))
    for h in (household, other):
        make_intervention(h, team.worker, occurred_on=date(2025, 6, 20))
    assert resolve_for_household(household.id, now=at(date(2025, 6, 20))) == 1
    # The other household waits for the next sweep.
    assert [k[0] for k in open_keys("contact_retard")] == [other.id]


def test_the_tightest_rhythm_of_open_measures_applies(app, team):
    household, _ = _supported(team, level=2)  # monthly
    levels = make_intensity_levels(team.project)
    support.open_measure(
        team.worker,
        household,
        type="asll",
        intensity_level_id=levels[0].id,  # weekly
        start_on=date(2025, 3, 1),
        planned_end_on=date(2026, 3, 1),
    )
    make_intervention(household, team.worker, occurred_on=date(2025, 6, 2))
    sweep_on(date(2025, 6, 13))
    assert open_keys("contact_retard") == [(household.id, date(2025, 6, 9), team.worker.id)]


# no contact for N weeks ------------------------------------------------------------------------


def test_no_contact_for_six_weeks_alerts_the_coordinators(app, team):
    household, _ = _supported(team, level=2)
    make_intervention(household, team.worker, occurred_on=date(2025, 5, 5))
    sweep_on(date(2025, 6, 15))
    assert open_keys("sans_contact") == []
    sweep_on(date(2025, 6, 16))
    assert open_keys("sans_contact") == [(household.id, date(2025, 6, 16), COORDINATORS)]
    db.session.add(ReminderSetting(key="no_contact_weeks", value=8))
    db.session.flush()
    summary = sweep_on(date(2025, 6, 17))  # the threshold moved: the alert no longer holds
    assert summary["rules"]["sans_contact"] == [0, 1]


# reviews and end of measure ---------------------------------------------------------------------


def test_review_due_three_months_after_the_start_and_recording_it_closes_it(app, team):
    household, measure = _supported(team, start_on=date(2025, 3, 1))
    sweep_on(date(2025, 5, 17))  # due 1 June, 15 days ahead
    assert open_keys("bilan_trimestriel") == []
    sweep_on(date(2025, 5, 18))
    assert open_keys("bilan_trimestriel") == [(household.id, date(2025, 6, 1), team.worker.id)]
    support.record_review(
        team.worker,
        measure,
        kind="trimestriel",
        held_on=date(2025, 6, 3),
        summary="Bilan fait",
        progress={},
        today=date(2025, 6, 3),
    )
    db.session.flush()
    sweep_on(date(2025, 6, 3))
    assert open_keys("bilan_trimestriel") == []
    assert reminders("bilan_trimestriel")[0].is_resolved_automatically


def test_end_of_measure_within_30_days_and_a_renewal_closes_it(app, team):
    household, measure = _supported(team, end_on=date(2025, 9, 30))
    sweep_on(date(2025, 8, 30))
    assert open_keys("fin_de_mesure") == []
    sweep_on(date(2025, 8, 31))
    assert open_keys("fin_de_mesure") == [(household.id, date(2025, 9, 30), team.worker.id)]
    support.renew_measure(
        team.worker,
        measure,
        version=measure.version,
        new_end_on=date(2026, 3, 31),
        justification="Dette encore importante",
        renewed_on=date(2025, 9, 2),
    )
    db.session.flush()
    assert sweep_on(date(2025, 9, 2))["rules"]["fin_de_mesure"] == [0, 1]


# after the exit ----------------------------------------------------------------------------------


def test_post_exit_checks_at_six_and_twelve_months(app, team):
    household, measure = _supported(team)
    exit_ = support.close_measure(
        team.worker,
        measure,
        version=measure.version,
        exit_on=date(2025, 10, 15),
        reason="objectifs_atteints",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover="CCAS",
        today=date(2025, 10, 15),
    )
    db.session.flush()
    sweep_on(date(2026, 4, 5))
    assert open_keys("suivi_post_sortie") == [(household.id, date(2026, 4, 15), team.worker.id)]
    (reminder,) = reminders("suivi_post_sortie")
    assert reminder.title == "Vérification 6 mois après la sortie"
    six = next(c for c in exit_.checks if c.months == 6)
    support.record_post_exit_check(
        team.worker,
        six,
        version=six.version,
        done_on=date(2026, 4, 16),
        is_still_housed=True,
        is_rent_up_to_date=True,
        comment=None,
        today=date(2026, 4, 16),
    )
    db.session.flush()
    sweep_on(date(2026, 4, 16))
    assert open_keys("suivi_post_sortie") == []
    sweep_on(date(2026, 10, 10))
    assert open_keys("suivi_post_sortie") == [(household.id, date(2026, 10, 15), team.worker.id)]
    # The measure is closed: no contact, review or end-of-measure reminder any more.
    for rule in ("contact_retard", "sans_contact", "bilan_trimestriel", "fin_de_mesure"):
        assert open_keys(rule) == []
