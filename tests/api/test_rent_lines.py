"""POST /api/v1/rent-account-lines: the import's validation, all or nothing, idempotency."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.housing.models import RentAccountSnapshot
from tests.api.conftest import bearer

URL = "/api/v1/rent-account-lines"
PROBLEM = "application/problem+json"


def line(reference="BX-0001", balance=12_345, **values):
    return {
        "lease_reference": reference,
        "month": "2026-03",
        "balance_cents": balance,
        "amount_due_cents": 45_000,
        **values,
    }


def post(client, token, body, **headers):
    return client.post(URL, json=body, headers={**bearer(token), **headers}, csrf=False)


def snapshots() -> int:
    return db.session.scalar(select(func.count()).select_from(RentAccountSnapshot))


def test_lines_are_written_and_journaled_as_the_client(client, landlord_world, token):
    before = snapshots()
    response = post(
        client,
        token,
        {"lines": [line(), line("BX-0002", -500, last_payment_on="2026-03-05", apl_status="sans")]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"lines": 2, "created": 2, "updated": 0, "months": ["2026-03"]}
    assert snapshots() == before + 2
    written = db.session.scalar(
        select(RentAccountSnapshot).where(RentAccountSnapshot.balance_cents == 12_345)
    )
    assert written.occupancy_id == landlord_world["leases"][1].id
    imported = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "rent_accounts.imported")
    )
    assert imported.api_client_id is not None and imported.actor_id is None
    assert imported.details["via"] == "api"


def test_another_landlords_lease_is_never_written_nor_named(client, landlord_world, token):
    """Another landlord's reference is, for this client, a lease Ancrage does not follow:
    counted out of the programme, never written, and nothing says whose it is."""
    before = snapshots()
    response = post(client, token, {"lines": [line("AUTRE-0001")]})
    assert response.status_code != 500
    assert "autre bailleur" not in response.get_data(as_text=True)
    assert snapshots() == before


def test_schema_errors_are_french_problems(client, landlord_world, token):
    response = post(client, token, {"lines": [{"lease_reference": "BX-0001", "extra": 1}]})
    assert response.status_code == 422 and response.content_type == PROBLEM
    fields = response.json["errors"]["lines"]["0"]
    assert fields["month"] == ["Champ obligatoire."]
    assert fields["extra"] == ["Champ inconnu."]
    assert post(client, token, {"lines": []}).json["errors"]["lines"] == [
        "De 1 à 1 000 lignes par envoi."
    ]


def test_body_type_size_and_syntax(client, app, landlord_world, token):
    not_json = client.post(URL, data="a;b", headers={**bearer(token), "Content-Type": "text/csv"})
    assert not_json.status_code == 415 and not_json.content_type == PROBLEM
    broken = client.post(
        URL, data="{", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.content_type == PROBLEM
    app.config["API_MAX_BODY_BYTES"] = 100
    large = post(client, token, {"lines": [line()] * 5})
    assert large.status_code == 413 and large.content_type == PROBLEM


def test_idempotency_key_replays_and_refuses_another_body(client, landlord_world, token):
    first = post(client, token, {"lines": [line()]}, **{"Idempotency-Key": "lot-2026-03-1"})
    assert first.status_code == 200
    count = snapshots()
    again = post(client, token, {"lines": [line()]}, **{"Idempotency-Key": "lot-2026-03-1"})
    assert again.status_code == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert snapshots() == count
    other = post(
        client, token, {"lines": [line(balance=1)]}, **{"Idempotency-Key": "lot-2026-03-1"}
    )
    assert other.status_code == 422 and other.content_type == PROBLEM
    assert "autre contenu" in other.json["detail"]
    bad_key = post(client, token, {"lines": [line()]}, **{"Idempotency-Key": "é" * 3})
    assert bad_key.status_code == 400
