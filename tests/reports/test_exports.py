"""Indicator and caseload exports: Excel-friendly CSV, XLSX, audited, no personal data in the
indicators, small counts masked."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from tests.conftest import page
from tests.reports.test_indicators import shown_figures

QUERY = "debut=2025-01-01&fin=2025-06-30"


def _exports():
    return [
        e.details
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.export"))
    ]


def _personal_data(programme) -> list[str]:
    values = []
    for household in [*programme.households.values(), programme.other]:
        values += [household.reference, household.head.last_name]
    return [*values, programme.w1.full_name, programme.w2.full_name]


def test_indicators_csv(client, programme):
    client.login(programme.coordinator)
    response = client.get(f"/pilotage/indicateurs/export.csv?{QUERY}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Rubrique", "Indicateur", "Valeur", "Unité"]
    values = {row[1]: row[2] for row in rows if len(row) == 4}
    assert values["Entrées en accompagnement"] == "3"
    assert values["Ménages accompagnés dans la période"] == "6"
    # Small counts in categories are masked; totals are not.
    assert values["Prioritaire DALO"] == "< 5"
    assert values["Sortie de rue"] == "0"
    # A mean or a median computed on 3 households only: masked.
    assert values["Durée moyenne (jours)"] == "masqué (moins de 5 ménages)"
    assert values["Durée médiane (jours)"] == "masqué (moins de 5 ménages)"
    for personal in _personal_data(programme):
        assert personal not in text
    assert _exports() == [{"kind": "indicators", "format": "csv", "rows": len(rows) - 3}]


def test_indicators_xlsx_has_the_figures_of_the_page(client, programme):
    client.login(programme.coordinator)
    shown = shown_figures(page(client.get(f"/pilotage/indicateurs?{QUERY}")))
    response = client.get(f"/pilotage/indicateurs/export.xlsx?{QUERY}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["Indicateurs"]
    exported = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert exported["Entrées en accompagnement"] == 3 == int(shown["entries"])
    assert exported["Sorties d'accompagnement"] == 3 == int(shown["exits"])
    assert exported["Ménages accompagnés à la fin de la période"] == 3
    # A real fraction shown as a percentage: 0.2 with the format 0.0% reads "20,0 %".
    assert exported["Part de l'objectif atteinte"] == 0.2
    assert shown["target_share"] == "20,0\u00a0%"
    share = next(row for row in sheet.iter_rows(min_row=2) if row[1].value.startswith("Part de"))
    assert (share[2].number_format, share[3].value) == ("0.0%", None)
    period = {row[1].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert period["Du"].value == datetime(2025, 1, 1)
    assert period["Du"].number_format == "dd/mm/yyyy"
    assert exported["Contacts dans la période"] == 7 == int(shown["contacts"])
    assert exported["Dette totale à la sortie"] == "masqué (moins de 5 ménages)"
    months = {
        row[0]: row[1:] for row in workbook["Par mois"].iter_rows(min_row=2, values_only=True)
    }
    assert months[datetime(2025, 6, 1)] == (1, 0, "< 5", "< 5 ménages")
    assert months[datetime(2025, 4, 1)] == (0, 0, 0, 0)
    for month, *_counts, debt in workbook["Par mois"].iter_rows(min_row=2):
        assert month.number_format == "mm/yyyy"
        assert debt.number_format == ('#,##0.00 "€"' if debt.data_type == "n" else "General")
    cells = " ".join(
        str(value) for ws in workbook for row in ws.iter_rows(values_only=True) for value in row
    )
    for personal in _personal_data(programme):
        assert personal not in cells
    assert _exports()[0]["format"] == "xlsx"


def test_masking_threshold_is_configurable(client, programme, app):
    app.config["INDICATORS_SMALL_COUNT"] = 1
    client.login(programme.coordinator)
    text = client.get(f"/pilotage/indicateurs/export.csv?{QUERY}").get_data().decode("utf-8-sig")
    values = {
        row[1]: row[2] for row in csv.reader(io.StringIO(text), delimiter=";") if len(row) == 4
    }
    assert values["Prioritaire DALO"] == "1"
    assert values["Durée moyenne (jours)"] == "142,7"
    assert values["Durée médiane (jours)"] == "136,0"


def test_caseload_exports(client, caseload):
    client.login(caseload.coordinator)
    response = client.get(f"/pilotage/menages/export.csv?referent={caseload.w2.id}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Référence", "Projet", "Référent·e"]
    assert [row[0] for row in rows[1:]] == ["C-K3", "C-K4", "C-K7", "C-K8", "C-K9"]
    assert {row[2] for row in rows[1:]} == {"Zoé Deux"}
    k7 = next(row for row in rows if row[0] == "C-K7")
    assert k7[-1] == "oui"  # rising arrears
    assert all(caseload.households["K7"].head.last_name not in ";".join(r) for r in rows)
    response = client.get("/pilotage/menages/export.xlsx?indicateur=impayes")
    sheet = load_workbook(io.BytesIO(response.get_data()))["Ménages"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["C-K7", "C-K9"]
    assert _exports() == [
        {"kind": "caseload", "format": "csv", "rows": 5, "filter": "menages"},
        {"kind": "caseload", "format": "xlsx", "rows": 2, "filter": "impayes"},
    ]


def test_the_caseload_export_is_sent_as_it_is_read(client, caseload, monkeypatch):
    """A département's caseload is never whole in memory: the rows are read from the database
    in batches while the file is sent, in chunks (CSV) or from openpyxl's write-only file."""
    from app.reports import caseloads, views_exports

    monkeypatch.setattr(caseloads, "EXPORT_BATCH", 2)
    monkeypatch.setattr(views_exports, "CHUNK_BYTES", 200)
    client.login(caseload.coordinator)
    response = client.get("/pilotage/menages/export.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) > 2  # sent in several pieces, not one built file
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig")), delimiter=";"))
    buffered = client.get("/pilotage/menages/export.csv").get_data().decode("utf-8-sig")
    assert rows == list(csv.reader(io.StringIO(buffered), delimiter=";"))
    assert len(rows) - 1 == _exports()[0]["rows"] > 2
    response = client.get("/pilotage/menages/export.xlsx", buffered=False)
    assert response.is_streamed
    content = b"".join(response.response)
    response.close()
    sheet = load_workbook(io.BytesIO(content))["Ménages"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [r[0] for r in rows[1:]]


def test_exports_ask_for_the_password_again_after_a_while(client, programme):
    client.login(programme.coordinator)
    with client.session_transaction() as session:
        session["auth_fresh_at"] = 0
    response = client.get(f"/pilotage/indicateurs/export.xlsx?{QUERY}")
    assert response.status_code == 302
    assert "/mon-compte/confirmer" in response.headers["Location"]
    assert _exports() == []


def test_an_invalid_period_exports_nothing(client, programme):
    client.login(programme.coordinator)
    response = client.get("/pilotage/indicateurs/export.csv?debut=2025-06-30&fin=2025-01-01")
    assert response.status_code == 302
    assert _exports() == []
