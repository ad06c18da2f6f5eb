"""Demo organisations, projects and accounts (one password for every demo account)."""

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
