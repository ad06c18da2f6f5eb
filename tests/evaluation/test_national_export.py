"""The national aggregate export (app/evaluation/national.py, views_national.py): one CSV in
long format and its datapackage.json in a ZIP, small cells suppressed, the same inputs giving
the same bytes; downloaded by a project's coordinators and by administrators, journaled."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.evaluation import national
from app.evaluation.tables import DEFINITIONS_VERSION
from app.formatting import today_paris
from tests.conftest import page

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 10)


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def expected_csv(project) -> str:
    """The provider's two tables for one project (tests/evaluation/conftest.py), by hand.

    essai.couts: row a has 2 households (< 5): masked, and its amount, delay and share with
    it; row b: 15, 99.999 € written 100.00, delay not computable, share 1/3 = 0.3333; the
    TEXT column is left out.
    essai.devenir: 3 is masked; its row's smallest other inner cell 40, its column's 9, then
    40's column's 12: the rectangle (2024, 2025) × (maintenus, reloges). Margins shown.
    Sorted by table key, then row key, then column key."""
    p = f"{project.id},{project.name},2025"
    return "".join(
        f"{p},{line}\n"
        for line in [
            "cofinancing,essai.couts,a,cout,amount,,masqué",
            "cofinancing,essai.couts,a,delai,days,,masqué",
            "cofinancing,essai.couts,a,menages,count,,masqué",
            "cofinancing,essai.couts,a,part,ratio,,masqué",
            "cofinancing,essai.couts,b,cout,amount,100.00,",
            "cofinancing,essai.couts,b,delai,days,,non calculable",
            "cofinancing,essai.couts,b,menages,count,15,",
            "cofinancing,essai.couts,b,part,ratio,0.3333,",
            "outcomes,essai.devenir,2024,maintenus,count,,masqué",
            "outcomes,essai.devenir,2024,reloges,count,,masqué",
            "outcomes,essai.devenir,2024,total,count,43,",
            "outcomes,essai.devenir,2025,maintenus,count,,masqué",
            "outcomes,essai.devenir,2025,reloges,count,,masqué",
            "outcomes,essai.devenir,2025,total,count,21,",
            "outcomes,essai.devenir,total,maintenus,count,52,",
            "outcomes,essai.devenir,total,reloges,count,12,",
            "outcomes,essai.devenir,total,total,count,64,",
        ]
    )


HEADER = "projet_id,projet,annee,axe,tableau,ligne,colonne,nature,valeur,statut\n"


def build(projects, year=2025):
    figures = [national.project_figures(db.session, p, year, AS_OF, 5) for p in projects]
    return national.export_zip(figures, year, 5, projects[0].id if len(projects) == 1 else None)


def test_the_csv_holds_the_suppressed_aggregates_in_long_format(essai, people):
    name, content = build([people.a])
    assert name == f"ancrage-evaluation-projet-{people.a.id}-2025.zip"
    files = unzip(content)
    csv_name = f"ancrage-evaluation-projet-{people.a.id}-2025.csv"
    assert sorted(files) == sorted([csv_name, "datapackage.json"])
    text = files[csv_name].decode("utf-8")
    assert not text.startswith("\ufeff") and "\r" not in text
    assert text == HEADER + expected_csv(people.a)
    # No free text of the TEXT column.
    assert "texte libre" not in text and "libelle" not in text


def test_the_datapackage_describes_the_csv(essai, people):
    files = unzip(build([people.a])[1])
    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "tabular-data-package"
    assert package["definitions_version"] == "2026.1"
    assert package["small_count_threshold"] == 5
    (resource,) = package["resources"]
    assert resource["path"] in files
    assert resource["dialect"]["delimiter"] == ","
    fields = resource["schema"]["fields"]
    assert ",".join(f["name"] for f in fields) + "\n" == HEADER
    assert {f["name"]: f["type"] for f in fields}["valeur"] == "number"
    assert all(f["description"] for f in fields)


def test_the_definitions_version_is_the_one_docs_state():
    text = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    stated = re.findall(r"^Version des définitions : (\S+)$", text, re.MULTILINE)
    assert stated == [DEFINITIONS_VERSION]


def test_the_same_inputs_give_the_same_bytes_and_a_change_changes_them(essai, people):
    first = build([people.a])[1]
    assert build([people.a])[1] == first
    people.a.target_households = 41
    db.session.flush()
    changed = build([people.a])[1]
    assert changed != first
    assert b"44" in unzip(changed)[f"ancrage-evaluation-projet-{people.a.id}-2025.csv"]  # 41+3


def test_the_all_projects_file_has_every_project_in_id_order(essai, people):
    name, content = build([people.a, people.b])
    assert name == "ancrage-evaluation-tous-projets-2025.zip"
    text = unzip(content)["ancrage-evaluation-tous-projets-2025.csv"].decode("utf-8")
    # Projet B: target 25 → cohort 2024 total 28, grand total 25 + 24 = 49.
    expected_b = expected_csv(people.b).replace(",43,", ",28,").replace(",52,", ",37,")
    expected_b = expected_b.replace("total,total,count,64,", "total,total,count,49,")
    assert text == HEADER + expected_csv(people.a) + expected_b


def test_a_year_is_read_or_refused_in_french():
    today = date(2026, 3, 10)
    assert national.parse_year("2025", today) == 2025
    for raw, message in [
        (None, "Indiquez l'année"),
        ("deux mille", "n'est pas une année"),
        ("1999", "entre 2000 et 2026"),
        ("2027", "entre 2000 et 2026"),
    ]:
        try:
            national.parse_year(raw, today)
        except national.YearError as error:
            assert message in str(error)
        else:
            raise AssertionError(f"{raw!r} accepted")


# --- downloads ---------------------------------------------------------------------------


def _downloads():
    return [
        e.details
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evaluation.national_export")
        )
    ]


def test_a_coordinator_downloads_their_project_and_it_is_journaled(client, essai, people):
    client.login(people.coordinator)
    response = client.get(f"/evaluation/nationale/projets/{people.a.id}/export.zip?annee=2025")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert (
        f"ancrage-evaluation-projet-{people.a.id}-2025.zip"
        in response.headers["Content-Disposition"]
    )
    csv_text = unzip(response.data)[f"ancrage-evaluation-projet-{people.a.id}-2025.csv"]
    assert csv_text.decode("utf-8") == HEADER + expected_csv(people.a)
    assert _downloads() == [{"project_id": people.a.id, "year": 2025, "projects": 1}]


def test_another_project_is_not_found_for_a_coordinator(client, essai, people):
    client.login(people.coordinator)
    response = client.get(f"/evaluation/nationale/projets/{people.b.id}/export.zip?annee=2025")
    assert response.status_code == 404
    assert _downloads() == []


def test_an_administrator_downloads_any_project_and_all_of_them(client, essai, people):
    client.login(people.admin)
    response = client.get(f"/evaluation/nationale/projets/{people.b.id}/export.zip?annee=2025")
    assert response.status_code == 200
    response = client.get("/evaluation/nationale/export.zip?annee=2025")
    assert response.status_code == 200
    text = unzip(response.data)["ancrage-evaluation-tous-projets-2025.csv"].decode("utf-8")
    assert {line.split(",")[1] for line in text.splitlines()[1:]} == {"Projet A", "Projet B"}
    assert [d["projects"] for d in _downloads()] == [1, 2]


def test_a_bad_year_gets_a_french_message(client, essai, people):
    client.login(people.coordinator)
    base = f"/evaluation/nationale/projets/{people.a.id}/export.zip"
    for query, message in [
        ("?annee=", "Indiquez l'année"),
        ("?annee=abc", "n'est pas une année"),
        ("?annee=1850", "comprise entre 2000"),
        ("?annee=" + "9" * 40, "comprise entre 2000"),
    ]:
        response = client.get(base + query)
        assert response.status_code == 400
        assert message in page(response)
    assert _downloads() == []


def test_without_a_year_last_year_is_exported(client, essai, people):
    client.login(people.coordinator)
    response = client.get(f"/evaluation/nationale/projets/{people.a.id}/export.zip")
    assert response.status_code == 200
    last_year = today_paris().year - 1
    assert f"-{last_year}.zip" in response.headers["Content-Disposition"]


def test_a_social_worker_may_not_download(client, essai, people):
    client.login(people.social_worker)
    response = client.get(f"/evaluation/nationale/projets/{people.a.id}/export.zip?annee=2025")
    assert response.status_code == 403
