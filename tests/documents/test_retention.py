"""Documents at the end of a file's life: anonymisation destroys their bytes (a content
another household still uses stays), the right of access lists them, and the orphan sweep
removes files no row names."""

from __future__ import annotations

import hashlib
import io
import os
import time
from datetime import UTC, datetime

from app.db import db
from app.documents.jobs import sweep_orphans
from app.documents.storage import document_store
from app.permissions import Role
from app.retention.queries import subject_access_file
from app.retention.services import anonymise
from tests.documents.helpers import PDF_BYTES, documents, stored_files
from tests.factories import make_document, make_household, make_project, make_user

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_anonymisation_destroys_the_files_but_not_a_content_shared_with_another_household(app):
    project = make_project()
    household, neighbour = make_household(project), make_household(project)
    own, shared = PDF_BYTES + b"own", PDF_BYTES + b"shared"
    make_document(household, content=own, title="Avis d'imposition")
    make_document(household, content=shared)
    make_document(neighbour, content=shared)
    db.session.commit()

    anonymise(household, NOW)
    db.session.commit()

    assert _digest(own) not in stored_files()
    assert _digest(shared) in stored_files()
    rows = [d for d in documents() if d.household_id == household.id]
    assert all(d.sha256 is None and d.deleted_at is not None for d in rows)
    assert all("imposition" not in d.title for d in rows)


def test_the_right_of_access_lists_the_documents(app):
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    household = make_household(project)
    make_document(household, title="Contrat d'accompagnement signé", category="contrat")
    db.session.commit()
    sections = {s["table"]: s for s in subject_access_file(household, coordinator)}
    titles = [row["title"] for row in sections["document"]["rows"]]
    assert titles == ["Contrat d'accompagnement signé"]


def test_the_sweep_removes_old_orphans_only_and_twice_is_harmless(app):
    household = make_household()
    kept = make_document(household, content=PDF_BYTES + b"kept")
    db.session.commit()
    store = document_store()
    orphan, _ = store.put_stream(io.BytesIO(PDF_BYTES + b"orphan"))
    young, _ = store.put_stream(io.BytesIO(PDF_BYTES + b"young"))
    old = time.time() - 2 * 3600
    for digest in (orphan, kept.sha256):
        os.utime(store.path(digest), (old, old))

    now = datetime.fromtimestamp(time.time(), UTC)
    assert sweep_orphans(now) == {"removed": 1}
    assert sweep_orphans(now) == {"removed": 0}
    assert sorted(stored_files()) == sorted([kept.sha256, young])


def test_an_old_orphan_uploaded_again_is_spared_by_the_sweep(app):
    # Its row is being written: the same content stored again makes the file young again.
    store = document_store()
    digest, _ = store.put_stream(io.BytesIO(PDF_BYTES + b"again"))
    old = time.time() - 2 * 3600
    os.utime(store.path(digest), (old, old))
    assert store.put_stream(io.BytesIO(PDF_BYTES + b"again"))[0] == digest

    assert sweep_orphans(datetime.fromtimestamp(time.time(), UTC)) == {"removed": 0}
    assert digest in stored_files()
