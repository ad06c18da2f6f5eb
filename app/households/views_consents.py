"""Household pages: the consents to share data with partners, given and withdrawn.

Routes of the ``households`` blueprint (``app.households.views``), split off by seam."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.db import db
from app.forms import submit
from app.households import services
from app.households.file import open_household_file
from app.households.forms import ConsentForm, WithdrawConsentForm
from app.households.models import Consent
from app.households.views import EDIT, SOCIAL, VIEW, bp, file_page
from app.permissions import has_permission, permission_required

# --- consents --------------------------------------------------------------------------------


def _render_consents(household, form, withdraw_forms=None):
    consents = db.session.scalars(
        db.select(Consent)
        .where(Consent.household_id == household.id)
        .order_by(Consent.withdrawn_on.is_not(None), Consent.given_on.desc(), Consent.id.desc())
    ).all()
    withdraw_forms = withdraw_forms or {}
    for consent in consents:
        if consent.withdrawn_on is None and consent.id not in withdraw_forms:
            withdraw_forms[consent.id] = WithdrawConsentForm(prefix=f"retrait-{consent.id}")
    return render_template(
        "households/consents.html",
        household=household,
        form=form,
        consents=consents,
        withdraw_forms=withdraw_forms,
    )


@bp.route("/<int:household_id>/consentements", methods=["GET", "POST"])
@permission_required(VIEW, SOCIAL)
def consents(household_id: int):
    household = open_household_file(household_id)
    form = ConsentForm()
    if request.method == "POST" and not has_permission(current_user, EDIT):
        abort(403)
    done = submit(
        form,
        lambda: services.give_consent(
            current_user,
            household,
            partner_category=form.partner_category.data,
            data_category=form.data_category.data,
            given_on=form.given_on.data,
        ),
        "Consentement enregistré.",
        file_page("households.consents", household),
    )
    return done or _render_consents(household, form)


@bp.route("/<int:household_id>/consentements/<int:consent_id>/retrait", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def withdraw_consent(household_id: int, consent_id: int):
    household = open_household_file(household_id)
    consent = db.session.scalar(
        db.select(Consent).where(Consent.id == consent_id, Consent.household_id == household.id)
    )
    if consent is None:
        abort(404)
    form = WithdrawConsentForm(prefix=f"retrait-{consent.id}")
    done = submit(
        form,
        lambda: services.withdraw_consent(
            current_user, household, consent, withdrawn_on=form.withdrawn_on.data
        ),
        "Retrait du consentement noté.",
        file_page("households.consents", household),
    )
    return done or _render_consents(household, ConsentForm(formdata=None), {consent.id: form})
