"""Demo housing: the landlords' dwellings, a lease for each housed demo household, rent
accounts, repayment plans, GLA actions and eviction-prevention procedures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.dates import add_months, first_of_month
from app.db import db
from app.formatting import today_paris
from app.households.models import Household, HouseholdStage, search_key
from app.housing.models import (
    Dwelling,
    GlaAction,
    Occupancy,
    ProcedureStage,
    RentAccountSnapshot,
    RepaymentPlan,
)
from app.organisations.models import Organisation
from app.projects.models import Project

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
