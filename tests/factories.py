"""Plain functions that build valid records. They flush, never commit (the test client
commits before each request)."""

from __future__ import annotations

import io
import itertools
from datetime import date

from app.auth.services import hash_password
from app.db import db
from app.organisations.models import Organisation, OrganisationKind
from app.permissions import Role
from app.projects.models import FundingCall, Project
from app.users.models import User, UserRole

PASSWORD = "mot-de-passe-de-test"
_counter = itertools.count(1)
_password_hash: dict[str, str] = {}


def _n() -> int:
    return next(_counter)


def make_organisation(kind: OrganisationKind = OrganisationKind.ASSOCIATION, **values):
    organisation = Organisation(
        name=values.pop("name", f"Organisation {_n()}"), kind=kind, **values
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_landlord(**values):
    return make_organisation(
        OrganisationKind.BAILLEUR, name=values.pop("name", f"Bailleur {_n()}"), **values
    )


def make_project(lead_landlord=None, **values):
    project = Project(
        name=values.pop("name", f"Projet {_n()}"),
        territory=values.pop("territory", "Métropole de Lyon"),
        lead_landlord=lead_landlord or make_landlord(),
        funding_call=values.pop("funding_call", FundingCall.HLM_ACCOMPAGNES),
        convention_start_on=values.pop("convention_start_on", date(2025, 1, 1)),
        convention_end_on=values.pop("convention_end_on", date(2027, 12, 31)),
        target_households=values.pop("target_households", 40),
        **values,
    )
    db.session.add(project)
    db.session.flush()
    return project


def make_user(*roles: Role, organisation=None, projects=(), password: str = PASSWORD, **values):
    roles = roles or (Role.TRAVAILLEUR_SOCIAL,)
    if organisation is None:
        organisation = make_landlord() if Role.PERSONNEL_BAILLEUR in roles else make_organisation()
    n = _n()
    if password not in _password_hash:  # hashing is the slow part: once per password
        _password_hash[password] = hash_password(password)
    user = User(
        email=values.pop("email", f"utilisateur{n}@exemple.fr"),
        full_name=values.pop("full_name", f"Utilisateur {n}"),
        organisation=organisation,
        password_hash=_password_hash[password],
        role_rows=[UserRole(role=r) for r in roles],
        projects=list(projects),
        **values,
    )
    db.session.add(user)
    db.session.flush()
    return user


# --- housing ---------------------------------------------------------------------------------


def make_dwelling(landlord, **values):
    """A free dwelling of ``landlord`` (T2, PLAI, 380 € + 60 €)."""
    from app.housing.models import Dwelling

    dwelling = Dwelling(
        landlord_id=landlord.id,
        address=values.pop("address", f"{_n()} avenue Berthelot"),
        postal_code=values.pop("postal_code", "69008"),
        city=values.pop("city", "Lyon"),
        typology=values.pop("typology", "T2"),
        funding=values.pop("funding", "PLAI"),
        rent_cents=values.pop("rent_cents", 38_000),
        charges_cents=values.pop("charges_cents", 6_000),
        **values,
    )
    db.session.add(dwelling)
    db.session.flush()
    return dwelling


def make_occupancy(household, dwelling, **values):
    """A current lease of ``household`` on ``dwelling`` with a lease reference."""
    from app.housing.models import Occupancy

    occupancy = Occupancy(
        household_id=household.id,
        dwelling_id=dwelling.id,
        lease_type=values.pop("lease_type", "bail_direct"),
        start_on=values.pop("start_on", date(2025, 2, 1)),
        lease_reference=values.pop("lease_reference", f"BAIL-{_n():06d}"),
        **values,
    )
    db.session.add(occupancy)
    db.session.flush()
    return occupancy


def make_snapshot(occupancy, month, balance_cents=0, amount_due_cents=44_000, **values):
    from app.housing.models import RentAccountSnapshot

    snapshot = RentAccountSnapshot(
        occupancy_id=occupancy.id,
        month=month,
        balance_cents=balance_cents,
        amount_due_cents=amount_due_cents,
        **values,
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


RENT_ACCOUNT_HEADER = (
    "Référence du bail;Mois;Solde;Loyer et charges du mois;Date du dernier paiement;APL;"
    "Date de signalement CAF"
)


def rent_account_csv(
    *rows: str, header: str = RENT_ACCOUNT_HEADER, encoding: str = "utf-8", bom: bool = False
) -> bytes:
    """A landlord's monthly extract as the import reads it (``;``-separated CSV)."""
    text = "\r\n".join((header, *rows)) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def make_repayment_plan(occupancy, **values):
    from app.housing.models import RepaymentPlan

    plan = RepaymentPlan(
        occupancy_id=occupancy.id,
        start_on=values.pop("start_on", date(2025, 9, 1)),
        monthly_cents=values.pop("monthly_cents", 5_000),
        debt_cents=values.pop("debt_cents", 90_000),
        **values,
    )
    db.session.add(plan)
    db.session.flush()
    return plan


def make_procedure_stage(occupancy, stage, occurred_on, **values):
    from app.housing.models import ProcedureStage

    entry = ProcedureStage(
        occupancy_id=occupancy.id, stage=stage, occurred_on=occurred_on, **values
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- households (used by the support, interventions and partners tests) --------------------


def make_household(project=None, referent=None, **values):
    from app.households.models import Household, HouseholdStage, Member

    n = _n()
    household = Household(
        reference=values.pop("reference", f"T-{n:05d}"),
        project=project or make_project(),
        referent_id=referent.id if referent is not None else None,
        stage=values.pop("stage", HouseholdStage.MAINTIEN),
        stage_since_on=values.pop("stage_since_on", date(2025, 3, 1)),
        members=[
            Member(
                first_name=values.pop("first_name", "Aïcha"),
                last_name=values.pop("last_name", f"Ménage{n}"),
                is_head=True,
            )
        ],
        **values,
    )
    db.session.add(household)
    db.session.flush()
    return household


def make_consent(household, partner_category: str, data_category: str, given_on=None):
    from app.households.models import Consent

    consent = Consent(
        household_id=household.id,
        partner_category=partner_category,
        data_category=data_category,
        given_on=given_on or date(2025, 1, 1),
    )
    db.session.add(consent)
    db.session.flush()
    return consent


# --- support, interventions, partners ------------------------------------------------------


def make_intensity_levels(project):
    """The project's default levels: [Renforcée 7 j ×2, Soutenue 14 j ×1,5, Modérée 30 j ×1]."""
    from app.support.services import ensure_default_intensity_levels

    return ensure_default_intensity_levels(project)


def make_measure(household, actor=None, **values):
    from app.support.models import MeasureType
    from app.support.services import open_measure

    levels = make_intensity_levels(household.project)
    actor = actor or household.referent or make_user()
    return open_measure(
        actor,
        household,
        type=values.pop("type", MeasureType.HLM_ACCOMPAGNES),
        intensity_level_id=values.pop("intensity_level_id", levels[1].id),
        start_on=values.pop("start_on", date(2025, 3, 1)),
        planned_end_on=values.pop("planned_end_on", date(2026, 9, 1)),
        **values,
    )


def make_objective(household, **values):
    from app.support.models import Objective

    objective = Objective(
        household_id=household.id,
        domain=values.pop("domain", "budget_dettes"),
        title=values.pop("title", f"Objectif {_n()}"),
        status=values.pop("status", "en_cours"),
        set_on=values.pop("set_on", date(2025, 3, 15)),
        **values,
    )
    db.session.add(objective)
    db.session.flush()
    return objective


def make_intervention(household, author=None, **values):
    from app.interventions.models import Intervention

    intervention = Intervention(
        household_id=household.id,
        occurred_on=values.pop("occurred_on", date(2025, 6, 10)),
        mode=values.pop("mode", "visite_domicile"),
        duration_minutes=values.pop("duration_minutes", 60),
        author_id=author.id if author is not None else None,
        **values,
    )
    db.session.add(intervention)
    db.session.flush()
    return intervention


def make_partner(**values):
    from app.households.models import search_key
    from app.partners.models import Partner

    name = values.pop("name", f"Partenaire {_n()}")
    partner = Partner(
        name=name,
        domain=values.pop("domain", "sante"),
        city=values.pop("city", "Lyon"),
        search_text=search_key(name + " " + (values.get("kind") or "") + " Lyon"),
        **values,
    )
    db.session.add(partner)
    db.session.flush()
    return partner


def make_referral(household, partner=None, **values):
    from app.partners.models import Referral, ReferralStatusChange

    referred_on = values.pop("referred_on", date(2025, 6, 1))
    referral = Referral(
        household_id=household.id,
        partner_id=(partner or make_partner()).id,
        domain=values.pop("domain", "sante"),
        reason=values.pop("reason", "Suivi psychologique à mettre en place"),
        referred_on=referred_on,
        status="envoyee",
        status_on=referred_on,
        **values,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(ReferralStatusChange(referral_id=referral.id, status="envoyee", on=referred_on))
    db.session.flush()
    return referral


def make_meeting(household, **values):
    from app.partners.models import TripartiteMeeting

    meeting = TripartiteMeeting(
        household_id=household.id,
        held_on=values.pop("held_on", date(2025, 5, 20)),
        attendees=values.pop("attendees", "Le ménage, la gestionnaire, la référente"),
        decisions=values.pop("decisions", "Plan d'apurement de 50 € par mois"),
        **values,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def make_tenancy(household, landlord, **values):
    """A current lease of ``household`` in a new dwelling of ``landlord`` (so that the
    landlord's staff see the household)."""
    from app.housing.models import Dwelling, Occupancy

    dwelling = Dwelling(
        landlord_id=landlord.id,
        address=f"{_n()} rue des Tilleuls",
        postal_code="69008",
        city="Lyon",
        typology="T2",
        funding="PLAI",
        rent_cents=38_000,
        charges_cents=6_000,
    )
    db.session.add(dwelling)
    db.session.flush()
    occupancy = Occupancy(
        household_id=household.id,
        dwelling_id=dwelling.id,
        lease_type=values.pop("lease_type", "bail_direct"),
        start_on=values.pop("start_on", date(2025, 2, 1)),
        **values,
    )
    db.session.add(occupancy)
    db.session.flush()
    return occupancy


def make_member(household, first_name="Yanis", last_name=None, **values):
    """A member of ``household`` (not the head unless ``is_head=True``), searchable."""
    from app.households.models import Member, search_key

    last_name = last_name or household.head.last_name
    member = Member(
        first_name=first_name,
        last_name=last_name,
        relation=values.pop("relation", "enfant"),
        birth_on=values.pop("birth_on", date(2015, 4, 2)),
        search_name=search_key(f"{first_name} {last_name}"),
        **values,
    )
    household.members.append(member)
    db.session.flush()
    return member


def make_appointment(household, for_user, **values):
    """A planned appointment (today at 14:00 Paris by default, one hour, at home)."""
    from datetime import time

    from app.agenda.models import Appointment
    from app.agenda.services import paris_datetime
    from app.formatting import today_paris

    day = values.pop("day", today_paris())
    at = values.pop("at", time(14, 0))
    with_whom = values.pop("with_whom", "menage")
    appointment = Appointment(
        household_id=household.id,
        starts_at=paris_datetime(day, at),
        duration_minutes=values.pop("duration_minutes", 60),
        mode=values.pop("mode", "domicile"),
        with_whom=with_whom,
        is_tripartite=with_whom == "bailleur",
        status=values.pop("status", "prevu"),
        note=values.pop("note", "Préparer le dossier FSL"),
        planned_by_id=for_user.id,
        for_user_id=for_user.id,
        **values,
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def make_document(household, uploaded_by=None, *, content: bytes = PDF_BYTES, **values):
    """A document of ``household`` whose bytes are in the app's document store."""
    from app.documents.models import Document
    from app.documents.storage import document_store

    digest, _size = document_store().put_stream(io.BytesIO(content))
    document = Document(
        household_id=household.id,
        category=values.pop("category", "assurance"),
        title=values.pop("title", "Attestation d'assurance"),
        original_name=values.pop("original_name", "attestation.pdf"),
        content_type=values.pop("content_type", "application/pdf"),
        size_bytes=len(content),
        sha256=digest,
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        **values,
    )
    db.session.add(document)
    db.session.flush()
    document.lineage_id = document.id
    return document
