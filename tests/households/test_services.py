"""Household services: each changes the data, writes its audit entry, and refuses bad input
with a French message while changing nothing."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.errors import DomainError, StaleEditError
from app.households import services
from app.households.models import (
    Adhesion,
    Consent,
    Diagnostic,
    Household,
    Member,
    Orientation,
    StageTransition,
)
from app.permissions import Role
from tests.factories import make_project, make_user
from tests.households.conftest import TODAY, audit_actions, last_audit


def _create(w, actor=None, **values):
    return services.create_household(
        actor or w.users["travailleur_social"],
        w.project,
        head_first_name=values.pop("head_first_name", "Aïssatou"),
        head_last_name=values.pop("head_last_name", "Diop"),
        head_birth_on=values.pop("head_birth_on", date(1988, 5, 4)),
        today=values.pop("today", TODAY),
        **values,
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- creation ---------------------------------------------------------------------------------


def test_create_household_numbers_per_year_names_head_and_enters_orientation(w):
    highest = db.session.scalar(
        select(func.max(Household.reference)).where(Household.reference.like("M-2026-%"))
    )
    first = _create(w, current_address="12, rue de l'Épée 69008 Lyon")
    second = _create(w, head_first_name="Loïc", head_last_name="Le Gall")
    next_year = _create(w, head_first_name="Rosa", today=date(2027, 1, 2))

    expected = int(highest.removeprefix("M-2026-")) + 1
    assert (first.reference, second.reference) == (
        f"M-2026-{expected:04d}",
        f"M-2026-{expected + 1:04d}",
    )
    assert next_year.reference == "M-2027-0001"
    assert first.head.full_name == "Aïssatou Diop" and first.head.relation == "demandeur"
    assert first.head.search_name == "aissatou diop"
    assert first.search_address == "12, rue de l'epee 69008 lyon"
    assert first.stage == "orientation" and first.stage_since_on == TODAY
    transition = db.session.scalar(
        select(StageTransition).where(StageTransition.household_id == first.id)
    )
    assert (transition.from_stage, transition.to_stage, transition.on) == (
        None,
        "orientation",
        TODAY,
    )
    # The social worker who opens the file becomes its référent: it stays in their caseload.
    assert first.referent_id == w.users["travailleur_social"].id
    entry = last_audit("household.created")
    assert entry.household_id == next_year.id and entry.actor_id == w.users["travailleur_social"].id


def test_a_coordinator_creates_without_referent_unless_named(w):
    household = _create(w, actor=w.users["coordinateur"])
    assert household.referent_id is None
    named = _create(w, actor=w.users["coordinateur"], referent=w.users["travailleur_social"])
    assert named.referent_id == w.users["travailleur_social"].id


def test_create_household_refuses_a_project_that_is_not_the_actors(w):
    before = _count(Household)
    with pytest.raises(DomainError) as error:
        services.create_household(
            w.users["travailleur_social"],
            w.other_project,
            head_first_name="A",
            head_last_name="B",
            head_birth_on=None,
        )
    assert error.value.field == "project_id"
    assert "vos projets" in error.value.message
    db.session.rollback()
    assert _count(Household) == before


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"head_first_name": "  "}, "head_first_name", "obligatoire"),
        ({"head_last_name": "x" * 81}, "head_last_name", "80 caractères au plus"),
        ({"head_birth_on": TODAY + timedelta(days=1)}, "head_birth_on", "dans le futur"),
        ({"head_birth_on": date(1899, 12, 31)}, "head_birth_on", "antérieure au 1 janvier 1900"),
        ({"email": "pas-une-adresse"}, "email", "pas valide"),
        ({"current_address": "x" * 301}, "current_address", "300 caractères"),
    ],
)
def test_create_household_refuses_bad_input_in_french(w, values, field, message):
    before = _count(Household), _count(Member)
    with pytest.raises(DomainError) as error:
        _create(w, **values)
    db.session.rollback()
    assert error.value.field == field and message in error.value.message
    assert (_count(Household), _count(Member)) == before


def test_a_referent_must_be_a_social_worker_or_coordinator_of_the_project(w):
    outsider = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[w.other_project])
    with pytest.raises(DomainError, match="ne travaille pas sur ce projet"):
        _create(w, actor=w.users["coordinateur"], referent=outsider)
    with pytest.raises(DomainError, match="ni travailleur"):
        _create(w, actor=w.users["coordinateur"], referent=w.users["bailleur"])


# --- update and stale edits ----------------------------------------------------------------


def _update_values(**overrides):
    values = {
        "phone": "06 12 34 56 78",
        "email": "menage@example.fr",
        "current_address": "3 place Bellecour, Lyon",
        "monthly_income_cents": 98_000,
        "income_sources": ["rsa", "prestations_familiales"],
        "apl_cents": 21_600,
        "is_apl_paid_to_landlord": True,
        "debts_cents": 240_000,
        "has_overindebtedness_file": True,
        "target_publics": ["violences", "prioritaire_dalo"],
        "difficulties": "Dettes de loyer anciennes.",
    }
    values.update(overrides)
    return values


def test_update_household_saves_resources_and_audits_field_names_only(w):
    household = w.household
    services.update_household(
        w.users["travailleur_social"],
        household,
        expected_version=household.version,
        **_update_values(),
    )
    db.session.commit()
    assert household.income_sources == "rsa,prestations_familiales"
    assert household.target_publics == "prioritaire_dalo,violences"
    assert household.apl_cents == 21_600 and household.is_apl_paid_to_landlord
    entry = last_audit("household.updated")
    assert entry.household_id == household.id
    assert "debts_cents" in entry.details["fields"]
    assert "240000" not in str(entry.details) and "violences" not in str(entry.details)


def test_update_household_refuses_a_stale_version_and_changes_nothing(w):
    household = w.household
    stale = household.version
    services.update_household(
        w.users["coordinateur"], household, expected_version=stale, **_update_values()
    )
    db.session.commit()
    with pytest.raises(StaleEditError) as error:
        services.update_household(
            w.users["travailleur_social"],
            household,
            expected_version=stale,
            **_update_values(phone="07 00 00 00 00"),
        )
    db.session.rollback()
    assert w.users["coordinateur"].full_name in error.value.message
    assert household.phone == "06 12 34 56 78"


def test_update_household_refuses_negative_amounts(w):
    with pytest.raises(DomainError, match="négatif") as error:
        services.update_household(
            w.users["travailleur_social"],
            w.household,
            expected_version=w.household.version,
            **_update_values(debts_cents=-1),
        )
    assert error.value.field == "debts_euros"


def test_update_household_records_the_housing_application_and_refuses_an_implausible_expiry(w):
    services.update_household(
        w.users["travailleur_social"],
        w.household,
        expected_version=w.household.version,
        **_update_values(
            housing_application_number="069042512345678901",
            housing_application_expires_on=date(2026, 3, 31),
            today=date(2025, 4, 1),
        ),
    )
    db.session.commit()
    assert w.household.housing_application_expires_on == date(2026, 3, 31)
    with pytest.raises(DomainError, match="valable un an") as error:
        services.update_household(
            w.users["travailleur_social"],
            w.household,
            expected_version=w.household.version,
            **_update_values(
                housing_application_expires_on=date(2030, 1, 1), today=date(2025, 4, 1)
            ),
        )
    db.session.rollback()
    assert error.value.field == "housing_application_expires_on"
    assert w.household.housing_application_expires_on == date(2026, 3, 31)


# --- members ---------------------------------------------------------------------------------


def test_add_member_keeps_search_name_and_audits(w):
    member = services.add_member(
        w.users["travailleur_social"],
        w.household,
        first_name=" Éloïse ",
        last_name="N'Diaye",
        birth_on=date(2019, 2, 1),
        relation="enfant",
        today=TODAY,
    )
    assert member.search_name == "eloise n'diaye" and not member.is_head
    assert last_audit("household.member_added").target_id == member.id


def test_a_duplicate_member_is_refused_with_a_clear_message(w):
    before = len(w.household.members)
    with pytest.raises(DomainError) as error:
        services.add_member(
            w.users["travailleur_social"],
            w.household,
            first_name="INÈS",
            last_name=w.member.last_name,
            birth_on=w.member.birth_on,
            relation="enfant",
            today=TODAY,
        )
    db.session.rollback()
    assert "fait déjà partie du ménage" in error.value.message
    assert "2 avril 2015" in error.value.message
    assert len(db.session.get(Household, w.household.id).members) == before


def test_same_name_with_another_birth_date_is_another_person(w):
    services.add_member(
        w.users["travailleur_social"],
        w.household,
        first_name="Inès",
        last_name=w.member.last_name,
        birth_on=date(1960, 1, 1),
        relation="ascendant",
        today=TODAY,
    )
    assert len(w.household.members) == 3


def test_exactly_one_head_of_household(w):
    old_head = w.household.head
    services.update_member(
        w.users["travailleur_social"],
        w.household,
        w.member,
        expected_version=w.member.version,
        first_name=w.member.first_name,
        last_name=w.member.last_name,
        birth_on=w.member.birth_on,
        relation="demandeur",
        is_head=True,
        today=TODAY,
    )
    assert w.household.head is w.member and not old_head.is_head
    assert sum(m.is_head for m in w.household.members) == 1
    # The head cannot simply stop being head, nor be removed.
    with pytest.raises(DomainError, match="doit avoir un chef de ménage"):
        services.update_member(
            w.users["travailleur_social"],
            w.household,
            w.member,
            expected_version=w.member.version,
            first_name="Inès",
            last_name=w.member.last_name,
            birth_on=w.member.birth_on,
            relation="demandeur",
            is_head=False,
            today=TODAY,
        )
    with pytest.raises(DomainError, match="ne peut pas être retiré"):
        services.remove_member(
            w.users["travailleur_social"],
            w.household,
            w.member,
            expected_version=w.member.version,
        )


def test_remove_member_audits_and_deletes(w):
    member_id = w.member.id
    services.remove_member(
        w.users["travailleur_social"], w.household, w.member, expected_version=w.member.version
    )
    db.session.commit()
    assert db.session.get(Member, member_id) is None
    assert last_audit("household.member_removed").target_id == member_id


def test_member_birth_date_in_the_future_is_refused(w):
    with pytest.raises(DomainError, match="dans le futur") as error:
        services.add_member(
            w.users["travailleur_social"],
            w.household,
            first_name="Bébé",
            last_name="Diop",
            birth_on=TODAY + timedelta(days=30),
            relation="enfant",
            today=TODAY,
        )
    assert error.value.field == "birth_on"


# --- orientation, diagnostic, adhésion ------------------------------------------------------


def test_record_orientation(w):
    orientation = services.record_orientation(
        w.users["travailleur_social"],
        w.household,
        prescriber="siao",
        prescriber_detail="SIAO du Rhône",
        oriented_on=date(2026, 1, 15),
        kind="acces",
        reason="Sortie de CHRS",
        today=TODAY,
    )
    assert orientation.id and orientation.recorded_by_id == w.users["travailleur_social"].id
    entry = last_audit("household.orientation_recorded")
    assert entry.details == {"prescriber": "siao", "kind": "acces"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"prescriber": "inconnu"}, "prescriber"),
        ({"oriented_on": None}, "oriented_on"),
        ({"oriented_on": TODAY + timedelta(days=1)}, "oriented_on"),
        ({"kind": ""}, "kind"),
        ({"reason": "x" * 5001}, "reason"),
    ],
)
def test_record_orientation_refuses_bad_input(w, values, field):
    arguments = {
        "prescriber": "dalo",
        "prescriber_detail": None,
        "oriented_on": date(2026, 1, 15),
        "kind": "maintien",
        "reason": None,
        "today": TODAY,
        **values,
    }
    with pytest.raises(DomainError) as error:
        services.record_orientation(w.users["travailleur_social"], w.household, **arguments)
    db.session.rollback()
    assert error.value.field == field
    assert _count(Orientation) == 0


def _diagnostic(w, **values):
    levels = {
        "pouvoir_louer": "a_travailler",
        "savoir_louer": "partiel",
        "savoir_habiter": "acquis",
        "environnement": "acquis",
    }
    return services.record_diagnostic(
        w.users["travailleur_social"],
        w.household,
        carried_out_on=values.pop("carried_out_on", date(2026, 2, 1)),
        levels=values.pop("levels", levels),
        comments=values.pop("comments", {"pouvoir_louer": "Dettes CAF"}),
        needs=values.pop("needs", ["budget_dettes", "acces_droits"]),
        recommended_intensity=values.pop("recommended_intensity", "soutenue"),
        today=TODAY,
    )


def test_record_diagnostic(w):
    diagnostic = _diagnostic(w)
    assert diagnostic.pouvoir_louer_level == "a_travailler"
    assert diagnostic.pouvoir_louer_comment == "Dettes CAF"
    assert diagnostic.needs == "budget_dettes,acces_droits"
    assert diagnostic.recommended_intensity == "soutenue"
    entry = last_audit("household.diagnostic_recorded")
    assert entry.target_id == diagnostic.id and entry.details is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"levels": {"pouvoir_louer": "acquis"}}, "savoir_louer_level"),
        ({"recommended_intensity": "extreme"}, "recommended_intensity"),
        ({"needs": ["nimporte"]}, "needs"),
        ({"carried_out_on": date(1999, 1, 1)}, "carried_out_on"),
    ],
)
def test_record_diagnostic_refuses_bad_input(w, values, field):
    with pytest.raises(DomainError) as error:
        _diagnostic(w, **values)
    db.session.rollback()
    assert error.value.field == field
    assert _count(Diagnostic) == 0


def test_adhesion_needs_a_referent(w):
    household = _create(w, actor=w.users["coordinateur"])
    with pytest.raises(DomainError, match="référent"):
        services.record_adhesion(
            w.users["coordinateur"],
            household,
            signed_on=date(2026, 3, 1),
            objectives="Payer le loyer",
            today=TODAY,
        )
    db.session.rollback()
    assert _count(Adhesion) == 0
    adhesion = services.record_adhesion(
        w.users["travailleur_social"],
        w.household,
        signed_on=date(2026, 3, 1),
        objectives="Payer le loyer\nOuvrir les droits APL",
        today=TODAY,
    )
    assert last_audit("household.adhesion_recorded").target_id == adhesion.id


def test_adhesion_requires_objectives(w):
    with pytest.raises(DomainError) as error:
        services.record_adhesion(
            w.users["travailleur_social"],
            w.household,
            signed_on=date(2026, 3, 1),
            objectives="   ",
            today=TODAY,
        )
    assert error.value.field == "objectives"


# --- consents --------------------------------------------------------------------------------


def test_consents_are_given_withdrawn_and_kept_as_history(w):
    actor = w.users["travailleur_social"]
    consent = services.give_consent(
        actor,
        w.household,
        partner_category="sante",
        data_category="sante",
        given_on=date(2026, 1, 5),
        today=TODAY,
    )
    assert last_audit("household.consent_given").details == {
        "partner_category": "sante",
        "data_category": "sante",
    }
    with pytest.raises(DomainError, match="déjà en cours"):
        services.give_consent(
            actor,
            w.household,
            partner_category="sante",
            data_category="sante",
            given_on=date(2026, 1, 6),
            today=TODAY,
        )
    with pytest.raises(DomainError, match="ne peut pas précéder"):
        services.withdraw_consent(
            actor, w.household, consent, withdrawn_on=date(2026, 1, 4), today=TODAY
        )
    services.withdraw_consent(
        actor, w.household, consent, withdrawn_on=date(2026, 2, 1), today=TODAY
    )
    assert last_audit("household.consent_withdrawn").target_id == consent.id
    with pytest.raises(DomainError, match="déjà été retiré le 1 février 2026"):
        services.withdraw_consent(
            actor, w.household, consent, withdrawn_on=date(2026, 2, 2), today=TODAY
        )
    again = services.give_consent(
        actor,
        w.household,
        partner_category="sante",
        data_category="sante",
        given_on=date(2026, 3, 1),
        today=TODAY,
    )
    history = db.session.scalars(
        select(Consent).where(
            Consent.household_id == w.household.id, Consent.data_category == "sante"
        )
    ).all()
    assert {(c.given_on, c.withdrawn_on) for c in history} == {
        (date(2026, 1, 5), date(2026, 2, 1)),
        (date(2026, 3, 1), None),
    }
    assert again.withdrawn_on is None


# --- référent and team -----------------------------------------------------------------------


def test_assign_referent_and_team(w):
    coordinator = w.users["coordinateur"]
    colleague = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[w.project])
    services.assign_referent(
        coordinator, w.household, referent=colleague, expected_version=w.household.version
    )
    assert w.household.referent_id == colleague.id
    assert last_audit("household.referent_assigned").details == {
        "from_user_id": w.users["travailleur_social"].id,
        "to_user_id": colleague.id,
    }
    link = services.add_team_member(
        coordinator, w.household, user=w.users["travailleur_social"], today=TODAY
    )
    assert last_audit("household.team_member_added").target_id == link.id
    with pytest.raises(DomainError, match="fait déjà partie de l'équipe"):
        services.add_team_member(coordinator, w.household, user=colleague, today=TODAY)
    with pytest.raises(DomainError, match="ne travaille pas sur ce projet"):
        services.add_team_member(
            coordinator, w.household, user=w.users["autre_travailleur_social"], today=TODAY
        )
    services.remove_team_member(coordinator, w.household, user_id=w.users["travailleur_social"].id)
    assert last_audit("household.team_member_removed").details == {
        "user_id": w.users["travailleur_social"].id
    }
    assert {t.user_id for t in w.household.team} == {w.team_colleague.id}


def test_landlord_staff_cannot_be_referent(w):
    with pytest.raises(DomainError, match="ni travailleur"):
        services.assign_referent(
            w.users["coordinateur"],
            w.household,
            referent=w.users["bailleur"],
            expected_version=w.household.version,
        )


def test_audit_trail_of_a_household_lists_every_change(w):
    household = _create(w)
    services.add_member(
        w.users["travailleur_social"],
        household,
        first_name="Awa",
        last_name="Diop",
        birth_on=date(2012, 6, 1),
        relation="enfant",
        today=TODAY,
    )
    assert audit_actions(household.id) == ["household.created", "household.member_added"]


def test_a_new_project_starts_its_own_numbering_only_per_year(w):
    # References are unique across projects: the sequence is global to the year.
    other = make_project()
    coordinator = make_user(Role.COORDINATEUR, projects=[w.project, other])
    a = _create(w, actor=coordinator)
    b = services.create_household(
        coordinator,
        other,
        head_first_name="Jean",
        head_last_name="Martin",
        head_birth_on=None,
        today=TODAY,
    )
    assert int(b.reference[-4:]) == int(a.reference[-4:]) + 1
