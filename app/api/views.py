"""The API clients' pages (/logements/clients-api/): the clients of an organisation, created
(the token shown once) and revoked by an administrator or the landlord's staff holding
``MANAGE_API_CLIENTS``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from app.api import queries, services
from app.api.forms import ApiClientForm, RevokeForm
from app.api.models import Scope
from app.db import db, utcnow
from app.errors import DomainError
from app.formatting import today_paris
from app.forms import press, submit
from app.permissions import Permission, permission_required

bp = Blueprint("api_clients", __name__, url_prefix="/logements/clients-api")


@bp.route("/")
@permission_required(Permission.MANAGE_API_CLIENTS)
def index():
    clients = db.session.scalars(queries.visible_clients(current_user)).all()
    return render_template(
        "api/clients.html", clients=clients, today=today_paris(), action_form=RevokeForm()
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_API_CLIENTS)
def create():
    form = ApiClientForm()
    landlords = queries.client_organisations(current_user)
    form.organisation_id.choices = [("", "— Choisir —")] + [(o.id, o.name) for o in landlords]
    if not form.is_submitted():
        form.expires_on.data = today_paris() + timedelta(days=365)
        form.scopes.data = [scope.value for scope in Scope]
        if len(landlords) == 1:
            form.organisation_id.data = landlords[0].id

    def create_client():
        organisation = next((o for o in landlords if o.id == form.organisation_id.data), None)
        if organisation is None:
            raise DomainError("Choisissez le bailleur.", field="organisation_id")
        return services.create_client(
            current_user,
            organisation,
            name=form.name.data,
            scopes=form.scopes.data or [],
            expires_on=form.expires_on.data,
            today=today_paris(),
        )

    done = submit(
        form,
        create_client,
        None,
        None,
        page=lambda created: render_template(
            "api/created.html", client=created.client, token=created.token
        ),
    )
    return done or render_template("api/client_form.html", form=form)


@bp.route("/<int:client_id>/revoquer", methods=["POST"])
@permission_required(Permission.MANAGE_API_CLIENTS)
def revoke(client_id: int):
    client = queries.get_client_or_404(current_user, client_id)
    return press(
        RevokeForm(),
        lambda: services.revoke_client(current_user, client, now=utcnow()),
        f"Le client « {client.name} » est révoqué : son jeton ne fonctionne plus.",
        url_for("api_clients.index"),
    )
