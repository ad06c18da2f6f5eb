"""SQL that differs between SQLite and PostgreSQL, in one place: date arithmetic and
``INSERT … ON CONFLICT``. Each helper asks the session's bind which dialect it speaks, so the
same query runs on both (the test suite runs on both)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Date, Integer, String, cast, func, literal
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db


def is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


# --- dates -----------------------------------------------------------------------------------


def shift(expr, *, days: int = 0, months: int = 0):
    """``expr`` moved by whole months then days, as a SQL date. SQLite's ``date()`` rolls an
    overflowing day forward (31 Aug + 6 months = 3 Mar), PostgreSQL clamps it (28 Feb)."""
    if is_sqlite():
        modifiers = [f"{months:+d} months"] if months else []
        modifiers += [f"{days:+d} days"] if days else []
        return func.date(expr, *modifiers, type_=Date)
    return cast(expr + func.make_interval(0, months, 0, days), Date)


def shift_by_column(expr, days_column):
    """``expr`` plus a number of days read from a column."""
    if is_sqlite():
        modifier = literal("+").concat(cast(days_column, String)).concat(" days")
        return func.date(expr, modifier, type_=Date)
    return cast(expr + days_column, Date)


def days_between(start, end):
    """Whole days from ``start`` to ``end`` (SQL dates or Python dates)."""
    start = literal(start, Date) if isinstance(start, date) else start
    end = literal(end, Date) if isinstance(end, date) else end
    if is_sqlite():
        return cast(func.julianday(end) - func.julianday(start), Integer)
    return end - start  # date - date is an integer number of days in PostgreSQL


def month_floor(expr):
    """The first day of the month of ``expr``."""
    if is_sqlite():
        return func.date(expr, "start of month", type_=Date)
    return cast(func.date_trunc("month", expr), Date)


def months_before(expr, months: int):
    """``expr`` (a first day of month) moved ``months`` months back."""
    if is_sqlite():
        return func.date(expr, f"-{months} months", type_=Date)
    return cast(expr - func.make_interval(0, months), Date)


def month_key(expr):
    """``YYYY-MM`` of a date."""
    if is_sqlite():
        return func.strftime("%Y-%m", expr)
    return func.to_char(expr, "YYYY-MM")


def greatest(a, b):
    return func.max(a, b) if is_sqlite() else func.greatest(a, b)


def least(a, b):
    return func.min(a, b) if is_sqlite() else func.least(a, b)


# --- INSERT … ON CONFLICT ----------------------------------------------------------------------


def _insert(table):
    return (sqlite.insert if is_sqlite() else postgresql.insert)(table)


def upsert(table, *, keys: Sequence[str], updated: Sequence[str], values: dict | None = None):
    """``INSERT … ON CONFLICT (keys) DO UPDATE``: a row whose ``keys`` exist already takes the
    inserted values of the ``updated`` columns. ``values``: one row; without it, pass the rows
    to ``execute``."""
    statement = _insert(table)
    if values is not None:
        statement = statement.values(**values)
    return statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_={name: statement.excluded[name] for name in updated},
    )


def insert_new(table, *, keys: Sequence[str]):
    """``INSERT … ON CONFLICT (keys) DO NOTHING``: rows whose ``keys`` exist are left as they
    are (add ``.returning(…)`` to learn which rows were inserted)."""
    return _insert(table).on_conflict_do_nothing(index_elements=[table.c[key] for key in keys])


# --- JSON ------------------------------------------------------------------------------------


def json_array(*columns):
    """The values of ``columns`` as the text of one JSON array (``json.loads`` in Python).
    Values come as the database writes them in JSON: dates and datetimes as ISO strings
    (SQLite: as stored, a space between date and time, no time zone; PostgreSQL: with ``T``
    and the offset of a ``timestamptz``), booleans as 0/1 on SQLite and true/false on
    PostgreSQL. PostgreSQL takes at most 100 arguments per call, SQLite 127 by default."""
    if is_sqlite():
        return func.json_array(*columns, type_=String)
    return cast(func.json_build_array(*columns), String)
