"""Right of access with the documents' files: one ZIP holds the household's file (JSON), the
bytes of every document the file still holds — every category, earlier and soft-deleted
versions included — and a listing of their SHA-256; an anonymised household's ZIP holds no
file."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.permissions import Role
from app.retention.export import held_documents
from app.retention.services import anonymise
from tests.factories import PDF_BYTES, make_document, make_household, make_project, make_user

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _setup():
    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    contents = {
        "caf": PDF_BYTES + b"% avis CAF",
        "sante": PDF_BYTES + b"% certificat medical",
        "old": PDF_BYTES + b"% bail v1",
        "new": PDF_BYTES + b"% bail v2",
        "deleted": PDF_BYTES + b"% erreur",
    }
    make_document(
        household,
        worker,
        content=contents["caf"],
        category="ressources",
        title="Avis CAF",
        original_name="../../caf 2026.pdf",
    )
    make_document(
        household, worker, content=contents["sante"], category="sante", title="Certificat médical"
    )
    old = make_document(
        household, worker, content=contents["old"], category="bail", title="Bail", replaced_at=NOW
    )
    make_document(
        household,
        worker,
        content=contents["new"],
        category="bail",
        title="Bail",
        previous_id=old.id,
        lineage_id=old.id,
        version_number=2,
    )
    make_document(
        household,
        worker,
        content=contents["deleted"],
        category="autre",
        title="Erreur",
        deleted_at=NOW,
        delete_reason="Mauvais dossier",
    )
    # Another household's document is never in this file.
    make_document(make_household(project), content=PDF_BYTES + b"% voisin")
    db.session.commit()
    return coordinator, worker, household, contents


def _zip(client, household) -> zipfile.ZipFile:
    response = client.get(f"/menages/{household.id}/droit-d-acces.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_the_zip_holds_every_document_the_file_holds_with_its_hash(client):
    coordinator, _, household, contents = _setup()
    client.login(coordinator)
    archive = _zip(client, household)

    listing = json.loads(archive.read("documents.json"))
    assert len(listing) == 5  # the neighbour's document is not there
    for entry in listing:
        data = archive.read(entry["fichier"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["fichier"].startswith("documents/") and ".." not in entry["fichier"]
    held = {hashlib.sha256(archive.read(e["fichier"])).hexdigest() for e in listing}
    assert held == {hashlib.sha256(c).hexdigest() for c in contents.values()}
    states = {entry["titre"]: entry["etat"] for entry in listing if entry["titre"] != "Bail"}
    assert states == {
        "Avis CAF": "en cours",
        "Certificat médical": "en cours",
        "Erreur": "supprimé",
    }
    assert sorted(e["etat"] for e in listing if e["titre"] == "Bail") == [
        "en cours",
        "remplacé par une version plus récente",
    ]
    # The household's file itself, as the JSON download gives it.
    (json_name,) = [n for n in archive.namelist() if n.endswith(".json") and "droit" in n]
    body = json.loads(archive.read(json_name))
    assert body["household_id"] == household.id
    sections = {s["table"]: s for s in body["sections"]}
    assert len(sections["document"]["rows"]) == 5

    (entry,) = _exports()
    assert entry.details["format"] == "zip" and entry.details["documents"] == 5


def test_an_anonymised_household_gives_nothing(client):
    """Its rows lost their hashes and its bytes left the disk; its file is no longer open
    to anyone (404), the ZIP included."""
    coordinator, _, household, _ = _setup()
    anonymise(household, NOW)
    db.session.commit()
    assert held_documents(household.id, coordinator) == []
    client.login(coordinator)
    assert client.get(f"/menages/{household.id}/droit-d-acces.zip").status_code == 404


def test_a_social_worker_is_refused(client):
    _, worker, household, _ = _setup()
    client.login(worker)
    assert client.get(f"/menages/{household.id}/droit-d-acces.zip").status_code == 403
    assert _exports() == []


def test_a_coordinator_of_another_project_gets_404(client):
    _, _, household, _ = _setup()
    other = make_user(Role.COORDINATEUR, projects=[make_project()])
    db.session.commit()
    client.login(other)
    assert client.get(f"/menages/{household.id}/droit-d-acces.zip").status_code == 404
    assert _exports() == []


def _exports():
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "household.subject_access_export")
    ).all()


def test_the_zip_is_written_without_holding_the_files_in_memory(app):
    """Five 2 MB documents: the export's peak of allocated memory stays far below one of
    them (the bytes are copied from the store to a temporary file in chunks)."""
    import tracemalloc

    from app.retention.export import subject_access_zip

    project = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[project])
    household = make_household(project)
    for index in range(5):
        make_document(household, content=PDF_BYTES + bytes([index]) * (2 * 1024 * 1024))
    db.session.commit()
    documents = held_documents(household.id, coordinator)
    tracemalloc.start()
    try:
        archive = subject_access_zip({"sections": []}, documents, "REF")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with archive, zipfile.ZipFile(archive) as opened:
        assert len([n for n in opened.namelist() if n.startswith("documents/")]) == 5
    print(f"peak memory while writing 10 MB of documents: {peak / 1024:.0f} KiB")
    assert peak < 1024 * 1024
