"""Prometheus metrics as the operations team reads them: GET /metrics with the configured
bearer token (a 404 otherwise), every documented family present, labels that are code names
and statuses only, and the figures of several processes added up in multiprocess mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.scheduler import job_by_id, run_job
from tests.conftest import BASE_CONFIG
from tests.factories import make_household, make_user

TOKEN = "jeton-de-test-des-metriques-assez-long"
ROOT = Path(__file__).resolve().parents[2]

FAMILIES = {
    "ancrage_http_requests": "counter",
    "ancrage_http_request_duration_seconds": "histogram",
    "ancrage_db_query_duration_seconds": "histogram",
    "ancrage_scheduler_job_runs": "counter",
    "ancrage_scheduler_job_duration_seconds": "histogram",
    "ancrage_imports": "counter",
    "ancrage_digest_emails": "counter",
    "ancrage_sessions_open": "gauge",
}
# Label values: code names (endpoints such as api_v1.get_tenancies, jobs, outcomes), HTTP
# methods and statuses. A code name starts with a letter: an id alone never matches it.
SAFE_LABEL = re.compile(
    r"^(?:[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*|[A-Z]+|[1-5]\d\d|[0-9.e+]+|\+Inf)$"
)


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": TOKEN}


def scrape(client, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", headers=headers)


def families(client) -> dict:
    response = scrape(client)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}


def value(family, name: str, **labels) -> float:
    return sum(
        s.value
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_need_the_configured_token(app, client):
    assert scrape(client, token=None).status_code == 404
    assert scrape(client, token="autre-jeton").status_code == 404
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
    assert scrape(client).status_code == 200
    app.config["METRICS_TOKEN"] = ""  # not configured: never served, even to an empty token
    assert scrape(client, token="").status_code == 404
    assert "Page introuvable" in scrape(client, token="").get_data(as_text=True)


def test_every_documented_family_is_exposed_after_some_requests(app, client):
    count = "ancrage_http_requests_total"
    login_page = {"endpoint": "auth.login", "method": "GET", "status": "200"}
    before = value(families(client)["ancrage_http_requests"], count, **login_page)
    client.get("/connexion")
    client.get("/connexion")
    after = value(families(client)["ancrage_http_requests"], count, **login_page)
    assert after - before == 2
    client.get("/page-qui-n-existe-pas")
    client.login(make_user())
    client.get("/")

    found = families(client)
    assert {name: found[name].type for name in FAMILIES if name in found} == FAMILIES
    requests = found["ancrage_http_requests"]
    assert value(requests, count, endpoint="unmatched", status="404") >= 1
    durations = found["ancrage_http_request_duration_seconds"]
    assert value(durations, "ancrage_http_request_duration_seconds_count", **login_page) >= 2
    queries = found["ancrage_db_query_duration_seconds"]
    assert value(queries, "ancrage_db_query_duration_seconds_count") > 0
    assert value(found["ancrage_sessions_open"], "ancrage_sessions_open") == 1


def test_scheduler_runs_are_counted_by_job_and_outcome(app, client):
    def runs(outcome):
        found = families(client)["ancrage_scheduler_job_runs"]
        return value(
            found, "ancrage_scheduler_job_runs_total", job="reminders.sweep", outcome=outcome
        )

    done, skipped = runs("done"), runs("skipped")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert run_job(job_by_id("reminders.sweep"), now) is True
    assert run_job(job_by_id("reminders.sweep"), now) is False  # same slot: skipped
    assert (runs("done") - done, runs("skipped") - skipped) == (1, 1)
    found = families(client)["ancrage_scheduler_job_duration_seconds"]
    assert value(found, "ancrage_scheduler_job_duration_seconds_count", job="reminders.sweep") >= 2


def test_no_label_carries_an_id_a_name_or_a_path(app, client):
    user = make_user(full_name="Zoé Labelsûre", email="zoe.labelsure@example.org")
    household = make_household(last_name="Étiquette")
    client.login(user)
    client.get(f"/menages/{household.id}")
    client.get("/menages/?recherche=Etiquette")
    client.get(f"/menages/{household.id}/inexistant")
    client.get("/api/v1/tenancies")  # an endpoint whose code name holds a digit (refused: no token)

    text = scrape(client).get_data(as_text=True)
    for forbidden in ("Zoé", "Labelsûre", "zoe.labelsure", "Étiquette", "Etiquette", "/menages"):
        assert forbidden not in text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                assert SAFE_LABEL.match(label_value), (sample.name, label, label_value)
                if label != "le":
                    assert label_value != str(household.id) and label_value != str(user.id)


MULTIPROCESS_CHILD = textwrap.dedent(
    """
    import json, sys
    from app import create_app
    from app.metrics import forget_dead_processes

    config = json.loads(sys.argv[1])
    action = sys.argv[2]
    app = create_app(config)
    client = app.test_client()
    if action == "request":
        assert client.get("/sante").status_code == 200
    elif action == "forget":
        forget_dead_processes()
    else:
        bearer = {"Authorization": "Bearer " + config["METRICS_TOKEN"]}
        print(client.get("/metrics", headers=bearer).get_data(as_text=True))
    """
)


def test_several_processes_add_up_and_a_new_server_forgets_the_dead_ones(database_url, tmp_path):
    import json

    folder = tmp_path / "metriques"
    config = {**BASE_CONFIG, "DATABASE_URL": str(database_url), "METRICS_TOKEN": TOKEN}
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def child(action: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_CHILD, json.dumps(config), action],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    def alive_requests() -> float:
        found = {f.name: f for f in text_string_to_metric_families(child("scrape"))}
        if "ancrage_http_requests" not in found:  # no process left any figure
            return 0
        family = found["ancrage_http_requests"]
        return value(family, "ancrage_http_requests_total", endpoint="health.alive")

    child("request")
    child("request")
    assert alive_requests() == 2  # two processes, gone, added up
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    child("forget")  # what `ancrage serve` does before starting its workers
    assert alive_requests() == 0


def test_metrics_still_answer_when_the_database_does_not(tmp_path):
    from app import create_app
    from tests.conftest import IS_POSTGRES

    unreachable = (
        "postgresql+psycopg://postgres@127.0.0.1:1/ancrage?connect_timeout=2"
        if IS_POSTGRES
        else f"sqlite:///{tmp_path / 'no-such-folder' / 'ancrage.sqlite3'}"
    )
    app = create_app({**BASE_CONFIG, "DATABASE_URL": unreachable, "METRICS_TOKEN": TOKEN})
    client = app.test_client()
    client.get("/sante")
    response = scrape(client)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "ancrage_http_requests_total" in text and "ancrage_sessions_open" not in text
