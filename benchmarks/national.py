"""A reproducible national dataset for page benchmarks (issue #9).

    .venv/bin/python -m benchmarks.national generate --database-url URL \
        [--scale 1.0] [--seed 2026] [--manifest PATH] [--as-of 2026-11-27]

At scale 1.0: 200 projects, 3,000 users, 100,000 households, 2,000,000 interventions,
1,200,000 monthly rent-account snapshots, and everything a household file holds around them
(members, orientation, diagnostic, adhésion, consents, path, dwelling and lease, measures,
reviews, exits, arrears and procedures, referrals, meetings, reminders, appointments of the
last and coming weeks, financial aids, documents, audit entries), and each project's budget
lines by funder for this year and the two before.

Documents (about five per household: the support contract, CAF letters, the lease and the
insurance certificate of a housed household — with last year's, which it replaced —, now
and then a health paper) name a dozen small PDF files, written by the app's own store into
a folder beside the manifest (``<manifest>-documents/``, recorded in the manifest as
``documents_folder``): run the app with ``DOCUMENTS_FOLDER`` pointing at it to open them.

The same seed and scale give the same rows (timestamps included: everything is dated from
``--as-of``, never from the clock). Only the password hash and the encrypted TOTP secret
differ between runs: both are salted by design.

The database must be empty and named for benchmarks (``ancrage_national``, a
``national.db`` file…; benchmarks/guard.py), else the generator refuses it (exit status 2)
unless ``--i-know-this-database-will-be-emptied`` is given (it then drops every table first).
The generator runs the Alembic migrations, then loads every table
in chunks (SQLAlchemy Core executemany; PostgreSQL COPY for the biggest tables), sets the
PostgreSQL sequences past the generated ids, runs ANALYZE (VACUUM ANALYZE on PostgreSQL, as
autovacuum would on a live database), and writes a manifest (JSON) with the counts, the login
details and representative ids for a benchmark.

Every user's password is ``ancrage-bench-2026``. Coordinators and administrators are enrolled
in TOTP with one shared secret (in the manifest), encrypted with the SECRET_KEY the manifest
also records: run the app with that SECRET_KEY, or the secret cannot be decrypted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import resource
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random

from app.households.models import search_key
from benchmarks import guard

PASSWORD = "ancrage-bench-2026"  # noqa: S105 - the published password of a benchmark dataset
DEFAULT_SECRET_KEY = "ancrage-national-benchmark-secret-key-2026-do-not-use-in-production"  # noqa: S105
DEFAULT_AS_OF = date(2026, 11, 27)
CHUNK = 20_000

# Row counts at scale 1.0
BASE = {
    "projects": 200,
    "users": 3_000,
    "households": 100_000,
    "interventions": 2_000_000,
    "snapshots": 1_200_000,
}

# Tables loaded with COPY on PostgreSQL (the biggest ones); every other table uses executemany.
COPY_TABLES = frozenset(
    {"intervention", "rent_account_snapshot", "audit_entry", "stage_transition", "household_member"}
)

# --- names --------------------------------------------------------------------------------

SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Mercier", "Boyer", "Blanc", "Guérin", "Faure", "André", "Chevalier",
    "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
    "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis",
    "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
    "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martínez", "Gérard",
    "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq",
    "Guillaume", "Lecomte", "López", "Jean", "Dupuy", "Guillot", "Hubert", "Berger",
    "Carpentier", "Sánchez", "Dupuis", "Moulin", "Louis", "Deschamps", "Huet", "Vasseur",
    "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet", "Adam", "Poirier", "Marty",
    "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier", "Ménard", "Maillard",
    "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandes", "Le Gall", "Collet",
    "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel", "Le Roux", "Cousin",
    "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque",
    "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber", "Mallet", "Hamon",
    "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez", "Guichard", "Gillet", "Étienne",
    "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin", "Da Silva", "Bouchet",
    "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Hoarau",
    "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay",
    "Pasquier", "Carlier", "Laporte", "Haddad", "Benali", "Diallo", "Traoré", "Nguyen",
    "Mendy", "Koné", "Benmoussa", "Boukhari", "Cissé", "Diop", "Ferreira", "Pereira",
    "Saïdi", "Belkacem", "Chérif", "Ndiaye", "Camara", "Sylla", "Touré", "Keïta", "Mbaye",
    "Bouaziz", "Hamidi", "Ouedraogo", "Yılmaz", "Kaya", "Petitjean", "Lefort", "Gómez",
)  # fmt: skip
GIVEN_F = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Valérie", "Sandrine",
    "Stéphanie", "Céline", "Aurélie", "Émilie", "Julie", "Léa", "Chloé", "Inès", "Fatima",
    "Aïcha", "Khadija", "Mélanie", "Hélène", "Noémie", "Zoé", "Maëlle", "Anaïs", "Océane",
    "Manon", "Camille", "Sarah", "Laëtitia", "Agnès", "Brigitte", "Josiane", "Yasmina",
    "Fatoumata", "Aminata", "Leïla", "Nadia", "Samira", "Cécile", "Élodie", "Gaëlle",
)  # fmt: skip
GIVEN_M = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Stéphane",
    "Sébastien", "Frédéric", "Julien", "Jérôme", "Mohamed", "Karim", "Rachid", "Mamadou",
    "Moussa", "Thierry", "Éric", "Franck", "Hugo", "Lucas", "Théo", "Nathan", "Enzo", "Noé",
    "Maël", "Loïc", "Gaël", "Jérémy", "Benoît", "Raphaël", "Joël", "Hervé", "Gérard", "Régis",
    "Ahmed", "Youssef", "Ibrahima", "Didier", "Patrice", "François", "Cédric", "Mathéo",
)  # fmt: skip
CITIES = (
    ("Lyon", "69008"), ("Villeurbanne", "69100"), ("Vénissieux", "69200"),
    ("Saint-Étienne", "42000"), ("Grenoble", "38100"), ("Marseille", "13003"),
    ("Nîmes", "30000"), ("Montpellier", "34080"), ("Toulouse", "31200"), ("Bordeaux", "33300"),
    ("Nantes", "44300"), ("Rennes", "35200"), ("Brest", "29200"), ("Le Mans", "72100"),
    ("Angers", "49100"), ("Tours", "37100"), ("Orléans", "45100"), ("Lille", "59000"),
    ("Roubaix", "59100"), ("Tourcoing", "59200"), ("Amiens", "80080"), ("Rouen", "76100"),
    ("Le Havre", "76600"), ("Caen", "14000"), ("Reims", "51100"), ("Metz", "57050"),
    ("Nancy", "54000"), ("Strasbourg", "67100"), ("Mulhouse", "68200"), ("Besançon", "25000"),
    ("Dijon", "21000"), ("Clermont-Ferrand", "63100"), ("Limoges", "87100"),
    ("Poitiers", "86000"), ("La Rochelle", "17000"), ("Pau", "64000"), ("Bayonne", "64100"),
    ("Perpignan", "66000"), ("Béziers", "34500"), ("Avignon", "84000"), ("Toulon", "83200"),
    ("Nice", "06300"), ("Aubervilliers", "93300"), ("Saint-Denis", "93200"),
    ("Montreuil", "93100"), ("Créteil", "94000"), ("Nanterre", "92000"),
    ("Argenteuil", "95100"), ("Évry-Courcouronnes", "91000"), ("Cergy", "95000"),
    ("Mantes-la-Jolie", "78200"), ("Meaux", "77100"), ("Saint-Nazaire", "44600"),
    ("Lorient", "56100"), ("Quimper", "29000"), ("Valence", "26000"), ("Chambéry", "73000"),
    ("Annecy", "74000"), ("Troyes", "10000"), ("Calais", "62100"), ("Dunkerque", "59140"),
    ("Saint-Quentin", "02100"), ("Beauvais", "60000"), ("Bourges", "18000"), ("Niort", "79000"),
    ("Angoulême", "16000"), ("Agen", "47000"), ("Montauban", "82000"), ("Albi", "81000"),
)  # fmt: skip
STREETS = (
    "rue Victor-Hugo", "avenue Jean-Jaurès", "rue de la République", "boulevard Gambetta",
    "rue Pasteur", "allée des Tilleuls", "rue Émile-Zola", "place de l'Église",
    "rue des Écoles", "rue du Général-de-Gaulle", "avenue Pierre-Brossolette",
    "rue Jules-Ferry", "rue Paul-Éluard", "rue Louise-Michel", "impasse des Lilas",
    "chemin des Vignes", "rue Aimé-Césaire", "rue Simone-Veil", "rue Lucie-Aubrac",
    "rue Jean-Moulin", "avenue de la Libération", "rue des Coquelicots", "rue Gustave-Eiffel",
)  # fmt: skip
RESIDENCES = (
    "Résidence Les Érables", "Les Glycines", "Le Parc", "Les Peupliers", "Cité-jardin",
    "Les Marronniers", "Le Clos fleuri", "Les Tilleuls", "Le Belvédère", "Les Châtaigniers",
    None, None, None,
)  # fmt: skip
LANDLORDS = (
    "Habitat Rhône Solidaire", "Logis Atlantique", "Toit Familial du Nord",
    "Foyer Méditerranéen", "Île-de-France Habitat Social", "Habitat de l'Ouest",
    "Logement Populaire de l'Est", "Pierres & Lumière Habitat", "Occitanie Logis",
    "Bretagne Habitat Social", "Val de Loire Habitat", "Normandie Logement",
)  # fmt: skip
ASSOCIATION_PREFIXES = (
    "Association Le Relais", "Habitat et Entraide", "Solidarité Logement",
    "Accompagner", "Le Toit partagé", "Insertion et Logement",
)  # fmt: skip
NOTES = (
    "Visite au domicile : logement bien entretenu. Point sur le budget du mois et les "
    "factures d'énergie.",
    "Entretien sur la reprise du paiement du loyer ; le ménage a apporté ses justificatifs.",
    "Appel pour préparer le rendez-vous CAF de la semaine prochaine.",
    "Accompagnement à la CAF pour la mise à jour du dossier APL.",
    "Point sur la demande de FSL et le plan d'apurement proposé par le bailleur.",
    "Le ménage signale un problème d'humidité dans la chambre ; bailleur prévenu.",
    "Échange sur la scolarité des enfants et l'inscription à la cantine.",
    "Démarches de renouvellement du titre de séjour engagées.",
    "Rendez-vous à la Mission locale pour un atelier CV.",
    "Bilan des démarches : ouverture des droits complémentaire santé solidaire faite.",
    "Visite conjointe avec le bailleur : état des lieux intermédiaire satisfaisant.",
    "Le ménage ne s'est pas présenté ; nouveau rendez-vous proposé par courrier.",
)
SHARED_SUMMARIES = (
    "Visite effectuée, le ménage poursuit ses démarches.",
    "Point sur le paiement du loyer : reprise des versements ce mois-ci.",
    "Visite conjointe réalisée, pas de difficulté technique signalée.",
)
NEXT_ACTIONS = (
    "Rappeler la CAF",
    "Envoyer le dossier FSL",
    "Prochaine visite à domicile",
    "Vérifier le versement du loyer",
    "Accompagner au rendez-vous médical",
)
OBJECTIVE_TITLES = {
    "budget_dettes": "Établir un budget mensuel et le tenir",
    "acces_droits": "Ouvrir les droits à la complémentaire santé",
    "relation_bailleur": "Reprendre le paiement régulier du loyer",
    "logement": "S'approprier le logement et son entretien",
    "voisinage": "Apaiser les relations de voisinage",
    "sante": "Engager un suivi médical régulier",
    "emploi_formation": "S'inscrire à une formation qualifiante",
    "parentalite": "Soutenir la scolarité des enfants",
    "vie_sociale": "Rejoindre une activité de quartier",
    "demarches": "Classer et suivre les courriers administratifs",
}
DOMAINS = tuple(OBJECTIVE_TITLES)
MODES = (
    ("visite_domicile", 35),
    ("telephone", 30),
    ("bureau", 15),
    ("accompagnement_physique", 7),
    ("visite_conjointe", 5),
    ("rdv_non_honore", 8),
)
PARTNERS = (
    ("sante", "CMP"), ("sante", "PASS"), ("sante", "CSAPA addictologie"),
    ("emploi", "France Travail"), ("emploi", "Mission locale"), ("emploi", "SIAE"),
    ("social", "CCAS"), ("social", "Maison départementale des solidarités"), ("social", "CAF"),
    ("justice", "SPIP"), ("justice", "Point-justice"), ("logement", "ADIL"),
)  # fmt: skip
# intensity (1 heaviest .. 3): (name, rhythm in days, caseload weight, interventions per month).
# Levels belong to a project: each project has the three, with ids from ``level_id``.
INTENSITIES = {
    1: ("Renforcée", 7, Decimal("2.0"), 4.0),
    2: ("Soutenue", 14, Decimal("1.5"), 2.0),
    3: ("Modérée", 30, Decimal("1.0"), 1.0),
}


def level_id(project_id: int, intensity: int) -> int:
    """The id of ``intensity``'s level in ``project_id`` (every project has the three)."""
    return (project_id - 1) * len(INTENSITIES) + intensity


