"""Typed search terms stay on the server (``search_term``), not in the session cookie.

The session cookie is signed, not encrypted: anything in it is readable on the device and by
whatever logs cookies. The result URL carries only ``recherche=<token>``; the term behind it
is found only for the user and the browser session that typed it, for at most the session's
absolute lifetime, and is deleted at logout."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.search import SearchTerm
from tests.conftest import page
from tests.world import build_world

TERM = "Philodendron"


@pytest.fixture
def w(app):
    world = build_world()
    db.session.commit()
    return world


def _session_of(app, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _search(client, text: str) -> str:
    response = client.post("/menages/", data={"q": text})
    assert response.status_code == 302
    return response.location


def _terms() -> list[SearchTerm]:
    db.session.expire_all()
    return list(db.session.scalars(select(SearchTerm)))


def test_the_cookie_holds_no_term_and_the_url_only_a_token(app, client, w):
    user = w.users["coordinateur"]
    client.login(user)
    url = _search(client, TERM)
    assert TERM.lower() not in url.lower()
    assert list(parse_qs(urlsplit(url).query)) == ["recherche"]
    session = _session_of(app, client)
    assert TERM.lower() not in repr(session).lower()
    [row] = _terms()
    assert (row.term, row.user_id) == (TERM, user.id)
    assert row.token == parse_qs(urlsplit(url).query)["recherche"][0]
    assert row.session_key == session["search_session"]
    # The page still shows what was typed, and the search applied.
    body = page(client.get(url))
    assert f'value="{TERM}"' in body
    assert "Aucun ménage ne correspond" in body


def test_an_earlier_search_still_works_for_the_back_button(client, w):
    client.login(w.users["coordinateur"])
    first = _search(client, "zzz-personne")
    second = _search(client, w.household.reference)
    assert "Aucun ménage ne correspond" in page(client.get(first))
    assert w.household.reference in page(client.get(second))


def test_another_users_token_finds_nothing(client, make_client, w):
    client.login(w.users["coordinateur"])
    searched = _search(client, "zzz-personne")
    other = make_client()
    other.login(w.users["travailleur_social"])
    other.post("/menages/", data={"q": "autre chose"})  # has a search session of their own
    body = page(other.get(searched))
    assert "zzz-personne" not in body
    assert w.household.reference in body  # the unfiltered list


def test_an_expired_term_finds_nothing_and_is_deleted_at_the_next_search(app, client, w):
    client.login(w.users["coordinateur"])
    searched = _search(client, "zzz-personne")
    lifetime = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    db.session.execute(
        update(SearchTerm).values(created_at=utcnow() - lifetime - timedelta(minutes=1))
    )
    db.session.commit()
    body = page(client.get(searched))
    assert "zzz-personne" not in body
    assert w.household.reference in body
    _search(client, "autre recherche")
    assert [row.term for row in _terms()] == ["autre recherche"]


def test_logout_deletes_the_users_terms(client, make_client, w):
    user = w.users["coordinateur"]
    client.login(user)
    _search(client, "un nom")
    _search(client, "un autre nom")
    colleague = make_client()
    colleague.login(w.users["travailleur_social"])
    _search(colleague, "le sien")
    assert len(_terms()) == 3
    client.logout()
    assert [row.term for row in _terms()] == ["le sien"]


def test_a_session_keeps_a_bounded_number_of_terms(client, w):
    from app.search import KEPT

    client.login(w.users["coordinateur"])
    for i in range(KEPT + 5):
        _search(client, f"terme {i}")
    _search(client, "terme 3")  # typed again: one row, the newest
    terms = [row.term for row in _terms()]
    assert len(terms) == KEPT
    assert terms.count("terme 3") == 1
    assert "terme 0" not in terms and f"terme {KEPT + 4}" in terms
    assert db.session.scalar(select(func.count()).select_from(SearchTerm)) == KEPT
