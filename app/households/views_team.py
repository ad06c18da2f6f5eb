"""Household pages: the référent and the support team.

Routes of the ``households`` blueprint (``app.households.views``), split off by seam."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from flask_wtf import FlaskForm

from app.forms import press, submit
from app.households import services
from app.households.file import open_household_file
from app.households.forms import ReferentForm, TeamMemberForm
from app.households.queries import team_candidates
from app.households.views import EDIT, VIEW, bp, file_page
from app.permissions import Permission, permission_required
from app.users.models import User

# --- référent and support team ---------------------------------------------------------------


def _render_team(household, referent_form=None, member_form=None):
    candidates = team_candidates(household.project_id)
    in_team = {household.referent_id, *(t.user_id for t in household.team)}
    if referent_form is None:
        referent_form = ReferentForm(formdata=None)
        referent_form.referent_id.data = household.referent_id or 0
        referent_form.expected_version.data = household.version
    referent_form.referent_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in candidates
    ]
    member_form = member_form or TeamMemberForm(formdata=None)
    member_form.user_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in candidates if u.id not in in_team
    ]
    return render_template(
        "households/team.html",
        household=household,
        referent_form=referent_form,
        member_form=member_form,
        remove_form=FlaskForm(formdata=None),
    )


@bp.route("/<int:household_id>/equipe")
@permission_required(VIEW)
def team(household_id: int):
    return _render_team(open_household_file(household_id))


def _candidate(household, user_id: int | None) -> User | None:
    return next((u for u in team_candidates(household.project_id) if u.id == user_id), None)


@bp.route("/<int:household_id>/referent", methods=["POST"])
@permission_required(EDIT, Permission.REASSIGN_HOUSEHOLDS)
def assign_referent(household_id: int):
    household = open_household_file(household_id)
    form = ReferentForm()
    form.referent_id.choices = [(u.id, u.full_name) for u in team_candidates(household.project_id)]
    form.referent_id.choices.insert(0, (0, "— Choisir —"))
    done = submit(
        form,
        lambda: services.assign_referent(
            current_user,
            household,
            referent=_candidate(household, form.referent_id.data),
            expected_version=form.expected_version.data,
        ),
        lambda _result: f"Référent·e : {household.referent.full_name}.",
        file_page("households.team", household),
    )
    return done or _render_team(household, referent_form=form)


@bp.route("/<int:household_id>/equipe/ajouter", methods=["POST"])
@permission_required(EDIT)
def add_team_member(household_id: int):
    household = open_household_file(household_id)
    form = TeamMemberForm()
    form.user_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in team_candidates(household.project_id)
    ]
    done = submit(
        form,
        lambda: services.add_team_member(
            current_user, household, user=_candidate(household, form.user_id.data)
        ),
        lambda link: f"{link.user.full_name} rejoint l'équipe.",
        file_page("households.team", household),
    )
    return done or _render_team(household, member_form=form)


@bp.route("/<int:household_id>/equipe/<int:user_id>/retirer", methods=["POST"])
@permission_required(EDIT)
def remove_team_member(household_id: int, user_id: int):
    household = open_household_file(household_id)
    return press(
        FlaskForm(),
        lambda: services.remove_team_member(current_user, household, user_id=user_id),
        "L'équipe du ménage a été mise à jour.",
        file_page("households.team", household),
    )