# --- small helpers shared with the other benchmarks ----------------------------------------


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
    return date(year, month, min(day.day, last))


def month_start(day: date) -> date:
    return day.replace(day=1)


def at(day: date, rng: Random, start_hour: int = 7, end_hour: int = 17) -> datetime:
    """An aware UTC datetime on ``day`` during working hours."""
    seconds = rng.randrange(start_hour * 3600, end_hour * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)


def weighted(rng: Random, pairs: Sequence[tuple[object, float]]):
    total = sum(w for _, w in pairs)
    pick = rng.random() * total
    for value, weight in pairs:
        pick -= weight
        if pick < 0:
            return value
    return pairs[-1][0]


def allocate(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (never above ``caps``), summing
    exactly to ``total``; deterministic (ties broken by position)."""
    result = [0] * len(weights)
    active = [i for i, w in enumerate(weights) if w > 0 and (caps is None or caps[i] > 0)]
    remaining = total
    while remaining > 0 and active:
        weight_sum = sum(weights[i] for i in active)
        shares = {i: remaining * weights[i] / weight_sum for i in active}
        added = 0
        for i in active:
            want = int(shares[i])
            if caps is not None:
                want = min(want, caps[i] - result[i])
            result[i] += want
            added += want
        remaining -= added
        active = [i for i in active if caps is None or result[i] < caps[i]]
        if added == 0:
            order = sorted(active, key=lambda i: (-(shares[i] - int(shares[i])), i))
            for i in order[:remaining]:
                result[i] += 1
            remaining -= min(remaining, len(order))
            active = [i for i in active if caps is None or result[i] < caps[i]]
    if remaining:
        raise ValueError(f"cannot allocate {total}: {remaining} left over (caps too small)")
    return result


def counts_for(scale: float) -> dict[str, int]:
    """Target counts at ``scale``; the minimums keep a tiny dataset coherent."""
    households = max(20, round(BASE["households"] * scale))
    projects = max(2, round(BASE["projects"] * scale))
    landlords = max(2, min(len(LANDLORDS), projects // 10 or 2))
    associations = max(2, min(40, projects // 5))
    admins = max(1, round(10 * scale))
    coordinators = max(projects, round(240 * scale))
    staff = max(landlords, round(350 * scale))
    workers_needed = max(projects, -(-households // 45))  # ~30 supported households each
    workers = max(workers_needed, round(BASE["users"] * scale) - admins - coordinators - staff)
    return {
        "households": households,
        "projects": projects,
        "landlords": landlords,
        "associations": associations,
        "admins": admins,
        "coordinators": coordinators,
        "landlord_staff": staff,
        "social_workers": workers,
        "users": admins + coordinators + staff + workers,
        "interventions": max(households, round(BASE["interventions"] * scale)),
        "snapshots": round(BASE["snapshots"] * scale),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the plan: one compact record per household ----------------------------------------------


@dataclass(slots=True)
class Plan:
    id: int
    project_id: int
    referent_id: int
    team_id: int | None
    status: str  # active | exited
    stage: str
    stage_since: date
    kind: str  # acces | maintien (orientation kind)
    oriented_on: date
    diagnostic_on: date | None
    adhesion_on: date | None  # measure start
    lease_start: date | None
    lease_end: date | None
    exit_on: date | None
    anonymised_at: datetime | None
    intensity: int
    landlord_id: int | None
    lease_type: str | None
    due_cents: int
    arrears: str  # clean | light | arrears | procedure
    head_first: str
    head_last: str
    created_at: datetime
    n_interventions: int = 0
    n_snapshots: int = 0
    last_contact: date | None = None
    first_arrears: date | None = None
    max_balance: int = 0
    plan_start: date | None = None
    last_insurance: date | None = None
    shares_summary: bool = False  # consented to share visit summaries with the landlord

    @property
    def end(self) -> date | None:
        return self.exit_on


@dataclass
class World:
    """Everything decided before the big tables: organisations, projects, users, plans."""

    as_of: date
    counts: dict
    landlord_ids: list
    association_ids: list
    project_landlords: dict  # project id -> [lead landlord, partner landlords...]
    project_association: dict
    project_workers: dict  # project id -> [user ids]
    project_coordinators: dict
    landlord_staff: dict  # landlord id -> [user ids]
    admin_ids: list
    partner_by_domain: dict
    plans: list


# --- the loader ------------------------------------------------------------------------------


class Loader:
    """Writes rows in chunks: one transaction per chunk, a progress bar per table."""

    def __init__(self, connection, *, quiet: bool = False):
        from app.db import db

        self.connection = connection
        self.dialect = connection.dialect.name
        self.metadata = db.metadata
        self.quiet = quiet
        self.counts: dict[str, int] = {}

    def load(
        self, name: str, columns: Sequence[str], rows: Iterable[tuple], total: int | None = None
    ):
        from sqlalchemy import insert
        from tqdm import tqdm

        table = self.metadata.tables[name]
        _check_columns(table, columns)
        use_copy = self.dialect == "postgresql" and name in COPY_TABLES
        statement = insert(table)
        bar = tqdm(
            total=total, desc=f"{name:28}", unit=" rows", disable=self.quiet, mininterval=0.5
        )
        count = 0
        chunk: list[tuple] = []

        def flush():
            if not chunk:
                return
            if use_copy:
                raw = self.connection.connection.dbapi_connection
                quoted = ", ".join(f'"{c}"' for c in columns)
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy,
                ):
                    for row in chunk:
                        copy.write_row(row)
            else:
                self.connection.execute(
                    statement, [dict(zip(columns, r, strict=True)) for r in chunk]
                )
            self.connection.commit()
            bar.update(len(chunk))
            chunk.clear()

        for row in rows:
            chunk.append(row)
            count += 1
            if len(chunk) >= CHUNK:
                flush()
        flush()
        bar.close()
        self.counts[name] = self.counts.get(name, 0) + count
        return count


def _check_columns(table, columns: Sequence[str]) -> None:
    names = set(table.columns.keys())
    unknown = set(columns) - names
    if unknown:
        raise RuntimeError(f"{table.name}: unknown columns {sorted(unknown)}")
    missing = [
        c.name
        for c in table.columns
        if c.name not in columns and not c.nullable and c.server_default is None
        and not (c.primary_key and c.autoincrement is True)
    ]  # fmt: skip
    if missing:
        raise RuntimeError(f"{table.name}: required columns not generated {missing}")


def rng_for(seed: int, name: str) -> Random:
    return Random(f"{seed}:{name}")  # noqa: S311 - reproducible test data, not security


# --- phase 1: organisations, projects, users ----------------------------------------------


def build_world(seed: int, scale: float, as_of: date) -> World:
    counts = counts_for(scale)
    rng = rng_for(seed, "world")
    landlord_ids = list(range(1, counts["landlords"] + 1))
    association_ids = list(
        range(counts["landlords"] + 1, counts["landlords"] + counts["associations"] + 1)
    )
    # Landlords of very different sizes: the first two are "big".
    landlord_weights = [6, 4] + [1 + (i % 3) for i in range(len(landlord_ids) - 2)]
    project_landlords, project_association = {}, {}
    for project_id in range(1, counts["projects"] + 1):
        lead = rng.choices(landlord_ids, weights=landlord_weights[: len(landlord_ids)])[0]
        others = [lid for lid in landlord_ids if lid != lead]
        extra = [rng.choice(others)] if others and rng.random() < 0.3 else []
        project_landlords[project_id] = [lead, *extra]
        project_association[project_id] = rng.choice(association_ids)
    # Project sizes: skewed (a few big projects), exact total.
    sizes = allocate(
        counts["households"],
        [rng.lognormvariate(0, 0.6) for _ in range(counts["projects"])],
    )
    sizes = _at_least(sizes, 3)
    # Users: admins, coordinators, landlord staff, social workers (ids in that order).
    next_id = 1
    admin_ids = list(range(next_id, next_id + counts["admins"]))
    next_id += counts["admins"]
    coordinator_ids = list(range(next_id, next_id + counts["coordinators"]))
    next_id += counts["coordinators"]
    staff_ids = list(range(next_id, next_id + counts["landlord_staff"]))
    next_id += counts["landlord_staff"]
    worker_ids = list(range(next_id, next_id + counts["social_workers"]))
    projects = list(range(1, counts["projects"] + 1))
    project_coordinators = {p: [coordinator_ids[i]] for i, p in enumerate(projects)}
    by_size = sorted(projects, key=lambda p: (-sizes[p - 1], p))
    for i, user_id in enumerate(coordinator_ids[len(projects) :]):
        project_coordinators[by_size[i % len(by_size)]].append(user_id)
    # Social workers per project, proportional to the households still supported (~72 %).
    per_project = allocate(len(worker_ids), [s for s in sizes], None)
    per_project = _at_least(per_project, 1)
    project_workers, cursor = {}, 0
    for p, n in zip(projects, per_project, strict=True):
        project_workers[p] = worker_ids[cursor : cursor + n]
        cursor += n
    # Landlord staff per landlord, proportional to the landlord's projects' households.
    landlord_load = {lid: 0.0 for lid in landlord_ids}
    for p in projects:
        landlord_load[project_landlords[p][0]] += sizes[p - 1]
        for other in project_landlords[p][1:]:
            landlord_load[other] += sizes[p - 1] * 0.15
    per_landlord = _at_least(
        allocate(len(staff_ids), [landlord_load[lid] + 1 for lid in landlord_ids]), 1
    )
    landlord_staff, cursor = {}, 0
    for lid, n in zip(landlord_ids, per_landlord, strict=True):
        landlord_staff[lid] = staff_ids[cursor : cursor + n]
        cursor += n
    partner_by_domain: dict[str, list[int]] = {}
    for i, (domain, _kind) in enumerate(PARTNERS * 4, start=1):
        partner_by_domain.setdefault(domain, []).append(i)
    world = World(
        as_of=as_of,
        counts=counts,
        landlord_ids=landlord_ids,
        association_ids=association_ids,
        project_landlords=project_landlords,
        project_association=project_association,
        project_workers=project_workers,
        project_coordinators=project_coordinators,
        landlord_staff=landlord_staff,
        admin_ids=admin_ids,
        partner_by_domain=partner_by_domain,
        plans=[],
    )
    world.plans = plan_households(seed, world, sizes)
    return world


def _at_least(values: list[int], minimum: int) -> list[int]:
    """Raise every value to ``minimum``, taking the difference from the largest ones."""
    values = list(values)
    for i in range(len(values)):
        while values[i] < minimum:
            j = max(range(len(values)), key=lambda k: (values[k], -k))
            if values[j] <= minimum:
                raise ValueError("not enough to share")
            values[j] -= 1
            values[i] += 1
    return values


ACTIVE_STAGES = (
    ("orientation", 2),
    ("diagnostic", 2.5),
    ("adhesion", 2.5),
    ("acces", 4),
    ("installation", 5),
    ("maintien", 84),
)


def plan_households(seed: int, world: World, sizes: list[int]) -> list[Plan]:
    rng = rng_for(seed, "plans")
    as_of = world.as_of
    origin = date(2019, 1, 7)
    plans: list[Plan] = []
    household_id = 0
    for project_id, size in enumerate(sizes, start=1):
        workers = world.project_workers[project_id]
        landlords = world.project_landlords[project_id]
        for _ in range(size):
            household_id += 1
            exited = rng.random() < 0.27
            kind = "acces" if rng.random() < 0.65 else "maintien"
            stage = "maintien"
            diagnostic_on = adhesion_on = lease_start = lease_end = exit_on = None
            day = timedelta
            if exited:
                span = (add_months(as_of, -12) - origin).days
                oriented_on = origin + day(rng.randrange(span))
                diagnostic_on = oriented_on + day(rng.randint(10, 40))
                adhesion_on = diagnostic_on + day(rng.randint(7, 30))
                exit_on = adhesion_on + day(rng.randint(270, 1100))
                if exit_on > as_of - day(5):
                    exit_on = as_of - day(rng.randint(5, 200))
                exit_on = max(exit_on, adhesion_on + day(90))
                stage = "suivi_post_sortie" if (as_of - exit_on).days < 380 else "sortie"
                stage_since = exit_on
            else:
                stage = weighted(rng, ACTIVE_STAGES)
                if kind == "maintien" and stage in ("acces", "installation"):
                    stage = "maintien"
                if stage == "orientation":
                    oriented_on = as_of - day(rng.randint(1, 30))
                    stage_since = oriented_on
                elif stage == "diagnostic":
                    diagnostic_on = as_of - day(rng.randint(1, 30))
                    oriented_on = diagnostic_on - day(rng.randint(10, 40))
                    stage_since = diagnostic_on
                elif stage in ("adhesion", "acces"):
                    adhesion_on = as_of - day(rng.randint(1, 30) if stage == "adhesion" else
                                              rng.randint(31, 200))  # fmt: skip
                    diagnostic_on = adhesion_on - day(rng.randint(7, 30))
                    oriented_on = diagnostic_on - day(rng.randint(10, 40))
                    stage_since = adhesion_on if stage == "adhesion" else adhesion_on + day(3)
                elif stage == "installation":
                    lease_start = as_of - day(rng.randint(5, 80))
                    adhesion_on = lease_start - day(rng.randint(30, 120))
                    diagnostic_on = adhesion_on - day(rng.randint(7, 30))
                    oriented_on = diagnostic_on - day(rng.randint(10, 40))
                    stage_since = lease_start
                else:  # maintien: support started in the last three years
                    adhesion_on = as_of - day(int(rng.triangular(120, 1150, 300)))
                    diagnostic_on = adhesion_on - day(rng.randint(7, 30))
                    oriented_on = diagnostic_on - day(rng.randint(10, 40))
                    stage_since = adhesion_on + day(rng.randint(90, 110))
            # The lease: existing tenants (maintien) had it before; others get it after adhesion.
            if kind == "maintien":
                lease_start = oriented_on - day(rng.randint(200, 3000))
            elif lease_start is None and adhesion_on is not None and stage not in (
                "adhesion", "acces"
            ):  # fmt: skip
                lease_start = adhesion_on + day(rng.randint(30, 110))
                if exit_on is not None and lease_start >= exit_on:
                    lease_start = adhesion_on + day(20)
                if stage == "maintien":
                    stage_since = max(stage_since, lease_start + day(rng.randint(30, 90)))
                    if stage_since >= as_of:
                        stage_since = as_of - day(1)
                        lease_start = min(lease_start, stage_since - day(30))
            if kind == "maintien" and stage == "maintien" and adhesion_on is not None:
                stage_since = adhesion_on + day(1)
            lease_type = None
            landlord_id = None
            if lease_start is not None:
                landlord_id = landlords[0] if len(landlords) == 1 or rng.random() < 0.85 else (
                    landlords[1])  # fmt: skip
                lease_type = (
                    weighted(rng, (("bail_direct", 60), ("bail_glissant", 22),
                                   ("sous_location", 18)))
                    if kind == "acces"
                    else weighted(rng, (("bail_direct", 85), ("protocole_cohesion", 8),
                                        ("indemnite_occupation", 7)))
                )  # fmt: skip
                if exit_on is not None and rng.random() < 0.2:
                    lease_end = exit_on
            anonymised_at = None
            if exit_on is not None and (as_of - exit_on).days > 2 * 365 + 20 and rng.random() < 0.7:
                anonymised_at = datetime.combine(
                    exit_on + day(2 * 365 + rng.randint(1, 15)), datetime.min.time(), UTC
                ) + timedelta(hours=3)
            intensity = weighted(rng, ((1, 25), (2, 40), (3, 35)))
            typology_due = rng.choice((32_000, 41_000, 48_000, 56_000, 64_000, 72_000))
            arrears = weighted(
                rng, (("clean", 78), ("light", 10), ("arrears", 8), ("procedure", 4))
            )
            female = rng.random() < 0.62
            first = rng.choice(GIVEN_F if female else GIVEN_M)
            last = rng.choice(SURNAMES)
            plans.append(
                Plan(
                    id=household_id,
                    project_id=project_id,
                    referent_id=rng.choice(workers),
                    team_id=None,
                    status="exited" if exited else "active",
                    stage=stage,
                    stage_since=stage_since,
                    kind=kind,
                    oriented_on=oriented_on,
                    diagnostic_on=diagnostic_on,
                    adhesion_on=adhesion_on,
                    lease_start=lease_start,
                    lease_end=lease_end,
                    exit_on=exit_on,
                    anonymised_at=anonymised_at,
                    intensity=intensity,
                    landlord_id=landlord_id,
                    lease_type=lease_type,
                    due_cents=typology_due,
                    arrears=arrears,
                    head_first=first,
                    head_last=last,
                    created_at=at(oriented_on, rng),
                )
            )
            plans[-1].shares_summary = adhesion_on is not None and rng.random() < 0.4
            if len(workers) > 1 and rng.random() < 0.1:
                plans[-1].team_id = rng.choice([w for w in workers if w != plans[-1].referent_id])
    _balance_caseloads(rng, world, plans)
    return plans


def _balance_caseloads(rng: Random, world: World, plans: list[Plan]) -> None:
    """Deal each project's supported households to its social workers in turn (caseloads
    of ~25–40 rather than a binomial spread); closed files keep a random past référent."""
    by_project: dict[int, list[Plan]] = {}
    for p in plans:
        if p.status == "active":
            by_project.setdefault(p.project_id, []).append(p)
    for project_id, files in by_project.items():
        workers = list(world.project_workers[project_id])
        rng.shuffle(workers)
        rng.shuffle(files)
        for i, p in enumerate(files):
            p.referent_id = workers[i % len(workers)]
            if p.team_id == p.referent_id:
                p.team_id = None


# --- phase 2: rows ---------------------------------------------------------------------------


def versioned(when: datetime, by: int | None = None) -> tuple:
    return (1, when, by)


V = ("version", "updated_at", "updated_by_id")


def generate(
    seed: int, scale: float, as_of: date, loader: Loader, secret_key: str, documents: Path
) -> World:
    from app.auth.services import encrypt_totp_secret, hash_password

    world = build_world(seed, scale, as_of)
    counts = world.counts
    start_time = datetime(2018, 9, 3, 8, 0, tzinfo=UTC)
    rng = rng_for(seed, "organisations")

    # organisations
    def organisations():
        for i, lid in enumerate(world.landlord_ids):
            name = LANDLORDS[i]
            city = CITIES[(i * 7) % len(CITIES)][0]
            yield (lid, name, "bailleur", city, f"contact@{_slug(name)}.fr", "04 72 00 00 00",
                   True, start_time, *versioned(start_time))  # fmt: skip
        for i, aid in enumerate(world.association_ids):
            prefix = ASSOCIATION_PREFIXES[i % len(ASSOCIATION_PREFIXES)]
            city = CITIES[i % len(CITIES)][0]
            name = f"{prefix} {city}"
            yield (aid, name, "association", city, f"accueil@{_slug(name)}.org",
                   "04 78 00 00 00", True, start_time, *versioned(start_time))  # fmt: skip

    org_cols = ("id", "name", "kind", "city", "email", "phone", "is_active", "created_at", *V)
    loader.load("organisation", org_cols, organisations())

    # projects
    project_city = {}

    def projects():
        for p in range(1, counts["projects"] + 1):
            city, _ = CITIES[(p - 1) % len(CITIES)]
            project_city[p] = CITIES[(p - 1) % len(CITIES)]
            edition = 1 + (p - 1) // len(CITIES)
            call = weighted(rng, (("hlm_accompagnes", 60), ("fnavdl", 20), ("avdl", 12),
                                  ("asll", 8)))  # fmt: skip
            start = date(2019 + (p % 4), 1 + (p % 12), 1)
            yield (p, f"{city} — logement accompagné {edition}", city,
                   world.project_landlords[p][0], call, start, add_months(start, 60),
                   sizes.get(p, 0), 150_000_00 + 1000_00 * (p % 50),
                   "prioritaire_dalo,sortie_hebergement,menace_expulsion",
                   start_time, *versioned(start_time))  # fmt: skip

    sizes: dict[int, int] = {}
    for plan in world.plans:
        sizes[plan.project_id] = sizes.get(plan.project_id, 0) + 1
    project_cols = ("id", "name", "territory", "lead_landlord_id", "funding_call",
                    "convention_start_on", "convention_end_on", "target_households",
                    "grant_cents", "target_publics", "created_at", *V)  # fmt: skip
    loader.load(
        "project",
        project_cols,
        projects(),
    )
    loader.load(
        "project_partner",
        ("project_id", "organisation_id"),
        (
            (p, org)
            for p in range(1, counts["projects"] + 1)
            for org in sorted({world.project_association[p], *world.project_landlords[p][1:]})
        ),
    )

    # users
    password_hash = hash_password(PASSWORD)
    totp_secret = base64.b32encode(hashlib.sha256(f"ancrage-{seed}".encode()).digest()[:20])
    totp_secret = totp_secret.decode()
    encrypted = encrypt_totp_secret(totp_secret)
    users, roles, members = [], [], []
    user_rng = rng_for(seed, "users")
    emails: set[str] = set()

    def person(user_id: int, role: str, organisation_id: int, title: str):
        female = user_rng.random() < 0.7
        first = user_rng.choice(GIVEN_F if female else GIVEN_M)
        last = user_rng.choice(SURNAMES)
        base = f"{_slug(first)}.{_slug(last)}"
        email = f"{base}@{role.split('_')[0]}.bench.fr"
        n = 2
        while email in emails:
            email = f"{base}{n}@{role.split('_')[0]}.bench.fr"
            n += 1
        emails.add(email)
        created = start_time + timedelta(days=user_rng.randrange(0, 900))
        token = "%032x" % user_rng.getrandbits(128)  # noqa: UP031
        users.append(
            (user_id, email, f"{first} {last}", None, title, organisation_id, password_hash,
             token, True, False, "fr", created, None, created, *versioned(created))
        )  # fmt: skip
        roles.append((user_id, user_id, role))

    for user_id in world.admin_ids:
        person(user_id, "admin", world.association_ids[0], "Administrateur·rice")
    for p, coordinators in world.project_coordinators.items():
        for user_id in coordinators:
            person(user_id, "coordinateur", world.project_association[p], "Coordinateur·rice")
            members.append((user_id, p))
    for lid, staff in world.landlord_staff.items():
        for user_id in staff:
            title = user_rng.choice(
                ("Gestionnaire", "Chargé·e de clientèle", "Conseiller·e social·e")
            )
            person(user_id, "personnel_bailleur", lid, title)
    for p, workers in world.project_workers.items():
        for user_id in workers:
            org = world.project_association[p] if user_rng.random() < 0.85 else (
                world.project_landlords[p][0])  # fmt: skip
            person(user_id, "travailleur_social", org, "Travailleur·se social·e")
            members.append((user_id, p))
    users.sort()
    user_cols = ("id", "email", "full_name", "phone", "job_title", "organisation_id",
                 "password_hash", "session_token", "is_active", "is_password_temporary",
                 "locale", "created_at", "last_login_at", "password_changed_at", *V)  # fmt: skip
    loader.load("user", user_cols, users)
    loader.load("user_role", ("id", "user_id", "role"), sorted(roles))
    loader.load("project_member", ("user_id", "project_id"), sorted(set(members)))
    user_by_id = {u[0]: u for u in users}
    totp_users = sorted(
        world.admin_ids + [u for c in world.project_coordinators.values() for u in c]
    )
    loader.load(
        "totp_credential",
        ("id", "user_id", "secret_encrypted", "created_at", "confirmed_at", "last_timecode"),
        (
            (i, uid, encrypted, user_by_id[uid][11], user_by_id[uid][11], None)
            for i, uid in enumerate(totp_users, start=1)
        ),
    )
    loader.load(
        "intensity_level",
        ("id", "project_id", "name", "contact_every_days", "caseload_weight", "is_active", *V),
        (
            (level_id(p, i), p, name, days, weight, True, *versioned(start_time))
            for p in range(1, counts["projects"] + 1)
            for i, (name, days, weight, _) in INTENSITIES.items()
        ),
    )
    loader.load(
        "partner",
        ("id", "name", "domain", "kind", "address", "city", "phone", "email", "notes",
         "is_active", "search_text", *V),
        _partners(start_time),
    )  # fmt: skip

    load_households(seed, world, loader, project_city)
    load_housing(seed, world, loader, project_city)
    load_support(seed, world, loader)
    load_interventions(seed, world, loader)
    load_rent_accounts(seed, world, loader)
    load_landlord_actions(seed, world, loader)
    load_partners_and_meetings(seed, world, loader)
    load_reminders(seed, world, loader)
    load_appointments(seed, world, loader)
    load_budget_lines(seed, world, loader)
    load_aids(seed, world, loader)
    load_documents(seed, world, loader, documents)
    load_audit(seed, world, loader, [u for u in user_by_id])
    world.totp_secret = totp_secret  # type: ignore[attr-defined]
    return world


def _slug(text: str) -> str:
    return "".join(c for c in search_key(text).replace(" ", "-") if c.isalnum() or c == "-")


def _partners(when: datetime):
    for i, (domain, kind) in enumerate(PARTNERS * 4, start=1):
        city = CITIES[(i * 5) % len(CITIES)][0]
        name = f"{kind} {city}"
        if i > len(PARTNERS):
            name = f"{name} ({(i - 1) // len(PARTNERS) + 1})"
        yield (i, name, domain, kind, f"{i} {STREETS[i % len(STREETS)]}", city, "01 23 45 67 89",
               None, None, True, search_key(f"{name} {kind} {city}"), *versioned(when))  # fmt: skip


def _end(plan: Plan, as_of: date) -> date:
    return plan.exit_on or as_of


def _is_housed(plan: Plan) -> bool:
    return plan.lease_start is not None


def load_households(seed: int, world: World, loader: Loader, project_city) -> None:
    as_of = world.as_of
    plans = world.plans
    rng = rng_for(seed, "households")
    references: dict[int, int] = {}

    def households():
        for p in plans:
            year = p.oriented_on.year
            references[year] = references.get(year, 0) + 1
            reference = f"M-{year}-{references[year]:05d}"
            city, postal = project_city[p.project_id]
            anonymised = p.anonymised_at is not None
            if _is_housed(p):
                address = f"{(p.id * 7) % 180 + 1} {STREETS[p.id % len(STREETS)]}, {postal} {city}"
            else:
                address = f"Hébergement CHRS, {STREETS[(p.id + 3) % len(STREETS)]}, {postal} {city}"
            if anonymised:
                address = None
            income = rng.choice((56_000, 64_000, 78_000, 95_000, 120_000, 145_000))
            sources = rng.choice(("rsa", "aah", "salaire", "chomage", "rsa,prestations_familiales",
                                  "salaire,prestations_familiales", "retraite"))  # fmt: skip
            application = None
            expires = None
            if p.lease_start is None or p.lease_start > as_of - timedelta(days=30):
                application = f"069{p.id:010d}"[:15]
                expires = p.oriented_on + timedelta(days=rng.randint(200, 430))
            yield (
                p.id, reference, p.project_id, p.referent_id, p.stage, p.stage_since,
                None if anonymised else f"06 {p.id % 100:02d} {p.id * 7 % 100:02d} "
                f"{p.id * 13 % 100:02d} {p.id * 17 % 100:02d}",
                None, address, search_key(address), income, sources,
                rng.choice((0, 18_000, 21_600, 25_000)), rng.random() < 0.8,
                rng.choice((None, 0, 120_000, 350_000)), rng.random() < 0.12,
                None if anonymised else "Difficultés de gestion budgétaire.",
                rng.choice(("", "prioritaire_dalo", "sortie_hebergement", "menace_expulsion",
                            "sortie_rue", "violences", "sante_mentale")),
                application, expires, p.created_at, p.referent_id, p.referent_id,
                p.anonymised_at, 1, p.anonymised_at or at(p.stage_since, rng),
            )  # fmt: skip

    cols = ("id", "reference", "project_id", "referent_id", "stage", "stage_since_on", "phone",
            "email", "current_address", "search_address", "monthly_income_cents",
            "income_sources", "apl_cents", "is_apl_paid_to_landlord", "debts_cents",
            "has_overindebtedness_file", "difficulties", "target_publics",
            "housing_application_number", "housing_application_expires_on", "created_at",
            "created_by_id", "updated_by_id", "anonymised_at", "version", "updated_at")  # fmt: skip
    loader.load("household", cols, households(), len(plans))

    member_rng = rng_for(seed, "members")

    def members():
        member_id = 0
        for p in plans:
            anonymised = p.anonymised_at is not None
            head_birth = date(member_rng.randint(1955, 2004), member_rng.randint(1, 12),
                              member_rng.randint(1, 28))  # fmt: skip
            people = [(p.head_first, p.head_last, head_birth, "demandeur", True)]
            if member_rng.random() >= 0.40:  # 40 % live alone
                if member_rng.random() < 0.45:
                    female = p.head_first in GIVEN_M
                    last = p.head_last if member_rng.random() < 0.6 else member_rng.choice(SURNAMES)
                    people.append((member_rng.choice(GIVEN_F if female else GIVEN_M), last,
                                   head_birth + timedelta(days=member_rng.randint(-2000, 2000)),
                                   "conjoint", False))  # fmt: skip
                for _ in range(member_rng.choice((0, 1, 1, 2, 2, 3, 4))):
                    born = date(member_rng.randint(max(head_birth.year + 18, 2005), 2025),
                                member_rng.randint(1, 12), member_rng.randint(1, 28))  # fmt: skip
                    name = member_rng.choice(GIVEN_F + GIVEN_M)
                    people.append((name, p.head_last, born, "enfant", False))
            for first, last, born, relation, is_head in people:
                member_id += 1
                if anonymised:
                    first, last, key, born = "Anonyme", "", "anonyme", date(born.year, 1, 1)
                else:
                    key = search_key(f"{first} {last}")
                yield (member_id, p.id, first, last, born, relation, is_head, key, p.created_at,
                       1, p.created_at, p.referent_id)  # fmt: skip

    loader.load(
        "household_member",
        ("id", "household_id", "first_name", "last_name", "birth_on", "relation", "is_head",
         "search_name", "created_at", *V),
        members(),
    )  # fmt: skip
    loader.load(
        "household_team_member",
        ("id", "household_id", "user_id", "added_on"),
        (
            (i, p.id, p.team_id, p.adhesion_on or p.oriented_on)
            for i, p in enumerate((p for p in plans if p.team_id), start=1)
        ),
    )
    o_rng = rng_for(seed, "orientation")
    loader.load(
        "orientation",
        ("id", "household_id", "prescriber", "prescriber_detail", "oriented_on", "kind",
         "reason", "recorded_by_id", "recorded_at", *V),
        (
            (p.id, p.id,
             o_rng.choice(("siao", "siao", "dalo", "ccapex", "bailleur", "ccas", "departement",
                           "spip", "ase")),
             None, p.oriented_on, p.kind,
             None if p.anonymised_at else "Orientation pour un accompagnement vers et dans le "
             "logement.", p.referent_id, p.created_at, 1, p.created_at, p.referent_id)
            for p in plans
        ),
    )  # fmt: skip
    d_rng = rng_for(seed, "diagnostic")
    levels = ("acquis", "partiel", "a_travailler")

    def diagnostics():
        for p in plans:
            if p.diagnostic_on is None:
                continue
            when = at(p.diagnostic_on, d_rng)
            needs = ",".join(sorted(d_rng.sample(DOMAINS, d_rng.randint(2, 4))))
            yield (p.id, p.id, p.diagnostic_on, d_rng.choice(levels), None, d_rng.choice(levels),
                   None, d_rng.choice(levels), None, d_rng.choice(levels), None, needs,
                   INTENSITIES[p.intensity][0], p.referent_id, when, 1, when,
                   p.referent_id)  # fmt: skip

    loader.load(
        "diagnostic",
        ("id", "household_id", "carried_out_on", "pouvoir_louer_level", "pouvoir_louer_comment",
         "savoir_louer_level", "savoir_louer_comment", "savoir_habiter_level",
         "savoir_habiter_comment", "environnement_level", "environnement_comment", "needs",
         "recommended_intensity", "author_id", "recorded_at", *V),
        diagnostics(),
    )  # fmt: skip
    a_rng = rng_for(seed, "adhesion")
    loader.load(
        "adhesion",
        ("id", "household_id", "signed_on", "objectives", "recorded_by_id", "recorded_at", *V),
        (
            (p.id, p.id, p.adhesion_on,
             "[anonymisé]" if p.anonymised_at else "Stabiliser le budget, se maintenir dans le "
             "logement, ouvrir les droits.", p.referent_id, at(p.adhesion_on, a_rng), 1,
             at(p.adhesion_on, a_rng), p.referent_id)
            for p in plans
            if p.adhesion_on is not None
        ),
    )  # fmt: skip
    c_rng = rng_for(seed, "consent")

    def consents():
        consent_id = 0
        for p in plans:
            if p.adhesion_on is None:
                continue
            wanted = [("bailleur", "coordonnees"), ("bailleur", "situation_locative"),
                      ("social", "situation_sociale")]  # fmt: skip
            if p.shares_summary:
                wanted.append(("bailleur", "situation_sociale"))
            for category in ("sante", "emploi", "logement"):
                if c_rng.random() < 0.3:
                    wanted.append((category, "situation_sociale"))
            for partner, data in wanted:
                consent_id += 1
                withdrawn = None
                if c_rng.random() < 0.02:
                    withdrawn = min(_end(p, as_of), p.adhesion_on + timedelta(days=60))
                yield (consent_id, p.id, partner, data, p.adhesion_on, withdrawn, p.referent_id,
                       p.referent_id if withdrawn else None)  # fmt: skip

    loader.load(
        "consent",
        ("id", "household_id", "partner_category", "data_category", "given_on", "withdrawn_on",
         "recorded_by_id", "withdrawal_recorded_by_id"),
        consents(),
    )  # fmt: skip
    s_rng = rng_for(seed, "transitions")

    def transitions():
        transition_id = 0
        for p in plans:
            steps = [(None, "orientation", p.oriented_on)]
            if p.diagnostic_on:
                steps.append(("orientation", "diagnostic", p.diagnostic_on))
            if p.adhesion_on:
                steps.append(("diagnostic", "adhesion", p.adhesion_on))
            previous = "adhesion"
            if p.adhesion_on and p.kind == "acces" and p.stage != "adhesion":
                steps.append(("adhesion", "acces", p.adhesion_on + timedelta(days=3)))
                previous = "acces"
                if p.lease_start and p.lease_start > p.adhesion_on:
                    steps.append(("acces", "installation", p.lease_start))
                    previous = "installation"
            if p.adhesion_on and p.stage not in ("adhesion", "acces", "installation"):
                since = p.stage_since if p.stage == "maintien" else max(
                    p.adhesion_on + timedelta(days=1),
                    min(p.exit_on - timedelta(days=30), (p.lease_start or p.adhesion_on)
                        + timedelta(days=60)))  # fmt: skip
                since = max(since, steps[-1][2])
                steps.append((previous, "maintien", since))
                previous = "maintien"
            if p.exit_on:
                steps.append((previous, "sortie", p.exit_on))
                if p.stage == "suivi_post_sortie":
                    steps.append(("sortie", "suivi_post_sortie", p.exit_on))
            for from_stage, to_stage, on in steps:
                transition_id += 1
                yield (transition_id, p.id, from_stage, to_stage, on, None, p.referent_id,
                       at(on, s_rng))  # fmt: skip

    loader.load(
        "stage_transition",
        ("id", "household_id", "from_stage", "to_stage", "on", "reason", "by_id", "at"),
        transitions(),
    )


def load_housing(seed: int, world: World, loader: Loader, project_city) -> None:
    as_of = world.as_of
    plans = [p for p in world.plans if _is_housed(p)]
    rng = rng_for(seed, "dwellings")
    typologies = {32_000: ("T1", 30), 41_000: ("T2", 46), 48_000: ("T2", 52), 56_000: ("T3", 66),
                  64_000: ("T4", 80), 72_000: ("T5", 95)}  # fmt: skip

    def dwellings():
        for p in plans:
            city, postal = project_city[p.project_id]
            typology, surface = typologies[p.due_cents]
            rent = round(surface * 630)  # ~6.30 €/m²
            charges = p.due_cents - rent if p.due_cents > rent else 5_000
            p.due_cents = rent + charges
            address = f"{(p.id * 7) % 180 + 1} {STREETS[p.id % len(STREETS)]}"
            residence = RESIDENCES[p.id % len(RESIDENCES)]
            when = at(p.lease_start - timedelta(days=30), rng)
            yield (p.id, p.landlord_id, f"LGT-{p.id:07d}", address, postal, city, residence,
                   typology, Decimal(surface), rng.choice(("PLAI", "PLAI", "PLUS", "PLS")), rent,
                   charges, search_key(f"{address} {postal} {city} {residence or ''}"), when,
                   None, 1, when)  # fmt: skip

    loader.load(
        "dwelling",
        ("id", "landlord_id", "landlord_reference", "address", "postal_code", "city",
         "residence", "typology", "surface_m2", "funding", "rent_cents", "charges_cents",
         "search_address", "created_at", "updated_by_id", "version", "updated_at"),
        dwellings(),
        len(plans),
    )  # fmt: skip
    o_rng = rng_for(seed, "occupancy")

    def occupancies():
        for p in plans:
            glissement = glissed = None
            if p.lease_type == "bail_glissant":
                glissement = add_months(p.lease_start, 24)
                if glissement < _end(p, as_of) and o_rng.random() < 0.6:
                    glissed = glissement + timedelta(days=o_rng.randint(0, 60))
                    if glissed > _end(p, as_of):
                        glissed = None
            when = at(p.lease_start, o_rng)
            reason = None
            if p.lease_end:
                reason = "Départ du logement"
            yield (p.id, p.id, p.id, p.lease_type, f"BAIL-{p.id:07d}", p.lease_start, p.lease_end,
                   reason, glissement, glissed, when, None, 1, when)  # fmt: skip

    loader.load(
        "occupancy",
        ("id", "household_id", "dwelling_id", "lease_type", "lease_reference", "start_on",
         "end_on", "end_reason", "glissement_target_on", "glissed_on", "created_at",
         "updated_by_id", "version", "updated_at"),
        occupancies(),
        len(plans),
    )  # fmt: skip
    r_rng = rng_for(seed, "lease_review")

    def reviews():
        review_id = 0
        for p in plans:
            if p.lease_type != "bail_glissant":
                continue
            held = add_months(p.lease_start, 6)
            end = p.lease_end or _end(p, as_of)
            while held < end:
                review_id += 1
                yield (review_id, p.id, held, "poursuite", None, add_months(held, 6),
                       p.referent_id, at(held, r_rng))  # fmt: skip
                held = add_months(held, 6)

    loader.load(
        "lease_review",
        ("id", "occupancy_id", "held_on", "decision", "comment", "next_review_on",
         "recorded_by_id", "recorded_at"),
        reviews(),
    )  # fmt: skip


def load_support(seed: int, world: World, loader: Loader) -> None:
    as_of = world.as_of
    plans = [p for p in world.plans if p.adhesion_on is not None]
    rng = rng_for(seed, "measures")
    renewals, changes, reviews, exits, checks = [], [], [], [], []
    measures = []
    for p in plans:
        start = p.adhesion_on
        end = _end(p, as_of)
        planned = add_months(start, rng.choice((12, 12, 18, 24)))
        while planned <= end - timedelta(days=15) and not (
            p.status == "active" and planned > as_of - timedelta(days=25) and rng.random() < 0.3
        ):
            new_end = add_months(planned, rng.choice((6, 12)))
            renewals.append((p.id, planned - timedelta(days=20), planned, new_end))
            planned = new_end
        if p.status == "exited" and planned <= start:
            planned = start + timedelta(days=1)
        review_days = []
        k = 1
        while (held := add_months(start, 3 * k)) < end:
            review_days.append(held + timedelta(days=rng.randint(-7, 7)))
            k += 1
        next_review = None
        if p.status == "active":
            if review_days and rng.random() < 0.12:
                review_days.pop()  # a late review
            next_review = add_months(review_days[-1] if review_days else start, 3)
        for i, held in enumerate(review_days):
            reviews.append((p.id, held, "mi_parcours" if i == 1 else "trimestriel"))
        if p.exit_on:
            reviews.append((p.id, p.exit_on, "final"))
        level = p.intensity
        first_level = level
        if (end - start).days > 180 and rng.random() < 0.25:
            first_level = max(1, level - 1) if level > 1 else 2
            changes.append((p.id, start, None, level_id(p.project_id, first_level)))
            changes.append(
                (p.id, start + timedelta(days=rng.randint(90, (end - start).days - 1)),
                 level_id(p.project_id, first_level), level_id(p.project_id, level))
            )  # fmt: skip
        else:
            changes.append((p.id, start, None, level_id(p.project_id, level)))
        measure_type = "bail_glissant" if p.lease_type == "bail_glissant" else weighted(
            rng, (("hlm_accompagnes", 70), ("avdl", 15), ("asll", 10), ("iml", 5)))  # fmt: skip
        measures.append((p, measure_type, planned, next_review))
        if p.exit_on:
            reason = weighted(rng, (("objectifs_atteints", 45), ("fin_de_mesure", 20),
                                    ("relogement", 8), ("reorientation", 7), ("refus", 8),
                                    ("depart", 5), ("expulsion", 2), ("deces", 1),
                                    ("autre", 4)))  # fmt: skip
            housing = {"relogement": "logement_social", "expulsion": "hebergement",
                       "depart": "inconnu", "deces": "inconnu"}.get(reason, "maintenu")  # fmt: skip
            exits.append((p, reason, housing))
            for months in (6, 12):
                due = add_months(p.exit_on, months)
                done = due + timedelta(days=rng.randint(-10, 20)) if due < as_of - timedelta(
                    days=25) and rng.random() < 0.85 else None  # fmt: skip
                checks.append((p, months, due, done))

    loader.load(
        "support_measure",
        ("id", "household_id", "type", "type_detail", "referent_id", "intensity_level_id",
         "start_on", "planned_end_on", "next_review_on", "status", "closed_on", "created_at",
         "created_by_id", "updated_by_id", "version", "updated_at"),
        (
            (p.id, p.id, mtype, None, p.referent_id, level_id(p.project_id, p.intensity),
             p.adhesion_on, planned,
             next_review, "cloturee" if p.exit_on else "en_cours", p.exit_on,
             at(p.adhesion_on, rng), p.referent_id, p.referent_id, 1,
             at(p.exit_on or p.adhesion_on, rng))
            for p, mtype, planned, next_review in measures
        ),
        len(measures),
    )  # fmt: skip
    loader.load(
        "support_measure_renewal",
        ("id", "measure_id", "renewed_on", "previous_end_on", "new_end_on", "justification",
         "by_id", "at"),
        (
            (i, mid, on, prev, new, "Objectifs en cours, renouvellement validé en bilan.", None,
             at(on, rng))
            for i, (mid, on, prev, new) in enumerate(renewals, start=1)
        ),
    )  # fmt: skip
    loader.load(
        "support_intensity_change",
        ("id", "measure_id", "changed_on", "from_level_id", "to_level_id", "reason", "by_id",
         "at"),
        (
            (i, mid, on, frm, to, None if frm is None else "Ajustement après bilan.", None,
             at(on, rng))
            for i, (mid, on, frm, to) in enumerate(changes, start=1)
        ),
    )  # fmt: skip
    del renewals, changes

    def objectives():
        objective_id = 0
        for p in plans:
            for domain in rng.sample(DOMAINS, rng.randint(2, 4)):
                objective_id += 1
                status = "atteint" if p.exit_on and rng.random() < 0.6 else weighted(
                    rng, (("en_cours", 60), ("a_engager", 20), ("atteint", 15),
                          ("en_pause", 5)))  # fmt: skip
                yield (objective_id, p.id, domain, OBJECTIVE_TITLES[domain], status,
                       p.adhesion_on, p.referent_id, p.referent_id, 1,
                       at(p.adhesion_on, rng))  # fmt: skip

    loader.load(
        "support_objective",
        (
            "id",
            "household_id",
            "domain",
            "title",
            "status",
            "set_on",
            "created_by_id",
            "updated_by_id",
            "version",
            "updated_at",
        ),
        objectives(),
    )
    referents = {p.id: p.referent_id for p in plans}
    loader.load(
        "support_review",
        ("id", "household_id", "measure_id", "kind", "held_on", "summary", "author_id", "at"),
        (
            (i, hid, hid, kind, held, "Bilan réalisé avec le ménage.", referents[hid],
             at(held, rng))
            for i, (hid, held, kind) in enumerate(reviews, start=1)
        ),
    )  # fmt: skip
    world.review_count = len(reviews)  # type: ignore[attr-defined]
    del reviews
    loader.load(
        "support_measure_exit",
        ("id", "measure_id", "household_id", "exit_on", "reason", "housing_situation",
         "is_lease_glissed", "handover", "by_id", "at"),
        (
            (p.id, p.id, p.id, p.exit_on, reason, housing,
             p.lease_type == "bail_glissant" and housing == "maintenu",
             None, p.referent_id, at(p.exit_on, rng))
            for p, reason, housing in exits
        ),
    )  # fmt: skip
    loader.load(
        "support_post_exit_check",
        ("id", "exit_id", "household_id", "months", "due_on", "done_on", "is_still_housed",
         "is_rent_up_to_date", "comment", *V),
        (
            (i, p.id, p.id, months, due, done, True if done else None,
             (rng.random() < 0.85) if done else None, None, 1,
             at(done or p.exit_on, rng), p.referent_id)
            for i, (p, months, due, done) in enumerate(checks, start=1)
        ),
    )  # fmt: skip
    world.open_checks = [  # type: ignore[attr-defined]
        (i, p.id, months, due)
        for i, (p, months, due, done) in enumerate(checks, start=1)
        if done is None
    ]
    world.measure_plans = {  # type: ignore[attr-defined]
        p.id: (planned, next_review) for p, _, planned, next_review in measures
    }


def load_interventions(seed: int, world: World, loader: Loader) -> None:
    as_of = world.as_of
    plans = world.plans
    rng = rng_for(seed, "interventions")
    weights = []
    for p in plans:
        start = p.adhesion_on or p.oriented_on
        months = max(0.3, (_end(p, as_of) - start).days / 30.4)
        rate = INTENSITIES[p.intensity][3] if p.adhesion_on else 1.0
        weights.append(months * rate * rng.lognormvariate(0, 0.35))
    allotted = allocate(world.counts["interventions"], weights)
    modes = [m for m, _ in MODES]
    mode_weights = [w for _, w in MODES]
    # The supported households' visits of the last weeks: some were planned appointments.
    recent_since = as_of - timedelta(weeks=AGENDA_PAST_WEEKS)
    recent: dict[int, list[tuple]] = {}
    world.recent_visits = recent  # type: ignore[attr-defined]

    def rows():
        intervention_id = 0
        for p, n in zip(plans, allotted, strict=True):
            p.n_interventions = n
            start = p.adhesion_on or p.oriented_on
            span = max(1, (_end(p, as_of) - start).days)
            days = sorted(rng.randrange(span + 1) for _ in range(n))
            if p.status == "active" and days and rng.random() < 0.85:
                # Most supported households were seen within their rhythm: the last contact
                # is recent (the others make the "contact en retard" reminders).
                rhythm = INTENSITIES[p.intensity][1]
                days[-1] = max(days[-1], span - int(rhythm * rng.uniform(0, 1.2)))
            anonymised = p.anonymised_at is not None
            last_contact = None
            for offset in days:
                intervention_id += 1
                on = start + timedelta(days=offset)
                if on > as_of:
                    on = as_of
                mode = rng.choices(modes, mode_weights)[0]
                if mode != "rdv_non_honore":
                    last_contact = on
                author = p.team_id if p.team_id and rng.random() < 0.2 else p.referent_id
                shared = (mode in ("visite_conjointe", "visite_domicile") and p.shares_summary
                          and rng.random() < 0.25 and not anonymised)  # fmt: skip
                summary = rng.choice(SHARED_SUMMARIES) if shared else None
                note = None if anonymised else NOTES[rng.randrange(len(NOTES))]
                next_action = next_on = None
                if not anonymised and rng.random() < 0.3:
                    next_action = rng.choice(NEXT_ACTIONS)
                    next_on = on + timedelta(days=rng.randint(3, 30))
                created = at(on, rng, 8, 19)
                domains = ",".join(sorted(rng.sample(DOMAINS, rng.randint(1, 2))))
                duration = None if mode == "rdv_non_honore" else rng.choice(
                    (15, 30, 45, 60, 90, 120))  # fmt: skip
                if p.status == "active" and on >= recent_since:  # the agenda's past weeks
                    recent.setdefault(p.id, []).append(
                        (intervention_id, on, mode, duration, author, created)
                    )
                yield (intervention_id, p.id, on, mode, duration, domains, note, summary, shared,
                       next_action, next_on, author, created, None, 1, created)  # fmt: skip
            p.last_contact = last_contact

    loader.load(
        "intervention",
        ("id", "household_id", "occurred_on", "mode", "duration_minutes", "domains", "note",
         "shared_summary", "is_summary_shared", "next_action", "next_action_on", "author_id",
         "created_at", "updated_by_id", "version", "updated_at"),
        rows(),
        world.counts["interventions"],
    )  # fmt: skip


def load_rent_accounts(seed: int, world: World, loader: Loader) -> None:
    as_of = world.as_of
    plans = [p for p in world.plans if _is_housed(p)]
    last_month = add_months(month_start(as_of), -1)
    window = add_months(last_month, -35)
    available = []
    for p in plans:
        first = max(month_start(p.lease_start), window)
        if p.lease_start.day > 1:
            first = max(first, add_months(month_start(p.lease_start), 1))
        last = min(last_month, month_start(p.lease_end)) if p.lease_end else last_month
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        available.append(max(0, months))
    total = min(world.counts["snapshots"], sum(available))
    allotted = allocate(total, [a * 1.0 for a in available], available)
    rng = rng_for(seed, "rent")

    def rows():
        snapshot_id = 0
        for p, n in zip(plans, allotted, strict=True):
            p.n_snapshots = n
            if n == 0:
                continue
            last = min(last_month, month_start(p.lease_end)) if p.lease_end else last_month
            months = [add_months(last, -i) for i in range(n - 1, -1, -1)]
            due = p.due_cents
            apl = "sans_apl" if rng.random() < 0.15 else "maintenue"
            balance = 0
            onset = rng.randrange(max(1, n // 2)) if p.arrears != "clean" else n
            plan_monthly = max(2_000, due // 5)
            caf_reported = None
            for i, month in enumerate(months):
                if i < onset:
                    balance = -rng.choice((0, 0, 0, 0, 500, 1_200))
                elif p.arrears == "light":
                    balance = due // 2 if i - onset < 3 else 0
                elif p.arrears == "arrears" and p.plan_start is not None:
                    balance = max(0, balance - plan_monthly)
                else:
                    balance += int(due * rng.uniform(0.35, 1.0))
                if balance >= 2 * due and p.first_arrears is None:
                    p.first_arrears = month
                    if p.arrears == "arrears" or rng.random() < 0.5:
                        p.plan_start = add_months(month, 2)
                    caf_reported = month + timedelta(days=rng.randint(20, 50))
                p.max_balance = max(p.max_balance, balance)
                paid = balance <= 0 or rng.random() < 0.6
                yield (
                    snapshot_id + i + 1, p.id, month, balance, due,
                    add_months(month, 0) + timedelta(days=rng.randint(2, 12)) if paid else None,
                    "suspendue" if apl != "sans_apl" and balance >= 3 * due else apl,
                    caf_reported if caf_reported and caf_reported <= add_months(month, 1)
                    else None,
                    datetime(month.year, month.month, 1, 6, tzinfo=UTC) + timedelta(days=40),
                )  # fmt: skip
            snapshot_id += n

    loader.load(
        "rent_account_snapshot",
        ("id", "occupancy_id", "month", "balance_cents", "amount_due_cents", "last_payment_on",
         "apl_status", "caf_reported_on", "imported_at"),
        rows(),
        total,
    )  # fmt: skip


PROCEDURE = (
    ("impaye_constitue", 0),
    ("signalement_caf", 1),
    ("saisine_ccapex", 3),
    ("commandement_payer", 4),
    ("assignation", 6),
    ("diagnostic_social_financier", 7),
    ("audience", 8),
    ("jugement", 9),
    ("commandement_quitter", 11),
    ("concours_force_publique", 14),
)


def load_landlord_actions(seed: int, world: World, loader: Loader) -> None:
    as_of = world.as_of
    plans = [p for p in world.plans if _is_housed(p)]
    rng = rng_for(seed, "landlord")

    def staff_of(p: Plan) -> int:
        staff = world.landlord_staff[p.landlord_id]
        return staff[p.id % len(staff)]

    def plans_rows():
        plan_id = 0
        for p in plans:
            if p.plan_start is None or p.plan_start > as_of:
                continue
            plan_id += 1
            status = weighted(rng, (("en_cours", 55), ("respecte", 20), ("rompu", 15),
                                    ("solde", 10)))  # fmt: skip
            when = at(p.plan_start, rng)
            yield (plan_id, p.id, p.plan_start, max(2_000, p.due_cents // 5),
                   max(1, p.max_balance), status, staff_of(p), when, 1, when, None)  # fmt: skip

    loader.load(
        "repayment_plan",
        ("id", "occupancy_id", "start_on", "monthly_cents", "debt_cents", "status",
         "recorded_by_id", "created_at", *V),
        plans_rows(),
    )  # fmt: skip

    def stages():
        stage_id = 0
        for p in plans:
            if p.first_arrears is None:
                continue
            depth = 2 if p.arrears != "procedure" else rng.randint(3, len(PROCEDURE))
            end = p.lease_end or _end(p, as_of)
            for stage, offset in PROCEDURE[:depth]:
                on = add_months(p.first_arrears, offset) + timedelta(days=rng.randint(0, 20))
                if on > end:
                    break
                hearing = add_months(on, 2) if stage == "assignation" else None
                stage_id += 1
                yield (stage_id, p.id, stage, on, hearing, None, staff_of(p), at(on, rng))
            if p.plan_start is not None and p.plan_start <= end:
                stage_id += 1
                yield (stage_id, p.id, "plan_apurement", p.plan_start, None, None, staff_of(p),
                       at(p.plan_start, rng))  # fmt: skip

    loader.load(
        "procedure_stage",
        ("id", "occupancy_id", "stage", "occurred_on", "hearing_on", "comment",
         "recorded_by_id", "recorded_at"),
        stages(),
    )  # fmt: skip

    def actions():
        action_id = 0
        for p in plans:
            end = p.lease_end or _end(p, as_of)
            if rng.random() < 0.6:
                on = max(p.lease_start, add_months(as_of, -36))
                on = on + timedelta(days=rng.randint(0, 40))
                while on <= end:
                    action_id += 1
                    p.last_insurance = on
                    yield (action_id, p.id, "attestation_assurance", on, None, staff_of(p),
                           at(on, rng))  # fmt: skip
                    on = add_months(on, 12) + timedelta(days=rng.randint(-10, 25))
            if p.first_arrears is not None:
                for kind, months in (("contact_impaye", 0), ("proposition_plan", 1)):
                    on = add_months(p.first_arrears, months) + timedelta(days=rng.randint(5, 25))
                    if on <= end:
                        action_id += 1
                        yield (action_id, p.id, kind, on, "Échange avec le ménage.", staff_of(p),
                               at(on, rng))  # fmt: skip
            if rng.random() < 0.08:
                on = p.lease_start + timedelta(days=rng.randint(30, 400))
                if on <= end:
                    action_id += 1
                    kind = rng.choice(("visite_technique", "mediation_voisinage"))
                    yield (action_id, p.id, kind, on, None, staff_of(p), at(on, rng))

    loader.load(
        "gla_action",
        ("id", "occupancy_id", "kind", "done_on", "outcome", "author_id", "recorded_at"),
        actions(),
    )


def load_partners_and_meetings(seed: int, world: World, loader: Loader) -> None:
    as_of = world.as_of
    rng = rng_for(seed, "referrals")
    plans = [p for p in world.plans if p.adhesion_on is not None and p.anonymised_at is None]
    history = []
    # Referrals only towards the "social" partners: every household signed that consent.

    def referrals():
        referral_id = 0
        for p in plans:
            if rng.random() >= 0.4:
                continue
            for _ in range(rng.randint(1, 2)):
                referral_id += 1
                span = max(1, (_end(p, as_of) - p.adhesion_on).days)
                on = p.adhesion_on + timedelta(days=rng.randrange(span))
                status = weighted(rng, (("envoyee", 20), ("acceptee", 25), ("realisee", 40),
                                        ("refusee", 5), ("abandonnee", 10)))  # fmt: skip
                status_on = min(as_of, on + timedelta(days=rng.randint(5, 40)))
                partner = rng.choice(world.partner_by_domain["social"])
                history.append((referral_id, "envoyee", on, p.referent_id))
                if status != "envoyee":
                    history.append((referral_id, status, status_on, p.referent_id))
                when = at(on, rng)
                yield (referral_id, p.id, partner, rng.choice(("acces_droits", "budget_dettes")),
                       "Ouverture de droits et aide budgétaire.", on, status,
                       status_on if status != "envoyee" else on, None, p.referent_id, when,
                       p.referent_id, 1, when)  # fmt: skip

    loader.load(
        "referral",
        ("id", "household_id", "partner_id", "domain", "reason", "referred_on", "status",
         "status_on", "outcome", "author_id", "created_at", "updated_by_id", "version",
         "updated_at"),
        referrals(),
    )  # fmt: skip
    loader.load(
        "referral_status_change",
        ("id", "referral_id", "status", "on", "comment", "by_id", "at"),
        (
            (i, rid, status, on, None, by, at(on, rng))
            for i, (rid, status, on, by) in enumerate(history, start=1)
        ),
    )
    history.clear()

    def meetings():
        meeting_id = 0
        for p in plans:
            if not _is_housed(p) or rng.random() >= 0.3:
                continue
            on = max(p.lease_start, p.adhesion_on) + timedelta(days=rng.randint(20, 90))
            end = _end(p, as_of)
            while on <= end:
                meeting_id += 1
                following = add_months(on, 6)
                when = at(on, rng)
                yield (meeting_id, p.id, on, "Ménage, bailleur, référent·e",
                       "Poursuite de l'accompagnement.",
                       following if following > end else None, p.referent_id, when,
                       p.referent_id, 1, when)  # fmt: skip
                on = following

    loader.load(
        "tripartite_meeting",
        ("id", "household_id", "held_on", "attendees", "decisions", "next_meeting_on",
         "author_id", "created_at", "updated_by_id", "version", "updated_at"),
        meetings(),
    )  # fmt: skip


def load_reminders(seed: int, world: World, loader: Loader) -> None:
    """Reminders as the sweep leaves them: the open ones the data calls for today, and the
    past ones closed (automatically, by the data, or by hand)."""
    as_of = world.as_of
    rng = rng_for(seed, "reminders")
    now = datetime(as_of.year, as_of.month, as_of.day, 5, 0, tzinfo=UTC)
    measure_plans = world.measure_plans  # type: ignore[attr-defined]
    titles = {
        "contact_retard": "Contact en retard selon l'intensité",
        "sans_contact": "Aucun contact depuis plusieurs semaines",
        "bilan_trimestriel": "Bilan de la mesure à faire",
        "fin_de_mesure": "Fin de mesure : renouveler ou clôturer",
        "attestation_assurance": "Attestation d'assurance annuelle",
        "impaye_signalement_caf": "Impayé constitué : signalement à la CAF",
    }

    def rows():
        reminder_id = 0

        def row(code, p, subject, due, recipient, status, title=None, created_by=None):
            nonlocal reminder_id
            reminder_id += 1
            user, role, org = recipient
            created = datetime(due.year, due.month, due.day, 5, tzinfo=UTC) - timedelta(days=14)
            created = min(created, now)
            closed_at = closed_by = None
            automatic = False
            if status == "fait":
                closed_at = min(now, created + timedelta(days=rng.randint(1, 30), hours=3))
                automatic = code != "manuel" and rng.random() < 0.8
                closed_by = None if automatic else (user or p.referent_id)
            postponed = (due + timedelta(days=14)) if status == "reporte" else None
            return (reminder_id, code, p.id, subject, title or titles.get(code, "Rappel"), due,
                    user, role, org, status, postponed,
                    "Ménage absent, à revoir." if postponed else None, None, created,
                    created_by, closed_at, closed_by, automatic)  # fmt: skip

        for p in world.plans:
            if p.anonymised_at is not None:
                continue
            referent = (p.referent_id, None, None)
            coordinators = (None, "coordinateur", None)
            landlord = (None, "personnel_bailleur", p.landlord_id)
            active_measure = p.adhesion_on is not None and p.status == "active"
            if active_measure:
                rhythm = INTENSITIES[p.intensity][1]
                since = p.last_contact or p.adhesion_on
                due = since + timedelta(days=rhythm)
                if due <= as_of - timedelta(days=3):
                    yield row("contact_retard", p, p.id, due, referent, "a_faire")
                if since + timedelta(weeks=6) <= as_of:
                    yield row("sans_contact", p, p.id, since + timedelta(weeks=6), coordinators,
                              "a_faire")  # fmt: skip
                planned, next_review = measure_plans[p.id]
                if next_review is not None and next_review <= as_of + timedelta(days=14):
                    status = "reporte" if rng.random() < 0.1 else "a_faire"
                    yield row("bilan_trimestriel", p, p.id, next_review, referent, status)
                if planned <= as_of + timedelta(days=30):
                    yield row("fin_de_mesure", p, p.id, planned, referent, "a_faire")
                # Past reviews each had a reminder, closed when the review was recorded.
                start = p.adhesion_on
                k = 1
                while (due := add_months(start, 3 * k)) < min(as_of, next_review or as_of):
                    yield row("bilan_trimestriel", p, p.id, due, referent, "fait")
                    k += 1
                # Past contact delays, closed by the next visit.
                for _ in range(rng.choice((0, 1, 1, 2, 3))):
                    due = start + timedelta(days=rng.randrange(max(1, (as_of - start).days)))
                    if due < as_of - timedelta(days=30):
                        yield row("contact_retard", p, p.id, due, referent, "fait")
            if p.landlord_id is not None and p.lease_end is None and p.last_insurance:
                due = add_months(p.last_insurance, 12)
                if due <= as_of + timedelta(days=15):
                    yield row("attestation_assurance", p, p.id, due, landlord, "a_faire")
            if p.first_arrears is not None and p.lease_end is None:
                yield row("impaye_signalement_caf", p, p.id, p.first_arrears, landlord, "fait")
            if p.status == "active" and rng.random() < 0.05:
                due = as_of + timedelta(days=rng.randint(-20, 40))
                yield row("manuel", p, None, due, referent, "a_faire" if due >= as_of else
                          rng.choice(("a_faire", "fait")), "Rappeler le ménage",
                          p.referent_id)  # fmt: skip
        for check_id, household_id, months, due in world.open_checks:  # type: ignore[attr-defined]
            p = world.plans[household_id - 1]
            if p.anonymised_at is None and due <= as_of + timedelta(days=14):
                yield row("suivi_post_sortie", p, check_id, due, (p.referent_id, None, None),
                          "a_faire", f"Vérification {months} mois après la sortie")  # fmt: skip

    seen: set[tuple] = set()

    def unique(rows_iter):
        for r in rows_iter:
            key = (r[1], r[3], r[5])
            if r[3] is not None and key in seen:
                continue
            seen.add(key)
            yield r

    loader.load(
        "reminder",
        ("id", "rule_code", "household_id", "subject_id", "title", "due_on",
         "recipient_user_id", "recipient_role", "recipient_organisation_id", "status",
         "postponed_to", "postpone_reason", "done_note", "created_at", "created_by_id",
         "closed_at", "closed_by_id", "is_resolved_automatically"),
        _renumber(unique(rows())),
    )  # fmt: skip


# Appointments: the agenda holds the planned visits of the last weeks and of the coming ones.
AGENDA_PAST_WEEKS = 6
AGENDA_AHEAD_DAYS = 21
# A visit of this mode was planned as an appointment this often: (share, appointment mode).
PLANNED_VISITS = {
    "visite_domicile": (0.7, "domicile"),
    "bureau": (0.8, "bureau"),
    "telephone": (0.15, "telephone"),
    "accompagnement_physique": (0.8, "autre_lieu"),
    "visite_conjointe": (0.9, "domicile"),
    "rdv_non_honore": (0.8, None),  # the attempt recorded from a missed appointment
}
APPOINTMENT_NOTES = (
    "Point sur le budget et le dossier FSL.",
    "Préparer la demande de logement.",
    "Apporter les justificatifs de ressources.",
    "Faire le point sur le paiement du loyer.",
    "Préparer le bilan de la mesure.",
    None,
    None,
)
APPOINTMENT_PLACES = ("Agence CAF", "CCAS", "Mission locale", "France Travail",
                      "Maison départementale des solidarités")  # fmt: skip


def load_appointments(seed: int, world: World, loader: Loader) -> None:
    """Appointments as the agenda's services leave them, in the supported households' own
    référent's (or team member's) agenda: the past weeks' planned visits held (linked to the
    visit recorded from them) or missed (linked to the attempt), a few cancelled, and the
    coming weeks' ones planned — more of them for the heavier intensities. A meeting with
    the landlord is tripartite."""
    from datetime import time as clock

    from app.agenda.services import paris_datetime

    as_of = world.as_of
    rng = rng_for(seed, "appointments")
    recent = world.recent_visits  # type: ignore[attr-defined]
    ahead = {1: 0.6, 2: 0.45, 3: 0.3}  # chance of a planned appointment, by intensity

    def starts(day: date):
        return paris_datetime(day, clock(rng.randint(9, 16), rng.choice((0, 30))))

    def planned_at(day: date) -> datetime:
        return at(min(day, as_of) - timedelta(days=rng.randint(3, 21)), rng)

    def rows():
        appointment_id = 0
        for p in world.plans:
            if p.status != "active":
                continue
            housed = _is_housed(p) and p.lease_end is None
            for visit_id, on, mode, duration, author, created in recent.get(p.id, ()):
                share, kind = PLANNED_VISITS.get(mode, (0, None))
                if rng.random() >= share:
                    continue
                with_whom, place, status = "menage", None, "tenu"
                if mode == "rdv_non_honore":
                    kind, status = rng.choice(("domicile", "bureau")), "non_honore"
                elif mode == "visite_conjointe":
                    with_whom = "bailleur" if housed else "partenaire"
                elif mode == "accompagnement_physique":
                    with_whom, place = "partenaire", rng.choice(APPOINTMENT_PLACES)
                elif mode == "telephone" and rng.random() < 0.2:
                    kind = "visio"
                appointment_id += 1
                yield (appointment_id, p.id, starts(on), duration or 60, kind, place, with_whom,
                       with_whom == "bailleur", status, rng.choice(APPOINTMENT_NOTES), author,
                       author, visit_id, planned_at(on), 2, created, author)  # fmt: skip
            if rng.random() < 0.06:  # cancelled (by the household or the worker)
                on = as_of - timedelta(days=rng.randint(1, AGENDA_PAST_WEEKS * 7))
                appointment_id += 1
                when = planned_at(on)
                yield (appointment_id, p.id, starts(on), 60, "domicile", None, "menage", False,
                       "annule", None, p.referent_id, p.referent_id, None, when, 2,
                       min(when + timedelta(days=2), at(on, rng)), p.referent_id)  # fmt: skip
            day = as_of + timedelta(days=rng.randint(1, INTENSITIES[p.intensity][1]))
            while day <= as_of + timedelta(days=AGENDA_AHEAD_DAYS) and (
                rng.random() < ahead[p.intensity]
            ):
                if day.weekday() >= 5:  # the next Monday
                    day += timedelta(days=7 - day.weekday())
                kind = weighted(rng, (("domicile", 55), ("bureau", 30), ("telephone", 10),
                                      ("visio", 5)))  # fmt: skip
                with_whom, place = "menage", None
                if housed and kind == "domicile" and rng.random() < 0.08:
                    with_whom = "bailleur"
                elif rng.random() < 0.05:
                    kind, with_whom, place = "autre_lieu", "partenaire", rng.choice(
                        APPOINTMENT_PLACES)  # fmt: skip
                user = p.team_id if p.team_id and rng.random() < 0.2 else p.referent_id
                appointment_id += 1
                when = at(as_of - timedelta(days=rng.randint(1, 14)), rng)
                yield (appointment_id, p.id, starts(day), rng.choice((30, 45, 60, 60, 90)), kind,
                       place, with_whom, with_whom == "bailleur", "prevu",
                       rng.choice(APPOINTMENT_NOTES), user, user, None, when, 1, when,
                       user)  # fmt: skip
                day += timedelta(days=INTENSITIES[p.intensity][1])

    loader.load(
        "appointment",
        ("id", "household_id", "starts_at", "duration_minutes", "mode", "place", "with_whom",
         "is_tripartite", "status", "note", "planned_by_id", "for_user_id", "intervention_id",
         "created_at", *V),
        rows(),
    )  # fmt: skip
    del world.recent_visits  # type: ignore[attr-defined]


# funder, label, share of the project's grant (low, high), chance of the line in a year
BUDGET_LINES = (
    ("etat", None, (1.0, 1.0), 1.0),
    ("etat", "Plan Logement d'abord", (0.1, 0.25), 0.25),
    ("bailleur", None, (0.25, 0.45), 0.9),
    ("departement", "FSL", (0.15, 0.35), 0.85),
    ("caf", None, (0.05, 0.12), 0.6),
    ("commune", None, (0.03, 0.08), 0.5),
    ("autre", "Fondation Abbé Pierre", (0.02, 0.06), 0.1),
    ("autre", "Action Logement", (0.03, 0.08), 0.1),
)
BUDGET_YEARS = 3  # this year and the two before


def load_budget_lines(seed: int, world: World, loader: Loader) -> None:
    """A handful of funders' lines per project and year (this year and the two before), as
    its coordinators enter them: the State's grant (the project's own, a little lower the
    years before), the landlord's, the département's (FSL) and often the CAF's and the
    commune's shares; a past year is paid in full or nearly, this year in part."""
    as_of = world.as_of
    last_day = as_of - timedelta(days=1)  # nothing entered on the day the data stops
    rng = rng_for(seed, "budget")

    def rows():
        line_id = 0
        for project_id in range(1, world.counts["projects"] + 1):
            grant = 150_000_00 + 1000_00 * (project_id % 50)  # as the project's grant_cents
            coordinator = world.project_coordinators[project_id][0]
            for year in range(as_of.year - BUDGET_YEARS + 1, as_of.year + 1):
                base = grant * (0.95 ** (as_of.year - year))
                for funder, label, (low, high), chance in BUDGET_LINES:
                    if rng.random() >= chance:
                        continue
                    granted = round(base * rng.uniform(low, high) / 100_00) * 100_00
                    if year < as_of.year:
                        paid = 1.0 if rng.random() < 0.8 else rng.choice((0.8, 0.9))
                    else:
                        paid = rng.choice((0, 0.3, 0.5, 0.6, 1.0))
                    line_id += 1
                    entered = min(date(year, rng.randint(1, 3), rng.randint(1, 28)), last_day)
                    created = updated = at(entered, rng)
                    if paid:  # the payments received so far, entered at the end of the year
                        paid_on = date(year, 12, rng.randint(1, 20))
                        updated = at(max(entered, min(paid_on, last_day)), rng)
                    yield (line_id, project_id, year, funder, label, granted,
                           round(granted * paid), None, created, 2 if paid else 1, updated,
                           coordinator)  # fmt: skip

    loader.load(
        "project_budget_line",
        ("id", "project_id", "year", "funder", "label", "granted_cents", "received_cents",
         "note", "created_at", *V),
        rows(),
    )  # fmt: skip


