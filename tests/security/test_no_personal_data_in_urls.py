"""No member name, e-mail or phone number in any URL the pages link to or post to.

The list search is the one place a name can enter a URL: its form is a GET (``q=``), so a
name typed in the box sits in the address bar, the browser history and the access log.
That choice is the lead's to make (a POST search breaks bookmarkable, back-button friendly
lists); this file pins what the application itself emits: the links and form actions of
the pages, including the result page of a search by name, never carry personal data."""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from app.households.models import search_key
from tests.security.helpers import parse
from tests.world import build_world

LAST_NAME = "Vandermonde"
FIRST_NAME = "Philomène"
EMAIL = "famille.vandermonde@example.org"
PHONE = "06 99 88 77 66"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", unquote_plus(text)).encode("ascii", "ignore").decode()
    return text.lower().replace(" ", "").replace(".", "").replace("-", "")


FORBIDDEN = [_plain(v) for v in (LAST_NAME, FIRST_NAME, EMAIL, PHONE, "vandermonde")]


def _urls(body: str) -> list[str]:
    """Addresses the browser requests from this site. ``tel:`` and ``mailto:`` links (the
    household's own phone and e-mail, click to call) never reach a server or its logs."""
    parsed = parse(body)
    urls = parsed.links + [form["action"] for form in parsed.forms if form["action"]]
    return [u for u in urls if not u.lower().startswith(("tel:", "mailto:"))]


def _without_the_typed_search(url: str) -> str:
    """The list's sort and page links repeat the search the user typed (``q=``): that is the
    GET search form reported to the lead, not a new disclosure. Anything else counts."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "q"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _world():
    w = build_world()
    h = w.household
    h.head.last_name = LAST_NAME
    h.head.first_name = FIRST_NAME
    w.member.last_name = LAST_NAME
    h.head.search_name = search_key(f"{FIRST_NAME} {LAST_NAME}")
    w.member.search_name = search_key(f"{w.member.first_name} {LAST_NAME}")
    h.email, h.phone = EMAIL, PHONE
    return w


def _walk(client, paths):
    offending, visited = {}, 0
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        visited += 1
        for url in _urls(response.get_data(as_text=True)):
            plain = _plain(_without_the_typed_search(url))
            if any(value in plain for value in FORBIDDEN):
                offending.setdefault(path, []).append(url)
    return offending, visited


def _household_pages(w):
    H = f"/menages/{w.household.id}"
    tabs = ("", "/composition", "/equipe", "/accompagnement", "/partenaires", "/logement")
    return [H + tab for tab in tabs] + [H + "/synthese", H + "/rappels", H + "/modifier"]


def test_social_worker_pages_carry_no_personal_data_in_urls(app, client):
    w = _world()
    client.login(w.users["travailleur_social"])
    # The search page shows the household (so the check below reads a real result list).
    found = client.get("/menages/?q=" + LAST_NAME).get_data(as_text=True)
    assert f"/menages/{w.household.id}" in found
    offending, visited = _walk(
        client,
        [
            "/accueil",
            "/menages/",
            "/menages/?q=" + LAST_NAME,
            "/rappels/",
            "/logements/",
            *_household_pages(w),
        ],
    )
    assert visited >= 10
    assert not offending, offending


def test_coordinator_pages_carry_no_personal_data_in_urls(app, client):
    w = _world()
    client.login(w.users["coordinateur"])
    offending, visited = _walk(
        client,
        [
            "/accueil",
            "/menages/?q=" + LAST_NAME,
            "/pilotage/",
            "/pilotage/menages",
            "/pilotage/dossiers-en-souffrance",
            "/pilotage/indicateurs",
            f"/menages/{w.household.id}/consultations",
            *_household_pages(w),
        ],
    )
    assert visited >= 10
    assert not offending, offending


def test_the_detector_sees_a_name_in_a_url():
    """The check above can fail: a URL with the name, accents or encoding aside, is caught."""
    assert any(v in _plain("/menages/?q=philom%C3%A8ne+Vandermonde") for v in FORBIDDEN)
    assert any(v in _plain("/x?tel=06.99.88.77.66") for v in FORBIDDEN)
    leaky = _without_the_typed_search("/menages/?q=a&nom=Vandermonde")
    assert any(v in _plain(leaky) for v in FORBIDDEN)
