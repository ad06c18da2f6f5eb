"""POST /api/v1/rent-account-lines: the import's validation, all or nothing, idempotency."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.housing.models import RentAccountSnapshot
from app.housing.rent_import.headers import _normalise_header
from app.housing.rent_import.history import RentImport, save_profile
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
    assert response.json == {
        "lines": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "out_of_programme": 0,
        "months": ["2026-03"],
    }
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
    history = db.session.scalar(select(RentImport))
    assert (history.via, history.user_id, history.created) == ("api", None, 2)


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


def test_a_refused_batch_names_each_line_by_its_index_and_writes_nothing(
    client, landlord_world, token
):
    before = snapshots()
    body = {
        "lines": [
            line("BX-0001"),
            line("BX-0002", month="2099-01"),
            line("bx-01"),  # the same lease as line 0 once normalised
        ]
    }
    response = post(client, token, body)
    assert response.status_code == 422 and response.content_type == PROBLEM
    errors = response.json["errors"]["lines"]
    assert [(e["index"], e["lease_reference"]) for e in errors] == [
        (1, "BX-0002"),
        (2, "bx-01"),
    ]
    assert "mois dans le futur" in errors[0]["reasons"][0]
    assert "ligne en double" in errors[1]["reasons"][0]
    assert snapshots() == before
    refused = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "rent_accounts.import_refused")
    )
    assert refused.details["via"] == "api" and refused.details["bad_rows"] == 2


def test_leases_not_followed_are_set_aside_and_counted(client, landlord_world, token):
    response = post(
        client, token, {"lines": [line("BX-0001"), line("AUTRE-0001"), line("INCONNU-9")]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["created"] == 1 and response.json["out_of_programme"] == 2
    assert "autre bailleur" not in response.get_data(as_text=True).lower()


def test_a_saved_web_mapping_profile_does_not_change_how_the_api_reads_lines(
    client, landlord_world, token
):
    """The web import's saved profile maps columns by header name; here it swaps the balance
    and the amount due. The API's lines are not a file: they are read by their fields."""
    landlord = landlord_world["landlord"]
    save_profile(
        None,
        landlord.id,
        {
            "reference": _normalise_header("Référence du bail"),
            "month": _normalise_header("Mois"),
            "balance": _normalise_header("Loyer et charges du mois"),
            "amount_due": _normalise_header("Solde"),
        },
    )
    db.session.commit()
    response = post(client, token, {"lines": [line("BX-0002", balance=-2_500)]})
    assert response.status_code == 200, response.get_data(as_text=True)
    written = db.session.scalar(
        select(RentAccountSnapshot).where(
            RentAccountSnapshot.occupancy_id == landlord_world["leases"][2].id
        )
    )
    assert (written.balance_cents, written.amount_due_cents) == (-2_500, 45_000)
