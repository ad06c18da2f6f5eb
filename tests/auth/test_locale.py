"""The interface is in French only: no language choice, dates and amounts the French way."""

from datetime import date, timedelta

from babel.dates import format_date as babel_format_date

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


def test_long_dates_read_as_babel_writes_them_in_french():
    """``format_date`` writes the long French date itself (it is on every page, many times):
    the same text as Babel's ``d MMMM y`` in fr_FR, every day of a leap year and around it."""
    day = date(2023, 12, 25)
    while day <= date(2025, 1, 5):
        assert format_date(day) == babel_format_date(day, "d MMMM y", locale="fr_FR")
        day += timedelta(days=1)
    assert format_date(date(2026, 3, 1)) == "1 mars 2026"
    assert format_date(date(2026, 8, 15), "short") == "15/08/2026"
