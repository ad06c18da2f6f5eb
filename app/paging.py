"""A bounded window over a long list: one page of rows and whether a next one exists.

``db.paginate`` counts every matching row to print "page 3 sur 41 237". On a table that grows
with the country (the audit journal) that count costs more than the page itself, and nobody
needs the exact total. A window fetches ``per_page + 1`` rows: the extra one only says that a
next page exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select

from app.db import db


@dataclass(frozen=True)
class Window:
    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first_number(self) -> int:
        """The position of the first row shown (1-based), for "entrées 51 à 100"."""
        return (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.items) - 1


def window(statement: Select, *, page: int, per_page: int) -> Window:
    """Rows ``per_page * (page - 1) + 1`` to ``per_page * page`` of ``statement``."""
    page = max(1, page)
    rows = list(db.session.scalars(statement.limit(per_page + 1).offset((page - 1) * per_page)))
    return Window(rows[:per_page], page, per_page, len(rows) > per_page)
