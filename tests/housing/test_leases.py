"""Dwellings and leases: services (rules, audit), scoped pages, French refusals that change
nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError, StaleEditError
from app.housing import services
from app.housing.models import Dwelling, LeaseReview, Occupancy
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
)


@pytest.fixture
def setting(app):
    landlord = make_landlord(name="Rhône Habitat Test")
    partner_landlord = make_landlord(name="Bailleur partenaire")
    project = make_project(lead_landlord=landlord)
    project.partners.append(partner_landlord)
    social_worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    landlord_staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    household = make_household(project, referent=social_worker)
    return {
        "landlord": landlord,
        "partner_landlord": partner_landlord,
        "project": project,
        "social_worker": social_worker,
        "landlord_staff": landlord_staff,
        "household": household,
        "dwelling": make_dwelling(landlord),
    }


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_start_occupancy_records_the_lease_and_its_audit_entry(setting):
    occupancy = services.start_occupancy(
        setting["social_worker"],
        setting["household"],
        dwelling_id=setting["dwelling"].id,
        lease_type="bail_glissant",
        start_on=date(2026, 1, 5),
        lease_reference="RHS-0001",
        glissement_target_on=date(2027, 7, 1),
    )
    assert occupancy.is_current and occupancy.lease_reference == "RHS-0001"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "occupancy.started"
    assert entry.household_id == setting["household"].id
    assert entry.details == {"lease_type": "bail_glissant", "dwelling_id": setting["dwelling"].id}


def test_a_dwelling_of_a_partner_landlord_of_the_project_may_be_assigned(setting):
    partner_dwelling = make_dwelling(setting["partner_landlord"])
    occupancy = services.start_occupancy(
        setting["social_worker"],
        setting["household"],
        dwelling_id=partner_dwelling.id,
        lease_type="bail_direct",
        start_on=date(2026, 1, 5),
    )
    assert occupancy.dwelling_id == partner_dwelling.id


def test_a_dwelling_of_a_landlord_outside_the_project_is_refused(setting):
    foreign = make_dwelling(make_landlord())
    with pytest.raises(DomainError, match="Choisissez un logement parmi ceux proposés"):
        services.start_occupancy(
            setting["social_worker"],
            setting["household"],
            dwelling_id=foreign.id,
            lease_type="bail_direct",
            start_on=date(2026, 1, 5),
        )


def test_a_household_with_a_current_lease_cannot_get_a_second_one(setting):
    make_occupancy(setting["household"], setting["dwelling"], start_on=date(2025, 6, 1))
    other = make_dwelling(setting["landlord"])
    with pytest.raises(DomainError) as refused:
        services.start_occupancy(
            setting["social_worker"],
            setting["household"],
            dwelling_id=other.id,
            lease_type="bail_direct",
            start_on=date(2026, 1, 5),
        )
    assert "déjà un bail en cours (depuis le 1 juin 2025)" in refused.value.message


def test_an_occupied_dwelling_cannot_be_given_to_another_household(setting):
    neighbour = make_household(setting["project"])
    make_occupancy(neighbour, setting["dwelling"], start_on=date(2025, 6, 1))
    with pytest.raises(DomainError) as refused:
        services.start_occupancy(
            setting["social_worker"],
            setting["household"],
            dwelling_id=setting["dwelling"].id,
            lease_type="bail_direct",
            start_on=date(2026, 1, 5),
        )
    assert "déjà occupé par un autre ménage" in refused.value.message
    assert neighbour.reference not in refused.value.message


def test_glissement_target_only_for_a_bail_glissant(setting):
    with pytest.raises(DomainError, match="ne concerne que les baux glissants"):
        services.start_occupancy(
            setting["social_worker"],
            setting["household"],
            dwelling_id=setting["dwelling"].id,
            lease_type="bail_direct",
            start_on=date(2026, 1, 5),
            glissement_target_on=date(2027, 1, 5),
        )


def test_a_lease_reference_is_unique_among_the_landlords_current_leases(setting):
    make_occupancy(
        make_household(setting["project"]), make_dwelling(setting["landlord"]), lease_reference="X1"
    )
    with pytest.raises(DomainError, match="référence de bail est déjà utilisée"):
        services.start_occupancy(
            setting["social_worker"],
            setting["household"],
            dwelling_id=setting["dwelling"].id,
            lease_type="bail_direct",
            start_on=date(2026, 1, 5),
            lease_reference="X1",
        )


def test_end_before_start_is_refused_and_a_stale_form_too(setting):
    occupancy = make_occupancy(setting["household"], setting["dwelling"], start_on=date(2025, 6, 1))
    with pytest.raises(DomainError, match="ne peut pas précéder le début du bail"):
        services.end_occupancy(
            setting["social_worker"],
            occupancy,
            version=occupancy.version,
            end_on=date(2025, 5, 31),
            end_reason=None,
        )
    with pytest.raises(StaleEditError):
        services.end_occupancy(
            setting["social_worker"],
            occupancy,
            version=occupancy.version - 1,
            end_on=date(2026, 5, 31),
            end_reason=None,
        )
    services.end_occupancy(
        setting["social_worker"],
        occupancy,
        version=occupancy.version,
        end_on=date(2026, 5, 31),
        end_reason="Mutation",
    )
    assert occupancy.end_on == date(2026, 5, 31)
    assert audit_actions()[-1] == "occupancy.ended"


def test_lease_review_defaults_to_six_months_and_only_for_bail_glissant(setting):
    direct = make_occupancy(setting["household"], setting["dwelling"], start_on=date(2025, 6, 1))
    with pytest.raises(DomainError, match="ne concerne que les baux glissants"):
        services.record_lease_review(
            setting["social_worker"], direct, held_on=date(2025, 12, 1), decision="poursuite"
        )
    direct.lease_type = "bail_glissant"
    review = services.record_lease_review(
        setting["social_worker"], direct, held_on=date(2025, 8, 31), decision="poursuite"
    )
    assert review.next_review_on == date(2026, 2, 28)
    assert audit_actions()[-1] == "lease_review.recorded"


def test_glissement_ends_the_bail_glissant_and_starts_a_bail_direct(setting):
    glissant = make_occupancy(
        setting["household"],
        setting["dwelling"],
        lease_type="bail_glissant",
        start_on=date(2024, 9, 1),
        lease_reference="SL-12",
    )
    direct = services.record_glissement(
        setting["social_worker"], glissant, version=glissant.version, glissed_on=date(2026, 3, 1)
    )
    assert glissant.end_on == date(2026, 3, 1) and glissant.glissed_on == date(2026, 3, 1)
    assert direct.lease_type == "bail_direct" and direct.is_current
    assert direct.lease_reference == "SL-12" and direct.dwelling_id == glissant.dwelling_id
    assert audit_actions()[-1] == "occupancy.glissed"


def test_negative_rent_is_refused_in_french(setting):
    with pytest.raises(DomainError, match="Le loyer ne peut pas être négatif"):
        services.create_dwelling(
            setting["landlord_staff"],
            setting["landlord"],
            address="3 rue Garon",
            postal_code="69008",
            city="Lyon",
            residence=None,
            landlord_reference=None,
            typology="T2",
            surface_m2=None,
            funding="PLUS",
            rent_cents=-100,
            charges_cents=0,
        )


# --- pages -----------------------------------------------------------------------------------


def test_landlord_staff_create_a_dwelling_of_their_organisation(client, setting):
    client.login(setting["landlord_staff"])
    response = client.post(
        "/logements/parc/nouveau",
        data={
            "landlord_id": setting["landlord"].id,
            "address": "12 rue Marius Berliet",
            "postal_code": "69008",
            "city": "Lyon",
            "typology": "T3",
            "surface_m2": "64,5",
            "funding": "PLUS",
            "rent": "406,35",
            "charges": "85",
        },
    )
    assert response.status_code == 302
    dwelling = db.session.scalar(
        select(Dwelling).where(Dwelling.address == "12 rue Marius Berliet")
    )
    assert dwelling.landlord_id == setting["landlord"].id and dwelling.rent_cents == 40_635
    assert "dwelling.created" in audit_actions()


def test_negative_rent_on_the_form_shows_a_french_message_and_saves_nothing(client, setting):
    client.login(setting["landlord_staff"])
    before = db.session.scalar(select(func.count(Dwelling.id)))
    response = client.post(
        "/logements/parc/nouveau",
        data={
            "landlord_id": setting["landlord"].id,
            "address": "1 rue Test",
            "postal_code": "69008",
            "city": "Lyon",
            "typology": "T2",
            "funding": "PLAI",
            "rent": "-12",
        },
    )
    assert response.status_code == 200
    assert "Le loyer ne peut pas être négatif." in page(response)
    assert db.session.scalar(select(func.count(Dwelling.id))) == before


def test_landlord_staff_cannot_create_a_dwelling_for_another_landlord(client, setting):
    client.login(setting["landlord_staff"])
    client.post(
        "/logements/parc/nouveau",
        data={
            "landlord_id": setting["partner_landlord"].id,
            "address": "9 rue Volée",
            "postal_code": "69008",
            "city": "Lyon",
            "typology": "T2",
            "funding": "PLAI",
            "rent": "300",
        },
    )
    assert db.session.scalar(select(Dwelling).where(Dwelling.address == "9 rue Volée")) is None


def test_stale_dwelling_edit_is_refused_with_who_and_when(client, setting):
    dwelling = setting["dwelling"]
    client.login(setting["landlord_staff"])
    stale_version = dwelling.version
    dwelling.rent_cents = 39_000
    dwelling.updated_by_id = setting["social_worker"].id
    db.session.flush()
    response = client.post(
        f"/logements/parc/{dwelling.id}/modifier",
        data={
            "expected_version": stale_version,
            "landlord_id": dwelling.landlord_id,
            "address": "Autre adresse",
            "postal_code": "69008",
            "city": "Lyon",
            "typology": "T2",
            "funding": "PLAI",
            "rent": "100",
        },
    )
    text = page(response)
    assert "Cette fiche a été modifiée" in text
    db.session.refresh(dwelling)
    assert dwelling.address != "Autre adresse" and dwelling.rent_cents == 39_000


def test_another_landlords_dwelling_is_a_404(client, setting):
    foreign = make_dwelling(make_landlord())
    client.login(setting["landlord_staff"])
    assert client.get(f"/logements/parc/{foreign.id}/modifier").status_code == 404


def test_social_worker_gives_a_bail_glissant_and_sees_it_on_the_logement_tab(client, setting):
    household = setting["household"]
    client.login(setting["social_worker"])
    form = page(client.get(f"/menages/{household.id}/logement/bail/nouveau"))
    assert setting["dwelling"].address in form
    response = client.post(
        f"/menages/{household.id}/logement/bail/nouveau",
        data={
            "dwelling_id": setting["dwelling"].id,
            "lease_type": "bail_glissant",
            "start_on": "2026-01-05",
            "lease_reference": "SL-2026-1",
            "glissement_target_on": "2027-07-01",
        },
    )
    assert response.status_code == 302
    tab = page(client.get(f"/menages/{household.id}/logement"))
    assert "Bail glissant" in tab and "SL-2026-1" in tab and "1 juillet 2027" in tab


def test_conflicting_lease_on_the_form_gets_a_french_message_and_nothing_changes(client, setting):
    household = setting["household"]
    make_occupancy(household, setting["dwelling"], start_on=date(2025, 6, 1))
    other = make_dwelling(setting["landlord"])
    client.login(setting["social_worker"])
    response = client.post(
        f"/menages/{household.id}/logement/bail/nouveau",
        data={"dwelling_id": other.id, "lease_type": "bail_direct", "start_on": "2026-01-05"},
    )
    assert response.status_code == 200
    assert "Ce ménage a déjà un bail en cours" in page(response)
    count = db.session.scalar(
        select(func.count(Occupancy.id)).where(Occupancy.household_id == household.id)
    )
    assert count == 1


def test_end_before_start_on_the_form_changes_nothing(client, setting):
    household = setting["household"]
    occupancy = make_occupancy(household, setting["dwelling"], start_on=date(2025, 6, 1))
    client.login(setting["social_worker"])
    response = client.post(
        f"/menages/{household.id}/logement/bail/{occupancy.id}/fin",
        data={"expected_version": occupancy.version, "end_on": "2025-01-01"},
    )
    assert "La date de fin ne peut pas précéder le début du bail" in page(response)
    db.session.refresh(occupancy)
    assert occupancy.end_on is None


def test_landlord_staff_never_see_a_lease_with_another_landlord(client, setting):
    """A household housed by this landlord today, previously by another: the earlier lease is
    another landlord's tenancy and stays hidden, even by its id."""
    household = setting["household"]
    old = make_occupancy(
        household,
        make_dwelling(make_landlord(name="Ancien bailleur"), address="5 rue Cachée"),
        start_on=date(2023, 1, 1),
        end_on=date(2024, 12, 31),
    )
    make_occupancy(household, setting["dwelling"], start_on=date(2025, 1, 1))
    client.login(setting["landlord_staff"])
    tab = page(client.get(f"/menages/{household.id}/logement"))
    assert setting["dwelling"].address in tab
    assert "rue Cachée" not in tab and "Ancien bailleur" not in tab
    response = client.get(f"/menages/{household.id}/logement/bail/{old.id}/fin")
    assert response.status_code == 404


def test_lease_events_reach_the_household_timeline(setting):
    from app.households.queries import household_timeline

    occupancy = make_occupancy(
        setting["household"], setting["dwelling"], lease_type="bail_glissant"
    )
    db.session.add(
        LeaseReview(occupancy_id=occupancy.id, held_on=date(2025, 8, 1), decision="poursuite")
    )
    db.session.flush()
    titles = [e.title for e in household_timeline(setting["household"], setting["landlord_staff"])]
    assert "Début du bail (Bail glissant)" in titles
    assert "Bilan tripartite du bail glissant" in titles
