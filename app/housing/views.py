"""Housing pages: the household's Logement tab and its forms (here), the landlord dashboard
and the dwelling stock (``views_dwellings``), the rent-account import, web and ``flask --app
wsgi housing import-accounts`` (``views_import``) — one blueprint, ``housing``.

Households load only through ``open_household_file`` (scoped; a GET is a recorded read);
their leases through the household; dwellings through ``get_dwelling_or_404`` (the user's
landlords)."""

from __future__ import annotations

from datetime import date

from babel.numbers import format_currency
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.db import db
from app.formatting import format_date
from app.forms import EXPIRED, euros_to_cents, press, submit
from app.households.file import open_household_file
from app.households.models import Household
from app.households.queries import file_page_loads
from app.housing import services
from app.housing.forms import (
    EndOccupancyForm,
    GlaActionForm,
    GlissementForm,
    LeaseReviewForm,
    OccupancyForm,
    ProcedureStageForm,
    RepaymentPlanForm,
    RepaymentPlanStatusForm,
)
from app.housing.models import RepaymentPlan
from app.housing.queries import (
    assignable_dwellings,
    current_occupancy,
    deadline_text,
    get_occupancy_or_404,
    household_occupancies,
    tenancy_detail,
)
from app.permissions import Permission, permission_required

bp = Blueprint("housing", __name__, cli_group="housing")
bp.cli.help = "Logement : import des comptes locataires des bailleurs."


@bp.app_template_global()
def housing_deadline_text(deadline) -> str:
    return deadline_text(deadline)


@bp.app_template_filter("month_label")
def month_label(month: date | None) -> str:
    """``mars 2026``."""
    return format_date(month).split(" ", 1)[1] if month else ""


@bp.app_template_filter("euros")
def euros_filter(cents: int | None) -> str:
    """Whole euros for charts and key figures, ``1 238 €`` (tables keep the cents)."""
    if cents is None:
        return ""
    return format_currency(
        round(cents / 100), "EUR", format="#,##0\u00a0¤", locale="fr_FR", currency_digits=False
    )


@bp.app_template_filter("months")
def months_filter(value) -> str:
    """Months of arrears with a decimal comma: ``2,5``; ``0`` when nothing is owed."""
    return f"{value:.1f}".replace(".", ",").removesuffix(",0") if value else "0"


def _file_tab(household: Household) -> str:
    return url_for(".household", household_id=household.id)


def _current_or_back(household: Household):
    """The household's current lease as the viewer sees it; None → the caller goes back."""
    occupancy = current_occupancy(household_occupancies(household, current_user))
    if occupancy is None:
        flash("Ce ménage n'a pas de bail en cours.", "error")
    return occupancy


# --- the household's Logement tab ------------------------------------------------------


@bp.route("/menages/<int:household_id>/logement")
@permission_required(Permission.VIEW_HOUSEHOLDS)
def household(household_id: int):
    household = open_household_file(household_id)
    with file_page_loads():  # the tab and the header share the leases
        return render_template(
            "housing/household.html",
            household=household,
            tenancy=tenancy_detail(household, current_user),
            action_form=RepaymentPlanStatusForm(),
        )


