import re

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.permissions import Role
from app.reminders.models import Reminder
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


def _stale(client, minutes: int = 6) -> None:
    """The administrator typed their password ``minutes`` ago (past the 5 of account changes,
    within the 10 of other sensitive actions)."""
    with client.session_transaction() as session:
        session["auth_fresh_at"] -= minutes * 60


def test_account_changes_and_temporary_passwords_need_the_password_again(client):
    admin = _admin(client)
    association = make_organisation()
    project = make_project(name="Projet Confluence")
    worker = make_user(organisation=association, full_name="Karim Haddad")
    before_hash = worker.password_hash
    _stale(client)
    edit = f"/admin/utilisateurs/{worker.id}/modifier"
    opened = client.get(edit)
    assert opened.status_code == 302 and "/mon-compte/confirmer" in opened.headers["Location"]
    assert "Confirmez votre mot de passe" in page(client.get(opened.headers["Location"]))
    attempts = [
        client.post(
            edit,
            data=_user_form(
                association,
                full_name=worker.full_name,
                email=worker.email,
                roles=["coordinateur"],
                project_ids=[str(project.id)],
                expected_version=str(worker.version),
            ),
            headers={"Referer": f"http://localhost{edit}"},
        ),
        client.post(f"/admin/utilisateurs/{worker.id}/reinitialiser-mot-de-passe"),
        client.post("/admin/utilisateurs/nouveau", data=_user_form(association)),
        client.get("/admin/utilisateurs/nouveau"),
    ]
    for response in attempts:
        assert response.status_code == 302
        assert "/mon-compte/confirmer" in response.headers["Location"]
    # Nothing changed before the password is confirmed.
    db.session.expire_all()
    unchanged = db.session.get(User, worker.id)
    assert unchanged.roles == {Role.TRAVAILLEUR_SOCIAL} and unchanged.projects == []
    assert unchanged.password_hash == before_hash and not unchanged.is_password_temporary
    assert db.session.scalar(select(func.count(User.id)).where(User.email.like("sophie%"))) == 0
    # The saved form comes back to the form page once the password is confirmed.
    assert attempts[0].headers["Location"] == f"/mon-compte/confirmer?next={edit}"
    confirmed = client.post(
        "/mon-compte/confirmer", data={"password": "mot-de-passe-de-test", "next": edit}
    )
    assert confirmed.headers["Location"] == edit
    assert client.get(edit).status_code == 200
    saved = client.post(
        edit,
        data=_user_form(
            association,
            full_name=worker.full_name,
            email=worker.email,
            roles=["coordinateur"],
            project_ids=[str(project.id)],
            expected_version=str(worker.version),
        ),
    )
    assert saved.status_code == 302
    assert db.session.get(User, worker.id).roles == {Role.COORDINATEUR}
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "auth.reauthenticated", AuditEntry.actor_id == admin.id
        )
    )


def test_the_journal_keeps_roles_projects_and_organisation_before_and_after(client):
    admin = _admin(client)
    first_org = make_organisation(name="Trait d'Union")
    second_org = make_organisation(name="Passerelle")
    kept = make_project(name="Projet Confluence")
    added = make_project(name="Projet Vaulx")
    worker = make_user(organisation=first_org, projects=[kept])
    response = client.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            second_org,
            full_name=worker.full_name,
            email=worker.email,
            roles=["travailleur_social", "coordinateur"],
            project_ids=[str(kept.id), str(added.id)],
            expected_version=str(worker.version),
        ),
    )
    assert response.status_code == 302
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "user.updated", AuditEntry.target_id == worker.id
        )
    )
    assert entry.actor_id == admin.id
    changes = entry.details["changes"]
    assert changes["roles"] == {
        "before": ["travailleur_social"],
        "after": ["coordinateur", "travailleur_social"],
    }
    assert changes["projects"] == {
        "before": [{"id": kept.id, "name": "Projet Confluence"}],
        "after": [
            {"id": kept.id, "name": "Projet Confluence"},
            {"id": added.id, "name": "Projet Vaulx"},
        ],
    }
    assert changes["organisation"] == {
        "before": {"id": first_org.id, "name": "Trait d'Union"},
        "after": {"id": second_org.id, "name": "Passerelle"},
    }
    # A change of name only: nothing about access in the entry's changes.
    client.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            second_org,
            full_name="Nom corrigé",
            email=worker.email,
            roles=["travailleur_social", "coordinateur"],
            project_ids=[str(kept.id), str(added.id)],
            expected_version=str(db.session.get(User, worker.id).version),
        ),
    )
    latest = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.updated").order_by(AuditEntry.id.desc())
    )
    assert latest.details["changes"] == {}
    # The journal page shows it to administrators.
    assert "Projet Vaulx" in page(client.get("/admin/journal"))


