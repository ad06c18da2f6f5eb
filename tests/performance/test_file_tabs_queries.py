"""The other pages of the household file send at most 15 SQL statements too (issue #19), and
as many with one record of each kind as with seven (no statement per record): Logement,
Rappels, Consultations and a referral's page, for each kind of viewer who may open them.

What every page of the file sends (SQLite; PostgreSQL sends no BEGIN): BEGIN, the viewer,
their projects, the household, the audit entry of the read, BEGIN, the leases with their
reviews (one query, shared by the page and the header), the header's badges (one UNION ALL),
the navigation's reminder count. Then each page its own records: Logement the rent accounts,
repayment plans, GLA actions and procedure stages; Rappels the reminders (their people by
name), which of them the viewer may act on and the next actions' texts; Consultations the
access log's own entry (with the read), a page of entries and their count, the readers and
their names; a referral its history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.audit.services import record
from app.db import db
from app.partners.models import ReferralStatusChange
from app.permissions import Role
from app.reminders.models import Reminder
from tests.factories import make_household, make_intervention, make_referral, make_user
from tests.performance.test_key_pages_queries import (  # noqa: F401
    MAX_QUERIES,
    add_file_records,
    extra_statements,
    statements_of,
    world,
)

PAGES = (
    ("workers", "/logement"),
    ("coordinator", "/logement"),
    ("staff", "/logement"),
    ("workers", "/rappels"),
    ("coordinator", "/rappels"),
    ("staff", "/rappels"),
    ("coordinator", "/consultations"),
    ("workers", "/partenaires/orientations/{referral}"),
    ("coordinator", "/partenaires/orientations/{referral}"),
)


def add_reminders(w, household, n: int) -> list[str]:
    """``n`` reminders of each kind on the household: open ones for a worker and for the
    landlord's staff (by role), a visit's next action, and closed ones, each closed by a
    different person. Returns the closers' names."""
    worker = w["workers"][0]
    today = date.today()
    closers = []
    for i in range(n):
        closer = make_user(projects=[w["project"]])
        closers.append(closer.full_name)
        visit = make_intervention(household, author=worker, next_action=f"Appeler la CAF {i}")
        db.session.add_all(
            [
                Reminder(
                    rule_code="manuel",
                    household_id=household.id,
                    title="Rappeler le ménage",
                    due_on=today + timedelta(days=i),
                    recipient_user_id=w["workers"][i % 3].id,
                    created_by_id=worker.id,
                ),
                Reminder(
                    rule_code="manuel",
                    household_id=household.id,
                    title="Vérifier l'assurance",
                    due_on=today - timedelta(days=i),
                    recipient_role=Role.PERSONNEL_BAILLEUR.value,
                    recipient_organisation_id=w["landlord"].id,
                ),
                Reminder(
                    rule_code="prochaine_action",
                    subject_id=visit.id,
                    household_id=household.id,
                    title="Prochaine action prévue",
                    due_on=today + timedelta(days=i),
                    recipient_user_id=worker.id,
                ),
                *(
                    Reminder(
                        rule_code="manuel",
                        household_id=household.id,
                        title="Rappel traité",
                        due_on=today - timedelta(days=30 + i),
                        status="fait",
                        closed_at=datetime.now(UTC),
                        closed_by_id=closer.id,
                        **recipient,
                    )
                    for recipient in (
                        {"recipient_user_id": worker.id},
                        {
                            "recipient_role": Role.PERSONNEL_BAILLEUR.value,
                            "recipient_organisation_id": w["landlord"].id,
                        },
                    )
                ),
            ]
        )
    db.session.flush()
    return closers


def add_reads(w, household, n: int) -> None:
    """``n`` people who read the file (each in an organisation of their own), twice each."""
    for _ in range(n):
        reader = make_user(projects=[w["project"]])
        for _ in range(2):
            record(
                reader,
                "household.read",
                household_id=household.id,
                target=household,
                details={"page": "households.show"},
            )
    db.session.flush()


def add_history(w, referral, n: int) -> list[str]:
    """``n`` changes of the referral's status, each by a different person; their names."""
    people = [make_user(projects=[w["project"]]) for _ in range(n)]
    db.session.add_all(
        ReferralStatusChange(
            referral_id=referral.id, status="acceptee", on=date(2025, 7, 1), by_id=person.id
        )
        for person in people
    )
    db.session.flush()
    return [person.full_name for person in people]


def add_records(w, household, referral, n: int) -> list[str]:
    """``n`` records of each kind; the names of the people the page should show."""
    add_file_records(w, household, n)
    add_reads(w, household, n)
    return add_reminders(w, household, n) + add_history(w, referral, n)


@pytest.mark.parametrize(("who", "page"), PAGES)
def test_file_tab_queries_are_few_and_do_not_grow(world, make_client, who, page):  # noqa: F811
    user = world["workers"][0] if who == "workers" else world[who]
    household = make_household(world["project"], referent=world["workers"][0])
    # Written by someone else than the viewer, so that their name is loaded for the page.
    referral = make_referral(household, author_id=make_user(projects=[world["project"]]).id)
    add_records(world, household, referral, 1)
    url = f"/menages/{household.id}" + page.format(referral=referral.id)
    client = make_client()
    client.login(user)
    client.get(url)  # warm-up: first-request work (session, caches) is not the page's
    few = statements_of(client, url)
    names = add_records(world, household, referral, 6)
    many = statements_of(client, url)
    assert len(few) == len(many), extra_statements(few, many)
    assert len(many) <= MAX_QUERIES, "\n".join(s[:120] for s in many)
    body = client.get(url).get_data(as_text=True)
    if page == "/rappels":  # the closed reminders name who closed them
        assert all(name in body for name in names[:6])
    if page.startswith("/partenaires"):  # the history names who changed the status
        assert all(name in body for name in names[6:])
