"""The right-of-access ZIP: the household's file (the JSON of ``subject_access_file``) and
the bytes of every document the file holds, with a listing of their hashes.

Which documents: every row of the household that still has a file — current versions,
earlier versions and soft-deleted ones alike (they are still held, so they are the person's
data), of every category the viewer reads (the subject-access rule: every column of every
record ``viewer`` reads; coordinators read them all, health included). An anonymised
household's rows have lost their hash and their bytes: nothing to put in.

The archive is written to an anonymous temporary file, each document copied from the store
in chunks (``ZipFile.write``): memory stays bounded whatever the files' sizes.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile

from sqlalchemy import select

from app.audience import readable_columns
from app.db import db
from app.documents.models import Document, DocumentCategory
from app.documents.storage import document_store

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def _entry_name(document) -> str:
    """``documents/<id>-<name>``: the id keeps names apart, the name is reduced to plain
    characters (no folder, no dot-dot)."""
    name = _UNSAFE.sub("_", document.original_name or "").strip("._") or "document"
    return f"documents/{document.id}-{name[:80]}"


def _status(document) -> str:
    if document.deleted_at is not None:
        return "supprimé"
    if document.replaced_at is not None:
        return "remplacé par une version plus récente"
    return "en cours"


# What the ZIP says of each document: plain values, read once (no record reloaded after the
# view's audit commit, no uploader loaded).
_HELD_COLUMNS = (
    Document.id,
    Document.title,
    Document.category,
    Document.version_number,
    Document.deleted_at,
    Document.replaced_at,
    Document.original_name,
    Document.sha256,
    Document.size_bytes,
)


def held_documents(household_id: int, viewer) -> list:
    """The household's documents that still have a file, when ``viewer`` reads their
    content (``title``: the column whose audience follows the category), as plain rows of
    the columns the ZIP uses."""
    if "title" not in {column.key for column in readable_columns(viewer, Document)}:
        return []
    return list(
        db.session.execute(
            select(*_HELD_COLUMNS)
            .where(Document.household_id == household_id, Document.sha256.is_not(None))
            .order_by(Document.id)
        )
    )


def subject_access_zip(body: dict, documents: list, reference: str):
    """A temporary file (read position at 0) holding the ZIP: ``droit-d-acces-<ref>.json``,
    ``documents.json`` (the listing: name in the ZIP, title, category, state, SHA-256, size)
    and ``documents/<id>-<name>``."""
    store = document_store()
    listing = []
    target = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"droit-d-acces-{reference}.json", json.dumps(body, ensure_ascii=False, indent=2)
        )
        for document in documents:
            path = store.path(document.sha256)
            entry = {
                "id": document.id,
                "titre": document.title,
                "categorie": DocumentCategory(document.category).label,
                "version": document.version_number,
                "etat": _status(document),
                "nom_d_origine": document.original_name,
                "sha256": document.sha256,
                "taille": document.size_bytes,
                "fichier": None,
            }
            if path.is_file():
                entry["fichier"] = _entry_name(document)
                archive.write(path, entry["fichier"], compress_type=zipfile.ZIP_STORED)
            listing.append(entry)
        archive.writestr("documents.json", json.dumps(listing, ensure_ascii=False, indent=2))
    target.seek(0)
    return target
