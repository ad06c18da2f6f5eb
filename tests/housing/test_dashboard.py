"""The landlord dashboard: scope, status, risk order, key figures, filters, and a fixed number
of SQL queries whatever the number of tenancies."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.db import db
from app.households.models import Household
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_procedure_stage,
    make_project,
    make_repayment_plan,
    make_snapshot,
    make_user,
)
from tests.queries import count_queries


@pytest.fixture
def landlord_world(app):
    landlord = make_landlord(name="Bailleur tableau")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        projects=[project],
        full_name="Sophie Référente",
        phone="0611223344",
    )
    return {"landlord": landlord, "project": project, "staff": staff, "worker": worker}


def add_tenancies(w, count: int, start: int = 0):
    """``count`` tenancies with a mix of situations: up to date, arrears, plan, procedure."""
    for i in range(start, start + count):
        household = make_household(
            w["project"],
            referent=w["worker"] if i % 2 else None,
            reference=f"R-{i:04d}",
            last_name=f"Famille{i:04d}",
        )
        occupancy = make_occupancy(household, make_dwelling(w["landlord"]))
        for month in (date(2026, 9, 1), date(2026, 10, 1)):
            make_snapshot(occupancy, month, balance_cents=(i % 4) * 44_000)
        if i % 4 == 2:
            make_repayment_plan(occupancy)
        if i % 4 == 3:
            make_procedure_stage(occupancy, "commandement_payer", date(2026, 10, 20))
            make_procedure_stage(occupancy, "saisine_ccapex", date(2026, 8, 20))


def test_the_dashboard_runs_the_same_number_of_queries_for_5_and_50_tenancies(
    client, landlord_world
):
    add_tenancies(landlord_world, 5)
    client.login(landlord_world["staff"])
    client.get("/logements/")  # warm-up (first-request caches)
    with count_queries() as small:
        response = client.get("/logements/")
    assert page(response).count("R-00") == 5
    add_tenancies(landlord_world, 45, start=5)
    with count_queries() as large:
        response = client.get("/logements/")
    assert page(response).count("R-00") == 50
    assert len(large) == len(small), (len(small), len(large))


def test_statuses_risk_order_and_key_figures(client, landlord_world):
    add_tenancies(landlord_world, 4)
    client.login(landlord_world["staff"])
    text = page(client.get("/logements/"))
    # procedure first (R-0003), then arrears (R-0001), plan (R-0002), up to date (R-0000)
    positions = [text.index(f"R-000{i}") for i in (3, 1, 2, 0)]
    assert positions == sorted(positions)
    assert "Procédure" in text and "Impayé" in text and "Plan en cours" in text
    assert "À jour" in text
    assert "3 mois" in text  # R-0003 owes 3 × 440 €
    assert "Délai de paiement expiré : assignation possible le 1 décembre 2026" in text
    assert "Sophie Référente" in text and "0611223344" in text
    assert "baux suivis" in text


def test_filters_by_status_and_support(client, landlord_world):
    add_tenancies(landlord_world, 4)
    client.login(landlord_world["staff"])
    text = page(client.get("/logements/?statut=impaye"))
    assert "R-0001" in text and "R-0003" not in text and "R-0000" not in text
    text = page(client.get("/logements/?accompagne=non"))
    assert "R-0000" in text and "R-0002" in text and "R-0001" not in text


def test_another_landlords_tenancies_never_appear(client, landlord_world):
    add_tenancies(landlord_world, 2)
    other = make_landlord(name="Autre bailleur du quartier")
    make_occupancy(
        make_household(make_project(lead_landlord=other), reference="AUTRE-01"),
        make_dwelling(other),
    )
    client.login(landlord_world["staff"])
    text = page(client.get("/logements/"))
    assert "AUTRE-01" not in text and "R-0001" in text


def test_a_social_worker_sees_only_the_tenancies_of_their_households(client, landlord_world):
    add_tenancies(landlord_world, 4)
    client.login(landlord_world["worker"])
    text = page(client.get("/logements/"))
    assert "R-0001" in text and "R-0003" in text
    assert "R-0000" not in text and "R-0002" not in text


def test_the_next_tripartite_meeting_is_shown(client, landlord_world):
    from app.dates import add_months
    from app.formatting import today_paris
    from tests.factories import make_meeting

    add_tenancies(landlord_world, 1)
    household_id = db.session.scalar(select(Household.id).where(Household.reference == "R-0000"))
    household = db.session.get(Household, household_id)
    make_meeting(household, held_on=date(2025, 5, 20), next_meeting_on=add_months(today_paris(), 2))
    make_meeting(household, held_on=add_months(today_paris(), 1))
    client.login(landlord_world["staff"])
    text = page(client.get("/logements/"))
    assert add_months(today_paris(), 1).strftime("%d/%m/%Y") in text


def _figure(text: str, label: str) -> str:
    """The value shown above a key figure's label."""
    head, _sep, _tail = text.partition(f'<span class="keyfigure__label">{label}</span>')
    return head.rsplit('<span class="keyfigure__value">', 1)[1].split("</span>", 1)[0]


