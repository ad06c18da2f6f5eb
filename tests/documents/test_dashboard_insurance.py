"""The landlord dashboard says, per followed tenancy, whether a current insurance
certificate is on file, and leads landlord staff to upload one (their own tenants only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import db
from app.formatting import today_paris
from tests.conftest import page
from tests.documents.helpers import PDF_BYTES, upload
from tests.factories import make_document
from tests.queries import count_queries
from tests.world import build_world


@pytest.fixture
def world(app):
    return build_world()


def _row(body: str, reference: str) -> str:
    start = body.index(reference)
    return body[start : body.index("</tr>", start)]


def test_the_dashboard_flags_a_missing_certificate_and_links_to_the_upload(client, world):
    client.login(world.users["bailleur"])
    row = _row(page(client.get("/logements/")), "M-2026-0001")
    assert "Pas d&#39;attestation à jour" in row or "Pas d'attestation à jour" in row
    link = f"/menages/{world.household.id}/documents?categorie=assurance#documents-add"
    assert link in row
    tab = page(client.get(link.split("#")[0]))
    assert '<option selected value="assurance">' in tab or 'value="assurance" selected' in tab


def test_a_certificate_valid_until_later_shows_as_on_file(client, world):
    client.login(world.users["bailleur"])
    until = today_paris() + timedelta(days=300)
    response = upload(
        client, world.household, [(PDF_BYTES, "attestation.pdf")], valid_until=until.isoformat()
    )
    assert response.status_code == 302
    row = _row(page(client.get("/logements/")), "M-2026-0001")
    assert "Attestation à jour" in row and until.strftime("%d/%m/%Y") in row


def test_an_expired_certificate_is_not_on_file(client, world):
    make_document(world.household, valid_until=today_paris() - timedelta(days=1))
    client.login(world.users["bailleur"])
    row = _row(page(client.get("/logements/")), "M-2026-0001")
    assert "Pas d" in row


def test_another_landlords_staff_cannot_reach_the_upload(client, world):
    client.login(world.users["autre_bailleur"])
    assert "M-2026-0001" not in page(client.get("/logements/"))
    tab = f"/menages/{world.household.id}/documents?categorie=assurance"
    assert client.get(tab).status_code == 404
    response = upload(client, world.household, [(PDF_BYTES, "a.pdf")])
    assert response.status_code == 404


def test_the_flags_are_read_in_one_query_for_the_page(client, world):
    client.login(world.users["bailleur"])
    client.get("/logements/")
    with count_queries() as before:
        client.get("/logements/")
    make_document(world.household, valid_until=today_paris() + timedelta(days=10))
    make_document(world.other_household, valid_until=today_paris() + timedelta(days=10))
    db.session.commit()
    with count_queries() as after:
        client.get("/logements/")
    assert len(after) == len(before)
