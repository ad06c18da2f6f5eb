"""The API's contract: bearer tokens and scopes, the tenancy status, problem+json."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.api.models import Scope
from app.audit.models import AuditEntry
from app.db import db, utcnow
from app.formatting import today_paris
from tests.api.conftest import bearer, make_client

PROBLEM = "application/problem+json"


def test_the_tenancies_of_the_landlord_only(client, landlord_world, token):
    response = client.get("/api/v1/tenancies", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    items = response.json["items"]
    assert [i["lease_reference"] for i in items] == ["BX-0000", "BX-0001", "BX-0002"]
    first = items[0]
    assert first["rent_account"]["balance_cents"] == 80_000
    assert first["rent_account"]["previous_balance_cents"] == 50_000
    assert first["rent_account"]["trend"] == "hausse"
    assert first["status"] == "impaye"
    assert first["referent"] == {
        "name": "Camille Référente",
        "phone": "0102030405",
        "email": landlord_world["worker"].email,
    }
    assert response.json["next_cursor"] is None
    assert "AUTRE-0001" not in response.get_data(as_text=True)


def test_cursor_pagination(client, landlord_world, token):
    seen = []
    url = "/api/v1/tenancies?limit=2"
    while url:
        page = client.get(url, headers=bearer(token)).json
        seen += [i["lease_reference"] for i in page["items"]]
        cursor = page["next_cursor"]
        url = f"/api/v1/tenancies?limit=2&cursor={cursor}" if cursor else None
    assert seen == ["BX-0000", "BX-0001", "BX-0002"]
    bad = client.get("/api/v1/tenancies?cursor=nimportequoi", headers=bearer(token))
    assert bad.status_code == 400
    assert bad.content_type == PROBLEM
    assert "Curseur invalide" in bad.json["detail"]


def test_no_token_unknown_revoked_expired(client, landlord_world, token):
    for headers, reason in [
        ({}, "Jeton manquant"),
        (bearer("anc_00000000_faux"), "Jeton inconnu"),
        (bearer(token + "x"), "Jeton inconnu"),
        ({"Authorization": f"Basic {token}"}, "Jeton manquant"),
    ]:
        response = client.get("/api/v1/tenancies", headers=headers)
        assert response.status_code == 401
        assert response.content_type == PROBLEM
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert reason in response.json["detail"]
    expired = make_client(landlord_world["landlord"], expires_on=today_paris() + timedelta(days=1))
    expired.client.expires_on = today_paris() - timedelta(days=1)
    response = client.get("/api/v1/tenancies", headers=bearer(expired.token))
    assert response.status_code == 401 and "expiré" in response.json["detail"]
    revoked = make_client(landlord_world["landlord"])
    revoked.client.revoked_at = utcnow()
    response = client.get("/api/v1/tenancies", headers=bearer(revoked.token))
    assert response.status_code == 401 and "révoqué" in response.json["detail"]


def test_scopes(client, landlord_world):
    reader = make_client(landlord_world["landlord"], [Scope.TENANCIES_READ]).token
    writer = make_client(landlord_world["landlord"], [Scope.RENT_ACCOUNTS_WRITE]).token
    assert client.get("/api/v1/tenancies", headers=bearer(reader)).status_code == 200
    refused = client.get("/api/v1/tenancies", headers=bearer(writer))
    assert refused.status_code == 403
    assert "Lire la situation locative" in refused.json["detail"]
    post = client.post(
        "/api/v1/rent-account-lines", json={"lines": []}, headers=bearer(reader), csrf=False
    )
    assert post.status_code == 403


def test_every_call_is_journaled_with_the_client(client, landlord_world, token):
    created = make_client(landlord_world["landlord"])
    client.get("/api/v1/tenancies", headers=bearer(created.token))
    client.get("/api/v1/tenancies?limit=0", headers=bearer(created.token))
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id)
    ).all()
    assert [(e.api_client_id, e.actor_id, e.details["status"]) for e in entries] == [
        (created.client.id, None, 200),
        (created.client.id, None, 422),
    ]
    db.session.refresh(created.client)
    assert created.client.last_used_at is not None


def test_werkzeug_errors_on_api_paths_are_problems(client, token):
    missing = client.get("/api/v1/nulle-part", headers=bearer(token))
    assert missing.status_code == 404 and missing.content_type == PROBLEM
    assert missing.json["title"] == "Ressource introuvable"
    method = client.delete("/api/v1/tenancies", headers=bearer(token))
    assert method.status_code == 405 and method.content_type == PROBLEM
    assert "GET" in method.headers["Allow"]
    # Elsewhere, the French pages stay.
    page = client.get("/nulle-part")
    assert page.status_code == 404 and page.content_type.startswith("text/html")


def test_an_unexpected_error_is_a_problem_500(client, app, token, monkeypatch):
    from app.api import queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "tenancy_status_page", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/tenancies", headers=bearer(token))
    assert response.status_code == 500 and response.content_type == PROBLEM
    assert response.json["title"] == "Erreur interne"
    assert "boom" not in response.get_data(as_text=True)
