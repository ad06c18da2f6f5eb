from datetime import timedelta

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.services import requires_second_factor, reset_second_factor, totp_credential
from app.auth.views import reauth_required, safe_next
from app.db import db
from app.forms import VersionedForm, press, submit
from app.http import int_arg
from app.organisations.models import Organisation
from app.paging import window
from app.permissions import Permission, permission_required
from app.projects.models import Project
from app.users import services
from app.users.forms import UserForm
from app.users.models import User
from app.users.queries import ACCOUNT_STATES, account_list

bp = Blueprint("users", __name__, url_prefix="/admin/utilisateurs")

# Account forms (roles, projects, organisation) and temporary passwords decide who reads
# what: the administrator's password must have been typed in the last 5 minutes — stricter
# than the 10 of exports — both to open the form and to save it. A form kept open longer
# goes through the confirmation page and is filled again; nothing is saved before.
ADMIN_REAUTH_MAX_AGE = timedelta(minutes=5)
admin_reauth_required = reauth_required(max_age=ADMIN_REAUTH_MAX_AGE)

ACCOUNTS_PER_PAGE = 50


def _get_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    form.organisation_id.choices = [("", "— Choisir —")] + [
        (o.id, o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    form.project_ids.choices = [
        (p.id, p.name) for p in db.session.scalars(select(Project).order_by(Project.name))
    ]
    if user is not None and not form.is_submitted():
        form.expected_version.data = user.version
        form.roles.data = sorted(user.roles)
        form.project_ids.data = [p.id for p in user.projects]
    return form


def _values(form: UserForm) -> dict:
    fields = ("full_name", "email", "job_title", "phone", "organisation_id", "roles", "project_ids")
    return {name: getattr(form, name).data for name in fields}


EXPIRED_TRY_AGAIN = "Le formulaire a expiré. Recommencez."


@bp.route("/")
@permission_required(Permission.MANAGE_USERS)
def index():
    text = (request.args.get("q") or "").strip()[:120]
    state = request.args.get("etat") or ""
    state = state if state in ACCOUNT_STATES else ""
    accounts = window(
        account_list(text, state), page=int_arg("page") or 1, per_page=ACCOUNTS_PER_PAGE
    )
    args = {k: v for k, v in {"q": text, "etat": state}.items() if v}
    return render_template(
        "admin/users.html",
        accounts=accounts,
        text=text,
        state=state,
        args=args,
        action_form=VersionedForm(),
        back=url_for(".index", page=accounts.page, **args),
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
@admin_reauth_required
def create():
    form = _form(None)
    done = submit(
        form,
        lambda: services.create_user(current_user, **_values(form)),
        None,
        None,
        page=lambda created: _temporary_password_page(*created, created=True),
    )
    return done or render_template("admin/user_form.html", form=form, user=None)


@bp.route("/<int:user_id>/modifier", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
@admin_reauth_required
def edit(user_id: int):
    user = _get_or_404(user_id)
    form = _form(user)
    done = submit(
        form,
        lambda: services.update_user(
            current_user, user, version=form.expected_version.data, **_values(form)
        ),
        lambda _result: f"Compte de {user.full_name} enregistré.",
        url_for(".index"),
    )
    return done or render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        action_form=VersionedForm(),
        has_second_factor=totp_credential(user) is not None,
        second_factor_required=requires_second_factor(user),
    )


def _back_to_the_list() -> str:
    """The page of the list the administrator was on (its search and page), else its top."""
    back = safe_next(request.form.get("retour"))
    index = url_for(".index")
    return back if back and back.startswith(index) else index


@bp.route("/<int:user_id>/activation", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def toggle_active(user_id: int):
    user = _get_or_404(user_id)
    form = VersionedForm()
    return press(
        form,
        lambda: services.set_user_active(
            current_user, user, is_active=not user.is_active, version=form.expected_version.data
        ),
        lambda _result: (
            f"Compte de {user.full_name} "
            + ("réactivé." if user.is_active else "désactivé : ses sessions sont fermées.")
        ),
        _back_to_the_list(),
        invalid=None,
    )


@bp.route("/<int:user_id>/reinitialiser-mot-de-passe", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@admin_reauth_required
def reset_password(user_id: int):
    user = _get_or_404(user_id)
    return press(
        VersionedForm(),
        lambda: services.reset_password(current_user, user),
        None,
        None,
        page=lambda temporary: _temporary_password_page(user, temporary, created=False),
        refused_to=url_for(".edit", user_id=user.id),
        invalid=EXPIRED_TRY_AGAIN,
    )


def _temporary_password_page(user: User, temporary: str, *, created: bool):
    """Shown once, in the response to the POST: never in a URL nor in the session."""
    return render_template(
        "admin/temporary_password.html", user=user, temporary=temporary, created=created
    )


@bp.route("/<int:user_id>/reinitialiser-double-authentification", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@reauth_required()
def reset_totp(user_id: int):
    """Lost phone and recovery codes: the user enrols again at the next login."""
    user = _get_or_404(user_id)
    return press(
        VersionedForm(),
        lambda: reset_second_factor(current_user, user),
        f"Double authentification de {user.full_name} réinitialisée : ses sessions sont "
        "fermées, elle ou il l'activera de nouveau à sa prochaine connexion.",
        url_for(".edit", user_id=user.id),
        invalid=EXPIRED_TRY_AGAIN,
    )
