"""Realistic synthetic demo data (French names and places), loaded by ``flask --app wsgi demo``.

Idempotent: each section looks for what it would create and adds only what is missing, so
running the command again duplicates nothing. Demo accounts exist only when this ran.
Every name, address and situation here is invented. One module per domain: ``accounts``
(organisations, projects, users), ``households``, ``housing``, ``support``, ``reminders``,
``agenda``, ``evaluation`` (money and financial aid).
"""

from __future__ import annotations

from app.db import db
from app.demo.accounts import DEMO_PASSWORD, USERS, _organisations, _projects, _users
from app.demo.agenda import _agenda
from app.demo.evaluation import _evaluation
from app.demo.households import _households, demo_household_reference
from app.demo.housing import _housing
from app.demo.reminders import _reminders
from app.demo.support import _support
from app.users.models import User

__all__ = ["DEMO_PASSWORD", "USERS", "demo_household_reference", "load_demo"]


def load_demo() -> list[User]:
    """Create whatever part of the demo is missing; return the demo accounts."""
    organisations = _organisations()
    projects = _projects(organisations)
    users = _users(organisations, projects)
    _households(projects, users)
    _housing(organisations, projects)
    _support()
    _reminders()
    _agenda()
    _evaluation()
    db.session.flush()
    return users
