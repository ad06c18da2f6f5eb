from app.db import db
from app.users.models import User
from tests.conftest import page
from tests.factories import make_user


def test_french_is_the_default_language(client):
    body = page(client.get("/connexion"))
    assert '<html lang="fr">' in body and "Se connecter" in body


def test_a_user_can_switch_the_interface_to_english_and_back(client):
    user = make_user()
    client.login(user)
    response = client.post("/mon-compte/", data={"locale": "en"})
    assert response.status_code == 302
    body = page(client.get("/mon-compte/"))
    assert '<html lang="en">' in body
    assert "Log out" in body and "My account" in body and "Interface language" in body
    assert db.session.get(User, user.id).locale == "en"
    client.post("/mon-compte/", data={"locale": "fr"})
    assert "Se déconnecter" in page(client.get("/mon-compte/"))


def test_an_unknown_language_is_refused(client):
    client.login(make_user())
    response = client.post("/mon-compte/", data={"locale": "de"})
    assert response.status_code == 200
    assert "Se déconnecter" in page(response)
