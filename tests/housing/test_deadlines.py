"""Legal deadlines of the eviction-prevention procedure (pure functions), including the
winter truce and leap years."""

from __future__ import annotations

from datetime import date

import pytest

from app.dates import add_months
from app.housing.deadlines import after_winter_truce, in_winter_truce, next_deadline
from app.housing.models import ProcedureStageKind as K


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 2, date(2026, 3, 15)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),  # clamped to the shorter month
        (date(2027, 12, 31), 2, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2026, 10, 31), False),
        (date(2026, 11, 1), True),
        (date(2026, 12, 25), True),
        (date(2027, 2, 28), True),
        (date(2028, 2, 29), True),
        (date(2027, 3, 31), True),
        (date(2027, 4, 1), False),
    ],
)
def test_winter_truce_runs_from_1_november_to_31_march(day, inside):
    assert in_winter_truce(day) is inside


def test_a_date_in_the_truce_moves_to_the_next_1_april():
    assert after_winter_truce(date(2026, 11, 1)) == date(2027, 4, 1)
    assert after_winter_truce(date(2027, 3, 31)) == date(2027, 4, 1)
    assert after_winter_truce(date(2027, 4, 2)) == date(2027, 4, 2)


def test_commandement_de_payer_gives_six_weeks():
    deadline = next_deadline(K.COMMANDEMENT_PAYER, date(2026, 1, 20))
    assert deadline.on == date(2026, 3, 3)
    assert "assignation possible" in deadline.label


def test_commandement_de_payer_across_february_of_a_leap_year():
    assert next_deadline(K.COMMANDEMENT_PAYER, date(2028, 2, 1)).on == date(2028, 3, 14)


def test_the_winter_truce_does_not_delay_a_payment_deadline():
    # The truce suspends forced evictions only: the 6 weeks run through December.
    deadline = next_deadline(K.COMMANDEMENT_PAYER, date(2026, 11, 10))
    assert deadline.on == date(2026, 12, 22) and not deadline.postponed_by_truce


def test_commandement_de_quitter_gives_two_months_outside_the_truce():
    deadline = next_deadline(K.COMMANDEMENT_QUITTER, date(2026, 5, 10))
    assert deadline.on == date(2026, 7, 10)
    assert not deadline.postponed_by_truce
    assert deadline.label.startswith("Expulsion possible")


def test_commandement_de_quitter_ending_in_the_truce_moves_to_1_april():
    deadline = next_deadline(K.COMMANDEMENT_QUITTER, date(2026, 9, 15))  # +2 months = 15 Nov
    assert deadline.on == date(2027, 4, 1)
    assert deadline.postponed_by_truce


def test_commandement_de_quitter_ending_just_before_the_truce_is_not_moved():
    deadline = next_deadline(K.COMMANDEMENT_QUITTER, date(2026, 8, 31))  # +2 months = 31 Oct
    assert deadline.on == date(2026, 10, 31) and not deadline.postponed_by_truce


def test_commandement_de_quitter_on_31_december_ends_in_february_and_moves_to_april():
    deadline = next_deadline(K.COMMANDEMENT_QUITTER, date(2027, 12, 31))  # → 29 Feb 2028
    assert deadline.on == date(2028, 4, 1) and deadline.postponed_by_truce


def test_concours_de_la_force_publique_in_the_truce_waits_for_1_april():
    assert next_deadline(K.CONCOURS_FORCE_PUBLIQUE, date(2027, 1, 10)).on == date(2027, 4, 1)
    assert next_deadline(K.CONCOURS_FORCE_PUBLIQUE, date(2027, 6, 10)).on == date(2027, 6, 10)


def test_assignation_the_diagnostic_is_due_before_the_hearing():
    known = next_deadline(K.ASSIGNATION, date(2026, 3, 2), hearing_on=date(2026, 5, 12))
    assert known.on == date(2026, 5, 12)
    assert "Diagnostic social et financier" in known.label
    unknown = next_deadline(K.ASSIGNATION, date(2026, 3, 2))
    assert unknown.on == date(2026, 4, 13)  # the hearing is 6 weeks later at the earliest


def test_impaye_constitue_calls_for_a_caf_report_within_two_months():
    deadline = next_deadline(K.IMPAYE_CONSTITUE, date(2026, 12, 31))
    assert deadline.on == date(2027, 2, 28) and "CAF" in deadline.label


def test_stages_without_a_legal_deadline():
    for stage in (K.PLAN_APUREMENT, K.JUGEMENT, K.AUDIENCE, K.CLOTURE):
        assert next_deadline(stage, date(2026, 5, 1)) is None