AID_LABELS = ("Fondation Abbé Pierre", "Secours catholique", "Croix-Rouge")


def load_aids(seed: int, world: World, loader: Loader) -> None:
    """Financial aids recorded by the référent for some supported households (one or two):
    the FSL accès before moving in, the FSL maintien once in arrears, the CAF's, the
    commune's (CCAS) or a charity's; decided (mostly granted) a few weeks after the request,
    the last weeks' still pending."""
    as_of = world.as_of
    rng = rng_for(seed, "aids")

    def rows():
        aid_id = 0
        for p in world.plans:
            if p.adhesion_on is None or p.anonymised_at is not None:
                continue
            if rng.random() >= (0.45 if p.first_arrears else 0.15):
                continue
            end = _end(p, as_of)
            for _ in range(rng.choice((1, 1, 2))):
                label = None
                moved_in = p.kind == "acces" and (p.lease_start or as_of) < as_of
                if moved_in and p.lease_start > p.adhesion_on and rng.random() < 0.6:
                    kind = "fsl_acces"
                    on = max(p.adhesion_on, p.lease_start - timedelta(days=rng.randint(10, 40)))
                    asked = rng.choice((450, 600, 800, 900, 1_200, 1_500))
                elif p.first_arrears and rng.random() < 0.7:
                    kind = "fsl_maintien"
                    on = max(p.adhesion_on, p.first_arrears + timedelta(days=rng.randint(15, 60)))
                    asked = max(300, min(5_000, p.max_balance // 100))
                else:
                    kind = weighted(rng, (("caf", 40), ("commune", 40), ("autre", 20)))
                    label = rng.choice(AID_LABELS) if kind == "autre" else None
                    span = max(1, (end - p.adhesion_on).days)
                    on = p.adhesion_on + timedelta(days=rng.randrange(span))
                    asked = rng.choice((150, 200, 300, 400, 600))
                on = min(on, end, as_of)
                decided = on + timedelta(days=rng.randint(15, 60))
                status, granted = "demandee", None
                if decided <= as_of:
                    status = weighted(rng, (("accordee", 75), ("refusee", 15), ("demandee", 10)))
                if status == "accordee":
                    granted = asked * 100 if rng.random() < 0.7 else asked * 100 * 4 // 5
                elif status == "demandee":
                    decided = None
                created = at(on, rng)
                updated = at(decided, rng) if decided else created
                note = "Dossier transmis avec les justificatifs." if rng.random() < 0.3 else None
                aid_id += 1
                yield (aid_id, p.id, kind, label, status, asked * 100, granted, on, decided,
                       note, p.referent_id, created, 2 if decided else 1, updated,
                       p.referent_id)  # fmt: skip

    loader.load(
        "household_aid",
        ("id", "household_id", "kind", "label", "status", "requested_cents", "granted_cents",
         "requested_on", "decided_on", "note", "created_by_id", "created_at", *V),
        rows(),
    )  # fmt: skip


DOCUMENT_FILES = 12  # distinct contents: stored once each, whoever's rows name them
DOCUMENT_COLUMNS = (
    "id", "household_id", "category", "is_tenancy_category", "title", "document_on",
    "valid_until", "link_kind", "link_id", "original_name", "content_type", "size_bytes",
    "sha256", "uploaded_by_id", "uploaded_at", "previous_id", "lineage_id", "version_number",
    "replaced_at", "deleted_at", "deleted_by_id", "delete_reason", *V,
)  # fmt: skip


def document_files(folder: Path) -> list[tuple[str, int]]:
    """A dozen small PDF files written by the app's store into ``folder``: (hash, size)."""
    from app.documents.storage import DocumentStore

    store = DocumentStore(folder)
    files = []
    for n in range(DOCUMENT_FILES):
        data = (
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
            + f"% Ancrage benchmark document {n}\n".encode()
            + b"0" * (2_000 + 500 * n)
            + b"\n%%EOF\n"
        )
        files.append(store.put_stream(io.BytesIO(data)))
    return files


def load_documents(seed: int, world: World, loader: Loader, folder: Path) -> None:
    """Documents of the households not anonymised: the support contract (first, uploaded by
    the référent), one to three resource papers, the lease and the insurance certificates
    of a housed household (uploaded by the landlord's staff; last year's replaced by this
    year's), a health paper now and then."""
    from app.audience import Audience
    from app.documents.models import CATEGORY_AUDIENCE, DocumentCategory

    as_of = world.as_of
    rng = rng_for(seed, "documents")
    files = document_files(folder)
    tenancy = {c.value for c, a in CATEGORY_AUDIENCE.items() if a == Audience.TENANCY}

    def rows():
        document_id = 0
        for p in world.plans:
            if p.anonymised_at is not None:
                continue
            staff = world.landlord_staff.get(p.landlord_id) or [p.referent_id]
            papers = []  # (category, title, on, valid_until, uploader, previous version?)
            start = p.adhesion_on or p.oriented_on
            if p.adhesion_on is not None:
                papers.append(("contrat", "Contrat d'accompagnement signé", p.adhesion_on, None,
                               p.referent_id, False))  # fmt: skip
            for _ in range(rng.randint(1, 3)):
                on = start + timedelta(days=rng.randrange(max(1, (_end(p, as_of) - start).days)))
                papers.append(("ressources", f"Attestation CAF {on:%m/%Y}", on, None,
                               p.referent_id, False))  # fmt: skip
            if _is_housed(p):
                lessor = staff[p.id % len(staff)]
                papers.append(("bail", "Bail signé", p.lease_start, None, lessor, False))
                # Every housed household the same shape (a certificate and last year's, that
                # it replaced): the tab's queries do not depend on which file is typical.
                on = p.last_insurance or max(p.lease_start, add_months(as_of, -6))
                papers.append(("assurance", f"Attestation d'assurance {on.year}", on,
                               add_months(on, 12), lessor, True))  # fmt: skip
            if rng.random() < 0.05:
                papers.append(("sante", "Certificat médical", start, None, p.referent_id, False))
            for category, title, on, until, uploader, earlier in papers:
                on = min(on, as_of)
                content, size = files[rng.randrange(len(files))]
                kind = DocumentCategory(category).value
                when = at(on, rng)
                first = document_id + 1
                if earlier:  # last year's certificate, replaced by this one
                    document_id += 1
                    before = add_months(on, -12)
                    yield (document_id, p.id, kind, kind in tenancy,
                           f"Attestation d'assurance {before.year}", before, on, None, None,
                           f"assurance-{before.year}.pdf", "application/pdf", size, content,
                           uploader, at(before, rng), None, first, 1, when, None, None, None,
                           *versioned(when, uploader))  # fmt: skip
                document_id += 1
                yield (document_id, p.id, kind, kind in tenancy, title, on, until, None, None,
                       f"{category}-{on:%Y-%m}.pdf", "application/pdf", size, content, uploader,
                       when, first if earlier else None, first, 2 if earlier else 1, None, None,
                       None, None, *versioned(when, uploader))  # fmt: skip

    loader.load("document", DOCUMENT_COLUMNS, rows())


def _renumber(rows_iter: Iterator[tuple]) -> Iterator[tuple]:
    for i, r in enumerate(rows_iter, start=1):
        yield (i, *r[1:])


def load_audit(seed: int, world: World, loader: Loader, user_ids: list[int]) -> None:
    as_of = world.as_of
    rng = rng_for(seed, "audit")
    end_of_day = datetime(as_of.year, as_of.month, as_of.day, 5, tzinfo=UTC)

    def rows():
        entry_id = 0

        def entry(when, actor, action, household_id=None, target=None, details=None):
            nonlocal entry_id
            entry_id += 1
            ip = f"10.{actor % 250}.{(actor // 250) % 250}.{rng.randint(1, 254)}" if actor else None
            return (entry_id, when, actor, action, household_id,
                    target[0] if target else None, target[1] if target else None, "success",
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)), ip,
                    json.dumps(details) if details is not None and loader.dialect ==
                    "postgresql" else details)  # fmt: skip

        for p in world.plans:
            yield entry(p.created_at, p.referent_id, "household.created", p.id,
                        ("household", p.id))  # fmt: skip
            start = p.oriented_on
            span = max(1, (_end(p, as_of) - start).days)
            for _ in range(max(1, p.n_interventions // 8)):
                when = at(start + timedelta(days=rng.randrange(span)), rng, 7, 19)
                yield entry(min(when, end_of_day), p.referent_id, "household.read", p.id,
                            ("household", p.id))  # fmt: skip
        for user_id in user_ids:
            for _ in range(30):
                day = as_of - timedelta(days=rng.randint(1, 720))
                yield entry(at(day, rng), user_id, "auth.login", None, ("user", user_id),
                            {"second_factor": user_id in world.admin_ids})  # fmt: skip

    loader.load(
        "audit_entry",
        ("id", "at", "actor_id", "action", "household_id", "target_type", "target_id",
         "outcome", "request_id", "ip", "details"),
        rows(),
    )  # fmt: skip


# --- phase 3: finish, manifest ---------------------------------------------------------------


def finish(connection) -> None:
    from sqlalchemy import inspect, select, text

    from app.housing.models import Occupancy, refresh_tenancy_figures

    # The landlord dashboard's derived figures: the rows were loaded without the ORM.
    ids = list(connection.execute(select(Occupancy.id)).scalars())
    refresh_tenancy_figures(connection, ids)
    connection.commit()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        for table in inspect(connection).get_table_names():
            columns = {c["name"] for c in inspect(connection).get_columns(table)}
            if "id" not in columns:
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f'"{table}"'}
            ).scalar()
            if sequence:
                connection.execute(
                    text(
                        f"SELECT setval('{sequence}', COALESCE((SELECT MAX(id) FROM \"{table}\"), "  # noqa: S608 - table names from the schema
                        "0) + 1, false)"
                    )
                )
        connection.commit()
        # VACUUM too (outside a transaction): it sets the visibility map that autovacuum keeps
        # on a live database, without which an index-only scan (the landlord dashboard's
        # leases and households) still reads every row it finds.
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE"))
    else:
        connection.execute(text("ANALYZE"))
        connection.commit()
        connection.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def pick_representatives(world: World) -> dict:
    """Representative accounts and records for a benchmark, from the plan (deterministic)."""
    from statistics import median

    caseload: dict[int, list[Plan]] = {}
    for p in world.plans:
        if p.status == "active" and p.anonymised_at is None:
            caseload.setdefault(p.referent_id, []).append(p)
    sizes = sorted(len(v) for v in caseload.values())
    typical_size = median(sizes)
    all_counts = sorted(p.n_interventions for p in world.plans)
    long_threshold = all_counts[int(len(all_counts) * 0.98)]
    chosen = None
    for worker in sorted(caseload, key=lambda w: (abs(len(caseload[w]) - typical_size), w)):
        files = caseload[worker]
        typical = [p for p in files if p.stage == "maintien" and 17 <= p.n_interventions <= 23]
        longest = max(files, key=lambda p: (p.n_interventions, -p.id))
        if typical and longest.n_interventions >= max(long_threshold, 40):
            chosen = (worker, min(typical, key=lambda p: (abs(p.n_interventions - 20), p.id)),
                      longest)  # fmt: skip
            break
    if chosen is None:  # tiny datasets
        worker = max(caseload, key=lambda w: (len(caseload[w]), -w))
        files = sorted(caseload[worker], key=lambda p: (abs(p.n_interventions - 20), p.id))
        chosen = (worker, files[0], max(caseload[worker], key=lambda p: (p.n_interventions, -p.id)))
    project_sizes: dict[int, int] = {}
    for p in world.plans:
        project_sizes[p.project_id] = project_sizes.get(p.project_id, 0) + 1
    big_project = max(project_sizes, key=lambda k: (project_sizes[k], -k))
    landlord_sizes: dict[int, int] = {}
    for p in world.plans:
        if p.landlord_id and p.lease_end is None:
            landlord_sizes[p.landlord_id] = landlord_sizes.get(p.landlord_id, 0) + 1
    big_landlord = max(landlord_sizes, key=lambda k: (landlord_sizes[k], -k))
    return {
        "worker_id": chosen[0],
        "caseload": len(caseload[chosen[0]]),
        "caseload_median": typical_size,
        "typical_household": chosen[1],
        "long_household": chosen[2],
        "project_id": big_project,
        "project_households": project_sizes[big_project],
        "coordinator_id": world.project_coordinators[big_project][0],
        "landlord_id": big_landlord,
        "landlord_households": landlord_sizes[big_landlord],
        "landlord_staff_id": world.landlord_staff[big_landlord][0],
        "admin_id": world.admin_ids[0],
    }


