"""Realistic synthetic demo data (French names and places), loaded by ``flask --app wsgi demo``.

Idempotent: each section looks for what it would create and adds only what is missing, so
running the command again duplicates nothing. Demo accounts exist only when this ran.
Every name, address and situation here is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.auth.services import set_password
from app.db import db
from app.organisations.models import Organisation, OrganisationKind
from app.permissions import Role
from app.projects.models import FundingCall, Project, TargetPublic
from app.users.models import User, UserRole

DEMO_PASSWORD = "ancrage-demo-2026"  # noqa: S105 - printed on the console on purpose


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    kind: OrganisationKind
    city: str


ORGANISATIONS = (
    DemoOrganisation("rhs", "Rhône Habitat Solidaire", OrganisationKind.BAILLEUR, "Lyon"),
    DemoOrganisation("gll", "Grand Lyon Logis", OrganisationKind.BAILLEUR, "Villeurbanne"),
    DemoOrganisation("lfh", "Loire Foyers HLM", OrganisationKind.BAILLEUR, "Saint-Étienne"),
    DemoOrganisation("tdu", "Association Trait d'Union", OrganisationKind.ASSOCIATION, "Lyon"),
    DemoOrganisation(
        "pas", "Passerelle Logement Loire", OrganisationKind.ASSOCIATION, "Saint-Étienne"
    ),
    DemoOrganisation("ccas", "CCAS de Vénissieux", OrganisationKind.COLLECTIVITE, "Vénissieux"),
    DemoOrganisation("adm", "Administration Ancrage", OrganisationKind.COLLECTIVITE, "Lyon"),
)

PROJECTS = (
    {
        "name": "HLM accompagnés Lyon Est",
        "territory": "Métropole de Lyon (Lyon 8e, Vénissieux, Villeurbanne)",
        "lead": "rhs",
        "partners": ("tdu", "ccas", "gll"),
        "funding_call": FundingCall.HLM_ACCOMPAGNES,
        "convention_start_on": date(2025, 1, 1),
        "convention_end_on": date(2027, 12, 31),
        "target_households": 45,
        "grant_cents": 13_500_000,
        "target_publics": (
            TargetPublic.PRIORITAIRE_DALO,
            TargetPublic.SORTIE_HEBERGEMENT,
            TargetPublic.SANTE_MENTALE,
            TargetPublic.MENACE_EXPULSION,
        ),
    },
    {
        "name": "AVDL Loire Sud",
        "territory": "Saint-Étienne Métropole",
        "lead": "lfh",
        "partners": ("pas",),
        "funding_call": FundingCall.FNAVDL,
        "convention_start_on": date(2025, 6, 1),
        "convention_end_on": date(2027, 5, 31),
        "target_households": 35,
        "grant_cents": 9_800_000,
        "target_publics": (
            TargetPublic.PRIORITAIRE_DALO,
            TargetPublic.SORTIE_RUE,
            TargetPublic.VIOLENCES,
            TargetPublic.JEUNE_SORTANT_ASE,
        ),
    },
)

# (email, name, organisation key, roles, project indexes, job title)
USERS = (
    ("admin@ancrage.demo", "Camille Roussel", "adm", (Role.ADMIN,), (), "Administratrice"),
    (
        "coordination@traitdunion.demo",
        "Nadia Benali",
        "tdu",
        (Role.COORDINATEUR,),
        (0,),
        "Coordinatrice du projet",
    ),
    (
        "coordination@passerelle.demo",
        "Julien Faure",
        "pas",
        (Role.COORDINATEUR,),
        (1,),
        "Coordinateur",
    ),
    (
        "sophie.martin@traitdunion.demo",
        "Sophie Martin",
        "tdu",
        (Role.TRAVAILLEUR_SOCIAL,),
        (0,),
        "Conseillère en économie sociale et familiale",
    ),
    (
        "karim.haddad@traitdunion.demo",
        "Karim Haddad",
        "tdu",
        (Role.TRAVAILLEUR_SOCIAL,),
        (0,),
        "Éducateur spécialisé",
    ),
    (
        "lea.girard@ccas-venissieux.demo",
        "Léa Girard",
        "ccas",
        (Role.TRAVAILLEUR_SOCIAL,),
        (0,),
        "Assistante de service social",
    ),
    (
        "thomas.perrin@passerelle.demo",
        "Thomas Perrin",
        "pas",
        (Role.TRAVAILLEUR_SOCIAL,),
        (1,),
        "Travailleur social",
    ),
    (
        "amina.diallo@passerelle.demo",
        "Amina Diallo",
        "pas",
        (Role.TRAVAILLEUR_SOCIAL,),
        (1,),
        "Conseillère sociale",
    ),
    (
        "gestion@rhonehabitat.demo",
        "Marc Lefebvre",
        "rhs",
        (Role.PERSONNEL_BAILLEUR,),
        (0,),
        "Gestionnaire locatif",
    ),
    (
        "social@rhonehabitat.demo",
        "Claire Moreau",
        "rhs",
        (Role.PERSONNEL_BAILLEUR,),
        (0,),
        "Conseillère sociale du bailleur",
    ),
    (
        "clientele@grandlyonlogis.demo",
        "Hugo Bernard",
        "gll",
        (Role.PERSONNEL_BAILLEUR,),
        (0,),
        "Chargé de clientèle",
    ),
    (
        "gestion@loirefoyers.demo",
        "Isabelle Fontaine",
        "lfh",
        (Role.PERSONNEL_BAILLEUR,),
        (1,),
        "Gestionnaire locative",
    ),
)


def load_demo() -> list[User]:
    """Create whatever part of the demo is missing; return the demo accounts."""
    organisations = _organisations()
    projects = _projects(organisations)
    users = _users(organisations, projects)
    _households(projects, users)
    _housing(organisations, projects)
    _support()
    _reminders()
    db.session.flush()
    return users


def _organisations() -> dict[str, Organisation]:
    found = {}
    for spec in ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == spec.name))
        if organisation is None:
            organisation = Organisation(name=spec.name, kind=spec.kind, city=spec.city)
            db.session.add(organisation)
        found[spec.key] = organisation
    db.session.flush()
    return found


def _projects(organisations: dict[str, Organisation]) -> list[Project]:
    projects = []
    for spec in PROJECTS:
        project = db.session.scalar(select(Project).where(Project.name == spec["name"]))
        if project is None:
            project = Project(
                name=spec["name"],
                territory=spec["territory"],
                lead_landlord=organisations[spec["lead"]],
                partners=[organisations[k] for k in spec["partners"]],
                funding_call=spec["funding_call"],
                convention_start_on=spec["convention_start_on"],
                convention_end_on=spec["convention_end_on"],
                target_households=spec["target_households"],
                grant_cents=spec["grant_cents"],
                target_publics=",".join(spec["target_publics"]),
            )
            db.session.add(project)
        projects.append(project)
    db.session.flush()
    return projects


def _users(organisations: dict[str, Organisation], projects: list[Project]) -> list[User]:
    users = []
    for email, name, org_key, roles, project_indexes, job_title in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                full_name=name,
                job_title=job_title,
                organisation=organisations[org_key],
                role_rows=[UserRole(role=role) for role in roles],
                projects=[projects[i] for i in project_indexes],
            )
            set_password(user, DEMO_PASSWORD)
            db.session.add(user)
        users.append(user)
    db.session.flush()
    return users


# --- housing: dwellings, leases, rent accounts, GLA, procedures -----------------------------

# Streets of each demo landlord's stock: (landlord key, street, postal code, city, residence).
DEMO_STREETS = (
    ("rhs", "rue Professeur Beauvisage", "69008", "Lyon", "Les Hauts de Mermoz"),
    ("rhs", "avenue Jean Mermoz", "69008", "Lyon", "Mermoz Nord"),
    ("rhs", "rue Genton", "69008", "Lyon", "États-Unis Genton"),
    ("rhs", "avenue Marcel Houël", "69200", "Vénissieux", "Les Minguettes – Démocratie"),
    ("rhs", "boulevard Lénine", "69200", "Vénissieux", "Parilly"),
    ("rhs", "rue Gaspard Picard", "69200", "Vénissieux", "Moulin à Vent"),
    ("gll", "rue Francis de Pressensé", "69100", "Villeurbanne", "Gratte-Ciel Sud"),
    ("gll", "cours Émile Zola", "69100", "Villeurbanne", "Flachet"),
    ("gll", "avenue Roger Salengro", "69100", "Villeurbanne", "Les Buers"),
    ("lfh", "rue de la Tour", "42000", "Saint-Étienne", "Montreynaud"),
    ("lfh", "boulevard Pasteur", "42100", "Saint-Étienne", "La Cotonne"),
    ("lfh", "rue Bergson", "42000", "Saint-Étienne", "Bergson"),
    ("lfh", "allée des Tilleuls", "42100", "Saint-Étienne", "Beaulieu"),
)
DWELLINGS_PER_LANDLORD = {"rhs": 30, "gll": 12, "lfh": 32}
# (typology, surface m²): 40 % of HLM tenants live alone, hence many T1/T2.
DEMO_TYPOLOGIES = (
    ("T2", 47),
    ("T1", 31),
    ("T3", 65),
    ("T2", 50),
    ("T4", 80),
    ("T3", 62),
    ("T5", 94),
)
RENT_PER_M2_CENTS = 630  # average social rent (~6.3 €/m²)
CHARGES_PER_M2_CENTS = 120

# Rent-account profile of the n-th lease (cycled): most households are up to date; a
# realistic minority is in arrears, with a plan or under an eviction-prevention procedure.
# Each profile gives the debt in months of rent, from 11 months ago to last month.
ARREARS_PROFILES = (
    ("a_jour", (0,) * 12),
    ("a_jour", (0,) * 12),
    ("a_jour", (0,) * 12),
    ("a_jour", (0,) * 12),
    ("a_jour", (0,) * 12),
    ("impaye_recent", (0,) * 9 + (0.4, 1.2, 2.1)),
    ("a_jour", (0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    ("plan", (0, 0, 1, 2, 2.6, 2.9, 2.7, 2.4, 2.1, 1.8, 1.5, 1.2)),
    ("a_jour", (0,) * 12),
    ("commandement", (0, 0.5, 1.1, 1.8, 2.3, 3, 3.6, 4.1, 4.5, 4.9, 5.2, 5.6)),
    ("a_jour", (0,) * 12),
    ("assignation", (1, 1.8, 2.5, 3.1, 3.8, 4.6, 5.1, 5.9, 6.4, 7, 7.5, 8.1)),
    ("a_jour", (0,) * 12),
    ("quitter", (3, 3.8, 4.5, 5.2, 6, 6.7, 7.3, 8, 8.6, 9.1, 9.8, 10.4)),
)


def _housing(organisations: dict[str, Organisation], projects: list[Project]) -> None:
    """Dwellings of the three demo landlords, then a lease for each demo household that is
    housed (stages accès → sortie), with 12 months of rent accounts, plans, GLA actions and a
    few eviction-prevention procedures. Idempotent: looks up by reference first."""
    from app.dates import add_months, first_of_month
    from app.formatting import today_paris
    from app.households.models import Household, HouseholdStage, search_key
    from app.housing.models import (
        Dwelling,
        Occupancy,
    )

    dwellings: dict[str, list[Dwelling]] = {key: [] for key in DWELLINGS_PER_LANDLORD}
    for key, count in DWELLINGS_PER_LANDLORD.items():
        landlord = organisations[key]
        streets = [street for street in DEMO_STREETS if street[0] == key]
        for n in range(1, count + 1):
            reference = f"{key.upper()}-LGT-{n:03d}"
            dwelling = db.session.scalar(
                select(Dwelling).where(
                    Dwelling.landlord_id == landlord.id, Dwelling.landlord_reference == reference
                )
            )
            if dwelling is None:
                _key, street, postal_code, city, residence = streets[n % len(streets)]
                typology, surface = DEMO_TYPOLOGIES[n % len(DEMO_TYPOLOGIES)]
                address = f"{3 + (n * 7) % 90} {street}, appt {10 + n}"
                dwelling = Dwelling(
                    landlord_id=landlord.id,
                    landlord_reference=reference,
                    address=address,
                    postal_code=postal_code,
                    city=city,
                    residence=residence,
                    typology=typology,
                    surface_m2=surface,
                    funding=("PLAI", "PLUS", "PLUS", "PLS")[n % 4],
                    rent_cents=surface * RENT_PER_M2_CENTS,
                    charges_cents=surface * CHARGES_PER_M2_CENTS,
                    search_address=search_key(f"{address} {postal_code} {city} {residence}"),
                )
                db.session.add(dwelling)
            dwellings[key].append(dwelling)
    db.session.flush()

    housed = (
        HouseholdStage.ACCES,
        HouseholdStage.INSTALLATION,
        HouseholdStage.MAINTIEN,
        HouseholdStage.SORTIE,
    )
    today = today_paris()
    last_month = add_months(first_of_month(today), -1)
    landlords_of = {0: ("rhs", "gll"), 1: ("lfh",)}
    lease_number = 0
    for index, project in enumerate(projects):
        households = db.session.scalars(
            select(Household)
            .where(Household.project_id == project.id, Household.stage.in_(housed))
            .order_by(Household.reference)
        ).all()
        free = [d for key in landlords_of[index] for d in dwellings[key]]
        for household, dwelling in zip(households, free, strict=False):
            lease_number += 1
            occupancy = db.session.scalar(
                select(Occupancy).where(Occupancy.household_id == household.id)
            )
            if occupancy is None:
                if db.session.scalar(
                    select(Occupancy.id).where(
                        Occupancy.dwelling_id == dwelling.id, Occupancy.end_on.is_(None)
                    )
                ):
                    continue
                glissant = lease_number % 3 == 0
                start_on = add_months(last_month, -14 - lease_number % 10)
                occupancy = Occupancy(
                    household_id=household.id,
                    dwelling_id=dwelling.id,
                    lease_type="bail_glissant" if glissant else "bail_direct",
                    lease_reference=f"{dwelling.landlord_reference[:3]}-BAIL-{lease_number:03d}",
                    start_on=start_on,
                    glissement_target_on=add_months(start_on, 24) if glissant else None,
                )
                db.session.add(occupancy)
                db.session.flush()
            _demo_rent_accounts(occupancy, dwelling, lease_number, last_month)
    db.session.flush()


def _demo_rent_accounts(occupancy, dwelling, lease_number: int, last_month: date) -> None:
    from app.dates import add_months
    from app.housing.models import (
        GlaAction,
        ProcedureStage,
        RentAccountSnapshot,
        RepaymentPlan,
    )

    if db.session.scalar(
        select(RentAccountSnapshot.id).where(RentAccountSnapshot.occupancy_id == occupancy.id)
    ):
        return  # already loaded
    profile, debts = ARREARS_PROFILES[(lease_number - 1) % len(ARREARS_PROFILES)]
    due = dwelling.rent_cents + dwelling.charges_cents
    for offset, months in enumerate(debts):
        month = add_months(last_month, offset - 11)
        if month < occupancy.start_on.replace(day=1):
            continue
        balance = round(months * due) if months else (-1500 if offset % 5 == 0 else 0)
        db.session.add(
            RentAccountSnapshot(
                occupancy_id=occupancy.id,
                month=month,
                balance_cents=balance,
                amount_due_cents=due,
                last_payment_on=add_months(month, 0).replace(day=5 + lease_number % 10),
                apl_status="maintenue" if lease_number % 4 else "sans_apl",
                caf_reported_on=add_months(month, 0).replace(day=20) if months >= 2 else None,
            )
        )
    if profile == "a_jour":
        return
    first_arrears = add_months(last_month, -11 + next(i for i, m in enumerate(debts) if m))
    db.session.add(
        GlaAction(
            occupancy_id=occupancy.id,
            kind="contact_impaye",
            done_on=first_arrears.replace(day=12),
            outcome="Appel au ménage : retard lié à une rupture de droits, rendez-vous fixé.",
        )
    )
    stages: list[tuple[str, date, date | None]] = []
    if profile in ("plan", "commandement", "assignation", "quitter"):
        plan_start = add_months(first_arrears, 2)
        db.session.add(
            GlaAction(
                occupancy_id=occupancy.id,
                kind="proposition_plan",
                done_on=plan_start.replace(day=3),
                outcome="Plan d'apurement proposé et signé.",
            )
        )
        db.session.add(
            RepaymentPlan(
                occupancy_id=occupancy.id,
                start_on=plan_start,
                monthly_cents=5000,
                debt_cents=round(max(debts) * due),
                status="en_cours" if profile == "plan" else "rompu",
            )
        )
        stages += [
            ("impaye_constitue", add_months(first_arrears, 1), None),
            ("signalement_caf", add_months(first_arrears, 1).replace(day=20), None),
            ("plan_apurement", plan_start, None),
        ]
    if profile in ("commandement", "assignation"):
        stages += [
            ("saisine_ccapex", add_months(last_month, -4), None),
            ("commandement_payer", add_months(last_month, -1).replace(day=14), None),
        ]
    if profile == "assignation":
        hearing = add_months(last_month, 2).replace(day=18)
        stages.append(("assignation", last_month.replace(day=6), hearing))
    if profile == "quitter":
        hearing = add_months(last_month, -4).replace(day=18)
        stages = [(s, add_months(d, -6), None) for s, d, _h in stages] + [
            ("saisine_ccapex", add_months(last_month, -10), None),
            ("commandement_payer", add_months(last_month, -8).replace(day=14), None),
            ("assignation", add_months(last_month, -6).replace(day=6), hearing),
            ("diagnostic_social_financier", add_months(last_month, -5), hearing),
            ("audience", hearing, hearing),
            ("jugement", add_months(last_month, -3).replace(day=2), None),
            ("commandement_quitter", add_months(last_month, -1).replace(day=9), None),
        ]
    for stage, occurred_on, hearing_on in stages:
        db.session.add(
            ProcedureStage(
                occupancy_id=occupancy.id,
                stage=stage,
                occurred_on=occurred_on,
                hearing_on=hearing_on,
            )
        )


# --- support: intensity levels, partners, measures, visits, referrals, meetings, exits ------

DEMO_PARTNERS = (
    # name, domain, kind, address, city, phone, contact (name, title)
    (
        "CMP Lyon 8e Mermoz",
        "sante",
        "CMP",
        "12 rue Marius Berliet",
        "Lyon",
        "04 72 78 10 10",
        ("Dr Élise Carrel", "Psychiatre"),
    ),
    (
        "PASS Hôpital Édouard Herriot",
        "sante",
        "PASS",
        "5 place d'Arsonval",
        "Lyon",
        "04 72 11 60 00",
        ("Nathalie Rey", "Assistante sociale"),
    ),
    (
        "CSAPA Le Fil d'Ariane",
        "sante",
        "CSAPA addictologie",
        "40 rue Paul Bert",
        "Lyon",
        "04 78 60 22 22",
        ("Yacine Belkacem", "Infirmier"),
    ),
    (
        "CMP Saint-Étienne Centre",
        "sante",
        "CMP",
        "8 rue de la Charité",
        "Saint-Étienne",
        "04 77 12 30 30",
        ("Dr Paul Girardon", "Psychiatre"),
    ),
    (
        "France Travail Lyon 8e",
        "emploi",
        "France Travail",
        "30 avenue Jean Mermoz",
        "Lyon",
        "39 49",
        ("Sandrine Oudin", "Conseillère"),
    ),
    (
        "Mission locale de Saint-Étienne",
        "emploi",
        "Mission locale",
        "22 rue Brossard",
        "Saint-Étienne",
        "04 77 01 34 00",
        ("Kevin Marchal", "Conseiller insertion"),
    ),
    (
        "Atelier Tremplin Vénissieux",
        "emploi",
        "SIAE (atelier chantier d'insertion)",
        "3 rue Eugène Peloux",
        "Vénissieux",
        "04 78 70 40 40",
        ("Farida Amrani", "Encadrante"),
    ),
    (
        "CCAS de Vénissieux",
        "social",
        "CCAS",
        "5 avenue Marcel Houël",
        "Vénissieux",
        "04 72 21 44 44",
        ("Laurent Chevalier", "Travailleur social"),
    ),
    (
        "CAF du Rhône",
        "social",
        "CAF",
        "67 boulevard Vivier Merle",
        "Lyon",
        "32 30",
        ("Service partenaires", None),
    ),
    (
        "Maison de la Métropole Lyon 8e",
        "social",
        "Département / Métropole",
        "2 rue Jean Sarrazin",
        "Lyon",
        "04 78 77 55 55",
        ("Chantal Morel", "Assistante sociale"),
    ),
    (
        "SPIP de la Loire",
        "justice",
        "SPIP",
        "1 rue de la Préfecture",
        "Saint-Étienne",
        "04 77 43 70 70",
        ("Olivier Massot", "Conseiller pénitentiaire"),
    ),
    (
        "ADIL du Rhône",
        "logement",
        "ADIL",
        "9 rue Vauban",
        "Lyon",
        "04 78 52 84 84",
        ("Juliette Arnaud", "Juriste"),
    ),
)

DEMO_OBJECTIVES = (
    ("budget_dettes", "Constituer le dossier de surendettement"),
    ("relation_bailleur", "Tenir le plan d'apurement de 50 € par mois"),
    ("acces_droits", "Ouvrir les droits APL et prime d'activité"),
    ("logement", "Meubler et équiper le logement"),
    ("sante", "Reprendre un suivi médical régulier"),
    ("emploi_formation", "Entrer en formation qualifiante"),
    ("voisinage", "Apaiser le conflit avec les voisins du dessus"),
    ("demarches", "Renouveler le titre de séjour"),
)

DEMO_NOTES = (
    "Logement bien tenu. Madame explique avoir reçu un courrier de relance du bailleur.",
    "Point budget : reste à vivre faible ce mois-ci, colis alimentaire proposé.",
    "Monsieur a rapporté les justificatifs demandés par la CAF.",
    "Échange sur l'entretien du logement ; ventilation de la salle de bains à vérifier.",
    "Accompagnement au rendez-vous du CCAS pour l'aide FSL.",
    "Le fils aîné a commencé sa formation, le ménage est rassuré.",
)

DEMO_SHARED = (
    "Le ménage a repris ses paiements ce mois-ci.",
    "Le ménage souhaite un rendez-vous technique pour une fuite sous l'évier.",
    "Le dossier d'aide FSL a été déposé.",
)

DEMO_MODES = (
    "visite_domicile",
    "visite_domicile",
    "telephone",
    "bureau",
    "accompagnement_physique",
    "visite_conjointe",
)


def _support() -> None:
    """Intensity levels, the partner directory, and for each demo household with a référent
    and no measure yet: a measure, objectives, reviews, a year of contacts at its rhythm (some
    households overdue), referrals, tripartite meetings, and two exits with their checks."""
    import random
    from datetime import timedelta

    from app.dates import add_months
    from app.formatting import today_paris
    from app.households.models import Consent, Household, search_key
    from app.households.queries import has_consent
    from app.housing.models import Occupancy
    from app.interventions.models import Intervention
    from app.partners import services as partners
    from app.partners.models import Partner, PartnerContact, TripartiteMeeting
    from app.support import services as support
    from app.support.models import Measure

    rng = random.Random(20260312)  # noqa: S311 - reproducible demo data, not a secret
    today = today_paris()
    levels_by_project: dict[int, list] = {}
    # The directory belongs to the first association (Trait d'Union): it edits it, the
    # others read it and propose corrections.
    owner_name = next(spec.name for spec in ORGANISATIONS if spec.key == "tdu")
    owner_id = db.session.scalar(select(Organisation.id).where(Organisation.name == owner_name))
    known = set(db.session.scalars(select(Partner.name)))
    for name, domain, kind, address, city, phone, (contact, title) in DEMO_PARTNERS:
        if name in known:
            continue
        partner = Partner(
            name=name,
            domain=domain,
            kind=kind,
            address=address,
            city=city,
            phone=phone,
            search_text=search_key(f"{name} {kind} {city}"),
            owner_organisation_id=owner_id,
        )
        db.session.add(partner)
        db.session.flush()
        db.session.add(PartnerContact(partner_id=partner.id, full_name=contact, job_title=title))
    partners_by_domain: dict[str, list[Partner]] = {}
    for partner in db.session.scalars(select(Partner).order_by(Partner.name)):
        partners_by_domain.setdefault(partner.domain, []).append(partner)

    supported = set(db.session.scalars(select(Measure.household_id)))
    households = db.session.scalars(
        select(Household)
        .where(Household.referent_id.is_not(None), Household.anonymised_at.is_(None))
        .order_by(Household.reference)
    ).all()
    housed = set(
        db.session.scalars(select(Occupancy.household_id).where(Occupancy.end_on.is_(None)))
    )
    for index, household in enumerate(households):
        if household.id in supported:
            continue
        worker = db.session.get(User, household.referent_id)
        if household.project_id not in levels_by_project:
            levels_by_project[household.project_id] = support.ensure_default_intensity_levels(
                household.project
            )
        levels = levels_by_project[household.project_id]
        level = levels[index % len(levels)]
        exits = index in (4, 9)  # two households already out, checked at +6 and +12 months
        start = today - timedelta(days=rng.randint(420, 700) if exits else rng.randint(90, 540))
        measure_type = ("hlm_accompagnes", "avdl", "bail_glissant", "asll")[index % 4]
        end = add_months(start, 18 if index % 6 else 13)  # some end within weeks
        measure = support.open_measure(
            worker,
            household,
            type=measure_type,
            intensity_level_id=level.id,
            start_on=start,
            planned_end_on=max(end, start + timedelta(days=30)),
        )
        objectives = [
            support.add_objective(
                worker,
                household,
                domain=domain,
                title=title,
                status=rng.choice(("a_engager", "en_cours", "en_cours", "atteint")),
                set_on=start + timedelta(days=14),
            )
            for domain, title in rng.sample(DEMO_OBJECTIVES, 3)
        ]
        # Contacts at the level's rhythm over the last year; every fifth household has had
        # no contact for twice its rhythm (overdue), some appointments are missed.
        stop = (
            today - timedelta(days=2 * level.contact_every_days + 10) if index % 5 == 3 else today
        )
        if exits:
            exit_on = max(
                today - timedelta(days=400 if index == 4 else 200), start + timedelta(days=60)
            )
            stop = exit_on
        day = max(start, today - timedelta(days=365)) + timedelta(days=2)
        shares = has_consent(household.id, "bailleur", "situation_sociale", today)
        # A year of synthetic history: rows added directly (the rules record_visit checks
        # hold by construction), which keeps the demo load a few seconds long.
        while day <= stop:
            missed = rng.random() < 0.1
            share = shares and not missed and rng.random() < 0.3
            db.session.add(
                Intervention(
                    household_id=household.id,
                    occurred_on=day,
                    mode="rdv_non_honore" if missed else rng.choice(DEMO_MODES),
                    duration_minutes=None if missed else rng.choice((20, 30, 45, 60, 90)),
                    domains="" if missed else rng.choice(objectives).domain,
                    note=None if missed else rng.choice(DEMO_NOTES),
                    shared_summary=rng.choice(DEMO_SHARED) if share else None,
                    is_summary_shared=share,
                    author_id=worker.id,
                    updated_by_id=worker.id,
                )
            )
            day += timedelta(days=max(1, level.contact_every_days + rng.randint(-3, 3)))
        # Quarterly reviews; every fourth household has its last one overdue.
        review_on = add_months(start, 3)
        while review_on <= (
            exit_on if exits else today - timedelta(days=30 if index % 4 == 1 else 0)
        ):
            support.record_review(
                worker,
                measure,
                kind="trimestriel",
                held_on=review_on,
                summary="Bilan fait avec le ménage au domicile.",
                progress={o.id: (o.status, None) for o in objectives},
                today=today,
            )
            review_on = add_months(review_on, 3)
            if index % 4 == 1 and review_on > today - timedelta(days=120):
                break
        # Referrals: a partner whose category the household consented to (consent recorded
        # here when the household file has none, as the demo household would have signed it).
        if index % 2 == 0:
            domain = ("sante", "emploi", "social")[index % 3]
            referred_on = start + timedelta(days=rng.randint(20, 60))
            # The referral checks consent on its own date, so that is the date to look at.
            if not has_consent(household.id, domain, "situation_sociale", referred_on):
                db.session.add(
                    Consent(
                        household_id=household.id,
                        partner_category=domain,
                        data_category="situation_sociale",
                        given_on=start,
                        recorded_by_id=worker.id,
                    )
                )
                db.session.flush()
            referral = partners.refer_household(
                worker,
                household,
                partner_id=rng.choice(partners_by_domain[domain]).id,
                domain={"sante": "sante", "emploi": "emploi_formation"}.get(domain, "acces_droits"),
                reason="Orientation proposée lors de la visite, avec l'accord du ménage.",
                referred_on=referred_on,
                today=today,
            )
            partners.update_referral_status(
                worker,
                referral,
                version=referral.version,
                status="acceptee",
                on=referred_on + timedelta(days=10),
                today=today,
            )
        # Tripartite meetings for housed households: one held, some upcoming.
        if household.id in housed and not db.session.scalar(
            select(TripartiteMeeting.id).where(TripartiteMeeting.household_id == household.id)
        ):
            held = start + timedelta(days=45)
            upcoming = today + timedelta(days=rng.randint(5, 40)) if index % 3 != 2 else None
            partners.record_meeting(
                worker,
                household,
                held_on=held,
                attendees="Le ménage, la gestionnaire du bailleur, le ou la référent·e",
                decisions="Plan d'apurement de 50 € par mois ; visite technique à programmer.",
                next_meeting_on=upcoming if upcoming and upcoming > held else None,
            )
            if upcoming:
                partners.record_meeting(
                    worker,
                    household,
                    held_on=upcoming,
                    attendees="Le ménage, le bailleur, l'accompagnement",
                    decisions=None,
                    next_meeting_on=None,
                )
        if exits:
            exit_ = support.close_measure(
                worker,
                measure,
                version=measure.version,
                exit_on=exit_on,
                reason="objectifs_atteints",
                housing_situation="maintenu",
                is_lease_glissed=measure_type == "bail_glissant",
                handover="Relais vers le CCAS et la Maison de la Métropole.",
                today=today,
            )
            for check in exit_.checks:
                if check.due_on <= today:
                    support.record_post_exit_check(
                        worker,
                        check,
                        version=check.version,
                        done_on=check.due_on,
                        is_still_housed=True,
                        is_rent_up_to_date=check.months == 12,
                        comment="Appel au ménage.",
                        today=today,
                    )
        db.session.flush()


# --- households ------------------------------------------------------------------------------

DEMO_FIRST_NAMES = {
    "F": (
        "Aïcha",
        "Fatoumata",
        "Sandrine",
        "Nathalie",
        "Leïla",
        "Chantal",
        "Mélanie",
        "Samira",
        "Khadija",
        "Isabelle",
        "Awa",
        "Sylvie",
        "Nadia",
        "Océane",
        "Yasmina",
        "Marie-Claire",
        "Mariam",
        "Élodie",
        "Zineb",
        "Ana",
        "Svetlana",
        "Linh",
        "Djamila",
        "Brigitte",
    ),
    "M": (
        "Mohamed",
        "Jean-Pierre",
        "Karim",
        "Mamadou",
        "Thierry",
        "Rachid",
        "Sébastien",
        "Youssef",
        "Patrick",
        "Ibrahima",
        "Franck",
        "Nordine",
        "Dylan",
        "Moussa",
        "Gérard",
        "Ahmed",
        "Christophe",
        "Bilal",
        "José",
        "Dragan",
        "Minh",
        "Ousmane",
        "Stéphane",
        "Eric",
    ),
}
DEMO_CHILD_NAMES = (
    "Inès",
    "Yanis",
    "Lina",
    "Adam",
    "Jade",
    "Rayan",
    "Léa",
    "Nolan",
    "Maïssa",
    "Enzo",
    "Sofia",
    "Ilyes",
    "Chloé",
    "Mathis",
    "Aya",
    "Noah",
    "Kenza",
    "Lucas",
    "Assia",
    "Théo",
)
DEMO_LAST_NAMES = (
    "Benali",
    "Diallo",
    "Martin",
    "Nguyen",
    "Haddad",
    "Traoré",
    "Lefèvre",
    "Bouzid",
    "Moreau",
    "Camara",
    "Fernandes",
    "Petit",
    "Belkacem",
    "Dubois",
    "Koné",
    "Rousseau",
    "Mansouri",
    "Garcia",
    "Sissoko",
    "Fontaine",
    "Cherif",
    "Lambert",
    "Ndiaye",
    "Girard",
    "Amrani",
    "Pereira",
    "Faure",
    "Kaya",
    "Mercier",
    "Benhamou",
    "Blanc",
    "Touré",
    "Yilmaz",
    "Renaud",
    "Rahmani",
    "Perrin",
    "Diop",
    "Roux",
    "Popescu",
    "Ben Salah",
)
DEMO_DIFFICULTIES = (
    "Dettes de loyer dans le logement précédent, procédure d'expulsion en cours.",
    "Parcours d'hébergement long (CHRS puis hôtel social), peu de repères dans les démarches.",
    "Isolement, rupture familiale récente.",
    "Ressources irrégulières (intérim), difficulté à anticiper les dépenses.",
    "Logement précédent suroccupé ; enfants scolarisés loin du domicile.",
    "Problèmes de voisinage dans le logement précédent.",
    "Droits non ouverts (CAF, CPAM) à l'entrée dans le dispositif.",
    "Difficultés à entretenir le logement ; accumulation.",
)
DEMO_ADHESION_OBJECTIVES = (
    "Payer le loyer résiduel chaque mois",
    "Ouvrir les droits APL et les maintenir",
    "Solder la dette de loyer avec un plan d'apurement",
    "Faire le dossier FSL accès",
    "Prendre rendez-vous au CMP",
    "S'inscrire à France Travail",
    "Équiper le logement (meubles, électroménager)",
    "Souscrire l'assurance habitation",
    "Trouver un mode de garde pour les enfants",
)
# How many demo households of each project end at each stage (most are housed and supported).
DEMO_STAGE_MIX = {
    0: (
        ("orientation", 3),
        ("diagnostic", 3),
        ("adhesion", 3),
        ("acces", 4),
        ("installation", 4),
        ("maintien", 23),
        ("sortie", 3),
        ("suivi_post_sortie", 2),
    ),
    1: (
        ("orientation", 2),
        ("diagnostic", 3),
        ("adhesion", 2),
        ("acces", 3),
        ("installation", 3),
        ("maintien", 19),
        ("sortie", 2),
        ("suivi_post_sortie", 1),
    ),
}
# Days spent in each stage before moving on (min, max).
DEMO_STAGE_DAYS = {
    "orientation": (15, 45),
    "diagnostic": (15, 40),
    "adhesion": (20, 120),
    "acces": (30, 150),
    "installation": (45, 90),
    "maintien": (240, 600),
    "sortie": (150, 200),
}


def demo_household_reference(number: int) -> str:
    """The demo households' references, fixed whatever the day the demo is loaded:
    ``M-2025-0001`` to ``M-2025-0080`` (project 1 first)."""
    return f"M-2025-{number:04d}"


def _households(projects: list[Project], users: list[User]) -> None:
    """About 80 households (45 + 35) through the household services, so that the data obey
    the same rules as typed data: members, orientation, diagnostic, adhésion, consents,
    référent and a dated path ending at a realistic stage. Dates are relative to today (so
    reminders and the timeline look alive); references are fixed. Skipped for a project that
    already has households."""
    import random

    from app.formatting import today_paris
    from app.households import services
    from app.households.models import Household

    rng = random.Random(20250301)  # noqa: S311 - reproducible demo data, not a secret
    today = today_paris()
    number = 0
    for index, project in enumerate(projects):
        workers = [u for u in users if project in u.projects and Role.TRAVAILLEUR_SOCIAL in u.roles]
        coordinator = next(
            u for u in users if project in u.projects and Role.COORDINATEUR in u.roles
        )
        stages = [stage for stage, count in DEMO_STAGE_MIX[index] for _ in range(count)]
        rng.shuffle(stages)
        if db.session.scalar(select(Household.id).where(Household.project_id == project.id)):
            number += len(stages)
            continue
        for position, final_stage in enumerate(stages):
            number += 1
            # An orientation still waiting for its référent, in each project.
            referent = (
                None
                if final_stage == "orientation" and position % 2 == 0
                else (workers[position % len(workers)])
            )
            _demo_household(
                rng,
                services,
                project=project,
                reference=demo_household_reference(number),
                final_stage=final_stage,
                referent=referent,
                coordinator=coordinator,
                colleagues=[w for w in workers if w is not referent],
                today=today,
            )
    db.session.flush()


def _demo_household(
    rng,
    services,
    *,
    project,
    reference,
    final_stage,
    referent,
    coordinator,
    colleagues,
    today,
) -> None:
    from datetime import UTC, datetime, time, timedelta

    from app.projects.models import TargetPublic

    path = ["orientation", "diagnostic", "adhesion"]
    kind = "maintien" if rng.random() < 0.3 else "acces"
    if kind == "maintien":
        path += ["maintien", "sortie", "suivi_post_sortie"]
        if final_stage in ("acces", "installation"):
            kind = "acces"
    if kind == "acces":
        path = [*path[:3], "acces", "installation", "maintien", "sortie", "suivi_post_sortie"]
    path = path[: path.index(final_stage) + 1]
    durations = [rng.randint(*DEMO_STAGE_DAYS[stage]) for stage in path[:-1]]
    in_current = rng.randint(5, 60 if final_stage != "maintien" else 250)
    entry = today - timedelta(days=sum(durations) + in_current)
    moves = []
    day = entry
    for stage, days in zip(path[1:], durations, strict=True):
        day += timedelta(days=days)
        moves.append((stage, day))

    sex = rng.choice("FM")
    head_first = rng.choice(DEMO_FIRST_NAMES[sex])
    last = rng.choice(DEMO_LAST_NAMES)
    head_birth = date(rng.randint(1958, 2004), rng.randint(1, 12), rng.randint(1, 28))
    actor = referent or coordinator
    household = services.create_household(
        actor,
        project,
        head_first_name=head_first,
        head_last_name=last,
        head_birth_on=head_birth,
        phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}",
        referent=referent,
        reference=reference,
        today=entry,
        now=datetime.combine(entry, time(9, 30), tzinfo=UTC),
    )
    composition = rng.random()
    if composition >= 0.4:  # 40 % live alone
        if composition < 0.6 or composition >= 0.85:  # couples, with children or not
            partner_sex = "M" if sex == "F" else "F"
            services.add_member(
                actor,
                household,
                first_name=rng.choice(DEMO_FIRST_NAMES[partner_sex]),
                last_name=last if rng.random() < 0.6 else rng.choice(DEMO_LAST_NAMES),
                birth_on=head_birth + timedelta(days=rng.randint(-1500, 1500)),
                relation="conjoint",
                today=entry,
            )
        if composition >= 0.6:  # single parents (0.6–0.85) and couples with children
            oldest = max(head_birth.year + 19, entry.year - 17)
            for child in rng.sample(DEMO_CHILD_NAMES, rng.randint(1, 3)):
                year = rng.randint(min(oldest, entry.year - 1), entry.year - 1)
                services.add_member(
                    actor,
                    household,
                    first_name=child,
                    last_name=last,
                    birth_on=date(year, rng.randint(1, 12), rng.randint(1, 28)),
                    relation="enfant",
                    today=entry,
                )
    publics = [p.value for p in project.target_public_list] + [TargetPublic.PRIORITAIRE_PDALHPD]
    housed_before = kind == "maintien"
    services.update_household(
        actor,
        household,
        expected_version=household.version,
        phone=household.phone,
        email=None,
        current_address=None
        if housed_before
        else rng.choice(
            (
                "CHRS Le Relais, Lyon 7e",
                "Hébergée chez sa sœur, Vénissieux",
                "Hôtel social, Villeurbanne",
                "Résidence sociale Adoma, Saint-Étienne",
                "Sans domicile stable — domiciliation CCAS",
            )
        ),
        monthly_income_cents=rng.randint(55, 210) * 1000,
        income_sources=rng.sample(
            ("rsa", "salaire", "aah", "chomage", "prestations_familiales"), 2
        ),
        apl_cents=rng.randint(150, 350) * 100,
        is_apl_paid_to_landlord=rng.random() < 0.8,
        debts_cents=rng.choice((0, 0, rng.randint(3, 80) * 10_000)),
        has_overindebtedness_file=rng.random() < 0.15,
        target_publics=rng.sample(publics, rng.randint(1, 2)),
        difficulties=rng.choice(DEMO_DIFFICULTIES),
    )
    prescriber = (
        rng.choice(("ccapex", "bailleur", "ccas"))
        if kind == "maintien"
        else rng.choice(("siao", "siao", "dalo", "departement", "spip", "ase"))
    )
    services.record_orientation(
        actor,
        household,
        prescriber=prescriber,
        prescriber_detail=None,
        oriented_on=entry - timedelta(days=rng.randint(3, 20)),
        kind=kind,
        reason="Orientation pour un maintien dans le logement : impayés et isolement."
        if kind == "maintien"
        else "Demande de logement social active ; besoin d'un accompagnement à l'installation.",
        today=today,
    )
    for stage, on in moves:
        if stage == "diagnostic":
            services.record_diagnostic(
                actor,
                household,
                carried_out_on=on,
                levels={
                    axis: rng.choice(("acquis", "partiel", "a_travailler"))
                    for axis in ("pouvoir_louer", "savoir_louer", "savoir_habiter", "environnement")
                },
                comments={"pouvoir_louer": "Budget serré, reste à vivre faible."},
                needs=rng.sample(
                    (
                        "budget_dettes",
                        "acces_droits",
                        "relation_bailleur",
                        "logement",
                        "sante",
                        "emploi_formation",
                        "demarches",
                    ),
                    rng.randint(2, 4),
                ),
                recommended_intensity=rng.choice(("renforcee", "soutenue", "soutenue", "moderee")),
                today=today,
            )
        if stage == "adhesion":
            services.record_adhesion(
                actor,
                household,
                signed_on=on,
                objectives="\n".join(rng.sample(DEMO_ADHESION_OBJECTIVES, 3)),
                today=today,
            )
            consents = [("bailleur", "coordonnees")] if rng.random() < 0.75 else []
            if rng.random() < 0.85:
                consents.append(("bailleur", "situation_locative"))
            if rng.random() < 0.2:
                consents.append(("sante", "sante"))
            # Consents to partners for referrals are the support section's (it records them
            # with the referral it makes).
            if rng.random() < 0.3:
                consents.append(("emploi", "coordonnees"))
            for partner_category, data_category in consents:
                consent = services.give_consent(
                    actor,
                    household,
                    partner_category=partner_category,
                    data_category=data_category,
                    given_on=on,
                    today=today,
                )
                if data_category == "sante" and rng.random() < 0.3:
                    services.withdraw_consent(
                        actor,
                        household,
                        consent,
                        withdrawn_on=min(today, on + timedelta(days=rng.randint(30, 200))),
                        today=today,
                    )
            if colleagues and rng.random() < 0.1:
                services.add_team_member(actor, household, user=rng.choice(colleagues), today=on)
        services.move_stage(
            actor,
            household,
            to_stage=stage,
            on=on,
            reason=None,
            expected_version=household.version,
            today=today,
        )


# --- reminders -------------------------------------------------------------------------------


def _reminders() -> None:
    """One reminder sweep over the demo data, so every account opens an inbox that matches
    it (the scheduler started by ``make run`` keeps it current). Idempotent: a second sweep
    creates nothing."""
    from app.reminders.jobs import sweep

    sweep()
