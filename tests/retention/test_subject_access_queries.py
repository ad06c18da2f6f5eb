"""Right of access: the export reads a file holding records of every kind in a few SQL
statements, the same number whatever the file holds (it sent one query per table, 40 and
more, before)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.audience import readable_columns
from app.db import db
from app.evaluation.models import HouseholdAid
from app.households.models import HouseholdTeamMember
from app.housing.models import Occupancy
from app.permissions import Role
from app.retention.queries import _value as plain_value
from app.retention.queries import subject_access_file
from app.retention.services import DECLARED, household_condition
from app.users.models import User
from tests.factories import (
    make_appointment,
    make_consent,
    make_document,
    make_intervention,
    make_member,
    make_project,
    make_repayment_plan,
    make_snapshot,
    make_user,
)
from tests.queries import count_queries
from tests.retention.helpers import build_file

MOST_STATEMENTS = 15


def _file_of_every_kind():
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household, _ = build_file(project, worker, closed=True)
    occupancy = db.session.scalar(select(Occupancy).where(Occupancy.household_id == household.id))
    db.session.add_all(
        [
            HouseholdTeamMember(
                household_id=household.id, user_id=worker.id, added_on=date(2022, 3, 1)
            ),
            HouseholdAid(
                household_id=household.id,
                kind="fsl_acces",
                requested_on=date(2022, 4, 1),
                requested_cents=50_000,
            ),
        ]
    )
    make_consent(household, "bailleur", "situation_logement")
    make_appointment(household, worker, day=date(2022, 4, 1))
    make_snapshot(occupancy, date(2022, 9, 1), balance_cents=-12_000)
    make_repayment_plan(occupancy)
    make_document(household, worker)
    db.session.commit()
    return coordinator, household


def _statements(client, url: str) -> list[str]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("suffix", ["", ".json", ".zip"])
def test_the_export_of_a_file_of_every_kind_sends_few_statements_whatever_it_holds(client, suffix):
    coordinator, household = _file_of_every_kind()
    client.login(coordinator)
    url = f"/menages/{household.id}/droit-d-acces{suffix}"
    assert client.get(url).status_code == 200  # the session settles on the first page
    few = _statements(client, url)
    assert len(few) <= MOST_STATEMENTS, "\n".join(few)
    worker = db.session.get(User, household.referent_id)
    for _ in range(3):
        make_member(household)
        make_intervention(household, worker)
        make_document(household, worker)
    db.session.commit()
    many = _statements(client, url)
    assert len(many) == len(few), "\n".join(many)


def test_the_file_of_the_query_test_holds_a_record_of_every_kind(client):
    coordinator, household = _file_of_every_kind()
    client.login(coordinator)
    body = json.loads(client.get(f"/menages/{household.id}/droit-d-acces.json").get_data())
    empty = [s["table"] for s in body["sections"] if not s["rows"]]
    assert empty == []
    assert len(body["sections"]) == len(DECLARED)


def _plain_selects(household, viewer) -> list[list[dict]]:
    """The file as one plain SELECT per table reads it (the export's reading before it read
    every table in one query)."""
    sections = []
    for declared in DECLARED:
        columns = readable_columns(viewer, declared.model)
        rows = db.session.execute(
            select(*columns)
            .where(household_condition(declared, household.id))
            .order_by(declared.model.id)
        )
        sections.append([{c.key: plain_value(row._mapping[c]) for c in columns} for row in rows])
    return sections


@pytest.mark.parametrize(
    "role", [Role.COORDINATEUR, Role.TRAVAILLEUR_SOCIAL, Role.PERSONNEL_BAILLEUR]
)
def test_the_one_query_reads_every_value_as_a_plain_select_does(client, role):
    _, household = _file_of_every_kind()
    household.created_at = datetime(2022, 1, 3, 9, 30, tzinfo=UTC)  # no microseconds
    db.session.commit()
    viewer = make_user(role)
    expected = _plain_selects(household, viewer)
    sections = subject_access_file(household, viewer)
    assert json.dumps([s["rows"] for s in sections]) == json.dumps(expected)
    members = sections[1]["rows"]
    if role is not Role.PERSONNEL_BAILLEUR:
        assert [m["is_head"] for m in members] == [True, False]  # booleans, not 0/1
    assert sections[0]["rows"][0]["created_at"] == "2022-01-03T09:30:00+00:00"
