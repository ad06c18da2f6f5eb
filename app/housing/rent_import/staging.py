"""The uploaded extract kept between the preview and the import: a file of the instance
folder (``instance/rent-imports/``, or ``RENT_IMPORT_STAGING_DIR``) named by the landlord's
id and the SHA-256 of its bytes — never in the session cookie. It is removed once imported;
files older than ``KEPT_HOURS`` are removed whenever another extract is uploaded."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from flask import current_app

KEPT_HOURS = 24
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


def _sweep() -> None:
    oldest = time.time() - KEPT_HOURS * 3600
    for path in _folder().glob("*.extrait"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
