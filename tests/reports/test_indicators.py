"""Each indicator against figures worked out by hand on the ``programme`` dataset
(tests/reports/conftest.py), period 1 January – 30 June 2025."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from app.reports.indicators import Period, indicators
from tests.conftest import page
from tests.reports.conftest import PERIOD

FIGURE_ROW = re.compile(
    r'data-key="([a-z0-9_]+)"><th scope="row">[^<]*</th><td class="num">([^<]*)</td>'
)


@pytest.fixture
def figures(programme):
    data = indicators(programme.coordinator, [programme.project.id], Period(*PERIOD))
    return data.values()


def test_activity_entries_exits_and_target(figures):
    # supported: H1, H2, H3, H4, H5, H10 (H8, H9 left before; H6 never supported; Projet B
    # not counted). Entries: H2 (15 Jan), H10 (1 Feb), H4 (30 June, last day: counts).
    # Exits: H10 (11 Feb), H3 (10 March), H2 (31 May); H5 left on 1 July: not counted.
    assert figures["supported"] == 6
    assert figures["entries"] == 3
    assert figures["exits"] == 3
    # On 30 June: H1, H4 (entered that day), H5 (leaves the next day).
    assert figures["supported_at_end"] == 3
    # Every household that entered by 30 June: H1 H2 H3 H4 H5 H8 H9 H10 = 8 of 40.
    assert figures["cumulative"] == 8
    assert figures["target"] == 40
    assert figures["target_share"] == Decimal("20.0")


def test_publics_prescribers_and_access_or_maintien(figures):
    assert figures["public_sortie_hebergement"] == 1  # H1
    assert figures["public_prioritaire_dalo"] == 1  # H1
    assert figures["public_menace_expulsion"] == 1  # H2
    assert figures["public_sante_mentale"] == 1  # H5
    assert figures["public_sortie_rue"] == 0
    assert figures["public_none"] == 3  # H3, H4, H10
    # Latest orientation: H1 SIAO (its older "bailleur" one is ignored), H2 CCAPEX, H3 DALO,
    # H5 SIAO; H4 and H10 have none.
    assert figures["prescriber_siao"] == 2
    assert figures["prescriber_ccapex"] == 1
    assert figures["prescriber_dalo"] == 1
    assert figures["prescriber_bailleur"] == 0
    assert figures["prescriber_none"] == 2
    assert figures["kind_acces"] == 2  # H1, H3
    assert figures["kind_maintien"] == 2  # H2, H5
    assert figures["kind_none"] == 2


def test_length_of_support_of_households_that_left(figures):
    # H10: 1 → 11 Feb 2025 = 10 days; H2: 15 Jan → 31 May 2025 = 136; H3: 1 June 2024 →
    # 10 March 2025 = 282. Mean 428 / 3 = 142.7; median 136; 142.67 / 30.4375 = 4.7 months.
    assert figures["length_count"] == 3
    assert figures["length_mean_days"] == Decimal("142.7")
    assert figures["length_median_days"] == Decimal("136.0")
    assert figures["length_mean_months"] == Decimal("4.7")


def test_intensity_mix_on_the_last_day(figures, programme):
    renforcee, soutenue, moderee = programme.levels
    # Open on 30 June: H1 Renforcée, H4 Soutenue, H5 Soutenue since 1 May (Modérée before).
    assert figures[f"intensity_{renforcee.id}"] == 1
    assert figures[f"intensity_{soutenue.id}"] == 2
    assert figures[f"intensity_{moderee.id}"] == 0


def test_intensity_follows_its_history(programme):
    renforcee, soutenue, moderee = programme.levels
    april = indicators(
        programme.coordinator, [programme.project.id], Period(date(2025, 1, 1), date(2025, 4, 30))
    ).values()
    # On 30 April: H1 Renforcée, H2 Soutenue, H5 still Modérée (H3, H10 gone, H4 not yet).
    assert april[f"intensity_{renforcee.id}"] == 1
    assert april[f"intensity_{soutenue.id}"] == 1
    assert april[f"intensity_{moderee.id}"] == 1


def test_contacts_per_household_per_month(figures):
    # Contacts in the period of supported households: H1 2, H2 2, H3 1, H5 1, H10 1 = 7
    # (H1's missed appointment and December visit, H8's visit and Projet B's excluded).
    # Days of support in the period: H1 181, H2 15 Jan–31 May 137, H3 1 Jan–10 March 69,
    # H4 1, H5 181, H10 11 = 580 days = 580 / 30.4375 = 19.1 household-months;
    # 7 / 19.055 = 0.37 contacts per household per month.
    assert figures["contacts"] == 7
    assert figures["household_months"] == Decimal("19.1")
    assert figures["contacts_per_month"] == Decimal("0.4")


def test_exit_reasons_and_housing_at_exit(figures):
    assert figures["exit_reason_objectifs_atteints"] == 1  # H2
    assert figures["exit_reason_expulsion"] == 1  # H3
    assert figures["exit_reason_refus"] == 1  # H10
    assert figures["exit_reason_fin_de_mesure"] == 0  # H5 left on 1 July
    assert figures["exit_housing_maintenu"] == 1
    assert figures["exit_housing_sans_logement"] == 1
    assert figures["exit_housing_inconnu"] == 1
    assert figures["exit_housed"] == 1
    assert figures["exit_housed_share"] == Decimal("33.3")


def test_situation_twelve_months_after_exit(figures):
    # Checks due in the period: H8's (30 June 2025, last day: counts; still housed) and
    # H9's (15 Jan 2025, not filled in).
    assert figures["check12_due"] == 2
    assert figures["check12_housed"] == 1
    assert figures["check12_not_housed"] == 0
    assert figures["check12_not_done"] == 1
    assert figures["check12_housed_share"] == Decimal("100.0")


def test_arrears_at_entry_exit_and_over_three_months(figures):
    # Exited with an account at entry and at exit: H2 (1 200 € → 300 €), H3 (0 → 2 640 €).
    assert figures["arrears_exited_known"] == 2
    assert figures["arrears_entry_count"] == 1
    assert figures["arrears_entry_cents"] == 120_000
    assert figures["arrears_exit_count"] == 2
    assert figures["arrears_exit_cents"] == 294_000
    # Latest account by 30 June of supported households: H1 0, H2 0 (June), H3 2 640 € =
    # 6 months, H5 1 320 € = exactly 3 months (not more); H4 and H10 unknown.
    assert figures["arrears_end_known"] == 4
    assert figures["arrears_end_count"] == 2
    assert figures["arrears_over_3_count"] == 1
    assert figures["arrears_over_3_share"] == Decimal("25.0")


def test_plans_procedures_and_glissements(figures):
    assert figures["plans_signed"] == 2  # H2 (kept), H3 (broken); Projet B's not counted
    assert figures["plans_kept"] == 1
    assert figures["plans_broken"] == 1
    assert figures["plans_running"] == 1  # H5, signed in October 2024
    assert figures["procedures_started"] == 1  # H5; H3's began in November 2024
    assert figures["procedures_suspended"] == 1  # H5's protocole
    assert figures["procedures_closed"] == 1  # H1
    assert figures["procedures_police"] == 1  # H3
    assert figures["procedures_completed"] == 1  # H3 evicted
    assert figures["leases_glissed"] == 1  # H1 on 30 June; H5's on 1 July is after


def test_monthly_charts(programme):
    data = indicators(programme.coordinator, [programme.project.id], Period(*PERIOD))
    flows = dict(data.charts["flux"].rows)
    assert flows == {
        "2025-01": (1, 0),
        "2025-02": (1, 1),
        "2025-03": (0, 1),
        "2025-04": (0, 0),
        "2025-05": (0, 1),
        "2025-06": (1, 0),
    }
    trend = dict(data.charts["impayes"].rows)
    assert trend == {
        "2025-01": (1, 120_000),  # H2 (its December debt is before the period)
        "2025-02": (0, 0),
        "2025-03": (1, 264_000),  # H3
        "2025-04": (0, 0),
        "2025-05": (1, 30_000),  # H2
        "2025-06": (1, 132_000),  # H5 (H1 and H2 at 0)
    }
    outcomes = dict(data.charts["sorties"].rows)
    assert outcomes["Maintenu dans le logement"] == (1,)
    assert outcomes["Sans logement"] == (1,)


def test_a_period_ending_the_day_before_moves_the_boundaries(programme):
    """Ending on 29 June: H4's entry (30 June) is outside; ending on 1 July: H5's exit is in."""
    ids = [programme.project.id]
    before = indicators(programme.coordinator, ids, Period(date(2025, 1, 1), date(2025, 6, 29)))
    after = indicators(programme.coordinator, ids, Period(date(2025, 1, 1), date(2025, 7, 1)))
    assert before.values()["entries"] == 2
    assert after.values()["exits"] == 4
    assert after.values()["exit_reason_fin_de_mesure"] == 1


def shown_figures(text: str) -> dict[str, str]:
    """``data-key`` → the value cell's text, as the indicators page shows them."""
    return dict(FIGURE_ROW.findall(text))