def test_the_coordinators_of_a_project_are_told_when_someone_is_given_access(client, make_client):
    _admin(client)
    association = make_organisation(name="Trait d'Union")
    project = make_project(name="Projet Confluence")
    elsewhere = make_project(name="Projet Vaulx")
    coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[project])
    # A coordinator of another organisation on the same project is told too.
    partner_coordinator = make_user(
        Role.COORDINATEUR, organisation=make_organisation(), projects=[project]
    )
    other_coordinator = make_user(Role.COORDINATEUR, projects=[elsewhere])
    worker = make_user(organisation=association, full_name="Karim Haddad", projects=[elsewhere])
    client.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            association,
            full_name=worker.full_name,
            email=worker.email,
            roles=["travailleur_social"],
            project_ids=[str(project.id), str(elsewhere.id)],
            expected_version=str(worker.version),
        ),
    )
    notice = "Accès au projet « Projet Confluence » donné à Karim Haddad"
    for user, told in (
        (coordinator, True),
        (partner_coordinator, True),
        (other_coordinator, False),  # Projet Vaulx: Karim was already on it
    ):
        session = make_client()
        session.login(user)
        inbox = page(session.get("/rappels/"))
        assert (notice in inbox) is told, user
        assert "Projet Vaulx" not in inbox
    reminder = db.session.scalar(select(Reminder).where(Reminder.rule_code == "acces_projet"))
    assert reminder.project_id == project.id and reminder.household_id is None
    # The coordinator closes it like any reminder.
    session = make_client()
    session.login(coordinator)
    assert session.post(f"/rappels/{reminder.id}/fait").status_code == 302
    assert db.session.get(Reminder, reminder.id).status == "fait"
    # A new account with a project tells that project's coordinators too.
    client.post(
        "/admin/utilisateurs/nouveau",
        data=_user_form(association, project_ids=[str(project.id)]),
    )
    assert "donné à Sophie Martin" in page(session.get("/rappels/"))


def test_the_coordinators_are_told_when_a_member_is_given_a_wider_role(client, make_client):
    """Raising the roles of someone already on a project widens what they may see there:
    that project's coordinators get a notice, as for a new member. Removing a role does
    not tell anyone."""
    _admin(client)
    association = make_organisation(name="Trait d'Union")
    project = make_project(name="Projet Confluence")
    coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[project])
    worker = make_user(organisation=association, full_name="Karim Haddad", projects=[project])

    def edit(roles):
        db.session.refresh(worker)
        response = client.post(
            f"/admin/utilisateurs/{worker.id}/modifier",
            data=_user_form(
                association,
                full_name=worker.full_name,
                email=worker.email,
                roles=roles,
                project_ids=[str(project.id)],
                expected_version=str(worker.version),
            ),
        )
        assert response.status_code == 302, page(response)[:2000]

    def notices():
        return db.session.scalars(
            select(Reminder).where(Reminder.rule_code == "acces_projet").order_by(Reminder.id)
        ).all()

    edit(["travailleur_social", "coordinateur"])
    [notice] = notices()
    assert notice.project_id == project.id
    assert notice.title == "Accès au projet « Projet Confluence » élargi pour Karim Haddad"
    assert "rôle Coordinateur·rice ajouté par" in notice.body
    session = make_client()
    session.login(coordinator)
    assert notice.title in page(session.get("/rappels/"))
    edit(["coordinateur"])  # a role removed: no wider access, no notice
    assert len(notices()) == 1


