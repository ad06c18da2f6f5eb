"""Cohort outcomes, arrears, delays, duration and intensity path on the hand-built project of
fixtures_outcomes.py (year 2025, as of 31 December 2025). Every expected figure is worked
out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.db import db
from app.evaluation import outcomes as outcomes_module
from tests.evaluation.fixtures_outcomes import build_outcomes_world

STATUS_KEYS = [key for key, _ in outcomes_module.STATUSES] + ["total"]


@pytest.fixture
def world(app):
    return build_outcomes_world()


@pytest.fixture
def tables(world):
    return {t.key: t for t in outcomes_module.outcomes(db.session, world.scope)}


def status(table, row_key):
    row = next(r for r in table.rows if r.key == row_key)
    return {k: v for k, v in zip(STATUS_KEYS, row.values, strict=True) if v}


def test_status_at_exit_by_cohort(tables):
    table = tables["outcomes.status_exit"]
    assert [r.key for r in table.rows] == ["2022", "2023", "2024", "2025", "total"]
    assert table.row_total and table.column_total
    assert status(table, "2022") == {"perdu_de_vue": 1, "total": 1}  # H6: housing unknown
    # H1 left with its lease slid (glissement first); H5 maintained.
    assert status(table, "2023") == {"glissement": 1, "maintenu": 1, "total": 2}
    # H2 evicted; H3 still supported: not yet known.
    assert status(table, "2024") == {"expulse": 1, "inconnu": 1, "total": 2}
    # H4 social housing; H8 hosted by a third party. H7 (Projet B) nowhere.
    assert status(table, "2025") == {"autre_logement": 1, "heberge": 1, "total": 2}
    assert status(table, "total") == {
        "perdu_de_vue": 1,
        "glissement": 1,
        "maintenu": 1,
        "expulse": 1,
        "inconnu": 1,
        "autre_logement": 1,
        "heberge": 1,
        "total": 7,
    }


def test_status_six_months_after_entry(tables):
    table = tables["outcomes.status_6m"]
    # H6: 1 Dec 2022 = its exit day, already left → lost contact.
    assert status(table, "2022") == {"perdu_de_vue": 1, "total": 1}
    # H1 on 10 Aug 2023: supported, lease open, slid only in 2024 → in its dwelling.
    # H5 on 12 Oct 2023: left that day, maintained (its check is done later).
    assert status(table, "2023") == {"maintenu": 2, "total": 2}
    # H2 on 15 July 2024: evicted on 20 May. H3 on 5 Sep 2024: supported, no lease.
    assert status(table, "2024") == {"expulse": 1, "sans_bail": 1, "total": 2}
    # H4 on 3 Aug 2025: left on 3 June to social housing. H8 on 1 Mar 2026: after
    # 31 Dec 2025 → not yet known.
    assert status(table, "2025") == {"autre_logement": 1, "inconnu": 1, "total": 2}


def test_status_twelve_months_after_entry(tables):
    table = tables["outcomes.status_12m"]
    assert status(table, "2022") == {"perdu_de_vue": 1, "total": 1}
    # H1 on 10 Feb 2024: lease not slid yet. H5 on 12 Apr 2024: its check (20 Apr) not yet.
    assert status(table, "2023") == {"maintenu": 2, "total": 2}
    assert status(table, "2024") == {"expulse": 1, "sans_bail": 1, "total": 2}
    # H4 on 3 Feb 2026 and H8 on 1 Sep 2026: both after 31 Dec 2025.
    assert status(table, "2025") == {"inconnu": 2, "total": 2}


def test_status_twenty_four_months_after_entry(tables):
    table = tables["outcomes.status_24m"]
    # H6 on 1 June 2024 (entered before 31 Dec 2023): lost contact.
    assert status(table, "2022") == {"perdu_de_vue": 1, "total": 1}
    # H1 on 10 Feb 2025: still supported, lease slid on 15 June 2024 → glissement.
    # H5 on 12 Apr 2025: the 6-month check of 20 Apr 2024 said no longer housed → other.
    assert status(table, "2023") == {"glissement": 1, "autre": 1, "total": 2}
    # H2 (15 Jan 2026) and H3 (5 Mar 2026) are after 31 Dec 2025: not yet known.
    assert status(table, "2024") == {"inconnu": 2, "total": 2}
    assert status(table, "2025") == {"inconnu": 2, "total": 2}
    assert status(table, "total")["total"] == 7


def test_delays_from_orientation(tables):
    rows = {r.key: r.values for r in tables["outcomes.delays"].rows}
    # First adhesion in 2025: H4 1 Dec 2024 → 10 Jan 2025 = 30 + 10 = 40 days; H8 1 July →
    # 1 Aug 2025 = 31 days. Median (31 + 40) / 2 = 35.5. (H1's adhesion is in 2023.)
    assert rows["adhesion"] == (2, Decimal("35.5"))
    # First lease in 2025: H4 1 Dec 2024 → 1 Feb 2025 = 31 + 31 = 62; H8 1 July → 15 Sep
    # 2025 = 31 + 31 + 14 = 76. Median (62 + 76) / 2 = 69.
    assert rows["bail"] == (2, Decimal("69"))


def test_support_duration_of_households_that_left(tables):
    (row,) = tables["outcomes.support_duration"].rows
    # Left in 2025: H1 10 Feb 2023 → 10 Mar 2025 = 365 + 366 + 28 = 759; H4 3 Feb → 3 June
    # 2025 = 28 + 31 + 30 + 31 = 120; H8 1 Sep → 30 Nov 2025 = 30 + 31 + 29 = 90.
    # Median 120; mean (759 + 120 + 90) / 3 = 969 / 3 = 323.0.
    assert row.values == (3, Decimal("120"), Decimal("323.0"))


def test_intensity_path(tables):
    rows = {r.key: r.values[0] for r in tables["outcomes.intensity_path"].rows}
    # Supported in 2025: H1, H3, H4, H8. H3 Soutenue → Renforcée (up), H4 Renforcée →
    # Modérée (down), H1 and H8 never changed (same).
    assert rows == {"down": 1, "up": 1, "same": 2, "total": 4}


def test_arrears_at_entry_last_month_and_exit(tables):
    rows = {r.key: r.values for r in tables["outcomes.arrears"].rows}
    # Supported in 2025 with a rent account: H1 (first snapshot Jan 2025: 500 €; last Mar
    # 2025: 200 €) and H4 (Feb 2025: 0 €; May 2025: 120 €). H3 and H8 have none.
    assert rows["entry"] == (2, 1, Decimal("500"))
    assert rows["last"] == (2, 2, Decimal("320"))  # 200 + 120
    # Left in 2025: H1 (Mar 2025, before 10 Mar: 200 €), H4 (May, before 3 June: 120 €), H8
    # (no snapshot).
    assert rows["exit"] == (2, 2, Decimal("320"))


def test_a_year_with_nothing_recorded_yet(world):
    from app.evaluation.tables import EvaluationScope

    empty = EvaluationScope((world.other.id,), 2019, world.scope.as_of)
    tables = {t.key: t for t in outcomes_module.outcomes(db.session, empty)}
    assert tables["outcomes.status_exit"].rows[-1].values[-1] == 0
    assert tables["outcomes.delays"].rows[0].values == (0, None)
    assert tables["outcomes.support_duration"].rows[0].values == (0, None, None)
