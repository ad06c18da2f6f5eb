import pytest
from sqlalchemy import func, select

from app.db import db
from app.errors import DomainError
from app.permissions import Role
from app.projects.models import Project
from app.projects.services import create_project
from tests.conftest import page
from tests.factories import make_landlord, make_organisation, make_project, make_user


def _form(landlord, **overrides):
    data = {
        "name": "HLM accompagnés Villeurbanne",
        "territory": "Villeurbanne",
        "lead_landlord_id": str(landlord.id),
        "funding_call": "hlm_accompagnes",
        "convention_start_on": "2026-01-01",
        "convention_end_on": "2028-12-31",
        "target_households": "40",
        "grant_euros": "120000,50",
        "target_publics": ["prioritaire_dalo", "sante_mentale"],
    }
    data.update(overrides)
    return data


def test_admin_creates_a_project_with_partners_and_publics(client):
    client.login(make_user(Role.ADMIN))
    landlord = make_landlord()
    association = make_organisation()
    response = client.post(
        "/admin/projets/nouveau",
        data=_form(landlord, partner_ids=[str(association.id)], grant_euros="120000.50"),
    )
    assert response.status_code == 302, page(response)
    project = db.session.scalar(
        select(Project).where(Project.name == "HLM accompagnés Villeurbanne")
    )
    assert project.lead_landlord_id == landlord.id
    assert [o.id for o in project.partners] == [association.id]
    assert project.grant_cents == 12_000_050
    assert {t.value for t in project.target_public_list} == {"prioritaire_dalo", "sante_mentale"}
    # Its default intensity levels come with it (no page has to create them later).
    from app.support.queries import intensity_levels

    assert [level.name for level in intensity_levels(project.id)] == [
        "Renforcée",
        "Soutenue",
        "Modérée",
    ]


def test_bad_project_input_is_explained_and_changes_nothing(client):
    client.login(make_user(Role.ADMIN))
    landlord = make_landlord()
    association = make_organisation()
    before = db.session.scalar(select(func.count(Project.id)))
    cases = [
        (
            _form(landlord, convention_end_on="2025-01-01"),
            "La fin de la convention doit suivre son début.",
        ),
        (_form(landlord, convention_start_on="2026-02-31"), "date"),
        (_form(landlord, target_households="-3"), "Indiquez un nombre entre 0 et 100 000."),
        # The list only offers landlords; a forged id is refused by the form itself.
        (_form(landlord, lead_landlord_id=str(association.id)), "N'est pas un choix valide."),
        (_form(landlord, grant_euros="douze mille"), "Indiquez un montant en euros"),
        (_form(landlord, name=""), "Indiquez le nom du projet."),
    ]
    for data, message in cases:
        response = client.post("/admin/projets/nouveau", data=data)
        assert response.status_code == 200
        assert message in page(response), message
    assert db.session.scalar(select(func.count(Project.id))) == before


def test_the_service_refuses_a_lead_landlord_that_is_not_a_landlord(app):
    association = make_organisation()
    with pytest.raises(DomainError, match="doit être un bailleur HLM"):
        create_project(
            None, name="P", territory="T", lead_landlord_id=association.id, funding_call="autre"
        )


def test_stale_project_edit_is_refused(client):
    client.login(make_user(Role.ADMIN))
    project = make_project(name="Projet Est")
    opened = project.version
    first = client.post(
        f"/admin/projets/{project.id}/modifier",
        data=_form(project.lead_landlord, name="Projet Est (2026)", expected_version=str(opened)),
    )
    assert first.status_code == 302
    stale = client.post(
        f"/admin/projets/{project.id}/modifier",
        data=_form(project.lead_landlord, name="Projet Est bis", expected_version=str(opened)),
    )
    assert "a été modifiée" in page(stale)
    assert db.session.get(Project, project.id).name == "Projet Est (2026)"
