"""Database object, model base class and the column conventions shared by every domain.

Conventions: ``*_at`` is an aware UTC datetime (``UtcDateTime``), ``*_on`` a date, ``is_*`` a
boolean, money is stored as integer cents in ``*_cents`` columns.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, Engine, Integer, MetaData, event, inspect, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
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

    version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1, info={"audience": "internal"}
    )
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow, info={"audience": "internal"}
    )
    # Who saved last (stamped by ``_stamp_editor`` with the service's actor), for "modifiée
    # par X à HH:MM". A plain id, not a foreign key: users are never deleted, and a key would
    # make user <-> organisation a cycle.
    updated_by_id: Mapped[int | None] = mapped_column(Integer, info={"audience": "internal"})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


def commit_keeping_loaded() -> None:
    """Commit without expiring the session's objects. For a GET that must commit something
    (a file read's audit entry, a computed cache entry) before the page is written: the
    usual expiry would reload the viewer and every object loaded a moment ago. Only for
    requests that write nothing after this commit.

    On SQLite the write is its own short IMMEDIATE transaction (``begin_write``): it waits
    for the write lock up to the busy timeout, then either commits or raises the "database
    is locked" error that ``app.errors`` turns into the 503 page — so a page that records
    its read is never shown without the record."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        begin_write()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


# --- who edits ------------------------------------------------------------------------------
#
# One channel names who saved a versioned record: the actor a service is given. Every service
# audits its change through ``app.audit.services.record(actor, …)``, which calls ``act_as``;
# the transaction then carries that actor (``session.info``) and ``_stamp_editor`` writes its
# id into ``updated_by_id`` of every versioned record the transaction adds or changes. The
# same holds in a request, a CLI command or a scheduler job: nothing here reads the request.
#
# A service often flushes before it audits (to learn a new row's id): the rows that flush
# writes are kept aside and stamped when ``act_as`` learns the actor, by a plain UPDATE of
# ``updated_by_id`` that leaves ``version`` alone (the row was saved once, by that actor). A
# transaction that names nobody (a job acting as nobody, ``record(None, …)``) stamps nothing;
# the actor is forgotten when the transaction ends.

_ACTOR = "ancrage_actor_id"  # session.info key: the id of the user the transaction acts for
_UNSTAMPED = "ancrage_unstamped"  # session.info key: versioned rows flushed before it was known


def act_as(actor, session=None) -> None:
    """Name ``actor`` (a user; None names nobody and changes nothing) as the author of the
    current transaction's changes. ``app.audit.services.record`` calls it for every service."""
    actor_id = getattr(actor, "id", None)
    if actor_id is None:
        return
    session = session if session is not None else db.session()
    session.info[_ACTOR] = actor_id
    for record in session.info.pop(_UNSTAMPED, ()):
        _stamp_flushed(session, record, actor_id)


def _stamp_flushed(session, record, actor_id: int) -> None:
    state = inspect(record)
    if state.identity is None or state.deleted or state.detached:
        return
    if state.modified:  # changed again since: the next flush stamps it
        record.updated_by_id = actor_id
        return
    if record.updated_by_id == actor_id:
        return
    table = state.mapper.local_table
    key = zip(state.mapper.primary_key, state.identity, strict=True)
    session.execute(
        update(table)
        .where(*(column == value for column, value in key))
        .values(updated_by_id=actor_id, updated_at=table.c.updated_at)  # no onupdate stamp
    )
    set_committed_value(record, "updated_by_id", actor_id)


@event.listens_for(Session, "before_flush")
def _stamp_editor(session, _flush_context, _instances) -> None:
    actor_id = session.info.get(_ACTOR)
    changed = [
        record
        for record in (*session.new, *session.dirty)
        if isinstance(record, VersionedMixin)
        and (record in session.new or session.is_modified(record))
    ]
    if actor_id is None:
        session.info.setdefault(_UNSTAMPED, []).extend(changed)
        return
    for record in changed:
        record.updated_by_id = actor_id


@event.listens_for(Session, "after_transaction_end")
def _forget_actor(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_ACTOR, None)
        session.info.pop(_UNSTAMPED, None)


# --- lock discipline -------------------------------------------------------------------------
#
# SQLite allows one writer at a time. A transaction begun IMMEDIATE takes the write lock at
# once (waiting up to the busy timeout); a deferred one (plain BEGIN) only reads until its
# first write. A deferred transaction that has read and then writes cannot wait for the
# lock: SQLite answers "database is locked" at once when another connection holds it
# (invoking the busy handler could deadlock) or has committed since the read began
# (SQLITE_BUSY_SNAPSHOT). Hence:
#
# - requests that only read (GET, HEAD, OPTIONS) begin deferred and never take the lock;
# - every other request, CLI command and scheduler job begins IMMEDIATE: they write; a view
#   marked ``takes_write_lock_late`` (an upload parsed before it is written) begins deferred;
# - when a deferred transaction is about to write (the GET that records ``household.read``,
#   stores an indicator cache entry or an access refusal), ``_restart_as_immediate`` ends
#   the read (nothing was written yet) and begins IMMEDIATE in its place, so that write
#   waits for the lock like any other and is one short transaction. The objects already
#   loaded stay as they were read; a versioned row changed in between is still caught by
#   ``version_id_col`` — the same guarantee PostgreSQL's READ COMMITTED gives.
#
# Web requests wait ``SQLITE_BUSY_TIMEOUT_MS`` for the lock, CLI commands and jobs
# ``SQLITE_CLI_BUSY_TIMEOUT_MS``; past it, ``app.errors`` shows the 503 page. On PostgreSQL
# every transaction of a web request sets ``lock_timeout`` and ``statement_timeout``
# (``DB_LOCK_TIMEOUT_MS``, ``DB_STATEMENT_TIMEOUT_MS``), local to that transaction.

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_BUSY_TIMEOUT_MS = 10000  # until the first transaction applies the configured one
_TXN = "ancrage_sqlite_txn"  # connection.info key: "deferred" or "immediate"
_BUSY = "ancrage_busy_timeout_ms"  # connection.info key: the PRAGMA busy_timeout in force


def _in_web_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _setting(name: str, default: int) -> int:
    from flask import current_app, has_app_context

    return int(current_app.config.get(name, default)) if has_app_context() else default


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Per-connection SQLite settings.

    ``isolation_level = None`` hands transaction control to SQLAlchemy so that ``_on_begin``
    chooses how each transaction begins (see "lock discipline" above).
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_DEFAULT_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    connection_record.info[_BUSY] = _DEFAULT_BUSY_TIMEOUT_MS


@event.listens_for(Engine, "begin")
def _on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        _sqlite_begin(connection)
    elif connection.dialect.name == "postgresql" and _in_web_request():
        _postgres_request_timeouts(connection)


def _sqlite_begin(connection) -> None:
    from flask import request

    web = _in_web_request()
    if web:
        busy = _setting("SQLITE_BUSY_TIMEOUT_MS", 5000)
    else:
        busy = _setting("SQLITE_CLI_BUSY_TIMEOUT_MS", 30000)
    if connection.info.get(_BUSY) != busy:  # a connection setting: no I/O, no lock
        connection.connection.driver_connection.execute(f"PRAGMA busy_timeout={int(busy)}")
        connection.info[_BUSY] = busy
    if web and (request.method in READ_ONLY_METHODS or _view_takes_write_lock_late()):
        connection.exec_driver_sql("BEGIN")
        connection.info[_TXN] = "deferred"
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.info[_TXN] = "immediate"


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _on_end(connection) -> None:
    connection.info.pop(_TXN, None)


def takes_write_lock_late(view):
    """Mark a view that works long before it writes (parsing an upload): on SQLite its
    transactions begin deferred even for a POST and take the write lock at the first write
    statement (``_write_intent``), so the parsing does not block other writers. The reads
    before that first write are then not serialised with it — PostgreSQL's READ COMMITTED
    guarantee, not SQLite's IMMEDIATE one: use it where the write relies on unique keys and
    versions, not on what was read earlier. Put it between ``@bp.route`` and the other
    decorators."""
    view.takes_write_lock_late = True
    return view


def _view_takes_write_lock_late() -> bool:
    from flask import current_app, request

    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "takes_write_lock_late", False))