def search_term_for(worker_id: int) -> tuple[str, int]:
    """A name fragment that finds a handful (3–6) of the social worker's households, counted
    with the app's own list query."""
    from sqlalchemy import func, select

    from app.db import db
    from app.households.models import Household, HouseholdTeamMember, Member
    from app.households.queries import ListFilters, household_list
    from app.users.models import User

    user = db.session.get(User, worker_id)
    visible = select(Household.id).where(
        (Household.referent_id == worker_id)
        | Household.id.in_(
            select(HouseholdTeamMember.household_id).where(HouseholdTeamMember.user_id == worker_id)
        ),
        Household.anonymised_at.is_(None),
    )
    names = db.session.scalars(
        select(Member.last_name).where(Member.household_id.in_(visible), Member.is_head)
    ).all()
    candidates: list[str] = []
    for length in (4, 3, 5):
        for name in sorted(set(names)):
            key = search_key(name).replace(" ", "")
            if len(key) >= length and key[:length] not in candidates:
                candidates.append(key[:length])
    best = ("", 0)
    for term in candidates:
        query = household_list(user, ListFilters(q=term))
        found = db.session.scalar(select(func.count()).select_from(query.subquery()))
        if 3 <= found <= 6:
            return term, found
        if found > best[1] and found <= 10:
            best = (term, found)
    return best


