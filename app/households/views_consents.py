"""Household pages: the consents to share data with partners, as a grid of cells (data
category × partner category), each given or withdrawn from its own small form.

Routes of the ``households`` blueprint (``app.households.views``), split off by seam."""

from __future__ import annotations

from flask import abort, flash, render_template, url_for
from flask_login import current_user

from app.db import db
from app.formatting import today_paris
from app.forms import submit
from app.households import services
from app.households.consents import cell_id, consent_grid
from app.households.file import open_household_file
from app.households.forms import ConsentForm, WithdrawConsentForm
from app.households.models import Consent, DataCategory, PartnerCategory
from app.households.views import EDIT, SOCIAL, VIEW, bp
from app.permissions import permission_required

# --- consents --------------------------------------------------------------------------------


def _render_consents(household, posted=None):
    """The grid, with a give form on each cell without a current consent and a withdraw form
    on each current one; ``posted`` is the form just refused, shown in its cell."""
    rows = consent_grid(household.id)
    forms = {}
    for _data, cells in rows:
        for cell in cells:
            if cell.current is not None:
                form = WithdrawConsentForm(prefix=f"retrait-{cell.current.id}")
                form.withdrawn_on.data = form.withdrawn_on.data or today_paris()
            else:
                form = ConsentForm()  # one per cell: each its own submission key
                form.given_on.data = form.given_on.data or today_paris()
            forms[cell.id] = form
    if posted is not None:
        cell, form = posted
        shown = forms.get(cell)
        if type(shown) is type(form) and shown._prefix == form._prefix:
            forms[cell] = form  # its errors beside its field, in its cell
        else:  # the cell changed meanwhile (another tab, a colleague): say it on top
            for errors in form.errors.values():
                for error in errors:
                    flash(error, "error")
    return render_template("households/consents.html", household=household, rows=rows, forms=forms)


def _back_to(household, cell: str) -> str:
    return url_for("households.consents", household_id=household.id, _anchor=cell)


@bp.route("/<int:household_id>/consentements")
@permission_required(VIEW, SOCIAL)
def consents(household_id: int):
    return _render_consents(open_household_file(household_id))


@bp.route("/<int:household_id>/consentements/<data_category>/<partner_category>", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def give_consent(household_id: int, data_category: str, partner_category: str):
    household = open_household_file(household_id)
    if (
        data_category not in DataCategory.__members__.values()
        or partner_category not in PartnerCategory.__members__.values()
    ):
        abort(404)
    cell = cell_id(data_category, partner_category)
    form = ConsentForm()
    done = submit(
        form,
        lambda: services.give_consent(
            current_user,
            household,
            partner_category=partner_category,
            data_category=data_category,
            given_on=form.given_on.data,
        ),
        "Consentement enregistré.",
        _back_to(household, cell),
    )
    return done or _render_consents(household, (cell, form))


@bp.route("/<int:household_id>/consentements/<int:consent_id>/retrait", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def withdraw_consent(household_id: int, consent_id: int):
    household = open_household_file(household_id)
    consent = db.session.scalar(
        db.select(Consent).where(Consent.id == consent_id, Consent.household_id == household.id)
    )
    if consent is None:
        abort(404)
    cell = cell_id(consent.data_category, consent.partner_category)
    form = WithdrawConsentForm(prefix=f"retrait-{consent.id}")
    done = submit(
        form,
        lambda: services.withdraw_consent(
            current_user, household, consent, withdrawn_on=form.withdrawn_on.data
        ),
        "Retrait du consentement noté.",
        _back_to(household, cell),
    )
    return done or _render_consents(household, (cell, form))
