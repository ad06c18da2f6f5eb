"""Portable date arithmetic for the reports' SQL.

Date arithmetic differs between SQLite and PostgreSQL: these helpers are the only place of
the reports that knows it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, case, cast, func, literal

from app.db import db


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def days_between(start, end):
    """Whole days from ``start`` to ``end`` (SQL dates or Python dates)."""
    start = literal(start, Date) if isinstance(start, date) else start
    end = literal(end, Date) if isinstance(end, date) else end
    if _is_sqlite():
        return cast(func.julianday(end) - func.julianday(start), Integer)
    return end - start  # date - date is an integer number of days in PostgreSQL


def month_floor(expr):
    """The first day of the month of ``expr``."""
    if _is_sqlite():
        return func.date(expr, "start of month", type_=Date)
    return cast(func.date_trunc("month", expr), Date)


def months_before(expr, months: int):
    """``expr`` (a first day of month) moved ``months`` months back."""
    if _is_sqlite():
        return func.date(expr, f"-{months} months", type_=Date)
    return cast(expr - func.make_interval(0, months), Date)


def month_key(expr):
    """``YYYY-MM`` of a date."""
    if _is_sqlite():
        return func.strftime("%Y-%m", expr)
    return func.to_char(expr, "YYYY-MM")


def _greatest(a, b):
    return func.max(a, b) if _is_sqlite() else func.greatest(a, b)


def _least(a, b):
    return func.min(a, b) if _is_sqlite() else func.least(a, b)


def _sum_if(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _literal_date(day: date):
    return literal(day, Date)
