"""Backups of the whole database and the document files: creation, optional encryption,
verification, rotation and restoration.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while the application keeps writing, then ``PRAGMA integrity_check`` verifies the copy.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot too) and ``pg_restore``, with
the connection parameters taken from the database URL (the password through PGPASSWORD,
never on the command line).

The snapshot (or dump) and every file of the document store go into one archive with a
manifest of their SHA-256 (``app.backups.archive``); backups made before that (the bare
database file) still verify and restore.

Every file is created ``0600`` in a folder made ``0700``; a ``<file>.sha256`` next to it (the
``sha256sum`` format) lets ``verify`` tell a damaged file at once. With a key file, the
archive is encrypted as it is written (AES-256-GCM in 1 MiB chunks,
``encryption.EncryptingWriter``): the plain archive never reaches the backup folder; the
database snapshot or dump is taken in a private ``0700`` temporary folder, then deleted.

Every failure is a ``BackupError`` with a French message for the operator.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from app.backups.archive import DATABASE_NAMES, is_archive, read_archive, write_archive
from app.backups.encryption import (
    EncryptingWriter,
    decrypt_stream,
    is_encrypted,
    read_key_file,
)
from app.backups.encryption import generate_key_file as generate_key_file
from app.backups.files import (
    CHECKSUM_SUFFIX,
    BackupError,
    ensure_private_folder,
    new_private_file,
    sha256,
    write_checksum,
)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    counts: dict[str, int]
    encrypted: bool = False
    documents: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    kind: str  # "sqlite" or "pg_dump"
    encrypted: bool
    counts: dict[str, int] = field(default_factory=dict)
    documents: int | None = None  # None: a database-only backup (before issue #17)


ENCRYPTED_SUFFIX = ".enc"
ARCHIVE_SUFFIX = ".tar"
NAME_PATTERN = re.compile(r"^ancrage-(\d{8}-\d{6})\.(sqlite3|dump)(\.tar)?(\.enc)?$")
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _url(url: str | URL) -> URL:
    return make_url(url) if isinstance(url, str) else url


def is_sqlite(url: str | URL) -> bool:
    return _url(url).get_backend_name() == "sqlite"


def backup_name(url: str | URL, now: datetime, *, encrypted: bool) -> str:
    """``ancrage-<UTC date-time>.sqlite3|.dump.tar[.enc]``: the name rotation reads dates
    from (backups made before the documents were included have no ``.tar``)."""
    suffix = (".sqlite3" if is_sqlite(url) else ".dump") + ARCHIVE_SUFFIX
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"ancrage-{stamp}{suffix}{ENCRYPTED_SUFFIX if encrypted else ''}"


def table_counts(url: str | URL) -> dict[str, int]:
    """Rows per table: what a restore is compared with."""
    engine = create_engine(_url(url))
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            # Table names come from the schema itself, not from input.
            count = 'SELECT COUNT(*) FROM "{}"'
            return {name: conn.execute(text(count.format(name))).scalar_one() for name in names}
    except SQLAlchemyError as error:
        raise BackupError(
            f"Impossible de lire la base {_url(url).render_as_string()} : {_first_line(error)}"
        ) from error
    finally:
        engine.dispose()


def sqlite_integrity(path: Path) -> str:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        return str(error)


# --- database tools ----------------------------------------------------------------------


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy with the online backup API, in one step (a consistent snapshot even while other
    connections write), then check the copy."""
    if not source.is_file():
        raise BackupError(f"Base de données introuvable : {source}.")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"Copie de la base {source} impossible : {error}.") from error
    result = sqlite_integrity(target)
    if result != "ok":
        target.unlink(missing_ok=True)
        raise BackupError(f"Contrôle d'intégrité échoué sur {target} : {result}.")


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
        raise BackupError(
            f"{name} est introuvable : installez le client PostgreSQL (paquet Debian "
            "postgresql-client, de la même version majeure que le serveur)."
        )
    return path


def _tool_failed(name: str, stderr: bytes | str | None) -> BackupError:
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    detail = (stderr or "").strip() or "sans message"
    if "does not exist" in detail and "database" in detail:
        return BackupError(f"Base de données introuvable ({name}) : {detail}")
    if "Connection refused" in detail or "could not connect" in detail:
        return BackupError(f"Serveur PostgreSQL injoignable ({name}) : {detail}")
    if "password authentication failed" in detail:
        return BackupError(f"Connexion refusée par PostgreSQL ({name}) : {detail}")
    return BackupError(f"{name} a échoué : {detail}")


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


