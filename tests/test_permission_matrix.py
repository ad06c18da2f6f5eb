"""Every route × every role (and users of other organisations), with the exact status.

A route missing from ``MATRIX`` fails ``test_every_route_is_in_the_matrix``: adding a view
means deciding, here, who may reach it.

Statuses: 200 page shown (for a POST with empty data: the form shown again with its errors),
302 redirect (anonymous → login, or an action done), 403 the role lacks the permission,
404 the record is outside the user's scope (never a 403 that would confirm it exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.world import ROLES, build_world


@dataclass(frozen=True)
class Case:
    path: str  # formatted with the world: "/admin/projets/{w.project.id}/modifier"
    expect: dict[str, int] = field(default_factory=dict)
    data: dict | None = None


def only(
    *roles: str, ok: int = 200, refused: int = 403, anonymous: int = 302, **exceptions: int
) -> dict[str, int]:
    """``roles`` get ``ok``; other logged-in roles ``refused``; anonymous is sent to login."""
    expect = {role: (ok if role in roles else refused) for role in ROLES}
    expect["anonyme"] = anonymous
    expect.update(exceptions)
    return expect


def everyone(ok: int = 200, anonymous: int = 302) -> dict[str, int]:
    return only(*ROLES, ok=ok, anonymous=anonymous)


ADMIN = ("admin",)

MATRIX: dict[str, Case] = {
    # auth and home
    "auth.login GET": Case("/connexion", everyone(ok=302, anonymous=200)),
    "auth.login POST": Case("/connexion", everyone(ok=302, anonymous=400)),
    "auth.logout POST": Case("/deconnexion", everyone(ok=302)),
    "auth.change_password GET": Case("/mon-compte/mot-de-passe", everyone()),
    "auth.change_password POST": Case("/mon-compte/mot-de-passe", everyone()),
    "auth.account GET": Case("/mon-compte/", everyone()),
    "auth.account POST": Case("/mon-compte/", everyone(ok=302)),
    "home.index GET": Case("/", everyone(ok=302, anonymous=302)),
    "home.welcome GET": Case("/accueil", everyone()),
    # administration
    "organisations.index GET": Case("/admin/organisations/", only(*ADMIN)),
    "organisations.create GET": Case("/admin/organisations/nouvelle", only(*ADMIN)),
    "organisations.create POST": Case("/admin/organisations/nouvelle", only(*ADMIN)),
    "organisations.edit GET": Case("/admin/organisations/{w.landlord.id}/modifier", only(*ADMIN)),
    "organisations.edit POST": Case("/admin/organisations/{w.landlord.id}/modifier", only(*ADMIN)),
    "organisations.toggle_active POST": Case(
        "/admin/organisations/{w.other_association.id}/activation", only(*ADMIN, ok=302)
    ),
    "projects.index GET": Case("/admin/projets/", only(*ADMIN)),
    "projects.create GET": Case("/admin/projets/nouveau", only(*ADMIN)),
    "projects.create POST": Case("/admin/projets/nouveau", only(*ADMIN)),
    "projects.edit GET": Case("/admin/projets/{w.project.id}/modifier", only(*ADMIN)),
    "projects.edit POST": Case("/admin/projets/{w.project.id}/modifier", only(*ADMIN)),
    "users.index GET": Case("/admin/utilisateurs/", only(*ADMIN)),
    "users.create GET": Case("/admin/utilisateurs/nouveau", only(*ADMIN)),
    "users.create POST": Case("/admin/utilisateurs/nouveau", only(*ADMIN)),
    "users.edit GET": Case("/admin/utilisateurs/{w.target_user.id}/modifier", only(*ADMIN)),
    "users.edit POST": Case("/admin/utilisateurs/{w.target_user.id}/modifier", only(*ADMIN)),
    "users.toggle_active POST": Case(
        "/admin/utilisateurs/{w.target_user.id}/activation", only(*ADMIN, ok=302)
    ),
    "users.reset_password POST": Case(
        "/admin/utilisateurs/{w.target_user.id}/reinitialiser-mot-de-passe", only(*ADMIN)
    ),
}


def _routes(app) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.add(f"{rule.endpoint} {method}")
    return found


def test_every_route_is_in_the_matrix(app):
    missing = _routes(app) - MATRIX.keys()
    assert not missing, f"Routes absent from the permission matrix: {sorted(missing)}"
    stale = MATRIX.keys() - _routes(app)
    assert not stale, f"Matrix entries for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_each_role_as_expected(route, app, make_client):
    case = MATRIX[route]
    assert set(case.expect) == set(ROLES), f"{route}: give a status for every role"
    world = build_world()
    method = route.rsplit(" ", 1)[1]
    path = case.path.format(w=world)
    answers = {}
    for role in ROLES:
        client = make_client()
        if role != "anonyme":
            client.login(world.users[role])
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(
                path, method=method, data={"csrf_token": client.csrf_token(), **(case.data or {})}
            )
        answers[role] = response.status_code
    assert answers == case.expect
