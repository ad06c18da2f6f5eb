"""Who may read each column of household data: the one declaration every channel reads.

Every column of a model holding data about a household says, next to the column, who may
read its content::

    difficulties: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})

The vocabulary (``Audience``):

- ``tenancy``: everyone who sees the household (its support team, coordinators, and the
  staff of the landlord housing it): reference, head of household, contact, stage, lease,
  rent account, GLA actions, procedure, joint meetings.
- ``social``: the support's content — orientation, diagnostic, adhésion, situation
  (address, resources, debts), notes, measures, objectives, referrals. Read only with
  ``Permission.READ_SOCIAL_CONTENT``.
- ``health``: health, violence and justice information (target-public flags, the partner
  and domain of a referral). Same permission as ``social`` today; kept apart so a stricter
  rule can be given to it alone.
- ``internal``: ids, foreign keys, versions, timestamps and who-saved stamps, never shown
  as content to anyone.

A ``social`` column may name a boolean column of the same row that turns it into tenancy
content for that row: ``info={"audience": "social", "tenancy_when": "is_head"}`` (the head
of household's name, unlike the other members'), ``"tenancy_when": "is_summary_shared"``
(a visit's summary its author shared with the landlord, with consent).

Who may read an audience is said once, in ``AUDIENCE_PERMISSION`` (the permission
vocabulary of ``app.permissions``). Object scope stays a query (``visible_…(user)``): an
audience says which *columns* of a record in scope a viewer reads, never which records.

What channels call:

- ``can_read(user, Model.column)`` (or an audience name): may ``user`` read this column
  at all (on every row, or on the rows its ``tenancy_when`` flag marks)?
- ``readable_columns(user, Model)``: the columns ``user`` may read on every row, for
  exports, searches and JSON.
- ``project(user, record)``: the record as ``user`` may read it; reading a column (or a
  property declared in the model's ``__audience__``) the user may not read raises
  ``AudienceRefused``, and so does reading anything undeclared (a relationship, a
  property not in ``__audience__``) — not an ``AttributeError``, which a template would
  silently render as nothing. Templates receive it instead of the record where they show
  restricted content (``project(household)`` in a template).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import InstrumentedAttribute

from app.permissions import Permission, has_permission


class Audience(StrEnum):
    TENANCY = "tenancy"
    SOCIAL = "social"
    HEALTH = "health"
    INTERNAL = "internal"


# None: everyone who may see the record (scope is the query's business).
AUDIENCE_PERMISSION: dict[Audience, Permission | None] = {
    Audience.TENANCY: None,
    Audience.SOCIAL: Permission.READ_SOCIAL_CONTENT,
    Audience.HEALTH: Permission.READ_SOCIAL_CONTENT,
    Audience.INTERNAL: None,
}


class AudienceRefused(Exception):
    """A channel tried to read, for a viewer, a column the viewer may not read (or one whose
    audience is not declared)."""


def audience_of(column) -> Audience:
    """The declared audience of a ``Column`` or a mapped attribute (``Model.column``);
    ``KeyError``/``ValueError`` when undeclared or unknown (the guard test uses them)."""
    column = _column(column)
    return Audience(column.info["audience"])


def tenancy_when(column) -> str | None:
    """The boolean column that turns this column into tenancy content on its row, if any."""
    return _column(column).info.get("tenancy_when")


def may_read_audience(user, audience: Audience | str) -> bool:
    permission = AUDIENCE_PERMISSION[Audience(audience)]
    if permission is None:
        return bool(user and user.is_authenticated)
    return has_permission(user, permission)


def can_read(user, what) -> bool:
    """Whether ``user`` may read ``what`` (a mapped column such as ``Intervention.note``, or
    an audience name) on every row of the table."""
    if isinstance(what, str):
        return may_read_audience(user, what)
    return may_read_audience(user, audience_of(what))


def can_read_on_row(user, record, key: str) -> bool:
    """Whether ``user`` may read the column ``key`` of this ``record`` (its row flag
    included)."""
    column = sa_inspect(type(record)).columns[key]
    if can_read(user, column):
        return True
    flag = tenancy_when(column)
    return bool(flag and getattr(record, flag))


def readable_columns(user, model) -> list:
    """The table's columns ``user`` may read on every row, in table order."""
    return [c for c in model.__table__.columns if can_read(user, c)]


def row_condition(user, attribute):
    """SQL condition on the rows where ``user`` may read ``attribute``: ``True`` when they
    read it everywhere, the ``tenancy_when`` flag when only on flagged rows, else ``False``
    (for searches: match a column only where the viewer reads it)."""
    from sqlalchemy import false, true

    if can_read(user, attribute):
        return true()
    flag = tenancy_when(attribute)
    if flag:
        return getattr(attribute.class_, flag).is_(True)
    return false()


def _column(column):
    if isinstance(column, InstrumentedAttribute):
        return column.property.columns[0]
    return column


_HIDDEN = frozenset({"_record", "_user"})


class Projection:
    """A record as one viewer may read it (see the module docstring)."""

    __slots__ = ("_record", "_user")

    def __init__(self, user, record):
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "_user", user)

    def __getattribute__(self, name: str):
        # The record and the viewer stay inside: a template cannot step around the guard
        # through them (``situation._record.debts_cents``).
        if name in _HIDDEN:
            raise AudienceRefused(f"a projection does not hand out its {name[1:]}")
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str):
        if name.startswith("_"):  # Python's and Jinja's protocols (__html__, …)
            raise AttributeError(name)
        record = object.__getattribute__(self, "_record")
        user = object.__getattribute__(self, "_user")
        mapper = sa_inspect(type(record))
        if name in mapper.columns:
            if not can_read_on_row(user, record, name):
                raise AudienceRefused(f"{type(record).__name__}.{name}")
            return getattr(record, name)
        declared = getattr(type(record), "__audience__", {})
        if name in declared:
            if not may_read_audience(user, declared[name]):
                raise AudienceRefused(f"{type(record).__name__}.{name}")
            return getattr(record, name)
        raise AudienceRefused(f"{type(record).__name__}.{name} has no declared audience")

    def __setattr__(self, name, value):
        raise AttributeError("a projection is read-only")


def project(user, record) -> Projection:
    return Projection(user, record)