def test_the_page_shows_the_same_figures(client, programme):
    client.login(programme.coordinator)
    response = client.get("/pilotage/indicateurs?debut=2025-01-01&fin=2025-06-30")
    assert response.status_code == 200
    text = page(response)
    shown = shown_figures(text)
    assert shown["entries"] == "3"
    assert shown["length_median_days"] == "136,0"
    assert shown["arrears_exit_cents"] == "2\u202f940,00\u00a0€"
    assert shown["arrears_over_3_share"] == "25,0\u00a0%"
    assert "P-B1" not in text and "P-H1" not in text  # aggregates only


def test_end_before_start_is_refused_in_french(client, programme):
    client.login(programme.coordinator)
    response = client.get("/pilotage/indicateurs?debut=2025-06-30&fin=2025-01-01")
    assert response.status_code == 400
    assert "La date de fin doit être le même jour que la date de début ou après." in page(response)
    assert "data-key=" not in page(response)


def test_the_default_period_is_the_current_year_to_date(client, programme):
    from app.formatting import format_date, today_paris

    client.login(programme.coordinator)
    text = page(client.get("/pilotage/indicateurs"))
    today = today_paris()
    assert f"du {format_date(date(today.year, 1, 1))} au {format_date(today)}" in text


def test_intensity_mix_over_two_projects_shows_each_level_name_once(programme):
    """Each project has its own levels under the same names: one line per name, summed."""
    from app.permissions import Role
    from tests.factories import make_household, make_intensity_levels, make_measure, make_user

    theirs = make_intensity_levels(programme.other_project)
    household = make_household(programme.other_project, referent=programme.outsider)
    make_measure(
        household,
        intensity_level_id=theirs[0].id,  # their Renforcée
        start_on=date(2025, 1, 1),
        planned_end_on=date(2026, 1, 1),
    )
    both = make_user(Role.COORDINATEUR, projects=[programme.project, programme.other_project])
    period = Period(*PERIOD)
    one = indicators(both, [programme.project.id], period).values()
    two = indicators(both, [programme.project.id, programme.other_project.id], period).values()
    keys = [key for key in two if key.startswith("intensity_")]
    renforcee = programme.levels[0]
    assert sorted(keys) == sorted(f"intensity_{level.id}" for level in programme.levels)
    assert two[f"intensity_{renforcee.id}"] == one[f"intensity_{renforcee.id}"] + 1


def test_a_chosen_project_she_does_not_coordinate_adds_none_of_its_households(programme):
    """Claire chooses Projet B too (not hers: her scope is then narrowed to what she sees,
    and the statements are built for it): the figures are those of Projet A alone, but for
    the target, which sums both projects'."""
    period = Period(*PERIOD)
    own = indicators(programme.coordinator, [programme.project.id], period).values()
    ids = [programme.project.id, programme.other_project.id]
    both = indicators(programme.coordinator, ids, period).values()
    for key in ("target", "target_share"):
        del own[key], both[key]
    assert both == own
    assert own["supported"] == 6
