"""A closed household file with a marker in every field the retention job clears."""

from __future__ import annotations

from datetime import date

from app.db import db
from app.households.models import (
    Adhesion,
    Diagnostic,
    HouseholdStage,
    Orientation,
    StageTransition,
)
from app.housing.models import GlaAction, LeaseReview, ProcedureStage
from app.interventions.models import InterventionCorrection
from app.permissions import Role
from app.reminders.models import Reminder
from app.retention.services import DECLARED, cleared_columns, household_rows
from app.support.models import (
    IntensityChange,
    MeasureRenewal,
    ObjectiveUpdate,
    Review,
)
from app.support.services import close_measure
from tests.factories import (
    make_household,
    make_intervention,
    make_landlord,
    make_measure,
    make_meeting,
    make_member,
    make_objective,
    make_referral,
    make_tenancy,
    make_user,
)

EXIT_ON = date(2023, 6, 30)


def build_file(project=None, referent=None, *, closed: bool = True, exit_on: date = EXIT_ON):
    """A household with a record of every declared kind. ``closed``: its only measure ends on
    ``exit_on`` and the file is in suivi après la sortie; otherwise the measure is open."""
    referent = referent or make_user(Role.TRAVAILLEUR_SOCIAL)
    household = make_household(
        project=project,
        referent=referent,
        stage=HouseholdStage.SUIVI_POST_SORTIE if closed else HouseholdStage.MAINTIEN,
        stage_since_on=exit_on if closed else date(2022, 3, 1),
        monthly_income_cents=95_000,
        debts_cents=120_000,
    )
    household.members[0].birth_on = date(1985, 7, 14)
    make_member(household, "Yanis", birth_on=date(2012, 4, 3))
    hid = household.id
    measure = make_measure(household, start_on=date(2022, 3, 1), planned_end_on=date(2023, 9, 1))
    objective = make_objective(household)
    intervention = make_intervention(household, occurred_on=date(2022, 6, 1))
    referral = make_referral(household, referred_on=date(2022, 5, 1))
    make_meeting(household, held_on=date(2022, 7, 1))
    occupancy = make_tenancy(household, make_landlord(), start_on=date(2022, 2, 1))
    db.session.add_all(
        [
            Orientation(
                household_id=hid, prescriber="siao", oriented_on=date(2022, 2, 1), kind="acces"
            ),
            Diagnostic(
                household_id=hid,
                carried_out_on=date(2022, 3, 1),
                pouvoir_louer_level="acquis",
                savoir_louer_level="partiel",
                savoir_habiter_level="acquis",
                environnement_level="a_travailler",
            ),
            Adhesion(household_id=hid, signed_on=date(2022, 3, 1), objectives="x"),
            StageTransition(household_id=hid, to_stage="diagnostic", on=date(2022, 3, 1)),
            MeasureRenewal(
                measure_id=measure.id,
                renewed_on=date(2022, 9, 1),
                previous_end_on=date(2023, 3, 1),
                new_end_on=date(2023, 9, 1),
                justification="x",
            ),
            IntensityChange(
                measure_id=measure.id,
                changed_on=date(2022, 9, 1),
                to_level_id=measure.intensity_level_id,
            ),
            ObjectiveUpdate(objective_id=objective.id, on=date(2022, 9, 1), status="en_cours"),
            Review(
                household_id=hid,
                measure_id=measure.id,
                kind="trimestriel",
                held_on=date(2022, 6, 1),
            ),
            InterventionCorrection(intervention_id=intervention.id, field="note"),
            LeaseReview(occupancy_id=occupancy.id, held_on=date(2022, 9, 1), decision="poursuite"),
            GlaAction(occupancy_id=occupancy.id, kind="contact_impaye", done_on=date(2022, 9, 1)),
            ProcedureStage(
                occupancy_id=occupancy.id, stage="impaye_constitue", occurred_on=date(2022, 9, 1)
            ),
            Reminder(
                rule_code="manuel",
                household_id=hid,
                title="x",
                due_on=date(2022, 9, 1),
                recipient_role="coordinateur",
            ),
        ]
    )
    db.session.flush()
    if closed:
        close_measure(
            referent,
            measure,
            version=measure.version,
            exit_on=exit_on,
            reason="fin_de_mesure",
            housing_situation="maintenu",
            is_lease_glissed=False,
            handover="x",
            today=exit_on,
        )
    del referral
    if closed:
        household.stage = HouseholdStage.SUIVI_POST_SORTIE
        household.stage_since_on = exit_on
    markers = fill_markers(household)
    db.session.flush()
    return household, markers


def fill_markers(household) -> dict[str, str]:
    """Put a unique marker in every cleared column of every row; returns marker → field."""
    markers = {}
    for declared in DECLARED:
        columns = cleared_columns(declared)
        for row in household_rows(declared, household.id):
            for column in columns:
                marker = f"MK{len(markers):03d}Q"
                markers[marker] = f"{column.table.name}.{column.name}"
                setattr(row, column.key, marker)
    return markers
