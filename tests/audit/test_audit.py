"""The audit log: append-only in the database, refusals recorded, the "who consulted this
file" page for coordinators and the administrators' searchable log."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from app.audit.models import AuditEntry, AuditOutcome
from app.audit.services import record
from app.db import db
from app.permissions import Role
from tests.conftest import page
from tests.factories import make_household, make_project, make_user
from tests.queries import count_queries


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _one_entry() -> AuditEntry:
    entry = record(None, "test.entry", details={"fields": ["phone"]})
    db.session.commit()
    return entry


def test_an_entry_cannot_be_changed_through_the_orm(app):
    entry = _one_entry()
    entry.action = "test.rewritten"
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "test.entry"


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(outcome="success"),
        delete(AuditEntry),
        text("DELETE FROM audit_entry"),
        text("UPDATE audit_entry SET actor_id = NULL"),
    ],
    ids=["orm-update", "orm-delete", "sql-delete", "sql-update"],
)
def test_entries_cannot_be_updated_or_deleted_in_sql(app, statement):
    _one_entry()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(statement)
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1


def test_new_entries_can_still_be_added(app):
    _one_entry()
    _one_entry()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 2


def test_a_403_is_recorded_with_the_route_template_never_the_query_string(client):
    worker = make_user(Role.TRAVAILLEUR_SOCIAL)
    client.login(worker)
    assert client.get("/admin/utilisateurs/?q=Dupont+Marie").status_code == 403
    [entry] = _entries("access.refused")
    assert entry.actor_id == worker.id
    assert entry.outcome == AuditOutcome.REFUSED
    assert entry.details == {"route": "/admin/utilisateurs/", "method": "GET", "status": 403}
    assert entry.ip == "127.0.0.1"
    assert entry.request_id


def test_a_household_outside_the_users_scope_is_a_404_recorded_with_its_id(client):
    household = make_household(make_project())
    outsider = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[make_project()])
    client.login(outsider)
    assert client.get(f"/menages/{household.id}").status_code == 404
    [entry] = _entries("access.refused")
    assert entry.household_id == household.id
    assert entry.details["route"] == "/menages/<int:household_id>"
    assert entry.details["status"] == 404


def test_unknown_urls_and_anonymous_visitors_are_not_recorded(client):
    assert client.get("/admin/utilisateurs/").status_code == 302
    client.login(make_user())
    assert client.get("/nexiste/pas").status_code == 404
    assert _entries("access.refused") == []


def test_logins_failures_and_logouts_are_recorded_with_ip(client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    client.post("/connexion", data={"email": user.email, "password": "mauvais-mdp-123"})
    client.login(user)
    client.logout()
    for action, outcome in (
        ("auth.login_failed", AuditOutcome.REFUSED),
        ("auth.login", AuditOutcome.SUCCESS),
        ("auth.logout", AuditOutcome.SUCCESS),
    ):
        [entry] = _entries(action)
        assert (entry.actor_id, entry.outcome, entry.ip) == (user.id, outcome, "127.0.0.1")


@pytest.fixture
def file_world(app):
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, full_name="Nadia Coord", projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, full_name="Sophie Lectrice", projects=[project])
    household = make_household(project, referent=worker)
    return coordinator, worker, household


def test_coordinator_sees_who_consulted_the_file(file_world, client, make_client):
    coordinator, worker, household = file_world
    reader = make_client()
    reader.login(worker)
    for _ in range(2):
        assert reader.get(f"/menages/{household.id}").status_code == 200
    client.login(coordinator)
    response = client.get(f"/menages/{household.id}/consultations")
    assert response.status_code == 200
    body = page(response)
    assert "Qui a consulté ce dossier" in body
    readers = body[body.index('id="readers-title"') : body.index('id="trace-title"')]
    row = readers[readers.index("Sophie Lectrice") :][:300]
    assert "<td>2</td>" in row  # two consultations
    assert "Consultation du dossier" in body
    # Reading the trace is traced too, on the same household.
    [entry] = _entries("household.access_log_read")
    assert (entry.actor_id, entry.household_id) == (coordinator.id, household.id)


def test_only_coordinators_in_scope_see_the_consultations(file_world, make_client):
    _coordinator, worker, household = file_world
    other_coordinator = make_user(Role.COORDINATEUR, projects=[make_project()])
    expectations = ((worker, 403), (other_coordinator, 404))
    for user, status in expectations:
        client = make_client()
        client.login(user)
        assert client.get(f"/menages/{household.id}/consultations").status_code == status


def test_admin_log_filters_by_actor_action_household_outcome_and_dates(client):
    admin = make_user(Role.ADMIN)
    alice = make_user(full_name="Alice Trace")
    bob = make_user(full_name="Bob Trace")
    day = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    record(alice, "household.read", household_id=41, now=day)
    record(alice, "household.read", household_id=42, now=day + timedelta(days=2))
    record(bob, "household.read", household_id=41, now=day)
    record(bob, "access.refused", household_id=41, now=day, outcome=AuditOutcome.REFUSED)
    client.login(admin)

    def rows(**args) -> int:
        response = client.get("/admin/journal", query_string=args)
        assert response.status_code == 200
        return page(response).count('<code class="small">household.read</code>') + page(
            response
        ).count('<code class="small">access.refused</code>')

    assert rows(acteur=alice.id) == 2
    assert rows(acteur=bob.id, action="household.read") == 1
    assert rows(menage=41) == 3
    assert rows(resultat="refused") == 1
    assert rows(du="2026-03-14", au="2026-03-14") == 1
    assert rows(du="2026-03-12", au="2026-03-12", menage=41) == 3
    assert rows(action="access.") == 1  # a family of actions


def test_admin_log_pages_through_a_window_without_counting_the_journal(client, app):
    app.config["PAGE_SIZE"] = 5
    admin = make_user(Role.ADMIN)
    for n in range(12):
        record(None, "test.entry", household_id=n + 1)
    client.login(admin)
    body = page(client.get("/admin/journal", query_string={"action": "test.entry"}))
    assert "Entrées 1 à 5 · page 1" in body
    assert 'rel="next"' in body and 'rel="prev"' not in body
    assert body.count('<code class="small">test.entry</code>') == 5
    last = page(client.get("/admin/journal", query_string={"action": "test.entry", "page": 3}))
    assert "Entrées 11 à 12 · page 3" in last
    assert last.count('<code class="small">test.entry</code>') == 2
    assert 'rel="next"' not in last and 'rel="prev"' in last
    beyond = page(client.get("/admin/journal", query_string={"action": "test.entry", "page": 9}))
    assert "Cette page est au-delà de la dernière entrée." in beyond
    assert 'rel="prev"' in beyond


def test_admin_log_finds_the_person_by_email_or_part_of_the_name(client):
    admin = make_user(Role.ADMIN, full_name="Zoé Admin")
    alice = make_user(full_name="Alice Martin", email="alice.martin@example.org")
    make_user(full_name="Albert Martinez")
    record(alice, "household.read", household_id=41)
    client.login(admin)

    def body(**args) -> str:
        response = client.get("/admin/journal", query_string=args)
        assert response.status_code == 200
        return page(response)

    by_email = body(personne="Alice.Martin@example.org")
    assert by_email.count('<code class="small">household.read</code>') == 1
    assert 'value="alice.martin@example.org"' in by_email
    assert body(personne="alice mar").count('<code class="small">household.read</code>') == 1

    several = body(personne="martin")
    assert "Plusieurs personnes correspondent à « martin »" in several
    assert f"acteur={alice.id}" in several
    assert '<code class="small">' not in several  # no rows under an unresolved filter

    nobody = body(personne="personne@nulle.part")
    assert "Aucun compte ne correspond à « personne@nulle.part »" in nobody
    assert '<code class="small">' not in nobody
    assert "Aucun compte ne correspond à « n° 999999 »" in body(acteur=999999)


def test_admin_log_offers_a_fixed_vocabulary_of_actions(client):
    admin = make_user(Role.ADMIN)
    record(None, "test.entry")
    client.login(admin)
    with count_queries() as statements:
        body = page(client.get("/admin/journal"))
    assert '<option value="auth.">Connexions et sécurité des comptes</option>' in body
    assert "test.entry</option>" not in body  # not read back from the journal
    assert not any("DISTINCT" in statement.upper() for statement in statements)


def test_admin_log_query_count_does_not_grow_with_entries_or_people(client, app):
    app.config["PAGE_SIZE"] = 50
    admin = make_user(Role.ADMIN)
    client.login(admin)

    def queries_for_a_page() -> int:
        with count_queries() as statements:
            assert client.get("/admin/journal").status_code == 200
        return len(statements)

    record(make_user(), "household.read", household_id=1)
    few = queries_for_a_page()
    for n in range(40):
        project = make_project()
        record(make_user(projects=[project]), "household.read", household_id=n + 2)
    assert queries_for_a_page() == few
