"""The bilan as documents: DOCX (python-docx, what funders and associations exchange and edit)
and PDF (WeasyPrint, from ``templates/evaluation/bilan/document.html``). Same content in
both: a title page, the four text sections, each axis with its tables (the year and the
previous year side by side) and their charts as images, then a note on the definitions with
their version and on masked cells ("< 5", as on the page).

WeasyPrint never reaches the network: its ``url_fetcher`` accepts only ``data:`` URIs (the
charts are embedded as such) and refuses anything else. The fonts are the system's (DejaVu).
File names say the project (its id) or the association and the year, never a person.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.shared import Cm, Pt
from flask import render_template

from app.evaluation.bilan import Bilan, plain_text
from app.evaluation.charts import Chart
from app.formatting import format_date

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"


@dataclass(frozen=True)
class TextBlock:
    heading: str | None  # the project's name in an association's bilan, else None
    sections: tuple[tuple[str, str], ...]  # (section label, text)


@dataclass(frozen=True)
class BilanDocument:
    subject: str  # "Projet A" or "Association X"
    detail: str  # the projects covered
    bilan: Bilan
    texts: tuple[TextBlock, ...]
    charts: dict[str, Chart]
    definitions_version: str
    written_on: date
    file_stem: str  # "bilan-projet-12-2026"

    @property
    def title(self) -> str:
        return f"Bilan annuel {self.bilan.year}"

    @property
    def mask_note(self) -> str:
        threshold = self.bilan.threshold
        return (
            f"« < {threshold} » : un effectif de 1 à {threshold - 1} ménages, masqué pour "
            "qu'aucun ménage ne puisse être reconnu (comme dans les exports). "
            "« masqué » : un effectif qui permettrait de retrouver un effectif masqué à partir "
            "des totaux, ou un montant, un taux, une durée portant sur un effectif masqué. "
            "« — » : valeur sans objet ou non calculable."
        )


def column_headers(bilan: Bilan, table) -> list[str]:
    headers = [""]
    for column in table.columns:
        headers += [f"{column.label} {bilan.year}", f"{column.label} {bilan.previous_year}"]
    return headers


# --- DOCX ---------------------------------------------------------------------------------


def _paragraphs(document, text: str) -> None:
    text = plain_text(text)  # a text saved before the rule, too
    if not text:
        document.add_paragraph("Section non rédigée.").runs[0].italic = True
        return
    for block in text.split("\n\n"):
        paragraph = document.add_paragraph()
        lines = block.split("\n")
        for i, line in enumerate(lines):
            run = paragraph.add_run(line)
            if i < len(lines) - 1:
                run.add_break(WD_BREAK.LINE)


def _docx_table(document, bilan: Bilan, table) -> None:
    headers = column_headers(bilan, table)
    grid = document.add_table(rows=1, cols=len(headers))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, headers, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in table.rows:
        values = [row.label]
        for cell in row.cells:
            values += [cell.text, cell.previous]
        cells = grid.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
            if row.is_total:
                cell.paragraphs[0].runs[0].bold = True
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)


def _docx_chart(document, chart: Chart) -> None:
    document.add_picture(io.BytesIO(chart.png), width=Cm(16))
    # The image's description (its alt text for screen readers and Word's "Texte de
    # remplacement").
    inline = document.inline_shapes[-1]._inline
    inline.docPr.set("descr", chart.alt)
    inline.docPr.set("title", chart.alt[:120])
    caption = document.add_paragraph(chart.alt)
    caption.runs[0].italic = True
    caption.runs[0].font.size = Pt(8)


def docx_bytes(doc: BilanDocument) -> bytes:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Cm(2)
    properties = document.core_properties
    properties.title = f"{doc.title} — {doc.subject}"
    properties.author = "Ancrage"
    properties.last_modified_by = "Ancrage"
    properties.comments = ""

    document.add_heading(doc.title, level=0)
    document.add_paragraph(doc.subject).runs[0].bold = True
    document.add_paragraph(doc.detail)
    document.add_paragraph(
        f"Année {doc.bilan.year}, comparée à {doc.bilan.previous_year}. "
        f"Document établi le {format_date(doc.written_on)}."
    )
    document.add_page_break()

    for block in doc.texts:
        if block.heading:
            document.add_heading(block.heading, level=1)
        for label, text in block.sections:
            document.add_heading(label, level=2 if block.heading else 1)
            _paragraphs(document, text)

    for axis_label, tables in doc.bilan.by_axis():
        document.add_heading(axis_label, level=1)
        for table in tables:
            document.add_heading(table.title, level=2)
            _docx_table(document, doc.bilan, table)
            for note in table.notes:
                document.add_paragraph(note)
            if table.key in doc.charts:
                _docx_chart(document, doc.charts[table.key])
    if not doc.bilan.tables:
        document.add_paragraph("Aucun tableau d'évaluation n'est encore disponible.")

    document.add_heading("Définitions", level=1)
    document.add_paragraph(
        "Chaque tableau est défini dans la documentation des indicateurs d'Ancrage "
        f"(partie « Évaluation »). Version des définitions : {doc.definitions_version}."
    )
    document.add_paragraph(doc.mask_note)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- PDF ----------------------------------------------------------------------------------

PDF_CSS = """
@page { size: A4; margin: 18mm 16mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #1b1b1b; }
h1 { font-size: 22pt; margin: 0 0 8mm; }
h2 { font-size: 14pt; margin: 8mm 0 3mm; break-after: avoid; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; break-after: avoid; }
.title-page { break-after: page; padding-top: 60mm; }
.subject { font-size: 14pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 8.5pt; }
th, td { border: 0.5pt solid #8a8a8a; padding: 1mm 1.5mm; text-align: left; }
td.num, th.num { text-align: right; }
tr.total th, tr.total td { font-weight: bold; }
td.previous { color: #4a4a4a; }
figure { margin: 2mm 0 4mm; break-inside: avoid; }
figure img { width: 100%; }
figcaption { font-size: 8pt; font-style: italic; }
.empty { font-style: italic; }
p.text { white-space: pre-line; }
"""


def data_only_fetcher():
    """WeasyPrint's fetcher: our own ``data:`` URIs only (the charts), never the network or
    a file; anything else raises ``ValueError`` and is left out of the document."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def pdf_html(doc: BilanDocument) -> str:
    return render_template(
        "evaluation/bilan/document.html",
        doc=doc,
        headers=column_headers,
        images={key: data_uri(chart) for key, chart in doc.charts.items()},
    )


def pdf_bytes(doc: BilanDocument) -> bytes:
    from weasyprint import CSS, HTML

    fetcher = data_only_fetcher()
    html = HTML(string=pdf_html(doc), url_fetcher=fetcher)
    return html.write_pdf(stylesheets=[CSS(string=PDF_CSS, url_fetcher=fetcher)])
