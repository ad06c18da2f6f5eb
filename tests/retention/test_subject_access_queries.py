"""Right of access: the export reads a file holding records of every kind in a few SQL
statements, the same number whatever the file holds (it sent one query per table, 40 and
more, before)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.db import db
from app.evaluation.models import HouseholdAid
from app.households.models import HouseholdTeamMember
from app.housing.models import Occupancy
from app.permissions import Role
from app.retention.services import DECLARED
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
