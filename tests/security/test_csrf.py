"""A forged POST (no CSRF token) is refused on every POST route of the permission matrix,
and changes nothing in the database."""

from __future__ import annotations

import pytest

from tests.security.helpers import snapshot
from tests.test_permission_matrix import MATRIX
from tests.world import ROLES, build_world

# The JSON API (/api/) is authenticated by a bearer token only: a browser's session cookie
# never reaches it (401), so a forged cross-site POST has nothing to ride on and the API is
# exempt from CSRF tokens (tests/api check the 401 without a token).
NO_COOKIE_ROUTES = {"api_v1.post_rent_lines POST"}
POST_ROUTES = sorted(
    route for route in MATRIX if route.endswith(" POST") and route not in NO_COOKIE_ROUTES
)


def _role_that_reaches_the_view(route: str) -> str:
    """A role the matrix lets through (the forged request would otherwise be served)."""
    expect = MATRIX[route].expect
    for role in ROLES:
        if role != "anonyme" and expect[role] not in (403, 404):
            return role
    return "anonyme"


def test_every_post_route_is_covered():
    assert len(POST_ROUTES) > 40


@pytest.mark.parametrize("chunk", range(4))
def test_forged_post_without_token_is_refused(chunk, app, make_client):
    world = build_world()
    clients = {}
    for role in ROLES:
        clients[role] = make_client()
        if role != "anonyme":
            clients[role].login(world.users[role])
    before = snapshot()
    answers = {}
    for route in POST_ROUTES[chunk::4]:
        case = MATRIX[route]
        role = _role_that_reaches_the_view(route)
        path = case.path.format(w=world)
        data = {"expected_version": "1", "version": "1", **(case.data or {})}
        response = clients[role].post(path, csrf=False, data=data)
        answers[route, role] = response.status_code
        # A token of another session is no better than none.
        other = clients["autre_travailleur_social"].csrf_token()
        response = clients[role].post(path, csrf=False, data={**data, "csrf_token": other})
        answers[route, role, "foreign token"] = response.status_code
    refused = {key: status for key, status in answers.items() if status != 400}
    assert not refused, f"Forged POSTs not refused with 400: {refused}"
    assert snapshot() == before