def documents_folder(manifest: Path) -> Path:
    """Where the dataset's document files go: beside its manifest."""
    return manifest.resolve().with_name(manifest.stem + "-documents")


def write_manifest(path: Path, world: World, seed: int, scale: float, loader: Loader,
                   database_url: str, secret_key: str, elapsed: float,
                   documents: Path) -> dict:  # fmt: skip
    from sqlalchemy import select

    from app.db import db
    from app.users.models import User

    reps = pick_representatives(world)
    emails = dict(db.session.execute(select(User.id, User.email)).all())
    term, found = search_term_for(reps["worker_id"])
    typical, long = reps["typical_household"], reps["long_household"]
    manifest = {
        "seed": seed,
        "scale": scale,
        "as_of": world.as_of.isoformat(),
        "database_url": _hide_password(database_url),
        "generated_in_seconds": round(elapsed, 1),
        "password": PASSWORD,
        "secret_key": secret_key,
        "totp_secret": world.totp_secret,  # type: ignore[attr-defined]
        "row_counts": dict(sorted(loader.counts.items())),
        "social_worker": {
            "id": reps["worker_id"],
            "email": emails[reps["worker_id"]],
            "active_caseload": reps["caseload"],
            "median_active_caseload": reps["caseload_median"],
            "typical_household_id": typical.id,
            "typical_household_interventions": typical.n_interventions,
            "long_household_id": long.id,
            "long_household_interventions": long.n_interventions,
            "search_term": term,
            "search_term_matches": found,
        },
        "coordinator": {
            "id": reps["coordinator_id"],
            "email": emails[reps["coordinator_id"]],
            "project_id": reps["project_id"],
            "project_households": reps["project_households"],
            "totp_secret": world.totp_secret,  # type: ignore[attr-defined]
        },
        "landlord_staff": {
            "id": reps["landlord_staff_id"],
            "email": emails[reps["landlord_staff_id"]],
            "organisation_id": reps["landlord_id"],
            "current_leases": reps["landlord_households"],
        },
        "admin": {
            "id": reps["admin_id"],
            "email": emails[reps["admin_id"]],
            "totp_secret": world.totp_secret,  # type: ignore[attr-defined]
        },
        "project_id": reps["project_id"],
        "documents_folder": str(documents),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def default_manifest_path(database_url: str) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).with_name(Path(url.database).stem + "-manifest.json")
    return Path("national-manifest.json")


