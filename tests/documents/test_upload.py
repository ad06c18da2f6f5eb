"""Uploading documents: content sniffing, limits checked before anything is stored, photos
downscaled and stripped, odd names harmless, the same content stored once."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image

from app.documents.content import DOCX, JPEG, PDF, PNG, display_name, sniff
from tests.conftest import page
from tests.documents.helpers import (
    PDF_BYTES,
    document_count,
    documents,
    docx,
    jpeg_with_exif,
    png,
    stored_files,
    upload,
)
from tests.world import build_world


@pytest.fixture
def world(app):
    w = build_world()
    w.before = document_count()  # the world's own insurance certificate
    return w


def _worker(client, w):
    client.login(w.users["travailleur_social"])
    return client


def test_an_executable_named_pdf_is_refused_by_name_and_nothing_is_stored(client, world):
    files_before = stored_files()
    response = upload(_worker(client, world), world.household, [(b"MZ\x90\x00" * 50, "caf.pdf")])
    assert response.status_code == 400
    text = page(response)
    assert "« caf.pdf » est un programme" in text
    assert "Rien n'a été enregistré" in text
    assert document_count() == world.before
    assert stored_files() == files_before


def test_an_elf_or_unknown_content_is_refused_whatever_its_name(client, world):
    response = upload(_worker(client, world), world.household, [(b"\x7fELF" + b"\0" * 60, "a.png")])
    assert response.status_code == 400 and "est un programme" in page(response)
    response = upload(client, world.household, [(b"<html><script>", "lettre.pdf")])
    assert response.status_code == 400 and "n'est pas d'un type accepté" in page(response)
    assert document_count() == world.before


def test_a_png_and_a_docx_are_accepted_with_their_detected_type(client, world):
    response = upload(
        _worker(client, world),
        world.household,
        [(png(), "photo.bin"), (docx(), "contrat.docx")],
        title="",
    )
    assert response.status_code == 302
    added = documents()[world.before :]
    assert [(d.content_type, d.original_name) for d in added] == [
        (PNG, "photo.bin"),
        (DOCX, "contrat.docx"),
    ]
    assert [d.title for d in added] == ["photo", "contrat"]


def test_sniffing_reads_the_bytes_only():
    assert sniff(PDF_BYTES) == PDF
    assert sniff(png()) == PNG
    assert sniff(docx()) == DOCX
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(b"\0\0\0\x18ftypheic") == "image/heic"
    assert sniff(b"PK\x03\x04 not a zip") is None
    assert sniff(b"MZ") is None


def test_a_large_photo_is_downscaled_turned_and_stripped_of_its_exif(client, world):
    response = upload(_worker(client, world), world.household, [(jpeg_with_exif(), "p.jpg")])
    assert response.status_code == 302
    document = documents()[-1]
    assert document.content_type == JPEG
    data = client.get(f"/menages/{world.household.id}/documents/{document.id}").data
    image = Image.open(io.BytesIO(data))
    assert image.size == (1000, 2000)  # turned upright (orientation 6), longer side 2000
    assert b"TelephoneSecret" not in data
    assert not image.getexif()


def test_a_decompression_bomb_is_refused(client, world):
    bomb = png(9000, 9000, (0, 0, 0))  # 81 Mpx, above the 60 Mpx bound; tiny compressed
    response = upload(_worker(client, world), world.household, [(bomb, "bombe.png")])
    assert response.status_code == 400
    assert "beaucoup trop grande" in page(response)
    assert document_count() == world.before


def test_a_file_over_the_size_limit_is_refused_before_anything_is_stored(app, client, world):
    app.config["DOCUMENTS_MAX_BYTES"] = 1000
    files_before = stored_files()
    response = upload(
        _worker(client, world),
        world.household,
        [(PDF_BYTES, "petit.pdf"), (PDF_BYTES + b"x" * 2000, "gros.pdf")],
    )
    assert response.status_code == 400
    assert "« gros.pdf » dépasse la taille autorisée" in page(response)
    assert document_count() == world.before
    assert stored_files() == files_before  # not even the small one


def test_too_many_files_at_once_are_refused_before_anything_is_stored(app, client, world):
    app.config["DOCUMENTS_MAX_FILES"] = 2
    files_before = stored_files()
    response = upload(
        _worker(client, world),
        world.household,
        [(PDF_BYTES + bytes([n]), f"{n}.pdf") for n in range(3)],
    )
    assert response.status_code == 400
    assert "au plus 2 fichiers" in page(response)
    assert document_count() == world.before
    assert stored_files() == files_before


def test_a_request_body_over_the_upload_bound_gets_the_413_page(app, client, world):
    app.config["DOCUMENTS_MAX_REQUEST_BYTES"] = 2000
    response = upload(_worker(client, world), world.household, [(b"%PDF-" + b"x" * 200_000, "a")])
    assert response.status_code == 413
    assert document_count() == world.before


def test_the_same_content_uploaded_twice_is_stored_once(client, world):
    content = PDF_BYTES + b"% unique"
    _worker(client, world)
    upload(client, world.household, [(content, "a.pdf")])
    upload(client, world.household, [(content, "b.pdf")])
    digest = hashlib.sha256(content).hexdigest()
    assert stored_files().count(digest) == 1
    assert [d.sha256 for d in documents()[-2:]] == [digest, digest]


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\boot.ini",
        'a"b\r\nContent-Type: text/html.pdf',
        "reçu été ✓.pdf",
    ],
)
def test_odd_file_names_are_only_displayed_never_used_as_paths(client, world, name):
    response = upload(_worker(client, world), world.household, [(PDF_BYTES, name)], title="")
    assert response.status_code == 302
    document = documents()[-1]
    assert "/" not in document.original_name and "\\" not in document.original_name
    assert "\n" not in document.original_name and '"' not in document.original_name
    assert all(len(f) == 64 for f in stored_files())  # only hashes on disk
    download = client.get(f"/menages/{world.household.id}/documents/{document.id}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition
    assert disposition.count('"') == 2
    assert f"/documents/{document.id}" in page(
        client.get(f"/menages/{world.household.id}/documents")
    )


def test_display_names():
    assert display_name("../../etc/passwd", PDF) == "passwd.pdf"
    assert display_name("", PNG) == "document.png"
    assert display_name("C:\\Users\\x\\scan.jpg", JPEG) == "scan.jpg"
    assert display_name("été.pdf", PDF) == "été.pdf"


def test_the_form_offers_the_camera_and_the_files(client, world):
    text = page(_worker(client, world).get(f"/menages/{world.household.id}/documents"))
    assert 'name="photos"' in text and 'capture="environment"' in text
    assert 'name="files"' in text and "multiple" in text
    assert 'enctype="multipart/form-data"' in text


def test_an_upload_sent_by_the_progress_script_keeps_its_message_for_the_tab(client, world):
    """documents.js sends the upload itself: answered 201 with the tab's address (no
    redirect its request would follow), the tab it then opens shows "ajouté"."""
    _worker(client, world)
    data = {"category": "assurance", "files": [(io.BytesIO(png()), "a.png")]}
    response = client.post(
        f"/menages/{world.household.id}/documents",
        data=data,
        content_type="multipart/form-data",
        headers={"X-Ancrage-Upload": "1"},
    )
    assert response.status_code == 201
    assert response.headers["Location"] == f"/menages/{world.household.id}/documents"
    assert "1 document(s) ajouté(s)." in page(client.get(response.headers["Location"]))


def test_the_same_upload_posted_twice_records_once(client, world):
    _worker(client, world)
    tab = f"/menages/{world.household.id}/documents"
    key = re.search(r'name="submission_key"[^>]*value="([0-9a-f]{32})"', page(client.get(tab)))[1]
    first = upload(client, world.household, [(png(), "a.png")], submission_key=key)
    assert first.status_code == 302
    again = upload(client, world.household, [(png(), "a.png")], submission_key=key)
    assert again.status_code == 302 and again.location == tab
    assert "Cette saisie a déjà été enregistrée." in page(client.get(again.location))
    assert document_count() == world.before + 1
