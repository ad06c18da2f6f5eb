"""Noting a visit (the phone form) and correcting it."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.bounds import id_or_none
from app.db import takes_write_lock_late
from app.formatting import today_paris
from app.forms import commit_service, press, submit
from app.households.file import open_household_file
from app.households.file_registry import provided
from app.http import int_arg
from app.interventions import services
from app.interventions.forms import CorrectionForm, VisitForm
from app.interventions.queries import get_intervention_or_404
from app.permissions import Permission, permission_required
from app.uploads import upload_limit

bp = Blueprint("interventions", __name__, url_prefix="/menages/<int:household_id>/visites")

RECORD = (
    Permission.VIEW_HOUSEHOLDS,
    Permission.READ_SOCIAL_CONTENT,
    Permission.RECORD_INTERVENTIONS,
)


def _offer_sharing(form, household, on) -> bool:
    """The shared summary is offered only when the household consents to share with the
    landlord; otherwise its fields are removed from the form."""
    if services.can_share_with_landlord(household.id, on):
        return True
    del form.share_with_landlord
    del form.shared_summary
    return False


def _texts(form, can_share: bool, current_summary: str | None = None) -> dict:
    """The texts of the form; without consent the summary is neither shown nor changed."""
    return {
        "note": form.note.data,
        "shared_summary": form.shared_summary.data if can_share else current_summary,
        "share_with_landlord": bool(can_share and form.share_with_landlord.data),
        "next_action": form.next_action.data,
        "next_action_on": form.next_action_on.data,
    }


@bp.route("/nouvelle", methods=["GET", "POST"])
@upload_limit("DOCUMENTS_MAX_REQUEST_BYTES")
@takes_write_lock_late  # photographed papers are checked and stored before the first write
@permission_required(*RECORD)
def create(household_id: int):
    household = open_household_file(household_id)
    today = today_paris()
    form = VisitForm()
    if not form.is_submitted():
        form.occurred_on.data = today
        _from_appointment(form, household)
    can_share = _offer_sharing(form, household, today)
    papers_factory = provided("visit_documents")  # the documents domain, when installed
    papers = papers_factory(household, current_user) if papers_factory else None
    done = None
    if form.is_submitted():
        # Files are checked even when a field is refused: both are said at once.
        papers_ok = papers is None or papers.check()
        if form.validate() and papers_ok:
            if papers is not None:
                papers.store()  # on disk before the visit's transaction
            done = commit_service(
                lambda: _record_visit(
                    form,
                    household,
                    papers,
                    occurred_on=form.occurred_on.data,
                    mode=form.mode.data,
                    duration_minutes=form.duration_minutes.data,
                    domains=form.domains.data or [],
                    today=today,
                    **_texts(form, can_share),
                ),
                _recorded,
                url_for("households.show", household_id=household.id),
                form=form,
            )
    return done or render_template(
        "interventions/form.html",
        household=household,
        form=form,
        can_share=can_share,
        papers=papers,
    )


def _recorded(result) -> str:
    _intervention, attached = result
    if not attached:
        return "Visite enregistrée."
    return f"Visite enregistrée, avec {attached} document(s) joint(s)."


def _from_appointment(form, household) -> None:
    """``?rendez_vous=<id>``: the form pre-filled from a planned appointment (the agenda
    provides the values when it is installed; an unknown id opens the usual form)."""
    prefill = provided("appointment_visit_prefill")
    values = prefill(household, int_arg("rendez_vous")) if prefill else None
    if values:
        form.appointment_id.data = int_arg("rendez_vous")
        for name, value in values.items():
            getattr(form, name).data = value


def _record_visit(form, household, papers, **values):
    """Record the visit; recorded from a planned appointment, that appointment is held; the
    papers photographed with it are linked to it. Returns the visit and the papers' count."""
    intervention = services.record_visit(current_user, household, **values)
    held = provided("appointment_held")
    appointment_id = id_or_none(form.appointment_id.data or "")
    if held is not None and appointment_id is not None:
        held(current_user, household, appointment_id, intervention)
    return intervention, papers.attach(intervention) if papers is not None else 0


@bp.route("/<int:intervention_id>/corriger", methods=["GET", "POST"])
@permission_required(*RECORD)
def correct(household_id: int, intervention_id: int):
    household = open_household_file(household_id)
    intervention = get_intervention_or_404(household, intervention_id)
    form = CorrectionForm(obj=intervention)
    if not form.is_submitted():
        form.expected_version.data = intervention.version
        form.share_with_landlord.data = intervention.is_summary_shared
    can_share = _offer_sharing(form, household, intervention.occurred_on)
    done = submit(
        form,
        lambda: services.correct_intervention(
            current_user,
            intervention,
            version=form.expected_version.data,
            **_texts(form, can_share, intervention.shared_summary),
        ),
        "Correction enregistrée ; l'ancien texte est conservé.",
        _support_tab(household),
    )
    return done or render_template(
        "interventions/correct.html",
        household=household,
        intervention=intervention,
        form=form,
        can_share=can_share,
    )


def _duplicate_target(household_id: int, intervention_id: int):
    """The household and visit, loaded in scope; 403 unless the viewer may flag it."""
    household = open_household_file(household_id)
    intervention = get_intervention_or_404(household, intervention_id)
    if not services.can_mark_duplicate(current_user, intervention):
        abort(403)
    return household, intervention


@bp.route("/<int:intervention_id>/doublon", methods=["GET", "POST"])
@permission_required(*RECORD)
def mark_duplicate(household_id: int, intervention_id: int):
    """Confirm, then flag a visit entered twice by mistake (its author or a coordinator)."""
    household, intervention = _duplicate_target(household_id, intervention_id)
    form = FlaskForm()
    if form.validate_on_submit():  # the confirmation page's button
        return commit_service(
            lambda: services.mark_duplicate(current_user, intervention),
            "Visite marquée comme saisie en double : elle ne compte plus.",
            _support_tab(household),
        )
    return render_template(
        "interventions/duplicate.html", household=household, intervention=intervention, form=form
    )


@bp.route("/<int:intervention_id>/doublon/annuler", methods=["POST"])
@permission_required(*RECORD)
def unmark_duplicate(household_id: int, intervention_id: int):
    household, intervention = _duplicate_target(household_id, intervention_id)
    return press(
        FlaskForm(),
        lambda: services.unmark_duplicate(current_user, intervention),
        "La visite compte de nouveau.",
        _support_tab(household),
        invalid=None,
    )


def _support_tab(household) -> str:
    return url_for("support.household", household_id=household.id)


@bp.app_template_global()
def landlord_summary_notice(household) -> str:
    """For the visit form without a landlord summary: the consent cell that brings it back,
    linked (templates/interventions/form.html)."""
    return services.landlord_summary_notice(household.id)