def test_the_account_list_is_paged_searchable_and_comes_back_to_its_page(client):
    """A national deployment has thousands of accounts: the list shows 50 at a time, finds
    an account by part of its name or e-mail, and deactivating one from page 2 of a search
    comes back to that page."""
    from app.users.views import ACCOUNTS_PER_PAGE

    _admin(client)  # « Utilisateur n »
    organisation = make_organisation()
    for n in range(ACCOUNTS_PER_PAGE + 5):
        make_user(organisation=organisation, full_name=f"Agent {n:03d}", email=f"a{n}@ex.fr")
    make_user(organisation=organisation, full_name="Zoé Lefèvre", email="zoe@bailleur.fr")
    db.session.commit()

    first = page(client.get("/admin/utilisateurs/"))
    assert first.count("/modifier") == ACCOUNTS_PER_PAGE
    assert "Agent 000" in first and "Zoé Lefèvre" not in first
    assert "Comptes 1 à 50" in first and "Suivante" in first

    second = page(client.get("/admin/utilisateurs/?page=2"))
    assert "Agent 050" in second and "Agent 000" not in second and "Zoé Lefèvre" in second

    assert "Zoé Lefèvre" in page(client.get("/admin/utilisateurs/?q=lefèvre"))
    by_email = page(client.get("/admin/utilisateurs/?q=ZOE@bailleur"))
    assert "Zoé Lefèvre" in by_email and "Agent 001" not in by_email
    nothing = page(client.get("/admin/utilisateurs/?q=personne-de-ce-nom"))
    assert "Aucun compte ne correspond à cette recherche." in nothing
    # A page number or a state that means nothing is the first page, never an error.
    assert client.get("/admin/utilisateurs/?page=abc&etat=inconnu").status_code == 200

    agent = db.session.scalar(select(User).where(User.full_name == "Agent 052"))
    searched = page(client.get("/admin/utilisateurs/?q=agent&page=2"))
    back = re.search(r'name="retour" value="([^"]+)"', searched).group(1)
    response = client.post(
        f"/admin/utilisateurs/{agent.id}/activation",
        data={"expected_version": str(agent.version), "retour": back},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/utilisateurs/?page=2&q=agent"
    inactive = page(client.get("/admin/utilisateurs/?etat=desactives"))
    assert "Agent 052" in inactive and "Agent 051" not in inactive
    # Only a page of this list may be the way back.
    for elsewhere in (
        "https://ailleurs.example/",
        "/accueil",
        "//ailleurs.example/admin/utilisateurs/",
        "/\\ailleurs.example/admin/utilisateurs/",
    ):
        response = client.post(
            f"/admin/utilisateurs/{agent.id}/activation",
            data={"expected_version": str(agent.version + 1), "retour": elsewhere},
        )
        assert response.headers["Location"] == "/admin/utilisateurs/", elsewhere


def test_logging_in_does_not_make_an_open_edit_of_the_account_stale(client, make_client):
    """Logging in only notes the time of the login: the account's version is unchanged, so
    an administrator's form opened before is saved, and two logins of one account at once
    (a double click, two devices) cannot refuse one another."""
    _admin(client)
    worker = make_user(full_name="Karim Haddad")
    db.session.commit()
    form_opened_at = worker.version
    stamped = (worker.updated_at, worker.updated_by_id)
    for _ in range(2):
        session = make_client()
        session.login(worker)
        assert session.get("/accueil").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, worker.id).version == form_opened_at
    assert db.session.get(User, worker.id).last_login_at is not None
    # Nor does it read as an edit of the account ("modifiée par … à …").
    reloaded = db.session.get(User, worker.id)
    assert (reloaded.updated_at, reloaded.updated_by_id) == stamped
    saved = client.post(
        f"/admin/utilisateurs/{worker.id}/modifier",
        data=_user_form(
            worker.organisation,
            full_name="Karim Haddad-Benali",
            email=worker.email,
            expected_version=str(form_opened_at),
        ),
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, worker.id).full_name == "Karim Haddad-Benali"
