from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.db import db
from app.forms import VersionedForm, press, submit
from app.organisations import services
from app.organisations.forms import OrganisationForm
from app.organisations.models import Organisation
from app.permissions import Permission, permission_required

bp = Blueprint("organisations", __name__, url_prefix="/admin/organisations")


def _get_or_404(organisation_id: int) -> Organisation:
    return db.session.get(Organisation, organisation_id) or abort(404)


def _values(form: OrganisationForm) -> dict:
    return {k: getattr(form, k).data for k in services.ORGANISATION_FIELDS}


@bp.route("/")
@permission_required(Permission.MANAGE_ORGANISATIONS)
def index():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template(
        "admin/organisations.html", organisations=organisations, toggle_form=VersionedForm()
    )


@bp.route("/nouvelle", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_ORGANISATIONS)
def create():
    form = OrganisationForm()
    done = submit(
        form,
        lambda: services.create_organisation(current_user, **_values(form)),
        lambda organisation: f"Organisation « {organisation.name} » créée.",
        url_for(".index"),
    )
    return done or render_template("admin/organisation_form.html", form=form, organisation=None)


@bp.route("/<int:organisation_id>/modifier", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_ORGANISATIONS)
def edit(organisation_id: int):
    organisation = _get_or_404(organisation_id)
    form = OrganisationForm(obj=organisation)
    if not form.is_submitted():
        form.expected_version.data = organisation.version
    done = submit(
        form,
        lambda: services.update_organisation(
            current_user, organisation, version=form.expected_version.data, **_values(form)
        ),
        "Organisation enregistrée.",
        url_for(".index"),
    )
    return done or render_template(
        "admin/organisation_form.html", form=form, organisation=organisation
    )


@bp.route("/<int:organisation_id>/activation", methods=["POST"])
@permission_required(Permission.MANAGE_ORGANISATIONS)
def toggle_active(organisation_id: int):
    organisation = _get_or_404(organisation_id)
    form = VersionedForm()
    return press(
        form,
        lambda: services.set_organisation_active(
            current_user,
            organisation,
            is_active=not organisation.is_active,
            version=form.expected_version.data,
        ),
        lambda _result: (
            "Organisation réactivée." if organisation.is_active else "Organisation désactivée."
        ),
        url_for(".index"),
        invalid=None,
    )
