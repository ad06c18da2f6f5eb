"""The bilan page: the previous year beside the year, small counts masked, the shared cache,
the four text sections kept per year (and a concurrent edit refused), the scope (404), the
year selector's French message, the association's bilan across its projects."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.audit.models import AuditEntry
from app.db import db, utcnow
from app.evaluation.models_bilan import BilanText
from app.households.models import HouseholdStage
from app.reports.models import IndicatorCache
from tests.conftest import page
from tests.evaluation.conftest import _households

ROW = re.compile(r'<tr[^>]*><th scope="row">([^<]+)</th>((?:<td[^>]*>.*?</td>)+)</tr>')
CELL = re.compile(r"<td[^>]*>(.*?)</td>")


def shown_rows(html: str) -> dict[str, list[str]]:
    """Each table row as a reader sees it: label → [year, previous year, …]."""
    return {label: CELL.findall(cells) for label, cells in ROW.findall(html)}


def url(project, year=2026) -> str:
    return f"/evaluation/bilan/projet/{project.id}?annee={year}"


def test_each_figure_has_the_previous_year_beside_it_and_small_counts_are_masked(
    client, bilan_world
):
    client.login(bilan_world.coordinator)
    response = client.get(url(bilan_world.a))
    assert response.status_code == 200
    rows = shown_rows(page(response))
    # Projet A: 2026 Maintien 6 / 2025 3 (< 5); Accès 2 (< 5) / 0; total 6 + 2 = 8 / 3 (< 5).
    # 2026's 6 is masked too: beside the total 8 it would give the 2 back (8 − 6).
    assert rows["Maintien"] == ["masqué", "< 5"]
    assert rows["Accès"] == ["< 5", "0"]
    assert rows["Total"] == ["8", "< 5"]
    # Amounts are not masked; the CAF line did not exist in 2025.
    assert rows["État (FNAVDL)"] == ["12\u202f000\u00a0€", "10\u202f000\u00a0€"]
    assert rows["CAF"] == ["3\u202f000,50\u00a0€", "—"]
    html = page(response)
    assert "Adéquation aux publics visés" in html and "Cofinancements et coûts" in html
    # The chart is an image with its alt text, beside its table; the masked value has no
    # figure in the alt text either.
    alt = re.search(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)"', html).group(1)
    assert "Maintien : masqué en 2026, < 5 en 2025" in alt
    assert "Accès : < 5 en 2026, 0 en 2025" in alt


def test_other_projects_are_404_and_a_wrong_year_gets_a_french_message(client, bilan_world):
    client.login(bilan_world.coordinator)
    assert client.get(url(bilan_world.b)).status_code == 404
    assert client.get("/evaluation/bilan/projet/999999?annee=2026").status_code == 404
    document = f"/evaluation/bilan/projet/{bilan_world.b.id}/2026/bilan.docx"
    assert client.get(document).status_code == 404
    response = client.get(f"/evaluation/bilan/projet/{bilan_world.a.id}?annee=deux-mille")
    assert response.status_code == 400
    assert "Choisissez une année entre 2000 et" in page(response)
    assert client.get(url(bilan_world.a, 1999)).status_code == 400
    for odd in ("²⁰²⁶", "2" * 5000):  # digits Python's int() refuses or chokes on
        response = client.get(f"/evaluation/bilan/projet/{bilan_world.a.id}?annee={odd}")
        assert response.status_code == 400
        assert "Choisissez une année entre 2000 et" in page(response)
    client.logout()
    client.login(bilan_world.worker)  # social workers have no VIEW_EVALUATION
    assert client.get(url(bilan_world.a)).status_code == 403


def test_the_bilan_is_served_from_the_cache_until_recomputed(client, bilan_world):
    client.login(bilan_world.coordinator)
    calls = bilan_world.calls
    assert shown_rows(page(client.get(url(bilan_world.a))))["Total"] == ["8", "< 5"]
    assert calls == [2026, 2025]  # the year and the previous year, computed once
    _households(bilan_world.a, HouseholdStage.MAINTIEN, 1, bilan_world.a_day)
    # From the cache: the providers are not called and the new household is not counted yet.
    assert shown_rows(page(client.get(url(bilan_world.a))))["Total"] == ["8", "< 5"]
    assert calls == [2026, 2025]
    # "Recalculer maintenant": computed again (8 + 1 = 9).
    response = client.get(url(bilan_world.a) + "&recalculer=1")
    assert response.status_code == 302 and response.headers["Location"] == url(bilan_world.a)
    assert calls == [2026, 2025, 2026, 2025]
    assert shown_rows(page(client.get(url(bilan_world.a))))["Total"] == ["9", "< 5"]
    assert len(calls) == 4
    # An entry older than INDICATOR_CACHE_SECONDS (10 minutes) is not used.
    db.session.execute(update(IndicatorCache).values(computed_at=utcnow() - timedelta(minutes=11)))
    client.get(url(bilan_world.a))
    assert len(calls) == 6
    # Another year, another entry.
    client.get(url(bilan_world.a, 2025))
    assert calls[-2:] == [2025, 2024]


def test_an_upgrade_of_the_definitions_is_not_served_old_figures(client, bilan_world, monkeypatch):
    client.login(bilan_world.coordinator)
    calls = bilan_world.calls
    client.get(url(bilan_world.a))
    assert calls == [2026, 2025]
    client.get(url(bilan_world.a))
    assert calls == [2026, 2025]  # fresh in the cache
    # A release changes an indicator's definition: the cached tables are not reused.
    monkeypatch.setattr("app.evaluation.bilan.DEFINITIONS_VERSION", "2099.1")
    client.get(url(bilan_world.a))
    assert calls == [2026, 2025, 2026, 2025]


def _save(client, project, section, text, version, year=2026):
    return client.post(
        f"/evaluation/bilan/projet/{project.id}/{year}/{section}",
        data={"text": text, "expected_version": str(version)},
    )


def test_the_text_sections_are_kept_per_year(client, bilan_world):
    client.login(bilan_world.coordinator)
    a = bilan_world.a
    response = _save(client, a, "contexte", "Une année de montée en charge.", 0)
    assert response.status_code == 302
    assert _save(client, a, "perspectives", "Ouvrir dix places.", 0).status_code == 302
    assert _save(client, a, "contexte", "L'année du lancement.", 0, year=2025).status_code == 302
    html = page(client.get(url(a)))
    assert "Une année de montée en charge." in html and "Ouvrir dix places." in html
    assert "L'année du lancement." not in html
    html_2025 = page(client.get(url(a, 2025)))
    assert "L'année du lancement." in html_2025 and "Ouvrir dix places." not in html_2025
    # Edited again on the version it was opened on (1).
    assert _save(client, a, "contexte", "Montée en charge réussie.", 1).status_code == 302
    saved = db.session.scalars(
        select(BilanText.text).where(BilanText.project_id == a.id, BilanText.year == 2026)
    ).all()
    assert sorted(saved) == ["Montée en charge réussie.", "Ouvrir dix places."]
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("bilan.text_saved") == 4
    assert _save(client, a, "inconnue", "x", 0).status_code == 404


def test_a_concurrent_edit_is_refused_and_the_text_kept(make_client, bilan_world):
    first, second = make_client(), make_client()
    first.login(bilan_world.coordinator)
    second.login(bilan_world.colleague)
    a = bilan_world.a
    # Both opened the empty section (version 0); the first saves.
    assert _save(first, a, "difficultes", "Peu de logements T2.", 0).status_code == 302
    response = _save(second, a, "difficultes", "Des orientations tardives.", 0)
    assert response.status_code == 200
    html = page(response)
    assert "modifiée" in html and "Vos modifications n'ont pas été enregistrées" in html
    assert "Des orientations tardives." in html  # kept in the form, to copy
    # Then both on version 1: the second saving is refused the same way.
    assert _save(first, a, "difficultes", "Peu de T2 et de T3.", 1).status_code == 302
    refused = _save(second, a, "difficultes", "Orientations tardives.", 1)
    assert "Vos modifications n'ont pas été enregistrées" in page(refused)
    assert db.session.scalar(select(BilanText.text)) == "Peu de T2 et de T3."


def test_the_association_bilan_covers_the_coordinators_projects(client, bilan_world):
    client.login(bilan_world.coordinator)
    _save(client, bilan_world.c, "faits_marquants", "Premier glissement de bail.", 0)
    response = client.get("/evaluation/bilan/association?annee=2026")
    assert response.status_code == 200
    html = page(response)
    rows = shown_rows(html)
    # A (6 Maintien, 2 Accès) + C (4 Maintien); B never: 6 + 4 = 10; Accès 2 (< 5);
    # total 12; 2025: A's 3 (< 5), 0, 3 (< 5). The 10 is masked: 12 − 10 would give the 2.
    assert rows["Maintien"] == ["masqué", "< 5"]
    assert rows["Accès"] == ["< 5", "0"]
    assert rows["Total"] == ["12", "< 5"]
    assert "Premier glissement de bail." in html and "Projet B" not in html


def test_the_navigation_leads_coordinators_to_the_bilans(client, bilan_world):
    client.login(bilan_world.coordinator)
    home = page(client.get("/evaluation/"))
    assert 'href="/evaluation/"' in home and "Évaluation" in home
    assert f"/evaluation/bilan/projet/{bilan_world.a.id}?annee=" in home
    assert "/evaluation/bilan/association?annee=" in home


def test_an_amount_or_a_delay_over_a_masked_group_is_masked_too():
    """Arrears of 3 households (a masked count) would describe those 3 households: the
    amount and the delay of that row are masked, for each year on its own."""
    from decimal import Decimal

    from app.evaluation.bilan import pair
    from app.evaluation.tables import Column, FigureTable, Kind, Row

    def table(households: int, debt: str) -> FigureTable:
        return FigureTable(
            key="t.arrears",
            axis="outcomes",
            title="Impayés",
            definition="t",
            columns=(
                Column("households", "Ménages", Kind.COUNT),
                Column("debt", "Dette", Kind.AMOUNT),
                Column("days", "Délai", Kind.DAYS),
                Column("visits", "Visites", Kind.NUMBER),
            ),
            rows=(Row("entry", "À l'entrée", (households, Decimal(debt), 40, 2)),),
        )

    paired = pair(table(3, "930"), table(12, "5400"), threshold=5)
    households, debt, days, visits = paired.rows[0].cells
    assert (households.text, households.previous) == ("< 5", "12")
    # 2026: 3 households → their debt and delay are masked; 2025: 12 households → shown.
    assert (debt.text, debt.previous) == ("masqué", "5\u202f400\u00a0€")
    assert (days.text, days.previous) == ("masqué", "40\u00a0j")
    assert (debt.value, days.value) == (None, None)  # no bar in the chart either
    assert visits.text == "2"  # events, not households: never masked


def test_a_masked_count_cannot_be_found_again_from_the_totals():
    """Cohort 2025: 3 households maintained, 10 rehoused, 13 in all. « < 5 » beside « 10 »
    and « 13 » would give the 3 back (13 − 10): one more cell of that row is masked, and
    of that column too (the total row), as in the national file."""
    from app.evaluation.bilan import pair
    from app.evaluation.tables import Column, FigureTable, Kind, Row

    table = FigureTable(
        key="t.status",
        axis="outcomes",
        title="Devenir",
        definition="t",
        columns=(
            Column("kept", "Maintenus", Kind.COUNT),
            Column("moved", "Relogés", Kind.COUNT),
            Column("total", "Total", Kind.COUNT),
        ),
        rows=(
            Row("2024", "Cohorte 2024", (20, 8, 28)),
            Row("2025", "Cohorte 2025", (3, 10, 13)),
            Row("total", "Total", (23, 18, 41)),
        ),
        row_total=True,
        column_total=True,
    )
    paired = pair(table, None, threshold=5)
    texts = [[cell.text for cell in row.cells] for row in paired.rows]
    assert texts[1][0] == "< 5"
    # Row 2025: 13 − 10 = 3 is no longer possible, nor 23 − 20 in the column.
    assert texts[1].count("masqué") >= 1 and "masqué" in (texts[0][0], texts[2][0])
    for line in [*texts, *zip(*texts, strict=True)]:
        hidden = [t for t in line if t in ("< 5", "masqué")]
        assert len(hidden) != 1, line  # never a lone masked cell in a row or a column
