"""One backup archive for the database and the document files.

A tar file (optionally encrypted as a whole, see ``app.backups.encryption``) with exactly:

- ``database.sqlite3`` (SQLite snapshot) or ``database.dump`` (``pg_dump --format=custom``);
- ``documents/<sha256>``: every file of the document store, named by its content hash;
- ``manifest.json``, last: the database file's and every document's SHA-256 and size.

Reading never calls ``extractall``: every member must be one of those names and a regular
file, anything else (``../x``, an absolute path, a link, a folder, a duplicate) refuses the
whole archive. Members are copied into a private staging area while their SHA-256 is
computed, then compared with the manifest; nothing is put in place before every hash
matched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from app.backups.files import CHUNK_SIZE, FILE_MODE, BackupError

MANIFEST = "manifest.json"
DATABASE_NAMES = {"sqlite": "database.sqlite3", "pg_dump": "database.dump"}
DOCUMENTS_PREFIX = "documents/"
FORMAT = "ancrage-backup"
VERSION = 2
TAR_MAGIC_OFFSET = 257
_HASH = re.compile(r"\A[0-9a-f]{64}\Z")


def is_archive(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(TAR_MAGIC_OFFSET)
        return handle.read(5) == b"ustar"


class _HashingReader:
    """Reads ``stream`` for tarfile while hashing what it read."""

    def __init__(self, stream):
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict:
    with open(path, "rb") as handle:
        info = tarfile.TarInfo(name)
        info.size = os.fstat(handle.fileno()).st_size
        info.mode = FILE_MODE
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return {"name": name, "sha256": reader.digest.hexdigest(), "size": info.size}


@dataclass
class WrittenArchive:
    documents: int = 0
    skipped: list[str] = field(default_factory=list)  # files whose bytes no longer match


def write_archive(
    target, database: Path, kind: str, documents_folder: Path | None
) -> WrittenArchive:
    """Write the archive into the writable binary ``target`` (a file or an encrypting
    writer), streaming every file: memory stays at a chunk whatever the sizes."""
    result = WrittenArchive()
    manifest: dict = {"format": FORMAT, "version": VERSION, "documents": []}
    with tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        manifest["database"] = {**_add(tar, DATABASE_NAMES[kind], database), "kind": kind}
        names = (
            sorted(os.listdir(documents_folder))
            if documents_folder and documents_folder.is_dir()
            else []
        )
        for name in names:
            if not _HASH.match(name):
                continue  # temporary files of uploads under way
            try:
                entry = _add(tar, DOCUMENTS_PREFIX + name, documents_folder / name)
            except FileNotFoundError:
                continue  # deleted meanwhile (anonymisation): no longer data to keep
            if entry["sha256"] != name:
                # Already damaged on disk: stored nonetheless would fail every restore.
                result.skipped.append(name)
                continue
            manifest["documents"].append(entry)
            result.documents += 1
        body = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mode = FILE_MODE
        tar.addfile(info, _BytesReader(body))
    return result


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


# --- reading ------------------------------------------------------------------------------


@dataclass
class ReadArchive:
    kind: str
    database: Path
    documents: dict[str, Path]  # sha256 -> staged file


def _damaged(name: str, detail: str) -> BackupError:
    return BackupError(f"Sauvegarde endommagée : {name} ({detail}). Rien n'a été restauré.")


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[str, int]:
    source = tar.extractfile(member)
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _member_kind(member: tarfile.TarInfo, name: str) -> str:
    """'manifest', 'database' or 'document'; refuses every other member."""
    if not member.isreg():
        raise BackupError(
            f"Sauvegarde refusée : {name} contient « {member.name} », qui n'est pas un fichier "
            "ordinaire. Rien n'a été restauré."
        )
    if member.name == MANIFEST:
        return "manifest"
    if member.name in DATABASE_NAMES.values():
        return "database"
    if member.name.startswith(DOCUMENTS_PREFIX) and _HASH.match(
        member.name[len(DOCUMENTS_PREFIX) :]
    ):
        return "document"
    raise BackupError(
        f"Sauvegarde refusée : {name} contient un fichier inattendu « {member.name} » "
        "(seuls la base, les documents et le manifeste sont admis). Rien n'a été restauré."
    )


def read_archive(plain: Path, name: str, staging: Path, documents_staging: Path) -> ReadArchive:
    """Copy the members of the archive ``plain`` into ``staging`` (the database) and
    ``documents_staging`` (the documents), then check every one against the manifest."""
    seen: dict[str, tuple[str, int]] = {}
    manifest_body = None
    database = None
    try:
        with tarfile.open(plain, mode="r:") as tar:
            for member in tar:
                kind = _member_kind(member, name)
                if member.name in seen or (kind == "manifest" and manifest_body is not None):
                    raise _damaged(name, f"« {member.name} » y figure deux fois")
                if kind == "manifest":
                    manifest_body = tar.extractfile(member).read()
                    continue
                if kind == "database":
                    database = staging / member.name
                    seen[member.name] = _copy_member(tar, member, database)
                else:
                    target = documents_staging / member.name[len(DOCUMENTS_PREFIX) :]
                    seen[member.name] = _copy_member(tar, member, target)
    except (tarfile.TarError, EOFError) as error:
        raise _damaged(name, f"archive illisible : {error}") from error
    if manifest_body is None:
        raise _damaged(name, "manifeste absent : archive tronquée")
    return _check_manifest(manifest_body, seen, database, documents_staging, name)


def _check_manifest(
    body: bytes, seen: dict, database: Path | None, documents_staging: Path, name: str
) -> ReadArchive:
    try:
        manifest = json.loads(body)
        expected = {manifest["database"]["name"]: manifest["database"]}
        expected |= {entry["name"]: entry for entry in manifest["documents"]}
        kind = manifest["database"]["kind"]
        if (
            manifest.get("format") != FORMAT
            or DATABASE_NAMES.get(kind) != manifest["database"]["name"]
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise _damaged(name, "manifeste illisible") from None
    for member, entry in expected.items():
        if member not in seen:
            raise _damaged(name, f"« {member} » figure au manifeste mais manque dans l'archive")
        digest, size = seen[member]
        if not hmac.compare_digest(digest, str(entry.get("sha256"))) or size != entry.get("size"):
            raise _damaged(name, f"« {member} » ne correspond pas à son empreinte SHA-256")
        if member.startswith(DOCUMENTS_PREFIX) and digest != member[len(DOCUMENTS_PREFIX) :]:
            raise _damaged(name, f"« {member} » ne correspond pas à son nom")
    extra = sorted(set(seen) - set(expected))
    if extra:
        raise _damaged(name, f"« {extra[0]} » est absent du manifeste")
    documents = {
        member[len(DOCUMENTS_PREFIX) :]: documents_staging / member[len(DOCUMENTS_PREFIX) :]
        for member in seen
        if member.startswith(DOCUMENTS_PREFIX)
    }
    return ReadArchive(kind, database, documents)
