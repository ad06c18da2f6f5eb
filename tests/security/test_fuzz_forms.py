"""Hypothesis fuzzing of the main POST forms: whatever is typed (unicode, NUL bytes, bidi
controls, very long strings, empty values, text where a date or a number is expected,
unknown choices), the answer is never a 500, and when the input is refused (the form shown
again with its errors, or 400) no row was added or removed."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_consent
from tests.security.helpers import TEXT_KINDS, form_data, main_form, row_counts
from tests.world import build_world

ALLOWED = {200, 302, 400, 403, 404, 409}
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TRICKY = [
    "\x00",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "é",
    "𝕏",
    "\r",
    "\n",
    "<",
    "'",
    '"',
    "%",
    "a",
]
texts = st.one_of(
    st.just(""),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(TRICKY), max_size=30),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "é", "\x00", "\u202e"]), st.integers(200, 12_000)
    ),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "31/02/2025", "2025-02-30", "0000-00-00", "9999-12-31", "demain", "1e9"]),
    texts,
)
numbers = st.one_of(
    st.sampled_from(["", "-5", "1e308", "NaN", "inf", "12,50", "1 234,56", "0x10", "٣"]),
    st.integers(-(2**63), 2**63).map(str),
    st.floats(allow_nan=True).map(str),
    texts,
)
NUMBER_NAMES = re.compile(r"_euros$|^(rent|charges|debt|surface_m2|monthly|duration_minutes)$")


def _strategy(form: dict):
    fields = {}
    for name, kind, value, _ in form["fields"]:
        if name == "csrf_token" or kind in ("submit", "button", "file", "reset"):
            continue
        if name == "expected_version":
            fields[name] = st.one_of(st.just(value), numbers)
        elif kind == "date":
            fields[name] = dates
        elif kind == "number" or NUMBER_NAMES.search(name):
            fields[name] = numbers
        elif kind in ("select", "radio", "checkbox"):
            options = form["options"].get(name) or [v for n, _, v, _ in form["fields"] if n == name]
            choice = st.one_of(st.sampled_from(options), texts) if options else texts
            fields[name] = st.one_of(st.just([]), st.lists(choice, max_size=3))
        else:
            fields[name] = texts
    return st.fixed_dictionaries(fields)


FORMS = {
    "household create": ("coordinateur", "/menages/nouveau"),
    "household edit": ("coordinateur", "{H}/modifier"),
    "member": ("coordinateur", "{H}/composition/ajouter"),
    "orientation": ("coordinateur", "{H}/orientation"),
    "diagnostic": ("coordinateur", "{H}/diagnostic"),
    "visit": ("travailleur_social", "{H}/visites/nouvelle"),
    "referral": ("coordinateur", "{H}/partenaires/orientations/nouvelle"),
    "meeting": ("coordinateur", "{H}/partenaires/reunions/nouvelle"),
    "objective": ("coordinateur", "{H}/accompagnement/objectifs/nouveau"),
    "dwelling": ("coordinateur", "/logements/parc/nouveau"),
    "organisation": ("admin", "/admin/organisations/nouvelle"),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_fuzzed_form_never_fails_and_refusals_change_nothing(name, app, make_client):
    role, template = FORMS[name]
    w = build_world()
    make_consent(w.household, "sante", "sante")
    client = make_client()
    client.login(w.users[role])
    path = template.format(H=f"/menages/{w.household.id}")
    form = main_form(client.get(path).get_data(as_text=True))
    action = form["action"] or path

    @SETTINGS
    @given(values=_strategy(form))
    def fuzz(values):
        # Start from what the page holds now (the current version of an edited record).
        current = main_form(client.get(path).get_data(as_text=True))
        data = form_data(current, values)
        before = row_counts()
        response = client.post(action, data=data)
        assert response.status_code in ALLOWED, (response.status_code, data)
        if response.status_code != 302:
            assert row_counts() == before, (response.status_code, data)

    fuzz()


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_nul_byte_is_refused_without_a_write(name, app, make_client):
    """PostgreSQL cannot store a NUL byte in text: without the request-level refusal
    (app/http.py) the insert fails with a 500 there, and SQLite would store it."""
    role, template = FORMS[name]
    w = build_world()
    make_consent(w.household, "sante", "sante")
    client = make_client()
    client.login(w.users[role])
    path = template.format(H=f"/menages/{w.household.id}")
    form = main_form(client.get(path).get_data(as_text=True))
    texts_ = {n: "a\x00b" for n, kind, _, _ in form["fields"] if kind in TEXT_KINDS}
    assert texts_
    before = row_counts()
    response = client.post(form["action"] or path, data=form_data(form, texts_, choose=True))
    assert response.status_code == 400
    assert row_counts() == before


def test_a_nul_byte_in_a_search_is_refused(app, client):
    w = build_world()
    client.login(w.users["travailleur_social"])
    assert client.post("/menages/", data={"q": "a\x00b"}).status_code == 400
    assert client.get("/menages/?etape=a%00b").status_code == 400
    assert client.post("/menages/", data={"q": "ab"}, follow_redirects=True).status_code == 200
