"""A project's money per year (budget lines by funder, places agreed), entered by its
coordinators, and the household's "Aides financières" tab (support team and coordinators).

A project is reached only by a coordinator who works on it (``coordinated_project_or_404``:
404 otherwise); a household through ``open_household_file`` (404 outside the viewer's
scope); landlord staff lack ``READ_SOCIAL_CONTENT`` and never reach the aid pages.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.db import db
from app.evaluation import money
from app.evaluation.forms_money import AidForm, BudgetLineForm, PlacesForm
from app.evaluation.models import YEAR_MIN, Funder, ProjectBudgetLine
from app.formatting import today_paris
from app.forms import VersionedForm, cents_to_euros, press, submit
from app.households.file import open_household_file
from app.http import int_arg
from app.permissions import Permission, permission_required
from app.projects.models import Project
from app.reports.scope import coordinator_projects

bp = Blueprint("funding", __name__)

FUNDING = Permission.EDIT_FUNDING
SEE_AID = (Permission.VIEW_HOUSEHOLDS, Permission.READ_SOCIAL_CONTENT)
RECORD_AID = (*SEE_AID, Permission.RECORD_FINANCIAL_AID)
PLACES = "places"  # the places form's prefix: its fields' ids differ from the line form's


# --- a project's budget ---------------------------------------------------------------------


def coordinated_project_or_404(project_id: int) -> Project:
    """A project the signed-in coordinator works on, else 404."""
    if project_id not in current_user.project_ids:
        abort(404)
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    return project


def _line_or_404(line_id: int) -> ProjectBudgetLine:
    line = db.session.scalar(
        select(ProjectBudgetLine).where(
            ProjectBudgetLine.id == line_id,
            ProjectBudgetLine.project_id.in_(current_user.project_ids or {-1}),
        )
    )
    if line is None:
        abort(404)
    return line


def _year() -> int:
    """The year asked in ``?annee=`` (this year by default); 404 outside 2000..next year."""
    today = today_paris()
    year = int_arg("annee") or today.year
    if not YEAR_MIN <= year <= today.year + 1:
        abort(404)
    return year


def _project_page(project, year: int, *, line_form=None, places_form=None):
    lines = money.budget_lines(project.id, year)
    previous = money.budget_lines(project.id, year - 1)
    places, previous_places = (
        money.places_for(project.id, year),
        money.places_for(project.id, year - 1),
    )
    if places_form is None:
        places_form = PlacesForm(formdata=None, obj=places, prefix=PLACES)
        places_form.expected_version.data = places.version if places else 0
    today = today_paris()
    return render_template(
        "evaluation/money/project.html",
        project=project,
        year=year,
        years=range(today.year + 1, max(YEAR_MIN, today.year - 6) - 1, -1),
        lines=lines,
        totals=money.totals(lines),
        by_funder=money.totals_by_funder(lines),
        previous_by_funder=money.totals_by_funder(previous),
        funders=Funder,
        previous_totals=money.totals(previous),
        places=places,
        previous_places=previous_places,
        line_form=line_form or BudgetLineForm(formdata=None),
        places_form=places_form,
        delete_form=VersionedForm(formdata=None),
    )


def _line_values(form: BudgetLineForm) -> dict:
    names = ("funder", "label", "granted", "received", "note")
    return {name: getattr(form, name).data for name in names}


@bp.route("/financement/")
@permission_required(FUNDING)
def index():
    return render_template(
        "evaluation/money/index.html", projects=coordinator_projects(current_user)
    )


@bp.route("/financement/projets/<int:project_id>", methods=["GET", "POST"])
@permission_required(FUNDING)
def project(project_id: int):
    """The project's budget for a year; a POST adds a budget line."""
    found, year = coordinated_project_or_404(project_id), _year()
    form = BudgetLineForm()
    here = url_for(".project", project_id=found.id, annee=year)
    done = submit(
        form,
        lambda: money.create_budget_line(
            current_user, found, year=year, today=today_paris(), **_line_values(form)
        ),
        "Ligne de financement ajoutée.",
        here,
    )
    return done or _project_page(found, year, line_form=form if form.is_submitted() else None)


@bp.route("/financement/projets/<int:project_id>/places", methods=["POST"])
@permission_required(FUNDING)
def places(project_id: int):
    found, year = coordinated_project_or_404(project_id), _year()
    form = PlacesForm(prefix=PLACES)
    done = submit(
        form,
        lambda: money.set_places(
            current_user,
            found,
            year=year,
            places=form.places.data,
            note=form.note.data,
            version=form.expected_version.data,
            today=today_paris(),
        ),
        "Places conventionnées enregistrées.",
        url_for(".project", project_id=found.id, annee=year),
    )
    return done or _project_page(found, year, places_form=form)


