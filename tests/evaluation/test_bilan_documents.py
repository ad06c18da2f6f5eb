"""The bilan's documents: the DOCX opens with python-docx and holds the texts, the tables
(year and previous year) and the charts as images with their alt text; LibreOffice converts
it to PDF; the WeasyPrint PDF holds the same charts and tables and fetches nothing remote."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.evaluation import documents

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _write_texts(client, project):
    for section, text in (
        ("contexte", "Une année de montée en charge."),
        ("faits_marquants", "Premier glissement de bail."),
        ("difficultes", "Peu de logements T2."),
        ("perspectives", "Ouvrir dix places."),
    ):
        response = client.post(
            f"/evaluation/bilan/projet/{project.id}/2026/{section}",
            data={"text": text, "expected_version": "0"},
        )
        assert response.status_code == 302


def _download(client, project, fmt):
    response = client.get(f"/evaluation/bilan/projet/{project.id}/2026/bilan.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="bilan-projet-{project.id}-2026.{fmt}"'
    )
    return response


def _docx_rows(document) -> dict[str, list[str]]:
    return {
        row.cells[0].text: [cell.text for cell in row.cells[1:]]
        for table in document.tables
        for row in table.rows
    }


def test_the_docx_holds_the_texts_the_tables_and_the_charts(client, bilan_world):
    client.login(bilan_world.coordinator)
    _write_texts(client, bilan_world.a)
    response = _download(client, bilan_world.a, "docx")
    assert response.mimetype == DOCX
    document = Document(io.BytesIO(response.data))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Bilan annuel 2026" and "Projet A" in paragraphs
    for heading, text in (
        ("Contexte", "Une année de montée en charge."),
        ("Faits marquants", "Premier glissement de bail."),
        ("Difficultés", "Peu de logements T2."),
        ("Perspectives", "Ouvrir dix places."),
    ):
        assert paragraphs[paragraphs.index(heading) + 1] == text
    assert "Adéquation aux publics visés" in paragraphs and "Cofinancements et coûts" in paragraphs
    rows = _docx_rows(document)
    assert rows[""] in (
        ["Ménages 2026", "Ménages 2025"],
        ["Montant accordé 2026", "Montant accordé 2025"],
    )
    # As on the page: 6 (masked: 8 − 6 = 2) / 3 masked, 2 masked / 0, total 8 / 3 masked;
    # amounts as they are.
    assert rows["Maintien"] == ["masqué", "< 5"]
    assert rows["Accès"] == ["< 5", "0"]
    assert rows["Total"] == ["8", "< 5"]
    assert rows["État (FNAVDL)"] == ["12\u202f000\u00a0€", "10\u202f000\u00a0€"]
    assert rows["CAF"] == ["3\u202f000,50\u00a0€", "—"]
    # Two charts (households: 2 rows without the total; budget: 2 rows), with alt text.
    shapes = document.inline_shapes
    assert len(shapes) == 2
    descriptions = [shape._inline.docPr.get("descr") for shape in shapes]
    assert any("Maintien : masqué en 2026, < 5 en 2025" in d for d in descriptions)
    assert any(p.startswith("« < 5 » : un effectif de 1 à 4 ménages") for p in paragraphs)
    assert any("Version des définitions :" in p for p in paragraphs)
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bilan.downloaded"))
    assert [entry.details["format"] for entry in logged] == ["docx"]


@pytest.fixture
def soffice() -> str:
    """LibreOffice with Writer (its ``libswlo`` library: the Calc-only install of the export
    tests cannot open a DOCX)."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    program = Path(path).resolve().parent if path else None
    if program is None or not list(program.glob("libswlo.*")):
        message = (
            "LibreOffice Writer est absent (soffice sans libswlo) : "
            "apt-get install libreoffice-writer-nogui."
        )
        if os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1" or os.environ.get("CI"):
            pytest.fail(message + " (REQUIRE_DEPLOY_TOOLS=1 ou CI interdit de sauter ce test)")
        pytest.skip(message)
    return path


def test_libreoffice_converts_the_docx_to_a_pdf_with_its_charts(
    client, bilan_world, soffice, tmp_path
):
    client.login(bilan_world.coordinator)
    _write_texts(client, bilan_world.a)
    source = tmp_path / "bilan.docx"
    source.write_bytes(_download(client, bilan_world.a, "docx").data)
    out = tmp_path / "pdf"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        timeout=180,
        capture_output=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = (out / "bilan.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # The two charts came through as images.
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= 2


def _layout_text(html: str) -> str:
    """The text WeasyPrint laid out on the PDF's pages (what the PDF shows)."""
    from weasyprint import HTML

    rendered = HTML(string=html, url_fetcher=documents.data_only_fetcher()).render()
    texts = []
    for page_ in rendered.pages:
        for box in page_._page_box.descendants():
            if hasattr(box, "text"):
                texts.append(box.text)
    return " ".join(texts)


def test_the_weasyprint_pdf_has_the_charts_and_the_tables(client, bilan_world, app):
    client.login(bilan_world.coordinator)
    _write_texts(client, bilan_world.a)
    pdf = _download(client, bilan_world.a, "pdf").data
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) == 2
    # The same document laid out: the texts and the table cells are on the pages.
    from app.evaluation import views_bilan

    with app.test_request_context():
        doc = views_bilan._document(
            [bilan_world.a], 2026, subject="Projet A", file_stem="x", per_project=False
        )
        text = _layout_text(documents.pdf_html(doc))
    for expected in (
        "Bilan annuel 2026",
        "Une année de montée en charge.",
        "Ouvrir dix places.",
        "Ménages 2026",
        "Ménages 2025",
        "Maintien",
        "< 5",
        "12\u202f000\u00a0€",
        "Version des définitions",
    ):
        assert expected in text, expected


def test_weasyprint_fetches_nothing_but_our_data_uris():
    fetcher = documents.data_only_fetcher()
    for url in ("http://example.org/logo.png", "https://example.org/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"


def test_the_document_file_names_carry_no_personal_data(client, bilan_world):
    client.login(bilan_world.coordinator)
    response = client.get("/evaluation/bilan/association/2026/bilan.docx")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="bilan-association-{bilan_world.association.id}-2026.docx"'
    )
    document = Document(io.BytesIO(response.data))
    names = [p.text for p in document.paragraphs]
    # One heading per project (A and C), never B.
    assert "Projet A" in names and "Projet C" in names and "Projet B" not in " ".join(names)


def test_a_text_pasted_from_a_word_processor_still_makes_a_word_document(client, bilan_world):
    """A vertical tab (a word processor's line break) and other control characters cannot be
    in a Word document: the line break is kept as one, the rest dropped, the DOCX made."""
    client.login(bilan_world.coordinator)
    response = client.post(
        f"/evaluation/bilan/projet/{bilan_world.a.id}/2026/contexte",
        data={"text": "Première ligne\x0bDeuxième\x01 ligne", "expected_version": "0"},
    )
    assert response.status_code == 302
    document = Document(io.BytesIO(_download(client, bilan_world.a, "docx").data))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[paragraphs.index("Contexte") + 1] == "Première ligne\nDeuxième ligne"
