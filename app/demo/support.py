"""Demo support: intensity levels, partners, measures, visits, referrals, tripartite meetings
and exits."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.dates import add_months
from app.db import db
from app.demo.accounts import ORGANISATIONS
from app.formatting import today_paris
from app.households.models import Consent, Household, search_key
from app.households.queries import has_consent
from app.housing.models import Occupancy
from app.interventions.models import Intervention
from app.organisations.models import Organisation
from app.partners import services as partners
from app.partners.models import Partner, PartnerContact, TripartiteMeeting, referral_consent
from app.support import services as support
from app.support.models import Measure
from app.users.models import User

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


EARLY_STAGES = ("orientation", "diagnostic", "adhesion")


def _support() -> None:
    """Intensity levels, the partner directory, and for each demo household with a référent
    and no measure yet: a measure, objectives, reviews, a year of contacts at its rhythm (some
    households overdue), referrals, tripartite meetings, and two exits with their checks."""
    rng = random.Random(20260312)  # noqa: S311 - reproducible demo data, not a secret
    today = today_paris()
    levels_by_project: dict[int, list] = {}
    partners_by_domain = _partner_directory()
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
        # A measure opens once the household is on its way to housing or kept in it (opening
        # one moves the path there, app.households.path.follow_work).
        if household.id in supported or household.stage in EARLY_STAGES:
            continue
        worker = db.session.get(User, household.referent_id)
        if household.project_id not in levels_by_project:
            levels_by_project[household.project_id] = support.ensure_default_intensity_levels(
                household.project
            )
        levels = levels_by_project[household.project_id]
        _support_household(
            _Demo(rng, today, index, household, worker),
            levels[index % len(levels)],
            partners_by_domain,
            is_housed=household.id in housed,
        )
        db.session.flush()


def _partner_directory() -> dict[str, list[Partner]]:
    """The demo partners (created once), by domain."""
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
    return partners_by_domain


@dataclass(frozen=True)
class _Demo:
    """What every step of one household's demo support needs: the shared random generator
    (its draws stay in the same order), today, the household's rank, the household and its
    référent."""

    rng: random.Random
    today: date
    index: int
    household: Household
    worker: User


def _support_household(demo: _Demo, level, partners_by_domain, *, is_housed: bool) -> None:
    rng, today, index, household, worker = (
        demo.rng,
        demo.today,
        demo.index,
        demo.household,
        demo.worker,
    )
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
    stop = today - timedelta(days=2 * level.contact_every_days + 10) if index % 5 == 3 else today
    exit_on = None
    if exits:
        exit_on = max(
            today - timedelta(days=400 if index == 4 else 200), start + timedelta(days=60)
        )
        stop = exit_on
    _contacts(demo, level, objectives, start, stop)
    # Quarterly reviews; every fourth household has its last one overdue.
    _reviews(demo, measure, objectives, start, exit_on if exits else None)
    if index % 2 == 0:
        _referral(demo, partners_by_domain, start)
    # Tripartite meetings for housed households: one held, some upcoming.
    if is_housed and not db.session.scalar(
        select(TripartiteMeeting.id).where(TripartiteMeeting.household_id == household.id)
    ):
        _meetings(demo, start)
    if exits:
        _exit(demo, measure, measure_type, exit_on)


def _contacts(demo: _Demo, level, objectives, start: date, stop: date) -> None:
    rng, today, household, worker = demo.rng, demo.today, demo.household, demo.worker
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


def _reviews(demo: _Demo, measure, objectives, start: date, exit_on: date | None) -> None:
    today, index = demo.today, demo.index
    review_on = add_months(start, 3)
    last = exit_on if exit_on else today - timedelta(days=30 if index % 4 == 1 else 0)
    while review_on <= last:
        support.record_review(
            demo.worker,
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


def _referral(demo: _Demo, partners_by_domain, start: date) -> None:
    """A partner whose category the household consented to (consent recorded here when the
    household file has none, as the demo household would have signed it)."""
    rng, today, household, worker = demo.rng, demo.today, demo.household, demo.worker
    domain = ("sante", "emploi", "social")[demo.index % 3]
    referred_on = start + timedelta(days=rng.randint(20, 60))
    support_domain = {"sante": "sante", "emploi": "emploi_formation"}.get(domain, "acces_droits")
    partner_category, data_category = referral_consent(domain, support_domain)
    # The referral checks consent on its own date, so that is the date to look at.
    if not has_consent(household.id, partner_category, data_category, referred_on):
        db.session.add(
            Consent(
                household_id=household.id,
                partner_category=partner_category,
                data_category=data_category,
                given_on=start,
                recorded_by_id=worker.id,
            )
        )
        db.session.flush()
    referral = partners.refer_household(
        worker,
        household,
        partner_id=rng.choice(partners_by_domain[domain]).id,
        domain=support_domain,
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


def _meetings(demo: _Demo, start: date) -> None:
    today, index, household, worker = demo.today, demo.index, demo.household, demo.worker
    held = start + timedelta(days=45)
    upcoming = today + timedelta(days=demo.rng.randint(5, 40)) if index % 3 != 2 else None
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


def _exit(demo: _Demo, measure, measure_type: str, exit_on: date) -> None:
    today, worker = demo.today, demo.worker
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
