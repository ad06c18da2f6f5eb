"""A hand-built project for the evaluation's outcomes and axes, evaluated for the year 2025
as of 31 December 2025 (cohorts 2022–2025). Every expected figure of test_outcomes.py,
test_axes.py and test_drilldown.py is worked out by hand from the comments here.

Levels of the project: [Renforcée 7 j ×2, Soutenue 14 j ×1,5, Modérée 30 j ×1].

H1 cohort 2023: entry 10 Feb 2023 (Soutenue), oriented 1 Jan 2023, adhesion 21 Jan 2023;
   bail glissant from 1 Mar 2023, slid 15 June 2024; exit 10 Mar 2025, objectives met,
   maintained, lease slid. Snapshots: Jan 2025 500 €, Mar 2025 200 €. Income: salaire.
   Public: sortie d'hébergement. Consent given 1 Jan 2024, withdrawn 15 Jan 2025.
   Referral to P1 (santé) 1 May 2024; tripartite meeting 1 Jan 2024; visit 1 Dec 2024.
H2 cohort 2024: entry 15 Jan 2024, lease 1 Jan – 20 May 2024; exit 20 May 2024: eviction,
   no housing.
H3 cohort 2024: entry 5 Mar 2024 (Soutenue), still open, no lease; Soutenue → Renforcée on
   1 Feb 2025. Income: rsa, aah. Publics: menace d'expulsion, santé mentale. Consent given
   1 Feb 2025, withdrawn 1 Sep 2025. Referral to P1 (santé) 1 Mar 2025, still sent.
   Tripartite meeting 20 May 2025. Interventions 2025: home visit 15 Feb, missed appointment
   1 Mar, joint visit with the landlord 1 June.
H4 cohort 2025: oriented 1 Dec 2024, adhesion 10 Jan 2025, lease from 1 Feb 2025, entry
   3 Feb 2025 (Renforcée), Renforcée → Modérée on 1 Apr 2025; exit 3 June 2025: rehousing,
   social housing. Snapshots: Feb 2025 0 €, May 2025 120 €. Income: rsa. No public. Two
   consents given 1 Mar 2025. Referral to P2 (logement) 1 Apr 2025, done. Tripartite
   meeting 15 Mar 2025. Interventions: phone 10 Apr 2025, office 10 May 2025 marked as a
   duplicate (counts nowhere).
H5 cohort 2023: entry 12 Apr 2023, lease from 12 Apr 2023; exit 12 Oct 2023 end of measure,
   maintained; the 6-month check done 20 Apr 2024: no longer housed.
H6 cohort 2022: entry 1 June 2022; exit 1 Dec 2022: left without known solution, housing
   unknown.
H8 cohort 2025: oriented 1 July 2025, adhesion 1 Aug 2025, entry 1 Sep 2025 (Soutenue),
   lease from 15 Sep 2025; exit 30 Nov 2025: end of adhesion (refus), hosted by a third
   party. Public: sortie d'hébergement.
H7 belongs to Projet B: it must never count anywhere.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from app.db import db
from app.evaluation.tables import EvaluationScope
from app.households.models import Adhesion
from app.permissions import Role
from app.support.models import PostExitCheck
from app.support.services import change_intensity, close_measure, record_post_exit_check
from tests.factories import (
    make_consent,
    make_dwelling,
    make_household,
    make_intensity_levels,
    make_intervention,
    make_landlord,
    make_measure,
    make_meeting,
    make_occupancy,
    make_organisation,
    make_partner,
    make_project,
    make_referral,
    make_snapshot,
    make_user,
)
from tests.reports.conftest import make_orientation

AS_OF = date(2025, 12, 31)


def _adhesion(household, signed_on):
    db.session.add(Adhesion(household_id=household.id, signed_on=signed_on, objectives="Bail"))
    db.session.flush()


def _close(measure, actor, exit_on, reason, housing, glissed=False):
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


def build_outcomes_world():
    landlord = make_landlord(name="Bailleur Éval")
    association = make_organisation(name="Association Éval")
    project = make_project(
        lead_landlord=landlord,
        name="Projet Éval",
        target_households=20,
        target_publics="sortie_hebergement,sortie_rue",
    )
    other = make_project(name="Projet B")
    coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[project])
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, organisation=association, projects=[project])
    other_coordinator = make_user(Role.COORDINATEUR, organisation=association, projects=[other])
    renforcee, soutenue, moderee = make_intensity_levels(project)
    p1 = make_partner(name="CMP Éval", domain="sante")
    p2 = make_partner(name="Agence logement Éval", domain="logement")
    hh = {}

    def household(key, project=project, **values):
        hh[key] = make_household(project, referent=worker, reference=f"E-{key}", **values)
        return hh[key]

    def lease(key, **values):
        return make_occupancy(hh[key], make_dwelling(landlord), **values)

    # H1
    household("H1", target_publics="sortie_hebergement", income_sources="salaire")
    make_orientation(hh["H1"], "siao", "acces", date(2023, 1, 1))
    _adhesion(hh["H1"], date(2023, 1, 21))
    m1 = make_measure(hh["H1"], worker, intensity_level_id=soutenue.id, start_on=date(2023, 2, 10))
    o1 = lease(
        "H1", lease_type="bail_glissant", start_on=date(2023, 3, 1), glissed_on=date(2024, 6, 15)
    )
    make_snapshot(o1, date(2025, 1, 1), 50_000)
    make_snapshot(o1, date(2025, 3, 1), 20_000)
    consent = make_consent(hh["H1"], "sante", "budget", given_on=date(2024, 1, 1))
    consent.withdrawn_on = date(2025, 1, 15)
    make_referral(hh["H1"], p1, referred_on=date(2024, 5, 1))
    make_meeting(hh["H1"], held_on=date(2024, 1, 1))
    make_intervention(hh["H1"], occurred_on=date(2024, 12, 1), mode="visite_domicile")
    _close(m1, worker, date(2025, 3, 10), "objectifs_atteints", "maintenu", glissed=True)

    # H2
    household("H2")
    m2 = make_measure(hh["H2"], worker, start_on=date(2024, 1, 15))
    lease("H2", start_on=date(2024, 1, 1), end_on=date(2024, 5, 20))
    _close(m2, worker, date(2024, 5, 20), "expulsion", "sans_logement")

    # H3
    household("H3", target_publics="menace_expulsion,sante_mentale", income_sources="rsa,aah")
    m3 = make_measure(hh["H3"], worker, intensity_level_id=soutenue.id, start_on=date(2024, 3, 5))
    change_intensity(
        worker,
        m3,
        version=m3.version,
        intensity_level_id=renforcee.id,
        changed_on=date(2025, 2, 1),
        today=date(2025, 2, 1),
    )
    consent = make_consent(hh["H3"], "sante", "budget", given_on=date(2025, 2, 1))
    consent.withdrawn_on = date(2025, 9, 1)
    make_referral(hh["H3"], p1, referred_on=date(2025, 3, 1))
    make_meeting(hh["H3"], held_on=date(2025, 5, 20))
    for on, mode in (
        (date(2025, 2, 15), "visite_domicile"),
        (date(2025, 3, 1), "rdv_non_honore"),
        (date(2025, 6, 1), "visite_conjointe"),
    ):
        make_intervention(hh["H3"], occurred_on=on, mode=mode)

    # H4
    household("H4", income_sources="rsa")
    make_orientation(hh["H4"], "ccapex", "maintien", date(2024, 12, 1))
    _adhesion(hh["H4"], date(2025, 1, 10))
    o4 = lease("H4", start_on=date(2025, 2, 1))
    m4 = make_measure(hh["H4"], worker, intensity_level_id=renforcee.id, start_on=date(2025, 2, 3))
    change_intensity(
        worker,
        m4,
        version=m4.version,
        intensity_level_id=moderee.id,
        changed_on=date(2025, 4, 1),
        today=date(2025, 4, 1),
    )
    make_snapshot(o4, date(2025, 2, 1), 0)
    make_snapshot(o4, date(2025, 5, 1), 12_000)
    make_consent(hh["H4"], "sante", "budget", given_on=date(2025, 3, 1))
    make_consent(hh["H4"], "bailleur", "budget", given_on=date(2025, 3, 1))
    referral = make_referral(hh["H4"], p2, referred_on=date(2025, 4, 1))
    referral.status = "realisee"
    make_meeting(hh["H4"], held_on=date(2025, 3, 15))
    make_intervention(hh["H4"], occurred_on=date(2025, 4, 10), mode="telephone")
    make_intervention(hh["H4"], occurred_on=date(2025, 5, 10), mode="bureau", is_duplicate=True)
    _close(m4, worker, date(2025, 6, 3), "relogement", "logement_social")

    # H5
    household("H5")
    m5 = make_measure(hh["H5"], worker, start_on=date(2023, 4, 12))
    lease("H5", start_on=date(2023, 4, 12))
    exit5 = _close(m5, worker, date(2023, 10, 12), "fin_de_mesure", "maintenu")
    check = db.session.query(PostExitCheck).filter_by(exit_id=exit5.id, months=6).one()
    record_post_exit_check(
        worker,
        check,
        version=check.version,
        done_on=date(2024, 4, 20),
        is_still_housed=False,
        is_rent_up_to_date=None,
        comment=None,
        today=date(2024, 4, 20),
    )

    # H6
    household("H6")
    m6 = make_measure(hh["H6"], worker, start_on=date(2022, 6, 1))
    _close(m6, worker, date(2022, 12, 1), "depart", "inconnu")

    # H8
    household("H8", target_publics="sortie_hebergement")
    make_orientation(hh["H8"], "siao", "acces", date(2025, 7, 1))
    _adhesion(hh["H8"], date(2025, 8, 1))
    m8 = make_measure(hh["H8"], worker, intensity_level_id=soutenue.id, start_on=date(2025, 9, 1))
    lease("H8", start_on=date(2025, 9, 15))
    _close(m8, worker, date(2025, 11, 30), "refus", "tiers")

    # H7: Projet B, everything in 2025, never counted.
    household("H7", project=other, target_publics="sortie_hebergement", income_sources="rsa")
    make_orientation(hh["H7"], "siao", "acces", date(2025, 1, 1))
    _adhesion(hh["H7"], date(2025, 2, 1))
    make_measure(hh["H7"], other_coordinator, start_on=date(2025, 2, 1))
    make_referral(hh["H7"], p1, referred_on=date(2025, 3, 1))
    make_intervention(hh["H7"], occurred_on=date(2025, 3, 1), mode="telephone")
    db.session.commit()
    return SimpleNamespace(
        project=project,
        other=other,
        coordinator=coordinator,
        worker=worker,
        other_coordinator=other_coordinator,
        landlord=landlord,
        households=hh,
        scope=EvaluationScope((project.id,), 2025, AS_OF),
    )
