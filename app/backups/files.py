"""The backups' files: private folders and files (0700, 0600), checksums, and the error every
backup step raises with a French message for the operator."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
CHUNK_SIZE = 1024 * 1024
CHECKSUM_SUFFIX = ".sha256"


class BackupError(RuntimeError):
    """A failure the operator can act on; the message is French."""


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
def new_private_file(path: Path) -> Iterator:
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


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksum(path: Path) -> None:
    target = path.with_name(path.name + CHECKSUM_SUFFIX)
    with new_private_file(target) as handle:
        handle.write(f"{sha256(path)}  {path.name}\n".encode())
