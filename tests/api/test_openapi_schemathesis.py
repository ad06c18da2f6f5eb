"""The API against its own OpenAPI 3.1 document (schemathesis, through the WSGI app, on the
test database — SQLite or PostgreSQL): with a valid token, no answer is a 500 and every
answer (status, content type, body) is the one the document declares."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "100000 per minute", "API_FAILED_AUTH_LIMIT": "100000 per minute"}


@pytest.fixture
def api_schema(app, landlord_world):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_api_keeps_its_document(api_schema, token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "POST /api/v1/rent-account-lines",
        "GET /api/v1/tenancies",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_its_document(case):
            case.call_and_validate(headers=bearer(token), checks=list(CHECKS))

        keeps_its_document()


def test_the_document_is_openapi_3_1_with_problems(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    post = document["paths"]["/api/v1/rent-account-lines"]["post"]
    assert set(post["responses"]) >= {"200", "401", "403", "409", "413", "415", "422", "429"}
    assert "application/problem+json" in post["responses"]["422"]["content"]
    page = client.get("/api/v1/")
    assert page.status_code == 200
    assert "POST /api/v1/rent-account-lines" in page.get_data(as_text=True)
