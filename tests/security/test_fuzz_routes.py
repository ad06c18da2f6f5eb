"""Every route of the url_map, as every role, with hostile values in its path, its query
string and its form fields: never a 500, and the database unchanged after every refusal.

Where the values come from, honestly:
- path parameters: each ``<...>`` segment of the rule, replaced one at a time in the
  permission matrix's URL (tests/test_permission_matrix.py fills them with the world);
- query parameters: the names each view module reads (``request.args.get("x")``,
  ``int_arg("x")``, ``request.values...``), found in its source, plus the common ones;
- form fields: the POST forms of the pages the role can open, read like a browser
  (tests/security/helpers.py), each field hostile in turn while the others hold plausible
  values (so a hostile number reaches the service, not just the form's first refusal).

CI runs a fixed list of hostile values, every query parameter of a page at once (a few
minutes per database); ``FUZZ_FULL=1`` adds values and sends each query parameter alone.
"""

from __future__ import annotations

import inspect
import os
import re
from datetime import date
from importlib import import_module
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from app.db import db
from tests.factories import make_consent
from tests.security.helpers import LOG_TABLES, parse
from tests.test_permission_matrix import MATRIX
from tests.world import ROLES, build_world

FULL = os.environ.get("FUZZ_FULL") == "1"
# 401: a wrong password (re-authentication); 405: a method the route lacks; 409: a stale
# edit; 413: a body past MAX_CONTENT_LENGTH; 429: throttled.
ALLOWED = {200, 302, 303, 400, 401, 403, 404, 405, 409, 413, 429}

HUGE = "9" * 24
INTS = [HUGE, "-1", str(2**63), "-" + "9" * 20, "0"]
NUMBERS = [*INTS, "1e309", "NaN", "1e20"] + (["-Infinity", "2147483648", "1,5e3"] if FULL else [])
DATES = ["9999-12-31", "0001-01-01", "1e309"] + (["2025-02-30", "99999-01-01"] if FULL else [])
TEXTS = ["\x00", "\u202eevil\u202c", "🏠👪🔑", "x" * 1_000_000]
# In a URL: 10 KB stands for "very long" (real servers refuse request lines past ~8 KB).
URL_TEXTS = ["\x00", "\u202eevil", "🏠", "x" * 10_000, "../..", "%"]
QUERY_VALUES = [*NUMBERS, *DATES, *URL_TEXTS]
PATH_INTS = [HUGE, str(2**63), str(2**31), "0", "-1"]
PATH_TEXTS = [HUGE, "\u202e", "🏠", "x" * 10_000, "%00", "..%2F.."]

COMMON_QUERY = (
    "page",
    "tri",
    "ordre",
    "projet",
    "referent",
    "bailleur",
    "statut",
    "q",
    "recherche",
    "mois",
    "debut",
    "fin",
    "jours",
    "depuis",
    "next",
)
_READS = re.compile(
    r"""(?:args|values|form)\.get(?:list)?\(\s*["'](\w+)["']|int_arg\(\s*["'](\w+)["']"""
)
NUMBER_NAMES = re.compile(r"_euros$|^(rent|charges|debt|surface_m2|monthly|caseload_weight)$")
# Ends the session the other requests run in; it takes no field anyway.
NOT_FUZZED = {"auth.logout POST"}
# Writes that answer 200 when they succeed (they show a secret once instead of redirecting):
# for them a 200 is not a refusal.
SHOWN_ON_SUCCESS = {
    "/rappels/calendrier",
    "/mon-compte/double-authentification/codes-de-secours",
    "/mon-compte/double-authentification/activer",
    "/logements/clients-api/nouveau",  # the API client's token, shown once
}


def _query_names(app, endpoint: str) -> list[str]:
    """The query parameters the endpoint's module reads, plus the common ones."""
    module = import_module(app.view_functions[endpoint].__module__)
    source = inspect.getsource(module)
    found = {a or b for a, b in _READS.findall(source)}
    return sorted(found | set(COMMON_QUERY))


def _counts() -> tuple[int, ...]:
    """Row counts of every table but the logs, in one query."""
    db.session.expire_all()
    tables = [t for t in db.metadata.sorted_tables if t.name not in LOG_TABLES]
    row = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    db.session.commit()
    return tuple(row)


