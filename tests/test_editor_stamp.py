"""Who saved a record last (``updated_by_id``, the name in "Cette fiche a été modifiée par X")
comes from one channel: the actor the service is given. It holds in a request and outside one
(a CLI command, a scheduler job, an API token to come), including for services that flush
before they audit, and it never leaks into the next transaction."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import has_request_context
from sqlalchemy import select

from app.db import db
from app.households import services
from app.households.models import Member
from tests.conftest import page
from tests.world import build_world


@pytest.fixture
def w(app):
    world = build_world()
    db.session.commit()
    return world


def _member(member_id: int) -> Member:
    db.session.expire_all()
    return db.session.get(Member, member_id)


def test_a_service_called_outside_any_request_stamps_its_actor(w):
    worker, coordinator = w.users["travailleur_social"], w.users["coordinateur"]
    assert not has_request_context()
    member = services.add_member(  # flushes the new member before it audits
        worker,
        w.household,
        first_name="Sami",
        last_name="Haddad",
        birth_on=date(2018, 9, 30),
        relation="enfant",
    )
    db.session.commit()
    saved = _member(member.id)
    assert (saved.updated_by_id, saved.version) == (worker.id, 1)

    services.update_member(
        coordinator,
        w.household,
        saved,
        expected_version=1,
        first_name="Samy",
        last_name="Haddad",
        birth_on=date(2018, 9, 30),
        relation="enfant",
        is_head=False,
    )
    db.session.commit()
    saved = _member(member.id)
    # One save, one version: stamping the editor adds no second update of the version.
    assert (saved.first_name, saved.updated_by_id, saved.version) == ("Samy", coordinator.id, 2)


def test_the_actor_of_one_transaction_stamps_nothing_in_the_next(w):
    worker = w.users["travailleur_social"]
    head = w.household.members[0]
    before = head.updated_by_id
    services.add_member(
        worker,
        w.household,
        first_name="Lina",
        last_name="Haddad",
        birth_on=None,
        relation="enfant",
    )
    db.session.commit()
    head = _member(head.id)
    head.first_name = "Aïcha-Marie"  # no service, no actor: a job acting as nobody
    db.session.commit()
    assert _member(head.id).updated_by_id == before

    services.add_member(
        worker, w.household, first_name="Nour", last_name="Haddad", birth_on=None, relation="enfant"
    )
    db.session.rollback()
    head = _member(head.id)
    head.first_name = "Aïcha"
    db.session.commit()
    assert _member(head.id).updated_by_id == before


def test_a_request_stamps_the_logged_in_user_who_saved(w, make_client):
    worker, coordinator = w.users["travailleur_social"], w.users["coordinateur"]
    base = f"/menages/{w.household.id}/composition"
    first, second = make_client(), make_client()
    first.login(worker)
    second.login(coordinator)
    data = {"first_name": "Sami", "last_name": "Haddad", "birth_on": "", "relation": "enfant"}
    assert first.post(base + "/ajouter", data=data).status_code == 302
    sami = db.session.scalar(select(Member).where(Member.first_name == "Sami"))
    assert sami.updated_by_id == worker.id

    opened = page(first.get(f"{base}/{sami.id}/modifier"))
    version = re.search(r'name="expected_version" type="hidden" value="(\d+)"', opened).group(1)
    saved = second.post(
        f"{base}/{sami.id}/modifier",
        data={**data, "first_name": "Samy", "expected_version": version},
    )
    assert saved.status_code == 302
    assert _member(sami.id).updated_by_id == coordinator.id
    refused = first.post(
        f"{base}/{sami.id}/modifier",
        data={**data, "first_name": "Samuel", "expected_version": version},
    )
    assert f"modifiée par {coordinator.full_name}" in page(refused)
