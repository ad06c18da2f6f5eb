"""Two leases of one landlord whose references differ only by case, spaces or leading zeros
(``BAIL-0012`` and ``bail-12``) share a comparison key: a row with that key is matched to
neither, it is a line to correct that names the ambiguity — but never a lease of a household
the landlord's staff do not see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.db import db
from app.housing import rent_import
from app.housing.models import RentAccountSnapshot
from app.permissions import Role
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
)

TODAY = date(2026, 11, 27)


@pytest.fixture
def landlord(app):
    landlord = make_landlord(name="Bailleur des collisions")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    for reference in ("BAIL-0012", "bail-12", "L-7"):
        make_occupancy(make_household(project), make_dwelling(landlord), lease_reference=reference)
    db.session.commit()
    return {"landlord": landlord, "staff": staff, "project": project}


def _import(landlord, lines):
    return rent_import.import_rent_lines(
        landlord["staff"], landlord["landlord"], lines, today=TODAY
    )


def _line(reference, balance=0):
    return {"reference": reference, "month": "2026-10", "balance": balance, "amount_due": 400}


def test_a_reference_shared_by_two_leases_is_a_line_to_correct_naming_both(landlord):
    with pytest.raises(rent_import.ImportRejected) as refused:
        _import(landlord, [_line("L-7"), _line("Bail-12", 120)])
    problems = refused.value.report.problems
    assert [problem.line for problem in problems] == [2]
    reason = problems[0].reason
    assert reason.startswith("la référence « Bail-12 » correspond à plusieurs baux :")
    assert "« BAIL-0012 » et « bail-12 »" in reason
    assert db.session.scalars(select(RentAccountSnapshot)).all() == []  # all or nothing


def test_the_same_ambiguity_is_reported_from_a_file(landlord):
    content = "Référence du bail;Mois;Solde;Loyer et charges du mois\nbail-0012;2026-10;0;400\n"
    report, values = rent_import.read_rent_accounts(
        landlord["landlord"].id, content.encode(), today=TODAY
    )
    assert values == []
    assert "correspond à plusieurs baux" in report.problems[0].reason


def test_leases_the_landlord_cannot_see_are_counted_never_named(landlord):
    # A former tenant's lease (ended, the household left: the landlord no longer sees it)
    # and an anonymised household's.
    project = landlord["project"]
    make_occupancy(
        make_household(project),
        make_dwelling(landlord["landlord"]),
        lease_reference="Bail -0012 ",
        start_on=date(2019, 1, 1),
        end_on=date(2020, 1, 31),
    )
    gone = make_household(project, anonymised_at=datetime(2026, 1, 1, tzinfo=UTC))
    make_occupancy(gone, make_dwelling(landlord["landlord"]), lease_reference="BAIL-00012")
    db.session.commit()
    with pytest.raises(rent_import.ImportRejected) as refused:
        _import(landlord, [_line("BAIL-12")])
    reason = refused.value.report.problems[0].reason
    assert "« BAIL-0012 », « bail-12 » et 2 baux que vous ne voyez pas" in reason
    assert "00012" not in reason and "Bail -0012" not in reason


def test_a_reference_kept_by_a_glissement_is_not_ambiguous(landlord):
    """The same reference on an ended lease and the current one (a glissement keeps it)
    is one reference: the current lease is matched, as before."""
    household = make_household(landlord["project"])
    dwelling = make_dwelling(landlord["landlord"])
    make_occupancy(
        household,
        dwelling,
        lease_reference="G-5",
        start_on=date(2024, 1, 1),
        end_on=date(2025, 1, 31),
    )
    current = make_occupancy(household, dwelling, lease_reference="G-5", start_on=date(2025, 2, 1))
    db.session.commit()
    report = _import(landlord, [_line("g-05 ", 300)])
    assert report.created == 1
    snapshot = db.session.scalars(select(RentAccountSnapshot)).one()
    assert (snapshot.occupancy_id, snapshot.balance_cents) == (current.id, 30_000)


def test_a_row_after_the_end_of_every_colliding_lease_is_set_aside(landlord):
    """Former tenants' leases that collide do not block the monthly import: a row for a
    month after the most recent one ended is out of the programme, as for any ended lease."""
    for reference, start, end in (
        ("E-0001", date(2020, 1, 1), date(2024, 1, 31)),
        ("e-1", date(2024, 2, 1), date(2025, 6, 30)),
    ):
        make_occupancy(
            make_household(landlord["project"]),
            make_dwelling(landlord["landlord"]),
            lease_reference=reference,
            start_on=start,
            end_on=end,
        )
    db.session.commit()
    report = _import(landlord, [_line("L-7"), _line("E-1")])
    assert (report.created, report.out_of_programme, report.problems) == (1, 1, [])
