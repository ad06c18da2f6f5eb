"""The partnership, publics, support and adhesion axes on the hand-built project of
fixtures_outcomes.py (year 2025, as of 31 December 2025); figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.db import db
from app.evaluation import axes as axes_module
from tests.evaluation.fixtures_outcomes import build_outcomes_world


@pytest.fixture
def world(app):
    return build_outcomes_world()


@pytest.fixture
def tables(world):
    return {t.key: t for t in axes_module.axes(db.session, world.scope)}


def rows(table):
    return {r.key: r.values for r in table.rows}


def test_referrals_by_partner_domain_and_outcome(tables):
    table = tables["partnership.referrals"]
    assert table.row_total and table.column_total
    # 2025: H3 → P1 (santé) still sent; H4 → P2 (logement) done. H1's referral is 2024,
    # H7's is Projet B. Columns: en cours, réalisées, refusées, abandonnées, total.
    assert rows(table)["sante"] == (1, 0, 0, 0, 1)
    assert rows(table)["logement"] == (0, 1, 0, 0, 1)
    assert rows(table)["emploi"] == (0, 0, 0, 0, 0)
    assert rows(table)["total"] == (1, 1, 0, 0, 2)


def test_partners_meetings_and_joint_visits(tables):
    (row,) = tables["partnership.activity"].rows
    # Partners mobilised: P1, P2 = 2. Tripartite meetings in 2025: H3 20 May, H4 15 Mar = 2.
    # Days of support in 2025: H1 1 Jan–10 Mar = 31 + 28 + 10 = 69; H3 all year 365; H4
    # 3 Feb–3 June = 120 + 1 = 121; H8 1 Sep–30 Nov = 91. Total 646 days = 646 / 365.25 =
    # 1.7687 household-years → 1.77; meetings per household-year 2 × 365.25 / 646 = 1.1308
    # → 1.13. Joint visits with the landlord: H3 on 1 June = 1.
    assert row.values == (2, 2, Decimal("1.77"), Decimal("1.13"), 1)


def test_publics_declared_and_supported(tables):
    table = rows(tables["publics.targets"])
    # Project declares sortie d'hébergement and sortie de rue. Supported in 2025: H1 and H8
    # (sortie d'hébergement), H3 (menace d'expulsion, santé mentale), H4 (none).
    assert table["sortie_hebergement"] == (1, 2)
    assert table["sortie_rue"] == (1, 0)
    assert table["menace_expulsion"] == (0, 1)
    assert table["sante_mentale"] == (0, 1)
    assert table["prioritaire_dalo"] == (0, 0)
    assert table["none"] == (0, 1)


def test_resources_of_households_supported(tables):
    table = rows(tables["publics.resources"])
    # H1 salaire; H3 rsa + aah; H4 rsa; H8 none recorded. (H7 of Projet B: rsa, not counted.)
    assert table["salaire"] == (1,)
    assert table["rsa"] == (2,)
    assert table["aah"] == (1,)
    assert table["chomage"] == (0,)
    assert table["none"] == (1,)


def test_contact_modes(tables):
    table = rows(tables["support.contact_modes"])
    # 2025: H3 home visit, missed appointment, joint visit; H4 phone (its office visit is
    # a duplicate). H1's visit is 2024; H7's phone call is Projet B.
    assert table["visite_domicile"] == (1,)
    assert table["rdv_non_honore"] == (1,)
    assert table["visite_conjointe"] == (1,)
    assert table["telephone"] == (1,)
    assert table["bureau"] == (0,)
    assert table["total"] == (4,)


def test_intensity_and_rhythm(tables):
    table = rows(tables["support.intensity_rhythm"])
    # On 31 Dec 2025 only H3 is supported, Renforcée (since 1 Feb). Its contacts in 2025:
    # home visit + joint visit = 2 (the missed appointment is not a contact). 365 days =
    # 365 / 30.4375 = 11.992 months → 2 / 11.992 = 0.1668 → 0.17 a month; Renforcée expects
    # one every 7 days = 30.4375 / 7 = 4.348 → 4.35 a month.
    assert table == {"Renforcée": (1, 2, Decimal("0.17"), Decimal("4.35"))}


def test_adhesions_refusals_and_departures(tables):
    table = rows(tables["adhesion.adhesions_and_refusals"])
    # Adhesions signed in 2025: H4 (10 Jan), H8 (1 Aug). Exits in 2025 for end of adhesion:
    # H8; departures without solution: none (H6 left in 2022).
    assert table == {"adhesions": (2,), "refus": (1,), "depart": (0,)}


def test_consents_given_and_withdrawn(tables):
    table = rows(tables["adhesion.consents"])
    # Given in 2025: H3 (1), H4 (2) → 3 consents, 2 households. Withdrawn in 2025: H1
    # (15 Jan), H3 (1 Sep) → 2 consents, 2 households.
    assert table == {"given": (3, 2), "withdrawn": (2, 2)}


def test_time_to_adhesion(tables):
    # As outcomes.delays: H4 40 days, H8 31 days → median 35.5.
    assert rows(tables["adhesion.time_to_adhesion"]) == {"adhesion": (2, Decimal("35.5"))}


def test_every_table_has_its_definition_in_the_docs(world):
    from pathlib import Path

    from app.evaluation import outcomes

    docs = (Path(__file__).parents[2] / "docs" / "indicators.md").read_text()
    assert "Version des définitions : 2026.1" in docs
    tables = outcomes.outcomes(db.session, world.scope) + axes_module.axes(db.session, world.scope)
    assert len({t.key for t in tables}) == len(tables) == 8 + 9
    for table in tables:
        assert f'<a id="{table.definition}"></a>' in docs, table.key
        assert f"`{table.key}`" in docs, table.key
