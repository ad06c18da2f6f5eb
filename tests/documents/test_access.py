"""Who sees, opens, replaces and deletes documents: scope (the household's), audience (the
category's), the journal of downloads, versions and soft deletes."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from tests.conftest import page
from tests.documents.helpers import PDF_BYTES, documents, upload
from tests.factories import make_document
from tests.world import build_world


@pytest.fixture
def world(app):
    """w.document (an insurance certificate, landlord audience), a CAF letter (ressources),
    a health certificate, and an insurance certificate of the other landlord's tenant."""
    w = build_world()
    worker = w.users["travailleur_social"]
    w.caf = make_document(
        w.household,
        worker,
        category="ressources",
        title="Courrier CAF MARQUEURCAF",
        content=PDF_BYTES + b"caf",
    )
    w.health = make_document(
        w.household,
        worker,
        category="sante",
        title="Certificat médical MARQUEURSANTE",
        content=PDF_BYTES + b"sante",
    )
    w.other = make_document(
        w.other_household,
        w.users["autre_bailleur"],
        title="Assurance AUTREMENAGE",
        content=PDF_BYTES + b"autre",
    )
    db.session.commit()
    return w


def _as(make_client, w, role):
    client = make_client()
    client.login(w.users[role])
    return client


def _url(household, document):
    return f"/menages/{household.id}/documents/{document.id}"


@pytest.mark.parametrize(
    ("role", "seen", "hidden"),
    [
        ("travailleur_social", {"document", "caf", "health"}, set()),
        ("coordinateur", {"document", "caf", "health"}, set()),
        ("bailleur", {"document"}, {"caf", "health"}),
    ],
)
def test_each_role_lists_and_opens_what_its_audience_allows(make_client, world, role, seen, hidden):
    client = _as(make_client, world, role)
    listing = page(client.get(f"/menages/{world.household.id}/documents"))
    for name in seen:
        document = getattr(world, name)
        assert document.title in listing
        assert client.get(_url(world.household, document)).status_code == 200
    for name in hidden:
        document = getattr(world, name)
        assert document.title not in listing
        assert f"/documents/{document.id}" not in listing
        # Cannot open, replace or delete it: 404, as if it did not exist.
        for suffix in ("", "/remplacer", "/supprimer"):
            assert client.get(_url(world.household, document) + suffix).status_code == 404


def test_landlord_staff_never_reach_the_markers_of_social_and_health_documents(make_client, world):
    client = _as(make_client, world, "bailleur")
    for path in (f"/menages/{world.household.id}/documents", f"/menages/{world.household.id}"):
        text = page(client.get(path))
        assert "MARQUEURCAF" not in text and "MARQUEURSANTE" not in text


def test_a_document_is_reached_only_through_its_own_household(make_client, world):
    landlord = _as(make_client, world, "bailleur")
    # Another landlord's tenant: outside the scope.
    assert landlord.get(_url(world.other_household, world.other)).status_code == 404
    # Its id under a household in scope: not found either.
    assert landlord.get(_url(world.household, world.other)).status_code == 404
    other = _as(make_client, world, "autre_bailleur")
    assert other.get(_url(world.other_household, world.other)).status_code == 200
    assert other.get(_url(world.household, world.document)).status_code == 404
    other_worker = _as(make_client, world, "autre_travailleur_social")
    assert other_worker.get(_url(world.household, world.caf)).status_code == 404


def test_landlord_staff_upload_only_landlord_categories(make_client, world):
    client = _as(make_client, world, "bailleur")
    form = page(client.get(f"/menages/{world.household.id}/documents"))
    assert 'value="assurance"' in form and 'value="ressources"' not in form
    refused = upload(client, world.household, [(PDF_BYTES + b"r", "r.pdf")], category="ressources")
    assert refused.status_code == 400
    refused = upload(client, world.household, [(PDF_BYTES + b"s", "s.pdf")], category="sante")
    assert refused.status_code == 400
    before = len(documents())
    done = upload(client, world.household, [(PDF_BYTES + b"a", "a.pdf")], category="bail")
    assert done.status_code == 302 and len(documents()) == before + 1


