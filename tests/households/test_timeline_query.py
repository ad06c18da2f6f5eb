"""The household file's timeline is one SQL query (issue #19), and what it selects for a viewer
follows the column audiences: for landlord staff, not one column they may not read is even
selected (privacy by construction, not by filtering afterwards) — neither in the timeline's
query nor in the one the header's badges send on the other pages of the file."""

from __future__ import annotations

import re

import pytest

from app.audience import can_read, tenancy_when
from app.db import db
from tests.factories import make_household
from tests.performance.test_key_pages_queries import add_file_records, statements_of, world  # noqa: F401


def _union_statement(client, url: str) -> str:
    statements = statements_of(client, url)
    unions = [s for s in statements if " AS k," in s]
    assert len(unions) == 1, "\n".join(s[:100] for s in statements)
    return unions[0]


def _selected_unreadable(viewer, statement: str) -> list[str]:
    """Every ``table.column`` (or ``alias_N.column``: an aliased table, e.g. the author's
    user) the statement names that ``viewer`` may not read."""
    tables = {table.name: table for table in db.metadata.sorted_tables}
    found = []
    for name, column_name in set(re.findall(r'\b([a-z_]+?)(?:_\d+)?\."?([a-z_]+)"?', statement)):
        table = tables.get(name)
        if table is None or column_name not in table.columns:
            continue
        column = table.columns[column_name]
        if "audience" not in column.info or can_read(viewer, column):  # (link tables)
            continue
        flag = tenancy_when(column)
        if flag and f"{name}.{flag}" in statement:  # only on the rows it flags
            continue
        found.append(f"{name}.{column_name}")
    return sorted(found)


@pytest.fixture
def file(world):  # noqa: F811
    household = make_household(world["project"], referent=world["workers"][0])
    add_file_records(world, household, 2)
    return household


def _client(world, make_client, who):  # noqa: F811
    viewer = world["workers"][0] if who == "workers" else world[who]
    client = make_client()
    client.login(viewer)
    return client, viewer


@pytest.mark.parametrize("who", ["staff", "workers", "coordinator"])
def test_the_timeline_selects_only_what_the_viewer_may_read(world, make_client, file, who):  # noqa: F811
    client, viewer = _client(world, make_client, who)
    statement = _union_statement(client, f"/menages/{file.id}")
    assert _selected_unreadable(viewer, statement) == []
    # What the support team reads is there for them, and not for landlord staff.
    social = ("intervention.note", "diagnostic.needs", "support_measure.type", "referral.reason")
    for column in social:
        assert (column in statement) == (who != "staff"), column
    # Everyone sees the tripartite meetings and the stages of the path.
    assert "tripartite_meeting.decisions" in statement
    assert "stage_transition.to_stage" in statement


@pytest.mark.parametrize("who", ["staff", "workers", "coordinator"])
def test_the_header_query_selects_only_what_the_viewer_may_read(world, make_client, file, who):  # noqa: F811
    client, viewer = _client(world, make_client, who)
    statement = _union_statement(client, f"/menages/{file.id}/composition")
    assert _selected_unreadable(viewer, statement) == []
    # The support team's badges need the open measures and the last contact; landlord
    # staff's the rent account and the procedure only.
    for column in ("support_measure.next_review_on", "intervention.occurred_on"):
        assert (column in statement) == (who != "staff"), column
    assert "rent_account_snapshot.balance_cents" in statement


@pytest.mark.parametrize("who", ["staff", "workers", "coordinator"])
def test_the_synthesis_query_selects_only_what_the_viewer_may_read(world, make_client, file, who):  # noqa: F811
    client, viewer = _client(world, make_client, who)
    statement = _union_statement(client, f"/menages/{file.id}/synthese")
    assert _selected_unreadable(viewer, statement) == []
    # Its dates, reminders and rent account, for everyone who may print it.
    for column in ("stage_transition.to_stage", "reminder.title", "rent_account_snapshot.month"):
        assert column in statement, column
