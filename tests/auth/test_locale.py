"""The interface is in French only: no language choice, dates and amounts the French way."""

from datetime import date

from app.formatting import format_date, format_money
from tests.conftest import page
from tests.factories import make_user


def test_every_page_is_french(client):
    body = page(client.get("/connexion"))
    assert '<html lang="fr">' in body and "Se connecter" in body


def test_the_account_page_offers_no_language_choice(client):
    client.login(make_user())
    body = page(client.get("/mon-compte/"))
    assert '<html lang="fr">' in body and "Se déconnecter" in body
    assert "Langue" not in body and "English" not in body
    assert 'name="locale"' not in body


def test_posting_a_language_to_the_account_page_is_not_an_action(client):
    client.login(make_user())
    assert client.post("/mon-compte/", data={"locale": "en"}).status_code == 405
    assert "Se déconnecter" in page(client.get("/mon-compte/"))


def test_dates_and_amounts_keep_their_french_form():
    assert format_date(date(2026, 3, 5)) == "5 mars 2026"
    assert format_money(123456) == "1\u202f234,56\u00a0€"
