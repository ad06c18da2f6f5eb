from sqlalchemy import func, select

from app.db import db
from app.organisations.models import Organisation
from app.permissions import Role
from tests.conftest import page
from tests.factories import make_organisation, make_user


def test_admin_creates_edits_and_deactivates_an_organisation(client):
    client.login(make_user(Role.ADMIN))
    response = client.post(
        "/admin/organisations/nouvelle",
        data={
            "name": "  Habitat Solidaire  ",
            "kind": "bailleur",
            "city": "Lyon",
            "email": "Contact@Habitat.fr",
            "phone": "",
        },
    )
    assert response.status_code == 302
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == "Habitat Solidaire")
    )
    assert organisation.kind == "bailleur" and organisation.email == "contact@habitat.fr"
    listing = page(client.get("/admin/organisations/"))
    assert "Habitat Solidaire" in listing and "Bailleur HLM" in listing
    client.post(
        f"/admin/organisations/{organisation.id}/activation",
        data={"expected_version": str(organisation.version)},
    )
    assert db.session.get(Organisation, organisation.id).is_active is False


def test_duplicate_or_invalid_organisation_is_refused_with_no_change(client):
    client.login(make_user(Role.ADMIN))
    make_organisation(name="Association Trait d'Union")
    before = db.session.scalar(select(func.count(Organisation.id)))
    duplicate = client.post(
        "/admin/organisations/nouvelle",
        data={"name": "association trait d'union", "kind": "association"},
    )
    assert "Une organisation porte déjà ce nom." in page(duplicate)
    empty = client.post("/admin/organisations/nouvelle", data={"name": "", "kind": "inconnu"})
    body = page(empty)
    assert "Indiquez le nom de l'organisation." in body
    assert "Not a valid choice" not in body
    assert db.session.scalar(select(func.count(Organisation.id))) == before
