import re

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.permissions import Role
from app.users.models import User
from tests.conftest import page
from tests.factories import make_landlord, make_organisation, make_project, make_user


def _admin(client):
    admin = make_user(Role.ADMIN)
    client.login(admin)
    return admin


def _user_form(organisation, **overrides):
    data = {
        "full_name": "Sophie Martin",
        "email": "Sophie.Martin@Exemple.fr",
        "organisation_id": str(organisation.id),
        "roles": ["travailleur_social"],
        "job_title": "Conseillère ESF",
        "phone": "",
    }
    data.update(overrides)
    return data


def test_admin_creates_an_account_with_a_temporary_password_shown_once(client, make_client):
    _admin(client)
    association = make_organisation()
    project = make_project()
    response = client.post(
        "/admin/utilisateurs/nouveau", data=_user_form(association, project_ids=[str(project.id)])
    )
    body = page(response)
    assert response.status_code == 200 and "Compte créé" in body
    temporary = re.search(r'class="temporary-password">([^<]+)<', body).group(1)
    user = db.session.scalar(select(User).where(User.email == "sophie.martin@exemple.fr"))
    assert user.roles == {Role.TRAVAILLEUR_SOCIAL}
    assert [p.id for p in user.projects] == [project.id]
    assert user.is_password_temporary
    assert temporary not in user.password_hash
    # The new user logs in with it and must choose a password first.
    newcomer = make_client()
    first = newcomer.post("/connexion", data={"email": user.email, "password": temporary})
    assert first.headers["Location"] == "/mon-compte/mot-de-passe"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created"))
    assert audit.target_id == user.id and temporary not in str(audit.details)


def test_invalid_account_form_explains_and_creates_nothing(client):
    _admin(client)
    association = make_organisation()
    existing = make_user(email="deja@exemple.fr")
    before = db.session.scalar(select(func.count(User.id)))
    cases = [
        (
            _user_form(association, email="pas-une-adresse"),
            "Cette adresse e-mail n'est pas valide.",
        ),
        (_user_form(association, full_name=""), "Indiquez le prénom et le nom."),
        (_user_form(association, full_name="x" * 300), "120 caractères au plus."),
        (_user_form(association, roles=[]), "Choisissez au moins un rôle."),
        (
            _user_form(association, email=existing.email.upper()),
            "Un compte existe déjà avec cette adresse e-mail.",
        ),
        (
            _user_form(association, roles=["personnel_bailleur"]),
            "Le rôle « Personnel du bailleur » est réservé aux comptes d'un bailleur HLM.",
        ),
        (_user_form(association, organisation_id="0"), "Choisissez l'organisation."),
    ]
    for data, message in cases:
        response = client.post("/admin/utilisateurs/nouveau", data=data)
        assert response.status_code == 200
        assert message in page(response), message
    assert db.session.scalar(select(func.count(User.id))) == before


def test_deactivating_an_account_ends_its_sessions(client, make_client):
    _admin(client)
    worker = make_user()
    session = make_client()
    session.login(worker)
    assert session.get("/accueil").status_code == 200
    response = client.post(
        f"/admin/utilisateurs/{worker.id}/activation",
        data={"expected_version": str(worker.version)},
    )
    assert response.status_code == 302
    assert session.get("/accueil").status_code == 302
    refused = session.post(
        "/connexion", data={"email": worker.email, "password": "mot-de-passe-de-test"}
    )
    assert refused.status_code == 401


def test_admin_cannot_deactivate_their_own_account(client):
    admin = _admin(client)
    client.post(
        f"/admin/utilisateurs/{admin.id}/activation", data={"expected_version": str(admin.version)}
    )
    assert db.session.get(User, admin.id).is_active


def test_password_reset_ends_sessions_and_requires_a_new_password(client, make_client):
    _admin(client)
    worker = make_user()
    session = make_client()
    session.login(worker)
    response = client.post(f"/admin/utilisateurs/{worker.id}/reinitialiser-mot-de-passe")
    assert "Mot de passe réinitialisé" in page(response)
    assert session.get("/accueil").status_code == 302
    assert db.session.get(User, worker.id).is_password_temporary


def test_stale_edit_of_an_account_is_refused_and_nothing_is_overwritten(client, make_client):
    admin = _admin(client)
    worker = make_user(full_name="Karim Haddad")
    form_opened_at = worker.version
    other_admin = make_client()
    other_admin.login(
        make_user(Role.ADMIN, full_name="Autre Admin", organisation=admin.organisation)
    )
    ok = other_admin.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            worker.organisation,
            full_name="Karim Haddad-Benali",
            email=worker.email,
            expected_version=str(form_opened_at),
        ),
    )
    assert ok.status_code == 302
    stale = client.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            worker.organisation,
            full_name="Karim H.",
            email=worker.email,
            expected_version=str(form_opened_at),
        ),
    )
    body = page(stale)
    assert "modifiée par Autre Admin à" in body
    assert db.session.get(User, worker.id).full_name == "Karim Haddad-Benali"


def test_role_change_takes_effect_at_once(client, make_client):
    _admin(client)
    landlord = make_landlord()
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord)
    session = make_client()
    session.login(staff)
    client.post(
        f"/admin/utilisateurs/{staff.id}/modifier",
        data=_user_form(
            landlord,
            full_name=staff.full_name,
            email=staff.email,
            roles=["admin"],
            expected_version=str(staff.version),
        ),
    )
    assert db.session.get(User, staff.id).roles == {Role.ADMIN}
    assert session.get("/accueil").status_code == 302  # must log in again with the new rights
