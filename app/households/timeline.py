"""The household file's timeline in one SQL query.

Each domain describes the records it shows on the timeline as *branches*: a ``SELECT`` of a
few named fields, filtered for the viewer (``branch(kind, id=…, on=…, author=…)`` then
``.where(…)``, ``.join(…)``, ``.outerjoin(…)``). The page sends every branch of every domain
as one ``UNION ALL``: its columns are typed slots (integers, texts, dates, moments), each
branch's fields placed in the slots of their type and padded with typed NULLs, so that both
SQLite and PostgreSQL accept the union whatever the branches. Each row then comes back to its
domain under the field names it gave (``row.new_end_on``), booleans as booleans, and the
domain turns its rows into ``TimelineEvent`` — plain values, no ORM object, one query for the
whole timeline rather than one per kind of record.

A field's type picks its slot: ``Boolean`` and ``Integer`` (booleans travel as 0/1), ``Date``,
``DateTime`` (``UtcDateTime``), anything else as text.

Building a branch (columns of aliased tables, slots) costs far more than running it, so a
branch is built once per process and per shape (``cached(key, build)``): its statement takes
the household and the leases as bind parameters — ``HOUSEHOLD_ID``, ``OCCUPANCY_IDS``,
``CURRENT_OCCUPANCY_ID`` — given for each page with ``.bind(…)``; the union of a given set of
branches is kept too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    Unicode,
    UnicodeText,
    bindparam,
    cast,
    literal,
    null,
    select,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from app.db import UtcDateTime, db

# The values a branch's statement takes for each page (``Branch.bind``).
HOUSEHOLD_ID = bindparam("household_id", type_=Integer)
OCCUPANCY_IDS = bindparam("occupancy_ids", expanding=True)
CURRENT_OCCUPANCY_ID = bindparam("current_occupancy_id", type_=Integer)

# How many slots of each type a branch may fill (raise one when a branch needs more).
SLOTS = {"i": 8, "s": 14, "d": 4, "t": 2}
_SLOT_TYPES = {"i": Integer, "s": Text, "d": Date, "t": UtcDateTime}


def _slot_kind(expression: ColumnElement) -> str:
    """The slot a field goes in, by its SQL type. Only types whose values come back the same
    from any branch are accepted: a UNION takes its result types from its first branch, and
    PostgreSQL refuses to unite text with numeric, JSON or enum columns (SQLite would not
    say), so any other type is refused here, when the branch is built, on both databases."""
    kind = expression.type
    if isinstance(kind, UtcDateTime | DateTime):
        return "t"
    if isinstance(kind, Date):
        return "d"
    if type(kind) in (Boolean, Integer, BigInteger):
        return "i"
    if type(kind) in (String, Text, Unicode, UnicodeText):
        return "s"
    raise TypeError(
        f"timeline field of type {kind!r}: give it a slot type in app.households.timeline"
    )


@dataclass(frozen=True)
class Branch:
    """One kind of record of the timeline: its ``SELECT`` (slot columns) and which field sits
    in which slot (``(name, slot, is_boolean)``)."""

    kind: str
    statement: Select
    fields: tuple[tuple[str, str, bool], ...]
    params: tuple[tuple[str, Any], ...] = ()

    def bind(self, **values) -> Branch:
        """This branch for one page: the values of its bind parameters."""
        return replace(self, params=tuple(values.items()))

    def where(self, *criteria) -> Branch:
        return replace(self, statement=self.statement.where(*criteria))

    def join(self, *args, **kwargs) -> Branch:
        return replace(self, statement=self.statement.join(*args, **kwargs))

    def outerjoin(self, *args, **kwargs) -> Branch:
        return replace(self, statement=self.statement.outerjoin(*args, **kwargs))

    def group_by(self, *clauses) -> Branch:
        return replace(self, statement=self.statement.group_by(*clauses))


def branch(kind: str, /, **fields: ColumnElement) -> Branch:
    """A branch named ``kind`` (unique on the page, e.g. ``"support.renewal"``) selecting
    ``fields`` (name → column or SQL expression)."""
    used = dict.fromkeys(SLOTS, 0)
    placed: dict[str, ColumnElement] = {}
    names = []
    for name, expression in fields.items():
        slot_kind = _slot_kind(expression)
        used[slot_kind] += 1
        if used[slot_kind] > SLOTS[slot_kind]:
            raise ValueError(f"timeline branch {kind!r}: too many fields of type {slot_kind!r}")
        slot = f"{slot_kind}{used[slot_kind]}"
        is_boolean = isinstance(expression.type, Boolean)
        placed[slot] = cast(expression, Integer) if is_boolean else expression
        names.append((name, slot, is_boolean))
    columns = [literal(kind, Text).label("k")]
    for slot_kind, count in SLOTS.items():
        for n in range(1, count + 1):
            slot = f"{slot_kind}{n}"
            # NULLs are cast: PostgreSQL resolves a UNION's types pairwise, and two untyped
            # NULLs would make a text column that a later date could not join.
            filler = cast(null(), _SLOT_TYPES[slot_kind]())
            columns.append(placed.get(slot, filler).label(slot))
    return Branch(kind, select(*columns), tuple(names))


_BUILT: dict[tuple, Branch] = {}
_UNIONS: dict[tuple[int, ...], tuple] = {}


def cached(key: tuple, build: Callable[[], Branch]) -> Branch:
    """``build()``, once per process for ``key`` (which names everything the branch's shape
    depends on: its kind and which fields the viewer reads)."""
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build()
    return found


def _union(statements: list[Select]):
    key = tuple(map(id, statements))
    found = _UNIONS.get(key)
    if found is None:
        first, *rest = statements
        union = first.union_all(*rest) if rest else first
        found = (union, statements)  # the statements kept alive, so their ids stay theirs
        if len(_UNIONS) < 1000:  # a few shapes per kind of viewer in practice
            _UNIONS[key] = found
    return found[0]


def timeline_rows(branches: Iterable[Branch]) -> dict[str, list[SimpleNamespace]]:
    """Every branch's rows in one query: ``{kind: [row, …]}`` (rows by field name, in the
    order each branch's statement returns them)."""
    branches = list(branches)
    found: dict[str, list[SimpleNamespace]] = defaultdict(list)
    if not branches:
        return found
    by_kind = {b.kind: b for b in branches}
    if len(by_kind) != len(branches):
        raise ValueError("two timeline branches of the same kind")
    params: dict[str, Any] = {}
    for b in branches:
        for name, value in b.params:
            if params.setdefault(name, value) != value:
                raise ValueError(f"timeline parameter {name!r} given two values")
    query = _union([b.statement for b in branches])
    for row in db.session.execute(query, params).mappings():
        known = by_kind[row["k"]]
        values = {}
        for name, slot, is_boolean in known.fields:
            value = row[slot]
            values[name] = bool(value) if is_boolean and value is not None else value
        found[known.kind].append(SimpleNamespace(**values))
    return found
