"""Backups of the whole database: creation, optional encryption, verification, rotation and
restoration.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while the application keeps writing, then ``PRAGMA integrity_check`` verifies the copy.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot too) and ``pg_restore``, with
the connection parameters taken from the database URL (the password through PGPASSWORD,
never on the command line).

Every file is created ``0600`` in a folder made ``0700``; a ``<file>.sha256`` next to it (the
``sha256sum`` format) lets ``verify`` tell a damaged file at once. With a key file, the
backup is encrypted (AES-256-GCM in 1 MiB chunks, see ``_Encryptor``): the plain copy never
reaches the backup folder (PostgreSQL streams ``pg_dump`` through the cipher; SQLite's
snapshot is taken in a private ``0700`` temporary folder, then encrypted and deleted).

Every failure is a ``BackupError`` with a French message for the operator.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
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

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError


class BackupError(RuntimeError):
    """A failure the operator can act on; the message is French."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    counts: dict[str, int]
    encrypted: bool = False


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    kind: str  # "sqlite" or "pg_dump"
    encrypted: bool
    counts: dict[str, int] = field(default_factory=dict)


FILE_MODE = 0o600
FOLDER_MODE = 0o700
CHUNK_SIZE = 1024 * 1024
ENCRYPTED_SUFFIX = ".enc"
CHECKSUM_SUFFIX = ".sha256"
NAME_PATTERN = re.compile(r"^ancrage-(\d{8}-\d{6})\.(sqlite3|dump)(\.enc)?$")
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _url(url: str | URL) -> URL:
    return make_url(url) if isinstance(url, str) else url


def is_sqlite(url: str | URL) -> bool:
    return _url(url).get_backend_name() == "sqlite"


def backup_name(url: str | URL, now: datetime, *, encrypted: bool) -> str:
    """``ancrage-<UTC date-time>.sqlite3|.dump[.enc]``: the name rotation reads dates from."""
    suffix = ".sqlite3" if is_sqlite(url) else ".dump"
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


# --- files and folders -------------------------------------------------------------------


def ensure_private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) and make it ``0700``."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        folder.chmod(FOLDER_MODE)
    except OSError as error:
        raise BackupError(
            f"Impossible de préparer le dossier des sauvegardes {folder} : {error.strerror}"
        ) from error