# --- create ------------------------------------------------------------------------------


def create_backup(
    url: str | URL, output: Path, *, key: bytes | None = None, documents: Path | None = None
) -> BackupResult:
    """Back up the database at ``url`` and the document files of the folder ``documents``
    into one archive ``output`` (see ``app.backups.archive``), encrypted with ``key`` when
    given, ``0600`` in a ``0700`` folder, with its checksum.

    The database snapshot (SQLite copy or pg_dump) is taken first, in a private temporary
    folder, then the documents are listed: every row of the snapshot finds its file (files
    are written before their rows), and a file uploaded meanwhile is only an orphan."""
    url = _url(url)
    ensure_private_folder(output.parent)
    if output.exists():
        raise BackupError(f"{output} existe déjà : choisissez un autre nom.")
    try:
        with tempfile.TemporaryDirectory(prefix="ancrage-backup-") as private:  # 0700
            if is_sqlite(url):
                kind, snapshot = "sqlite", Path(private) / DATABASE_NAMES["sqlite"]
                _sqlite_copy(Path(url.database or ""), snapshot)
                counts = table_counts(f"sqlite:///{snapshot}")
            else:
                kind, snapshot = "pg_dump", Path(private) / DATABASE_NAMES["pg_dump"]
                _dump_pg(url, snapshot)
                counts = {}
            with new_private_file(output) as dst:
                if key is None:
                    written = write_archive(dst, snapshot, kind, documents)
                else:
                    writer = EncryptingWriter(dst, key)
                    written = write_archive(writer, snapshot, kind, documents)
                    writer.close()
        write_checksum(output)
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return BackupResult(output, counts, key is not None, written.documents, written.skipped)


def _dump_pg(url: URL, output: Path) -> None:
    args, env = _pg_args(url)
    command = [_pg_tool("pg_dump"), "--format=custom", *args, url.database or ""]
    with new_private_file(output) as dst:
        result = subprocess.run(  # noqa: S603  # nosec B603
            command, stdout=dst, stderr=subprocess.PIPE, env=env, check=False
        )
        if result.returncode != 0:
            raise _tool_failed("pg_dump", result.stderr)


# --- verify ------------------------------------------------------------------------------


