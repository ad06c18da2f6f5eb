"""Backups of the whole database and their restoration.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while the application keeps writing, then ``PRAGMA integrity_check`` verifies the copy.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot too) and ``pg_restore``, with
the connection parameters taken from the database URL (the password through PGPASSWORD,
never on the command line).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    counts: dict[str, int]


def _url(url: str | URL) -> URL:
    return make_url(url) if isinstance(url, str) else url


def is_sqlite(url: str | URL) -> bool:
    return _url(url).get_backend_name() == "sqlite"


def table_counts(url: str | URL) -> dict[str, int]:
    """Rows per table: what a restore is compared with."""
    engine = create_engine(_url(url))
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            # Table names come from the schema itself, not from input.
            count = 'SELECT COUNT(*) FROM "{}"'
            return {name: conn.execute(text(count.format(name))).scalar_one() for name in names}
    finally:
        engine.dispose()


def sqlite_integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy with the online backup API, in one step (a consistent snapshot even while other
    connections write), then check the copy."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    result = sqlite_integrity(target)
    if result != "ok":
        raise BackupError(f"integrity check failed on {target}: {result}")


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return path


def create_backup(url: str | URL, output: Path) -> BackupResult:
    """Back up the database at ``url`` into ``output`` (a SQLite file, or a pg_dump archive)."""
    url = _url(url)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        raise BackupError(f"{output} already exists")
    if is_sqlite(url):
        _sqlite_copy(Path(url.database), output)
        return BackupResult(output, table_counts(f"sqlite:///{output}"))
    args, env = _pg_args(url)
    subprocess.run(  # noqa: S603  # nosec B603
        [_pg_tool("pg_dump"), "--format=custom", "--file", str(output), *args, url.database],
        check=True,
        env=env,
        capture_output=True,
    )
    return BackupResult(output, {})


def restore_backup(backup: Path, into: str | URL) -> dict[str, int]:
    """Restore ``backup`` into the database at ``into``, which must be empty (a new SQLite
    file, or an existing empty PostgreSQL database); returns its row counts."""
    into = _url(into)
    if not backup.exists():
        raise BackupError(f"{backup} does not exist")
    if is_sqlite(into):
        target = Path(into.database)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} already exists: restore into a new file")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(backup, target)
    else:
        if table_counts(into):
            raise BackupError("the target database is not empty: restore into a new database")
        args, env = _pg_args(into)
        subprocess.run(  # noqa: S603  # nosec B603
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                into.database,
                *args,
                str(backup),
            ],
            check=True,
            env=env,
            capture_output=True,
        )
    return table_counts(into)
