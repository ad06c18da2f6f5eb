"""Partner directory, referrals with the consent check, tripartite meetings and who sees them."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.formatting import today_paris
from app.partners import services
from app.partners.models import Partner, Referral, ReferralStatusChange, TripartiteMeeting
from app.partners.queries import next_meeting_on, search_partners
from app.permissions import Role
from tests.conftest import page
from tests.factories import (
    make_consent,
    make_household,
    make_landlord,
    make_meeting,
    make_organisation,
    make_partner,
    make_project,
    make_referral,
    make_tenancy,
    make_user,
)

TODAY = date(2026, 3, 12)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audited(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEntry.action == action))


@pytest.fixture
def people(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    make_tenancy(household, landlord)
    return {
        "household": household,
        "worker": worker,
        "landlord": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project]),
        "cmp": make_partner(name="CMP Lyon 8e", domain="sante", kind="CMP"),
    }


def refer(people, partner_id=None, **values):
    values.setdefault("domain", "sante")
    values.setdefault("reason", "Reprise d'un suivi psychiatrique")
    values.setdefault("referred_on", TODAY)
    return services.refer_household(
        people["worker"],
        people["household"],
        partner_id=partner_id or people["cmp"].id,
        today=TODAY,
        **values,
    )


def test_a_referral_is_refused_without_consent_then_accepted_with_it(people):
    with pytest.raises(DomainError, match="Consentement requis") as refused:
        refer(people)
    assert "Santé → Partenaires santé" in refused.value.message
    assert count(Referral) == 0 and audited("referral.sent") == 0

    make_consent(people["household"], "emploi", "sante")  # another partner category
    make_consent(people["household"], "sante", "situation_sociale")  # other data
    with pytest.raises(DomainError):
        refer(people)
    make_consent(people["household"], "sante", "sante", given_on=date(2026, 3, 1))
    referral = refer(people)
    db.session.flush()
    assert [c.status for c in referral.history] == ["envoyee"]
    assert audited("referral.sent") == 1


def test_a_health_referral_needs_the_health_cell_and_others_the_social_one(people):
    """The row is what the referral discloses: health data for a health partner or a
    referral about health, the social situation otherwise (docs/support.md)."""
    household = people["household"]
    make_consent(household, "sante", "sante")
    assert refer(people, domain="acces_droits").partner_id == people["cmp"].id  # a PASS, say
    mission = make_partner(name="Mission locale Lyon", domain="emploi", kind="Mission locale")
    with pytest.raises(DomainError) as refused:
        refer(people, partner_id=mission.id, domain="emploi_formation")
    assert refused.value.message.startswith(
        "Consentement requis : Situation sociale et accompagnement → Partenaires emploi"
    )
    make_consent(household, "emploi", "situation_sociale")
    refer(people, partner_id=mission.id, domain="emploi_formation")
    # About health, to a non-health partner: health data, in that partner's column.
    with pytest.raises(DomainError, match="Santé → Partenaires emploi et formation"):
        refer(people, partner_id=mission.id, domain="sante")


def test_a_consent_given_after_the_referral_date_does_not_cover_it(people):
    make_consent(people["household"], "sante", "sante", given_on=date(2026, 3, 10))
    with pytest.raises(DomainError, match="Consentement requis : Santé → Partenaires santé"):
        refer(people, referred_on=date(2026, 3, 1))


def test_an_unknown_partner_is_refused_in_plain_words(people):
    make_consent(people["household"], "sante", "sante")
    with pytest.raises(DomainError, match="ne figure pas dans l'annuaire"):
        refer(people, partner_id=999_999)
    assert count(Referral) == 0


def test_referral_status_history_and_outcome(people):
    referral = make_referral(people["household"], people["cmp"], referred_on=date(2026, 1, 5))
    worker = people["worker"]
    services.update_referral_status(
        worker,
        referral,
        version=referral.version,
        status="acceptee",
        on=date(2026, 1, 20),
        today=TODAY,
    )
    services.update_referral_status(
        worker,
        referral,
        version=referral.version,
        status="realisee",
        on=date(2026, 2, 3),
        comment="Suivi mensuel au CMP en place",
        today=TODAY,
    )
    db.session.flush()
    db.session.expire(referral)
    assert [(c.status, c.on) for c in referral.history] == [
        ("envoyee", date(2026, 1, 5)),
        ("acceptee", date(2026, 1, 20)),
        ("realisee", date(2026, 2, 3)),
    ]
    assert referral.outcome == "Suivi mensuel au CMP en place"
    assert audited("referral.status_changed") == 2
    with pytest.raises(DomainError, match="ne change plus"):
        services.update_referral_status(
            worker, referral, version=referral.version, status="abandonnee", on=TODAY, today=TODAY
        )
    assert count(ReferralStatusChange) == 3


def test_a_status_dated_before_the_current_one_is_refused(people):
    referral = make_referral(people["household"], people["cmp"], referred_on=date(2026, 1, 5))
    with pytest.raises(DomainError, match="ne peut pas précéder"):
        services.update_referral_status(
            people["worker"],
            referral,
            version=referral.version,
            status="acceptee",
            on=date(2026, 1, 1),
            today=TODAY,
        )


def test_meetings_and_the_next_one(people):
    household = people["household"]
    with pytest.raises(DomainError, match="après celle-ci"):
        services.record_meeting(
            people["worker"],
            household,
            held_on=TODAY,
            attendees="Tous",
            decisions=None,
            next_meeting_on=TODAY,
        )
    assert count(TripartiteMeeting) == 0
    services.record_meeting(
        people["worker"],
        household,
        held_on=date(2026, 1, 10),
        attendees="Le ménage, le bailleur",
        decisions="Plan d'apurement",
        next_meeting_on=date(2026, 7, 10),
    )
    make_meeting(household, held_on=date(2026, 5, 2))
    assert audited("meeting.recorded") == 1
    assert next_meeting_on(household.id, TODAY) == date(2026, 5, 2)
    assert next_meeting_on(household.id, date(2026, 6, 1)) == date(2026, 7, 10)


def test_directory_search_ignores_accents_and_case_and_filters_by_domain(people):
    make_partner(name="Mission locale de Saint-Étienne", domain="emploi", city="Saint-Étienne")
    make_partner(name="PASS Hôpital Édouard Herriot", domain="sante")
    names = lambda q, d=None: [p.name for p in db.session.scalars(search_partners(q, d))]  # noqa: E731
    assert names("saint etienne") == ["Mission locale de Saint-Étienne"]
    assert names("HOPITAL") == ["PASS Hôpital Édouard Herriot"]
    assert names("", "emploi") == ["Mission locale de Saint-Étienne"]


def test_a_partner_with_a_taken_name_is_refused(people):
    with pytest.raises(DomainError, match="déjà ce nom"):
        services.create_partner(people["worker"], name="cmp lyon 8e", domain="sante")
    assert count(Partner) == 1


# --- pages ----------------------------------------------------------------------------------


def test_referral_form_refuses_without_consent_and_changes_nothing(people, client):
    household = people["household"]
    client.login(people["worker"])
    url = f"/menages/{household.id}/partenaires/orientations/nouvelle"
    data = {
        "partner_id": str(people["cmp"].id),
        "domain": "sante",
        "reason": "Suivi",
        "referred_on": today_paris().isoformat(),
    }
    response = client.post(url, data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    # The message names the cell and links to it on the Consentements tab.
    assert (
        f'Consentement requis : <a href="/menages/{household.id}/consentements'
        '#consentement-sante-partenaires-sante">Santé → Partenaires santé</a>.'
    ) in body
    response = client.post(url, data={**data, "partner_id": "424242"})
    assert "ne figure pas dans l'annuaire" in page(response)
    assert count(Referral) == 0
    make_consent(household, "sante", "sante")
    assert client.post(url, data=data).status_code == 302
    assert count(Referral) == 1


def test_the_landlord_sees_meetings_but_never_referrals(people, client, make_client):
    household = people["household"]
    make_referral(household, people["cmp"], reason="MOTIF-SANTE")
    make_meeting(household, decisions="DECISION-TRIPARTITE")
    client.login(people["worker"])
    for path in ("/partenaires", ""):
        body = page(client.get(f"/menages/{household.id}{path}"))
        assert "CMP Lyon 8e" in body and "DECISION-TRIPARTITE" in body
    landlord = make_client()
    landlord.login(people["landlord"])
    for path in ("/partenaires", ""):
        body = page(landlord.get(f"/menages/{household.id}{path}"))
        assert "DECISION-TRIPARTITE" in body
        assert "CMP Lyon 8e" not in body and "MOTIF-SANTE" not in body
    assert landlord.get("/partenaires/").status_code == 403


def test_a_referral_of_another_household_is_not_found(people, client):
    other = make_referral(make_household(people["household"].project), people["cmp"])
    client.login(people["worker"])
    url = f"/menages/{people['household'].id}/partenaires/orientations/{other.id}"
    assert client.get(url).status_code == 404


def test_coordinator_adds_a_partner_and_a_contact(app, client):
    coordinator = make_user(Role.COORDINATEUR)
    client.login(coordinator)
    response = client.post(
        "/partenaires/nouveau",
        data={"name": "CSAPA Le Griffon", "domain": "sante", "kind": "CSAPA", "city": "Lyon"},
    )
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner))
    response = client.post(
        f"/partenaires/{partner.id}/contacts",
        data={"full_name": "Dr Hélène Vidal", "phone": "04 72 00 00 00"},
    )
    assert response.status_code == 302
    body = page(client.get(f"/partenaires/{partner.id}"))
    assert "Dr Hélène Vidal" in body
    assert "CSAPA Le Griffon" in page(client.get("/partenaires/?q=griffon"))


def test_an_entry_is_edited_by_its_organisation_only_others_propose_a_correction(
    app, client, make_client
):
    """Trait d'Union's coordinator creates an entry; Passerelle's coordinator reads it, may
    neither edit it nor add a contact, and proposes a correction that reaches Trait d'Union's
    coordinators (and only them) as a notice."""
    owner_org = make_organisation(name="Trait d'Union")
    other_org = make_organisation(name="Passerelle")
    owner = make_user(Role.COORDINATEUR, organisation=owner_org, projects=[make_project()])
    colleague = make_user(Role.COORDINATEUR, organisation=owner_org)
    outsider = make_user(Role.COORDINATEUR, organisation=other_org, full_name="Paul Passerelle")
    client.login(owner)
    client.post("/partenaires/nouveau", data={"name": "CSAPA Le Griffon", "domain": "sante"})
    partner = db.session.scalar(select(Partner))
    assert partner.owner_organisation_id == owner_org.id

    other = make_client()
    other.login(outsider)
    assert "CSAPA Le Griffon" in page(other.get(f"/partenaires/{partner.id}"))
    assert other.get(f"/partenaires/{partner.id}/modifier").status_code == 403
    edit = other.post(
        f"/partenaires/{partner.id}/modifier",
        data={"name": "Renommé", "domain": "sante", "expected_version": str(partner.version)},
    )
    contact = other.post(
        f"/partenaires/{partner.id}/contacts", data={"full_name": "X", "phone": "0600000000"}
    )
    assert (edit.status_code, contact.status_code) == (403, 403)
    with pytest.raises(DomainError, match="appartient à une autre organisation"):
        services.update_partner(
            outsider,
            partner,
            version=partner.version,
            is_active=True,
            name="Renommé",
            domain="sante",
        )
    db.session.rollback()
    assert db.session.get(Partner, partner.id).name == "CSAPA Le Griffon"
    assert not db.session.get(Partner, partner.id).contacts

    empty = other.post(f"/partenaires/{partner.id}/correction", data={"message": " "})
    assert "Indiquez la correction à proposer." in page(empty)
    sent = other.post(
        f"/partenaires/{partner.id}/correction",
        data={"message": "Nouveau numéro : 04 78 00 00 00"},
    )
    assert sent.status_code == 302
    assert audited("partner.correction_proposed") == 1
    assert "04 78 00 00 00" not in str(
        db.session.scalar(
            select(AuditEntry.details).where(AuditEntry.action == "partner.correction_proposed")
        )
    )
    for reader, sees in ((client, True), (other, False)):
        inbox = page(reader.get("/rappels/"))
        assert ("Correction proposée pour « CSAPA Le Griffon »" in inbox) is sees
        assert ("Nouveau numéro : 04 78 00 00 00" in inbox) is sees
    third = make_client()
    third.login(colleague)
    assert "Proposée par Paul Passerelle" in page(third.get("/rappels/"))
    # The owner edits their entry directly; proposing to oneself is refused.
    assert "modifiez-la directement" in page(
        client.post(f"/partenaires/{partner.id}/correction", data={"message": "Test"})
    )


def test_an_entry_without_a_known_owner_is_edited_by_administrators_only(app, client):
    partner = make_partner(name="Mission locale Est")
    coordinator = make_user(Role.COORDINATEUR)
    client.login(coordinator)
    assert client.get(f"/partenaires/{partner.id}/modifier").status_code == 403
    refused = client.post(f"/partenaires/{partner.id}/correction", data={"message": "Fermée"})
    assert "signalez la correction à l'administrateur" in page(refused)
    client.logout()
    client.login(make_user(Role.ADMIN))
    assert client.get(f"/partenaires/{partner.id}/modifier").status_code == 200
