"""The benchmark scripts' safety catch: they create, fill, empty or write into the database
they are given, so they refuse one that could be a real one unless told explicitly.

- Scripts that build a dataset (``bench_import``, ``national generate``) want a database that
  is **empty** and **named for benchmarks** (its name, or the SQLite file's name, contains
  ``bench``, ``national`` or ``load``: ``ancrage_national``, ``ancrage_load``,
  ``bench.sqlite3``…). ``--i-know-this-database-will-be-emptied`` skips both checks, and the
  script then drops every table first.
- Scripts that run on an existing dataset and write into it (``bench_pages``: logins, the
  ``--demo`` TOTP enrolment; ``load_test``: visits) want a database named for benchmarks;
  ``--i-know-this-database-will-be-written`` skips that check.

A refusal is a :class:`RefusedDatabase`; the scripts print it and exit with status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import PurePath
from typing import NoReturn

from sqlalchemy import MetaData, create_engine, inspect
from sqlalchemy.engine import make_url

BENCHMARK_WORDS = ("bench", "national", "load")
EMPTIED_FLAG = "--i-know-this-database-will-be-emptied"
WRITTEN_FLAG = "--i-know-this-database-will-be-written"
EXIT_REFUSED = 2


class RefusedDatabase(RuntimeError):
    """The database may be a real one: the script leaves it alone."""


def add_flag(parser: argparse.ArgumentParser, *, emptied: bool) -> None:
    """The explicit override, as ``args.allow_any_database``."""
    parser.add_argument(
        EMPTIED_FLAG if emptied else WRITTEN_FLAG,
        dest="allow_any_database",
        action="store_true",
        help=(
            "accept a database that is not empty or not named for benchmarks, and DROP "
            "EVERY TABLE in it first"
            if emptied
            else "accept a database not named for benchmarks (the script writes into it)"
        ),
    )


def database_name(url: str) -> str:
    """The database's name: the file name for SQLite (``:memory:`` in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return ":memory:"
        return PurePath(parsed.database).name
    return parsed.database or ""


def is_named_for_benchmarks(url: str) -> bool:
    name = database_name(url)
    return name == ":memory:" or any(word in name.lower() for word in BENCHMARK_WORDS)


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _not_named(url: str) -> str:
    return (
        f"its name ({database_name(url)!r}) does not contain "
        + ", ".join(repr(word) for word in BENCHMARK_WORDS[:-1])
        + f" or {BENCHMARK_WORDS[-1]!r}"
    )


def check_new_dataset(url: str, *, allow: bool) -> None:
    """For a script that creates and fills the database: refuse one that is not empty or not
    named for benchmarks, unless ``allow`` (the explicit flag)."""
    if allow:
        return
    problems = []
    if not is_named_for_benchmarks(url):
        problems.append(_not_named(url))
    tables = table_names(url)
    if tables:
        problems.append(f"it is not empty ({len(tables)} tables, e.g. {tables[:3]})")
    if problems:
        raise RefusedDatabase(
            "this database could be a real one: "
            + "; ".join(problems)
            + ". Benchmarks fill only a new, empty database named for them (createdb "
            "ancrage_bench …, or a new SQLite file such as bench.sqlite3). To use this one "
            f"anyway, and lose every table in it, add {EMPTIED_FLAG}."
        )


def check_benchmark_copy(url: str, *, allow: bool) -> None:
    """For a script that writes into an existing dataset: refuse a database not named for
    benchmarks, unless ``allow`` (the explicit flag)."""
    if allow or is_named_for_benchmarks(url):
        return
    raise RefusedDatabase(
        f"this database could be a real one: {_not_named(url)}, and the benchmark writes "
        "into it. Run it on a copy named for benchmarks (createdb -T ancrage_national "
        f"ancrage_load …), or add {WRITTEN_FLAG} to use this one anyway."
    )


def empty_database(url: str) -> None:
    """Drop every table (for a script given the explicit flag)."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def refuse(error: RefusedDatabase) -> NoReturn:
    print(f"refused: {error}", file=sys.stderr)
    sys.exit(EXIT_REFUSED)