class Fuzzer:
    def __init__(self, app, make_client, role: str):
        self.app, self.role = app, role
        self.world = build_world()
        make_consent(self.world.household, "sante", "sante")
        self.client = make_client()
        self._make_client = make_client
        self.login()
        self.requests = 0

    def login(self):
        if self.role != "anonyme":
            self.client.login(self.world.users[self.role])

    def send(self, method: str, path: str, data=None, *, what: str = ""):
        """One request; for a write refused (anything but a redirect), no row added or
        removed. (A GET may fill a cache table: reads are not counted.)"""
        before = _counts() if method != "GET" else None
        if method == "GET":
            response = self.client.get(path)
        else:
            response = self.client.open(path, method=method, data=data or {})
        self.requests += 1
        status = response.status_code
        assert status in ALLOWED, (self.role, method, path[:300], what, status)
        if (
            before is not None
            and status != 302
            and not (status == 200 and urlsplit(path).path in SHOWN_ON_SUCCESS)
        ):
            assert _counts() == before, ("refused but written", self.role, method, what)
        if status == 302 and "/connexion" in response.headers.get("Location", ""):
            self.login()  # a refusal that ended the session (e.g. a deactivated account)
        return response

    def csrf(self) -> str:
        return self.client.csrf_token()


def _routes(app) -> dict[str, object]:
    return {
        f"{rule.endpoint} {method}": rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _path_variants(rule, path: str):
    """``path`` with each ``<...>`` segment of ``rule`` replaced by hostile values."""
    rule_parts, parts = rule.rule.split("/"), path.split("/")
    assert len(rule_parts) == len(parts), (rule.rule, path)
    for i, segment in enumerate(rule_parts):
        match = re.fullmatch(r"(.*)<(?:(\w+):)?\w+>(.*)", segment)
        if not match:
            continue
        prefix, converter, suffix = match.groups()
        values = PATH_INTS if converter == "int" else PATH_TEXTS
        for value in values:
            yield "/".join([*parts[:i], prefix + value + suffix, *parts[i + 1 :]])


def _expect(key: str, role: str) -> int | None:
    case = MATRIX.get(key)
    return case.expect.get(role) if case else None


@pytest.mark.parametrize("role", ROLES)
def test_hostile_path_values_never_fail(role, app, make_client):
    fuzz = Fuzzer(app, make_client, role)
    for key, rule in sorted(_routes(app).items()):
        if key in NOT_FUZZED:
            continue
        method = key.rsplit(" ", 1)[1]
        path = MATRIX[key].path.format(w=fuzz.world)
        for variant in _path_variants(rule, path):
            data = {"csrf_token": fuzz.csrf()} if method != "GET" else None
            response = fuzz.send(method, variant, data, what=key)
            if rule.arguments and "int" in rule.rule and variant != path:
                # An id that cannot exist is a 404 (or the login page, or a refused role).
                assert response.status_code in {302, 403, 404}, (key, variant[:120])
    assert fuzz.requests > 0


@pytest.mark.parametrize("role", ROLES)
def test_hostile_query_values_never_fail(role, app, make_client):
    fuzz = Fuzzer(app, make_client, role)
    for key in sorted(_routes(app)):
        endpoint, method = key.rsplit(" ", 1)
        if method != "GET" or _expect(key, role) != 200:
            continue
        path = MATRIX[key].path.format(w=fuzz.world)
        names = _query_names(app, endpoint)
        for value in QUERY_VALUES:  # every parameter at once
            fuzz.send("GET", f"{path}?{urlencode(dict.fromkeys(names, value))}", what=key)
        if not FULL:
            continue
        for name in names:  # each alone (one refused value cannot hide another)
            for value in QUERY_VALUES:
                fuzz.send("GET", f"{path}?{urlencode({name: value})}", what=key)


# --- forms --------------------------------------------------------------------------------


def _plausible(name: str, kind: str, today: date) -> str:
    """A value the form would accept for an empty field, so that only the hostile field is
    refused (or reaches the service)."""
    if kind == "date":
        return today.isoformat()
    if kind == "number" or NUMBER_NAMES.search(name):
        return "1" if name == "caseload_weight" else "30"
    if kind == "email":
        return "fuzz@example.org"
    if "postal" in name:
        return "69001"
    if "phone" in name:
        return "06 01 02 03 04"
    if kind == "month" or name == "month":
        return today.strftime("%Y-%m")
    return "Texte ordinaire"


def _baseline(form: dict, today: date) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    radios: dict[str, str] = {}
    for name, kind, value, checked in form["fields"]:
        if kind in ("submit", "button", "file", "reset"):
            continue
        if kind == "radio":
            radios.setdefault(name, value)
            if checked:
                radios[name] = value
        elif kind == "checkbox":
            if checked:
                data.setdefault(name, []).append(value or "y")
        elif kind == "select":
            options = [v for v in form["options"].get(name, []) if v]
            data.setdefault(name, []).append(value or (options[0] if options else ""))
        else:
            data.setdefault(name, []).append(value or _plausible(name, kind, today))
    for name, value in radios.items():
        data[name] = [value]
    return data


def _hostile_posts(form: dict, today: date):
    """(what, data) pairs: each field hostile in turn, then every text field at once."""
    base = _baseline(form, today)
    texts = []
    for name, kind, _, _ in form["fields"]:
        if name == "csrf_token" or kind in ("submit", "button", "file", "reset"):
            continue
        if kind in ("text", "textarea", "search", "tel", "email", "password") and not (
            NUMBER_NAMES.search(name)
        ):
            texts.append(name)
            continue
        values = DATES if kind == "date" else NUMBERS
        for value in values:
            yield f"{name}={value[:30]!r}", {**base, name: [value]}
    for value in TEXTS:
        if texts:
            yield f"texts={value[:10]!r}", {**base, **{name: [value] for name in texts}}


# Posts that end or remove the world's records run last, so that the others still find them.
_DESTRUCTIVE = re.compile(r"end_|close_|glissement|remove_|withdraw|toggle|revoke|reset_|disable")


def _destructive_last(key: str) -> tuple[bool, str]:
    return bool(_DESTRUCTIVE.search(key)), key


def _action(form: dict, page_path: str) -> str:
    return urlsplit(form["action"]).path if form["action"] else page_path


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonyme"] + ["anonyme"])
def test_hostile_form_values_never_fail_and_refusals_write_nothing(role, app, make_client):
    from app.formatting import today_paris

    fuzz = Fuzzer(app, make_client, role)
    today = today_paris()
    routes = _routes(app)
    pages = [
        MATRIX[key].path.format(w=fuzz.world)
        for key in sorted(routes)
        if key.endswith(" GET") and _expect(key, role) == 200
    ]
    # The POST forms of every page the role can open, by the path they post to.
    forms: dict[str, list[dict]] = {}
    for path in pages:
        response = fuzz.send("GET", path)
        if response.mimetype != "text/html":
            continue
        for form in parse(response.get_data(as_text=True)).forms:
            if form["method"] == "post":
                forms.setdefault(_action(form, path), []).append(form)
    fuzzed = 0
    for key in sorted(routes, key=_destructive_last):
        method = key.rsplit(" ", 1)[1]
        if method != "POST" or key in NOT_FUZZED or _expect(key, role) not in (200, 302):
            continue
        path = MATRIX[key].path.format(w=fuzz.world)
        found = {id(f): f for f in forms.get(path, []) if len(f["fields"]) > 1}.values() or [
            {"action": path, "fields": [("expected_version", "hidden", "", False)], "options": {}}
        ]
        for form in found:
            for what, data in _hostile_posts(form, today):
                data["csrf_token"] = [fuzz.csrf()]
                fuzz.send("POST", path, data, what=f"{key} {what}")
                fuzzed += 1
    # Whatever the accepted posts stored, every page still answers.
    for path in pages:
        fuzz.send("GET", path, what="after the fuzz")
    if role != "anonyme":
        feed = f"/calendrier/{fuzz.world.calendar_token}.ics"
        fuzz.send("GET", feed, what="calendar feed")
    assert fuzzed > 0 or role in ("anonyme",)