@bp.route("/financement/lignes/<int:line_id>", methods=["GET", "POST"])
@permission_required(FUNDING)
def edit_line(line_id: int):
    line = _line_or_404(line_id)
    form = BudgetLineForm(obj=line)
    if not form.is_submitted():
        form.expected_version.data = line.version
        form.granted.data = cents_to_euros(line.granted_cents)
        form.received.data = cents_to_euros(line.received_cents)
    done = submit(
        form,
        lambda: money.update_budget_line(
            current_user, line, version=form.expected_version.data, **_line_values(form)
        ),
        "Ligne de financement modifiée.",
        url_for(".project", project_id=line.project_id, annee=line.year),
    )
    return done or render_template("evaluation/money/line_form.html", line=line, form=form)


@bp.route("/financement/lignes/<int:line_id>/supprimer", methods=["POST"])
@permission_required(FUNDING)
def delete_line(line_id: int):
    line = _line_or_404(line_id)
    form = VersionedForm()
    return press(
        form,
        lambda: money.delete_budget_line(current_user, line, version=form.expected_version.data),
        "Ligne de financement supprimée.",
        url_for(".project", project_id=line.project_id, annee=line.year),
    )


# --- the household's financial aid --------------------------------------------------------------


def _aid_tab(household) -> str:
    return url_for(".household", household_id=household.id)


def _aid_values(form: AidForm) -> dict:
    names = ("kind", "label", "status", "requested", "granted", "requested_on", "decided_on")
    return {name: getattr(form, name).data for name in (*names, "note")}


@bp.route("/menages/<int:household_id>/aides")
@permission_required(*SEE_AID)
def household(household_id: int):
    found = open_household_file(household_id)
    return render_template(
        "evaluation/money/household.html",
        household=found,
        aids=money.household_aids(found),
        delete_form=VersionedForm(formdata=None),
    )


def _aid_page(household, form, *, title: str, submit_label: str):
    return render_template(
        "support/form_page.html",
        household=household,
        form=form,
        title=title,
        submit_label=submit_label,
        intro="Visible par l'équipe d'accompagnement et la coordination seulement, jamais "
        "par le bailleur.",
        cancel_url=_aid_tab(household),
    )


@bp.route("/menages/<int:household_id>/aides/nouvelle", methods=["GET", "POST"])
@permission_required(*RECORD_AID)
def new_aid(household_id: int):
    found = open_household_file(household_id)
    form = AidForm()
    if not form.is_submitted():
        form.requested_on.data = today_paris()
    done = submit(
        form,
        lambda: money.record_aid(current_user, found, today=today_paris(), **_aid_values(form)),
        "Aide financière enregistrée.",
        _aid_tab(found),
    )
    return done or _aid_page(
        found, form, title="Noter une aide financière", submit_label="Enregistrer l'aide"
    )


@bp.route("/menages/<int:household_id>/aides/<int:aid_id>", methods=["GET", "POST"])
@permission_required(*RECORD_AID)
def edit_aid(household_id: int, aid_id: int):
    found = open_household_file(household_id)
    aid = money.get_aid_or_404(found, aid_id)
    form = AidForm(obj=aid)
    if not form.is_submitted():
        form.expected_version.data = aid.version
        form.requested.data = cents_to_euros(aid.requested_cents)
        form.granted.data = cents_to_euros(aid.granted_cents)
    done = submit(
        form,
        lambda: money.update_aid(
            current_user,
            aid,
            version=form.expected_version.data,
            today=today_paris(),
            **_aid_values(form),
        ),
        "Aide financière modifiée.",
        _aid_tab(found),
    )
    return done or _aid_page(
        found, form, title="Modifier l'aide financière", submit_label="Enregistrer"
    )


@bp.route("/menages/<int:household_id>/aides/<int:aid_id>/supprimer", methods=["POST"])
@permission_required(*RECORD_AID)
def delete_aid(household_id: int, aid_id: int):
    found = open_household_file(household_id)
    aid = money.get_aid_or_404(found, aid_id)
    form = VersionedForm()
    return press(
        form,
        lambda: money.delete_aid(current_user, aid, version=form.expected_version.data),
        "Aide financière supprimée.",
        _aid_tab(found),
    )
