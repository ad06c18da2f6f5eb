"""Housing pages: the household's Logement tab and its forms, the landlord dashboard, the
dwelling stock, the rent-account import (web and ``flask --app wsgi housing import-accounts``).

Households load only through ``get_household_or_404``; their leases through the household;
dwellings through ``get_dwelling_or_404`` (the user's landlords)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from babel.numbers import format_currency
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.db import db, takes_write_lock_late
from app.errors import DomainError
from app.formatting import format_date
from app.forms import EXPIRED, apply_domain_error, cents_to_euros, euros_to_cents, press, submit
from app.households.models import Household, search_key
from app.households.queries import get_household_or_404, visible_households
from app.households.views import open_household_file
from app.housing import rent_import, services
from app.housing.forms import (
    DwellingForm,
    EndOccupancyForm,
    GlaActionForm,
    GlissementForm,
    ImportForm,
    LeaseReviewForm,
    OccupancyForm,
    ProcedureStageForm,
    RepaymentPlanForm,
    RepaymentPlanStatusForm,
)
from app.housing.models import Dwelling, RepaymentPlan
from app.housing.queries import (
    TENANCY_STATUS_LABELS,
    assignable_dwellings,
    current_occupancy,
    dashboard_overview,
    deadline_text,
    dwelling_landlords,
    dwelling_occupants,
    get_dwelling_or_404,
    get_occupancy_or_404,
    household_occupancies,
    key_figures,
    tenancy_detail,
    tenancy_landlords,
    tenancy_page,
    visible_dwellings,
)
from app.http import int_arg
from app.organisations.models import Organisation
from app.permissions import Permission, permission_required
from app.search import contains, recalled_search, redirect_to_results
from app.uploads import megabytes, upload_limit

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
    return render_template(
        "housing/household.html",
        household=household,
        tenancy=tenancy_detail(household, current_user),
        action_form=RepaymentPlanStatusForm(),
    )


@bp.route("/menages/<int:household_id>/logement/bail/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEASES)
def start_occupancy(household_id: int):
    household = get_household_or_404(current_user, household_id)
    form = OccupancyForm()
    dwellings = db.session.scalars(assignable_dwellings(current_user, household)).all()
    form.dwelling_id.choices = [(0, "— Choisir —")] + [
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
    household = get_household_or_404(current_user, household_id)
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
    household = get_household_or_404(current_user, household_id)
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
    household = get_household_or_404(current_user, household_id)
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
    household = get_household_or_404(current_user, household_id)
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
    household = get_household_or_404(current_user, household_id)
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


DASHBOARD_FILTERS = ("statut", "accompagne", "bailleur")

# --- landlord dashboard --------------------------------------------------------------------


@bp.route("/logements/", methods=["GET", "POST"])
@permission_required(Permission.VIEW_TENANCIES)
def dashboard():
    if request.method == "POST":  # the search form posts: a typed name stays out of the URL
        return redirect_to_results("housing.dashboard", request.form, DASHBOARD_FILTERS)
    status = request.args.get("statut") or ""
    supported = request.args.get("accompagne") or ""
    landlord_id = int_arg("bailleur")
    typed = recalled_search()
    text = search_key(typed)
    number = int_arg("page") or 1
    if status or supported or landlord_id or text:
        figures = key_figures(current_user)
        page = tenancy_page(
            current_user,
            page=number,
            status=status,
            supported=supported,
            landlord_id=landlord_id,
            text=text,
        )
    else:  # the usual landing: figures and first page in one pass
        figures, page = dashboard_overview(current_user, page=number)
    return render_template(
        "housing/dashboard.html",
        rows=page.rows,
        page=page,
        args={k: v for k, v in request.args.items() if k != "page" and v},
        figures=figures,
        statuses=TENANCY_STATUS_LABELS,
        landlords=tenancy_landlords(current_user),
        filters={
            "statut": status,
            "accompagne": supported,
            "bailleur": landlord_id,
            "q": typed,
        },
    )


# --- dwellings -----------------------------------------------------------------------------


@bp.route("/logements/parc", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_DWELLINGS)
def dwellings():
    if request.method == "POST":  # an address search: kept out of the URL like a name
        return redirect_to_results("housing.dwellings", request.form, ())
    typed = recalled_search()
    query = visible_dwellings(current_user).order_by(Dwelling.city, Dwelling.address)
    text = search_key(typed)
    if text:
        query = query.where(contains(Dwelling.search_address, text))
    found = db.session.scalars(query).all()
    occupants = dwelling_occupants([d.id for d in found])
    visible_ids = set(
        db.session.scalars(
            visible_households(current_user)
            .with_only_columns(Household.id)
            .where(Household.id.in_([o.household_id for o in occupants.values()] or [-1]))
        )
    )
    landlords = db.session.scalars(dwelling_landlords(current_user)).all()
    return render_template(
        "housing/dwellings.html",
        dwellings=found,
        occupants=occupants,
        visible_ids=visible_ids,
        landlords=landlords,
        q=typed,
    )


def _dwelling_form(dwelling: Dwelling | None) -> DwellingForm:
    form = DwellingForm(obj=dwelling)
    form.landlord_id.choices = [
        (o.id, o.name) for o in db.session.scalars(dwelling_landlords(current_user))
    ]
    if dwelling is not None and not form.is_submitted():
        form.expected_version.data = dwelling.version
        form.rent.data = cents_to_euros(dwelling.rent_cents)
        form.charges.data = cents_to_euros(dwelling.charges_cents)
    if dwelling is not None:
        form.landlord_id.data = dwelling.landlord_id  # a dwelling never changes landlord
    elif len(form.landlord_id.choices) == 1 and not form.is_submitted():
        form.landlord_id.data = form.landlord_id.choices[0][0]
    return form


def _dwelling_values(form: DwellingForm) -> dict:
    return {
        "address": form.address.data,
        "postal_code": form.postal_code.data,
        "city": form.city.data,
        "residence": form.residence.data,
        "landlord_reference": form.landlord_reference.data,
        "typology": form.typology.data,
        "surface_m2": form.surface_m2.data,
        "funding": form.funding.data,
        "rent_cents": euros_to_cents(form.rent.data),
        "charges_cents": euros_to_cents(form.charges.data),
    }


@bp.route("/logements/parc/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_DWELLINGS)
def create_dwelling():
    form = _dwelling_form(None)

    def create():
        landlord = db.session.scalar(
            dwelling_landlords(current_user).where(Organisation.id == form.landlord_id.data)
        )
        if landlord is None:
            raise DomainError("Choisissez le bailleur.", field="landlord_id")
        return services.create_dwelling(current_user, landlord, **_dwelling_values(form))

    done = submit(
        form,
        create,
        lambda dwelling: f"Logement ajouté : {dwelling.full_address}.",
        url_for(".dwellings"),
    )
    return done or render_template("housing/dwelling_form.html", form=form, dwelling=None)


@bp.route("/logements/parc/<int:dwelling_id>/modifier", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_DWELLINGS)
def edit_dwelling(dwelling_id: int):
    dwelling = get_dwelling_or_404(current_user, dwelling_id)
    form = _dwelling_form(dwelling)
    done = submit(
        form,
        lambda: services.update_dwelling(
            current_user, dwelling, version=form.expected_version.data, **_dwelling_values(form)
        ),
        lambda _result: f"Logement enregistré : {dwelling.full_address}.",
        url_for(".dwellings"),
    )
    return done or render_template("housing/dwelling_form.html", form=form, dwelling=dwelling)


# --- rent-account import -------------------------------------------------------------------


def _parse_month_field(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return rent_import.parse_month(value)
    except ValueError as error:
        raise DomainError("Indiquez le mois au format AAAA-MM.", field="month") from error


@bp.route("/logements/import", methods=["GET", "POST"])
@upload_limit("RENT_IMPORT_MAX_BYTES")
@takes_write_lock_late  # the file is parsed before anything is written
@permission_required(Permission.IMPORT_RENT_ACCOUNTS)
def import_accounts():
    form = ImportForm()
    report = None
    limits = rent_import.ImportLimits.from_config()
    if form.validate_on_submit():
        upload = form.file.data
        # The route's upload limit already bounds the body; one byte more than the import's
        # limit is enough for the reader to tell a file that is too large.
        content = upload.read(limits.max_bytes + 1) if upload else b""
        organisation = current_user.organisation
        try:
            if not content:
                raise DomainError("Choisissez le fichier à importer.", field="file")
            month = _parse_month_field(form.month.data)
            report = services.import_rent_accounts(
                current_user, organisation, content=content, month=month, limits=limits
            )
        except services.ImportRejected as rejected:
            db.session.rollback()
            report = rejected.report
            services.record_refused_import(current_user, organisation, report)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
    return render_template(
        "housing/import.html",
        form=form,
        report=report,
        columns=rent_import.IMPORT_COLUMNS,
        limits=limits,
        max_size=megabytes(limits.max_bytes),
    )


@bp.cli.command(
    "import-accounts",
    help="Importer l'extrait mensuel des comptes locataires d'un bailleur (CSV ou XLSX), "
    "tout ou rien.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--organisation", "organisation_id", type=int, help="Id du bailleur.")
@click.option("--month", help="Mois du compte (AAAA-MM) si le fichier n'a pas de colonne Mois.")
def import_accounts_command(file: Path, organisation_id: int | None, month: str | None) -> None:
    """Import a landlord's monthly rent-account extract (CSV or XLSX), all or nothing."""
    from tqdm import tqdm

    from app.organisations.models import OrganisationKind

    landlords = select(Organisation).where(Organisation.kind == OrganisationKind.BAILLEUR)
    if organisation_id is not None:
        organisation = db.session.scalar(landlords.where(Organisation.id == organisation_id))
        if organisation is None:
            raise click.ClickException(f"Aucun bailleur n'a l'identifiant {organisation_id}.")
    else:
        found = db.session.scalars(landlords).all()
        if len(found) != 1:
            names = ", ".join(f"{o.id} = {o.name}" for o in found)
            raise click.ClickException(f"Précisez le bailleur avec --organisation ({names}).")
        organisation = found[0]
    try:
        chosen_month = _parse_month_field(month)
    except DomainError as error:
        raise click.ClickException(error.message) from error

    def progress(iterable, **kwargs):
        return tqdm(iterable, file=sys.stderr, leave=False, **kwargs)

    limits = rent_import.ImportLimits.from_config()
    with file.open("rb") as stream:  # one byte more than the limit tells a file too large
        content = stream.read(limits.max_bytes + 1)
    try:
        report = services.import_rent_accounts(
            None,
            organisation,
            content=content,
            month=chosen_month,
            progress=progress,
            via="cli",
            limits=limits,
        )
    except services.ImportRejected as rejected:
        db.session.rollback()
        services.record_refused_import(None, organisation, rejected.report, via="cli")
        db.session.commit()
        for problem in rejected.report.file_problems:
            click.echo(problem, err=True)
        for row in rejected.report.problems:
            click.echo(
                f"Ligne {row.line} ({row.reference or 'sans référence'}) : {row.reason}", err=True
            )
        if rejected.report.hidden_problems:
            hidden = rejected.report.hidden_problems
            click.echo(f"… et {hidden} autres lignes à corriger.", err=True)
        raise click.ClickException(rejected.message) from None
    db.session.commit()
    click.echo(
        f"{organisation.name} : {report.rows} lignes importées "
        f"({report.created} nouvelles, {report.updated} mises à jour)."
    )
