"""The uploaded extract kept between the preview and the import: a file of the instance
folder (``instance/rent-imports/``, or ``RENT_IMPORT_STAGING_DIR``) named by the landlord's
id and the SHA-256 of its bytes — never in the session cookie. It is removed once imported;
files older than ``RENT_IMPORT_STAGED_HOURS`` (24 by default) are removed by the hourly job
``housing.staged_imports`` (``app/housing/jobs.py``) and whenever another extract is
uploaded."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from flask import current_app

_DIGEST = re.compile(r"[0-9a-f]{64}")


def _folder() -> Path:
    configured = current_app.config.get("RENT_IMPORT_STAGING_DIR")
    folder = Path(configured or Path(current_app.instance_path) / "rent-imports")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _path(organisation_id: int, digest: str) -> Path | None:
    if not _DIGEST.fullmatch(digest or ""):
        return None
    return _folder() / f"{int(organisation_id)}-{digest}.extrait"


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def keep(organisation_id: int, content: bytes) -> str:
    """Store the extract until it is imported; its digest names it."""
    digest = digest_of(content)
    _sweep()
    path = _path(organisation_id, digest)
    temporary = path.with_suffix(f".{os.getpid()}.part")
    temporary.write_bytes(content)
    temporary.chmod(0o600)
    temporary.replace(path)
    return digest


def load(organisation_id: int, digest: str) -> bytes | None:
    path = _path(organisation_id, digest)
    try:
        return path.read_bytes() if path else None
    except FileNotFoundError:
        return None


def discard(organisation_id: int, digest: str) -> None:
    path = _path(organisation_id, digest)
    if path:
        path.unlink(missing_ok=True)


def _sweep(now: float | None = None) -> int:
    """Remove the staged files (and the parts of interrupted writes) older than
    ``RENT_IMPORT_STAGED_HOURS``; returns how many were removed."""
    hours = current_app.config["RENT_IMPORT_STAGED_HOURS"]
    oldest = (time.time() if now is None else now) - hours * 3600
    removed = 0
    for path in _folder().iterdir():
        if path.suffix not in {".extrait", ".part"}:
            continue
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def sweep_staged(now: float | None = None) -> int:
    """The scheduled sweep (``housing.staged_imports``): ``now`` is a POSIX timestamp."""
    return _sweep(now)
