"""The audience declaration (``app.audience``): every column of every table holding data about
a household says who may read it, with a known word, and the projection built from it refuses
what the viewer may not read.

A new column without ``info={"audience": ...}`` fails
``test_every_household_column_declares_its_audience``; the negative test below shows it on a
throwaway table."""

from __future__ import annotations

import pytest
from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text

from app.audience import (
    Audience,
    AudienceRefused,
    can_read,
    project,
    readable_columns,
)
from app.db import db
from app.households.models import Household, Member
from app.interventions.models import Intervention

# Tables linked to a household that are not household content: the audit trail records who
# did what (ids and field names, never values) and is read on its own pages.
NOT_CONTENT = {"audit_entry"}


def household_data_tables(metadata: MetaData) -> list[Table]:
    """``household`` and every table pointing at it, directly or through another such table
    (a measure's renewals, a lease's rent account), found from the foreign keys."""
    found = {"household"}
    grew = True
    while grew:
        grew = False
        for table in metadata.tables.values():
            if table.name in found or table.name in NOT_CONTENT:
                continue
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                grew = True
    return [metadata.tables[name] for name in sorted(found) if name in metadata.tables]


def declaration_problems(tables) -> list[str]:
    """Every column without a declared audience, with an unknown one, or with a
    ``tenancy_when`` that is not a boolean column of the same table."""
    problems = []
    known = {a.value for a in Audience}
    for table in tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            audience = column.info.get("audience")
            if audience is None:
                problems.append(f"{name}: no audience")
            elif audience not in known:
                problems.append(f"{name}: unknown audience {audience!r}")
            flag = column.info.get("tenancy_when")
            if flag is not None:
                if audience not in (Audience.SOCIAL, Audience.HEALTH):
                    problems.append(f"{name}: tenancy_when on a {audience} column")
                elif flag not in table.c or not isinstance(table.c[flag].type, Boolean):
                    problems.append(f"{name}: tenancy_when {flag!r} is not a boolean column")
    return problems


def test_every_household_column_declares_its_audience(app):
    tables = household_data_tables(db.metadata)
    names = {t.name for t in tables}
    # The walk really reaches the domains' tables, directly and through a parent.
    assert {"household", "intervention", "support_measure_renewal", "rent_account_snapshot"} <= (
        names
    )
    assert {"reminder", "tenancy_figures", "referral_status_change"} <= names
    assert declaration_problems(tables) == []


def test_an_undeclared_or_unknown_audience_is_caught():
    """The deliberately broken example: a new table about a household with one column
    forgotten, one misspelt and one flag pointing at a text column."""
    metadata = MetaData()
    Table(
        "household",
        metadata,
        Column("id", Integer, primary_key=True, info={"audience": "internal"}),
    )
    Table(
        "household_pet",
        metadata,
        Column("id", Integer, primary_key=True, info={"audience": "internal"}),
        Column("household_id", ForeignKey("household.id"), info={"audience": "internal"}),
        Column("vet_notes", Text),
        Column("name", String(30), info={"audience": "socail"}),
        Column("nickname", String(30), info={"audience": "social", "tenancy_when": "name"}),
        Column("is_shown", Boolean, info={"audience": "tenancy"}),
    )
    Table("unrelated", metadata, Column("id", Integer, primary_key=True))
    tables = household_data_tables(metadata)
    assert [t.name for t in tables] == ["household", "household_pet"]
    assert declaration_problems(tables) == [
        "household_pet.vet_notes: no audience",
        "household_pet.name: unknown audience 'socail'",
        "household_pet.nickname: tenancy_when 'name' is not a boolean column",
    ]


@pytest.fixture
def people(app):
    from tests.world import build_world

    w = build_world()
    db.session.flush()
    return w


def test_the_projection_refuses_what_the_viewer_may_not_read(people):
    w = people
    landlord, worker = w.users["bailleur"], w.users["travailleur_social"]
    w.household.difficulties = "Rien à signaler"
    for_landlord = project(landlord, w.household)
    assert for_landlord.reference == w.household.reference
    with pytest.raises(AudienceRefused):
        _ = for_landlord.difficulties
    with pytest.raises(AudienceRefused):
        _ = for_landlord.current_address
    with pytest.raises(AudienceRefused, match="no declared audience"):
        _ = for_landlord.members  # not declared: never handed out by accident
    assert project(worker, w.household).difficulties == "Rien à signaler"
    with pytest.raises(AudienceRefused):
        _ = for_landlord.debts_cents
    assert project(worker, w.household).debts_cents == w.household.debts_cents


def test_a_row_flag_opens_one_column_on_its_own_rows(people):
    w = people
    landlord = w.users["bailleur"]
    head = next(m for m in w.household.members if m.is_head)
    other = next(m for m in w.household.members if not m.is_head)
    assert project(landlord, head).last_name == head.last_name
    with pytest.raises(AudienceRefused):
        _ = project(landlord, other).last_name
    w.intervention.shared_summary, w.intervention.is_summary_shared = "Tout va bien", True
    assert project(landlord, w.intervention).shared_summary == "Tout va bien"
    with pytest.raises(AudienceRefused):
        _ = project(landlord, w.intervention).note
    w.intervention.is_summary_shared = False
    with pytest.raises(AudienceRefused):
        _ = project(landlord, w.intervention).shared_summary


def test_readable_columns_follow_the_declaration(people):
    w = people
    landlord, worker = w.users["bailleur"], w.users["travailleur_social"]
    landlord_columns = {c.name for c in readable_columns(landlord, Household)}
    assert {"reference", "phone", "email", "stage"} <= landlord_columns
    assert not {"current_address", "difficulties", "debts_cents", "target_publics"} & (
        landlord_columns
    )
    assert {c.name for c in readable_columns(worker, Household)} == set(
        Household.__table__.c.keys()
    )
    # A flagged column is not readable on every row, so not in an export of the table.
    assert "last_name" not in {c.name for c in readable_columns(landlord, Member)}
    assert not can_read(landlord, Intervention.note) and can_read(worker, Intervention.note)
    assert not can_read(w.users["admin"], "social")


def test_a_template_given_the_projection_refuses_instead_of_rendering_nothing(people, app):
    """Jinja renders an attribute it cannot get as an empty string; the projection raises
    instead, so a forbidden or undeclared read breaks the page rather than passing silently."""
    from flask import render_template_string

    w = people
    w.household.debts_cents = 12_300
    source = "{{ project(household).debts_cents }}"
    with app.test_request_context():
        from flask_login import login_user

        login_user(w.users["travailleur_social"])
        assert render_template_string(source, household=w.household) == "12300"
        login_user(w.users["bailleur"])
        with pytest.raises(AudienceRefused):
            render_template_string(source, household=w.household)
        with pytest.raises(AudienceRefused):
            render_template_string("{{ project(household).team }}", household=w.household)
        # Nor can a template step around the guard through the wrapped record.
        with pytest.raises(AudienceRefused):
            render_template_string(
                "{{ project(household)._record.debts_cents }}", household=w.household
            )
