from datetime import timedelta

from sqlalchemy import func, select

from app import create_app
from app.audit.models import AuditEntry
from app.auth.models import LoginAttempt
from app.db import db, utcnow
from app.permissions import Role
from app.users.models import User
from tests.conftest import BASE_CONFIG, CsrfClient, page
from tests.factories import PASSWORD, make_user


def _attempts() -> int:
    return db.session.scalar(select(func.count(LoginAttempt.id)))


def test_password_is_hashed_with_argon2id(app):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_then_home_shows_name_and_role(client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL, full_name="Sophie Martin")
    client.login(user)
    body = page(client.get("/accueil"))
    assert "Sophie Martin" in body
    assert "Travailleur·se social·e" in body
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "auth.login")
        )
        == 1
    )


def test_wrong_password_and_unknown_email_get_the_same_message(client):
    make_user(email="connu@exemple.fr")
    wrong = client.post(
        "/connexion", data={"email": "connu@exemple.fr", "password": "mauvais-mdp-123"}
    )
    unknown = client.post(
        "/connexion", data={"email": "inconnu@exemple.fr", "password": "mauvais-mdp-123"}
    )
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Adresse e-mail ou mot de passe incorrect." in page(response)
    assert client.get("/accueil").status_code == 302  # still anonymous


def test_empty_and_overlong_input_get_french_messages_and_change_nothing(client):
    make_user()
    before = _attempts()
    empty = client.post("/connexion", data={"email": "", "password": ""})
    assert empty.status_code == 400
    body = page(empty)
    assert "Indiquez votre adresse e-mail." in body
    assert "Indiquez votre mot de passe." in body
    long = client.post(
        "/connexion", data={"email": "a" * 300 + "@exemple.fr", "password": "x" * 500}
    )
    body = page(long)
    assert long.status_code == 400
    assert "L'adresse e-mail est trop longue." in body
    assert "Le mot de passe est trop long." in body
    assert _attempts() == before


def test_inactive_user_cannot_log_in(client):
    user = make_user(is_active=False)
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_failed_logins_are_throttled_even_with_the_right_password(client):
    user = make_user()
    for _ in range(5):
        client.post("/connexion", data={"email": user.email, "password": "mauvais-mdp-123"})
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    assert "Trop de tentatives" in page(response)
    assert client.get("/accueil").status_code == 302


def test_throttling_expires_after_the_window(client, app):
    user = make_user()
    old = utcnow() - app.config["LOGIN_WINDOW"] - timedelta(minutes=1)
    for _ in range(5):
        db.session.add(LoginAttempt(email=user.email, at=old, ip="127.0.0.1"))
    client.login(user)


def test_throttling_holds_across_two_server_processes(database_url):
    """Two app instances (as two gunicorn workers) on one database share the counters."""
    first = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    second = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    for instance in (first, second):
        instance.test_client_class = CsrfClient
    with first.app_context():
        user = make_user()
        email = user.email
        db.session.commit()
        client_a = first.test_client()
        for _ in range(3):
            client_a.post("/connexion", data={"email": email, "password": "mauvais-mdp-123"})
        db.session.remove()
    with second.app_context():
        client_b = second.test_client()
        for _ in range(2):
            client_b.post("/connexion", data={"email": email, "password": "mauvais-mdp-123"})
        refused = client_b.post("/connexion", data={"email": email, "password": PASSWORD})
        assert "Trop de tentatives" in page(refused)
        db.session.remove()
        db.engine.dispose()
    with first.app_context():
        db.engine.dispose()


def test_copied_session_cookie_stops_working_after_logout(client, make_client):
    user = make_user()
    client.login(user)
    cookie = client.get_cookie("ancrage_session")
    assert cookie is not None
    thief = make_client()
    thief.set_cookie("ancrage_session", cookie.value)
    assert thief.get("/accueil").status_code == 200  # the copy works while logged in
    client.logout()
    assert thief.get("/accueil").status_code == 302
    assert "/connexion" in thief.get("/accueil").headers["Location"]


def test_next_redirect_only_to_a_local_path(client):
    user = make_user()
    for target, expected in [
        ("/admin/utilisateurs/", "/admin/utilisateurs/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        client._csrf_token = None
        response = client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target
        client.logout()


def test_login_without_csrf_token_is_refused(client):
    user = make_user()
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "formulaire a expiré" in page(response)
    assert client.get("/accueil").status_code == 302


def test_logout_needs_post(client):
    client.login(make_user())
    assert client.get("/deconnexion").status_code == 405
    assert client.get("/accueil").status_code == 200


def test_temporary_password_must_be_replaced_before_anything_else(client):
    user = make_user(is_password_temporary=True)
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/mon-compte/mot-de-passe"
    assert client.get("/accueil").headers["Location"] == "/mon-compte/mot-de-passe"
    weak = client.post(
        "/mon-compte/mot-de-passe",
        data={"current_password": PASSWORD, "new_password": "court", "confirm": "court"},
    )
    assert "au moins 12 caractères" in page(weak)
    common = client.post(
        "/mon-compte/mot-de-passe",
        data={
            "current_password": PASSWORD,
            "new_password": "azertyuiop12",
            "confirm": "azertyuiop12",
        },
    )
    assert "trop courant" in page(common)
    new = "une phrase de passe solide"
    done = client.post(
        "/mon-compte/mot-de-passe",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert done.status_code == 302
    assert client.get("/accueil").status_code == 200
    assert db.session.get(User, user.id).is_password_temporary is False


def test_password_change_ends_other_sessions_but_keeps_this_one(client, make_client):
    user = make_user()
    other_device = make_client()
    other_device.login(user)
    client.login(user)
    new = "encore une phrase de passe"
    response = client.post(
        "/mon-compte/mot-de-passe",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/accueil").status_code == 200
    assert other_device.get("/accueil").status_code == 302


def test_wrong_current_password_changes_nothing(client):
    user = make_user()
    client.login(user)
    before = db.session.get(User, user.id).password_hash
    response = client.post(
        "/mon-compte/mot-de-passe",
        data={
            "current_password": "pas-le-bon-mot",
            "new_password": "une phrase de passe solide",
            "confirm": "une phrase de passe solide",
        },
    )
    assert "Le mot de passe actuel est incorrect." in page(response)
    assert db.session.get(User, user.id).password_hash == before
