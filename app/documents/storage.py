"""Where document bytes live: a small interface, one folder implementation.

Files are named by the SHA-256 of their content, so the same content is stored once and a
name never says anything about a person. A file is written atomically, in one pass over the
upload (each chunk hashed as it is written to a temporary file in the same folder, fsync,
``os.replace`` to its hash, or dropped when that content is already there) with mode 0600,
*before* and outside the database transaction that records it: a crash between the two
leaves an orphan file, never a row without its file, and ``sweep_orphans`` removes the
orphans later (the scheduler's ``documents.sweep_orphans`` job). Multi-server deployments
point ``DOCUMENTS_FOLDER`` at storage every server shares (docs/documents.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

_HASH = re.compile(r"\A[0-9a-f]{64}\Z")
# Read and written at a time while storing (the hash is updated with each).
CHUNK_BYTES = 1024 * 1024


class DocumentStore:
    """Stores bytes under their hash. Subclass it for another backend (object storage)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if not _HASH.match(sha256 or ""):  # never a path taken from anywhere else
            raise ValueError("not a SHA-256 digest")
        return self.folder / sha256

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store what ``stream`` holds from where it stands to its end, in one pass: each
        chunk read updates the SHA-256 and is written to a temporary file, which is then
        synced and renamed to that hash, or dropped when that content is already stored.
        Returns (SHA-256, size in bytes)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        hasher, size = hashlib.sha256(), 0
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = hasher.hexdigest()
            target = self.path(digest)
            if _touch(target):
                # Already stored: fresh again (the orphan sweep spares young files, and this
                # one is about to get a row; it may have been an orphan until now).
                os.unlink(temporary)
                return digest, size
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_folder(self.folder)  # the rename itself survives a crash
        return digest, size

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
        if not path.exists():
            return False
        path.unlink()
        return True

    def stored(self) -> list[tuple[str, float]]:
        """Every stored file (its hash, its modification time), temporary files included
        under their own names."""
        if not self.folder.is_dir():
            return []
        return [(entry.name, entry.stat().st_mtime) for entry in os.scandir(self.folder)]

    def sweep_orphans(self, referenced: set[str], *, now: float, older_than: float) -> int:
        """Delete the files no row references (and temporary files left by a crash) that are
        older than ``older_than`` seconds: a younger file may belong to an upload whose row
        is being written."""
        removed = 0
        for name, modified in self.stored():
            if name in referenced or now - modified < older_than:
                continue
            if _HASH.match(name) or name.startswith(".upload-"):
                (self.folder / name).unlink(missing_ok=True)
                removed += 1
        return removed


def _touch(path: Path) -> bool:
    """Bring an existing file's modification time to now; False when there is no such file
    (never stored, or swept a moment ago)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def document_store() -> DocumentStore:
    folder = current_app.config.get("DOCUMENTS_FOLDER") or os.path.join(
        current_app.instance_path, "documents"
    )
    return DocumentStore(folder)
