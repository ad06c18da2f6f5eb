from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.db import db
from app.forms import cents_to_euros, euros_to_cents, submit
from app.organisations.models import Organisation, OrganisationKind
from app.permissions import Permission, permission_required
from app.projects import services
from app.projects.forms import ProjectForm
from app.projects.models import Project

bp = Blueprint("projects", __name__, url_prefix="/admin/projets")


def _form(project: Project | None) -> ProjectForm:
    form = ProjectForm(obj=project)
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.is_active.is_(True)).order_by(Organisation.name)
    ).all()
    form.lead_landlord_id.choices = [("", "— Choisir —")] + [
        (o.id, o.name) for o in organisations if o.kind == OrganisationKind.BAILLEUR
    ]
    form.partner_ids.choices = [
        (o.id, f"{o.name} ({o.kind_label})")
        for o in organisations
        if o.kind != OrganisationKind.BAILLEUR
    ]
    if project is not None and not form.is_submitted():
        form.expected_version.data = project.version
        form.partner_ids.data = [o.id for o in project.partners]
        form.target_publics.data = [t.value for t in project.target_public_list]
        form.grant_euros.data = cents_to_euros(project.grant_cents)
    return form


def _values(form: ProjectForm) -> dict:
    return {
        "name": form.name.data,
        "territory": form.territory.data,
        "lead_landlord_id": form.lead_landlord_id.data,
        "partner_ids": form.partner_ids.data,
        "funding_call": form.funding_call.data,
        "convention_start_on": form.convention_start_on.data,
        "convention_end_on": form.convention_end_on.data,
        "target_households": form.target_households.data,
        "grant_cents": euros_to_cents(form.grant_euros.data),
        "target_publics": form.target_publics.data,
    }


@bp.route("/")
@permission_required(Permission.MANAGE_PROJECTS)
def index():
    projects = db.session.scalars(select(Project).order_by(Project.name)).all()
    return render_template("admin/projects.html", projects=projects)


@bp.route("/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROJECTS)
def create():
    return _save(None)


@bp.route("/<int:project_id>/modifier", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROJECTS)
def edit(project_id: int):
    return _save(db.session.get(Project, project_id) or abort(404))


def _save(project: Project | None):
    form = _form(project)

    def save():
        if project is None:
            return services.create_project(current_user, **_values(form))
        services.update_project(
            current_user, project, version=form.expected_version.data, **_values(form)
        )
        return project

    done = submit(
        form, save, lambda saved: f"Projet « {saved.name} » enregistré.", url_for(".index")
    )
    return done or render_template("admin/project_form.html", form=form, project=project)