def test_the_table_is_paged_and_the_key_figures_count_every_tenancy(client, landlord_world):
    import re

    add_tenancies(landlord_world, 55)
    client.login(landlord_world["staff"])
    first = page(client.get("/logements/"))
    # 55 leases (i = 0…54): i % 4 == 2 have a plan (14), i % 4 == 3 are in procedure (13),
    # every odd one has a référent (27)
    assert _figure(first, "baux suivis") == "55"
    assert _figure(first, "en impayé") == "41"  # balances 440, 880, 1 320 € (i % 4 = 1, 2, 3)
    assert _figure(first, "plans d'apurement en cours") == "14"
    assert _figure(first, "procédures d'expulsion") == "13"
    assert _figure(first, "ménages accompagnés") == "27"
    assert first.count("R-00") == 50
    assert "55 baux" in first and "page 1 sur 2" in first
    # the riskiest first: the 14 procedures open page 1; the up-to-date leases end on page 2
    second = page(client.get("/logements/?page=2"))
    assert second.count("R-00") == 5
    assert 'badge--success">À jour' in second and "badge badge--danger" not in second
    shown = set(re.findall(r"R-00\d\d", first)) | set(re.findall(r"R-00\d\d", second))
    assert len(shown) == 55
    # past the last page (an old link after leases ended): the last page, same figures
    beyond = page(client.get("/logements/?page=7"))
    assert "page 2 sur 2" in beyond and beyond.count("R-00") == 5
    assert _figure(beyond, "baux suivis") == "55"

    # the search posts its term, the page links repeat its token (never the term)
    response = client.post("/logements/", data={"q": "r-00", "statut": "a_jour"})
    results = response.headers["Location"]
    assert "r-00" not in results.lower() and "recherche=" in results
    text = page(client.get(results))
    assert "14 baux" in text and text.count("R-00") == 14
    assert _figure(text, "baux suivis") == "55"  # the figures stay over the whole scope
    response = client.post("/logements/", data={"q": "r-00"})
    text = page(client.get(response.headers["Location"]))
    assert "page 1 sur 2" in text
    link = re.search(r'href="([^"]*page=2[^"]*)"', text).group(1)
    assert "recherche=" in link and "r-00" not in link.lower()
    assert page(client.get(link.replace("&amp;", "&"))).count("R-00") == 5


def test_a_landlord_viewers_leases_are_exactly_those_of_the_households_they_may_see(
    landlord_world,
):
    """``tenancy_scope`` takes a shortcut for landlord-only viewers (the lease proves the
    household visible): it must give the very leases the general rule gives."""
    from datetime import UTC, datetime

    from app.households.queries import visible_households
    from app.housing.dashboard import tenancy_scope
    from app.housing.models import Dwelling, Occupancy

    w = landlord_world
    add_tenancies(w, 3)
    ended = make_occupancy(
        make_household(w["project"], reference="FINI-01"),
        make_dwelling(w["landlord"]),
        start_on=date(2024, 1, 1),
        end_on=date(2025, 1, 1),
    )
    anonymised = make_household(w["project"], reference="ANON-01")
    make_occupancy(anonymised, make_dwelling(w["landlord"]))
    anonymised.anonymised_at = datetime(2026, 1, 1, tzinfo=UTC)
    other = make_landlord(name="Bailleur d'à côté")
    make_occupancy(
        make_household(make_project(lead_landlord=other), reference="AUTRE-02"),
        make_dwelling(other),
    )
    db.session.flush()

    staff = w["staff"]
    shortcut = set(db.session.scalars(tenancy_scope(staff)))
    general = set(
        db.session.scalars(
            select(Occupancy.id)
            .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
            .where(
                Occupancy.end_on.is_(None),
                Dwelling.landlord_id == staff.organisation_id,
                Occupancy.household_id.in_(
                    visible_households(staff).with_only_columns(Household.id)
                ),
            )
        )
    )
    assert len(general) == 3 and ended.id not in general
    assert shortcut == general
