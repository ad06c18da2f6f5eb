"""The household's "Accompagnement" tab (measures, objectives, reviews, exits, recent visits)
and the intensity levels page for coordinators."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.db import db
from app.formatting import format_date, today_paris
from app.forms import submit
from app.households.file import open_household_file
from app.households.queries import file_page_loads
from app.interventions.models import CORRECTABLE_FIELDS
from app.interventions.queries import file_last_contact_on, household_interventions
from app.interventions.services import can_mark_duplicate
from app.permissions import Permission, permission_required
from app.support import services
from app.support.forms import (
    ExitForm,
    IntensityChangeForm,
    IntensityLevelForm,
    MeasureForm,
    ObjectiveForm,
    ObjectiveUpdateForm,
    PostExitCheckForm,
    RenewalForm,
    review_form,
)
from app.support.queries import (
    get_managed_intensity_level_or_404,
    get_measure_or_404,
    get_objective_or_404,
    get_post_exit_check_or_404,
    household_measures,
    household_objectives,
    household_reviews,
    intensity_levels,
    managed_intensity_levels,
)

bp = Blueprint("support", __name__)

READ = (Permission.VIEW_HOUSEHOLDS, Permission.READ_SOCIAL_CONTENT)
MANAGE = (*READ, Permission.MANAGE_MEASURES)
RECENT_VISITS = 20


def _form_page(household, form, *, title: str, submit_label: str, intro: str = "", **extra):
    return render_template(
        "support/form_page.html",
        household=household,
        form=form,
        title=title,
        submit_label=submit_label,
        intro=intro,
        cancel_url=url_for(".household", household_id=household.id),
        **extra,
    )


def _tab(household) -> str:
    return url_for(".household", household_id=household.id)


# --- the tab ------------------------------------------------------------------------------


@bp.route("/menages/<int:household_id>/accompagnement")
@permission_required(*READ)
def household(household_id: int):
    household = open_household_file(household_id)
    # The header (rendered first) reads the last contact for its badges: the tab's key
    # figure takes it from there (``last_contact``, called after the header) within this
    # page's block, and asks SQL only if the header did not read it.
    with file_page_loads():
        return render_template(
            "support/household.html",
            household=household,
            measures=household_measures(household),
            objectives=household_objectives(household),
            reviews=household_reviews(household),
            interventions=household_interventions(household, limit=RECENT_VISITS),
            last_contact=partial(file_last_contact_on, household, current_user),
            correctable=CORRECTABLE_FIELDS,
            can_mark_duplicate=partial(can_mark_duplicate, current_user),
            today=today_paris(),
        )


# --- measures -----------------------------------------------------------------------------


def _level_choices(form_field, levels, *, exclude_id: int | None = None) -> None:
    """The active levels of the household's project (``intensity_levels``)."""
    form_field.choices = [
        (level.id, f"{level.name} — {level.rhythm_label}")
        for level in levels
        if level.id != exclude_id
    ]