def verify_backup(path: Path, *, key: bytes | None = None) -> VerifyResult:
    """Check ``path`` without touching any database: its checksum (when present), its
    decryption (every chunk), every document's and the database's SHA-256 against the
    manifest, then the database's content (SQLite integrity check and row counts, or a full
    read of the pg_dump archive by pg_restore)."""
    if not path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    try:
        _check_checksum(path)
        with (
            tempfile.TemporaryDirectory(prefix="ancrage-verify-") as private,
            _opened(path, key, Path(private)) as (kind, plain, documents, encrypted),
        ):
            counts: dict[str, int] = {}
            if kind == "sqlite":
                result = sqlite_integrity(plain)
                if result != "ok":
                    raise BackupError(f"Sauvegarde endommagée : {path.name} ({result}).")
                counts = table_counts(f"sqlite:///{plain}")
            else:
                done = subprocess.run(  # noqa: S603  # nosec B603
                    [_pg_tool("pg_restore"), "--file", os.devnull, str(plain)],
                    capture_output=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise BackupError(
                        f"Sauvegarde endommagée : {path.name} "
                        f"({_tool_failed('pg_restore', done.stderr)})."
                    )
    except PermissionError as error:
        raise BackupError(f"Sauvegarde illisible : {path} ({error.strerror}).") from error
    return VerifyResult(
        path, kind, encrypted, counts, None if documents is None else len(documents)
    )


def _check_checksum(path: Path) -> None:
    sidecar = path.with_name(path.name + CHECKSUM_SUFFIX)
    if not sidecar.exists():
        return
    expected = (sidecar.read_text().split() or [""])[0]
    if not hmac.compare_digest(expected, sha256(path)):
        raise BackupError(
            f"Sauvegarde endommagée : {path.name} ne correspond plus à son empreinte "
            f"({sidecar.name})."
        )


def _kind(plain: Path, name: str) -> str:
    with open(plain, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pg_dump"
    if is_archive(plain):
        return "archive"
    raise BackupError(f"{name} n'est pas une sauvegarde d'Ancrage (ni SQLite, ni pg_dump).")


@contextlib.contextmanager
def _opened(
    path: Path, key: bytes | None, documents_staging: Path
) -> Iterator[tuple[str, Path, dict[str, Path] | None, bool]]:
    """The backup's database kind, its plain database file and its documents (sha256 ->
    file staged in ``documents_staging``; None for a database-only backup), every hash
    checked against the manifest before this yields."""
    with _plain_copy(path, key) as (plain, encrypted):
        kind = _kind(plain, path.name)
        if kind != "archive":
            yield kind, plain, None, encrypted
            return
        with tempfile.TemporaryDirectory(prefix="ancrage-restore-") as private:  # 0700
            read = read_archive(plain, path.name, Path(private), documents_staging)
            yield read.kind, read.database, read.documents, encrypted


@contextlib.contextmanager
def _plain_copy(path: Path, key: bytes | None) -> Iterator[tuple[Path, bool]]:
    """``path`` itself when it is not encrypted; else its decrypted copy in a private
    temporary folder, deleted afterwards. Decryption is complete before anything is used."""
    if not is_encrypted(path):
        yield path, False
        return
    if key is None:
        raise BackupError(
            f"{path.name} est chiffrée : indiquez le fichier de clé (--key-file ou "
            "BACKUP_KEY_FILE)."
        )
    with tempfile.TemporaryDirectory(prefix="ancrage-restore-") as private:  # 0700
        plain = Path(private) / "plain"
        with open(path, "rb") as src, new_private_file(plain) as dst:
            decrypt_stream(src, dst, key, name=path.name)
        yield plain, True


# --- restore -----------------------------------------------------------------------------


def restore_backup(
    backup: Path, into: str | URL, *, key: bytes | None = None, documents: Path | None = None
) -> dict[str, int]:
    """Restore ``backup`` into the database at ``into``, which must be empty (a new SQLite
    file, or an existing empty PostgreSQL database), and its document files into the folder
    ``documents``, which must be absent or empty; returns the database's row counts.

    Everything is verified first (checksum, decryption, every SHA-256 of the manifest, the
    targets empty): a wrong key, a damaged, missing or unexpected file restores nothing. The
    documents are staged in a private folder beside ``documents`` and renamed into place
    only once the database is restored."""
    into = _url(into)
    if not backup.is_file():
        raise BackupError(f"Sauvegarde introuvable : {backup}.")
    _check_checksum(backup)
    staging = _documents_staging(documents) if documents is not None else None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ancrage-restore-") as private,
            _opened(backup, key, staging or Path(private)) as (kind, plain, files, _enc),
        ):
            if files and documents is None:
                raise BackupError(
                    f"{backup.name} contient les documents : indiquez le dossier où les "
                    "restaurer (--documents-into ou DOCUMENTS_FOLDER)."
                )
            _check_documents_target(documents, files)
            _restore_database(plain, kind, backup.name, into)
            if files:
                os.replace(staging, documents)  # atomic: the folder is absent or empty
                staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return table_counts(into)


def _documents_staging(documents: Path) -> Path:
    """A private folder beside ``documents`` (same file system: the final rename is one
    step); the parent's own mode is left as it is."""
    try:
        documents.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(
            f"Impossible de préparer le dossier {documents.parent} : {error.strerror}"
        ) from error
    return Path(tempfile.mkdtemp(prefix=".ancrage-restore-", dir=documents.parent))  # 0700


def _check_documents_target(documents: Path | None, files: dict | None) -> None:
    if not files or documents is None:
        return  # nothing to put in place
    if documents.exists() and (not documents.is_dir() or any(documents.iterdir())):
        raise BackupError(
            f"Le dossier des documents {documents} n'est pas vide : restaurez dans un "
            "nouveau dossier (--documents-into). Rien n'a été restauré."
        )


def _restore_database(plain: Path, kind: str, name: str, into: URL) -> None:
    if is_sqlite(into):
        if kind != "sqlite":
            raise BackupError(f"{name} est une sauvegarde PostgreSQL, pas SQLite.")
        target = Path(into.database or "")
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} existe déjà : restaurez dans un nouveau fichier.")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(plain, target)
        return
    if kind != "pg_dump":
        raise BackupError(f"{name} est une sauvegarde SQLite, pas PostgreSQL.")
    if table_counts(into):
        raise BackupError("La base cible n'est pas vide : restaurez dans une nouvelle base.")
    args, env = _pg_args(into)
    done = subprocess.run(  # noqa: S603  # nosec B603
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            into.database or "",
            *args,
            str(plain),
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise _tool_failed("pg_restore", done.stderr)


# --- rotation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    kept: list[Path]
    deleted: list[Path]


def backup_stamp(path: Path) -> datetime | None:
    """The UTC date-time in a backup's name, or None for a file that is not a backup."""
    match = NAME_PATTERN.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)


