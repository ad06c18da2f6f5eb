"""API fixtures: a landlord with followed leases, and clients with their bearer tokens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.api import services
from app.api.models import Scope
from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from tests.factories import (
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_snapshot,
    make_user,
)


def make_client(organisation, scopes=tuple(Scope), *, expires_on=None, actor=None):
    created = services.create_client(
        actor,
        organisation,
        name="Logiciel de gestion",
        scopes=[s.value for s in scopes],
        expires_on=expires_on or today_paris() + timedelta(days=30),
        today=today_paris(),
    )
    db.session.commit()
    return created


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def landlord_world(app):
    """A landlord with three followed leases (one with two months of accounts) and another
    landlord with one."""
    from tests.factories import make_dwelling

    landlord = make_landlord(name="Rhône Habitat Test")
    other = make_landlord(name="Autre bailleur")
    project = make_project(lead_landlord=landlord, name="Projet API")
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        projects=[project],
        full_name="Camille Référente",
        phone="0102030405",
    )
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    leases = []
    for i in range(3):
        household = make_household(
            project, referent=worker, reference=f"M-API-{i:03d}", last_name=f"Tenant{i}"
        )
        leases.append(
            make_occupancy(household, make_dwelling(landlord), lease_reference=f"BX-{i:04d}")
        )
    make_snapshot(leases[0], date(2026, 1, 1), balance_cents=50_000)
    make_snapshot(leases[0], date(2026, 2, 1), balance_cents=80_000)
    other_household = make_household(make_project(lead_landlord=other), reference="M-AUTRE")
    other_lease = make_occupancy(
        other_household, make_dwelling(other), lease_reference="AUTRE-0001"
    )
    db.session.commit()
    return {
        "landlord": landlord,
        "other": other,
        "leases": leases,
        "other_lease": other_lease,
        "staff": staff,
        "worker": worker,
    }


@pytest.fixture
def token(landlord_world):
    return make_client(landlord_world["landlord"]).token