@bp.route("/menages/<int:household_id>/accompagnement/mesures/nouvelle", methods=["GET", "POST"])
@permission_required(*MANAGE)
def open_measure(household_id: int):
    household = open_household_file(household_id)
    levels = intensity_levels(household.project_id)
    if not levels:
        # A project made before its levels came with it (``create_project``): its default
        # levels (renforcée, soutenue, modérée) are created on first use, so that a measure
        # can always be opened. Two first visits at once: the loser hits the unique
        # (project, name) key, rolls back and uses the winner's levels.
        try:
            services.ensure_default_intensity_levels(household.project, current_user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        levels = intensity_levels(household.project_id)
    form = MeasureForm()
    _level_choices(form.intensity_level_id, levels)
    if not form.is_submitted():
        form.start_on.data = today_paris()
    done = submit(
        form,
        lambda: services.open_measure(
            current_user,
            household,
            type=form.type.data,
            type_detail=form.type_detail.data,
            intensity_level_id=form.intensity_level_id.data,
            start_on=form.start_on.data,
            planned_end_on=form.planned_end_on.data,
        ),
        "Mesure ouverte.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title="Ouvrir une mesure d'accompagnement",
        submit_label="Ouvrir la mesure",
        intro="La mesure est suivie par le ou la référent·e du ménage. Le premier bilan est "
        "prévu trois mois après le début.",
    )


@bp.route(
    "/menages/<int:household_id>/accompagnement/mesures/<int:measure_id>/renouveler",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def renew_measure(household_id: int, measure_id: int):
    household = open_household_file(household_id)
    measure = get_measure_or_404(household, measure_id)
    form = RenewalForm()
    if not form.is_submitted():
        form.expected_version.data = measure.version
    done = submit(
        form,
        lambda: services.renew_measure(
            current_user,
            measure,
            version=form.expected_version.data,
            new_end_on=form.new_end_on.data,
            justification=form.justification.data,
        ),
        "Mesure renouvelée.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title=f"Renouveler la mesure {measure.type_label}",
        submit_label="Renouveler",
        intro=f"Fin actuelle : {format_date(measure.planned_end_on)}.",
    )


@bp.route(
    "/menages/<int:household_id>/accompagnement/mesures/<int:measure_id>/intensite",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def change_intensity(household_id: int, measure_id: int):
    household = open_household_file(household_id)
    measure = get_measure_or_404(household, measure_id)
    form = IntensityChangeForm()
    _level_choices(
        form.intensity_level_id,
        intensity_levels(household.project_id),
        exclude_id=measure.intensity_level_id,
    )
    if not form.is_submitted():
        form.expected_version.data = measure.version
        form.changed_on.data = today_paris()
    done = submit(
        form,
        lambda: services.change_intensity(
            current_user,
            measure,
            version=form.expected_version.data,
            intensity_level_id=form.intensity_level_id.data,
            changed_on=form.changed_on.data,
            reason=form.reason.data,
        ),
        "Intensité modifiée.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title=f"Changer l'intensité — {measure.type_label}",
        submit_label="Changer l'intensité",
        intro=f"Intensité actuelle : {measure.intensity.name} ({measure.intensity.rhythm_label}).",
    )


@bp.route(
    "/menages/<int:household_id>/accompagnement/mesures/<int:measure_id>/bilan",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def record_review(household_id: int, measure_id: int):
    household = open_household_file(household_id)
    measure = get_measure_or_404(household, measure_id)
    objectives = household_objectives(household, updates=False)
    form = review_form(objectives)
    if not form.is_submitted():
        form.held_on.data = today_paris()
    done = submit(
        form,
        lambda: services.record_review(
            current_user,
            measure,
            kind=form.kind.data,
            held_on=form.held_on.data,
            summary=form.summary.data,
            progress={
                o.id: (form[f"status_{o.id}"].data, form[f"comment_{o.id}"].data)
                for o in objectives
            },
        ),
        "Bilan enregistré.",
        _tab(household),
    )
    return done or render_template(
        "support/review_form.html",
        household=household,
        measure=measure,
        objectives=objectives,
        form=form,
    )


@bp.route(
    "/menages/<int:household_id>/accompagnement/mesures/<int:measure_id>/sortie",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def close_measure(household_id: int, measure_id: int):
    household = open_household_file(household_id)
    measure = get_measure_or_404(household, measure_id)
    form = ExitForm()
    if not form.is_submitted():
        form.expected_version.data = measure.version
        form.exit_on.data = today_paris()
    done = submit(
        form,
        lambda: services.close_measure(
            current_user,
            measure,
            version=form.expected_version.data,
            exit_on=form.exit_on.data,
            reason=form.reason.data,
            housing_situation=form.housing_situation.data,
            is_lease_glissed=form.is_lease_glissed.data,
            handover=form.handover.data,
        ),
        "Sortie enregistrée. Les vérifications à 6 et 12 mois sont programmées.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title=f"Sortie — {measure.type_label}",
        submit_label="Enregistrer la sortie",
        intro="La sortie clôture la mesure et programme les vérifications à 6 et 12 mois "
        "(toujours logé ? loyer à jour ?).",
    )


# --- objectives ---------------------------------------------------------------------------


@bp.route("/menages/<int:household_id>/accompagnement/objectifs/nouveau", methods=["GET", "POST"])
@permission_required(*MANAGE)
def add_objective(household_id: int):
    household = open_household_file(household_id)
    form = ObjectiveForm()
    if not form.is_submitted():
        form.set_on.data = today_paris()
    done = submit(
        form,
        lambda: services.add_objective(
            current_user,
            household,
            domain=form.domain.data,
            title=form.title.data,
            status=form.status.data,
            set_on=form.set_on.data,
        ),
        "Objectif ajouté.",
        _tab(household),
    )
    return done or _form_page(
        household, form, title="Nouvel objectif", submit_label="Ajouter l'objectif"
    )


@bp.route(
    "/menages/<int:household_id>/accompagnement/objectifs/<int:objective_id>",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def update_objective(household_id: int, objective_id: int):
    household = open_household_file(household_id)
    objective = get_objective_or_404(household, objective_id)
    form = ObjectiveUpdateForm()
    if not form.is_submitted():
        form.expected_version.data = objective.version
        form.status.data = objective.status
        form.on.data = today_paris()
    done = submit(
        form,
        lambda: services.update_objective(
            current_user,
            objective,
            version=form.expected_version.data,
            status=form.status.data,
            comment=form.comment.data,
            on=form.on.data,
        ),
        "Objectif mis à jour.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title=f"Objectif : {objective.title}",
        submit_label="Enregistrer l'avancée",
        intro=f"{objective.domain_label} · statut actuel : {objective.status_label}.",
        history=objective.updates,
    )


# --- post-exit checks ---------------------------------------------------------------------


def _yes_no(value: str | None) -> bool | None:
    return {"oui": True, "non": False}.get(value or "")


@bp.route(
    "/menages/<int:household_id>/accompagnement/verifications/<int:check_id>",
    methods=["GET", "POST"],
)
@permission_required(*MANAGE)
def record_check(household_id: int, check_id: int):
    household = open_household_file(household_id)
    check = get_post_exit_check_or_404(household, check_id)
    form = PostExitCheckForm()
    if not form.is_submitted():
        form.expected_version.data = check.version
        form.done_on.data = today_paris()
    done = submit(
        form,
        lambda: services.record_post_exit_check(
            current_user,
            check,
            version=form.expected_version.data,
            done_on=form.done_on.data,
            is_still_housed=_yes_no(form.is_still_housed.data),
            is_rent_up_to_date=_yes_no(form.is_rent_up_to_date.data),
            comment=form.comment.data,
        ),
        "Vérification enregistrée.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title=check.label,
        submit_label="Enregistrer la vérification",
        intro=f"Prévue le {format_date(check.due_on)}.",
    )


# --- intensity levels (coordinators) ------------------------------------------------------

LEVELS = Permission.MANAGE_INTENSITY_LEVELS


@bp.route("/accompagnement/intensites/")
@permission_required(LEVELS)
def intensity_levels_page():
    """The levels of each project the coordinator works on (only theirs: other projects'
    levels are not theirs to change)."""
    levels = db.session.scalars(managed_intensity_levels(current_user)).all()
    projects = [
        (project, [level for level in levels if level.project_id == project.id])
        for project in current_user.projects
    ]
    return render_template("support/intensity_levels.html", projects=projects)


def _level_page(form, level):
    return render_template("support/intensity_level_form.html", form=form, level=level)


@bp.route("/accompagnement/intensites/nouveau", methods=["GET", "POST"])
@permission_required(LEVELS)
def create_intensity_level():
    form = IntensityLevelForm()
    form.project_id.choices = [("", "— Choisir —")] + [
        (project.id, project.name) for project in current_user.projects
    ]
    if not form.is_submitted():
        form.project_id.data = request.args.get("projet", type=int) or 0
    done = submit(
        form,
        lambda: services.create_intensity_level(
            current_user,
            project_id=form.project_id.data,
            name=form.name.data,
            contact_every_days=form.contact_every_days.data,
            caseload_weight=form.caseload_weight.data,
        ),
        "Niveau d'intensité créé.",
        url_for(".intensity_levels_page"),
    )
    return done or _level_page(form, None)


@bp.route("/accompagnement/intensites/<int:level_id>/modifier", methods=["GET", "POST"])
@permission_required(LEVELS)
def edit_intensity_level(level_id: int):
    level = get_managed_intensity_level_or_404(current_user, level_id)
    form = IntensityLevelForm(obj=level)
    del form.project_id
    if not form.is_submitted():
        form.expected_version.data = level.version
    done = submit(
        form,
        lambda: services.update_intensity_level(
            current_user,
            level,
            version=form.expected_version.data,
            name=form.name.data,
            contact_every_days=form.contact_every_days.data,
            caseload_weight=form.caseload_weight.data,
            is_active=form.is_active.data,
        ),
        "Niveau d'intensité enregistré.",
        url_for(".intensity_levels_page"),
    )
    return done or _level_page(form, level)
