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
    pytest.param(
        {
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
            "RATELIMIT_KEY_PREFIX": f"ancrage-test-{uuid.uuid4().hex}",
        },
        id="redis",
    ),
]


@pytest.fixture(params=STORAGES)
def app_config(request):
    if "redis" in request.param["RATELIMIT_STORAGE_URI"] and not _redis_available():
        if __import__("os").environ.get("CI"):
            pytest.fail("Redis attendu sur 127.0.0.1:6379")
        pytest.skip("Pas de Redis sur 127.0.0.1:6379")
    return {**request.param, "API_RATE_LIMIT": "3 per minute"}


def test_a_client_past_its_limit_gets_429_others_do_not(client, landlord_world, token):
    answers = [client.get("/api/v1/tenancies", headers=bearer(token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get("/api/v1/tenancies", headers=bearer(token))
    assert refused.content_type == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "3 per minute" in refused.json["detail"]
    other = make_client(landlord_world["landlord"]).token
    assert client.get("/api/v1/tenancies", headers=bearer(other)).status_code == 200