def plan_rotation(names: list[Path], *, keep_daily: int, keep_weekly: int) -> set[Path]:
    """The backups to keep: the newest of each of the ``keep_daily`` most recent days that
    have a backup, and the newest of each of the ``keep_weekly`` most recent ISO weeks that
    have one (the two sets overlap). The newest backup is always kept."""
    dated = sorted(
        ((stamp, path) for path in names if (stamp := backup_stamp(path)) is not None),
        reverse=True,
    )
    keep: set[Path] = set()
    if dated:
        keep.add(dated[0][1])
    for period, count in (
        (lambda stamp: stamp.date(), keep_daily),
        (lambda stamp: stamp.isocalendar()[:2], keep_weekly),
    ):
        seen: list[date | tuple[int, int]] = []
        for stamp, path in dated:
            bucket = period(stamp)
            if bucket in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(bucket)
            keep.add(path)
    return keep


def rotate_backups(folder: Path, *, keep_daily: int, keep_weekly: int) -> RotationResult:
    """Delete the backups of ``folder`` that ``plan_rotation`` does not keep (with their
    checksums). Files whose name is not a backup's are never touched."""
    if keep_daily < 1 or keep_weekly < 0:
        raise BackupError(
            "Rotation : gardez au moins 1 sauvegarde quotidienne et 0 hebdomadaire ou plus."
        )
    if not folder.is_dir():
        return RotationResult([], [])
    backups = sorted(path for path in folder.iterdir() if backup_stamp(path) is not None)
    keep = plan_rotation(backups, keep_daily=keep_daily, keep_weekly=keep_weekly)
    deleted = []
    for path in backups:
        if path in keep:
            continue
        try:
            path.unlink()
            path.with_name(path.name + CHECKSUM_SUFFIX).unlink(missing_ok=True)
        except OSError as error:
            raise BackupError(f"Impossible de supprimer {path} : {error.strerror}") from error
        deleted.append(path)
    return RotationResult(sorted(keep), deleted)


# --- configuration -----------------------------------------------------------------------


def backup_folder(config, instance_path: str) -> Path:
    return Path(config.get("BACKUP_DIR") or Path(instance_path) / "backups")


def documents_folder(config, instance_path: str) -> Path:
    """The document store's folder (``app.documents.storage.document_store``'s rule)."""
    return Path(config.get("DOCUMENTS_FOLDER") or Path(instance_path) / "documents")


def configured_key(config, key_file: Path | None = None) -> bytes | None:
    """The key of ``key_file``, else of ``BACKUP_KEY_FILE``; None when neither is set."""
    path = key_file or (Path(config["BACKUP_KEY_FILE"]) if config.get("BACKUP_KEY_FILE") else None)
    return read_key_file(path) if path is not None else None


def nightly_backup(config, instance_path: str, now: datetime) -> dict:
    """Create the night's backup in the configured folder, then rotate (scheduler job)."""
    key = configured_key(config)
    url = config["SQLALCHEMY_DATABASE_URI"]
    folder = backup_folder(config, instance_path)
    result = create_backup(
        url,
        folder / backup_name(url, now, encrypted=key is not None),
        key=key,
        documents=documents_folder(config, instance_path),
    )
    rotation = rotate_backups(
        folder,
        keep_daily=int(config["BACKUP_KEEP_DAILY"]),
        keep_weekly=int(config["BACKUP_KEEP_WEEKLY"]),
    )
    return {
        "file": result.path.name,
        "encrypted": result.encrypted,
        "size": result.path.stat().st_size,
        "documents": result.documents,
        "skipped": result.skipped,
        "kept": len(rotation.kept),
        "deleted": len(rotation.deleted),
    }
