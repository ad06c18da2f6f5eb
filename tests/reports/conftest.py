"""Two small, explicit datasets for the coordination reports.

``programme``: ten households of Projet A (plus one of Projet B that must never count) with
known dates, for the indicators over the first half of 2025. Every expected figure in
``test_indicators.py`` is worked out by hand from the comments here.

``caseload``: nine households of Projet A seen on 10 March 2026, for caseloads and stalled
files.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from app.db import db
from app.households.models import Orientation
from app.permissions import Role
from app.reminders.models import Reminder
from app.support.services import change_intensity, close_measure, record_post_exit_check
from tests.factories import (
    make_dwelling,
    make_household,
    make_intensity_levels,
    make_intervention,
    make_landlord,
    make_measure,
    make_occupancy,
    make_organisation,
    make_procedure_stage,
    make_project,
    make_repayment_plan,
    make_snapshot,
    make_user,
)

PERIOD = (date(2025, 1, 1), date(2025, 6, 30))
CASELOAD_TODAY = date(2026, 3, 10)


def make_orientation(household, prescriber, kind, oriented_on):
    orientation = Orientation(
        household_id=household.id, prescriber=prescriber, kind=kind, oriented_on=oriented_on
    )
    db.session.add(orientation)
    db.session.flush()
    return orientation


def close(measure, actor, exit_on, reason="fin_de_mesure", housing="maintenu", glissed=False):
    return close_measure(
        actor,
        measure,
        version=measure.version,
        exit_on=exit_on,
        reason=reason,
        housing_situation=housing,
        is_lease_glissed=glissed,
        handover=None,
        today=exit_on,
    )


def _people(project_name: str):
    landlord = make_landlord(name=f"Bailleur {project_name}")
    association = make_organisation(name=f"Association {project_name}")
    project = make_project(lead_landlord=landlord, name=project_name, target_households=40)
    other_project = make_project(name=f"Autre projet que {project_name}")
    coordinator = make_user(
        Role.COORDINATEUR, organisation=association, projects=[project], full_name="Claire Coord"
    )
    w1 = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[project], full_name="Wassim Un"
    )
    w2 = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[project], full_name="Zoé Deux"
    )
    outsider = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[other_project]
    )
    return SimpleNamespace(
        landlord=landlord,
        project=project,
        other_project=other_project,
        coordinator=coordinator,
        w1=w1,
        w2=w2,
        outsider=outsider,
        # [Renforcée 7 j ×2, Soutenue 14 j ×1,5, Modérée 30 j ×1]
        levels=make_intensity_levels(project),
    )


@pytest.fixture
def programme(app):
    w = _people("Projet A")
    renforcee, soutenue, moderee = w.levels
    hh = {}

    def household(key, referent, publics="", **values):
        hh[key] = make_household(
            w.project, referent=referent, reference=f"P-{key}", target_publics=publics, **values
        )
        return hh[key]

    def lease(key, **values):
        return make_occupancy(hh[key], make_dwelling(w.landlord), **values)

    # H1: in support since 1 Dec 2024 (before the period), still open, Renforcée. Two
    # orientations: only the latest (SIAO, accès) counts. Bail glissant slid on 30 June 2025
    # (last day: counts). Contacts in the period: 2 (the missed appointment and the December
    # visit do not count). Procedure closed (clôture) on 1 April 2025.
    household("H1", w.w1, "sortie_hebergement,prioritaire_dalo")
    make_orientation(hh["H1"], "bailleur", "maintien", date(2024, 1, 1))
    make_orientation(hh["H1"], "siao", "acces", date(2024, 11, 10))
    make_measure(hh["H1"], intensity_level_id=renforcee.id, start_on=date(2024, 12, 1))
    o1 = lease("H1", lease_type="bail_glissant", glissed_on=date(2025, 6, 30))
    make_snapshot(o1, date(2025, 6, 1), 0)
    make_procedure_stage(o1, "cloture", date(2025, 4, 1))
    for on, mode in (
        (date(2024, 12, 15), "visite_domicile"),
        (date(2025, 2, 10), "visite_domicile"),
        (date(2025, 3, 15), "telephone"),
        (date(2025, 4, 1), "rdv_non_honore"),
    ):
        make_intervention(hh["H1"], occurred_on=on, mode=mode)

    # H2: entry 15 Jan 2025, exit 31 May 2025 (136 days): objectives met, maintained.
    # Arrears: 1 200 € in January (entry month), 300 € in May (exit), 0 in June. A plan
    # signed 1 Feb 2025, kept. Contacts: 2.
    household("H2", w.w1, "menace_expulsion")
    make_orientation(hh["H2"], "ccapex", "maintien", date(2025, 1, 5))
    m2 = make_measure(
        hh["H2"],
        intensity_level_id=soutenue.id,
        start_on=date(2025, 1, 15),
        planned_end_on=date(2026, 1, 15),
    )
    o2 = lease("H2", start_on=date(2020, 3, 1))
    make_snapshot(o2, date(2024, 12, 1), 90_000)
    make_snapshot(o2, date(2025, 1, 1), 120_000)
    make_snapshot(o2, date(2025, 5, 1), 30_000)
    make_snapshot(o2, date(2025, 6, 1), 0)
    make_repayment_plan(o2, start_on=date(2025, 2, 1), status="respecte")
    make_intervention(hh["H2"], occurred_on=date(2025, 2, 1))
    make_intervention(hh["H2"], occurred_on=date(2025, 3, 1))
    close(m2, w.w1, date(2025, 5, 31), "objectifs_atteints", "maintenu")

    # H3: entry 1 June 2024, exit 10 March 2025 (282 days) by eviction, without housing.
    # Arrears: 0 in June 2024 (entry month), 2 640 € = 6 months in March 2025 (exit and last
    # known). Commandement de payer 5 Nov 2024 (judicial procedure started before the
    # period), police assistance asked 25 Feb 2025. A plan signed 10 Jan 2025, broken.
    household("H3", w.w2)
    make_orientation(hh["H3"], "dalo", "acces", date(2024, 5, 2))
    m3 = make_measure(
        hh["H3"],
        intensity_level_id=moderee.id,
        start_on=date(2024, 6, 1),
        planned_end_on=date(2025, 12, 1),
    )
    o3 = lease("H3", start_on=date(2024, 6, 1))
    make_snapshot(o3, date(2024, 6, 1), 0)
    make_snapshot(o3, date(2025, 3, 1), 264_000)
    make_repayment_plan(o3, start_on=date(2025, 1, 10), status="rompu")
    make_procedure_stage(o3, "commandement_payer", date(2024, 11, 5))
    make_procedure_stage(o3, "assignation", date(2025, 1, 20))
    make_procedure_stage(o3, "concours_force_publique", date(2025, 2, 25))
    make_intervention(hh["H3"], occurred_on=date(2025, 1, 20))
    close(m3, w.w2, date(2025, 3, 10), "expulsion", "sans_logement")

    # H4: entry on the last day of the period (counts), Soutenue; no orientation, no contact.
    household("H4", w.w2)
    make_measure(
        hh["H4"],
        intensity_level_id=soutenue.id,
        start_on=date(2025, 6, 30),
        planned_end_on=date(2026, 6, 30),
    )

    # H5: in support since 1 Jan 2024, exit on 1 July 2025 — the day after the period: not an
    # exit of the period, still supported on its last day. Modérée, then Soutenue from 1 May
    # 2025. Arrears on 30 June: 1 320 € = exactly 3 months (not "more than 3"); July's larger
    # debt is after the period. Procedure: commandement de payer 10 Feb 2025 (started in the
    # period), protocole de cohésion sociale 20 May 2025 (suspended). A plan running since
    # October 2024. Its bail glissant slid on 1 July 2025 (after the period). Contacts: 1.
    household("H5", w.w2, "sante_mentale")
    make_orientation(hh["H5"], "siao", "maintien", date(2023, 12, 1))
    m5 = make_measure(
        hh["H5"],
        intensity_level_id=moderee.id,
        start_on=date(2024, 1, 1),
        planned_end_on=date(2026, 1, 1),
    )
    change_intensity(
        w.w2,
        m5,
        version=m5.version,
        intensity_level_id=soutenue.id,
        changed_on=date(2025, 5, 1),
        today=date(2025, 5, 1),
    )
    o5 = lease("H5", lease_type="bail_glissant", glissed_on=date(2025, 7, 1))
    make_snapshot(o5, date(2025, 6, 1), 132_000)
    make_snapshot(o5, date(2025, 7, 1), 200_000)
    make_repayment_plan(o5, start_on=date(2024, 10, 1))
    make_procedure_stage(o5, "impaye_constitue", date(2025, 1, 5))
    make_procedure_stage(o5, "commandement_payer", date(2025, 2, 10))
    make_procedure_stage(o5, "protocole_cohesion", date(2025, 5, 20))
    make_intervention(hh["H5"], occurred_on=date(2025, 4, 15))
    close(m5, w.w2, date(2025, 7, 1), "fin_de_mesure", "maintenu")

    # H6: oriented by the landlord, never under a measure: not supported.
    household("H6", None, stage="orientation")
    make_orientation(hh["H6"], "bailleur", "maintien", date(2025, 3, 1))

    # H8: support 2023–30 June 2024; its +12-month check falls on 30 June 2025 (in the
    # period) and found the household still housed. A contact in the period does not count
    # (not supported then).
    household("H8", w.w1, stage="suivi_post_sortie")
    m8 = make_measure(hh["H8"], start_on=date(2023, 1, 1), planned_end_on=date(2024, 12, 31))
    exit8 = close(m8, w.w1, date(2024, 6, 30))
    twelve = next(c for c in exit8.checks if c.months == 12)
    record_post_exit_check(
        w.w1,
        twelve,
        version=twelve.version,
        done_on=date(2025, 6, 30),
        is_still_housed=True,
        is_rent_up_to_date=True,
        comment=None,
        today=date(2025, 6, 30),
    )
    make_intervention(hh["H8"], occurred_on=date(2025, 2, 1))

    # H9: exit 15 Jan 2024; its +12-month check (15 Jan 2025) is not filled in.
    household("H9", w.w1, stage="suivi_post_sortie")
    m9 = make_measure(hh["H9"], start_on=date(2023, 3, 1), planned_end_on=date(2024, 3, 1))
    close(m9, w.w1, date(2024, 1, 15))

    # H10: entry 1 Feb 2025, exit 11 Feb 2025 (10 days): the household ended its adhesion,
    # situation unknown. One contact.
    household("H10", w.w1)
    m10 = make_measure(hh["H10"], start_on=date(2025, 2, 1), planned_end_on=date(2026, 2, 1))
    make_intervention(hh["H10"], occurred_on=date(2025, 2, 5))
    close(m10, w.w1, date(2025, 2, 11), "refus", "inconnu")

    # Projet B: never counted for Claire (not her project).
    other = make_household(w.other_project, referent=w.outsider, reference="P-B1")
    make_measure(other, actor=w.outsider, start_on=date(2025, 3, 1))
    make_intervention(other, occurred_on=date(2025, 3, 5))
    make_repayment_plan(make_occupancy(other, make_dwelling(w.landlord)), start_on=date(2025, 3, 1))

    w.households = hh
    w.other = other
    return w


@pytest.fixture
def caseload(app):
    """Seen on 10 March 2026 (``CASELOAD_TODAY``)."""
    w = _people("Projet C")
    renforcee, soutenue, moderee = w.levels
    hh = {}

    def household(key, referent, **values):
        hh[key] = make_household(w.project, referent=referent, reference=f"C-{key}", **values)
        return hh[key]

    def measure(key, level, start_on, planned_end_on=date(2027, 1, 1), next_review_on=None):
        m = make_measure(
            hh[key], intensity_level_id=level.id, start_on=start_on, planned_end_on=planned_end_on
        )
        if next_review_on is not None:
            m.next_review_on = next_review_on
        return m

    def arrears(key, *months):
        occupancy = make_occupancy(hh[key], make_dwelling(w.landlord))
        for month, balance, due in months:
            make_snapshot(occupancy, month, balance, due)

    # K1 (Wassim): Renforcée (weight 2), last contact 1 March = 9 days > 7: beyond its
    # rhythm; review on 1 April (within 30 days).
    household("K1", w.w1)
    measure("K1", renforcee, date(2026, 1, 1))  # next review: start + 3 months = 1 April
    make_intervention(hh["K1"], occurred_on=date(2026, 3, 1))
    # K2 (Wassim): Modérée (1), last contact 10 Jan = 59 days > 30 (and > 45: stalled),
    # review overdue since 1 Sept 2025; one overdue reminder (the others: not due yet,
    # postponed, done, or addressed to someone else).
    household("K2", w.w1)
    measure("K2", moderee, date(2025, 6, 1))
    make_intervention(hh["K2"], occurred_on=date(2026, 1, 10))
    for due_on, status, postponed_to, recipient in (
        (date(2026, 3, 1), "a_faire", None, w.w1),
        (date(2026, 3, 20), "a_faire", None, w.w1),
        (date(2026, 3, 1), "reporte", date(2026, 3, 15), w.w1),
        (date(2026, 2, 1), "fait", None, w.w1),
        (date(2026, 2, 1), "a_faire", None, w.coordinator),
    ):
        db.session.add(
            Reminder(
                rule_code="manuel",
                household_id=hh["K2"].id,
                title="Rappel",
                due_on=due_on,
                status=status,
                postponed_to=postponed_to,
                recipient_user_id=recipient.id,
                postpone_reason="Absent" if postponed_to else None,
            )
        )
    # K3 (Zoé): Soutenue (1.5) since 1 Feb, no contact: 37 days > 14; ends 31 March
    # (within 30 days, no decision).
    household("K3", w.w2)
    measure("K3", soutenue, date(2026, 2, 1), date(2026, 3, 31))
    # K4 (Zoé): diagnostic, no measure yet: weight 1.
    household("K4", w.w2, stage="diagnostic")
    # K5: nobody's (no référent).
    household("K5", None, stage="orientation")
    # K6 (Wassim): exited, no open measure: not in any caseload.
    household("K6", w.w1, stage="sortie")
    # K7 (Zoé): debt 200 € in Nov 2025, 300 € in Feb 2026 (latest): rising.
    # K8 (Zoé): 600 € → 400 €: falling. K9 (Zoé): 600 € both times, but the rent fell from
    # 600 € to 300 €: 1 month → 2 months of arrears, rising.
    for key, months in (
        ("K7", ((date(2025, 11, 1), 20_000, 44_000), (date(2026, 2, 1), 30_000, 44_000))),
        ("K8", ((date(2025, 11, 1), 60_000, 44_000), (date(2026, 2, 1), 40_000, 44_000))),
        ("K9", ((date(2025, 11, 1), 60_000, 60_000), (date(2026, 2, 1), 60_000, 30_000))),
    ):
        household(key, w.w2)
        measure(key, moderee, date(2025, 12, 1), next_review_on=date(2026, 6, 1))
        make_intervention(hh[key], occurred_on=date(2026, 3, 5))
        arrears(key, *months)
    # Another project's household followed by Wassim: never counted here.
    make_household(w.other_project, referent=w.w1, reference="C-B1")
    w.households = hh
    return w
