"""Who sees which household: ``visible_households`` and the list/search built on it."""

from datetime import date

from sqlalchemy import event

from app.db import db
from app.households import services
from app.households.models import Household
from app.households.queries import ListFilters, household_list, visible_households
from app.permissions import Role
from tests.conftest import page
from tests.factories import make_household, make_member, make_tenancy, make_user
from tests.households.conftest import TODAY


def _visible(user) -> set[str]:
    return set(db.session.scalars(visible_households(user).with_only_columns(Household.reference)))


def test_each_role_sees_exactly_its_scope(w):
    unassigned = make_household(w.project, reference="M-2026-0500")
    assert _visible(w.users["coordinateur"]) >= {"M-2026-0001", "M-2026-0500"}
    assert "M-2026-0900" not in _visible(w.users["coordinateur"])  # another project
    assert _visible(w.users["travailleur_social"]) == {"M-2026-0001"}  # référent
    assert _visible(w.team_colleague) == {"M-2026-0001"}  # support team
    assert "M-2026-0001" not in _visible(w.users["autre_travailleur_social"])
    # Landlord staff: the households with a current lease in their organisation's dwellings.
    assert _visible(w.users["bailleur"]) == {"M-2026-0001"}
    assert "M-2026-0001" not in _visible(w.users["autre_bailleur"])
    assert _visible(w.users["admin"]) == set()
    # A social worker of the same project who is neither référent nor on the team: nothing.
    assert _visible(make_user(Role.TRAVAILLEUR_SOCIAL, projects=[w.project])) == set()
    assert unassigned.reference not in _visible(w.users["travailleur_social"])


def test_landlord_loses_sight_when_the_lease_ends(w):
    w.occupancy.end_on = date(2026, 1, 31)
    db.session.flush()
    assert _visible(w.users["bailleur"]) == set()


def test_anonymised_households_are_nobodys(w):
    from app.db import utcnow

    w.household.anonymised_at = utcnow()
    db.session.flush()
    assert "M-2026-0001" not in _visible(w.users["coordinateur"])


def _refs(user, **filters) -> list[str]:
    return [h.reference for h in db.session.scalars(household_list(user, ListFilters(**filters)))]


def test_search_by_member_name_ignores_accents_and_case(w):
    make_member(w.household, "Zoé", "Lefèvre-Nguyen")
    assert _refs(w.users["coordinateur"], q="ZOE lefevre") == ["M-2026-0001"]
    assert _refs(w.users["coordinateur"], q="m-2026-0001") == ["M-2026-0001"]
    assert _refs(w.users["coordinateur"], q="personne") == []


def test_search_by_address_of_the_household_or_its_dwelling(w):
    w.household.current_address = "5 impasse des Œillets"
    w.household.search_address = "5 impasse des oeillets"
    db.session.flush()
    assert _refs(w.users["coordinateur"], q="oeillets") == ["M-2026-0001"]
    street = w.occupancy.dwelling.address.split(" ", 1)[1]
    w.occupancy.dwelling.search_address = "dwelling " + street.lower()
    db.session.flush()
    assert _refs(w.users["bailleur"], q=street) == ["M-2026-0001"]


def test_search_obeys_visibility_exactly_like_the_list(w):
    other = make_household(w.other_project, reference="M-2026-0777", last_name="Secret")
    make_member(other, "Zoé", "Secret")
    assert _refs(w.users["coordinateur"], q="secret") == []
    assert _refs(w.users["bailleur"], q="0777") == []
    assert _refs(w.users["admin"], q="") == []


def test_filters_by_stage_referent_landlord_and_target_public(w):
    second = make_household(w.project, reference="M-2026-0002", stage="diagnostic")
    second.target_publics = "sortie_rue,violences"
    db.session.flush()
    coordinator = w.users["coordinateur"]
    assert _refs(coordinator, stage="diagnostic") == ["M-2026-0002"]
    assert _refs(coordinator, referent_id=w.users["travailleur_social"].id) == ["M-2026-0001"]
    assert _refs(coordinator, landlord_id=w.landlord.id) == ["M-2026-0001"]
    assert _refs(coordinator, target_public="violences") == ["M-2026-0002"]
    assert _refs(coordinator, target_public="sortie_hebergement") == []


def test_landlord_staff_cannot_filter_by_target_public(w):
    w.household.target_publics = "violences"
    db.session.flush()
    # The filter is ignored (it would reveal a sensitive flag), not applied.
    assert _refs(w.users["bailleur"], target_public="sortie_rue") == ["M-2026-0001"]


def test_sorting(w):
    make_household(w.project, reference="M-2026-0002", last_name="Abadie", stage="orientation")
    coordinator = w.users["coordinateur"]
    refs = _refs(coordinator, sort="name")
    assert refs.index("M-2026-0002") < refs.index("M-2026-0001")
    assert _refs(coordinator, sort="stage")[0] == "M-2026-0002"
    assert _refs(coordinator, sort="stage", descending=True)[-1] == "M-2026-0002"
    assert _refs(coordinator, sort="reference", descending=True)[-1] == "M-2026-0001"


# --- the list page ---------------------------------------------------------------------------


def _households(w, count: int) -> None:
    coordinator = w.users["coordinateur"]
    for n in range(count):
        household = services.create_household(
            coordinator,
            w.project,
            head_first_name=f"Prénom{n}",
            head_last_name="Test",
            head_birth_on=date(1980, 1, 1),
            referent=w.users["travailleur_social"],
            today=TODAY,
        )
        services.add_member(
            coordinator,
            household,
            first_name="Enfant",
            last_name=f"Test{n}",
            birth_on=date(2015, 1, 1),
            relation="enfant",
            today=TODAY,
        )
        if n % 2:
            make_tenancy(household, w.landlord)


def _queries_for(client, path: str) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_the_list_issues_a_fixed_number_of_queries(w, make_client):
    client = make_client()
    client.login(w.users["coordinateur"])
    _households(w, 5)
    db.session.commit()
    few = _queries_for(client, "/menages/?tri=name")
    _households(w, 45)
    db.session.commit()
    many = _queries_for(client, "/menages/?tri=name")
    assert few == many, (few, many)
    assert few < 25


def test_the_list_paginates_with_the_total(w, make_client):
    _households(w, 30)
    client = make_client()
    client.login(w.users["coordinateur"])
    body = page(client.get("/menages/"))
    assert "31 résultats · page 1 sur 2" in body
    body = page(client.get("/menages/?page=2"))
    assert "page 2 sur 2" in body and body.count("/menages/") > 6


def test_the_list_shows_what_the_viewer_may_see(w, make_client):
    client = make_client()
    client.login(w.users["bailleur"])
    body = page(client.get("/menages/"))
    assert "M-2026-0001" in body and "Bail glissant" in body
    assert 'name="public"' not in body  # no target-public filter for landlord staff
    client = make_client()
    client.login(w.users["autre_travailleur_social"])
    body = page(client.post("/menages/", data={"q": "0001"}, follow_redirects=True))
    assert "M-2026-0001" not in body
    assert "Aucun ménage ne correspond à cette recherche." in body


def test_an_empty_list_says_what_to_do(app, make_client):
    from tests.factories import make_project

    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    client = make_client()
    client.login(worker)
    body = page(client.get("/menages/"))
    assert "Aucun ménage suivi pour l'instant." in body
