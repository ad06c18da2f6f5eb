"""Papers photographed from the visit form: recorded with the visit and linked to it; a
refused file re-shows the form with what was typed and a French message on the file field,
and nothing is stored."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.db import db
from app.formatting import format_date, today_paris
from app.interventions.models import Intervention
from tests.conftest import page
from tests.documents.helpers import document_count, documents, jpeg_with_exif, stored_files
from tests.world import build_world

_KEY = re.compile(r'name="submission_key"[^>]*value="([0-9a-f]{32})"')


@pytest.fixture
def world(app):
    w = build_world()
    w.before = document_count()
    return w


def _visits() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count(Intervention.id)))


def _post(client, w, photo, *, category="ressources", note="CAF-NOTE-TAPEE", key=None):
    data = {
        "occurred_on": today_paris().isoformat(),
        "mode": "visite_domicile",
        "note": note,
        "document_category": category,
        "document_photos": [(io.BytesIO(photo[0]), photo[1])] if photo else [],
    }
    if key:
        data["submission_key"] = key
    return client.post(
        f"/menages/{w.household.id}/visites/nouvelle",
        data=data,
        content_type="multipart/form-data",
    )


def test_the_form_offers_the_camera_and_the_categories(client, world):
    client.login(world.users["travailleur_social"])
    body = page(client.get(f"/menages/{world.household.id}/visites/nouvelle"))
    assert 'enctype="multipart/form-data"' in body
    assert 'capture="environment"' in body and 'name="document_photos"' in body
    assert "Ressources (CAF/APL, avis d&#39;imposition)" in body or "Ressources (CAF/APL" in body


def test_a_photographed_letter_is_recorded_with_the_visit_and_linked_to_it(client, world):
    client.login(world.users["travailleur_social"])
    visits = _visits()
    response = _post(client, world, (jpeg_with_exif(800, 600), "IMG_0001.jpg"))
    assert response.status_code == 302, page(response)[:2000]
    assert _visits() == visits + 1
    visit = db.session.scalars(select(Intervention).order_by(Intervention.id.desc())).first()
    added = documents()[world.before :]
    assert [(d.category, d.link_kind, d.link_id) for d in added] == [
        ("ressources", "intervention", visit.id)
    ]
    assert "1 document(s) joint(s)" in page(client.get(response.location))
    # The Documents tab says which visit the paper proves.
    tab = page(client.get(f"/menages/{world.household.id}/documents"))
    assert f"Visite ou contact du {format_date(visit.occurred_on)}" in tab


def test_a_refused_file_keeps_the_typed_note_and_stores_nothing(client, world):
    client.login(world.users["travailleur_social"])
    visits, files = _visits(), stored_files()
    response = _post(client, world, (b"MZ\x90\x00" * 50, "courrier.pdf"))
    assert response.status_code == 200
    body = page(response)
    assert "CAF-NOTE-TAPEE" in body  # the note typed is shown again
    assert "« courrier.pdf » est un programme" in body
    assert 'id="visit-papers-error"' in body
    assert _visits() == visits and document_count() == world.before
    assert stored_files() == files


def test_a_file_without_category_is_refused_with_the_note_kept(client, world):
    client.login(world.users["travailleur_social"])
    visits = _visits()
    response = _post(client, world, (jpeg_with_exif(50, 50), "a.jpg"), category="")
    body = page(response)
    assert "Choisissez la catégorie des documents photographiés." in body
    assert "CAF-NOTE-TAPEE" in body
    assert _visits() == visits and document_count() == world.before


def test_a_file_too_large_is_refused_in_french(app, client, world):
    app.config["DOCUMENTS_MAX_BYTES"] = 1000
    client.login(world.users["travailleur_social"])
    response = _post(client, world, (jpeg_with_exif(800, 600), "grande.jpg"))
    body = page(response)
    assert "CAF-NOTE-TAPEE" in body and "grande.jpg" in body
    assert document_count() == world.before


def test_a_visit_without_file_is_recorded_as_before(client, world):
    client.login(world.users["travailleur_social"])
    visits = _visits()
    response = _post(client, world, None, category="")
    assert response.status_code == 302
    assert _visits() == visits + 1 and document_count() == world.before


def test_the_visit_posted_twice_records_once_with_its_paper(client, world):
    client.login(world.users["travailleur_social"])
    key = _KEY.search(page(client.get(f"/menages/{world.household.id}/visites/nouvelle")))[1]
    visits = _visits()
    photo = (jpeg_with_exif(60, 60), "IMG.jpg")
    assert _post(client, world, photo, key=key).status_code == 302
    again = _post(client, world, photo, key=key)
    assert again.status_code == 302
    assert "Cette saisie a déjà été enregistrée." in page(client.get(again.location))
    assert _visits() == visits + 1 and document_count() == world.before + 1


def test_landlord_staff_cannot_reach_the_visit_form(client, world):
    client.login(world.users["bailleur"])
    response = _post(client, world, (jpeg_with_exif(60, 60), "x.jpg"), category="assurance")
    assert response.status_code in (403, 404)
    assert document_count() == world.before


def test_the_timeline_lists_the_papers_linked_to_the_visit_for_who_may_see_them(
    client, make_client, world
):
    client.login(world.users["travailleur_social"])
    _post(client, world, (jpeg_with_exif(60, 60), "LETTRE-CAF.jpg"))
    body = page(client.get(f"/menages/{world.household.id}"))
    assert 'class="timeline__documents"' in body and "LETTRE-CAF" in body
    landlord = make_client()
    landlord.login(world.users["bailleur"])
    assert "LETTRE-CAF" not in page(landlord.get(f"/menages/{world.household.id}"))


def test_the_timeline_reads_the_linked_papers_in_one_query_however_many_visits(client, world):
    from tests.queries import count_queries

    client.login(world.users["travailleur_social"])
    url = f"/menages/{world.household.id}"
    _post(client, world, (jpeg_with_exif(60, 60), "UN.jpg"))
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for number in range(3):
        _post(client, world, (jpeg_with_exif(60 + number, 60), f"AUTRE-{number}.jpg"))
    client.get(url)
    with count_queries() as more:
        body = page(client.get(url))
    assert body.count("AUTRE-") == 3
    assert len(more) == len(few)
