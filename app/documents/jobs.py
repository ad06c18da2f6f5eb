"""The documents' scheduled job: sweep the files no row names (a crash between the file's
write and its row's commit, a refused commit), once they are an hour old."""

from __future__ import annotations

from datetime import datetime

from app.documents.services import referenced_hashes
from app.documents.storage import document_store

ORPHAN_AGE_SECONDS = 3600


def sweep_orphans(now: datetime) -> dict:
    removed = document_store().sweep_orphans(
        referenced_hashes(), now=now.timestamp(), older_than=ORPHAN_AGE_SECONDS
    )
    return {"removed": removed}
