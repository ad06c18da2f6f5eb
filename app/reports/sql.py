"""Small SQL expressions shared by the reports' queries. The dialect-specific date
arithmetic they also use lives in app/sql.py, the one place that knows SQLite from
PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, case, func, literal, select, true


def sum_if(condition, value=1):
    """The sum of ``value`` over the rows where ``condition`` holds (0 when none)."""
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def literal_date(day: date):
    return literal(day, Date)


def side_by_side(*parts):
    """One row of the columns of one-row subqueries (aggregates without GROUP BY), joined
    on nothing: several sections' figures in one statement."""
    statement = select(*(column for part in parts for column in part.c)).select_from(parts[0])
    for part in parts[1:]:
        statement = statement.join(part, true())
    return statement
