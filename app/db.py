"""Database object, model base class and the column conventions shared by every domain.

Conventions: ``*_at`` is an aware UTC datetime (``UtcDateTime``), ``*_on`` a date, ``is_*`` a
boolean, money is stored as integer cents in ``*_cents`` columns.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, Engine, Integer, MetaData, event, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A datetime stored in UTC and always returned timezone-aware.

    SQLite has no timezone type, so values are normalised to UTC and stored naive there;
    PostgreSQL keeps a ``timestamptz``. Naive values are refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class GuardedSession(FlaskSession):
    """The application's session: a flush that loses a race on a versioned record (the
    ``UPDATE … WHERE version = ?`` of ``version_id_col`` matched no row because another
    transaction saved first) raises the same ``StaleEditError`` as a form opened on an old
    version, naming who saved and when, instead of SQLAlchemy's ``StaleDataError``. Commits
    flush through here too, so every view's ``except DomainError`` (or, when the commit sits
    outside it, the ``StaleEditError`` handler in ``app.errors``) shows the French message."""

    def flush(self, objects=None) -> None:
        watched = [
            (type(record), inspect(record).identity, inspect(record).dict.get("version"))
            for record in (*self.dirty, *self.deleted)
            if isinstance(record, VersionedMixin) and inspect(record).identity is not None
        ]
        try:
            super().flush(objects)
        except StaleDataError as error:
            from app.errors import stale_edit_after_race

            raise stale_edit_after_race(watched) from error


db = SQLAlchemy(model_class=Base, session_options={"class_": GuardedSession})


class VersionedMixin:
    """Optimistic locking: ``version`` guards concurrent flushes (``version_id_col``) and is
    carried by edit forms so that a form opened on an old version is refused (see
    ``app.errors.check_version``)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    # Who saved last (stamped by ``_stamp_editor``), for "modifiée par X à HH:MM". A plain id,
    # not a foreign key: users are never deleted, and a key would make user <-> organisation
    # a cycle.
    updated_by_id: Mapped[int | None] = mapped_column(Integer)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


def commit_keeping_loaded() -> None:
    """Commit without expiring the session's objects. For a GET that must commit something
    (a file read's audit entry, a computed cache entry) before the page is written: the
    usual expiry would reload the viewer and every object loaded a moment ago. Only for
    requests that write nothing after this commit."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def current_actor_id() -> int | None:
    """The logged-in user's id during a request (set by ``app.http``), else None."""
    from flask import g, has_app_context

    return g.get("actor_id") if has_app_context() else None


@event.listens_for(Session, "before_flush")
def _stamp_editor(session, _flush_context, _instances) -> None:
    actor_id = current_actor_id()
    if actor_id is None:
        return
    for record in (*session.new, *session.dirty):
        if isinstance(record, VersionedMixin) and (
            record in session.new or session.is_modified(record)
        ):
            record.updated_by_id = actor_id


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """Per-connection SQLite settings.

    ``isolation_level = None`` hands transaction control to SQLAlchemy so that ``_sqlite_begin``
    can open every transaction with BEGIN IMMEDIATE: a deferred transaction that reads then
    writes fails at once with "database is locked" when another writer committed in between,
    whatever the busy timeout.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# PostgreSQL-only trigram indexes (``pg_trgm``, for the ``LIKE '%…%'`` of the searches) live
# in the migrations, not in the models: SQLite has no such index.
PG_ONLY_INDEX_PREFIX = "ix_trgm_"


def include_migration_object(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate hook: leave the PostgreSQL-only trigram indexes be."""
    return not (type_ == "index" and reflected and (name or "").startswith(PG_ONLY_INDEX_PREFIX))


def render_migration_item(type_, obj, autogen_context):
    """Alembic autogenerate hook: write ``UtcDateTime`` as a plain timezone-aware DateTime so
    migrations never import application code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False