@bp.route("/menages/<int:household_id>/logement/bail/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEASES)
def start_occupancy(household_id: int):
    household = open_household_file(household_id)
    form = OccupancyForm()
    dwellings = db.session.scalars(assignable_dwellings(current_user, household)).all()
    form.dwelling_id.choices = [("", "— Choisir —")] + [
        (
            d.id,
            f"{d.typology} · {d.full_address}"
            + (f" ({d.residence})" if d.residence else "")
            + f" · {d.landlord.name}",
        )
        for d in dwellings
    ]
    done = submit(
        form,
        lambda: services.start_occupancy(
            current_user,
            household,
            dwelling_id=form.dwelling_id.data,
            lease_type=form.lease_type.data,
            start_on=form.start_on.data,
            lease_reference=form.lease_reference.data,
            glissement_target_on=form.glissement_target_on.data,
        ),
        "Bail enregistré.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/occupancy_form.html", household=household, form=form, has_dwellings=bool(dwellings)
    )


def _occupancy_page(household_id: int, occupancy_id: int):
    household = open_household_file(household_id)
    return household, get_occupancy_or_404(household, current_user, occupancy_id)


@bp.route(
    "/menages/<int:household_id>/logement/bail/<int:occupancy_id>/fin", methods=["GET", "POST"]
)
@permission_required(Permission.MANAGE_LEASES)
def end_occupancy(household_id: int, occupancy_id: int):
    household, occupancy = _occupancy_page(household_id, occupancy_id)
    form = EndOccupancyForm()
    if not form.is_submitted():
        form.expected_version.data = occupancy.version
    done = submit(
        form,
        lambda: services.end_occupancy(
            current_user,
            occupancy,
            version=form.expected_version.data,
            end_on=form.end_on.data,
            end_reason=form.end_reason.data,
        ),
        "Fin du bail enregistrée.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Terminer le bail",
        submit="Enregistrer la fin du bail",
    )


@bp.route(
    "/menages/<int:household_id>/logement/bail/<int:occupancy_id>/bilan", methods=["GET", "POST"]
)
@permission_required(Permission.MANAGE_LEASES)
def record_lease_review(household_id: int, occupancy_id: int):
    household, occupancy = _occupancy_page(household_id, occupancy_id)
    form = LeaseReviewForm()
    done = submit(
        form,
        lambda: services.record_lease_review(
            current_user,
            occupancy,
            held_on=form.held_on.data,
            decision=form.decision.data,
            comment=form.comment.data,
            next_review_on=form.next_review_on.data,
        ),
        "Bilan du bail glissant enregistré.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Bilan semestriel du bail glissant",
        submit="Enregistrer le bilan",
    )


@bp.route(
    "/menages/<int:household_id>/logement/bail/<int:occupancy_id>/glissement",
    methods=["GET", "POST"],
)
@permission_required(Permission.MANAGE_LEASES)
def record_glissement(household_id: int, occupancy_id: int):
    household, occupancy = _occupancy_page(household_id, occupancy_id)
    form = GlissementForm()
    if not form.is_submitted():
        form.expected_version.data = occupancy.version
    done = submit(
        form,
        lambda: services.record_glissement(
            current_user,
            occupancy,
            version=form.expected_version.data,
            glissed_on=form.glissed_on.data,
            lease_reference=form.lease_reference.data,
        ),
        "Glissement du bail enregistré : le bail direct commence.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Glissement du bail",
        submit="Enregistrer le glissement",
    )


@bp.route("/menages/<int:household_id>/logement/gla/nouvelle", methods=["GET", "POST"])
@permission_required(Permission.RECORD_GLA_ACTIONS)
def record_gla_action(household_id: int):
    household = open_household_file(household_id)
    occupancy = _current_or_back(household)
    if occupancy is None:
        return redirect(url_for(".household", household_id=household.id))
    form = GlaActionForm()
    done = submit(
        form,
        lambda: services.record_gla_action(
            current_user,
            occupancy,
            kind=form.kind.data,
            done_on=form.done_on.data,
            outcome=form.outcome.data,
        ),
        "Action de gestion locative adaptée enregistrée.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Noter une action de gestion locative adaptée",
        submit="Enregistrer l'action",
    )


@bp.route("/menages/<int:household_id>/logement/procedure/nouvelle", methods=["GET", "POST"])
@permission_required(Permission.RECORD_GLA_ACTIONS)
def record_procedure_stage(household_id: int):
    household = open_household_file(household_id)
    occupancy = _current_or_back(household)
    if occupancy is None:
        return redirect(url_for(".household", household_id=household.id))
    form = ProcedureStageForm()
    done = submit(
        form,
        lambda: services.record_procedure_stage(
            current_user,
            occupancy,
            stage=form.stage.data,
            occurred_on=form.occurred_on.data,
            hearing_on=form.hearing_on.data,
            comment=form.comment.data,
        ),
        "Étape de la procédure enregistrée.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Noter une étape de la procédure",
        submit="Enregistrer l'étape",
    )


@bp.route("/menages/<int:household_id>/logement/plan/nouveau", methods=["GET", "POST"])
@permission_required(Permission.RECORD_GLA_ACTIONS)
def start_repayment_plan(household_id: int):
    household = open_household_file(household_id)
    occupancy = _current_or_back(household)
    if occupancy is None:
        return redirect(url_for(".household", household_id=household.id))
    form = RepaymentPlanForm()
    done = submit(
        form,
        lambda: services.start_repayment_plan(
            current_user,
            occupancy,
            start_on=form.start_on.data,
            monthly_cents=euros_to_cents(form.monthly.data),
            debt_cents=euros_to_cents(form.debt.data),
        ),
        "Plan d'apurement enregistré.",
        _file_tab(household),
    )
    return done or render_template(
        "housing/simple_form.html",
        household=household,
        form=form,
        occupancy=occupancy,
        title="Enregistrer un plan d'apurement",
        submit="Enregistrer le plan",
    )


@bp.route("/menages/<int:household_id>/logement/plan/<int:plan_id>/statut", methods=["POST"])
@permission_required(Permission.RECORD_GLA_ACTIONS)
def set_repayment_plan_status(household_id: int, plan_id: int):
    household = open_household_file(household_id)
    lease_ids = [o.id for o in household_occupancies(household, current_user)]
    plan = db.session.get(RepaymentPlan, plan_id)
    if plan is None or plan.occupancy_id not in lease_ids:
        abort(404)
    form = RepaymentPlanStatusForm()
    return press(
        form,
        lambda: services.set_repayment_plan_status(
            current_user,
            plan,
            version=form.expected_version.data,
            status=form.status.data,
            household_id=household.id,
        ),
        lambda _result: f"Plan d'apurement : {plan.status_label.lower()}.",
        _file_tab(household),
        invalid=lambda form: form.status.errors[0] if form.status.errors else EXPIRED,
    )


# The landlord pages and the import are routes of this same blueprint, in sibling modules.
from app.housing import views_dwellings, views_import  # noqa: E402, F401
