"""The per-client rate limit (Flask-Limiter's storage: memory, or the local Redis)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import bearer, make_client


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15").ping())
    except redis.RedisError:
        return False


STORAGES = [
    pytest.param({"RATELIMIT_STORAGE_URI": "memory://"}, id="memoire"),
    pytest.param({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}, id="redis"),
]


@pytest.fixture(params=STORAGES)
def app_config(request):
    if "redis" in request.param["RATELIMIT_STORAGE_URI"] and not _redis_available():
        if __import__("os").environ.get("CI"):
            pytest.fail("Redis attendu sur 127.0.0.1:6379")
        pytest.skip("Pas de Redis sur 127.0.0.1:6379")
    # Counters of their own in the shared Redis, per test: not another test's of this run
    # (the ids of clients restart in each test's database), nor of another xdist worker or a
    # run side by side (CI's SQLite and PostgreSQL suites).
    prefix = f"ancrage-test-{uuid.uuid4().hex}"
    return {**request.param, "RATELIMIT_KEY_PREFIX": prefix, "API_RATE_LIMIT": "3 per minute"}


def test_a_client_past_its_limit_gets_429_others_do_not(client, landlord_world, token):
    answers = [client.get("/api/v1/tenancies", headers=bearer(token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get("/api/v1/tenancies", headers=bearer(token))
    assert refused.content_type == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "3 per minute" in refused.json["detail"]
    other = make_client(landlord_world["landlord"]).token
    assert client.get("/api/v1/tenancies", headers=bearer(other)).status_code == 200


ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def failed_auth_limit(app):
    app.config["API_FAILED_AUTH_LIMIT"] = "3 per 10 minute"


def test_an_address_guessing_tokens_is_refused_and_valid_clients_elsewhere_are_not(
    client, landlord_world, token, failed_auth_limit
):
    from sqlalchemy import select

    from app.audit.models import AuditEntry
    from app.db import db

    def call(headers, address):
        return client.get("/api/v1/tenancies", headers=headers, environ_base=address)

    guesses = [call(bearer(f"anc_{n:08x}_{'0' * 43}"), ATTACKER).status_code for n in range(3)] + [
        call({}, ATTACKER).status_code
    ]
    assert guesses == [401, 401, 401, 429]
    refused = call(bearer("anc_deadbeef_faux"), ATTACKER)
    assert refused.status_code == 429 and refused.content_type == "application/problem+json"
    assert "Trop d'échecs d'authentification" in refused.json["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    # Past the limit, the token is not even checked: a guess that happens to be right is
    # refused like the others.
    assert call(bearer(token), ATTACKER).status_code == 429
    # Elsewhere, valid clients work and a wrong token is still a plain 401.
    assert call(bearer(token), ELSEWHERE).status_code == 200
    assert call(bearer("anc_deadbeef_faux"), ELSEWHERE).status_code == 401
    throttled = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api.auth_refused")
    ).all()
    assert sum(1 for entry in throttled if entry.details.get("throttled")) == 3


def test_a_malformed_limit_stops_the_app_at_start(database_url):
    from app import create_app
    from app.config import ConfigurationError
    from tests.conftest import BASE_CONFIG

    with pytest.raises(ConfigurationError, match="API_FAILED_AUTH_LIMIT illisible"):
        create_app(
            {
                **BASE_CONFIG,
                "DATABASE_URL": database_url,
                "API_FAILED_AUTH_LIMIT": "vingt par minute",
            }
        )
