"""Every export the app offers, opened by LibreOffice as a person in France would open it:
each figure is a number or a date, never text that looks like one.

The demo's coordinator downloads each CSV and XLSX export through its route. LibreOffice
headless (``soffice``) converts each file to XLSX — a CSV read as French Calc reads it
(semicolon, UTF-8, fr-FR locale: decimal comma) — and openpyxl reads back the cell types
LibreOffice gave. A cell LibreOffice kept as text must not look like a figure (digits with a
decimal comma, a date); masked small counts (``< 5``) are text on purpose.

LibreOffice is optional on a developer's machine: skipped, saying so, when ``soffice`` is
missing; a failure instead under ``REQUIRE_DEPLOY_TOOLS=1`` or ``CI`` (.ci/run installs
libreoffice-calc-nox)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.formatting import today_paris
from app.users.models import User

COORDINATOR = "coordination@traitdunion.demo"
# What a person would take for a figure: 12, -3, 1234,56, 1 234,5, 95,6 %, 12/03/2026, 2026-03.
LOOKS_LIKE_A_FIGURE = re.compile(
    r"^\s*-?[\d\s\u00a0\u202f]*\d([.,]\d+)?\s*[%€]?\s*$|^\d{1,4}[/-]\d{1,2}([/-]\d{1,4})?$"
)
# CSV import filter: separator ; (59), text delimiter " (34), UTF-8 (76), from line 1, default
# column types, language fr-FR (1036).
CSV_FILTER = "CSV:59,34,76,1,,1036"


@pytest.fixture
def soffice() -> str:
    """LibreOffice's binary; asked first by the tests, before the demo is loaded."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        message = "LibreOffice (soffice) not found: apt-get install libreoffice-calc-nox."
        if os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1" or os.environ.get("CI"):
            pytest.fail(message + " (REQUIRE_DEPLOY_TOOLS=1 or CI forbids skipping)")
        pytest.skip(message)
    return path


def open_in_libreoffice(binary: str, files: list[Path], work: Path) -> dict[str, Path]:
    """Convert the files to XLSX with one LibreOffice run per kind (its own profile, so no
    lock is shared with another run or a desktop session); returns name → converted file."""
    out = work / "converted"
    out.mkdir()
    profile = (work / "profile").as_uri()
    env = {**os.environ, "HOME": str(work)}
    for suffix, extra in ((".csv", [f"--infilter={CSV_FILTER}"]), (".xlsx", [])):
        chosen = [str(f) for f in files if f.suffix == suffix]
        if not chosen:
            continue
        subprocess.run(
            [
                binary,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                *extra,
                "--convert-to",
                "xlsx:Calc MS Excel 2007 XML",
                "--outdir",
                str(out / suffix.strip(".")),
                *chosen,
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=300,
        )
    return {f.name: out / f.suffix.strip(".") / f"{f.stem}.xlsx" for f in files}


def export_routes(app) -> set[str]:
    """The spreadsheet exports people open: a route ending in ``export.<format>``. The
    national evaluation's data package (``export.zip``: CSV with a decimal point and its
    datapackage.json, read by programs) is checked by tests/evaluation/test_national_export.py."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "/export.<" in rule.rule and "GET" in rule.methods
    }


EXPORTS = {
    "reports.export_indicators": "/pilotage/indicateurs/export.{fmt}",
    "reports.export_caseload": "/pilotage/menages/export.{fmt}",
    "reports.export_tenancies": "/logements/export.{fmt}",
}
# Exports downloaded by another demo account than the coordinator.
LANDLORD = "gestion@rhonehabitat.demo"
EXPORT_USERS = {"reports.export_tenancies": LANDLORD}


def test_every_figure_of_every_export_is_a_number_or_a_date_in_libreoffice(
    soffice, app, client, make_client, demo_data, tmp_path
):
    binary = soffice
    assert export_routes(app) == set(EXPORTS), "a new export: add it to EXPORTS"
    from app.db import db

    client.login(db.session.scalar(select(User).where(User.email == COORDINATOR)), DEMO_PASSWORD)
    clients = {COORDINATOR: client}
    for email in set(EXPORT_USERS.values()):
        clients[email] = make_client()
        clients[email].login(
            db.session.scalar(select(User).where(User.email == email)), DEMO_PASSWORD
        )
    files = []
    for endpoint, path in EXPORTS.items():
        for fmt in ("csv", "xlsx"):
            response = clients[EXPORT_USERS.get(endpoint, COORDINATOR)].get(path.format(fmt=fmt))
            assert response.status_code == 200, (endpoint, fmt, response.status_code)
            file = tmp_path / f"{endpoint.split('.')[-1]}.{fmt}"
            file.write_bytes(response.get_data())
            files.append(file)
    converted = open_in_libreoffice(binary, files, tmp_path)

    problems, figures = [], {}
    for file in files:
        workbook = load_workbook(io.BytesIO(converted[file.name].read_bytes()))
        numbers = dates = 0
        for sheet in workbook:
            for row in sheet.iter_rows(min_row=2):  # row 1: the column titles
                for cell in row:
                    if isinstance(cell.value, datetime):
                        dates += 1
                    elif isinstance(cell.value, int | float):
                        numbers += 1
                    elif isinstance(cell.value, str) and LOOKS_LIKE_A_FIGURE.match(cell.value):
                        problems.append(
                            f"{file.name} {sheet.title}!{cell.coordinate}: {cell.value!r}"
                        )
        figures[file.name] = (numbers, dates)
    assert not problems, "figures LibreOffice reads as text:\n" + "\n".join(problems)
    # The demo's exports hold figures and dates, read as such in both formats.
    for name, (numbers, dates) in figures.items():
        assert numbers >= 5 and dates >= 2, (name, numbers, dates)
    assert figures["export_indicators.csv"] == figures["export_indicators.xlsx"]
    assert figures["export_caseload.csv"] == figures["export_caseload.xlsx"]
    assert figures["export_tenancies.csv"] == figures["export_tenancies.xlsx"]


def test_the_monthly_debt_reads_as_euros_in_libreoffice(soffice, app, client, demo_data, tmp_path):
    """The figures the issue found as text: the 12 monthly debt totals of the demo."""
    binary = soffice
    from app.db import db

    client.login(db.session.scalar(select(User).where(User.email == COORDINATOR)), DEMO_PASSWORD)
    today = today_paris()
    start = date(today.year - (today.month < 12), today.month % 12 + 1, 1)  # 12 months
    file = tmp_path / "indicateurs.csv"
    period = f"debut={start.isoformat()}&fin={today.isoformat()}"
    file.write_bytes(client.get(f"/pilotage/indicateurs/export.csv?{period}").get_data())
    converted = open_in_libreoffice(binary, [file], tmp_path)[file.name]
    sheet = load_workbook(io.BytesIO(converted.read_bytes())).active
    header = next(row for row in sheet.iter_rows() if row[0].value == "Mois" and row[4].value)
    debts = [row[4].value for row in sheet.iter_rows(min_row=header[0].row + 1) if row[0].value]
    assert len(debts) == 12
    assert all(isinstance(d, int | float) for d in debts), debts
    assert max(debts) >= 1000  # the thousands separator was what turned them into text
