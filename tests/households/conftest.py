from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from tests.world import build_world

TODAY = date(2026, 3, 12)


@pytest.fixture
def w(app):
    """The permission world, committed: a refused service call rolls back to it."""
    world = build_world()
    db.session.commit()
    return world


def audit_actions(household_id=None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if household_id is not None:
        query = query.where(AuditEntry.household_id == household_id)
    return list(db.session.scalars(query))


def last_audit(action: str) -> AuditEntry:
    return db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )
