"""Loader options for pages that show people by name.

``User`` loads its roles and projects eagerly (the signed-in user needs them on every page),
and ``Project`` its partner organisations. A record that names a user (référent, author,
team member) would pull those in too: two or three more queries for each query that loads
such records, a dozen on a household file. Pages that only show the name use these options.
"""

from __future__ import annotations

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.users.models import User


def user_by_name(path) -> list:
    """Options for the users reached through ``path`` (a joinedload/selectinload chain): name
    and organisation only, without their roles and projects (loaded on access if ever used)."""
    return [path.lazyload(User.role_rows), path.lazyload(User.projects)]


def users_by_name(model, path=None, depth: int = 2) -> list:
    """``user_by_name`` for every user that ``model`` names through an eager relationship,
    and through its eagerly loaded children (a measure's renewals, a referral's history…),
    ``depth`` levels down. For the timeline providers: one option list per query."""
    options = []
    for relation in inspect(model).relationships:
        attribute = relation.class_attribute
        if relation.lazy not in ("joined", "selectin"):
            continue
        loader = joinedload if relation.lazy == "joined" else selectinload
        step = getattr(path, loader.__name__)(attribute) if path is not None else loader(attribute)
        if relation.mapper.class_ is User:
            options += user_by_name(step)
        # Not back up into the household a record belongs to (named by its table: the users
        # domain sits below households and does not import it).
        elif depth > 0 and relation.mapper.local_table.name != "household":
            options += users_by_name(relation.mapper.class_, step, depth - 1)
    return options


# --- the administrators' list of accounts --------------------------------------------------

ACCOUNT_STATES = {"actifs": True, "desactives": False}


def account_list(text: str = "", state: str = ""):
    """The accounts of the administrators' list, by name: those whose name or e-mail holds
    ``text`` (case-insensitive), active or deactivated ones only with ``state``. A statement
    for ``app.paging.window``: a national deployment has thousands of accounts."""
    statement = select(User).order_by(User.full_name, User.id)
    text = text.strip()
    if text:
        statement = statement.where(
            or_(
                User.full_name.icontains(text, autoescape=True),
                User.email.icontains(text.lower(), autoescape=True),
            )
        )
    if state in ACCOUNT_STATES:
        statement = statement.where(User.is_active.is_(ACCOUNT_STATES[state]))
    return statement