# Raised for a database that is not empty or not named for benchmarks (benchmarks/guard.py).
NotEmptyError = guard.RefusedDatabase


def run(
    database_url: str,
    *,
    scale: float = 1.0,
    seed: int = 2026,
    manifest: Path | None = None,
    as_of: date = DEFAULT_AS_OF,
    quiet: bool = False,
    app_config: dict | None = None,
    allow_any_database: bool = False,
) -> dict:
    """Migrate the empty database, load the dataset, write the manifest; returns it.

    The database must be empty and named for benchmarks (benchmarks/guard.py), else
    :class:`NotEmptyError`; with ``allow_any_database`` every table is dropped first."""
    from flask_migrate import upgrade

    from app import create_app
    from app.db import db

    guard.check_new_dataset(database_url, allow=allow_any_database)
    if allow_any_database:
        guard.empty_database(database_url)
    started = time.perf_counter()
    secret_key = os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "MAIL_SENDER": "Ancrage benchmark <benchmark@localhost>",
        **(app_config or {}),
    }
    app = create_app(config)
    path = manifest or default_manifest_path(database_url)
    documents = documents_folder(path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            if connection.dialect.name == "sqlite":
                # Outside any transaction (the app's hook opens each one with BEGIN IMMEDIATE);
                # for this connection only, during the load.
                for pragma in ("synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY"):
                    raw.execute(f"PRAGMA {pragma}")
            else:
                connection.exec_driver_sql("SET synchronous_commit TO off")
                connection.commit()
            loader = Loader(connection, quiet=quiet)
            world = generate(seed, scale, as_of, loader, secret_key, documents)
            finish(connection)
        result = write_manifest(
            path, world, seed, scale, loader, database_url, secret_key,
            time.perf_counter() - started, documents,
        )  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    result["manifest_path"] = str(path)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="fill an empty database")
    gen.add_argument("--database-url", required=True)
    gen.add_argument("--scale", type=float, default=1.0)
    gen.add_argument("--seed", type=int, default=2026)
    gen.add_argument("--manifest", type=Path)
    gen.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    gen.add_argument("--quiet", action="store_true", help="no progress bars")
    guard.add_flag(gen, emptied=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = run(
            args.database_url,
            scale=args.scale,
            seed=args.seed,
            manifest=args.manifest,
            as_of=args.as_of,
            quiet=args.quiet,
            allow_any_database=args.allow_any_database,
        )
    except NotEmptyError as error:
        print(f"refused: {error}", file=sys.stderr)
        return guard.EXIT_REFUSED
    elapsed = time.perf_counter() - started
    total = sum(result["row_counts"].values())
    print(f"rows: {total:,} in {len(result['row_counts'])} tables")
    for name in ("household", "intervention", "rent_account_snapshot", "audit_entry", "user"):
        print(f"  {name}: {result['row_counts'].get(name, 0):,}")
    print(f"manifest: {result['manifest_path']}")
    print(f"time: {elapsed:.1f} s; peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
