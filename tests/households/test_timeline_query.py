"""The household file's timeline is one SQL query (issue #19), and what it selects for a viewer
follows the column audiences: for landlord staff, not one column they may not read is even
selected (privacy by construction, not by filtering afterwards)."""

from __future__ import annotations

import pytest

from app.audience import can_read, tenancy_when
from app.db import db
from tests.factories import make_household
from tests.performance.test_key_pages_queries import add_file_records, statements_of, world  # noqa: F401


def _timeline_statement(client, household) -> str:
    statements = statements_of(client, f"/menages/{household.id}")
    unions = [s for s in statements if " AS k," in s and "UNION ALL" in s]
    assert len(unions) == 1, "\n".join(s[:100] for s in statements)
    return unions[0]


def _selected_unreadable(viewer, statement: str) -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if "audience" not in column.info or can_read(viewer, column):  # (link tables)
                continue
            flag = tenancy_when(column)
            if flag and f"{table.name}.{flag}" in statement:  # only on the rows it flags
                continue
            if f"{table.name}.{column.name}" in statement:
                found.append(f"{table.name}.{column.name}")
    return found


@pytest.mark.parametrize("who", ["staff", "workers"])
def test_the_timeline_selects_only_what_the_viewer_may_read(world, make_client, who):  # noqa: F811
    household = make_household(world["project"], referent=world["workers"][0])
    add_file_records(world, household, 2)
    viewer = world["workers"][0] if who == "workers" else world["staff"]
    client = make_client()
    client.login(viewer)
    statement = _timeline_statement(client, household)
    assert _selected_unreadable(viewer, statement) == []
    # What the support team reads is there for them, and not for landlord staff.
    social = ("intervention.note", "diagnostic.needs", "support_measure.type", "referral.reason")
    for column in social:
        assert (column in statement) == (who == "workers"), column
    # Both see the tripartite meetings and the stages of the path.
    assert "tripartite_meeting.decisions" in statement
    assert "stage_transition.to_stage" in statement
