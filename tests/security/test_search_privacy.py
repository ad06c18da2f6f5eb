"""Each role searches only the fields it may read, and typed text is matched literally.

Landlord staff see a household's reference, its head's name, its dwelling and lease, not the
other members (their pages hide them). Before, the list search matched every member's name
and did not escape ``%``/``_``: growing a hidden name letter by letter (``q%``, ``qu%``…)
recovered it. Here a distinctive hidden member name is planted and searched every way a
landlord could (whole, last name, prefixes, patterns), on the query and on the pages."""

from __future__ import annotations

import pytest

from app.db import db
from app.households.models import search_key
from app.households.queries import ListFilters, household_list
from app.search import contains, escape_like
from tests.factories import make_household, make_member
from tests.world import build_world

HIDDEN_FIRST, HIDDEN_LAST = "Ysoline", "Quarterolli"
HEAD_FIRST, HEAD_LAST = "Aïcha", "Bensaïd"
LEASE = "BG-2026-77"
STREET = "14 rue des Tanneurs"

# What a landlord might type to reach the hidden name: the name itself, pieces of it, and
# LIKE patterns (which must now be plain characters).
HIDDEN_PROBES = [
    f"{HIDDEN_FIRST} {HIDDEN_LAST}",
    HIDDEN_LAST,
    HIDDEN_FIRST,
    "quarter",
    "ysol",
    "%quarterolli%",
    "q_arterolli",
    "%y%s%o%l%",
    "quarterol_i",
]
WILDCARDS = ["%", "_", "%%", "__", "%_%", "/", "/%", "\\%"]


@pytest.fixture
def w(app):
    w = build_world()
    head = w.household.head
    head.first_name, head.last_name = HEAD_FIRST, HEAD_LAST
    head.search_name = search_key(f"{HEAD_FIRST} {HEAD_LAST}")
    w.member.first_name, w.member.last_name = HIDDEN_FIRST, HIDDEN_LAST
    w.member.search_name = search_key(f"{HIDDEN_FIRST} {HIDDEN_LAST}")
    w.occupancy.lease_reference = LEASE
    w.occupancy.dwelling.address = STREET
    w.occupancy.dwelling.search_address = search_key(f"{STREET} 69008 Lyon")
    db.session.commit()
    return w


def _refs(user, q: str) -> list[str]:
    return [h.reference for h in db.session.scalars(household_list(user, ListFilters(q=q)))]


def test_landlord_finds_the_household_by_the_fields_they_read(w):
    landlord = w.users["bailleur"]
    for q in (HEAD_LAST, f"{HEAD_FIRST} {HEAD_LAST}", LEASE.lower(), "tanneurs", "m-2026-0001"):
        assert _refs(landlord, q) == ["M-2026-0001"], q


def test_landlord_never_finds_the_household_by_a_hidden_member_name(w):
    landlord = w.users["bailleur"]
    for q in HIDDEN_PROBES + WILDCARDS:
        assert _refs(landlord, q) == [], q
    # Letter by letter, as the attack did: no prefix of the hidden last name that is not
    # also in a field the landlord reads ever finds the household.
    readable = search_key(f"{HEAD_FIRST} {HEAD_LAST} {LEASE} {STREET} 69008 lyon m-2026-0001")
    for end in range(1, len(HIDDEN_LAST) + 1):
        prefix = search_key(HIDDEN_LAST[:end])
        expected = ["M-2026-0001"] if prefix in readable else []
        assert _refs(landlord, prefix) == expected, prefix
        assert _refs(landlord, prefix + "%") == [], prefix + "%"


def test_social_worker_and_coordinator_find_the_household_by_any_member(w):
    for role in ("travailleur_social", "coordinateur"):
        user = w.users[role]
        for q in (f"{HIDDEN_FIRST} {HIDDEN_LAST}", HIDDEN_LAST, "quarter", HEAD_LAST, LEASE):
            assert _refs(user, q) == ["M-2026-0001"], (role, q)


def test_percent_and_underscore_typed_by_a_worker_match_literally(w):
    coordinator = w.users["coordinateur"]
    percent = make_household(w.project, reference="M-2026-0100", last_name="Cent")
    percent.current_address = "Résidence 100% solidaire"
    percent.search_address = search_key(percent.current_address)
    underscore = make_household(w.project, reference="M-2026-0101", last_name="Jean")
    make_member(underscore, "Marie_Lou", "Jean")
    slash = make_household(w.project, reference="M-2026-0102", last_name="Bâtiment")
    slash.current_address = "Bâtiment A/B"
    slash.search_address = search_key(slash.current_address)
    db.session.commit()
    assert _refs(coordinator, "%") == ["M-2026-0100"]
    assert _refs(coordinator, "100%") == ["M-2026-0100"]
    assert _refs(coordinator, "1_0") == []  # "_" is not "any character"
    assert _refs(coordinator, "_") == ["M-2026-0101"]
    assert _refs(coordinator, "marie_lou") == ["M-2026-0101"]
    assert _refs(coordinator, "marie%") == []
    assert _refs(coordinator, "a/b") == ["M-2026-0102"]  # the escape character itself
    assert _refs(coordinator, "/") == ["M-2026-0102"]
    assert sorted(_refs(coordinator, "")) == [
        "M-2026-0001",
        "M-2026-0100",
        "M-2026-0101",
        "M-2026-0102",
    ]


def _found(client, path: str, q: str, reference: str) -> bool:
    response = client.post(path, data={"q": q}, follow_redirects=True)
    assert response.status_code == 200, (path, q)
    return reference in response.get_data(as_text=True)


LANDLORD_LISTS = ("/menages/", "/logements/")


def test_landlord_pages_never_find_the_household_by_a_hidden_member_name(w, client):
    client.login(w.users["bailleur"])
    for path in LANDLORD_LISTS:
        assert _found(client, path, HEAD_LAST, "M-2026-0001"), path  # the check can succeed
        assert not _found(client, path, "zzzrien", "M-2026-0001"), path
        for q in HIDDEN_PROBES + WILDCARDS:
            assert not _found(client, path, q, "M-2026-0001"), (path, q)
    # The dwelling stock searches addresses only; a wildcard is a plain character there too.
    street = STREET.split(" ", 1)[1]
    assert _found(client, "/logements/parc", street, STREET)
    for q in WILDCARDS:
        assert not _found(client, "/logements/parc", q, STREET), q


def test_social_worker_page_finds_the_household_by_a_member_name(w, client):
    client.login(w.users["travailleur_social"])
    assert _found(client, "/menages/", HIDDEN_LAST, "M-2026-0001")
    assert not _found(client, "/menages/", "%", "M-2026-0001")


def test_escape_like_escapes_the_wildcards_and_the_escape_character():
    assert escape_like("100%_a/b") == "100/%/_a//b"
    sql = str(contains(db.metadata.tables["household"].c.search_address, "x"))
    assert "LIKE" in sql and "ESCAPE '/'" in sql
