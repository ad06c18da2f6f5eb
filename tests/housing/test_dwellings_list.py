"""The landlord's park (/logements/parc) is shown a window at a time, with flat query counts."""

from __future__ import annotations

from tests.conftest import page
from tests.factories import make_dwelling
from tests.housing.test_dashboard import add_tenancies, landlord_world  # noqa: F401
from tests.queries import count_queries


def test_the_park_pages_through_the_dwellings_with_the_same_number_of_queries(
    client,
    app,
    landlord_world,  # noqa: F811
):
    app.config["PAGE_SIZE"] = 10
    add_tenancies(landlord_world, 4)
    client.login(landlord_world["staff"])
    client.get("/logements/parc")  # warm-up (first-request caches)
    with count_queries() as small:
        first = page(client.get("/logements/parc"))
    assert "Logements 1 à 4 · page 1" in first and 'rel="next"' not in first

    add_tenancies(landlord_world, 8, start=4)
    for _ in range(30):
        make_dwelling(landlord_world["landlord"])
    with count_queries() as large:
        first = page(client.get("/logements/parc"))
    assert "Logements 1 à 10 · page 1" in first and 'rel="next"' in first
    assert first.count("Modifier<span") == 10
    assert len(large) == len(small)

    last = page(client.get("/logements/parc", query_string={"page": 5}))
    assert "Logements 41 à 42 · page 5" in last and 'rel="next"' not in last
    beyond = page(client.get("/logements/parc", query_string={"page": 6}))
    assert "Cette page est au-delà de la fin du parc." in beyond
