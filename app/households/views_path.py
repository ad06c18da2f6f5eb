"""Household pages of the path: orientation, diagnostic, adhésion and the move to another stage.

Routes of the ``households`` blueprint (``app.households.views``), split off by seam."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.db import db
from app.forms import submit
from app.households import services
from app.households.file import open_household_file
from app.households.forms import AdhesionForm, DiagnosticForm, OrientationForm, StageForm
from app.households.models import DIAGNOSTIC_AXES, Diagnostic
from app.households.views import EDIT, SOCIAL, bp, file_page
from app.permissions import permission_required

# --- orientation, diagnostic, adhésion -------------------------------------------------------


@bp.route("/<int:household_id>/orientation", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def orientation(household_id: int):
    household = open_household_file(household_id)
    form = OrientationForm()
    done = submit(
        form,
        lambda: services.record_orientation(
            current_user,
            household,
            prescriber=form.prescriber.data,
            prescriber_detail=form.prescriber_detail.data,
            oriented_on=form.oriented_on.data,
            kind=form.kind.data,
            reason=form.reason.data,
        ),
        "Orientation enregistrée.",
        file_page("households.show", household),
    )
    return done or render_template(
        "households/orientation_form.html", household=household, form=form
    )


@bp.route("/<int:household_id>/diagnostic", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def diagnostic(household_id: int):
    household = open_household_file(household_id)
    form = DiagnosticForm()
    form.recommended_intensity.choices = [("", "— À déterminer —"), *services.intensity_choices()]
    latest = db.session.scalar(
        db.select(Diagnostic)
        .where(Diagnostic.household_id == household.id)
        .order_by(Diagnostic.carried_out_on.desc(), Diagnostic.id.desc())
        .limit(1)
    )
    if latest is not None and not form.is_submitted():
        # A new diagnostic starts from the previous one: the worker updates what changed.
        for axis in DIAGNOSTIC_AXES:
            for part in ("level", "comment"):
                getattr(form, f"{axis}_{part}").data = getattr(latest, f"{axis}_{part}")
        form.needs.data = [n.value for n in latest.need_list]
        form.recommended_intensity.data = latest.recommended_intensity or ""
    done = submit(
        form,
        lambda: services.record_diagnostic(
            current_user,
            household,
            carried_out_on=form.carried_out_on.data,
            levels={a: getattr(form, f"{a}_level").data for a in DIAGNOSTIC_AXES},
            comments={a: getattr(form, f"{a}_comment").data for a in DIAGNOSTIC_AXES},
            needs=form.needs.data,
            recommended_intensity=form.recommended_intensity.data,
        ),
        "Diagnostic enregistré.",
        file_page("households.show", household),
    )
    return done or render_template(
        "households/diagnostic_form.html",
        household=household,
        form=form,
        axes=DIAGNOSTIC_AXES,
        latest=latest,
    )


@bp.route("/<int:household_id>/adhesion", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def adhesion(household_id: int):
    household = open_household_file(household_id)
    form = AdhesionForm()
    done = submit(
        form,
        lambda: services.record_adhesion(
            current_user,
            household,
            signed_on=form.signed_on.data,
            objectives=form.objectives.data,
        ),
        "Adhésion enregistrée.",
        file_page("households.show", household),
    )
    return done or render_template("households/adhesion_form.html", household=household, form=form)


# --- the path --------------------------------------------------------------------------------


@bp.route("/<int:household_id>/etape", methods=["GET", "POST"])
@permission_required(EDIT)
def move_stage(household_id: int):
    household = open_household_file(household_id)
    form = StageForm()
    moves = services.allowed_moves(household)
    form.to_stage.choices = [
        (
            s.value,
            s.label + ("" if services.is_forward(household.stage, s) else " (retour)"),
        )
        for s in moves
    ]
    if not form.is_submitted():
        form.expected_version.data = household.version
    done = submit(
        form,
        lambda: services.move_stage(
            current_user,
            household,
            to_stage=form.to_stage.data,
            on=form.on.data,
            reason=form.reason.data,
            expected_version=form.expected_version.data,
        ),
        lambda _result: f"Étape « {household.stage_label} » enregistrée.",
        file_page("households.show", household),
    )
    return done or render_template(
        "households/stage_form.html",
        household=household,
        form=form,
        path_table=services.path_table(),
        earliest=services.earliest_move_on(household),
    )
