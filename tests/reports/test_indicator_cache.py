"""The indicators' shared cache (app/reports/cache.py): reused within its lifetime, recomputed
after it or on demand, never shared between scopes, shown on the page, used by the exports."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.permissions import Role
from app.reports import cache
from app.reports.indicators import Period, indicators
from app.reports.models import IndicatorCache
from app.reports.views_indicators import computed_at_text
from app.users.models import User
from tests.conftest import page
from tests.factories import make_household, make_measure, make_user
from tests.reports.conftest import PERIOD
from tests.reports.test_indicators import shown_figures
from tests.reports.test_query_counts import _count

QUERY = "debut=2025-01-01&fin=2025-06-30"
URL = f"/pilotage/indicateurs?{QUERY}"


def _new_entry(programme):
    """A household entering support on 1 March 2025: one more entry and supported household."""
    household = make_household(programme.project, referent=programme.w1, reference="P-NEW")
    make_measure(household, actor=programme.w1, start_on=PERIOD[0].replace(month=3))


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(IndicatorCache))


def _age_every_entry(minutes: int) -> None:
    db.session.execute(
        update(IndicatorCache).values(computed_at=utcnow() - timedelta(minutes=minutes))
    )


def test_the_second_request_reads_the_cache(client, programme):
    client.login(programme.coordinator)
    client.get("/pilotage/")  # first-request work (session, nav) is not the indicators'
    cold = _count(client, URL)
    first = shown_figures(page(client.get(URL)))
    cached = _count(client, URL)
    # The five aggregate statements and the cache write saved (the projects are loaded either
    # way, the cache read added).
    assert cached <= cold - 8, (cold, cached)
    second = shown_figures(page(client.get(URL)))
    assert first == second and first["entries"] == "3"
    assert _rows() == 1


def test_within_the_lifetime_new_data_waits_then_shows(client, programme):
    client.login(programme.coordinator)
    assert shown_figures(page(client.get(URL)))["entries"] == "3"
    _new_entry(programme)
    assert shown_figures(page(client.get(URL)))["entries"] == "3"  # cached
    _age_every_entry(minutes=11)
    shown = shown_figures(page(client.get(URL)))
    assert shown["entries"] == "4"
    assert shown["supported"] == "7"
    assert _rows() == 1  # replaced, not added


def test_a_lifetime_of_zero_always_recomputes(client, programme, app):
    app.config["INDICATOR_CACHE_SECONDS"] = 0
    client.login(programme.coordinator)
    assert shown_figures(page(client.get(URL)))["entries"] == "3"
    _new_entry(programme)
    assert shown_figures(page(client.get(URL)))["entries"] == "4"
    assert _rows() == 0  # nothing kept


def test_recalculer_maintenant_recomputes_and_keeps_the_period(client, programme):
    client.login(programme.coordinator)
    text = page(client.get(f"{URL}&projet={programme.project.id}"))
    href = re.search(r'href="([^"]*recalculer[^"]*)">Recalculer maintenant</a>', text)[1]
    path, _, query = href.partition("?")
    assert path == "/pilotage/indicateurs"
    assert parse_qs(query) == {
        "debut": ["2025-01-01"],
        "fin": ["2025-06-30"],
        "projet": [str(programme.project.id)],
        "recalculer": ["1"],
    }
    _new_entry(programme)
    response = client.get(f"{URL}&recalculer=1")
    assert response.status_code == 302
    assert response.headers["Location"] == URL  # the same page, without the recompute
    assert shown_figures(page(client.get(URL)))["entries"] == "4"
    assert _rows() == 1


def test_coordinators_of_other_projects_never_share_figures(client, make_client, programme):
    coordinator_b = make_user(Role.COORDINATEUR, projects=[programme.other_project])
    both = make_user(Role.COORDINATEUR, projects=[programme.project, programme.other_project])
    client.login(programme.coordinator)
    a = shown_figures(page(client.get(URL)))
    assert a["supported"] == "6"
    other = make_client()
    other.login(coordinator_b)
    b = shown_figures(page(other.get(URL)))
    assert b["supported"] == "1"  # P-B1 only
    assert b["entries"] == "1"
    third = make_client()
    third.login(both)
    together = shown_figures(page(third.get(URL)))
    assert together["supported"] == "7"
    # The same projects and period: the same entry, whoever reads it.
    assert shown_figures(page(third.get(f"{URL}&projet={programme.project.id}"))) == a
    assert _rows() == 3


def test_the_key_covers_the_scope_and_the_period(programme):
    coordinator, ids = programme.coordinator, [programme.project.id]
    key = cache.cache_key(coordinator, ids, Period(*PERIOD))
    other = make_user(Role.COORDINATEUR, projects=[programme.project])
    assert cache.cache_key(other, ids, Period(*PERIOD)) == key  # same households counted
    assert cache.cache_key(coordinator, [programme.other_project.id], Period(*PERIOD)) != key
    assert cache.cache_key(coordinator, ids, Period(PERIOD[0], PERIOD[1].replace(day=29))) != key
    # Projects outside the viewer's own: whatever visible_households gives them, keyed by
    # the viewer, never shared.
    outside = [programme.other_project.id]
    assert cache.cache_key(coordinator, outside, Period(*PERIOD)) != cache.cache_key(
        other, outside, Period(*PERIOD)
    )
    worker = programme.w1
    assert cache.cache_key(worker, ids, Period(*PERIOD)) != key


def test_the_payload_is_json_and_rebuilds_the_same_indicators(programme):
    data = indicators(programme.coordinator, [programme.project.id], Period(*PERIOD))
    payload = json.loads(json.dumps(cache.encode(data)))
    assert cache.decode(payload) == data


def test_the_page_says_when_the_figures_were_computed(client, programme):
    client.login(programme.coordinator)
    text = page(client.get(URL))
    computed_at = db.session.scalar(select(IndicatorCache.computed_at))
    assert computed_at_text(computed_at) in text
    assert "Chiffres calculés à " in text
    assert "recalculés après 10 minutes" in text


def test_computed_at_is_written_in_paris_time():
    winter = datetime(2026, 11, 27, 20, 14, tzinfo=UTC)
    assert computed_at_text(winter, now=winter) == "Chiffres calculés à 21 h 14"
    summer = datetime(2026, 7, 1, 7, 5, tzinfo=UTC)
    assert computed_at_text(summer, now=summer) == "Chiffres calculés à 9 h 05"
    later = summer + timedelta(days=1)
    assert computed_at_text(summer, now=later) == "Chiffres calculés le 1 juillet 2026 à 9 h 05"


def test_the_export_has_the_figures_of_the_page(client, programme):
    client.login(programme.coordinator)
    shown = shown_figures(page(client.get(URL)))
    _new_entry(programme)

    def exported():
        text = client.get(f"/pilotage/indicateurs/export.csv?{QUERY}").get_data()
        rows = csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";")
        return {row[1]: row[2] for row in rows if len(row) == 4}

    assert exported()["Entrées en accompagnement"] == shown["entries"] == "3"
    client.get(f"{URL}&recalculer=1")
    assert exported()["Entrées en accompagnement"] == "4"


def test_an_export_with_nothing_cached_computes_and_caches(client, programme):
    client.login(programme.coordinator)
    response = client.get(f"/pilotage/indicateurs/export.csv?{QUERY}")
    assert response.status_code == 200
    assert _rows() == 1
    assert shown_figures(page(client.get(URL)))["entries"] == "3"


def test_expired_entries_are_deleted_when_writing(client, programme):
    client.login(programme.coordinator)
    client.get(URL)
    _age_every_entry(minutes=30)
    client.get("/pilotage/indicateurs?debut=2025-01-01&fin=2025-03-31")
    assert _rows() == 1
    assert db.session.scalar(select(IndicatorCache.computed_at)) > utcnow() - timedelta(minutes=1)


def test_two_workers_computing_the_same_key_both_succeed(app, programme):
    user_id, ids = programme.coordinator.id, [programme.project.id]
    db.session.commit()
    db.session.close()  # hold no transaction (on SQLite, no lock) while the workers run
    barrier, errors, results = threading.Barrier(2), [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                user = db.session.get(User, user_id)
                result = cache.cached_indicators(user, ids, Period(*PERIOD), refresh=True)
                db.session.commit()
                results.append(result.data.values()["entries"])
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == [3, 3]
    assert _rows() == 1
