"""Housing pages for landlords: the dashboard of tenancies and the dwelling stock.

Routes of the ``housing`` blueprint (``app.housing.views``), split off by seam. Dwellings
load through ``get_dwelling_or_404`` (the user's landlords)."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from app.db import db
from app.errors import DomainError
from app.forms import cents_to_euros, euros_to_cents, submit
from app.households.file_registry import provided
from app.households.models import Household, search_key
from app.households.queries import visible_households
from app.housing import services
from app.housing.forms import DwellingForm
from app.housing.models import Dwelling
from app.housing.queries import (
    TENANCY_STATUS_LABELS,
    dashboard_overview,
    dwelling_landlords,
    dwelling_occupants,
    get_dwelling_or_404,
    key_figures,
    tenancy_landlords,
    tenancy_page,
    visible_dwellings,
)
from app.housing.views import bp
from app.http import int_arg
from app.organisations.models import Organisation
from app.paging import window
from app.permissions import Permission, permission_required
from app.search import contains, recalled_search, redirect_to_results

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
    insurance = provided("insurance_on_file")  # the documents domain, when installed
    return render_template(
        "housing/dashboard.html",
        rows=page.rows,
        insured=insurance(current_user, [r.household_id for r in page.rows]) if insurance else None,
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
    # A window of the park: a large landlord's whole park would be one 10 MB page.
    shown = window(
        query.order_by(Dwelling.id),
        page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    found = shown.items
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
        window=shown,
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
