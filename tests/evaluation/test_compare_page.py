"""The administrators' comparison page (/evaluation/comparaison): every project side by side
for a year and a table, the suppressed aggregates of the export, never a household."""

from __future__ import annotations

import re

from app.db import db
from app.evaluation import tables, views_national
from tests.conftest import page
from tests.factories import make_household, make_project

URL = "/evaluation/comparaison"


def cells(html: str, caption: str) -> list[list[str]]:
    """The rows (header cell + values) of the table captioned ``caption``."""
    table = html.split(f"<caption>{caption}</caption>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_the_projects_are_side_by_side_with_the_same_suppression(client, essai, people):
    household = make_household(people.a, reference="M-2025-0042")
    client.login(people.admin)
    html = page(client.get(f"{URL}?annee=2025&tableau=essai.devenir"))
    assert "Devenir des ménages (essai) · 2025" in html
    # Projet A (target 40) and Projet B (target 25): the cells of cohorts 2024 and 2025 are
    # masked in both (3 relogés, then its rectangle); the totals are shown: A 43, 21, 52,
    # 12, 64; B 28, 21, 37, 12, 49.
    assert cells(html, "Maintenus") == [
        ["Cohorte 2024", "masqué", "masqué"],
        ["Cohorte 2025", "masqué", "masqué"],
        ["Total", "52", "37"],
    ]
    assert cells(html, "Total") == [
        ["Cohorte 2024", "43", "28"],
        ["Cohorte 2025", "21", "21"],
        ["Total", "64", "49"],
    ]
    assert '<th scope="col" class="num">Projet A</th>' in html
    assert household.reference not in html


def test_the_table_selector_switches_and_formats_the_french_way(client, essai, people):
    client.login(people.admin)
    html = page(client.get(f"{URL}?annee=2025&tableau=essai.couts"))
    assert '<option value="essai.couts" selected>' in html
    # Group B: 99.999 € → 100,00 €; share 1/3 → 0,3333; delay not computable → —.
    assert cells(html, "Coût par ménage") == [
        ["Groupe A", "masqué", "masqué"],
        ["Groupe B", "100,00\u00a0€", "100,00\u00a0€"],
    ]
    assert cells(html, "Part")[1] == ["Groupe B", "0,3333", "0,3333"]
    assert cells(html, "Délai médian")[1] == ["Groupe B", "—", "—"]
    assert "texte libre" not in html  # TEXT columns are not shown


def test_a_bad_year_is_explained_and_last_year_shown(client, essai, people):
    client.login(people.admin)
    response = client.get(f"{URL}?annee=deux")
    assert response.status_code == 200
    html = page(response)
    assert "« deux » n&#39;est pas une année" in html or "« deux » n'est pas une année" in html


def test_the_projects_are_paged(client, essai, people, monkeypatch):
    monkeypatch.setattr(views_national, "PROJECTS_PER_PAGE", 2)
    make_project(name="Projet C")
    client.login(people.admin)
    first = page(client.get(f"{URL}?annee=2025"))
    assert "Projet A" in first and "Projet B" in first and "Projet C" not in first
    assert "Suivante" in first
    second = page(client.get(f"{URL}?annee=2025&page=2"))
    assert "Projet C" in second and "Projet A" not in second


def test_without_any_table_the_page_says_so(client, people, monkeypatch):
    monkeypatch.setattr(tables, "_PROVIDERS", [])  # no module computes any figure
    client.login(people.admin)
    html = page(client.get(f"{URL}?annee=2025"))
    assert "Aucun tableau d&#39;évaluation" in html or "Aucun tableau d'évaluation" in html


def test_a_coordinator_may_not_compare(client, essai, people):
    client.login(people.coordinator)
    assert client.get(URL).status_code == 403


def test_each_project_is_computed_once_per_cache_period(app, client, people, monkeypatch):
    """A page of the comparison computes six projects, the export every project: the
    figures of a project-year are kept as long as the indicators' (the page says so), and
    recomputed after."""
    from tests.evaluation.conftest import essai_provider

    calls = []

    def counted(session, scope):
        calls.append(scope.project_ids)
        return essai_provider(session, scope)

    monkeypatch.setattr(tables, "_PROVIDERS", [counted])
    client.login(people.admin)
    first = page(client.get(f"{URL}?annee=2025&tableau=essai.devenir"))
    assert sorted(calls) == [(people.a.id,), (people.b.id,)]
    assert "calculé une fois toutes les 10 minutes" in first
    people.b.target_households = 99
    db.session.commit()
    again = page(client.get(f"{URL}?annee=2025&tableau=essai.devenir"))
    assert len(calls) == 2 and again.count("masqué") == first.count("masqué")
    assert cells(again, "Total") == cells(first, "Total")

    app.config["INDICATOR_CACHE_SECONDS"] = 0  # no cache: computed at every view
    page(client.get(f"{URL}?annee=2025&tableau=essai.devenir"))
    assert len(calls) == 4