def test_a_link_must_be_a_record_of_the_same_household(make_client, world):
    client = _as(make_client, world, "travailleur_social")
    good = upload(
        client,
        world.household,
        [(PDF_BYTES + b"v", "v.pdf")],
        link=f"intervention:{world.intervention.id}",
    )
    assert good.status_code == 302
    assert (documents()[-1].link_kind, documents()[-1].link_id) == (
        "intervention",
        world.intervention.id,
    )
    foreign = upload(
        client,
        world.household,
        [(PDF_BYTES + b"w", "w.pdf")],
        link=f"occupancy:{world.other_occupancy.id}",
    )
    assert foreign.status_code == 400
    # Landlord staff are not offered the visits.
    landlord = _as(make_client, world, "bailleur")
    refused = upload(
        landlord,
        world.household,
        [(PDF_BYTES + b"x", "x.pdf")],
        link=f"intervention:{world.intervention.id}",
    )
    assert refused.status_code == 400


def test_every_download_is_in_the_journal_with_safe_headers(make_client, world):
    client = _as(make_client, world, "bailleur")
    response = client.get(_url(world.household, world.document))
    assert response.data.startswith(b"%PDF-")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''attestation.pdf" in response.headers["Content-Disposition"]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "document.downloaded")
    ).all()
    assert [(e.actor_id, e.household_id, e.target_id) for e in entries] == [
        (world.users["bailleur"].id, world.household.id, world.document.id)
    ]


def test_office_documents_are_downloaded_never_shown_inline(make_client, world):
    from tests.documents.helpers import docx

    client = _as(make_client, world, "travailleur_social")
    upload(client, world.household, [(docx(), "contrat signé.docx")], category="contrat")
    response = client.get(_url(world.household, documents()[-1]))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''contrat%20sign%C3%A9.docx" in disposition


def test_replacing_keeps_the_earlier_version(make_client, world):
    client = _as(make_client, world, "bailleur")
    path = _url(world.household, world.document) + "/remplacer"
    form = page(client.get(path))
    assert 'name="expected_version"' in form
    response = client.post(
        path,
        data={
            "expected_version": str(world.document.version),
            "title": "Assurance 2027",
            "valid_until": "2027-06-30",
            "files": [(io.BytesIO(PDF_BYTES + b"2027"), "assurance-2027.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    old, new = (d for d in documents() if d.lineage_id == world.document.id)
    assert old.replaced_at is not None and new.previous_id == old.id
    assert new.version_number == 2 and new.title == "Assurance 2027"
    listing = page(client.get(f"/menages/{world.household.id}/documents"))
    assert "Versions précédentes (1)" in listing
    assert client.get(_url(world.household, old)).data == PDF_BYTES
    # A second replacement of the old version is refused.
    again = client.post(
        path,
        data={
            "expected_version": str(old.version),
            "files": [(io.BytesIO(PDF_BYTES + b"bis"), "bis.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert again.status_code == 200
    assert len([d for d in documents() if d.lineage_id == world.document.id]) == 2


def test_soft_delete_with_a_reason_by_the_uploader_or_a_coordinator(make_client, world):
    landlord = _as(make_client, world, "bailleur")
    path = _url(world.household, world.document) + "/supprimer"
    assert landlord.get(path).status_code == 403  # not the uploader
    worker = _as(make_client, world, "travailleur_social")
    no_reason = worker.post(path, data={"expected_version": str(world.document.version)})
    assert no_reason.status_code == 200 and "Indiquez la raison" in page(no_reason)
    stale = worker.post(path, data={"expected_version": "99", "reason": "Doublon"})
    assert stale.status_code == 200
    done = worker.post(
        path, data={"expected_version": str(world.document.version), "reason": "Doublon"}
    )
    assert done.status_code == 302
    db.session.refresh(world.document)
    assert world.document.deleted_at is not None and world.document.delete_reason == "Doublon"
    assert landlord.get(_url(world.household, world.document)).status_code == 404
    listing = page(landlord.get(f"/menages/{world.household.id}/documents"))
    assert f'{_url(world.household, world.document)}"' not in listing
    assert "Aucun document pour l'instant." in listing
    coordinator = _as(make_client, world, "coordinateur")
    path = _url(world.household, world.caf) + "/supprimer"
    done = coordinator.post(
        path, data={"expected_version": str(world.caf.version), "reason": "Erreur"}
    )
    assert done.status_code == 302
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "document.deleted")
    ).all()
    assert len(actions) == 2
