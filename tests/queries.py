"""Counting the SQL statements a request sends (for "query counts stay flat" tests)."""

from contextlib import contextmanager

from sqlalchemy import event

from app.db import db


@contextmanager
def count_queries():
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
