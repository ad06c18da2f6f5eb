"""The co-financing axis on a hand-built project: every figure below is computed by hand in
the comments, never with the code under test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import db
from app.evaluation import money
from app.evaluation.tables import EvaluationScope, collect
from app.permissions import Role
from app.projects.models import Project
from app.support.services import close_measure
from tests.factories import make_household, make_measure, make_project, make_user

D = Decimal
DECIDED = date(2026, 3, 1)  # the "today" the aids are recorded on


def _line(actor, project, year, funder, granted, received, label=None):
    money.create_budget_line(
        actor,
        project,
        year=year,
        today=DECIDED,
        funder=funder,
        label=label,
        granted=D(granted),
        received=D(received),
        note=None,
    )


def _aid(actor, household, kind, status, requested_on, requested, granted=None, decided_on=None):
    money.record_aid(
        actor,
        household,
        today=DECIDED,
        kind=kind,
        label=None,
        status=status,
        requested=D(requested),
        granted=None if granted is None else D(granted),
        requested_on=requested_on,
        decided_on=decided_on,
        note=None,
    )


def _supported(project, worker, start_on, closed_on=None):
    household = make_household(project, referent=worker)
    measure = make_measure(household, worker, start_on=start_on, planned_end_on=date(2027, 1, 1))
    if closed_on is not None:
        close_measure(
            worker,
            measure,
            version=measure.version,
            exit_on=closed_on,
            reason="fin_de_mesure",
            housing_situation="maintenu",
            is_lease_glissed=False,
            handover=None,
            today=closed_on,
        )
    return household


@pytest.fixture
def fixture(app):
    p, q = make_project(name="Projet évalué"), make_project(name="Autre projet")
    coordinator = make_user(Role.COORDINATEUR, projects=[p, q])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[p, q])
    # Budget 2025 of P: État 60 000 (received 30 000) and État "DDETS" 20 000 (20 000),
    # bailleur 15 000 (15 000), département 5 000 (0).
    _line(coordinator, p, 2025, "etat", "60000", "30000")
    _line(coordinator, p, 2025, "etat", "20000", "20000", label="DDETS")
    _line(coordinator, p, 2025, "bailleur", "15000", "15000")
    _line(coordinator, p, 2025, "departement", "5000", "0")
    # Not counted: P's 2024 budget, Q's 2025 budget.
    _line(coordinator, p, 2024, "caf", "9999", "9999")
    _line(coordinator, q, 2025, "commune", "7777", "7777")
    money.set_places(coordinator, p, year=2025, places=4, note=None, version=None, today=DECIDED)
    money.set_places(coordinator, q, year=2025, places=50, note=None, version=None, today=DECIDED)
    # Support spans in 2025 (both ends included):
    h1 = _supported(p, worker, date(2024, 7, 1))  # open all year: 365 days
    h2 = _supported(p, worker, date(2025, 3, 1), date(2025, 6, 30))  # 31+30+31+30 = 122 days
    _supported(p, worker, date(2023, 1, 1), date(2024, 12, 31))  # closed before 2025: none
    h4 = _supported(p, worker, date(2025, 12, 1))  # 1..31 December: 31 days
    other = _supported(q, worker, date(2025, 1, 1))  # project Q: not counted
    # Aids requested in 2025 by P's households:
    _aid(worker, h1, "fsl_maintien", "accordee", date(2025, 2, 1), "1000", "800", date(2025, 3, 1))
    _aid(worker, h2, "fsl_acces", "refusee", date(2025, 4, 1), "500", None, date(2025, 5, 1))
    _aid(worker, h1, "caf", "demandee", date(2025, 11, 1), "300")
    # requested in 2025, granted on 1 February 2026
    _aid(worker, h2, "fsl_maintien", "accordee", date(2025, 12, 15), "700", "700", date(2026, 2, 1))
    # Not counted: requested in 2024; a household of Q.
    _aid(worker, h4, "commune", "demandee", date(2024, 12, 20), "200")
    _aid(worker, other, "caf", "demandee", date(2025, 5, 1), "400")
    db.session.commit()
    return p


def _tables(project, as_of=date(2026, 3, 1)):
    tables = collect(db.session, EvaluationScope((project.id,), 2025, as_of))
    return {t.key: t for t in tables if t.axis == "cofinancing"}


def _rows(table):
    return {row.key: row.values for row in table.rows}


def test_share_of_each_funder_in_granted_and_received(fixture):
    table = _tables(fixture)["cofinancing.funders"]
    # granted: État 60 000 + 20 000 = 80 000; total 80 000 + 15 000 + 5 000 = 100 000
    # received: État 30 000 + 20 000 = 50 000; total 50 000 + 15 000 + 0 = 65 000
    # shares: 80 000 / 100 000 = 0.8; 50 000 / 65 000 = 0.76923… → 0.7692;
    # 15 000 / 100 000 = 0.15; 15 000 / 65 000 = 0.23077… → 0.2308; 5 000 / 100 000 = 0.05
    assert _rows(table) == {
        "etat": (D("80000.00"), D("0.8000"), D("50000.00"), D("0.7692")),
        "bailleur": (D("15000.00"), D("0.1500"), D("15000.00"), D("0.2308")),
        "departement": (D("5000.00"), D("0.0500"), D("0.00"), D("0.0000")),
        "caf": (D("0.00"), D("0.0000"), D("0.00"), D("0.0000")),
        "commune": (D("0.00"), D("0.0000"), D("0.00"), D("0.0000")),
        "autre": (D("0.00"), D("0.0000"), D("0.00"), D("0.0000")),
        "total": (D("100000.00"), D("1.0000"), D("65000.00"), D("1.0000")),
    }
    assert table.row_total and table.rows[-1].key == "total"


def test_cost_per_household_and_per_household_year(fixture):
    row = _tables(fixture)["cofinancing.costs"].rows[0]
    # supported in 2025: h1, h2, h4 = 3 households; days 365 + 122 + 31 = 518
    # household-years 518 / 365 = 1.41917… → 1.42
    # cost per household 100 000 / 3 = 33 333.33
    # cost per household-year 100 000 × 365 / 518 = 70 463.320… → 70 463.32
    assert row.values == (D("100000.00"), 3, D("1.42"), D("33333.33"), D("70463.32"))


def test_places_agreed_against_households_supported(fixture):
    row = _tables(fixture)["cofinancing.places"].rows[0]
    # 4 places; 3 supported in the year, 2 on 31 December (h1, h4); occupancy
    # (518 / 365) / 4 = 0.35479… → 0.3548
    assert row.values == (4, 3, 2, D("1.42"), D("0.3548"))


def test_financial_aid_requested_granted_refused_by_kind(fixture):
    rows = _rows(_tables(fixture)["cofinancing.financial_aid"])
    # FSL maintien: 2 requested (1 000 + 700 = 1 700), both granted (800 + 700 = 1 500)
    assert rows["fsl_maintien"] == (2, 2, 0, D("1700.00"), D("1500.00"))
    assert rows["fsl_acces"] == (1, 0, 1, D("500.00"), D("0.00"))
    assert rows["caf"] == (1, 0, 0, D("300.00"), D("0.00"))  # still pending: neither
    assert rows["commune"] == (0, 0, 0, D("0.00"), D("0.00"))
    # total: 4 requested (1 700 + 500 + 300 = 2 500), 2 granted, 1 refused (1 pending)
    assert rows["total"] == (4, 2, 1, D("2500.00"), D("1500.00"))


def test_a_decision_after_as_of_is_still_pending(fixture):
    rows = _rows(_tables(fixture, as_of=date(2026, 1, 15))["cofinancing.financial_aid"])
    # the 700 € FSL maintien was decided on 1 February 2026, after 15 January: pending then
    assert rows["fsl_maintien"] == (2, 1, 0, D("1700.00"), D("800.00"))


def test_a_year_not_over_counts_up_to_as_of(fixture):
    row = _tables(fixture, as_of=date(2025, 6, 30))["cofinancing.places"].rows[0]
    # up to 30 June 2025: h1 from 1 January (181 days), h2 from 1 March (122 days); h4 not
    # yet: 2 households, both supported on 30 June; (181 + 122) / 365 = 0.830… → 0.83;
    # occupancy 0.83013… / 4 = 0.20753… → 0.2075
    assert row.values == (4, 2, 2, D("0.83"), D("0.2075"))


def test_no_budget_no_cost(app):
    project = make_project(name="Sans budget")
    tables = _tables(project)
    assert tables["cofinancing.costs"].rows[0].values == (D("0.00"), 0, D("0.00"), None, None)
    assert tables["cofinancing.places"].rows[0].values == (None, 0, 0, D("0.00"), None)
    assert tables["cofinancing.funders"].rows[-1].values == (D("0.00"), None, D("0.00"), None)


def test_several_projects_are_added_together(fixture):
    other = db.session.scalar(select(Project).where(Project.name == "Autre projet"))
    scope = EvaluationScope((fixture.id, other.id), 2025, date(2026, 3, 1))
    tables = {t.key: t for t in collect(db.session, scope) if t.axis == "cofinancing"}
    # granted: P 100 000 + Q's commune 7 777 = 107 777; commune share 7 777 / 107 777
    # = 0.07215… → 0.0722
    funders = _rows(tables["cofinancing.funders"])
    assert funders["commune"][:2] == (D("7777.00"), D("0.0722"))
    assert funders["total"][0] == D("107777.00")
    # places 4 + 50 = 54; households supported: P's 3 + Q's 1 = 4, on 31 December h1, h4 and
    # Q's = 3; days 518 + 365 (Q's, all 2025) = 883 → 883 / 365 = 2.419… → 2.42;
    # occupancy (883 / 365) / 54 = 0.04479… → 0.0448
    assert tables["cofinancing.places"].rows[0].values == (54, 4, 3, D("2.42"), D("0.0448"))
    # Q's household asked the CAF for 400 € in 2025: CAF 2 requests, 300 + 400 = 700
    assert _rows(tables["cofinancing.financial_aid"])["caf"] == (2, 0, 0, D("700.00"), D("0.00"))