@contextlib.contextmanager
def _new_private_file(path: Path) -> Iterator:
    """Open a new file ``0600`` (never an existing one); removed again if writing fails."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise BackupError(f"{path} existe déjà : choisissez un autre nom.") from None
    except OSError as error:
        raise BackupError(f"Impossible de créer {path} : {error.strerror}") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _write_checksum(path: Path) -> None:
    target = path.with_name(path.name + CHECKSUM_SUFFIX)
    with _new_private_file(target) as handle:
        handle.write(f"{_sha256(path)}  {path.name}\n".encode())


# --- encryption --------------------------------------------------------------------------
#
# File layout: MAGIC (8 bytes) | salt (16) | key check (16) | chunks. Each chunk is a 4-byte
# big-endian length, then AES-256-GCM(ciphertext + tag) of at most CHUNK_SIZE plain bytes.
# The file key and the key check come from the key file's 32 bytes and the salt (HKDF-SHA256),
# so a wrong key is told apart from a damaged file. Nonce: the chunk's number (11 bytes) and
# a last-chunk flag (the STREAM construction): chunks cannot be reordered, dropped or
# truncated unnoticed. The header is the associated data of every chunk.

MAGIC = b"ANCRBK1\x00"
SALT_SIZE = 16
CHECK_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE + CHECK_SIZE
TAG_SIZE = 16


def generate_key_file(path: Path) -> None:
    """Write a new random key (32 bytes, base64) into a new ``0600`` file."""
    if not path.parent.exists():
        ensure_private_folder(path.parent)
    with _new_private_file(path) as handle:
        handle.write(base64.b64encode(os.urandom(32)) + b"\n")


def read_key_file(path: Path) -> bytes:
    """The 32-byte key of ``path`` (base64, e.g. from ``backup generate-key`` or
    ``openssl rand -base64 32``). Refuses a key file other users can read."""
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"Fichier de clé introuvable : {path}.") from None
    except OSError as error:
        raise BackupError(
            f"Fichier de clé illisible : {path} ({error.strerror}). Vérifiez ses droits."
        ) from error
    if mode & 0o077:
        raise BackupError(
            f"Le fichier de clé {path} est accessible à d'autres utilisateurs : "
            f"rendez-le privé (chmod 600 {path})."
        )
    try:
        key = base64.b64decode(raw.strip(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupError(
            f"Le fichier de clé {path} ne contient pas une clé valide (32 octets en base64, "
            "créée par « backup generate-key »)."
        )
    return key


def _derive(key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=32 + CHECK_SIZE, salt=salt, info=b"ancrage-backup-v1"
    ).derive(key)
    return material[:32], material[32:]


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt_stream(source, target, key: bytes) -> None:
    """Encrypt the readable binary ``source`` into the writable ``target``, chunk by chunk
    (memory stays around two chunks whatever the database's size)."""
    salt = os.urandom(SALT_SIZE)
    file_key, check = _derive(key, salt)
    header = MAGIC + salt + check
    target.write(header)
    cipher = AESGCM(file_key)
    counter = 0
    chunk = source.read(CHUNK_SIZE)
    while True:
        following = source.read(CHUNK_SIZE)
        last = not following
        sealed = cipher.encrypt(_nonce(counter, last), chunk, header)
        target.write(len(sealed).to_bytes(4, "big") + sealed)
        if last:
            return
        chunk, counter = following, counter + 1


def decrypt_stream(source, target, key: bytes, *, name: str) -> None:
    """Decrypt ``source`` into ``target`` (``None``: only check); raises ``BackupError`` for a
    wrong key or a damaged file."""
    header = source.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        raise BackupError(f"{name} n'est pas une sauvegarde chiffrée d'Ancrage.")
    file_key, check = _derive(key, header[len(MAGIC) : len(MAGIC) + SALT_SIZE])
    if not hmac.compare_digest(check, header[-CHECK_SIZE:]):
        raise BackupError(
            f"Mauvaise clé : {name} a été chiffrée avec une autre clé. Rien n'a été restauré."
        )
    cipher = AESGCM(file_key)
    damaged = BackupError(f"Sauvegarde endommagée : {name} est tronquée ou altérée.")
    counter = 0
    while True:
        length_bytes = source.read(4)
        if len(length_bytes) < 4:
            raise damaged  # no last chunk: truncated
        length = int.from_bytes(length_bytes, "big")
        if not TAG_SIZE <= length <= CHUNK_SIZE + TAG_SIZE:
            raise damaged
        sealed = source.read(length)
        if len(sealed) < length:
            raise damaged
        plain = None
        for last in (False, True):
            try:
                plain = cipher.decrypt(_nonce(counter, last), sealed, header)
            except InvalidTag:
                continue
            break
        if plain is None:
            raise damaged
        if target is not None:
            target.write(plain)
        if last:
            if source.read(1):
                raise damaged  # bytes after the last chunk
            return
        counter += 1


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


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


def create_backup(url: str | URL, output: Path, *, key: bytes | None = None) -> BackupResult:
    """Back up the database at ``url`` into ``output`` (a SQLite file, or a pg_dump archive,
    encrypted with ``key`` when given), ``0600`` in a ``0700`` folder, with its checksum."""
    url = _url(url)
    ensure_private_folder(output.parent)
    if output.exists():
        raise BackupError(f"{output} existe déjà : choisissez un autre nom.")
    try:
        if is_sqlite(url):
            counts = _create_sqlite(Path(url.database or ""), output, key)
        else:
            _create_pg(url, output, key)
            counts = {}
        _write_checksum(output)
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return BackupResult(output, counts, encrypted=key is not None)


def _create_sqlite(source: Path, output: Path, key: bytes | None) -> dict[str, int]:
    if key is None:
        with _new_private_file(output):
            pass  # reserve the name with the right mode; the backup API fills it
        _sqlite_copy(source, output)
        return table_counts(f"sqlite:///{output}")
    with tempfile.TemporaryDirectory(prefix="ancrage-backup-") as private:  # 0700
        plain = Path(private) / "snapshot.sqlite3"
        _sqlite_copy(source, plain)
        counts = table_counts(f"sqlite:///{plain}")
        with open(plain, "rb") as src, _new_private_file(output) as dst:
            encrypt_stream(src, dst, key)
    return counts


def _create_pg(url: URL, output: Path, key: bytes | None) -> None:
    args, env = _pg_args(url)
    command = [_pg_tool("pg_dump"), "--format=custom", *args, url.database or ""]
    with _new_private_file(output) as dst:
        if key is None:
            result = subprocess.run(  # noqa: S603  # nosec B603
                command, stdout=dst, stderr=subprocess.PIPE, env=env, check=False
            )
            stderr = result.stderr
        else:
            with tempfile.TemporaryFile() as errors:
                process = subprocess.Popen(  # noqa: S603  # nosec B603
                    command, stdout=subprocess.PIPE, stderr=errors, env=env
                )
                try:
                    encrypt_stream(process.stdout, dst, key)
                finally:
                    process.stdout.close()
                    process.wait()
                errors.seek(0)
                stderr = errors.read()
                result = process
        if result.returncode != 0:
            raise _tool_failed("pg_dump", stderr)


# --- verify ------------------------------------------------------------------------------


def verify_backup(path: Path, *, key: bytes | None = None) -> VerifyResult:
    """Check ``path`` without touching any database: its checksum (when present), its
    decryption (every chunk), then its content (SQLite integrity check and row counts, or a
    full read of the pg_dump archive by pg_restore)."""
    if not path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    try:
        _check_checksum(path)
        with _plain_copy(path, key) as (plain, encrypted):
            kind = _kind(plain, path.name)
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
    return VerifyResult(path, kind, encrypted, counts)


def _check_checksum(path: Path) -> None:
    sidecar = path.with_name(path.name + CHECKSUM_SUFFIX)
    if not sidecar.exists():
        return
    expected = (sidecar.read_text().split() or [""])[0]
    if not hmac.compare_digest(expected, _sha256(path)):
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
    raise BackupError(f"{name} n'est pas une sauvegarde d'Ancrage (ni SQLite, ni pg_dump).")


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
        with open(path, "rb") as src, _new_private_file(plain) as dst:
            decrypt_stream(src, dst, key, name=path.name)
        yield plain, True


# --- restore -----------------------------------------------------------------------------


def restore_backup(backup: Path, into: str | URL, *, key: bytes | None = None) -> dict[str, int]:
    """Restore ``backup`` into the database at ``into``, which must be empty (a new SQLite
    file, or an existing empty PostgreSQL database); returns its row counts. The backup is
    verified first (checksum, decryption): a wrong key or a damaged file restores nothing."""
    into = _url(into)
    if not backup.is_file():
        raise BackupError(f"Sauvegarde introuvable : {backup}.")
    _check_checksum(backup)
    with _plain_copy(backup, key) as (plain, _encrypted):
        kind = _kind(plain, backup.name)
        if is_sqlite(into):
            if kind != "sqlite":
                raise BackupError(f"{backup.name} est une sauvegarde PostgreSQL, pas SQLite.")
            target = Path(into.database or "")
            if target.exists() and target.stat().st_size > 0:
                raise BackupError(f"{target} existe déjà : restaurez dans un nouveau fichier.")
            target.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(plain, target)
        else:
            if kind != "pg_dump":
                raise BackupError(f"{backup.name} est une sauvegarde SQLite, pas PostgreSQL.")
            if table_counts(into):
                raise BackupError(
                    "La base cible n'est pas vide : restaurez dans une nouvelle base."
                )
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
    return table_counts(into)


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


def configured_key(config, key_file: Path | None = None) -> bytes | None:
    """The key of ``key_file``, else of ``BACKUP_KEY_FILE``; None when neither is set."""
    path = key_file or (Path(config["BACKUP_KEY_FILE"]) if config.get("BACKUP_KEY_FILE") else None)
    return read_key_file(path) if path is not None else None


def nightly_backup(config, instance_path: str, now: datetime) -> dict:
    """Create the night's backup in the configured folder, then rotate (scheduler job)."""
    key = configured_key(config)
    url = config["SQLALCHEMY_DATABASE_URI"]
    folder = backup_folder(config, instance_path)
    result = create_backup(url, folder / backup_name(url, now, encrypted=key is not None), key=key)
    rotation = rotate_backups(
        folder,
        keep_daily=int(config["BACKUP_KEEP_DAILY"]),
        keep_weekly=int(config["BACKUP_KEEP_WEEKLY"]),
    )
    return {
        "file": result.path.name,
        "encrypted": result.encrypted,
        "size": result.path.stat().st_size,
        "kept": len(rotation.kept),
        "deleted": len(rotation.deleted),
    }
