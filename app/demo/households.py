"""Demo households, created through the household services: members, orientation,
diagnostic, adhésion, consents, référent and a dated path."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.db import db
from app.formatting import today_paris
from app.households import services
from app.households.models import Household
from app.permissions import Role
from app.projects.models import Project, TargetPublic
from app.users.models import User

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
    kind, entry, moves = _demo_path(rng, final_stage, today)
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
    _demo_members(rng, services, actor, household, sex, last, head_birth, entry)
    _demo_situation(rng, services, actor, household, project, housed_before=kind == "maintien")
    _demo_orientation(rng, services, actor, household, kind, entry, today)
    for stage, on in moves:
        if stage == "diagnostic":
            _demo_diagnostic(rng, services, actor, household, on, today)
        if stage == "adhesion":
            _demo_adhesion(rng, services, actor, household, colleagues, on, today)
        if household.stage == stage:  # the diagnostic and the adhésion move it themselves
            continue
        services.move_stage(
            actor,
            household,
            to_stage=stage,
            on=on,
            reason=None,
            expected_version=household.version,
            today=today,
        )


def _demo_path(rng, final_stage: str, today: date) -> tuple[str, date, list]:
    """The household's kind (maintien or accès), its entry day and its dated stage moves."""
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
    return kind, entry, moves


def _demo_members(rng, services, actor, household, sex, last, head_birth, entry) -> None:
    composition = rng.random()
    if composition < 0.4:  # 40 % live alone
        return
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


def _demo_situation(rng, services, actor, household, project, *, housed_before: bool) -> None:
    publics = [p.value for p in project.target_public_list] + [TargetPublic.PRIORITAIRE_PDALHPD]
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


def _demo_orientation(rng, services, actor, household, kind, entry, today) -> None:
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


def _demo_diagnostic(rng, services, actor, household, on, today) -> None:
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


def _demo_adhesion(rng, services, actor, household, colleagues, on, today) -> None:
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
