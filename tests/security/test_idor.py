"""Identifiers of another organisation's records tried in every URL of the permission
matrix: the first organisation's users get 404 (403 where their role lacks the permission,
as the matrix says), and the answer shows nothing of the record."""

from __future__ import annotations

import copy
import re
from datetime import date

import pytest

from app.households.models import HouseholdTeamMember
from app.permissions import Role
from app.support.services import close_measure
from tests.conftest import page
from tests.factories import (
    make_consent,
    make_document,
    make_dwelling,
    make_intervention,
    make_measure,
    make_meeting,
    make_member,
    make_objective,
    make_partner,
    make_referral,
    make_repayment_plan,
    make_user,
)
from tests.security.helpers import snapshot
from tests.test_permission_matrix import MATRIX
from tests.world import build_world

# First-organisation users who work with households, and the administrator.
INSIDERS = ("admin", "coordinateur", "travailleur_social", "bailleur")
MARK = "Zorglub"  # in every foreign record's text; never in the first project's data
# Records of the first project a path may name, replaced by the other organisation's.
SCOPED = (
    "household",
    "member",
    "consent",
    "team_colleague",
    "occupancy",
    "repayment_plan",
    "measure",
    "objective",
    "post_exit_check",
    "intervention",
    "referral",
    "meeting",
    "reminder",
    "dwelling",
    "document",
    "aid",
    "budget_line",
)


def _foreign_world():
    """The world, plus a fully furnished household of Projet B (other organisations)."""
    from decimal import Decimal

    from app.evaluation import money
    from app.formatting import today_paris
    from app.reminders.services import create_manual_reminder

    w = build_world()
    worker = w.users["autre_travailleur_social"]
    h = w.other_household
    h.phone, h.email = "0611223344", "zorglub@example.org"
    h.head.last_name = MARK + "Tête"
    o = copy.copy(w)
    o.household = h
    o.member = make_member(h, MARK + "Membre", MARK + "Nom")
    o.consent = make_consent(h, "bailleur", "situation_locative")
    o.team_colleague = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=w.other_association, projects=[w.other_project]
    )
    h.team.append(HouseholdTeamMember(user_id=o.team_colleague.id, added_on=date(2025, 3, 1)))
    o.occupancy = w.other_occupancy
    o.repayment_plan = make_repayment_plan(w.other_occupancy)
    o.measure = make_measure(h, actor=worker, type="hlm_accompagnes")
    o.objective = make_objective(h, title=MARK + " objectif")
    closed = make_measure(h, actor=worker, type="asll", start_on=date(2024, 1, 10))
    exit_ = close_measure(
        worker,
        closed,
        version=closed.version,
        exit_on=date(2025, 1, 10),
        reason="fin_de_mesure",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover=None,
        today=date(2025, 1, 10),
    )
    o.post_exit_check = exit_.checks[0]
    o.intervention = make_intervention(h, author=worker, note=MARK + " note de visite")
    o.referral = make_referral(h, make_partner(name="CMP Autre"), reason=MARK + " motif")
    o.meeting = make_meeting(h, decisions=MARK + " décisions")
    o.reminder = create_manual_reminder(worker, h, title=MARK + " rappel", due_on=today_paris())
    o.dwelling = make_dwelling(w.other_landlord, address="12 rue " + MARK)
    o.document = make_document(h, worker, title=MARK + " attestation", content=b"%PDF-1.4 Z")
    o.aid = money.record_aid(
        worker,
        h,
        today=today_paris(),
        kind="autre",
        label=MARK + " aide",
        status="demandee",
        requested=Decimal("400"),
        granted=None,
        requested_on=today_paris(),
        decided_on=None,
        note=MARK + " note",
    )
    o.budget_line = money.create_budget_line(
        make_user(Role.COORDINATEUR, organisation=w.other_association, projects=[w.other_project]),
        w.other_project,
        year=today_paris().year,
        today=today_paris(),
        funder="autre",
        label=MARK + " financeur",
        granted=Decimal("1000"),
        received=None,
        note=None,
    )
    return w, o


def _id_routes():
    for route, case in sorted(MATRIX.items()):
        names = set(re.findall(r"\{w\.(\w+)\.id\}", case.path))
        if names & set(SCOPED):
            yield route, case, names


ID_ROUTES = list(_id_routes())


def _forbidden(body: str, o) -> list[str]:
    markers = [MARK, o.household.reference, "0611223344", "zorglub@example.org"]
    return [m for m in markers if m.lower() in body.lower()]


# The team colleague's id is a user's, not a record of the household: removing someone who
# is not on the team is refused like any mistaken removal (flash and back to the team page).
USER_IDS = {"households.remove_team_member POST"}


# A 403 of the matrix that is a rule on a record in the user's scope, not a permission the
# role lacks: landlord staff see the world's insurance certificate but only its uploader or a
# coordinator deletes it. Another organisation's document is a 404 first.
RULES_ON_RECORDS_IN_SCOPE = {"documents.delete GET", "documents.delete POST"}


def _expected(route: str, role: str, mixed: bool) -> int:
    wanted = MATRIX[route].expect[role]
    if mixed and route in USER_IDS:
        return wanted
    if route in RULES_ON_RECORDS_IN_SCOPE and role != "admin":
        return 404
    return 403 if wanted == 403 else 404


def test_routes_with_record_ids_are_covered():
    assert len(ID_ROUTES) > 50


@pytest.mark.parametrize("mixed", [False, True], ids=["foreign-records", "own-household"])
def test_other_organisations_ids_in_every_url(mixed, app, make_client):
    """``foreign-records``: every id in the path is the other organisation's.
    ``own-household``: the household is the user's own, the sub-record another's (the view
    must check the record belongs to that household, not only the household's scope)."""
    w, o = _foreign_world()
    clients = {}
    for role in INSIDERS:
        clients[role] = make_client()
        clients[role].login(w.users[role])
    before = snapshot()
    wrong = {}
    for route, case, names in ID_ROUTES:
        if mixed:
            if "household" not in names or names == {"household"}:
                continue
            world = copy.copy(o)
            world.household = w.household
        else:
            world = o
        path = case.path.format(w=world)
        method = route.rsplit(" ", 1)[1]
        for role in INSIDERS:
            client = clients[role]
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"expected_version": "1"})
            body = page(response)
            leaks = _forbidden(body, o)
            if response.status_code != _expected(route, role, mixed) or leaks:
                wrong[route, role] = (response.status_code, leaks)
    assert not wrong, f"Foreign ids not refused (status, leaked markers): {wrong}"
    assert snapshot() == before