def _postgres_request_timeouts(connection) -> None:
    """``SET LOCAL lock_timeout, statement_timeout`` for this transaction of a web request
    (0: no limit, the server's setting stays)."""
    settings = {
        "lock_timeout": _setting("DB_LOCK_TIMEOUT_MS", 5000),
        "statement_timeout": _setting("DB_STATEMENT_TIMEOUT_MS", 30000),
    }
    calls = [
        f"set_config('{name}', '{int(value)}ms', true)" for name, value in settings.items() if value
    ]
    if calls:
        connection.exec_driver_sql("SELECT " + ", ".join(calls))


def begin_write(connection=None) -> None:
    """Make sure the current transaction may write. On SQLite, a transaction begun deferred
    (in a GET) that has written nothing yet is ended and replaced by an IMMEDIATE one, which
    waits for the write lock up to the busy timeout; past it, the "database is locked"
    ``OperationalError`` goes up to the 503 page. A no-op on PostgreSQL and in transactions
    that already hold the lock. Called by ``commit_keeping_loaded``; any other write in a
    deferred transaction goes through ``_write_intent`` below."""
    connection = connection if connection is not None else db.session.connection()
    _restart_as_immediate(connection)


def _restart_as_immediate(connection) -> None:
    if connection.dialect.name != "sqlite" or connection.info.get(_TXN) != "deferred":
        return
    if connection.in_nested_transaction():  # a SAVEPOINT cannot survive a COMMIT
        return
    from sqlalchemy.exc import OperationalError

    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raw.execute("COMMIT")  # only reads happened: nothing to lose
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raw.execute("BEGIN")  # keep a transaction open, as SQLAlchemy believes
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error
    connection.info[_TXN] = "immediate"


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@event.listens_for(Engine, "before_execute")
def _write_intent(connection, clauseelement, _multiparams, _params, _options) -> None:
    """A write statement in a deferred SQLite transaction: take the write lock first."""
    if connection.info.get(_TXN) != "deferred" or connection.dialect.name != "sqlite":
        return
    if getattr(clauseelement, "is_dml", False):
        _restart_as_immediate(connection)
        return
    text = clauseelement if isinstance(clauseelement, str) else getattr(clauseelement, "text", "")
    if isinstance(text, str) and text.lstrip()[:7].upper().startswith(_WRITE_VERBS):
        _restart_as_immediate(connection)


@event.listens_for(Engine, "savepoint")
def _savepoint_intent(connection, _name) -> None:
    """A SAVEPOINT is only taken to write (``begin_nested``): take the write lock first, while
    it is still possible to restart the transaction."""
    _restart_as_immediate(connection)


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
